/**
 * History events, in Durable Task's vocabulary (numbered as durabletask-js's HistoryEventType), so
 * that users and tools recognise them. An orchestration's history is its durable record: replaying
 * it through the orchestrator code rebuilds the code's state. Times are epoch milliseconds.
 *
 * Ids: an event that schedules work (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated,
 * EventSent) has `eventId`, the sequence number of the action that made it (0, 1, 2, … in the order
 * the code asked for them within one execution); the event that completes that work names it
 * (`taskScheduledId`, `timerId`).
 */

export const HistoryEventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
  ExecutionRewound: 21,
} as const;
export type HistoryEventName = keyof typeof HistoryEventType;

/** Why something failed, as history and status show it. */
export interface FailureDetails {
  /** The error's name (`Error`, `TypeError`, `ActivityFailed`, …) or a code such as `non_determinism`. */
  readonly errorType: string;
  /** A message a person can act on (stack traces go to the server's log, never into history or onto the wire). */
  readonly message: string;
  /** The failed task's name, when a task's failure failed the instance. */
  readonly taskName?: string;
  /** What the error carried besides its message (JSON), e.g. an activity's `details`. */
  readonly details?: unknown;
  /** The failure this one wraps (an activity's own error inside ActivityFailed). */
  readonly inner?: FailureDetails;
}

interface Stamped {
  /** When the event was recorded (epoch ms). */
  readonly timestamp: number;
}

/** The start of an execution (also after continue-as-new). */
export interface ExecutionStarted extends Stamped {
  readonly type: "ExecutionStarted";
  readonly name: string;
  readonly input?: unknown;
  readonly parentInstanceId?: string;
  /** The parent's action id of the SubOrchestrationInstanceCreated that started this one. */
  readonly parentTaskId?: number;
  /** Which execution of the instance this is: 0, then +1 for each continue-as-new. */
  readonly generation?: number;
}

/** The turn's "now": what `ctx.currentUtcDateTime` (and `Date.now()` in the orchestrator) returns. */
export interface OrchestratorStarted extends Stamped {
  readonly type: "OrchestratorStarted";
}

export interface OrchestratorCompleted extends Stamped {
  readonly type: "OrchestratorCompleted";
}

export interface TaskScheduled extends Stamped {
  readonly type: "TaskScheduled";
  readonly eventId: number;
  /** The activity's name. */
  readonly name: string;
  readonly input?: unknown;
}

export interface TaskCompleted extends Stamped {
  readonly type: "TaskCompleted";
  readonly taskScheduledId: number;
  readonly result?: unknown;
}

export interface TaskFailed extends Stamped {
  readonly type: "TaskFailed";
  readonly taskScheduledId: number;
  readonly failure: FailureDetails;
}

export interface TimerCreated extends Stamped {
  readonly type: "TimerCreated";
  readonly eventId: number;
  /** When it fires (epoch ms). */
  readonly fireAt: number;
}

export interface TimerFired extends Stamped {
  readonly type: "TimerFired";
  readonly timerId: number;
  readonly fireAt: number;
}

export interface SubOrchestrationInstanceCreated extends Stamped {
  readonly type: "SubOrchestrationInstanceCreated";
  readonly eventId: number;
  readonly name: string;
  readonly instanceId: string;
  readonly input?: unknown;
}

export interface SubOrchestrationInstanceCompleted extends Stamped {
  readonly type: "SubOrchestrationInstanceCompleted";
  readonly taskScheduledId: number;
  readonly result?: unknown;
}

export interface SubOrchestrationInstanceFailed extends Stamped {
  readonly type: "SubOrchestrationInstanceFailed";
  readonly taskScheduledId: number;
  readonly failure: FailureDetails;
}

/** An external event raised to the instance (kept, in order, until the code waits for its name). */
export interface EventRaised extends Stamped {
  readonly type: "EventRaised";
  readonly name: string;
  readonly input?: unknown;
}

/** What an entity message an orchestration sent is (see EventSent.entityRequest). */
export type EntityRequestKind = "call" | "signal" | "lock" | "release";

/**
 * A message this instance sent: an event to another instance or, with `entityRequest`, a message to
 * an entity. For an entity message, `instanceId` is the entity id and `name` the operation; a lock
 * request or release names the first entity of its set, `name` is "lock" or "release", and `input`
 * holds the whole set (sorted, without duplicates).
 */
export interface EventSent extends Stamped {
  readonly type: "EventSent";
  readonly eventId: number;
  readonly instanceId: string;
  readonly name: string;
  readonly input?: unknown;
  /** Absent for an event to an instance; else what the entity message is (ctx.callEntity, signalEntity, lock, or a lock's release). */
  readonly entityRequest?: EntityRequestKind;
  /** A scheduled signal's time (epoch ms): the entity gets it at, not before, this time. */
  readonly scheduledTime?: number;
}

export interface ExecutionCompleted extends Stamped {
  readonly type: "ExecutionCompleted";
  readonly status: "Completed" | "Failed";
  readonly result?: unknown;
  readonly failure?: FailureDetails;
}

export interface ExecutionTerminated extends Stamped {
  readonly type: "ExecutionTerminated";
  readonly reason?: unknown;
}

export interface ExecutionSuspended extends Stamped {
  readonly type: "ExecutionSuspended";
  readonly reason?: unknown;
}

export interface ExecutionResumed extends Stamped {
  readonly type: "ExecutionResumed";
  readonly reason?: unknown;
}

/**
 * A rewind of a failed execution (Durable Functions' `rewind`): the instance runs again from its
 * failures. The events it names stay in the history (it is append-only) but replay skips them, so the
 * tasks they failed are open again: their activities run again, failed sub-orchestrations are rewound.
 */
export interface ExecutionRewound extends Stamped {
  readonly type: "ExecutionRewound";
  readonly reason?: unknown;
  /** The positions in this execution's history (0 = its first event) of the failures taken back: TaskFailed and SubOrchestrationInstanceFailed events. */
  readonly rewoundEvents: readonly number[];
}

/** The code called continueAsNew: the last event of an execution; the next one starts with `input`. */
export interface ContinueAsNew extends Stamped {
  readonly type: "ContinueAsNew";
  readonly input?: unknown;
}

export type HistoryEvent =
  | ExecutionStarted
  | OrchestratorStarted
  | OrchestratorCompleted
  | TaskScheduled
  | TaskCompleted
  | TaskFailed
  | TimerCreated
  | TimerFired
  | SubOrchestrationInstanceCreated
  | SubOrchestrationInstanceCompleted
  | SubOrchestrationInstanceFailed
  | EventRaised
  | EventSent
  | ExecutionCompleted
  | ExecutionTerminated
  | ExecutionSuspended
  | ExecutionResumed
  | ExecutionRewound
  | ContinueAsNew;
