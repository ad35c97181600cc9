import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import type { ProduceRequest, ProduceResponse } from '../../protocol/generated/produce.js';
import type { RecordsPayload } from '../../protocol/primitives/writer.js';
import { decodeRecordBatches } from '../../protocol/records/index.js';
import {
  ProducerFencedError,
  RecordError,
  TransactionAbortedError,
  TransactionStateError,
} from '../errors.js';
import type { TopicLayout } from './accumulator.js';
import { ProducerEngine } from './engine.js';
import type { ProducerIdentity, ProduceTarget } from './sender.js';
import { testEngineConfig, waitUntil } from './test-support.js';
import {
  type ConsumerGroupMetadata,
  type TopicPartitionRef,
  TransactionManager,
  type TransactionOffset,
  type TransactionTarget,
} from './transactions.js';

const TOPIC = 'orders';
const TRANSACTIONAL_ID = 'tx-1';

/** A transaction coordinator as Kafka's: producer ids, epochs, the partitions of the ongoing transaction. */
class FakeCoordinator implements TransactionTarget {
  readonly calls: string[] = [];
  producerId = 7000;
  epoch = -1;
  readonly partitions = new Set<string>();
  readonly offsets: { group: ConsumerGroupMetadata; offsets: TransactionOffset[] }[] = [];
  /** Answers to hand out before the real one, per request name. */
  readonly queuedErrors = new Map<string, number[]>();
  invalidations = 0;

  private queued(name: string): number | undefined {
    return this.queuedErrors.get(name)?.shift();
  }

  async initProducerId(
    transactionalId: string,
    _timeoutMs: number,
    current: ProducerIdentity | null,
  ): Promise<{ errorCode: number; identity: ProducerIdentity }> {
    this.calls.push(
      `init ${transactionalId} ${current === null ? '-' : `${current.producerId}/${current.producerEpoch}`}`,
    );
    const code = this.queued('init');
    if (code !== undefined) return { errorCode: code, identity: { producerId: -1, producerEpoch: -1 } };
    this.epoch++;
    this.partitions.clear();
    return { errorCode: 0, identity: { producerId: this.producerId, producerEpoch: this.epoch } };
  }

  async addPartitions(
    _transactionalId: string,
    identity: ProducerIdentity,
    partitions: readonly TopicPartitionRef[],
  ): Promise<number[]> {
    this.calls.push(`add ${partitions.map((p) => `${p.topic}-${p.partition}`).join(',')}`);
    const code = this.queued('add');
    if (code !== undefined) return partitions.map(() => code);
    if (identity.producerEpoch !== this.epoch) return partitions.map(() => ErrorCode.PRODUCER_FENCED);
    for (const p of partitions) this.partitions.add(`${p.topic}-${p.partition}`);
    return partitions.map(() => 0);
  }

  async addOffsets(_transactionalId: string, _identity: ProducerIdentity, groupId: string): Promise<number> {
    this.calls.push(`add-offsets ${groupId}`);
    return this.queued('add-offsets') ?? 0;
  }

  async commitOffsets(
    _transactionalId: string,
    _identity: ProducerIdentity,
    group: ConsumerGroupMetadata,
    offsets: readonly TransactionOffset[],
  ): Promise<number[]> {
    this.calls.push(`txn-offset-commit ${group.groupId}`);
    this.offsets.push({ group, offsets: [...offsets] });
    return offsets.map(() => 0);
  }

  async endTransaction(
    _transactionalId: string,
    _identity: ProducerIdentity,
    commit: boolean,
  ): Promise<number> {
    this.calls.push(commit ? 'commit' : 'abort');
    const code = this.queued('end');
    if (code !== undefined) return code;
    this.partitions.clear();
    return 0;
  }

  invalidateCoordinator(): void {
    this.invalidations++;
  }
}

interface WrittenBatch {
  partition: number;
  values: string[];
  transactional: boolean;
  producerEpoch: number;
  baseSequence: number;
}

/** A leader that refuses a transactional batch of a partition not in the transaction, as Kafka 3.6+ does. */
class FakeLeader implements ProduceTarget {
  readonly written: WrittenBatch[] = [];
  readonly transactionalIds: (string | null)[] = [];
  errorFor: (partition: number) => number = () => 0;
  private held: Promise<void> | null = null;
  private releaseHeld: () => void = () => {};

  constructor(private readonly coordinator: FakeCoordinator) {}

  hold(): void {
    this.held = new Promise((resolve) => {
      this.releaseHeld = resolve;
    });
  }

  release(): void {
    this.held = null;
    this.releaseHeld();
  }

  async initProducerId(): Promise<null> {
    throw new Error('a transactional producer takes its identity from the transaction coordinator');
  }

  topicLayout(): TopicLayout {
    return { partitionCount: 3, leaders: [1, 1, 1] };
  }

  async loadTopic(): Promise<TopicLayout> {
    return this.topicLayout();
  }

  async refreshMetadata(): Promise<void> {}

