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
  | { readonly type: "SendEvent"; readonly id: number; readonly instanceId: string; readonly name: string; readonly input?: unknown }
  /** ctx.callEntity: the entity answers with an EventRaised named `@entity:<id>` (see entity-requests.ts). */
  | { readonly type: "CallEntity"; readonly id: number; readonly entityId: string; readonly operation: string; readonly input?: unknown }
  /** ctx.signalEntity: one-way; `at` (epoch ms) schedules it. */
  | { readonly type: "SignalEntity"; readonly id: number; readonly entityId: string; readonly operation: string; readonly input?: unknown; readonly at?: number }
  /** ctx.lock: the entities, sorted and without duplicates (the global order); granted with an EventRaised named `@lock:<id>`. */
  | { readonly type: "LockEntities"; readonly id: number; readonly entityIds: readonly string[] }
  /** LockHandle.release(): frees the entities of the critical section (no answer). */
  | { readonly type: "ReleaseLocks"; readonly id: number; readonly entityIds: readonly string[] };

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
