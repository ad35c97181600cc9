import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PerfTableError, parsePerfTable } from './perf-table.js';

describe('parsePerfTable', () => {
  test('reads every column of the row under the header', () => {
    const figures = parsePerfTable([
      'Records  Elapsed s  Records/s    MB/s  Avg ms  p50 ms  p95 ms  p99 ms  p99.9 ms  Max ms',
      ' 500000      1.912   261506.2  267.78    3.10    2.95    5.01    7.40     12.20   20.00',
    ]);
    assert.deepEqual(figures, {
      records: 500_000,
      elapsedSeconds: 1.912,
      recordsPerSecond: 261_506.2,
      megabytesPerSecond: 267.78,
      latencyMs: {
        'Avg ms': 3.1,
        'p50 ms': 2.95,
        'p95 ms': 5.01,
        'p99 ms': 7.4,
        'p99.9 ms': 12.2,
        'Max ms': 20,
      },
    });
  });

  test('skips lines before the header', () => {
    const figures = parsePerfTable([
      'some notice',
      'Records  Elapsed s  Records/s  MB/s',
      '     10      0.500       20.0  0.02',
    ]);
    assert.equal(figures.recordsPerSecond, 20);
    assert.deepEqual(figures.latencyMs, {});
  });

  test('fails without a table, with a short row, or with a non-number', () => {
    assert.throws(() => parsePerfTable(['error: topic not found']), PerfTableError);
    assert.throws(
      () => parsePerfTable(['Records  Elapsed s  Records/s  MB/s', '10  0.5  20.0']),
      /does not match its header/,
    );
    assert.throws(
      () => parsePerfTable(['Records  Elapsed s  Records/s  MB/s', '10  0.5  fast  0.02']),
      /does not match its header/,
    );
  });
});
