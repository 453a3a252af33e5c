import type { InstanceChange, InstanceStatus, OrchestrationHost } from "../../orchestration/index.js";

/** How a wait ended: the instance finished (its status), was purged (null), or the time ran out (undefined). */
export type WaitResult = InstanceStatus | null | undefined;

export interface CompletionWait {
  /** Resolves when the instance finishes (or is purged), or with undefined after `timeoutMs`. */
  until(timeoutMs: number): Promise<WaitResult>;
  /** Stops waiting (the start it waited for was refused). */
  cancel(): void;
}

function isFinished(status: InstanceStatus): boolean {
  return status.runtimeStatus === "Completed" || status.runtimeStatus === "Failed" || status.runtimeStatus === "Terminated";
}

/**
 * Most requests waiting at once per orchestration host. Each holds its request (body included) until
 * its instance finishes or its timeout (up to an hour) passes, even when its client has gone: past
 * this, a start answers at once, with the 202 a wait that timed out gives.
 */
export const MAX_COMPLETION_WAITS = 10_000;

/**
 * Requests waiting for instances of one orchestration host to finish (`?timeout=` on a start). The
 * host pushes every committed status change; nothing is polled. A wait is registered before its
 * start is submitted, so the change that finishes the instance cannot be missed.
 */
export class CompletionWaits {
  private readonly waiting = new Map<string, Set<(status: InstanceStatus | null) => void>>();
  /** Waits registered now, over every instance. */
  private count = 0;

  constructor(
    host: OrchestrationHost,
    private readonly maxWaits = MAX_COMPLETION_WAITS,
  ) {
    host.onChange((changes) => this.changed(changes));
  }

  /** Waits registered now (for tests and the bench). */
  get size(): number {
    return this.waiting.size;
  }

  /** A wait for `instanceId` to finish, or undefined when {@link MAX_COMPLETION_WAITS} are registered already. */
  wait(instanceId: string): CompletionWait | undefined {
    if (this.count >= this.maxWaits) return undefined;
    let finished: InstanceStatus | null | undefined;
    let settle: ((result: WaitResult) => void) | undefined;
    const waiter = (status: InstanceStatus | null) => {
      finished = status;
      settle?.(status);
    };
    let set = this.waiting.get(instanceId);
    if (!set) this.waiting.set(instanceId, (set = new Set()));
    set.add(waiter);
    this.count++;
    const remove = () => {
      const current = this.waiting.get(instanceId);
      if (current?.delete(waiter)) this.count--;
      if (current?.size === 0) this.waiting.delete(instanceId);
    };
    return {
      until: (timeoutMs) =>
        new Promise<WaitResult>((resolve) => {
          if (finished !== undefined) return resolve(finished);
          const timer = setTimeout(() => {
            remove();
            resolve(undefined);
          }, timeoutMs);
          timer.unref(); // a wait never keeps a stopping server's process alive
          settle = (result) => {
            clearTimeout(timer);
            resolve(result);
          };
        }),
      cancel: remove,
    };
  }

  private changed(changes: readonly InstanceChange[]): void {
    if (this.waiting.size === 0) return;
    for (const change of changes) {
      const set = this.waiting.get(change.instanceId);
      if (set === undefined || (change.status !== null && !isFinished(change.status))) continue;
      this.waiting.delete(change.instanceId);
      this.count -= set.size;
      for (const waiter of set) waiter(change.status);
    }
  }
}
