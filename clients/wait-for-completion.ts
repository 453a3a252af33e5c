import { EntityError, ErrorCode } from "../protocol/entity-error.js";
import type { WatchListener } from "./instance-watches.js";
import type { FinishedInstanceStatus, InstanceStatus, InstanceWatch, WaitOptions } from "./orchestration-types.js";

/**
 * The code a wait rejects with when its time is up. The protocol has no `timeout` code; the wait's
 * time limit is passed, and an instance that passes one of its own guard rails fails (it resolves
 * the wait), so the code cannot be taken for that.
 */
export const WAIT_TIMEOUT_CODE = ErrorCode.timeout;

/** Longest delay setTimeout keeps (about 24.8 days); a longer timeout waits without a timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const FINISHED: ReadonlySet<string> = new Set(["Completed", "Failed", "Terminated"]);

/**
 * Resolves with the instance's status once it has finished, from a watch (closed when the wait
 * ends): `not_found` when the instance does not exist or is purged, the watch's error when it
 * fails, WAIT_TIMEOUT_CODE after `timeoutMs`.
 */
export function waitForCompletion(
  watch: (listener: WatchListener) => InstanceWatch,
  instanceId: string,
  options: WaitOptions,
): Promise<FinishedInstanceStatus> {
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
    return Promise.reject(new EntityError(ErrorCode.bad_request, `timeoutMs must be a number of milliseconds, 0 or more; got ${timeoutMs}`));
  }
  return new Promise((resolve, reject) => {
    let done = false;
    let last: InstanceStatus | null | undefined;
    let handle: InstanceWatch | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (error: EntityError | undefined, status?: FinishedInstanceStatus) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void handle?.close();
      if (error) reject(error);
      else resolve(status!);
    };
    handle = watch({
      failOnDisconnect: true,
      status: (status) => {
        const seenBefore = last !== undefined;
        last = status;
        if (status === null) {
          const what = seenBefore ? "was purged while the client waited for it" : "does not exist";
          finish(new EntityError(ErrorCode.not_found, `orchestration instance "${instanceId}" ${what}`));
        } else if (FINISHED.has(status.runtimeStatus)) {
          finish(undefined, status as FinishedInstanceStatus);
        }
      },
      failed: (error) => finish(error),
    });
    handle.ready.catch((error: EntityError) => finish(error));
    if (done) void handle.close(); // it ended while the watch was being made
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
      timer = setTimeout(() => {
        const state = last == null ? "" : ` (it is ${last.runtimeStatus})`;
        finish(new EntityError(WAIT_TIMEOUT_CODE, `orchestration instance "${instanceId}" did not finish within ${timeoutMs} ms${state}`, { timeoutMs, status: last ?? null }));
      }, timeoutMs);
    }
  });
}
