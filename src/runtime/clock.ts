/** Where the runtime reads the time and arms timers: the system clock, or a test's (time injected). */
export interface Clock {
  now(): number;
  /** Calls `fn` once `ms` have passed on this clock; returns a handle for `clearTimer`. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** The system clock. Its timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1)).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
