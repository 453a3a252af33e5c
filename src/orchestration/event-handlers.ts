import type { Execution } from "./execution.js";
import type { HistoryEvent } from "./history-events.js";

type Handler<E extends HistoryEvent> = (execution: Execution, event: E) => void;
type Handlers = { readonly [K in HistoryEvent["type"]]: Handler<Extract<HistoryEvent, { type: K }>> };

const ignore = (): void => {};
const confirm: Handler<Extract<HistoryEvent, { eventId: number }>> = (execution, event) => execution.ledger.confirm(event, execution.historyPosition);

/**
 * One small handler per history event type. Scheduled events (TaskScheduled, TimerCreated,
 * SubOrchestrationInstanceCreated, EventSent) must match what the code asked for at their id;
 * completions settle the task with their id (or, for EventRaised, the oldest waiter for the name);
 * events about the instance's life are the host's business.
 */
export const eventHandlers: Handlers = {
  ExecutionStarted: (execution, event) => execution.start(event),
  OrchestratorStarted: (execution, event) => execution.beginTurn(event.timestamp),
  TaskScheduled: confirm,
  TimerCreated: confirm,
  SubOrchestrationInstanceCreated: confirm,
  EventSent: confirm,
  TaskCompleted: (execution, event) => execution.settle("activity", event.taskScheduledId, { ok: true, result: event.result }),
  TaskFailed: (execution, event) => execution.settle("activity", event.taskScheduledId, { ok: false, failure: event.failure }),
  TimerFired: (execution, event) => execution.settle("timer", event.timerId, { ok: true, result: undefined }),
  SubOrchestrationInstanceCompleted: (execution, event) => execution.settle("sub-orchestration", event.taskScheduledId, { ok: true, result: event.result }),
  SubOrchestrationInstanceFailed: (execution, event) => execution.settle("sub-orchestration", event.taskScheduledId, { ok: false, failure: event.failure }),
  EventRaised: (execution, event) => execution.raise(event.name, event.input),
  OrchestratorCompleted: ignore,
  ExecutionCompleted: ignore,
  ExecutionTerminated: ignore,
  ExecutionSuspended: ignore,
  ExecutionResumed: ignore,
  ExecutionRewound: ignore, // the executor skips the failures it takes back before any handler runs
  ContinueAsNew: ignore,
};

/**
 * Events the host passes to every turn and that may run code: they number the steps that seed
 * Math.random. (The events that record actions are left out: a cached executor never sees them.)
 */
export const CODE_EVENTS: ReadonlySet<HistoryEvent["type"]> = new Set([
  "ExecutionStarted",
  "OrchestratorStarted",
  "TaskCompleted",
  "TaskFailed",
  "TimerFired",
  "SubOrchestrationInstanceCompleted",
  "SubOrchestrationInstanceFailed",
  "EventRaised",
]);
