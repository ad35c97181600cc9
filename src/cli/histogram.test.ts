import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { HISTOGRAM_MAX_VALUE, HISTOGRAM_RELATIVE_ERROR, LatencyHistogram } from './histogram.js';

/** The nearest-rank percentile of a list: the value at rank ⌈p/100 · n⌉ of the sorted list. */
function exactPercentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function histogramOf(values: readonly number[]): LatencyHistogram {
  const histogram = new LatencyHistogram();
  for (const value of values) histogram.record(value);
  return histogram;
}

function assertWithinBound(actual: number, expected: number, label: string): void {
  // Below 128 values are exact; above, the bound is relative (plus the rounding to a whole number).
  const allowed = expected * HISTOGRAM_RELATIVE_ERROR + 0.5;
  assert.ok(
    Math.abs(actual - expected) <= allowed,
    `${label}: ${actual} is not within ${allowed.toFixed(2)} of ${expected}`,
  );
}

const PERCENTILES = [0, 1, 50, 90, 95, 99, 99.9, 99.99, 100];

describe('LatencyHistogram', () => {
  test('an empty histogram reports zeros', () => {
    const histogram = new LatencyHistogram();
    assert.equal(histogram.count, 0);
    assert.equal(histogram.min, 0);
    assert.equal(histogram.max, 0);
    assert.equal(histogram.mean, 0);
    assert.equal(histogram.percentile(99), 0);
  });

  test('values below 128 are exact', () => {
    const values = Array.from({ length: 128 }, (_, i) => i);
    const histogram = histogramOf(values);
    for (const p of PERCENTILES) assert.equal(histogram.percentile(p), exactPercentile(values, p), `p${p}`);
    assert.equal(histogram.percentile(50), 63);
    assert.equal(histogram.min, 0);
    assert.equal(histogram.max, 127);
    assert.equal(histogram.mean, 63.5);
  });

  test('uniform 1..100000: percentiles within the error bound, min/max/mean exact', () => {
    const values = Array.from({ length: 100_000 }, (_, i) => i + 1);
    const histogram = histogramOf(values);
    for (const p of PERCENTILES)
      assertWithinBound(histogram.percentile(p), exactPercentile(values, p), `p${p}`);
    assert.equal(histogram.count, 100_000);
    assert.equal(histogram.min, 1);
    assert.equal(histogram.max, 100_000);
    assert.equal(histogram.mean, 50_000.5);
    // The bound is tighter than the 1% the perf table promises.
    assert.ok(HISTOGRAM_RELATIVE_ERROR < 0.01);
  });

  test('a long-tailed (exponential) distribution: percentiles within the bound', () => {
    // Deterministic pseudo-random values (a linear congruential generator), so a failure can be replayed.
    let state = 12345;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return (state + 1) / (2 ** 31 + 1);
    };
    const values = Array.from({ length: 50_000 }, () => Math.round(-Math.log(random()) * 2_000));
    const histogram = histogramOf(values);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of PERCENTILES)
      assertWithinBound(histogram.percentile(p), exactPercentile(sorted, p), `p${p}`);
  });

  test('any list of values: every percentile within the bound (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: HISTOGRAM_MAX_VALUE }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (values, p) => {
          const sorted = [...values].sort((a, b) => a - b);
          assertWithinBound(histogramOf(values).percentile(p), exactPercentile(sorted, p), `p${p}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('values are rounded and clamped to [0, HISTOGRAM_MAX_VALUE]', () => {
    const histogram = histogramOf([-5, 2.6, HISTOGRAM_MAX_VALUE * 4]);
    assert.equal(histogram.min, 0);
    assert.equal(histogram.percentile(50), 3);
    assert.equal(histogram.max, HISTOGRAM_MAX_VALUE);
    assert.equal(histogram.percentile(100), HISTOGRAM_MAX_VALUE);
  });

  test('a percentile outside [0, 100] is a RangeError', () => {
    assert.throws(() => new LatencyHistogram().percentile(101), RangeError);
    assert.throws(() => new LatencyHistogram().percentile(Number.NaN), RangeError);
  });
});
