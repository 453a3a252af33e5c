import type { TaskFailedError } from "./task-errors.js";

/**
 * How a failed activity or sub-orchestration is retried (Durable Functions' RetryOptions): the
 * first retry waits `firstRetryIntervalInMilliseconds`, each later one `backoffCoefficient` times
 * longer (at most `maxRetryIntervalInMilliseconds`), until `maxNumberOfAttempts` attempts in all;
 * no retry starts later than `retryTimeoutInMilliseconds` after the first attempt (orchestration
 * time). `handle` decides whether a failure is retried at all (one that throws fails the task with
 * its error). Waits are durable timers and each attempt is a new task (a new action id): a retry
 * survives restarts. Options are checked at the call (a TypeError there).
 */
export interface RetryOptions {
  /** Above 0. */
  readonly firstRetryIntervalInMilliseconds: number;
  /** An integer, at least 1 (the first attempt counts). */
  readonly maxNumberOfAttempts: number;
  /** Above 0; default 1. */
  readonly backoffCoefficient?: number;
  /** Default: no limit. */
  readonly maxRetryIntervalInMilliseconds?: number;
  /** Default: no limit. */
  readonly retryTimeoutInMilliseconds?: number;
  /** Retry this failure? Default: every failure is retried. Runs with the orchestrator's replay-safe globals. */
  readonly handle?: (error: TaskFailedError) => boolean;
}
