import type { FailureDetails } from "./history-events.js";

/**
 * What orchestrator code asks for, as the replay executor reports it. The host records each as a
 * history event (ScheduleTask → TaskScheduled, …) in the same commit as the turn, and only then acts
 * on it (runs the activity, arms the timer, starts the sub-orchestration): the output gate.
 * `id` is the action's sequence number within the execution (the history event's `eventId`).
 */
export type OrchestratorAction =
  | { readonly type: "ScheduleTask"; readonly id: number; readonly name: string; readonly input?: unknown }
  | { readonly type: "CreateTimer"; readonly id: number; readonly fireAt: number }
  /** The code cancelled a timer it created (no history event; the host may forget the timer). */
  | { readonly type: "CancelTimer"; readonly id: number }
  | { readonly type: "CreateSubOrchestration"; readonly id: number; readonly name: string; readonly instanceId: string; readonly input?: unknown }
  | { readonly type: "SendEvent"; readonly id: number; readonly instanceId: string; readonly name: string; readonly input?: unknown };

/** How an execution ended, when the turn ended it. */
export type ExecutionEnd =
  | { readonly status: "Completed"; readonly output: unknown }
  | { readonly status: "Failed"; readonly failure: FailureDetails }
  | {
      readonly status: "ContinuedAsNew";
      readonly input: unknown;
      /** External events raised but not yet consumed, to carry into the next execution (preserveUnprocessedEvents). */
      readonly carryOver: ReadonlyArray<{ readonly name: string; readonly input?: unknown }>;
    };
