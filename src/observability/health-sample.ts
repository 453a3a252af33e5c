import type { HistogramReading, MetricsReading } from "./metrics-reading.js";

/** Two percentiles of a latency, in ms; null when nothing was observed in the interval. */
export interface LatencyPercentiles {
  readonly p50: number | null;
  readonly p99: number | null;
}

/**
 * The server over one sampling interval: rates and percentiles from what changed in it (not since
 * start), gauges as they were at its end. A value is null when its metric is not registered or could
 * not be read (at either end of the interval, for a rate or percentile), and a percentile or mean when
 * nothing was observed in the interval.
 */
export interface HealthSample {
  /** End of the interval, epoch ms (for display: the interval's length is measured on a monotonic clock). */
  readonly t: number;
  readonly operationsPerSecond: number | null;
  readonly operationLatencyMs: LatencyPercentiles;
  readonly commitLatencyMs: LatencyPercentiles;
  /** Mean operations per committed tick. */
  readonly batchSize: number | null;
  readonly mailboxDepth: number | null;
  readonly connections: number | null;
  readonly subscriptions: number | null;
  readonly orchestrationsStartedPerSecond: number | null;
  readonly orchestrationsFinishedPerSecond: number | null;
}

/** The metric names a sample reads (see src/observability/metrics.ts). */
export const HEALTH_METRICS = {
  operations: "durable_entities_operations_total",
  operationDuration: "durable_entities_operation_duration_seconds",
  commitDuration: "durable_entities_commit_duration_seconds",
  batchOperations: "durable_entities_batch_operations",
  mailboxDepth: "durable_entities_mailbox_depth",
  connections: "durable_entities_connections",
  subscriptions: "durable_entities_subscriptions",
  orchestrationsStarted: "durable_entities_orchestrations_started_total",
  orchestrationsFinished: "durable_entities_orchestrations_finished_total",
} as const;

/** The sample for the interval from `before` to `after`, two readings of the same registry. */
export function healthSample(before: MetricsReading, after: MetricsReading): HealthSample {
  const seconds = Math.max(0.001, (after.at.monotonic - before.at.monotonic) / 1000);
  const rate = (name: string) => {
    const increase = counterIncrease(before.totals.get(name), after.totals.get(name));
    return increase === undefined ? null : round(increase / seconds);
  };
  const gauge = (name: string) => after.totals.get(name) ?? null;
  const latency = (name: string) => {
    const delta = histogramIncrease(before.histograms.get(name), after.histograms.get(name));
    const percentile = (q: number) => millis(delta === undefined ? undefined : quantile(q, delta));
    return { p50: percentile(0.5), p99: percentile(0.99) };
  };
  const batches = histogramIncrease(before.histograms.get(HEALTH_METRICS.batchOperations), after.histograms.get(HEALTH_METRICS.batchOperations));
  return {
    t: after.at.wall,
    operationsPerSecond: rate(HEALTH_METRICS.operations),
    operationLatencyMs: latency(HEALTH_METRICS.operationDuration),
    commitLatencyMs: latency(HEALTH_METRICS.commitDuration),
    batchSize: batches === undefined || batches.count === 0 ? null : round(batches.sum / batches.count),
    mailboxDepth: gauge(HEALTH_METRICS.mailboxDepth),
    connections: gauge(HEALTH_METRICS.connections),
    subscriptions: gauge(HEALTH_METRICS.subscriptions),
    orchestrationsStartedPerSecond: rate(HEALTH_METRICS.orchestrationsStarted),
    orchestrationsFinishedPerSecond: rate(HEALTH_METRICS.orchestrationsFinished),
  };
}

/**
 * How much a counter grew; a counter that went down was reset (a new registry), so all it holds is new.
 * Unknown when either reading lacks it (not registered, or it failed to read): the whole count is not
 * this interval's.
 */
function counterIncrease(before: number | undefined, after: number | undefined): number | undefined {
  if (after === undefined || before === undefined) return undefined;
  if (after < before) return after;
  return after - before;
}

/** The observations of the interval alone: each bucket's growth (the whole histogram after a reset); unknown when either reading lacks it. */
export function histogramIncrease(before: HistogramReading | undefined, after: HistogramReading | undefined): HistogramReading | undefined {
  if (after === undefined || before === undefined) return undefined;
  if (after.count < before.count) return after;
  const earlier = new Map(before.buckets);
  return {
    buckets: after.buckets.map(([le, cumulative]) => [le, Math.max(0, cumulative - (earlier.get(le) ?? 0))] as const),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/**
 * The `q` quantile of a histogram's observations, as Prometheus's `histogram_quantile` estimates it:
 * linear within the bucket the rank falls in (from 0 for the first); in the `+Inf` bucket, the highest
 * finite bound. Undefined when it holds no observations.
 */
export function quantile(q: number, histogram: HistogramReading): number | undefined {
  const total = histogram.buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let below = 0;
  for (const [le, cumulative] of histogram.buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return lowerBound;
      if (cumulative === below) return le;
      return lowerBound + ((le - lowerBound) * (rank - below)) / (cumulative - below);
    }
    lowerBound = le;
    below = cumulative;
  }
  return lowerBound;
}

function millis(seconds: number | undefined): number | null {
  return seconds === undefined ? null : round(seconds * 1000);
}

/** Four significant digits are plenty for a chart (operations take microseconds, so not fixed decimals), and keep ten minutes of samples small. */
function round(value: number): number {
  return Number(value.toPrecision(4));
}
