import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ReceivedGarbageCollector } from './received-garbage.js';

test('a minor collection runs once per threshold of bytes received, after the current turn', async () => {
  const calls: unknown[] = [];
  const collector = new ReceivedGarbageCollector(100, (options) => calls.push(options));
  collector.received(60);
  collector.received(60);
  assert.deepEqual(calls, [], 'not in the middle of the reads');
  await nextTurn();
  assert.deepEqual(calls, [{ type: 'minor' }]);
  collector.received(99);
  await nextTurn();
  assert.equal(calls.length, 1);
  collector.received(1);
  collector.received(500);
  await nextTurn();
  assert.equal(calls.length, 2, 'one collection however far past the threshold');
});
