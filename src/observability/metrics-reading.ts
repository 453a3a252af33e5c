/**
 * What the health sampler needs of a prom-client `Registry`: its metrics as JSON. Kept structural, so
 * this module depends on the shape of `getMetricsAsJSON()` only (one reading a second, no text parsing).
 */
export interface MetricsSource {
  getMetricsAsJSON(): Promise<readonly MetricJson[]>;
}

/** One metric of `getMetricsAsJSON()`: a histogram lists its `_bucket` (with `le`), `_sum` and `_count` values. */
export interface MetricJson {
  readonly name: string;
  readonly values: ReadonlyArray<{ readonly value: number; readonly labels: Readonly<Record<string, string | number | undefined>>; readonly metricName?: string }>;
}

/** A histogram summed over its labels: cumulative counts by upper bound (`le`, ascending, `Infinity` last), count and sum. */
export interface HistogramReading {
  readonly buckets: ReadonlyArray<readonly [le: number, cumulative: number]>;
  readonly count: number;
  readonly sum: number;
}

/** The registry at one moment: each counter's and gauge's values summed over labels, each histogram's buckets. */
export interface MetricsReading {
  /** Epoch ms. */
  readonly at: number;
  readonly totals: ReadonlyMap<string, number>;
  readonly histograms: ReadonlyMap<string, HistogramReading>;
}

/** Sums every metric over its labels (the health view shows the whole server, not one entity type). */
export function readMetrics(metrics: readonly MetricJson[], at: number): MetricsReading {
  const totals = new Map<string, number>();
  const histograms = new Map<string, HistogramReading>();
  for (const metric of metrics) {
    const isHistogram = metric.values.some((entry) => entry.metricName === `${metric.name}_bucket`);
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
