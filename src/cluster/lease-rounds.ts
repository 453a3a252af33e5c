/**
 * Runs a round every `intervalMs`, never two at once: the next is scheduled when one ends, so a slow
 * round (NATS slow to answer) delays the next rather than overlapping it. A round that throws is
 * reported, never thrown: NATS errors must not crash the process.
 */
export class RoundLoop {
  private running = false;
  private hurried = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Runs a round now and resolves when it ends; later rounds follow on their own. */
  async start(): Promise<void> {
    await this.run();
  }

  /** Runs the next round as soon as the current one ends (or at once, between rounds). */
  hurry(): void {
    if (this.stopped) return;
    if (this.running) {
      this.hurried = true;
    } else if (this.timer) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.run(), 0);
    }
  }

  /** No round starts after this; one under way runs to its end. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (this.running || this.stopped) return;
    this.running = true;
    this.hurried = false;
    const startedAt = performance.now();
    try {
      await this.round();
    } catch (error) {
      this.failed(error);
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    const wait = this.hurried ? 0 : Math.max(0, this.intervalMs - (performance.now() - startedAt));
    this.timer = setTimeout(() => void this.run(), wait);
  }
}
