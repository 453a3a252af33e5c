import type { Clock } from "../../../src/runtime/index.js";

/**
 * A clock a test moves by hand (time injected): `now()` starts at the real time and only moves with
 * `advance`, which fires the timers that fall due, earliest first. So a 72-hour timer fires at once.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextHandle = 1;

  constructor(start = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.current + Math.max(0, ms), fn });
    if (ms <= 0) setImmediate(() => this.fireDue());
    return handle;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward and fires every timer now due. */
  advance(ms: number): void {
    this.current += ms;
    this.fireDue();
  }

  /** Timers armed and not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  private fireDue(): void {
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= this.current && (due === undefined || entry[1].at < due[1].at)) due = entry;
      if (due === undefined) return;
      this.timers.delete(due[0]);
      due[1].fn();
    }
  }
}
