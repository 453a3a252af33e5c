import type { HistoryEvent } from "../../../../src/orchestration/index.js";

const RECORDED_BY_HOST: ReadonlySet<HistoryEvent["type"]> = new Set([
  "TaskScheduled",
  "TimerCreated",
  "SubOrchestrationInstanceCreated",
  "EventSent",
  "OrchestratorCompleted",
  "ExecutionCompleted",
]);

/**
 * A recorded history cut into turns, each as the host handed it to the executor: its
 * OrchestratorStarted and what arrived (the events the host records for actions, and the turn's
 * end markers, left out).
 */
export function incomingTurns(history: readonly HistoryEvent[]): HistoryEvent[][] {
  const turns: HistoryEvent[][] = [];
  for (const event of history) {
    if (event.type === "OrchestratorStarted") turns.push([]);
    if (!RECORDED_BY_HOST.has(event.type)) turns.at(-1)?.push(event);
  }
  return turns;
}

/** The index in `history` where each turn (OrchestratorStarted) begins. */
export function turnStarts(history: readonly HistoryEvent[]): number[] {
  return history.flatMap((event, index) => (event.type === "OrchestratorStarted" ? [index] : []));
}