  async produce(_nodeId: number, request: ProduceRequest<RecordsPayload>): Promise<ProduceResponse | null> {
    this.transactionalIds.push(request.transactionalId);
    if (this.held !== null) await this.held;
    const answer: ProduceResponse = { responses: [], throttleTimeMs: 0, nodeEndpoints: [] };
    for (const topic of request.topicData) {
      const partitionResponses = [];
      for (const data of topic.partitionData) {
        const records = data.records!;
        const [batch] = decodeRecordBatches(Buffer.isBuffer(records) ? records : Buffer.concat(records));
        const inTransaction = this.coordinator.partitions.has(`${topic.name}-${data.index}`);
        let errorCode = this.errorFor(data.index);
        if (errorCode === 0 && batch!.isTransactional && !inTransaction)
          errorCode = ErrorCode.INVALID_TXN_STATE;
        if (errorCode === 0) {
          this.written.push({
            partition: data.index,
            values: batch!.records.map((r) => r.value!.toString()),
            transactional: batch!.isTransactional,
            producerEpoch: batch!.producerEpoch,
            baseSequence: batch!.baseSequence,
          });
        }
        partitionResponses.push({
          index: data.index,
          errorCode,
          baseOffset: errorCode === 0 ? BigInt(this.written.length - 1) : -1n,
          logAppendTimeMs: -1n,
          logStartOffset: 0n,
          recordErrors: [],
          errorMessage: null,
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
        });
      }
      answer.responses.push({ name: topic.name, partitionResponses });
    }
    return answer;
  }
}

function transactionalProducer() {
  const coordinator = new FakeCoordinator();
  const leader = new FakeLeader(coordinator);
  const engine = new ProducerEngine(
    testEngineConfig({
      initialBackoffMs: 5,
      maxBackoffMs: 20,
      maxInFlightPerPartition: 5,
      idempotence: 'required',
      transactionalId: TRANSACTIONAL_ID,
    }),
    leader,
  );
  const manager = new TransactionManager(
    {
      transactionalId: TRANSACTIONAL_ID,
      transactionTimeoutMs: 60_000,
      operationTimeoutMs: 2_000,
      initialBackoffMs: 5,
      maxBackoffMs: 20,
    },
    engine,
    coordinator,
  );
  engine.enableTransactions(manager, () => manager.sendRefusal());
  return { coordinator, leader, engine, manager };
}

function send(engine: ProducerEngine, partition: number, ...values: string[]) {
  return engine.send(
    TOPIC,
    values.map((value) => ({ value, partition })),
  );
}

