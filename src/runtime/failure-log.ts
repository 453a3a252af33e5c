import type { Logger } from "../log.js";
import type { Clock } from "./clock.js";

export interface FailureLogOptions {
  /** Failures of one entity type logged in full per window (default 10). */
  readonly linesPerWindow?: number;
  /** The window (default 10 s); what passes the lines of a window is counted and reported at its end. */
  readonly windowMs?: number;
}

interface Window {
  readonly start: number;
  logged: number;
  suppressed: number;
  timer: unknown;
}

/**
 * The log of failed operations, bounded per entity type: in each window the first few failures of a
 * type are logged in full at `warn` (with their stack); the rest are only counted, and one line at
 * the window's end says how many were left out. A client sending failing operations by the hundred
 * thousand costs a few lines every window, not a line each.
 */
export class FailureLog {
  private readonly linesPerWindow: number;
  private readonly windowMs: number;
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    options: FailureLogOptions = {},
  ) {
    this.linesPerWindow = options.linesPerWindow ?? 10;
    this.windowMs = options.windowMs ?? 10_000;
  }

  /** One failed operation of an entity of `entityType`; `fields` is called only when its line is written (a stack costs to format). */
  failed(entityType: string, fields: () => Record<string, unknown>): void {
    const now = this.clock.now();
    let window = this.windows.get(entityType);
    if (window !== undefined && now - window.start >= this.windowMs) {
      this.end(entityType, window); // its timer has not fired yet
      window = undefined;
    }
    if (window === undefined) {
      window = { start: now, logged: 0, suppressed: 0, timer: undefined };
      this.windows.set(entityType, window);
    }
    if (window.logged < this.linesPerWindow) {
      window.logged++;
      this.log.warn("operation failed", fields());
      return;
    }
    window.suppressed++;
    if (window.timer === undefined) {
      const ending = window;
      ending.timer = this.clock.setTimer(() => this.end(entityType, ending), ending.start + this.windowMs - now);
    }
  }

  /** Reports what was left out so far and forgets the windows (the runtime is closing). */
  close(): void {
    for (const [entityType, window] of [...this.windows]) this.end(entityType, window);
  }

  private end(entityType: string, window: Window): void {
    if (this.windows.get(entityType) !== window) return;
    this.windows.delete(entityType);
    if (window.timer !== undefined) this.clock.clearTimer(window.timer);
    if (window.suppressed === 0) return;
    this.log.warn("operation failures suppressed", { entityType, suppressed: window.suppressed, logged: window.logged, windowMs: this.windowMs });
  }
}
