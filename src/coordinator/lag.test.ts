import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeLag } from './lag.js';

test('computeLag: high watermark minus committed offset, per partition', () => {
  const highWatermarks = new Map([
    [
      'orders',
      new Map([
        [0, 120],
        [1, 50],
      ]),
    ],
    ['audit', new Map([[0, 10]])],
  ]);
  const rows = computeLag(
    [
      { topic: 'orders', partition: 0, offset: 100 },
      { topic: 'orders', partition: 1, offset: 50 },
      { topic: 'audit', partition: 0, offset: 12 },
      { topic: 'orders', partition: 2, offset: 5 },
      { topic: 'audit', partition: 0, offset: -1 },
    ],
    highWatermarks,
  );
  assert.deepEqual(rows, [
    { topic: 'orders', partition: 0, committedOffset: 100, highWatermark: 120, lag: 20 },
    { topic: 'orders', partition: 1, committedOffset: 50, highWatermark: 50, lag: 0 },
    { topic: 'audit', partition: 0, committedOffset: 12, highWatermark: 10, lag: 0 },
    { topic: 'orders', partition: 2, committedOffset: 5, highWatermark: -1, lag: null },
    { topic: 'audit', partition: 0, committedOffset: -1, highWatermark: 10, lag: null },
  ]);
});
