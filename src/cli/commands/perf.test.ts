import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../errors.js';
import { LatencyHistogram } from '../histogram.js';
import { formatLoadTable, loadLimits } from './perf.js';

describe('perf limits', () => {
  test('--count, --duration, or the default count; not both', () => {
    assert.deepEqual(loadLimits({ count: 5 }), { count: 5 });
    assert.deepEqual(loadLimits({ duration: 1.5 }), { durationMs: 1500 });
    assert.deepEqual(loadLimits({}), { count: 100_000 });
    assert.throws(
      () => loadLimits({ count: 1, duration: 1 }),
      (e: unknown) => e instanceof UsageError && e.message === 'give --count or --duration, not both',
    );
  });
});

describe('formatLoadTable', () => {
  // Percentiles are bucket midpoints: 50 ms reads 50.05 and 99 ms reads 99.07 (within the 0.4% bound).
  test('records/s, MB/s (10^6 bytes) and latency percentiles in ms', () => {
    const latencyUs = new LatencyHistogram();
    for (let us = 1; us <= 100; us++) latencyUs.record(us * 1000);
    const table = formatLoadTable({ records: 100, bytes: 2_000_000, elapsedMs: 500, latencyUs });
    assert.equal(
      table,
      [
        'Records  Elapsed s  Records/s  MB/s  Avg ms  p50 ms  p95 ms  p99 ms  p99.9 ms  Max ms',
        '    100      0.500      200.0  4.00   50.50   50.05   94.98   99.07    100.00  100.00',
      ].join('\n'),
    );
  });

  test('nothing measured gives zeros, not NaN', () => {
    assert.equal(
      formatLoadTable({ records: 0, bytes: 0, elapsedMs: 0, latencyUs: new LatencyHistogram() }).split(
        '\n',
      )[1],
      '      0      0.000        0.0  0.00    0.00    0.00    0.00    0.00      0.00    0.00',
    );
  });
});
