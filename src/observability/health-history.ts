import { errorMessage, type Logger } from "../log.js";
import { healthSample, type HealthSample } from "./health-sample.js";
import { readMetrics, type MetricsReading, type MetricsSource } from "./metrics-reading.js";

export interface HealthHistoryOptions {
  /** Between samples (default 1000 ms). */
  readonly intervalMs?: number;
  /** How far back samples are kept (default 10 minutes). */
  readonly windowMs?: number;
  /** Epoch ms (default `Date.now`; tests inject their own). */
  readonly now?: () => number;
  readonly log?: Logger;
}

const DEFAULT_INTERVAL_MS = 1000;
const DEFAULT_WINDOW_MS = 10 * 60_000;

/**
 * The last minutes of the server's health, for the dashboard's charts: every `intervalMs` it reads the
 * metrics registry and keeps one {@link HealthSample} of what changed since the reading before, the
 * oldest dropped past `windowMs`.
 */
export class HealthHistory {
  readonly intervalMs: number;
  private readonly capacity: number;
  private readonly now: () => number;
  /** Oldest first; at most `capacity`. */
  private readonly kept: HealthSample[] = [];
  private previous: MetricsReading | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** A reading is under way: a slow one is not overlapped by the next tick. */
  private reading = false;
  /** The last reading failed (logged once until one succeeds again). */
  private failing = false;

  constructor(
    private readonly source: MetricsSource,
    private readonly options: HealthHistoryOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.capacity = Math.max(1, Math.ceil((options.windowMs ?? DEFAULT_WINDOW_MS) / this.intervalMs));
    this.now = options.now ?? Date.now;
  }

  /** The samples kept, oldest first. */
  get samples(): readonly HealthSample[] {
    return this.kept;
  }

  /** Takes the first reading now (the baseline of the first sample), then one every interval; the timer does not keep the process alive. */
  start(): void {
    if (this.timer !== undefined) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the registry and keeps the sample since the reading before (none for the first reading); never throws. */
  async sample(): Promise<HealthSample | undefined> {
    if (this.reading) return undefined;
    this.reading = true;
    try {
      const reading = readMetrics(await this.source.getMetricsAsJSON(), this.now());
      this.failing = false;
      const before = this.previous;
      this.previous = reading;
      if (before === undefined) return undefined;
      const sample = healthSample(before, reading);
      this.kept.push(sample);
      if (this.kept.length > this.capacity) this.kept.splice(0, this.kept.length - this.capacity);
      return sample;
    } catch (error) {
      if (!this.failing) this.options.log?.warn("health sample failed: the metrics could not be read", { error: errorMessage(error) });
      this.failing = true;
      return undefined;
    } finally {
      this.reading = false;
    }
  }
}
