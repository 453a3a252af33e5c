/** How the client spaces its reconnection attempts. */
export interface BackoffOptions {
  /** Delay before the first retry (default 100 ms). */
  readonly initialDelayMs: number;
  /** Largest delay between two attempts (default 5000 ms). */
  readonly maxDelayMs: number;
  /** Growth of the delay per failed attempt (default 2). */
  readonly factor: number;
  /** Fraction of the delay taken off at random, 0 to 1, so clients do not retry in lockstep (default 0.2). */
  readonly jitter: number;
}

/** The defaults: 100 ms, doubling, capped at 5 s, up to 20% jitter. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.2 };

/**
 * The delay before retry number `attempt` (0 for the first retry): `initialDelayMs * factor^attempt`,
 * capped at `maxDelayMs`, minus up to `jitter` of itself. `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** Math.max(0, attempt));
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter * random()));
}
