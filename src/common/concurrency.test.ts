import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachConcurrently } from './concurrency.js';

test('every item once, in start order, never more than the limit at a time', async () => {
  const started: number[] = [];
  let running = 0;
  let peak = 0;
  await forEachConcurrently([5, 1, 4, 2, 3, 0, 6], 3, async (item) => {
    started.push(item);
    running++;
    peak = Math.max(peak, running);
    await sleep(item);
    running--;
  });
  assert.deepEqual(started, [5, 1, 4, 2, 3, 0, 6]);
  assert.equal(peak, 3);
  await forEachConcurrently([], 3, async () => assert.fail('no item'));
});

test('the first failure rejects', async () => {
  await assert.rejects(
    forEachConcurrently([1, 2, 3], 2, async (item) => {
      if (item === 2) throw new Error('two');
    }),
    /two/,
  );
});
