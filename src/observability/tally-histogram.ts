import type { Metric } from "prom-client";

/** One label set's observations: a count per bucket (the last is past every bound), their sum and count. */
export class HistogramTally {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** A few comparisons and additions: no label lookup, no allocation. */
  observe(value: number): void {
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.counts[bucket]!++;
    this.sum += value;
    this.count++;
  }
}

interface HistogramValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName: string;
}

/**
 * A Prometheus histogram for the hot path. prom-client's `observe` hashes and checks the labels on every
 * call (about 300 ns); here each label set's tally is looked up once and kept, and observing costs a few
 * additions. The counts are exported at scrape time in the shape prom-client's histograms give
 * (`get()` and `getMetricsAsJSON()`: `_bucket` values with cumulative counts and `le`, `_sum`, `_count`).
 */
export class TallyHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly tallies = new Map<string, HistogramTally>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}

  /** The tally of one label set (made on first use): keep it, and observe through it. */
  tally(labels: Readonly<Record<string, string>>): HistogramTally {
    const key = this.labelNames.map((name) => labels[name] ?? "").join("\u0000");
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = new HistogramTally(labels, this.buckets);
      this.tallies.set(key, tally);
    }
    return tally;
  }

  /** As prom-client's Histogram.get(). */
  async get(): Promise<{ name: string; help: string; type: "histogram"; aggregator: "sum"; values: HistogramValue[] }> {
    const values: HistogramValue[] = [];
    for (const tally of this.tallies.values()) {
      if (tally.count === 0) continue;
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += tally.counts[i]!;
        values.push({ labels: { ...tally.labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...tally.labels, le: "+Inf" }, value: tally.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...tally.labels }, value: tally.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...tally.labels }, value: tally.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** `registry.resetMetrics()`: every tally starts again from zero (the tallies the runtime holds stay valid). */
  reset(): void {
    for (const tally of this.tallies.values()) {
      tally.counts.fill(0);
      tally.sum = 0;
      tally.count = 0;
    }
  }

  /** For `registry.registerMetric`: the registry calls only `get`, `reset` and reads `name`. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
