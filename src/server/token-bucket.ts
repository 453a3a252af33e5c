/**
 * A token bucket: `ratePerSecond` tokens a second, up to `burst` saved. Refilled when the caller says
 * time has passed (once per incoming message, not per frame: reading the clock is the costly part).
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  refill(now: number): void {
    const elapsedMs = now - this.refilledAt;
    if (elapsedMs <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
    this.refilledAt = now;
  }

  /** Takes one token: true when there was one. */
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there again. */
  get retryAfterMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }
}
