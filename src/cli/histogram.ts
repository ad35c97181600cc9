// A fixed-size log-linear histogram for latencies, in the spirit of HdrHistogram: values below 2^SUB_BUCKET_BITS
// are counted exactly; above that, each power of two is cut into 2^SUB_BUCKET_BITS equal buckets. A bucket is
// at most 1/128 of its lower bound wide, and percentiles report the bucket's midpoint, so a reported value is
// within 0.4% of the true one (always within the bound the perf table promises: 1%). Recording is O(1) with no
// allocation; memory is fixed (about 26 KiB).

const SUB_BUCKET_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
/** Values are whole numbers below 2^32 (with microseconds: about 71 minutes); larger values are clamped. */
const VALUE_BITS = 32;
export const HISTOGRAM_MAX_VALUE = 2 ** VALUE_BITS - 1;
const BUCKETS = SUB_BUCKETS + (VALUE_BITS - SUB_BUCKET_BITS) * SUB_BUCKETS;

/** The relative error bound of a reported percentile for values of at least 2^SUB_BUCKET_BITS. */
export const HISTOGRAM_RELATIVE_ERROR = 1 / (2 * SUB_BUCKETS);

/** Bucket of a whole number in [0, 2^32). */
function bucketOf(value: number): number {
  if (value < SUB_BUCKETS) return value;
  const magnitude = 31 - Math.clz32(value);
  const shift = magnitude - SUB_BUCKET_BITS;
  return SUB_BUCKETS + shift * SUB_BUCKETS + ((value >>> shift) - SUB_BUCKETS);
}

/** [lowest, highest] value counted in a bucket. */
function bucketRange(bucket: number): [number, number] {
  if (bucket < SUB_BUCKETS) return [bucket, bucket];
  const shift = Math.floor((bucket - SUB_BUCKETS) / SUB_BUCKETS);
  const sub = (bucket - SUB_BUCKETS) % SUB_BUCKETS;
  const lowest = (SUB_BUCKETS + sub) * 2 ** shift;
  return [lowest, lowest + 2 ** shift - 1];
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private lowest = Number.POSITIVE_INFINITY;
  private highest = 0;

  /** Counts one value (a whole number ≥ 0; fractions are rounded, values above HISTOGRAM_MAX_VALUE clamped). */
  record(value: number): void {
    const clamped = Math.min(HISTOGRAM_MAX_VALUE, Math.max(0, Math.round(value)));
    this.counts[bucketOf(clamped)]! += 1;
    this.total += 1;
    this.sum += clamped;
    if (clamped < this.lowest) this.lowest = clamped;
    if (clamped > this.highest) this.highest = clamped;
  }

  get count(): number {
    return this.total;
  }

  /** Exact smallest value recorded; 0 when empty. */
  get min(): number {
    return this.total === 0 ? 0 : this.lowest;
  }

  /** Exact largest value recorded; 0 when empty. */
  get max(): number {
    return this.highest;
  }

  /** Exact mean of the recorded (rounded, clamped) values; 0 when empty. */
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /**
   * The nearest-rank percentile (the value at rank ⌈p/100 · count⌉), within HISTOGRAM_RELATIVE_ERROR; 0 when
   * empty. p in [0, 100].
   */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], not ${p}`);
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    // The extremes are known exactly.
    if (rank === 1) return this.lowest;
    if (rank === this.total) return this.highest;
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank) {
        const [lowest, highest] = bucketRange(bucket);
        const midpoint = Math.round((lowest + highest) / 2);
        return Math.min(this.highest, Math.max(this.lowest, midpoint));
      }
    }
    return this.highest;
  }
}
