import { CompletableTask } from "./completable-task.js";
import { RealDate } from "./determinism-sandbox.js";
import type { TimerTask } from "./task.js";

/** A durable timer the code created: completes when its TimerFired event arrives. */
export class DurableTimerTask extends CompletableTask<void> implements TimerTask {
  #cancelled = false;

  constructor(
    private readonly fireAtMs: number,
    private readonly onCancel: () => void,
  ) {
    super();
  }

  get fireAt(): Date {
    return new RealDate(this.fireAtMs);
  }

  get isCancelled(): boolean {
    return this.#cancelled;
  }

  cancel(): void {
    if (this.isCompleted || this.#cancelled) return;
    this.#cancelled = true;
    this.onCancel();
  }
}
