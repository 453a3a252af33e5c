import { ErrorCode } from "../../protocol/index.js";
import type { FailureDetails } from "./history-events.js";

const TASK_FAILED_BRAND = Symbol.for("durable-entities.task-failed-error");

/** What kind of task failed. */
export type FailedTaskKind = "activity" | "sub-orchestration" | "entity";

const FAILED_NAMES = { activity: "ActivityFailed", "sub-orchestration": "SubOrchestrationFailed", entity: "EntityOperationFailed" } as const;

/**
 * Thrown at the `yield` of an activity or sub-orchestration that failed (after its retries, if
 * any), or of an entity call that failed. `name` is "ActivityFailed", "SubOrchestrationFailed" or
 * "EntityOperationFailed"; `failure` is what the task reported (its own error's type and message;
 * for an entity call, `errorType` is the entity's error code: `operation_failed`,
 * `unknown_operation`, …), `details` that error's details.
 *
 * ```ts
 * try { yield ctx.callActivity("Charge", order); }
 * catch (e) { if (isTaskFailedError(e) && e.failure.errorType === "CardDeclined") … }
 * ```
 */
export class TaskFailedError extends Error {
  readonly [TASK_FAILED_BRAND] = true;
  override readonly name: (typeof FAILED_NAMES)[FailedTaskKind];
  /** The activity's or orchestration's name, or the entity operation's. */
  readonly taskName: string;
  /** The entity called, for a failed entity call. */
  readonly entityId: string | undefined;
  /** The action id of the (last) attempt that failed. */
  readonly taskId: number;
  /** The failure the task reported. */
  readonly failure: FailureDetails;
  /** The task's own error's details (`failure.details`). */
  readonly details: unknown;

  constructor(kind: FailedTaskKind, taskName: string, taskId: number, failure: FailureDetails, entityId?: string) {
    super(kind === "entity" ? `operation "${taskName}" of entity "${entityId}" failed: ${failure.message}` : `${kind} "${taskName}" failed: ${failure.message}`);
    this.name = FAILED_NAMES[kind];
    this.taskName = taskName;
    this.entityId = entityId;
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

const LOCKING_RULES_BRAND = Symbol.for("durable-entities.locking-rules-violation");

/** The rules of a critical section (Durable Functions'), each named in its violation's message. */
export type LockingRule = "no nested lock" | "no call to an entity outside the locked set" | "no sub-orchestration" | "no signal to a locked entity";

/**
 * Thrown at the call that breaks a rule of a critical section (while one is held or being acquired):
 * no nested lock, no call to an entity outside the locked set, no sub-orchestration, no signal to a
 * locked entity. The code may catch it; uncaught, it fails the instance with errorType
 * `locking_rules_violation`.
 */
export class LockingRulesViolationError extends Error {
  readonly [LOCKING_RULES_BRAND] = true;
  override readonly name = "LockingRulesViolation";
  readonly code = "locking_rules_violation";

  constructor(
    /** The rule broken. */
    readonly rule: LockingRule,
    detail: string,
  ) {
    super(`locking rules violation: ${rule}: ${detail}`);
  }
}

/** True for a LockingRulesViolationError, even one made by another copy of this package. */
export function isLockingRulesViolationError(error: unknown): error is LockingRulesViolationError {
  return typeof error === "object" && error !== null && (error as { [LOCKING_RULES_BRAND]?: unknown })[LOCKING_RULES_BRAND] === true;
}
