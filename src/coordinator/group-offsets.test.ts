import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupOffsets } from './group-offsets.js';

const value = (offset: number, commitTimestampMs = 0, expireTimestampMs: number | null = null) => ({
  offset,
  leaderEpoch: -1,
  metadata: '',
  commitTimestampMs,
  expireTimestampMs,
});

describe('GroupOffsets', () => {
  test('a staged commit is pending until its append completes', () => {
    const offsets = new GroupOffsets();
    const sequence = offsets.stage('t', 0);
    assert.equal(offsets.hasPending('t', 0), true);
    assert.equal(offsets.hasOffsets, true);
    assert.equal(offsets.get('t', 0), undefined);
    offsets.complete('t', 0, sequence, value(10));
    assert.equal(offsets.hasPending('t', 0), false);
    assert.deepEqual(offsets.get('t', 0), value(10));
    assert.equal(offsets.size, 1);
  });

  test('a late completion of an older commit does not overwrite a newer one', () => {
    const offsets = new GroupOffsets();
    const first = offsets.stage('t', 0);
    const second = offsets.stage('t', 0);
    offsets.complete('t', 0, second, value(20));
    offsets.complete('t', 0, first, value(10));
    assert.equal(offsets.get('t', 0)?.offset, 20);
    assert.equal(offsets.hasPending('t', 0), false);
  });

  test('a failed commit leaves the previous offset', () => {
    const offsets = new GroupOffsets();
    offsets.load('t', 0, value(5));
    offsets.stage('t', 0);
    offsets.fail('t', 0);
    assert.equal(offsets.get('t', 0)?.offset, 5);
    assert.equal(offsets.hasPending('t', 0), false);
  });

  test('a commit in flight when its offset is removed does not come back', () => {
    const offsets = new GroupOffsets();
    offsets.load('t', 0, value(5));
    const before = offsets.stage('t', 0);
    assert.equal(offsets.remove('t', 0), true);
    assert.equal(offsets.hasPending('t', 0), false, 'the overridden commit no longer counts as pending');
    const after = offsets.stage('t', 0);
    offsets.complete('t', 0, before, value(6));
    assert.equal(offsets.get('t', 0), undefined);
    offsets.complete('t', 0, after, value(7));
    assert.equal(offsets.get('t', 0)?.offset, 7);
  });

  test('removeAll reports committed partitions and overrides in-flight commits', () => {
    const offsets = new GroupOffsets();
    offsets.load('a', 0, value(1));
    offsets.load('b', 2, value(2));
    const inFlight = offsets.stage('a', 1);
    assert.deepEqual(offsets.removeAll(), [
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 2 },
    ]);
    offsets.complete('a', 1, inFlight, value(3));
    assert.equal(offsets.get('a', 1), undefined);
    assert.equal(offsets.hasOffsets, false);
  });

  test('removeExpired honours base time, explicit expiry, kept topics and pending commits', () => {
    const offsets = new GroupOffsets();
    offsets.load('old', 0, value(1, 1000));
    offsets.load('new', 0, value(1, 5000));
    offsets.load('explicit', 0, value(1, 9000, 6000));
    offsets.load('kept', 0, value(1, 0));
    offsets.load('busy', 0, value(1, 0));
    offsets.stage('busy', 0);
    const expired = offsets.removeExpired(6000, 5000, (o) => o.commitTimestampMs, new Set(['kept']));
    assert.deepEqual(expired, [
      { topic: 'old', partition: 0 },
      { topic: 'explicit', partition: 0 },
    ]);
    assert.deepEqual(
      [...offsets.topics()].map(([topic]) => topic),
      ['new', 'kept', 'busy'],
    );
  });
});
