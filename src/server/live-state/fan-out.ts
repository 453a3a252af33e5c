/** A connection whose queued live updates the fan-out sends (ConnectionSession). */
export interface FanOutTarget {
  /** Sends everything the connection has queued, in order. */
  flush(): void;
}

/**
 * Spreads the sending of live updates over event-loop turns, about `sliceMs` of sending per turn, so
 * that other work (a call on another connection, the next commit) runs between slices instead of
 * waiting for a fan-out to ten thousand subscribers. Updates wait in each connection's own outgoing
 * queue, in order with its answers, so nothing overtakes what was released before it.
 */
export class FanOut {
  private queue: FanOutTarget[] = [];
  private head = 0;
  private readonly queued = new Set<FanOutTarget>();
  private scheduled = false;

  constructor(private readonly sliceMs = 2) {}

  /** The target has live updates queued: it is flushed in a coming slice. */
  add(target: FanOutTarget): void {
    if (this.queued.has(target)) return;
    this.queued.add(target);
    this.queue.push(target);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.runSlice);
    }
  }

  /** Targets waiting for their slice. */
  get pending(): number {
    return this.queued.size;
  }

  private readonly runSlice = (): void => {
    this.scheduled = false;
    const deadline = performance.now() + this.sliceMs;
    let sent = 0;
    while (this.head < this.queue.length) {
      const target = this.queue[this.head++]!;
      this.queued.delete(target);
      target.flush();
      if ((++sent & 63) === 0 && performance.now() > deadline) break;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      return;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      // A fan-out that stays behind never empties its queue: drop the flushed front so it cannot grow without bound.
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.scheduled = true;
    setImmediate(this.runSlice);
  };
}
