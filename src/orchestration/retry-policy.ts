import type { RetryOptions } from "./retry-options.js";

/** Checks retry options where they are given (a TypeError at the call site names the problem). */
export function checkRetryOptions(options: RetryOptions, where: string): RetryOptions {
  if (typeof options !== "object" || options === null) throw new TypeError(`${where}: retry options must be an object`);
  const { firstRetryIntervalInMilliseconds: first, maxNumberOfAttempts: attempts, backoffCoefficient, maxRetryIntervalInMilliseconds, retryTimeoutInMilliseconds, handle } = options;
  if (!(Number.isFinite(first) && first > 0)) throw new TypeError(`${where}: firstRetryIntervalInMilliseconds must be a number above 0; got ${String(first)}`);
  if (!(Number.isInteger(attempts) && attempts >= 1)) throw new TypeError(`${where}: maxNumberOfAttempts must be an integer of at least 1; got ${String(attempts)}`);
  if (backoffCoefficient !== undefined && !(Number.isFinite(backoffCoefficient) && backoffCoefficient > 0)) {
    throw new TypeError(`${where}: backoffCoefficient must be a number above 0; got ${String(backoffCoefficient)}`);
  }
  for (const [key, value] of [["maxRetryIntervalInMilliseconds", maxRetryIntervalInMilliseconds], ["retryTimeoutInMilliseconds", retryTimeoutInMilliseconds]] as const) {
    if (value !== undefined && !(typeof value === "number" && value >= 0 && !Number.isNaN(value))) throw new TypeError(`${where}: ${key} must be a number of at least 0; got ${String(value)}`);
  }
  if (handle !== undefined && typeof handle !== "function") throw new TypeError(`${where}: handle must be a function (error) => boolean`);
  return options;
}

/**
 * How long to wait before the next attempt, or undefined when there is none: `attempts` attempts
 * were made (all failed), the first at `startMs`, and it is now `nowMs` (orchestration time). The
 * n-th retry waits `first × coefficient^(n-1)`, at most the max interval; no retry is started after
 * `startMs + retryTimeout`.
 */
export function nextRetryDelay(options: RetryOptions, attempts: number, startMs: number, nowMs: number): number | undefined {
  if (attempts >= options.maxNumberOfAttempts) return undefined;
  let delay = options.firstRetryIntervalInMilliseconds * (options.backoffCoefficient ?? 1) ** (attempts - 1);
  if (options.maxRetryIntervalInMilliseconds !== undefined) delay = Math.min(delay, options.maxRetryIntervalInMilliseconds);
  if (!Number.isFinite(delay)) return undefined;
  if (options.retryTimeoutInMilliseconds !== undefined && nowMs + delay > startMs + options.retryTimeoutInMilliseconds) return undefined;
  return Math.max(0, Math.round(delay));
}
