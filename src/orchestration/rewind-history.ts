import type { HistoryEvent, SubOrchestrationInstanceCreated, TaskScheduled, TimerCreated } from "./history-events.js";

/**
 * Reading a history that holds rewinds. An ExecutionRewound event names the failures it takes back
 * by their positions in the execution's history; replay, and everything else that reads what is open,
 * skips those events as if they had never arrived. The history itself keeps them (it is append-only).
 */

/** The positions every ExecutionRewound of a history (given in consecutive parts) takes back. */
export function rewoundPositions(...parts: ReadonlyArray<readonly HistoryEvent[]>): Set<number> {
  const positions = new Set<number>();
  for (const part of parts) {
    for (const event of part) {
      if (event?.type === "ExecutionRewound" && Array.isArray(event.rewoundEvents)) for (const position of event.rewoundEvents) positions.add(position);
    }
  }
  return positions;
}

/** The events that scheduled the execution's activities, timers and sub-orchestrations, by action id. */
export interface ScheduledWork {
  readonly activities: ReadonlyMap<number, TaskScheduled>;
  readonly timers: ReadonlyMap<number, TimerCreated>;
  readonly subOrchestrations: ReadonlyMap<number, SubOrchestrationInstanceCreated>;
}

export function scheduledWork(history: readonly HistoryEvent[]): ScheduledWork {
  const activities = new Map<number, TaskScheduled>();
  const timers = new Map<number, TimerCreated>();
  const subOrchestrations = new Map<number, SubOrchestrationInstanceCreated>();
  for (const event of history) {
    if (event?.type === "TaskScheduled") activities.set(event.eventId, event);
    else if (event?.type === "TimerCreated") timers.set(event.eventId, event);
    else if (event?.type === "SubOrchestrationInstanceCreated") subOrchestrations.set(event.eventId, event);
  }
  return { activities, timers, subOrchestrations };
}
