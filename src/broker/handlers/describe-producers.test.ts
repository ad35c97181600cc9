import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeProducersApi, type DescribeProducersResponse } from '../../protocol/generated/index.js';
import { makeBatch } from '../../storage/test-support.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { allowOnly } from './authorizer-test-support.js';
import {
  type DataPathBroker,
  recordingVerifier,
  startDataPath,
  transactionalBatch,
} from './data-path-test-support.js';
import { advertisedVersions, callApi } from './test-support.js';

const TOPIC = 'orders';
const T = 1_700_000_000_000;

type ProducerState =
  DescribeProducersResponse['topics'][number]['partitions'][number]['activeProducers'][number];

function describeProducers(broker: DataPathBroker, topics: { name: string; partitionIndexes: number[] }[]) {
  return callApi(broker.dispatch, DescribeProducersApi, 0, { topics });
}

const partition = (partitionIndex: number, errorCode: number, activeProducers: ProducerState[] = []) => ({
  partitionIndex,
  errorCode,
  errorMessage: null,
  activeProducers,
});

function producer(
  producerId: number,
  producerEpoch: number,
  lastSequence: number,
  lastTimestamp: number,
  coordinatorEpoch: number,
  currentTxnStartOffset: number,
): ProducerState {
  return {
    producerId: BigInt(producerId),
    producerEpoch,
    lastSequence,
    lastTimestamp: BigInt(lastTimestamp),
    coordinatorEpoch,
    currentTxnStartOffset: BigInt(currentTxnStartOffset),
  };
}

describe('DescribeProducers', () => {
  let broker: DataPathBroker;
  before(async () => {
    broker = await startDataPath([
      { name: TOPIC, partitions: 2 },
      { name: 'followed', partitions: 1, placement: 'follower' },
      { name: 'remote', partitions: 1, placement: 'elsewhere' },
    ]);
    broker.replicaManager.setTransactionVerifier(recordingVerifier(ErrorCode.NONE));
  });
  after(async () => {
    await broker.close();
  });

  const append = async (records: Buffer) => {
    const outcome = await broker.replicaManager.appendRecords(TOPIC, 0, records, -1, 9, 'tx');
    assert.equal(outcome.errorCode, ErrorCode.NONE);
  };

  test('is advertised at version 0 only', async () => {
    assert.deepEqual(await advertisedVersions(broker.dispatch, [61]), [[61, 0, 0]]);
  });

  test("each producer's epoch, last sequence and timestamp, and the start of its open transaction", async () => {
    await append(makeBatch({ records: 3, producerId: 9, producerEpoch: 0, timestampMs: T }));
    await append(makeBatch({ records: 1 }));
    await append(
      transactionalBatch({
        records: 2,
        producerId: 7,
        producerEpoch: 2,
        baseSequence: 0,
        timestampMs: T + 50,
      }),
    );
    const response = await describeProducers(broker, [{ name: TOPIC, partitionIndexes: [0, 1] }]);
    assert.deepEqual(response, {
      throttleTimeMs: 0,
      topics: [
        {
          name: TOPIC,
          partitions: [
            partition(0, ErrorCode.NONE, [
              producer(7, 2, 1, T + 51, -1, 4),
              producer(9, 0, 2, T + 2, -1, -1),
            ]),
            partition(1, ErrorCode.NONE),
          ],
        },
      ],
    });
  });

  test('a marker ends the open transaction and records its coordinator epoch', async () => {
    const beforeMs = Date.now();
    const marker = { producerId: 7, producerEpoch: 2, coordinatorEpoch: 5, commit: true };
    assert.equal(await broker.replicaManager.writeTransactionMarker(TOPIC, 0, marker), ErrorCode.NONE);
    const afterMs = Date.now();
    const response = await describeProducers(broker, [{ name: TOPIC, partitionIndexes: [0] }]);
    const [transactional, idempotent] = response.topics[0]!.partitions[0]!.activeProducers;
    // The marker's timestamp is when it was written.
    const markerMs = Number(transactional!.lastTimestamp);
    assert.ok(markerMs >= beforeMs && markerMs <= afterMs, `${markerMs} in [${beforeMs}, ${afterMs}]`);
    assert.deepEqual(
      [transactional, idempotent],
      [producer(7, 2, 1, markerMs, 5, -1), producer(9, 0, 2, T + 2, -1, -1)],
    );
  });

  test('unknown topics and partitions, partitions hosted elsewhere; a follower answers too', async () => {
    const response = await describeProducers(broker, [
      { name: 'missing', partitionIndexes: [0] },
      { name: TOPIC, partitionIndexes: [2, -1] },
      { name: 'remote', partitionIndexes: [0] },
      { name: 'followed', partitionIndexes: [0] },
    ]);
    assert.deepEqual(response.topics, [
      { name: 'missing', partitions: [partition(0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)] },
      {
        name: TOPIC,
        partitions: [
          partition(2, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
          partition(-1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        ],
      },
      { name: 'remote', partitions: [partition(0, ErrorCode.NOT_LEADER_OR_FOLLOWER)] },
      { name: 'followed', partitions: [partition(0, ErrorCode.NONE)] },
    ]);
    assert.deepEqual(broker.errors, []);
  });
});

describe('DescribeProducers with an authorizer', () => {
  const READ = AclOperation.READ;
  const authorizer = allowOnly([[READ, ResourceType.TOPIC, TOPIC]]);
  let broker: DataPathBroker;
  before(async () => {
    broker = await startDataPath(
      [
        { name: TOPIC, partitions: 1 },
        { name: 'secret', partitions: 1 },
      ],
      { authorizer },
    );
  });
  after(async () => {
    await broker.close();
  });

  test('a topic without READ: TOPIC_AUTHORIZATION_FAILED; an illegal name is INVALID_TOPIC_EXCEPTION first', async () => {
    const response = await describeProducers(broker, [
      { name: TOPIC, partitionIndexes: [0] },
      { name: 'secret', partitionIndexes: [0, 5] },
      { name: 'missing', partitionIndexes: [0] },
      { name: 'bad/name', partitionIndexes: [0] },
    ]);
    assert.deepEqual(response.topics, [
      { name: TOPIC, partitions: [partition(0, ErrorCode.NONE)] },
      {
        name: 'secret',
        partitions: [
          partition(0, ErrorCode.TOPIC_AUTHORIZATION_FAILED),
          partition(5, ErrorCode.TOPIC_AUTHORIZATION_FAILED),
        ],
      },
      { name: 'missing', partitions: [partition(0, ErrorCode.TOPIC_AUTHORIZATION_FAILED)] },
      {
        name: 'bad/name',
        partitions: [
          {
            ...partition(0, ErrorCode.INVALID_TOPIC_EXCEPTION),
            errorMessage:
              "Topic name \"bad/name\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'",
          },
        ],
      },
    ]);
    assert.deepEqual(authorizer.asked, [
      [READ, ResourceType.TOPIC, TOPIC],
      [READ, ResourceType.TOPIC, 'secret'],
      [READ, ResourceType.TOPIC, 'missing'],
    ]);
  });
});
