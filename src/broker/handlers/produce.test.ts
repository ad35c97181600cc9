import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import { ProduceApi } from '../../protocol/generated/index.js';
import { CONTROL_FLAG_MASK, TRANSACTIONAL_FLAG_MASK } from '../../protocol/records/layout.js';
import { makeBatch } from '../../storage/test-support.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { allowOnly, type FakeAuthorizer } from './authorizer-test-support.js';
import {
  type DataPathBroker,
  recordingVerifier,
  startDataPath,
  transactionalBatch,
  withAttributes,
} from './data-path-test-support.js';
import { AcksZeroProduceError } from './produce.js';
import { callApi } from './test-support.js';

const TOPIC = 'payments';
const PRODUCE_VERSION = 9;

async function produce(
  broker: DataPathBroker,
  partition: number,
  records: Buffer,
  transactionalId: string | null = 'tx-1',
): Promise<{ errorCode: number; baseOffset: number; errorMessage: string | null }> {
  const response = await callApi(broker.dispatch, ProduceApi, PRODUCE_VERSION, {
    transactionalId,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }],
  });
  const answer = response.responses[0]!.partitionResponses[0]!;
  return {
    errorCode: answer.errorCode,
    baseOffset: Number(answer.baseOffset),
    errorMessage: answer.errorMessage,
  };
}

const written = (baseOffset: number) => ({ errorCode: ErrorCode.NONE, baseOffset, errorMessage: null });
const refused = (errorCode: number, errorMessage: string) => ({ errorCode, baseOffset: -1, errorMessage });
const notInTransaction = (partition: number, producerId: number, epoch: number) =>
  `transaction verification refused producer ${producerId} (epoch ${epoch}) writing to ${TOPIC}-${partition}`;

function logEnd(broker: DataPathBroker, partition: number): number {
  return broker.replicaManager.get(TOPIC, partition)!.log.logEndOffset;
}

describe('Produce of transactional batches without a transaction verifier', () => {
  let broker: DataPathBroker;
  before(async () => {
    broker = await startDataPath([{ name: TOPIC, partitions: 1 }]);
  });
  after(async () => {
    await broker.close();
  });

  test('INVALID_TXN_STATE, nothing written; other batches are written as before', async () => {
    const batch = transactionalBatch({ producerId: 10, producerEpoch: 0, baseSequence: 0 });
    assert.deepEqual(
      await produce(broker, 0, batch),
      refused(ErrorCode.INVALID_TXN_STATE, notInTransaction(0, 10, 0)),
    );
    assert.equal(logEnd(broker, 0), 0);
    assert.deepEqual(await produce(broker, 0, makeBatch({ producerId: 10, records: 2 }), null), written(0));
    assert.deepEqual(await produce(broker, 0, makeBatch({ records: 3 }), null), written(2));
    assert.equal(broker.replicaManager.lastStableOffset(broker.replicaManager.get(TOPIC, 0)!), 5);
    assert.deepEqual(broker.errors, []);
  });
});

