import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import { assignReplicas, newPartitionRecords } from './assign-replicas.js';
import { InvalidPartitionsError, InvalidReplicationFactorError } from './errors.js';

describe('assignReplicas', () => {
  test('single broker', () => {
    assert.deepEqual(assignReplicas([0], 3, 1), [[0], [0], [0]]);
  });

  test('leaders round-robin; followers shift after every pass over the brokers', () => {
    assert.deepEqual(assignReplicas([2, 0, 1], 6, 2), [
      [0, 1],
      [1, 2],
      [2, 0],
      [0, 2],
      [1, 0],
      [2, 1],
    ]);
  });

  test('start index moves the first leader', () => {
    assert.deepEqual(assignReplicas([0, 1, 2], 2, 3, 1), [
      [1, 2, 0],
      [2, 0, 1],
    ]);
  });

  test('replicas are always distinct and leaders balanced', () => {
    const brokers = [0, 1, 2, 3, 4];
    for (let rf = 1; rf <= brokers.length; rf++) {
      const assignments = assignReplicas(brokers, 50, rf, 3);
      const leaders = new Map<number, number>();
      for (const replicas of assignments) {
        assert.equal(replicas.length, rf);
        assert.equal(new Set(replicas).size, rf);
        leaders.set(replicas[0]!, (leaders.get(replicas[0]!) ?? 0) + 1);
      }
      assert.deepEqual([...leaders.values()], [10, 10, 10, 10, 10]);
    }
  });

  test('not enough brokers → INVALID_REPLICATION_FACTOR', () => {
    const error = (() => {
      try {
        assignReplicas([0, 1], 1, 3);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof InvalidReplicationFactorError);
    assert.equal(error.code, ErrorCode.INVALID_REPLICATION_FACTOR);
    assert.equal(error.message, 'Replication factor: 3 larger than available brokers: 2.');
    assert.throws(() => assignReplicas([], 1, 1), InvalidReplicationFactorError);
    assert.throws(() => assignReplicas([0], 1, 0), InvalidReplicationFactorError);
    assert.throws(() => assignReplicas([0, 0], 1, 2), InvalidReplicationFactorError);
  });

  test('partition count must be positive', () => {
    assert.throws(() => assignReplicas([0], 0, 1), InvalidPartitionsError);
  });
});

test('newPartitionRecords', () => {
  assert.deepEqual(newPartitionRecords([[1, 2]], 4), [
    { partition: 4, replicas: [1, 2], leader: 1, leaderEpoch: 0, isr: [1, 2], partitionEpoch: 0 },
  ]);
});
