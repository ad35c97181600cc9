import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import { ManualScheduler } from '../scheduler.js';
import {
  TransactionCoordinator,
  type TransactionCoordinatorConfig,
  type TransactionMarker,
  type TransactionMarkerWriter,
  type TransactionStateRecord,
} from './coordinator.js';
import { MemoryTransactionStateLog } from './memory-transaction-log.js';
import type { TopicPartition, TransactionStateName } from './metadata.js';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  type TransactionLogValue,
} from './records.js';

const START_MS = 1_000_000;
const COORDINATOR_EPOCH = 7;
const TIMEOUT_MS = 60_000;

interface MarkerWrite {
  topic: string;
  partition: number;
  marker: TransactionMarker;
}

/** Records marker writes; answers NONE unless codes are queued for a partition; can hold writes. */
class FakeMarkerWriter implements TransactionMarkerWriter {
  readonly writes: MarkerWrite[] = [];
  private readonly codes = new Map<string, number[]>();
  private held: (() => void)[] | null = null;

  failNext(topic: string, partition: number, ...codes: number[]): void {
    this.codes.set(`${topic}-${partition}`, codes);
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const go of held) go();
  }

  write(topic: string, partition: number, marker: TransactionMarker): Promise<number> {
    const code = this.codes.get(`${topic}-${partition}`)?.shift() ?? ErrorCode.NONE;
    const done = () => {
      this.writes.push({ topic, partition, marker });
      return code;
    };
    const held = this.held;
    if (held === null) return Promise.resolve(done());
    return new Promise((resolve) => held.push(() => resolve(done())));
  }
}

