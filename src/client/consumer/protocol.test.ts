import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from './protocol.js';

const { AssignerProtocol } = kafkajs;

describe('consumer protocol subscription', () => {
  test('v3 round trip with owned partitions, generation and rack', () => {
    const subscription = {
      version: 3,
      topics: ['orders', 'payments'],
      userData: Buffer.from([1, 2, 3]),
      ownedPartitions: [{ topic: 'orders', partitions: [0, 4] }],
      generationId: 17,
      rackId: 'rack-a',
    };
    assert.deepEqual(decodeSubscription(encodeSubscription(subscription)), subscription);
  });

  test('exact v1 bytes: int16 version prefix, then topics, user data, owned partitions', () => {
    const bytes = encodeSubscription({
      version: 1,
      topics: ['t'],
      userData: null,
      ownedPartitions: [{ topic: 't', partitions: [2] }],
      generationId: 9,
      rackId: null,
    });
    assert.equal(
      bytes.toString('hex'),
      ['0001', '00000001', '0001', '74', 'ffffffff', '00000001', '0001', '74', '00000001', '00000002'].join(
        '',
      ),
    );
  });

  test('v0 with empty user data is byte-identical to what kafkajs sends', () => {
    const ours = encodeSubscription({
      version: 0,
      topics: ['topic-a', 'topic-b'],
      userData: Buffer.alloc(0),
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    });
    const theirs = AssignerProtocol.MemberMetadata.encode({
      version: 0,
      topics: ['topic-a', 'topic-b'],
      userData: Buffer.alloc(0), // the default kafkajs's RoundRobinAssigner relies on
    });
    assert.deepEqual(ours, theirs);
    assert.deepEqual(decodeSubscription(theirs), {
      version: 0,
      topics: ['topic-a', 'topic-b'],
      userData: Buffer.alloc(0),
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    });
  });

  test('kafkajs reads our v3 subscription through its v0 prefix', () => {
    const ours = encodeSubscription({
      version: 3,
      topics: ['x'],
      userData: null,
      ownedPartitions: [{ topic: 'x', partitions: [1] }],
      generationId: 2,
      rackId: null,
    });
    const decoded = AssignerProtocol.MemberMetadata.decode(ours);
    assert.deepEqual({ version: decoded?.version, topics: decoded?.topics }, { version: 3, topics: ['x'] });
  });

  test('a version newer than we know is read as the newest we know', () => {
    const v3 = encodeSubscription({
      version: 3,
      topics: ['x'],
      userData: null,
      ownedPartitions: [],
      generationId: 4,
      rackId: 'r',
    });
    const future = Buffer.concat([v3, Buffer.from([0, 0, 0, 0])]);
    future.writeInt16BE(5, 0);
    const decoded = decodeSubscription(future);
    assert.equal(decoded.version, 5);
    assert.deepEqual(decoded.topics, ['x']);
    assert.equal(decoded.generationId, 4);
    assert.equal(decoded.rackId, 'r');
  });
});

describe('consumer protocol assignment', () => {
  test('round trip', () => {
    const assignment = {
      version: 3,
      assignedPartitions: [
        { topic: 'a', partitions: [0, 2] },
        { topic: 'b', partitions: [1] },
      ],
      userData: null,
    };
    assert.deepEqual(decodeAssignment(encodeAssignment(assignment)), assignment);
  });

  test('reads what a kafkajs leader sends, and kafkajs reads ours', () => {
    const theirs = AssignerProtocol.MemberAssignment.encode({
      version: 0,
      assignment: { t: [0, 3], u: [1] },
      userData: Buffer.alloc(0),
    });
    assert.deepEqual(decodeAssignment(theirs), {
      version: 0,
      assignedPartitions: [
        { topic: 't', partitions: [0, 3] },
        { topic: 'u', partitions: [1] },
      ],
      userData: Buffer.alloc(0),
    });
    const ours = encodeAssignment({
      version: 0,
      assignedPartitions: [{ topic: 't', partitions: [0, 3] }],
      userData: Buffer.alloc(0),
    });
    assert.deepEqual(
      ours,
      AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: { t: [0, 3] },
        userData: Buffer.alloc(0),
      }),
    );
    assert.deepEqual(AssignerProtocol.MemberAssignment.decode(ours)?.assignment, { t: [0, 3] });
  });

  test('an empty assignment (member given nothing) decodes to no partitions', () => {
    assert.deepEqual(decodeAssignment(Buffer.alloc(0)), {
      version: 0,
      assignedPartitions: [],
      userData: null,
    });
  });
});
