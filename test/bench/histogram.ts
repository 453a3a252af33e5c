/**
 * A latency histogram that can be merged across processes: 0.1 ms buckets below 100 ms, 1 ms buckets
 * up to 60 s, and exact min and max. Serializes to a sparse list of [bucket, count] pairs.
 */
const FINE_LIMIT_MS = 100;
const FINE_BUCKETS = FINE_LIMIT_MS * 10;
const MAX_MS = 60_000;

export interface HistogramData {
  readonly buckets: Array<[bucket: number, count: number]>;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  sum = 0;

  record(ms: number): void {
    this.add(bucketOf(ms), 1);
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  merge(data: HistogramData): void {
    for (const [bucket, count] of data.buckets) this.add(bucket, count);
    this.count += data.count;
    this.sum += data.sum;
    this.min = Math.min(this.min, data.min);
    this.max = Math.max(this.max, data.max);
  }

  /** The value at quantile q (0..1), as the upper edge of its bucket (capped by the exact max). */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)!;
      if (seen >= rank) return Math.min(upperEdgeOf(bucket), this.max);
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  toJSON(): HistogramData {
    return { buckets: [...this.counts], count: this.count, min: this.min, max: this.max, sum: this.sum };
  }

  private add(bucket: number, count: number): void {
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + count);
  }
}

/** Negative values (clock skew between processes) land in bucket 0. */
function bucketOf(ms: number): number {
  if (!(ms > 0)) return 0;
  if (ms < FINE_LIMIT_MS) return Math.floor(ms * 10);
  return FINE_BUCKETS + Math.floor(Math.min(ms, MAX_MS) - FINE_LIMIT_MS);
}

function upperEdgeOf(bucket: number): number {
  return bucket < FINE_BUCKETS ? (bucket + 1) / 10 : FINE_LIMIT_MS + (bucket - FINE_BUCKETS) + 1;
}

/** Quantile of a plain list of numbers (sorted in place). */
export function quantileOf(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))]!;
}
