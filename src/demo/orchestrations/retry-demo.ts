import { defineActivity, defineOrchestration } from "../../orchestration/index.js";

/** Attempts per instance, in this process (enough to show retries; activities run at least once). */
const attempts = new Map<string, number>();

/** Fails `failTimes` times for an instance, then succeeds with the number of attempts it took. */
export const FlakyActivity = defineActivity("FlakyActivity", (input: { failTimes: number }, context) => {
  const attempt = (attempts.get(context.instanceId) ?? 0) + 1;
  attempts.set(context.instanceId, attempt);
  if (attempt <= input.failTimes) throw new Error(`attempt ${attempt} failed on purpose (fails ${input.failTimes} times)`);
  attempts.delete(context.instanceId);
  return attempt;
});

/**
 * Retries: the activity is called with a retry policy; the output is how many attempts it took. It gets
 * `maxAttempts` attempts (default `failTimes + 1`, enough): with fewer, the instance fails.
 */
export const RetryDemo = defineOrchestration("RetryDemo", function* (ctx, input: { failTimes: number; maxAttempts?: number }) {
  const retry = { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: input.maxAttempts ?? input.failTimes + 1, backoffCoefficient: 1.5, maxRetryIntervalInMilliseconds: 1000 };
  const count = yield* ctx.call(FlakyActivity, input, { retry });
  return { attempts: count };
});
