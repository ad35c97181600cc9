import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOpenFileLimit, partitionCapacity, readOpenFileLimit } from './partition-capacity.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                1048576              files
Max locked memory         8388608              8388608              bytes
`;

test('the soft open-file limit is read from /proc/<pid>/limits', async () => {
  assert.equal(parseOpenFileLimit(LIMITS), 20_000);
  assert.equal(parseOpenFileLimit(LIMITS.replace('20000  ', 'unlimited')), Number.POSITIVE_INFINITY);
  assert.equal(parseOpenFileLimit('nothing here'), Number.POSITIVE_INFINITY);
  assert.equal(await readOpenFileLimit('/nonexistent/limits'), Number.POSITIVE_INFINITY);
  if (process.platform === 'linux') assert.ok(Number.isInteger(await readOpenFileLimit()));
});

test('a quarter of the descriptors, at least 256, stays for everything but partitions', () => {
  assert.equal(partitionCapacity(20_000), 15_000);
  assert.equal(partitionCapacity(1_024), 768);
  assert.equal(partitionCapacity(300), 44);
  assert.equal(partitionCapacity(100), 0);
  assert.equal(partitionCapacity(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY);
});
