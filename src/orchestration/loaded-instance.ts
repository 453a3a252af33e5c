import type { HistoryEvent } from "./history-events.js";
import type { InstanceRecord } from "./instance-record.js";
import type { InstanceRequest } from "./instance-requests.js";
import type { ReplayExecutor } from "./replay-executor.js";
import { rewoundPositions } from "./rewind-history.js";

/**
 * An orchestration instance in memory: its record, its mailbox, what is open in its execution (so
 * that a finished execution's timers and work items can be deleted, and duplicates dropped), and the
 * live executor kept between turns (only a cache: without it, the next turn replays the history).
 */
export class LoadedInstance {
  /** Undefined when no instance has this id (never started, or purged). */
  record: InstanceRecord | undefined;
  mailbox: InstanceRequest[] = [];
  scheduled = false;
  pendingCommits = 0;
  executor: ReplayExecutor | undefined;
  /** Open timers of the current execution: timer id → due time. Undefined until the history was read. */
  openTimers: Map<number, number> | undefined;
  /** Open activity tasks of the current execution. */
  openWork: Set<number> | undefined;
  /** Open sub-orchestration tasks of the current execution. */
  openSubOrchestrations: Set<number> | undefined;

  constructor(
    readonly id: string,
    record: InstanceRecord | undefined,
  ) {
    this.record = record;
  }

  get idle(): boolean {
    return this.mailbox.length === 0 && !this.scheduled && this.pendingCommits === 0;
  }

  /** Learns what is open from the current execution's history (read from the store; failures a rewind took back complete nothing). */
  indexHistory(history: readonly HistoryEvent[]): void {
    const timers = new Map<number, number>();
    const work = new Set<number>();
    const children = new Set<number>();
    const rewound = rewoundPositions(history);
    for (const [position, event] of history.entries()) {
      if (rewound.has(position)) continue;
      if (event.type === "TimerCreated") timers.set(event.eventId, event.fireAt);
      else if (event.type === "TimerFired") timers.delete(event.timerId);
      else if (event.type === "TaskScheduled") work.add(event.eventId);
      else if (event.type === "TaskCompleted" || event.type === "TaskFailed") work.delete(event.taskScheduledId);
      else if (event.type === "SubOrchestrationInstanceCreated") children.add(event.eventId);
      else if (event.type === "SubOrchestrationInstanceCompleted" || event.type === "SubOrchestrationInstanceFailed") children.delete(event.taskScheduledId);
    }
    this.openTimers = timers;
    this.openWork = work;
    this.openSubOrchestrations = children;
  }
}
