import { errorMessage, type Logger } from "../log.js";
import { HEALTH_METRICS, healthSample, type HealthSample } from "./health-sample.js";
import { readMetrics, type MetricJson, type MetricsReading, type MetricsSource, type ReadingTime } from "./metrics-reading.js";

/** The clocks a history reads: tests inject their own. */
export interface HealthClock {
  /** Epoch ms, a sample's `t` (default `Date.now`). */
  wall(): number;
  /** Monotonic ms, for the length of an interval (default `performance.now`): a wall clock steps. */
  monotonic(): number;
}

export interface HealthHistoryOptions {
  /** Between samples (default 1000 ms). */
  readonly intervalMs?: number;
  /** How far back samples are kept (default 10 minutes). */
  readonly windowMs?: number;
  readonly clock?: HealthClock;
  readonly log?: Logger;
}

const DEFAULT_INTERVAL_MS = 1000;
const DEFAULT_WINDOW_MS = 10 * 60_000;
const SYSTEM_CLOCK: HealthClock = { wall: () => Date.now(), monotonic: () => performance.now() };

/**
 * The last minutes of the server's health, for the dashboard's charts: every `intervalMs` it reads the
 * metrics a sample needs and keeps one {@link HealthSample} of what changed since the reading before,
 * the oldest dropped past `windowMs`.
 */
export class HealthHistory {
  readonly intervalMs: number;
  private readonly capacity: number;
  private readonly clock: HealthClock;
  /** Oldest first; at most `capacity`. */
  private readonly kept: HealthSample[] = [];
  private previous: MetricsReading | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** A reading is under way: a slow one is not overlapped by the next tick. */
  private reading = false;
  /** Metrics whose last read failed: each is logged once, until it reads again. */
  private readonly failing = new Set<string>();
  /** The last sample failed as a whole (logged once, until one succeeds). */
  private broken = false;

  constructor(
    private readonly source: MetricsSource,
    private readonly options: HealthHistoryOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.capacity = Math.max(1, Math.ceil((options.windowMs ?? DEFAULT_WINDOW_MS) / this.intervalMs));
    this.clock = options.clock ?? SYSTEM_CLOCK;
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

  /**
   * Reads the metrics and keeps the sample since the reading before (none for the first reading); never
   * throws. A metric that fails to read is left out of this reading (its values in the sample are null),
   * and the others are still read.
   */
  async sample(): Promise<HealthSample | undefined> {
    if (this.reading) return undefined;
    this.reading = true;
    try {
      const reading = readMetrics(await this.readEach(), this.now());
      const before = this.previous;
      this.previous = reading;
      const sample = before === undefined ? undefined : healthSample(before, reading);
      if (sample !== undefined) {
        this.kept.push(sample);
        if (this.kept.length > this.capacity) this.kept.splice(0, this.kept.length - this.capacity);
      }
      this.broken = false;
      return sample;
    } catch (error) {
      // A bug here must not become an unhandled rejection (that ends the process): this sample is lost.
      if (!this.broken) this.options.log?.warn("health sample failed", { error: errorMessage(error) });
      this.broken = true;
      return undefined;
    } finally {
      this.reading = false;
    }
  }

  private now(): ReadingTime {
    return { wall: this.clock.wall(), monotonic: this.clock.monotonic() };
  }

  /** Only the metrics a sample shows, each on its own: an embedder's gauge that throws, or one of ours, costs only its own values. */
  private async readEach(): Promise<MetricJson[]> {
    const read = await Promise.all(Object.values(HEALTH_METRICS).map((name) => this.readOne(name)));
    return read.filter((metric) => metric !== undefined);
  }

  private async readOne(name: string): Promise<MetricJson | undefined> {
    try {
      const metric = await this.source.getSingleMetric(name)?.get();
      this.failing.delete(name);
      return metric;
    } catch (error) {
      if (!this.failing.has(name)) this.options.log?.warn("health sample skipped a metric that could not be read", { metric: name, error: errorMessage(error) });
      this.failing.add(name);
      return undefined;
    }
  }
}
