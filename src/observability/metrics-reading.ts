/**
 * Where the health sampler reads the metrics it charts: a prom-client `Registry`, one metric at a time
 * by name. Kept structural, so this module depends on the shape of `getSingleMetric(name).get()` only
 * (a handful of metrics a second, no text parsing; one that fails to read does not hide the others).
 */
export interface MetricsSource {
  getSingleMetric(name: string): { get(): Promise<MetricJson> } | undefined;
}

/** One metric of `getMetricsAsJSON()`: a histogram lists its `_bucket` (with `le`), `_sum` and `_count` values. */
export interface MetricJson {
  readonly name: string;
  /**
   * `"histogram"` for one, which lists no values before its first observation under labels. (prom-client
   * types it as a numeric enum; at run time it is the string.)
   */
  readonly type?: unknown;
  readonly values: ReadonlyArray<{ readonly value: number; readonly labels: Readonly<Record<string, string | number | undefined>>; readonly metricName?: string }>;
}

/** A histogram summed over its labels: cumulative counts by upper bound (`le`, ascending, `Infinity` last), count and sum. */
export interface HistogramReading {
  readonly buckets: ReadonlyArray<readonly [le: number, cumulative: number]>;
  readonly count: number;
  readonly sum: number;
}

/**
 * When a reading was taken, on two clocks: the wall clock to show it (epoch ms), and a monotonic one
 * (`performance.now()`) to measure the time between two readings, for rates. The wall clock steps (NTP,
 * a VM resumed, an operator setting the time), and a rate over a stepped interval is off by orders of magnitude.
 */
export interface ReadingTime {
  readonly wall: number;
  readonly monotonic: number;
}

/** The registry at one moment: each counter's and gauge's values summed over labels, each histogram's buckets. */
export interface MetricsReading {
  readonly at: ReadingTime;
  readonly totals: ReadonlyMap<string, number>;
  readonly histograms: ReadonlyMap<string, HistogramReading>;
}

/** Sums every metric over its labels (the health view shows the whole server, not one entity type). */
export function readMetrics(metrics: readonly MetricJson[], at: ReadingTime): MetricsReading {
  const totals = new Map<string, number>();
  const histograms = new Map<string, HistogramReading>();
  for (const metric of metrics) {
    const isHistogram = metric.type === "histogram" || metric.values.some((entry) => entry.metricName === `${metric.name}_bucket`);
    if (isHistogram) histograms.set(metric.name, sumHistogram(metric));
    else totals.set(metric.name, metric.values.reduce((sum, entry) => sum + entry.value, 0));
  }
  return { at, totals, histograms };
}

function sumHistogram(metric: MetricJson): HistogramReading {
  const byBound = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const entry of metric.values) {
    if (entry.metricName === `${metric.name}_bucket`) {
      const le = entry.labels.le === "+Inf" ? Infinity : Number(entry.labels.le);
      byBound.set(le, (byBound.get(le) ?? 0) + entry.value);
    } else if (entry.metricName === `${metric.name}_count`) count += entry.value;
    else if (entry.metricName === `${metric.name}_sum`) sum += entry.value;
  }
  return { buckets: [...byBound].sort(([a], [b]) => a - b), count, sum };
}