/** Lets promise chains that wait on resolved I/O run to their next real wait. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function setup(
  options: { config?: Partial<TransactionCoordinatorConfig>; log?: MemoryTransactionStateLog } = {},
) {
  const scheduler = new ManualScheduler(START_MS);
  const log = options.log ?? new MemoryTransactionStateLog();
  const markers = new FakeMarkerWriter();
  let nextProducerId = 1000;
  const allocated: number[] = [];
  const coordinator = new TransactionCoordinator({
    log,
    markers,
    producerIds: {
      nextProducerId: () => {
        allocated.push(nextProducerId);
        return Promise.resolve(nextProducerId++);
      },
    },
    scheduler,
    // One partition: every id lives in __transaction_state-0.
    config: { transactionStatePartitions: 1, ...options.config },
  });
  coordinator.start();
  await coordinator.loadPartition(0, COORDINATOR_EPOCH, log.read(0));
  const states = () =>
    log.records(0).map((r) => {
      const id = decodeTransactionLogKey(r.key);
      if (r.value === null) return `${id}:tombstone`;
      const v = decodeTransactionLogValue(r.value);
      return `${id}:${v.state}:${v.producerId}/${v.producerEpoch}`;
    });
  return { scheduler, log, markers, coordinator, allocated, states };
}

const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });

function storedRecord(transactionalId: string, value: Partial<TransactionLogValue>): TransactionStateRecord {
  return {
    key: encodeTransactionLogKey(transactionalId),
    value: encodeTransactionLogValue({
      producerId: 500,
      producerEpoch: 3,
      transactionTimeoutMs: TIMEOUT_MS,
      state: 'Empty',
      partitions: [],
      lastUpdateTimestampMs: START_MS - 1000,
      startTimestampMs: -1,
      ...value,
    }),
  };
}

function describeState(coordinator: TransactionCoordinator, id: string) {
  const d = coordinator.describeTransaction(id);
  return {
    state: d.transactionState,
    producerId: d.producerId,
    producerEpoch: d.producerEpoch,
    topics: d.topics,
  };
}

describe('InitProducerId', () => {
  test('a new transactional id gets a new producer id at epoch 0; each later call bumps the epoch', async () => {
    const { coordinator, states, allocated } = await setup();
    assert.deepEqual(await coordinator.initProducerId('tx', TIMEOUT_MS, null), {
      errorCode: ErrorCode.NONE,
      producerId: 1000,
      producerEpoch: 0,
    });
    assert.deepEqual(await coordinator.initProducerId('tx', 30_000, null), {
      errorCode: ErrorCode.NONE,
      producerId: 1000,
      producerEpoch: 1,
    });
    assert.deepEqual(states(), ['tx:Empty:1000/0', 'tx:Empty:1000/1']);
    assert.deepEqual(allocated, [1000]);
    assert.equal(coordinator.describeTransaction('tx').transactionTimeoutMs, 30_000);
  });

  test('refuses an empty id and timeouts outside (0, transaction.max.timeout.ms]', async () => {
    const { coordinator, log } = await setup({ config: { transactionMaxTimeoutMs: 900_000 } });
    assert.equal(
      (await coordinator.initProducerId('', TIMEOUT_MS, null)).errorCode,
      ErrorCode.INVALID_REQUEST,
    );
    for (const timeout of [0, -1, 900_001]) {
      assert.deepEqual(await coordinator.initProducerId('tx', timeout, null), {
        errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT,
        producerId: -1,
        producerEpoch: -1,
      });
    }
    assert.equal((await coordinator.initProducerId('tx', 900_000, null)).errorCode, ErrorCode.NONE);
    assert.equal(log.appendCount, 1);
  });

  test('KIP-360: the current epoch bumps, the previous epoch is a retry, anything else is fenced', async () => {
    const { coordinator } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    const bumped = await coordinator.initProducerId('tx', TIMEOUT_MS, { producerId: 1000, producerEpoch: 0 });
    assert.deepEqual(bumped, { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 1 });
    // The response was lost and the producer asks again with its old epoch: same answer, no second bump.
    const retried = await coordinator.initProducerId('tx', TIMEOUT_MS, {
      producerId: 1000,
      producerEpoch: 0,
    });
    assert.deepEqual(retried, bumped);
    for (const expected of [
      { producerId: 1000, producerEpoch: 5 },
      { producerId: 999, producerEpoch: 1 },
    ]) {
      assert.equal(
        (await coordinator.initProducerId('tx', TIMEOUT_MS, expected)).errorCode,
        ErrorCode.PRODUCER_FENCED,
      );
    }
  });

  test('epoch exhaustion at 32766 rotates to a new producer id, and a retry of the rotation is recognised', async () => {
    const log = new MemoryTransactionStateLog();
    await log.append(0, [
      storedRecord('tx', { producerId: 500, producerEpoch: 32765, state: 'CompleteCommit' }),
    ]);
    const { coordinator, states } = await setup({ log });
    assert.deepEqual(
      await coordinator.initProducerId('tx', TIMEOUT_MS, { producerId: 500, producerEpoch: 32765 }),
      {
        errorCode: ErrorCode.NONE,
        producerId: 500,
        producerEpoch: 32766,
      },
    );
    const rotated = await coordinator.initProducerId('tx', TIMEOUT_MS, {
      producerId: 500,
      producerEpoch: 32766,
    });
    assert.deepEqual(rotated, { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 });
    // The producer never saw the answer and retries with its exhausted id and epoch.
    assert.deepEqual(
      await coordinator.initProducerId('tx', TIMEOUT_MS, { producerId: 500, producerEpoch: 32766 }),
      rotated,
    );
    assert.deepEqual(states().slice(1), ['tx:Empty:500/32766', 'tx:Empty:1000/0', 'tx:Empty:1000/0']);
    // The old producer id no longer maps to the transactional id.
    assert.equal(
      coordinator.verifyTransactionalProduce(500, 32766, 't', 0),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    assert.equal(coordinator.verifyTransactionalProduce(1000, 0, 't', 0), ErrorCode.INVALID_TXN_STATE);
  });

  test('without an expected epoch an exhausted id rotates too', async () => {
    const log = new MemoryTransactionStateLog();
    await log.append(0, [storedRecord('tx', { producerId: 500, producerEpoch: 32766, state: 'Empty' })]);
    const { coordinator } = await setup({ log });
    assert.deepEqual(await coordinator.initProducerId('tx', TIMEOUT_MS, null), {
      errorCode: ErrorCode.NONE,
      producerId: 1000,
      producerEpoch: 0,
    });
  });

  test('during a transaction: fences the producer, aborts with the bumped epoch, answers CONCURRENT_TRANSACTIONS', async () => {
    const { coordinator, markers, states } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    assert.equal(await coordinator.addPartitions('tx', 1000, 0, [tp('t', 0), tp('t', 1)]), ErrorCode.NONE);
    assert.deepEqual(await coordinator.initProducerId('tx', TIMEOUT_MS, null), {
      errorCode: ErrorCode.CONCURRENT_TRANSACTIONS,
      producerId: -1,
      producerEpoch: -1,
    });
    const abort = { producerId: 1000, producerEpoch: 1, coordinatorEpoch: COORDINATOR_EPOCH, commit: false };
    assert.deepEqual(markers.writes, [
      { topic: 't', partition: 0, marker: abort },
      { topic: 't', partition: 1, marker: abort },
    ]);
    assert.deepEqual(states(), [
      'tx:Empty:1000/0',
      'tx:Ongoing:1000/0',
      'tx:PrepareAbort:1000/1',
      'tx:CompleteAbort:1000/1',
    ]);
    // The old producer is fenced; the new one's retry bumps once more.
    assert.equal(await coordinator.endTxn('tx', 1000, 0, true), ErrorCode.PRODUCER_FENCED);
    assert.equal(await coordinator.addPartitions('tx', 1000, 0, [tp('t', 2)]), ErrorCode.PRODUCER_FENCED);
    assert.deepEqual(await coordinator.initProducerId('tx', TIMEOUT_MS, null), {
      errorCode: ErrorCode.NONE,
      producerId: 1000,
      producerEpoch: 2,
    });
  });

  test('CONCURRENT_TRANSACTIONS while a change is being written or a transaction completed', async () => {
    const { coordinator, log, markers } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    await coordinator.addPartitions('tx', 1000, 0, [tp('t', 0)]);
    markers.hold();
    const ending = coordinator.endTxn('tx', 1000, 0, true);
    await settle();
    assert.equal(
      (await coordinator.initProducerId('tx', TIMEOUT_MS, null)).errorCode,
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    assert.equal(await coordinator.endTxn('tx', 1000, 0, true), ErrorCode.CONCURRENT_TRANSACTIONS);
    assert.equal(await coordinator.endTxn('tx', 1000, 0, false), ErrorCode.CONCURRENT_TRANSACTIONS);
    assert.equal(
      await coordinator.addPartitions('tx', 1000, 0, [tp('t', 1)]),
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    markers.release();
    assert.equal(await ending, ErrorCode.NONE);
    log.holdAppends();
    const init = coordinator.initProducerId('tx', TIMEOUT_MS, null);
    await settle();
    assert.equal(
      (await coordinator.initProducerId('tx', TIMEOUT_MS, null)).errorCode,
      ErrorCode.CONCURRENT_TRANSACTIONS,
    );
    log.releaseAppends();
    assert.equal((await init).producerEpoch, 1);
  });

  test('a failed write answers with the translated code and leaves the state as it was', async () => {
    const { coordinator, log } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    log.failNextAppend({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
    assert.equal(
      (await coordinator.initProducerId('tx', TIMEOUT_MS, null)).errorCode,
      ErrorCode.NOT_COORDINATOR,
    );
    log.failNextAppend(new Error('disk on fire'));
    assert.equal(
      (await coordinator.initProducerId('tx', TIMEOUT_MS, null)).errorCode,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    assert.deepEqual(await coordinator.initProducerId('tx', TIMEOUT_MS, null), {
      errorCode: ErrorCode.NONE,
      producerId: 1000,
      producerEpoch: 1,
    });
  });
});

describe('AddPartitionsToTxn and AddOffsetsToTxn', () => {
  test('Empty → Ongoing with the partitions; adding known partitions again writes nothing', async () => {
    const { coordinator, log, states, scheduler } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    scheduler.advance(5);
    assert.equal(await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0)]), ErrorCode.NONE);
    scheduler.advance(5);
    assert.equal(await coordinator.addPartitions('tx', 1000, 0, [tp('b', 1), tp('a', 0)]), ErrorCode.NONE);
    const appends = log.appendCount;
    assert.equal(await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0)]), ErrorCode.NONE);
    assert.equal(log.appendCount, appends);
    assert.deepEqual(states(), ['tx:Empty:1000/0', 'tx:Ongoing:1000/0', 'tx:Ongoing:1000/0']);
    const last = decodeTransactionLogValue(log.records(0).at(-1)!.value!);
    assert.deepEqual(last.partitions, [tp('a', 0), tp('b', 1)]);
    // The transaction started with its first partition.
    assert.equal(last.startTimestampMs, START_MS + 5);
    assert.equal(last.lastUpdateTimestampMs, START_MS + 10);
  });

  test('unknown id or producer id: INVALID_PRODUCER_ID_MAPPING; other epoch: PRODUCER_FENCED', async () => {
    const { coordinator } = await setup();
    assert.equal(
      await coordinator.addPartitions('nope', 1000, 0, [tp('a', 0)]),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    assert.equal(
      await coordinator.addPartitions('tx', 1001, 0, [tp('a', 0)]),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    assert.equal(await coordinator.addPartitions('tx', 1000, 1, [tp('a', 0)]), ErrorCode.PRODUCER_FENCED);
    assert.equal(await coordinator.addPartitions('', 1000, 0, [tp('a', 0)]), ErrorCode.INVALID_REQUEST);
  });

  test('verifyPartitions: NONE for added partitions, TRANSACTION_ABORTABLE for others, one error otherwise', async () => {
    const { coordinator } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0)]);
    assert.deepEqual(coordinator.verifyPartitions('tx', 1000, 0, [tp('a', 0), tp('a', 1)]), [
      ErrorCode.NONE,
      ErrorCode.TRANSACTION_ABORTABLE,
    ]);
    assert.deepEqual(coordinator.verifyPartitions('tx', 1000, 1, [tp('a', 0)]), [ErrorCode.PRODUCER_FENCED]);
    assert.deepEqual(coordinator.verifyPartitions('tx', 7, 0, [tp('a', 0), tp('b', 0)]), [
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    ]);
    assert.deepEqual(coordinator.verifyPartitions('', 1000, 0, [tp('a', 0)]), [ErrorCode.INVALID_REQUEST]);
  });
});

describe('EndTxn', () => {
  test('commit: PrepareCommit, markers to every partition in parallel, CompleteCommit, then the answer', async () => {
    const { coordinator, markers, states } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0), tp('__consumer_offsets', 3)]);
    markers.hold();
    const ending = coordinator.endTxn('tx', 1000, 0, true);
    await settle();
    // Both markers are under way at once; nothing is answered before they are durable.
    assert.deepEqual(states().at(-1), 'tx:PrepareCommit:1000/0');
    assert.equal(describeState(coordinator, 'tx').state, 'PrepareCommit');
    assert.equal(coordinator.verifyTransactionalProduce(1000, 0, 'a', 0), ErrorCode.NOT_ENOUGH_REPLICAS);
    markers.release();
    assert.equal(await ending, ErrorCode.NONE);
    const commit = { producerId: 1000, producerEpoch: 0, coordinatorEpoch: COORDINATOR_EPOCH, commit: true };
    assert.deepEqual(markers.writes, [
      { topic: 'a', partition: 0, marker: commit },
      { topic: '__consumer_offsets', partition: 3, marker: commit },
    ]);
    assert.deepEqual(states(), [
      'tx:Empty:1000/0',
      'tx:Ongoing:1000/0',
      'tx:PrepareCommit:1000/0',
      'tx:CompleteCommit:1000/0',
    ]);
    assert.deepEqual(describeState(coordinator, 'tx'), {
      state: 'CompleteCommit',
      producerId: 1000,
      producerEpoch: 0,
      topics: [],
    });
    // Retries of the same EndTxn succeed; the opposite outcome is INVALID_TXN_STATE.
    assert.equal(await coordinator.endTxn('tx', 1000, 0, true), ErrorCode.NONE);
    assert.equal(await coordinator.endTxn('tx', 1000, 0, false), ErrorCode.INVALID_TXN_STATE);
    // The next transaction starts from CompleteCommit.
    assert.equal(await coordinator.addPartitions('tx', 1000, 0, [tp('b', 0)]), ErrorCode.NONE);
    assert.equal(await coordinator.endTxn('tx', 1000, 0, false), ErrorCode.NONE);
    assert.equal(await coordinator.endTxn('tx', 1000, 0, false), ErrorCode.NONE);
    assert.equal(await coordinator.endTxn('tx', 1000, 0, true), ErrorCode.INVALID_TXN_STATE);
  });

  test('errors: no transaction, unknown ids, wrong epochs', async () => {
    const { coordinator } = await setup();
    assert.equal(await coordinator.endTxn('tx', 1000, 0, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    assert.equal(await coordinator.endTxn('tx', 1000, 0, true), ErrorCode.INVALID_TXN_STATE);
    assert.equal(await coordinator.endTxn('tx', 1001, 0, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(await coordinator.endTxn('tx', 1000, 1, true), ErrorCode.PRODUCER_FENCED);
    assert.equal(await coordinator.endTxn('', 1000, 0, true), ErrorCode.INVALID_REQUEST);
  });

  test('failed markers are retried with backoff; a deleted topic or a newer epoch needs none', async () => {
    const { coordinator, markers, scheduler } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0), tp('gone', 0), tp('newer', 0)]);
    markers.failNext('a', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.KAFKA_STORAGE_ERROR);
    markers.failNext('gone', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    markers.failNext('newer', 0, ErrorCode.INVALID_PRODUCER_EPOCH);
    let answer: number | null = null;
    void coordinator.endTxn('tx', 1000, 0, false).then((code) => {
      answer = code;
    });
    await settle();
    assert.equal(answer, null);
    assert.deepEqual(describeState(coordinator, 'tx').topics, [{ topic: 'a', partitions: [0] }]);
    scheduler.advance(99);
    await settle();
    assert.equal(markers.writes.filter((w) => w.topic === 'a').length, 1);
    scheduler.advance(1);
    await settle();
    assert.equal(markers.writes.filter((w) => w.topic === 'a').length, 2);
    scheduler.advance(200);
    await settle();
    assert.equal(answer, ErrorCode.NONE);
    assert.equal(describeState(coordinator, 'tx').state, 'CompleteAbort');
  });

  test('a failed CompleteX write is retried until it is durable', async () => {
    const { coordinator, log, markers, scheduler, states } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0)]);
    markers.hold();
    let answer: number | null = null;
    void coordinator.endTxn('tx', 1000, 0, true).then((code) => {
      answer = code;
    });
    await settle();
    log.failNextAppend({ code: ErrorCode.NOT_ENOUGH_REPLICAS });
    markers.release();
    await settle();
    assert.equal(answer, null);
    scheduler.advance(100);
    await settle();
    assert.equal(answer, ErrorCode.NONE);
    assert.equal(states().at(-1), 'tx:CompleteCommit:1000/0');
  });
});

describe('timeouts and expiration', () => {
  test('an Ongoing transaction older than its timeout is aborted with a bumped epoch at the next sweep', async () => {
    const { coordinator, markers, scheduler, states } = await setup({
      config: { abortTimedOutTransactionCleanupIntervalMs: 10_000 },
    });
    await coordinator.initProducerId('tx', 15_000, null);
    await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0)]);
    scheduler.advance(10_000);
    await settle();
    assert.deepEqual(markers.writes, []);
    scheduler.advance(10_000);
    await settle();
    assert.deepEqual(markers.writes, [
      {
        topic: 'a',
        partition: 0,
        marker: { producerId: 1000, producerEpoch: 1, coordinatorEpoch: COORDINATOR_EPOCH, commit: false },
      },
    ]);
    assert.deepEqual(states().slice(2), ['tx:PrepareAbort:1000/1', 'tx:CompleteAbort:1000/1']);
    assert.equal(await coordinator.endTxn('tx', 1000, 0, true), ErrorCode.PRODUCER_FENCED);
    assert.equal(coordinator.verifyTransactionalProduce(1000, 0, 'a', 0), ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  test('a failed fence write keeps the bumped epoch for the next attempt instead of bumping again', async () => {
    const { coordinator, log, scheduler, states } = await setup({
      config: { abortTimedOutTransactionCleanupIntervalMs: 10_000 },
    });
    await coordinator.initProducerId('tx', 5_000, null);
    await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0)]);
    log.failNextAppend({ code: ErrorCode.NOT_ENOUGH_REPLICAS });
    scheduler.advance(10_000);
    await settle();
    assert.equal(describeState(coordinator, 'tx').state, 'Ongoing');
    scheduler.advance(10_000);
    await settle();
    assert.deepEqual(states().slice(2), ['tx:PrepareAbort:1000/1', 'tx:CompleteAbort:1000/1']);
  });

  test('ids idle for transactional.id.expiration.ms are removed with a tombstone', async () => {
    const { coordinator, log, scheduler, states } = await setup({
      config: { transactionalIdExpirationMs: 50_000, removeExpiredTransactionalIdCleanupIntervalMs: 60_000 },
    });
    await coordinator.initProducerId('idle', TIMEOUT_MS, null);
    await coordinator.initProducerId('busy', TIMEOUT_MS, null);
    await coordinator.addPartitions('busy', 1001, 0, [tp('a', 0)]);
    scheduler.advance(60_000);
    await settle();
    assert.deepEqual(states().at(-1), 'idle:tombstone');
    assert.equal(coordinator.describeTransaction('idle').errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    assert.equal(coordinator.describeTransaction('busy').errorCode, ErrorCode.NONE);
    // A reload does not bring it back.
    coordinator.unloadPartition(0);
    await coordinator.loadPartition(0, COORDINATOR_EPOCH + 1, log.read(0));
    assert.equal(coordinator.describeTransaction('idle').errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    assert.equal(describeState(coordinator, 'busy').state, 'Ongoing');
  });
});

describe('loading', () => {
  test('replays the partition, completes Prepare* transactions, and answers COORDINATOR_LOAD_IN_PROGRESS meanwhile', async () => {
    const log = new MemoryTransactionStateLog();
    await log.append(0, [
      storedRecord('committing', {
        producerId: 10,
        producerEpoch: 2,
        state: 'Ongoing',
        partitions: [tp('a', 0)],
      }),
      storedRecord('committing', {
        producerId: 10,
        producerEpoch: 2,
        state: 'PrepareCommit',
        partitions: [tp('a', 0), tp('b', 1)],
        startTimestampMs: START_MS - 500,
      }),
      storedRecord('aborting', {
        producerId: 11,
        producerEpoch: 4,
        state: 'PrepareAbort',
        partitions: [tp('a', 0)],
        startTimestampMs: 5,
      }),
      storedRecord('open', {
        producerId: 12,
        producerEpoch: 0,
        state: 'Ongoing',
        partitions: [tp('c', 0)],
        startTimestampMs: START_MS,
      }),
      storedRecord('expired', { producerId: 13 }),
      { key: encodeTransactionLogKey('expired'), value: null },
    ]);
    const { coordinator, markers } = await setup();
    coordinator.unloadPartition(0);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slowRecords() {
      await gate;
      yield* log.read(0);
    }
    const loading = coordinator.loadPartition(0, 9, slowRecords());
    assert.equal(
      (await coordinator.initProducerId('open', TIMEOUT_MS, null)).errorCode,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    assert.equal(
      coordinator.listTransactions({ states: [], producerIds: [], durationMs: -1 }).errorCode,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    release();
    await loading;
    await settle();
    const commit = { producerId: 10, producerEpoch: 2, coordinatorEpoch: 9, commit: true };
    const abort = { producerId: 11, producerEpoch: 4, coordinatorEpoch: 9, commit: false };
    assert.deepEqual(markers.writes, [
      { topic: 'a', partition: 0, marker: commit },
      { topic: 'b', partition: 1, marker: commit },
      { topic: 'a', partition: 0, marker: abort },
    ]);
    assert.equal(describeState(coordinator, 'committing').state, 'CompleteCommit');
    assert.equal(describeState(coordinator, 'aborting').state, 'CompleteAbort');
    assert.deepEqual(describeState(coordinator, 'open'), {
      state: 'Ongoing',
      producerId: 12,
      producerEpoch: 0,
      topics: [{ topic: 'c', partitions: [0] }],
    });
    assert.equal(coordinator.describeTransaction('expired').errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    assert.equal(coordinator.verifyTransactionalProduce(12, 0, 'c', 0), ErrorCode.NONE);
    // The committing producer's retried EndTxn sees its outcome.
    assert.equal(await coordinator.endTxn('committing', 10, 2, true), ErrorCode.NONE);
  });

  test('ids of partitions not loaded are NOT_COORDINATOR; unloading stops completion but not the outcome', async () => {
    const { coordinator, markers } = await setup({ config: { transactionStatePartitions: 2 } });
    // With 2 partitions, only ids hashing to partition 0 are served.
    const idOn1 = ['a', 'b', 'c', 'd'].find((id) => coordinator.partitionFor(id) === 1)!;
    const idOn0 = ['a', 'b', 'c', 'd'].find((id) => coordinator.partitionFor(id) === 0)!;
    assert.equal(
      (await coordinator.initProducerId(idOn1, TIMEOUT_MS, null)).errorCode,
      ErrorCode.NOT_COORDINATOR,
    );
    assert.equal(coordinator.describeTransaction(idOn1).errorCode, ErrorCode.NOT_COORDINATOR);
    await coordinator.initProducerId(idOn0, TIMEOUT_MS, null);
    await coordinator.addPartitions(idOn0, 1000, 0, [tp('a', 0)]);
    markers.hold();
    const ending = coordinator.endTxn(idOn0, 1000, 0, true);
    await settle();
    coordinator.unloadPartition(0);
    markers.release();
    // PrepareCommit was durable: the commit stands, and the partition's next owner completes it.
    assert.equal(await ending, ErrorCode.NONE);
    assert.equal(markers.writes.length, 1);
    assert.equal(
      coordinator.verifyTransactionalProduce(1000, 0, 'a', 0),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
  });

  test('EndTxn unloaded while Prepare* is being written: NONE once written, its error when the write fails', async () => {
    for (const failure of [null, { code: ErrorCode.NOT_ENOUGH_REPLICAS }]) {
      const { coordinator, log, markers, states } = await setup();
      await coordinator.initProducerId('tx', TIMEOUT_MS, null);
      await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0)]);
      if (failure === null) log.holdAppends();
      else log.failNextAppend(failure);
      const ending = coordinator.endTxn('tx', 1000, 0, true);
      await settle();
      coordinator.unloadPartition(0);
      log.releaseAppends();
      if (failure === null) {
        assert.equal(await ending, ErrorCode.NONE);
        assert.equal(states().at(-1), 'tx:PrepareCommit:1000/0');
      } else {
        assert.equal(await ending, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        assert.equal(states().at(-1), 'tx:Ongoing:1000/0');
      }
      // Markers are the next owner's to write.
      assert.equal(markers.writes.length, 0);
      // A new owner finishes what the log holds.
      const reloaded = await setup({ log });
      await settle();
      assert.equal(
        describeState(reloaded.coordinator, 'tx').state,
        failure === null ? 'CompleteCommit' : 'Ongoing',
      );
    }
  });
});

describe('produce verification', () => {
  test('NONE only for a partition of the ongoing transaction at the current epoch', async () => {
    const { coordinator } = await setup();
    await coordinator.initProducerId('tx', TIMEOUT_MS, null);
    assert.equal(coordinator.verifyTransactionalProduce(1000, 0, 'a', 0), ErrorCode.INVALID_TXN_STATE);
    await coordinator.addPartitions('tx', 1000, 0, [tp('a', 0)]);
    assert.equal(coordinator.verifyTransactionalProduce(1000, 0, 'a', 0), ErrorCode.NONE);
    assert.equal(coordinator.verifyTransactionalProduce(1000, 0, 'a', 1), ErrorCode.INVALID_TXN_STATE);
    assert.equal(coordinator.verifyTransactionalProduce(1000, 1, 'a', 0), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(
      coordinator.verifyTransactionalProduce(77, 0, 'a', 0),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    await coordinator.endTxn('tx', 1000, 0, true);
    assert.equal(coordinator.verifyTransactionalProduce(1000, 0, 'a', 0), ErrorCode.INVALID_TXN_STATE);
  });
});

describe('ListTransactions and DescribeTransactions', () => {
  test('filters by state, producer id and duration; reports unknown state names', async () => {
    const { coordinator, scheduler } = await setup();
    await coordinator.initProducerId('one', TIMEOUT_MS, null);
    await coordinator.initProducerId('two', TIMEOUT_MS, null);
    await coordinator.addPartitions('two', 1001, 0, [tp('a', 0), tp('a', 3), tp('b', 1)]);
    scheduler.advance(2_000);
    const list = (states: string[], producerIds: number[], durationMs = -1) =>
      coordinator.listTransactions({ states, producerIds, durationMs });
    const row = (transactionalId: string, producerId: number, transactionState: TransactionStateName) => ({
      transactionalId,
      producerId,
      transactionState,
    });
    assert.deepEqual(list([], []), {
      errorCode: ErrorCode.NONE,
      unknownStateFilters: [],
      transactionStates: [row('one', 1000, 'Empty'), row('two', 1001, 'Ongoing')],
    });
    assert.deepEqual(list(['Ongoing', 'Bogus'], []), {
      errorCode: ErrorCode.NONE,
      unknownStateFilters: ['Bogus'],
      transactionStates: [row('two', 1001, 'Ongoing')],
    });
    assert.deepEqual(list([], [1000]).transactionStates, [row('one', 1000, 'Empty')]);
    // As in Kafka, the duration counts from the transaction start, which an id without one has at -1.
    assert.deepEqual(list([], [], 1_999).transactionStates, [
      row('one', 1000, 'Empty'),
      row('two', 1001, 'Ongoing'),
    ]);
    assert.deepEqual(list(['Ongoing'], [], 1_999).transactionStates, [row('two', 1001, 'Ongoing')]);
    assert.deepEqual(list(['Ongoing'], [], 2_000).transactionStates, []);
    assert.deepEqual(coordinator.describeTransaction('two'), {
      errorCode: ErrorCode.NONE,
      transactionalId: 'two',
      transactionState: 'Ongoing',
      transactionTimeoutMs: TIMEOUT_MS,
      transactionStartTimeMs: START_MS,
      producerId: 1001,
      producerEpoch: 0,
      topics: [
        { topic: 'a', partitions: [0, 3] },
        { topic: 'b', partitions: [1] },
      ],
    });
    assert.deepEqual(coordinator.describeTransaction('none'), {
      errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
      transactionalId: 'none',
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: 0,
      producerId: 0,
      producerEpoch: 0,
      topics: [],
    });
    assert.equal(coordinator.describeTransaction('').errorCode, ErrorCode.INVALID_REQUEST);
    coordinator.shutdown();
    assert.equal(list([], []).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });
});
