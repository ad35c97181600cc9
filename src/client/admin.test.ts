import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConsumerProtocolAssignmentCodec } from '../protocol/generated/index.js';
import { Writer } from '../protocol/primitives/writer.js';
import { decodeConsumerAssignment } from './admin.js';

function assignmentBytes(version: number, topics: { topic: string; partitions: number[] }[]): Buffer {
  const w = new Writer();
  w.writeInt16(version);
  ConsumerProtocolAssignmentCodec.encode(
    w,
    { assignedPartitions: topics, userData: null },
    Math.min(version, ConsumerProtocolAssignmentCodec.maxVersion),
  );
  return w.toBuffer();
}

describe('decodeConsumerAssignment', () => {
  const topics = [
    { topic: 'orders', partitions: [0, 2] },
    { topic: 'payments', partitions: [1] },
  ];

  test('reads the version prefix and the assignment of each known version', () => {
    for (const version of [0, 1, 2, 3]) {
      assert.deepEqual(decodeConsumerAssignment(assignmentBytes(version, topics)), topics, `v${version}`);
    }
  });

  test('reads a newer version through the fields it shares with the newest known one', () => {
    const bytes = assignmentBytes(3, topics);
    bytes.writeInt16BE(7, 0);
    assert.deepEqual(decodeConsumerAssignment(bytes), topics);
  });

  test('an empty assignment (member not yet synced) is no partitions; garbage is null', () => {
    assert.deepEqual(decodeConsumerAssignment(Buffer.alloc(0)), []);
    assert.equal(decodeConsumerAssignment(Buffer.from([0, 0, 0, 0, 0, 9])), null);
    assert.equal(decodeConsumerAssignment(Buffer.from([0xff, 0xff, 0, 0, 0, 0])), null);
  });
});