describe('Produce of transactional batches with a transaction verifier', () => {
  let broker: DataPathBroker;
  const verifier = recordingVerifier(ErrorCode.NONE);
  before(async () => {
    broker = await startDataPath([{ name: TOPIC, partitions: 4 }]);
    broker.replicaManager.setTransactionVerifier(verifier);
  });
  after(async () => {
    await broker.close();
  });

  test("the verifier's refusal is the answer (INVALID_TXN_STATE, PRODUCER_FENCED), nothing written", async () => {
    verifier.asked.length = 0;
    verifier.code = ErrorCode.INVALID_TXN_STATE;
    const batch = () => transactionalBatch({ producerId: 21, producerEpoch: 3, baseSequence: 0 });
    assert.deepEqual(
      await produce(broker, 1, batch()),
      refused(ErrorCode.INVALID_TXN_STATE, notInTransaction(1, 21, 3)),
    );
    verifier.code = ErrorCode.PRODUCER_FENCED;
    assert.deepEqual(
      await produce(broker, 1, batch()),
      refused(ErrorCode.PRODUCER_FENCED, notInTransaction(1, 21, 3)),
    );
    assert.deepEqual(verifier.asked, [
      [21, 3, TOPIC, 1],
      [21, 3, TOPIC, 1],
    ]);
    assert.equal(logEnd(broker, 1), 0);
  });

  test('accepted when the verifier says NONE: the open transaction holds the LSO until its marker', async () => {
    verifier.asked.length = 0;
    verifier.code = ErrorCode.NONE;
    const { replicaManager } = broker;
    const hosted = replicaManager.get(TOPIC, 0)!;
    assert.deepEqual(await produce(broker, 0, makeBatch({ records: 2 }), null), written(0));
    const first = transactionalBatch({ producerId: 30, producerEpoch: 1, baseSequence: 0, records: 3 });
    assert.deepEqual(await produce(broker, 0, first), written(2));
    // A retry of the same batch is answered with its offsets, as for any idempotent producer.
    const retry = transactionalBatch({ producerId: 30, producerEpoch: 1, baseSequence: 0, records: 3 });
    assert.deepEqual(await produce(broker, 0, retry), written(2));
    assert.deepEqual(verifier.asked, [
      [30, 1, TOPIC, 0],
      [30, 1, TOPIC, 0],
    ]);
    assert.deepEqual([hosted.log.highWatermark, replicaManager.lastStableOffset(hosted)], [5, 2]);

    const marker = { producerId: 30, producerEpoch: 1, coordinatorEpoch: 0, commit: true };
    assert.equal(await replicaManager.writeTransactionMarker(TOPIC, 0, marker), ErrorCode.NONE);
    assert.deepEqual([hosted.log.highWatermark, replicaManager.lastStableOffset(hosted)], [6, 6]);
    assert.deepEqual(broker.errors, []);
  });

  test('a transactional batch needs the transactional id and a producer id', async () => {
    verifier.asked.length = 0;
    verifier.code = ErrorCode.NONE;
    const batch = transactionalBatch({ producerId: 40, baseSequence: 0 });
    assert.deepEqual(
      await produce(broker, 2, batch, null),
      refused(
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        'transactional records need the transactional id of their producer',
      ),
    );
    assert.deepEqual(
      await produce(broker, 2, withAttributes(makeBatch({}), TRANSACTIONAL_FLAG_MASK)),
      refused(ErrorCode.INVALID_RECORD, 'transactional batch at byte 0 has no producer id'),
    );
    assert.deepEqual(verifier.asked, []);
    assert.equal(logEnd(broker, 2), 0);
  });

  test('control batches from clients stay INVALID_RECORD, even with a verifier saying NONE', async () => {
    verifier.code = ErrorCode.NONE;
    const control = withAttributes(
      makeBatch({ producerId: 50, baseSequence: 0 }),
      TRANSACTIONAL_FLAG_MASK | CONTROL_FLAG_MASK,
    );
    assert.deepEqual(
      await produce(broker, 3, control),
      refused(ErrorCode.INVALID_RECORD, 'producers may not write control batches'),
    );
    assert.equal(logEnd(broker, 3), 0);
  });
});

