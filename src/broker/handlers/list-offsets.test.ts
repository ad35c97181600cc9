import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import { ListOffsetsApi } from '../../protocol/generated/index.js';
import { makeBatch } from '../../storage/test-support.js';
import { READ_COMMITTED, READ_UNCOMMITTED } from '../replica-manager.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { allowOnly } from './authorizer-test-support.js';
import {
  type DataPathBroker,
  recordingVerifier,
  startDataPath,
  transactionalBatch,
} from './data-path-test-support.js';
import { callApi } from './test-support.js';

const TOPIC = 'ledger';
const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const LIST_OFFSETS_VERSION = 9;
// Later than the markers' timestamps (the time they are written), so the data holds the largest timestamp.
const T = Date.now() + 86_400_000;

/** [offset, timestamp] answered for each of `timestamps` at `isolationLevel`. */
async function listOffsets(
  broker: DataPathBroker,
  isolationLevel: number,
  timestamps: number[],
): Promise<[number, number][]> {
  const response = await callApi(broker.dispatch, ListOffsetsApi, LIST_OFFSETS_VERSION, {
    replicaId: -1,
    isolationLevel,
    topics: [
      {
        name: TOPIC,
        partitions: timestamps.map((timestamp) => ({
          partitionIndex: 0,
          currentLeaderEpoch: -1,
          timestamp: BigInt(timestamp),
          maxNumOffsets: 1,
        })),
      },
    ],
  });
  return response.topics[0]!.partitions.map((p) => {
    assert.equal(p.errorCode, ErrorCode.NONE);
    return [Number(p.offset), Number(p.timestamp)];
  });
}

const NOT_FOUND: [number, number] = [-1, -1];

describe('ListOffsets with transactions', () => {
  let broker: DataPathBroker;
  before(async () => {
    broker = await startDataPath([{ name: TOPIC, partitions: 1 }]);
    broker.replicaManager.setTransactionVerifier(recordingVerifier(ErrorCode.NONE));
    // 0-1 plain at T, T+1; 2-3 producer 7 at T+1000, T+1001; 4 producer 8 at T+2000, still open: LSO 4.
    for (const batch of [
      makeBatch({ records: 2, timestampMs: T }),
      transactionalBatch({ producerId: 7, records: 2, timestampMs: T + 1000 }),
      transactionalBatch({ producerId: 8, records: 1, timestampMs: T + 2000 }),
    ]) {
      const outcome = await broker.replicaManager.appendRecords(TOPIC, 0, batch, -1, 9, 'tx');
      assert.equal(outcome.errorCode, ErrorCode.NONE);
    }
    const commit = { producerId: 7, producerEpoch: 0, coordinatorEpoch: 0, commit: true };
    assert.equal(await broker.replicaManager.writeTransactionMarker(TOPIC, 0, commit), ErrorCode.NONE);
  });
  after(async () => {
    await broker.close();
  });

  test('read_committed: LATEST is the LSO; timestamps and MAX_TIMESTAMP find nothing at or after it', async () => {
    assert.deepEqual(
      await listOffsets(broker, READ_COMMITTED, [
        LATEST,
        EARLIEST,
        T + 500,
        T + 1500,
        T + 5000,
        MAX_TIMESTAMP,
      ]),
      [[4, -1], [0, -1], [2, T + 1000], NOT_FOUND, NOT_FOUND, NOT_FOUND],
    );
  });

  test('read_uncommitted: the high watermark and every record below it', async () => {
    assert.deepEqual(
      await listOffsets(broker, READ_UNCOMMITTED, [LATEST, EARLIEST, T + 500, T + 1500, MAX_TIMESTAMP]),
      [
        [6, -1],
        [0, -1],
        [2, T + 1000],
        [4, T + 2000],
        [4, T + 2000],
      ],
    );
  });

  test('once the open transaction ends, read_committed finds its records too', async () => {
    const abort = { producerId: 8, producerEpoch: 0, coordinatorEpoch: 0, commit: false };
    assert.equal(await broker.replicaManager.writeTransactionMarker(TOPIC, 0, abort), ErrorCode.NONE);
    assert.deepEqual(await listOffsets(broker, READ_COMMITTED, [LATEST, T + 1500, MAX_TIMESTAMP]), [
      [7, -1],
      [4, T + 2000],
      [4, T + 2000],
    ]);
    assert.deepEqual(broker.errors, []);
  });
});

describe('ListOffsets with an authorizer', () => {
  const DESCRIBE = AclOperation.DESCRIBE;
  const authorizer = allowOnly([[DESCRIBE, ResourceType.TOPIC, TOPIC]]);
  let broker: DataPathBroker;
  before(async () => {
    broker = await startDataPath(
      [
        { name: TOPIC, partitions: 2 },
        { name: 'secret', partitions: 1 },
      ],
      { authorizer },
    );
    const outcome = await broker.replicaManager.appendRecords(
      TOPIC,
      1,
      makeBatch({ records: 3 }),
      -1,
      9,
      null,
    );
    assert.equal(outcome.errorCode, ErrorCode.NONE);
  });
  after(async () => {
    await broker.close();
  });

  test('a topic without DESCRIBE: TOPIC_AUTHORIZATION_FAILED in each partition; the others answer', async () => {
    for (const version of [0, LIST_OFFSETS_VERSION]) {
      authorizer.asked.length = 0;
      const latest = (partitionIndex: number) => ({
        partitionIndex,
        currentLeaderEpoch: -1,
        timestamp: BigInt(LATEST),
        maxNumOffsets: 1,
      });
      const response = await callApi(broker.dispatch, ListOffsetsApi, version, {
        replicaId: -1,
        isolationLevel: READ_UNCOMMITTED,
        topics: [
          { name: TOPIC, partitions: [latest(0), latest(1)] },
          { name: 'secret', partitions: [latest(0)] },
          { name: 'missing', partitions: [latest(0)] },
        ],
      });
      const answers = response.topics.flatMap((t) =>
        t.partitions.map((p) => [
          t.name,
          p.partitionIndex,
          p.errorCode,
          version === 0 ? p.oldStyleOffsets : p.offset,
        ]),
      );
      const offset = (n: number) => (version === 0 ? [BigInt(n)] : BigInt(n));
      const none = version === 0 ? [] : -1n;
      assert.deepEqual(answers, [
        [TOPIC, 0, ErrorCode.NONE, offset(0)],
        [TOPIC, 1, ErrorCode.NONE, offset(3)],
        ['secret', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, none],
        ['missing', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, none],
      ]);
      assert.deepEqual(authorizer.asked, [
        [DESCRIBE, ResourceType.TOPIC, TOPIC],
        [DESCRIBE, ResourceType.TOPIC, 'secret'],
        [DESCRIBE, ResourceType.TOPIC, 'missing'],
      ]);
    }
  });
});
