import { ErrorCode } from "../../protocol/index.js";
import type { FailureDetails } from "./history-events.js";

const TASK_FAILED_BRAND = Symbol.for("durable-entities.task-failed-error");

/** What kind of task failed. */
export type FailedTaskKind = "activity" | "sub-orchestration";

/**
 * Thrown at the `yield` of an activity or sub-orchestration that failed (after its retries, if
 * any). `name` is "ActivityFailed" or "SubOrchestrationFailed"; `failure` is what the task reported
 * (its own error's type and message), `details` that error's details.
 *
 * ```ts
 * try { yield ctx.callActivity("Charge", order); }
 * catch (e) { if (isTaskFailedError(e) && e.failure.errorType === "CardDeclined") … }
 * ```
 */
export class TaskFailedError extends Error {
  readonly [TASK_FAILED_BRAND] = true;
  override readonly name: "ActivityFailed" | "SubOrchestrationFailed";
  /** The activity's or orchestration's name. */
  readonly taskName: string;
  /** The action id of the (last) attempt that failed. */
  readonly taskId: number;
  /** The failure the task reported. */
  readonly failure: FailureDetails;
  /** The task's own error's details (`failure.details`). */
  readonly details: unknown;

  constructor(kind: FailedTaskKind, taskName: string, taskId: number, failure: FailureDetails) {
    super(`${kind} "${taskName}" failed: ${failure.message}`);
    this.name = kind === "activity" ? "ActivityFailed" : "SubOrchestrationFailed";
    this.taskName = taskName;
    this.taskId = taskId;
    this.failure = failure;
    this.details = failure.details;
  }
}

/** True for a TaskFailedError, even one made by another copy of this package (no `instanceof`). */
export function isTaskFailedError(error: unknown): error is TaskFailedError {
  return typeof error === "object" && error !== null && (error as { [TASK_FAILED_BRAND]?: unknown })[TASK_FAILED_BRAND] === true;
}

/**
 * Replay found that the orchestrator no longer does what its history records (it asks for other
 * work, or for work in another order). The execution fails with errorType `non_determinism`.
 */
export class NonDeterminismError extends Error {
  override readonly name = "NonDeterminismError";
  readonly code = ErrorCode.non_determinism;

  constructor(
    message: string,
    /** The position in the history (0-based) of the event that did not match. */
    readonly historyPosition: number,
  ) {
    super(message);
  }
}
