import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CoordinatorRecordError } from './errors.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeRecordKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from './records.js';

describe('record keys', () => {
  test('offset commit key layout: type 1, group, topic, partition', () => {
    const key = encodeOffsetCommitKey('g', 'tp', 7);
    assert.deepEqual(key, Buffer.from([0, 1, 0, 1, 0x67, 0, 2, 0x74, 0x70, 0, 0, 0, 7]));
    assert.deepEqual(decodeRecordKey(key), { type: 'offsetCommit', groupId: 'g', topic: 'tp', partition: 7 });
  });

  test('group metadata key layout: type 2, group', () => {
    const key = encodeGroupMetadataKey('gé');
    assert.deepEqual(key, Buffer.from([0, 2, 0, 3, 0x67, 0xc3, 0xa9]));
    assert.deepEqual(decodeRecordKey(key), { type: 'groupMetadata', groupId: 'gé' });
  });

  test('the same entity always gets byte-identical keys (compaction relies on it)', () => {
    assert.ok(
      encodeOffsetCommitKey('group', 'orders', 3).equals(encodeOffsetCommitKey('group', 'orders', 3)),
    );
    assert.ok(
      !encodeOffsetCommitKey('group', 'orders', 3).equals(encodeOffsetCommitKey('group', 'orders', 4)),
    );
    // A group key is never a prefix-equal of an offset key of the same group.
    assert.ok(!encodeGroupMetadataKey('group').equals(encodeOffsetCommitKey('group', '', 0).subarray(0, 9)));
  });

  test('rejects unknown types, truncation and trailing bytes', () => {
    assert.throws(() => decodeRecordKey(Buffer.from([0, 3, 0, 0])), CoordinatorRecordError);
    assert.throws(
      () => decodeRecordKey(encodeOffsetCommitKey('g', 't', 1).subarray(0, 10)),
      CoordinatorRecordError,
    );
    assert.throws(
      () => decodeRecordKey(Buffer.concat([encodeGroupMetadataKey('g'), Buffer.from([0])])),
      CoordinatorRecordError,
    );
  });
});

describe('record values', () => {
  test('offset commit value round trip', () => {
    const value = {
      offset: 2 ** 40 + 3,
      leaderEpoch: 5,
      metadata: 'meta 数据',
      commitTimestampMs: 1_700_000_000_123,
      expireTimestampMs: null,
    };
    assert.deepEqual(decodeOffsetCommitValue(encodeOffsetCommitValue(value)), value);
    const withExpiry = { ...value, leaderEpoch: -1, metadata: '', expireTimestampMs: 1_700_000_999_000 };
    assert.deepEqual(decodeOffsetCommitValue(encodeOffsetCommitValue(withExpiry)), withExpiry);
  });

  test('group metadata value round trip, members with all their protocols', () => {
    const value: GroupMetadataValue = {
      protocolType: 'consumer',
      generationId: 12,
      protocolName: 'range',
      leaderId: 'm1',
      currentStateTimestampMs: 1_700_000_000_000,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: 'instance-1',
          clientId: 'client',
          clientHost: '/10.0.0.1',
          rebalanceTimeoutMs: 300_000,
          sessionTimeoutMs: 45_000,
          protocols: [
            { name: 'range', metadata: Buffer.from([1, 2, 3]) },
            { name: 'roundrobin', metadata: Buffer.alloc(0) },
          ],
          assignment: Buffer.from([9, 9]),
        },
        {
          memberId: 'm2',
          groupInstanceId: null,
          clientId: '',
          clientHost: '/10.0.0.2',
          rebalanceTimeoutMs: 10_000,
          sessionTimeoutMs: 10_000,
          protocols: [{ name: 'range', metadata: Buffer.from([4]) }],
          assignment: Buffer.alloc(0),
        },
      ],
    };
    assert.deepEqual(decodeGroupMetadataValue(encodeGroupMetadataValue(value)), value);
    const empty: GroupMetadataValue = { ...value, protocolName: null, leaderId: null, members: [] };
    assert.deepEqual(decodeGroupMetadataValue(encodeGroupMetadataValue(empty)), empty);
    const simple: GroupMetadataValue = { ...empty, protocolType: null };
    assert.deepEqual(decodeGroupMetadataValue(encodeGroupMetadataValue(simple)), simple);
  });

  test('large groups round trip (the writer grows its buffer)', () => {
    const members = Array.from({ length: 200 }, (_, i) => ({
      memberId: `member-${i}-${'x'.repeat(i)}`,
      groupInstanceId: i % 2 === 0 ? `instance-${i}` : null,
      clientId: `client-${i}`,
      clientHost: `/10.0.${i}.1`,
      rebalanceTimeoutMs: i,
      sessionTimeoutMs: i * 2,
      protocols: [{ name: 'range', metadata: Buffer.alloc(i, i) }],
      assignment: Buffer.alloc(i * 3, 7),
    }));
    const value: GroupMetadataValue = {
      protocolType: 'consumer',
      generationId: 3,
      protocolName: 'range',
      leaderId: members[0]!.memberId,
      currentStateTimestampMs: 5,
      members,
    };
    const encoded = encodeGroupMetadataValue(value);
    assert.ok(encoded.length > 100_000);
    assert.deepEqual(decodeGroupMetadataValue(encoded), value);
  });

  test('rejects unknown versions, truncation and trailing bytes', () => {
    const encoded = encodeOffsetCommitValue({
      offset: 1,
      leaderEpoch: -1,
      metadata: '',
      commitTimestampMs: 0,
      expireTimestampMs: null,
    });
    assert.throws(
      () => decodeOffsetCommitValue(Buffer.concat([Buffer.from([1]), encoded.subarray(1)])),
      /version 1/,
    );
    assert.throws(
      () => decodeOffsetCommitValue(encoded.subarray(0, encoded.length - 1)),
      CoordinatorRecordError,
    );
    assert.throws(
      () => decodeOffsetCommitValue(Buffer.concat([encoded, Buffer.from([0])])),
      CoordinatorRecordError,
    );
    assert.throws(() => decodeGroupMetadataValue(Buffer.from([0, 0xff])), CoordinatorRecordError);
  });

  test('refuses to write values an int64 or int16 length cannot carry exactly', () => {
    const base = { leaderEpoch: -1, metadata: '', commitTimestampMs: 0, expireTimestampMs: null };
    assert.throws(() => encodeOffsetCommitValue({ ...base, offset: 2 ** 60 }), RangeError);
    assert.throws(() => encodeGroupMetadataKey('x'.repeat(40_000)), RangeError);
  });
});