describe('transactional producer', () => {
  test('sends only inside a transaction, adds each partition before its first batch, then commits', async () => {
    const { coordinator, leader, engine, manager } = transactionalProducer();
    await assert.rejects(send(engine, 0, 'early'), TransactionStateError);
    await manager.initTransactions();
    assert.equal(manager.state, 'ready');
    await assert.rejects(send(engine, 0, 'still early'), TransactionStateError);

    manager.beginTransaction();
    const sent = await Promise.all([send(engine, 0, 'a', 'b'), send(engine, 2, 'c')]);
    assert.deepEqual(
      sent.map((metadata) => metadata.map((m) => m.partition)),
      [[0, 0], [2]],
    );
    await manager.commitTransaction();
    assert.equal(manager.state, 'ready');

    assert.deepEqual(coordinator.calls, [`init ${TRANSACTIONAL_ID} -`, 'add orders-0,orders-2', 'commit']);
    assert.deepEqual(
      leader.written.map((b) => [b.partition, b.values, b.transactional, b.producerEpoch, b.baseSequence]),
      [
        [0, ['a', 'b'], true, 0, 0],
        [2, ['c'], true, 0, 0],
      ],
    );
    assert.ok(leader.transactionalIds.every((id) => id === TRANSACTIONAL_ID));

    // The next transaction adds its partitions again and continues the sequences.
    manager.beginTransaction();
    await send(engine, 0, 'd');
    await manager.commitTransaction();
    assert.deepEqual(coordinator.calls.slice(3), ['add orders-0', 'commit']);
    assert.deepEqual(leader.written.at(-1)!.values, ['d']);
    assert.equal(leader.written.at(-1)!.baseSequence, 2);
  });

  test('a transaction that sent nothing commits and aborts without EndTxn', async () => {
    const { coordinator, manager } = transactionalProducer();
    await manager.initTransactions();
    manager.beginTransaction();
    await manager.commitTransaction();
    manager.beginTransaction();
    await manager.abortTransaction();
    assert.deepEqual(coordinator.calls, [`init ${TRANSACTIONAL_ID} -`]);
    assert.equal(manager.state, 'ready');
  });

  test('abort fails the records not yet sent and aborts what was sent', async () => {
    const { coordinator, leader, engine, manager } = transactionalProducer();
    await manager.initTransactions();
    manager.beginTransaction();
    await send(engine, 1, 'written');
    leader.hold();
    const inFlight = send(engine, 1, 'in flight');
    await waitUntil(() => leader.transactionalIds.length === 2, 2_000);
    // orders-0 is not in the transaction yet, and the coordinator keeps it waiting: its record stays queued.
    coordinator.queuedErrors.set('add', [
      ErrorCode.CONCURRENT_TRANSACTIONS,
      ErrorCode.CONCURRENT_TRANSACTIONS,
    ]);
    const queued = assert.rejects(send(engine, 0, 'queued'), TransactionAbortedError);
    await waitUntil(() => coordinator.calls.includes('add orders-0'), 2_000);
    const aborting = manager.abortTransaction();
    leader.release();
    await aborting;
    assert.deepEqual(await inFlight.then((m) => m.length), 1);
    await queued;
    assert.deepEqual(coordinator.calls.slice(-1), ['abort']);
    assert.equal(manager.state, 'ready');
    assert.deepEqual(
      leader.written.map((b) => b.values),
      [['written'], ['in flight']],
    );
  });

  test('a record that fails for good dooms the transaction; abort recovers with a new epoch', async () => {
    const { coordinator, leader, engine, manager } = transactionalProducer();
    await manager.initTransactions();
    manager.beginTransaction();
    leader.errorFor = (partition) => (partition === 1 ? ErrorCode.CORRUPT_MESSAGE : 0);
    await assert.rejects(send(engine, 1, 'bad'), RecordError);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(manager.state, 'abortable-error');
    await assert.rejects(send(engine, 0, 'after'), RecordError);
    await assert.rejects(manager.commitTransaction(), RecordError);

    leader.errorFor = () => 0;
    await manager.abortTransaction();
    assert.equal(manager.state, 'ready');
    // The failed batch took sequence 0 of orders-1: the epoch is bumped so that sequences restart.
    assert.deepEqual(coordinator.calls, [
      `init ${TRANSACTIONAL_ID} -`,
      'add orders-1',
      'abort',
      `init ${TRANSACTIONAL_ID} 7000/0`,
    ]);
    manager.beginTransaction();
    await send(engine, 1, 'retry');
    await manager.commitTransaction();
    assert.deepEqual(
      leader.written.map((b) => [b.values, b.producerEpoch, b.baseSequence]),
      [[['retry'], 1, 0]],
    );
  });

  test('a fenced producer fails every later operation', async () => {
    const { coordinator, engine, manager } = transactionalProducer();
    await manager.initTransactions();
    manager.beginTransaction();
    coordinator.queuedErrors.set('add', [ErrorCode.PRODUCER_FENCED]);
    await assert.rejects(send(engine, 0, 'x'), ProducerFencedError);
    assert.equal(manager.state, 'fatal-error');
    await assert.rejects(send(engine, 0, 'y'), ProducerFencedError);
    await assert.rejects(manager.abortTransaction(), ProducerFencedError);
    assert.throws(() => manager.beginTransaction(), ProducerFencedError);
  });

  test('CONCURRENT_TRANSACTIONS and a moved coordinator are retried', async () => {
    const { coordinator, leader, engine, manager } = transactionalProducer();
    coordinator.queuedErrors.set('init', [ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.NOT_COORDINATOR]);
    await manager.initTransactions();
    manager.beginTransaction();
    coordinator.queuedErrors.set('add', [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);
    coordinator.queuedErrors.set('end', [ErrorCode.CONCURRENT_TRANSACTIONS]);
    await send(engine, 0, 'v');
    await manager.commitTransaction();
    assert.equal(coordinator.invalidations, 1);
    assert.deepEqual(coordinator.calls.filter((c) => c.startsWith('init')).length, 3);
    assert.deepEqual(coordinator.calls.filter((c) => c === 'commit').length, 2);
    assert.deepEqual(
      leader.written.map((b) => b.values),
      [['v']],
    );
  });

  test('offsets join the transaction: AddOffsetsToTxn, then TxnOffsetCommit with the member', async () => {
    const { coordinator, manager } = transactionalProducer();
    await manager.initTransactions();
    manager.beginTransaction();
    const group = { groupId: 'g', generationId: 4, memberId: 'm-1', groupInstanceId: null };
    await manager.sendOffsets([{ topic: 'in', partition: 0, offset: 42 }], group);
    await manager.commitTransaction();
    assert.deepEqual(coordinator.calls.slice(1), ['add-offsets g', 'txn-offset-commit g', 'commit']);
    assert.deepEqual(coordinator.offsets, [{ group, offsets: [{ topic: 'in', partition: 0, offset: 42 }] }]);
  });

  test('methods out of order are refused without side effects', async () => {
    const { coordinator, manager } = transactionalProducer();
    assert.throws(() => manager.beginTransaction(), TransactionStateError);
    await manager.initTransactions();
    await assert.rejects(manager.initTransactions(), TransactionStateError);
    await assert.rejects(manager.commitTransaction(), TransactionStateError);
    await assert.rejects(manager.abortTransaction(), TransactionStateError);
    manager.beginTransaction();
    assert.throws(() => manager.beginTransaction(), TransactionStateError);
    assert.deepEqual(coordinator.calls, [`init ${TRANSACTIONAL_ID} -`]);
  });
});
