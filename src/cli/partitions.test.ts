import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandFailedError } from './errors.js';
import { choosePartitions } from './partitions.js';

test('named partitions once each and in order, else all the topic has', () => {
  assert.deepEqual(choosePartitions('t', [0, 1, 2, 3], [3, 1, 3]), [1, 3]);
  assert.deepEqual(choosePartitions('t', [2, 0, 1], undefined), [0, 1, 2]);
});

test('a partition the topic lacks fails the command', () => {
  assert.throws(
    () => choosePartitions('orders', [0, 1], [1, 4]),
    (error) =>
      error instanceof CommandFailedError &&
      error.message === "topic 'orders' has no partition 4 (it has 2 partitions)",
  );
});
