import type { TaskFailedError } from "./task-errors.js";

/**
 * How a failed activity or sub-orchestration is retried (Durable Functions' RetryOptions): the
 * first retry waits `firstRetryIntervalInMilliseconds`, each later one `backoffCoefficient` times
 * longer (at most `maxRetryIntervalInMilliseconds`), until `maxNumberOfAttempts` attempts in all, or
 * until `retryTimeoutInMilliseconds` has passed since the first attempt. `handle` decides whether a
 * failure is retried at all. Waits are durable timers: a retry survives restarts.
 */
export interface RetryOptions {
  readonly firstRetryIntervalInMilliseconds: number;
  readonly maxNumberOfAttempts: number;
  /** Default 1. */
  readonly backoffCoefficient?: number;
  /** Default: no limit. */
  readonly maxRetryIntervalInMilliseconds?: number;
  /** Default: no limit. */
  readonly retryTimeoutInMilliseconds?: number;
  /** Retry this failure? Default: every failure is retried. */
  readonly handle?: (error: TaskFailedError) => boolean;
}