describe('ReplicaManager.writeTransactionMarker', () => {
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

  const marker = (producerEpoch: number, commit: boolean) => ({
    producerId: 60,
    producerEpoch,
    coordinatorEpoch: 2,
    commit,
  });

  test('partitions it cannot write: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER', async () => {
    const { replicaManager } = broker;
    assert.equal(
      await replicaManager.writeTransactionMarker('missing', 0, marker(0, true)),
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.equal(
      await replicaManager.writeTransactionMarker(TOPIC, 2, marker(0, true)),
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.equal(
      await replicaManager.writeTransactionMarker('followed', 0, marker(0, true)),
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
    );
    assert.equal(
      await replicaManager.writeTransactionMarker('remote', 0, marker(0, true)),
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
    );
  });

  test("an abort marker ends the transaction; one older than the producer's epoch is INVALID_PRODUCER_EPOCH", async () => {
    const { replicaManager } = broker;
    const hosted = replicaManager.get(TOPIC, 0)!;
    assert.deepEqual(
      await produce(broker, 0, transactionalBatch({ producerId: 60, producerEpoch: 4, baseSequence: 0 })),
      written(0),
    );
    assert.equal(replicaManager.lastStableOffset(hosted), 0);
    assert.equal(
      await replicaManager.writeTransactionMarker(TOPIC, 0, marker(3, false)),
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    assert.equal(replicaManager.lastStableOffset(hosted), 0);
    assert.equal(await replicaManager.writeTransactionMarker(TOPIC, 0, marker(4, false)), ErrorCode.NONE);
    assert.deepEqual([hosted.log.logEndOffset, replicaManager.lastStableOffset(hosted)], [2, 2]);
    assert.deepEqual(await hosted.log.abortedTransactions(0, 2), [{ producerId: 60, firstOffset: 0 }]);
  });

  test('a log that cannot be written: KAFKA_STORAGE_ERROR, logged', async () => {
    const { replicaManager } = broker;
    await replicaManager.get(TOPIC, 1)!.log.close();
    assert.equal(
      await replicaManager.writeTransactionMarker(TOPIC, 1, marker(0, true)),
      ErrorCode.KAFKA_STORAGE_ERROR,
    );
    assert.deepEqual(
      broker.errors.map((e) => e.message),
      ['writing a transaction marker failed'],
    );
  });
});

describe('Produce with an authorizer', () => {
  const WRITE = AclOperation.WRITE;
  let broker: DataPathBroker;
  let authorizer: FakeAuthorizer;
  before(async () => {
    authorizer = allowOnly([
      [WRITE, ResourceType.TOPIC, TOPIC],
      [WRITE, ResourceType.TRANSACTIONAL_ID, 'tx-allowed'],
    ]);
    broker = await startDataPath(
      [
        { name: TOPIC, partitions: 2 },
        { name: 'secret', partitions: 1 },
      ],
      { authorizer },
    );
  });
  after(async () => {
    await broker.close();
  });

  /** [topic, partition, errorCode, baseOffset] of each partition of a produce to both topics. */
  async function produceToBoth(options: { acks?: number; transactionalId?: string | null; records: Buffer }) {
    authorizer.asked.length = 0;
    const response = await callApi(broker.dispatch, ProduceApi, PRODUCE_VERSION, {
      transactionalId: options.transactionalId ?? null,
      acks: options.acks ?? -1,
      timeoutMs: 5000,
      topicData: [
        {
          name: TOPIC,
          partitionData: [
            { index: 0, records: options.records },
            { index: 1, records: options.records },
          ],
        },
        { name: 'secret', partitionData: [{ index: 0, records: options.records }] },
      ],
    });
    return response.responses.flatMap((topic) =>
      topic.partitionResponses.map((p) => [
        topic.name,
        p.index,
        p.errorCode,
        Number(p.baseOffset),
        p.errorMessage,
      ]),
    );
  }

  test('a topic without WRITE: TOPIC_AUTHORIZATION_FAILED, nothing written; the others are written', async () => {
    const secretEnd = broker.replicaManager.get('secret', 0)!.log.logEndOffset;
    assert.deepEqual(await produceToBoth({ records: makeBatch({ records: 2 }) }), [
      [TOPIC, 0, ErrorCode.NONE, logEnd(broker, 0) - 2, null],
      [TOPIC, 1, ErrorCode.NONE, logEnd(broker, 1) - 2, null],
      ['secret', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, null],
    ]);
    assert.equal(broker.replicaManager.get('secret', 0)!.log.logEndOffset, secretEnd);
    // Once per topic, whatever the number of partitions; no transactional id is asked for plain batches.
    assert.deepEqual(authorizer.asked, [
      [WRITE, ResourceType.TOPIC, TOPIC],
      [WRITE, ResourceType.TOPIC, 'secret'],
    ]);
  });

  test('transactional records without WRITE on their transactional id fail everywhere, unwritten', async () => {
    const ends = [logEnd(broker, 0), logEnd(broker, 1)];
    const batch = transactionalBatch({ producerId: 7, producerEpoch: 0, baseSequence: 0 });
    const message = 'Not authorized to use the transactional id.';
    for (const transactionalId of ['tx-denied', null]) {
      assert.deepEqual(await produceToBoth({ records: batch, transactionalId }), [
        [TOPIC, 0, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1, message],
        [TOPIC, 1, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1, message],
        ['secret', 0, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1, message],
      ]);
    }
    assert.deepEqual([logEnd(broker, 0), logEnd(broker, 1)], ends);
  });

  test('with WRITE on the transactional id, topics are checked and the batches go on to verification', async () => {
    const batch = transactionalBatch({ producerId: 8, producerEpoch: 0, baseSequence: 0 });
    const results = await produceToBoth({ records: batch, transactionalId: 'tx-allowed' });
    assert.deepEqual(
      results.map(([topic, partition, errorCode]) => [topic, partition, errorCode]),
      [
        // No verifier in this broker: past authorization, the transaction is what is refused.
        [TOPIC, 0, ErrorCode.INVALID_TXN_STATE],
        [TOPIC, 1, ErrorCode.INVALID_TXN_STATE],
        ['secret', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ],
    );
    assert.deepEqual(authorizer.asked[0], [WRITE, ResourceType.TRANSACTIONAL_ID, 'tx-allowed']);
  });

  test('invalid acks: INVALID_REQUIRED_ACKS where the topic is writable, else TOPIC_AUTHORIZATION_FAILED', async () => {
    assert.deepEqual(
      (await produceToBoth({ records: makeBatch({}), acks: 2 })).map(([topic, partition, errorCode]) => [
        topic,
        partition,
        errorCode,
      ]),
      [
        [TOPIC, 0, ErrorCode.INVALID_REQUIRED_ACKS],
        [TOPIC, 1, ErrorCode.INVALID_REQUIRED_ACKS],
        ['secret', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ],
    );
  });

  test('acks=0 to a topic without WRITE closes the connection, as any failed acks=0 produce', async () => {
    const end = logEnd(broker, 0);
    await assert.rejects(produceToBoth({ records: makeBatch({}), acks: 0 }), AcksZeroProduceError);
    // The writable partitions were still written.
    assert.equal(logEnd(broker, 0), end + 1);
  });
});
