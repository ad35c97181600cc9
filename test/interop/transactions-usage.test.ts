// Transactions used the way applications use them, against a real Sluice process: a topic deleted, records deleted
// and partitions added while a transaction is open, transactions spanning segment rolls, a producer that keeps
// sending past its transaction timeout (fenced, nothing corrupted), the admin views of transactions
// (ListTransactions, DescribeTransactions, DescribeProducers), compressed transactional batches with aborts, many
// transactional producers interleaving on the same partitions under tailing read_committed consumers, and
// exactly-once consume-transform-produce loops (kafkajs sendOffsets, confluent-kafka send_offsets_to_transaction
// with the consumer's group metadata) with a second group member joining mid-stream.
// Every check is exact: the raw log with its markers, the aborted-transaction lists read_committed fetches carry,
// what each client delivers, and the group's committed offsets.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  CreatePartitionsApi,
  CreateTopicsApi,
  DeleteRecordsApi,
  DeleteTopicsApi,
  DescribeProducersApi,
  DescribeTransactionsApi,
  ListTransactionsApi,
} from '../../src/protocol/generated/index.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { CompressionTypes, createKafka, registerCompressionCodecs } from '../helpers/kafka.js';
import { assertPythonModule, runPythonSteps } from '../helpers/python.js';
import {
  ABORT,
  COMMIT,
  createTopic,
  fetchPartition,
  findTransactionCoordinator,
  kcatRead,
  type LogEntry,
  listOffset,
  produced,
  RawTransactionalProducer,
  READ_COMMITTED,
  READ_UNCOMMITTED,
  readLog,
} from '../helpers/transactions.js';
import { abortedTransactionsOf, committedEntries, overlapping } from '../helpers/txn-log-model.js';
import { waitFor } from '../helpers/wait.js';
import { WireClient } from '../helpers/wire-client.js';

const testTimeoutMs = 30_000;
const brokerArgs = [
  '--set',
  'group.initial.rebalance.delay.ms=0',
  '--set',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms=300',
];

/** A raw transactional producer, initialised (FindCoordinator first: it creates __transaction_state). */
async function rawProducer(wire: WireClient, transactionalId: string, timeoutMs = 60_000) {
  const found = await findTransactionCoordinator(wire, transactionalId);
  assert.equal(found.errorCode, 0);
  const producer = new RawTransactionalProducer(wire, transactionalId, timeoutMs);
  const init = await producer.init();
  assert.equal(init.errorCode, 0, `InitProducerId ${transactionalId}`);
  return producer;
}

async function layout(wire: WireClient, topic: string, partition: number): Promise<[number, string][]> {
  return (await readLog(wire, topic, partition)).entries;
}

/**
 * The partition's records and markers from `fromOffset` (the log start after DeleteRecords), read_uncommitted; a
 * batch straddling it is returned whole, as by Kafka, and its records below are dropped here as clients do.
 */
async function layoutFrom(wire: WireClient, topic: string, partition: number, fromOffset: number) {
  const fetched = await fetchPartition(wire, topic, partition, fromOffset, READ_UNCOMMITTED);
  return fetched.batches.flatMap((batch) =>
    batch.isControl
      ? [[batch.baseOffset, batch.records[0]?.key?.readInt16BE(2) === 1 ? COMMIT : ABORT]]
      : batch.records
          .filter((r) => r.offset >= fromOffset)
          .map((r) => [r.offset, r.value?.toString() ?? '<null>']),
  );
}

/**
 * Reads the partition read_committed from offset 0 up to its LSO, one Fetch after another, checking each answer's
 * aborted-transaction list against the raw log; returns the records a read_committed reader must deliver.
 */
async function checkReadCommitted(wire: WireClient, topic: string, partition: number): Promise<LogEntry[]> {
  const raw = await readLog(wire, topic, partition);
  const aborted = abortedTransactionsOf(raw.batches);
  let fetchOffset = 0;
  for (let round = 0; round < 200 && fetchOffset < raw.lastStableOffset; round++) {
    const fetched = await fetchPartition(wire, topic, partition, fetchOffset, READ_COMMITTED);
    const last = fetched.batches.at(-1);
    assert.ok(
      last,
      `${topic}-${partition} read_committed at ${fetchOffset}: nothing below LSO ${raw.lastStableOffset}`,
    );
    const upperBoundOffset = last.baseOffset + last.lastOffsetDelta + 1;
    assert.ok(upperBoundOffset <= fetched.lastStableOffset, `${topic}-${partition}: batch past the LSO`);
    assert.deepEqual(
      fetched.abortedTransactions,
      overlapping(aborted, fetchOffset, upperBoundOffset),
      `${topic}-${partition} read_committed at ${fetchOffset} (to ${upperBoundOffset}): aborted transactions`,
    );
    fetchOffset = upperBoundOffset;
  }
  assert.equal(fetchOffset, raw.lastStableOffset);
  return committedEntries(raw.batches);
}

async function createTopicWithConfigs(
  wire: WireClient,
  name: string,
  partitions: number,
  configs: Record<string, string>,
): Promise<void> {
  const response = await wire.call(CreateTopicsApi, 4, {
    topics: [
      {
        name,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([configName, value]) => ({ name: configName, value })),
      },
    ],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  assert.equal(response.topics[0]?.errorCode, 0, JSON.stringify(response.topics));
}

interface TailLine {
  partition: number;
  value: string;
  atMs: number;
}

/** kcat -C read_committed following the topic from the beginning with long polls of `longPollMs`. */
function startKcatTail(bootstrap: string, topic: string, longPollMs: number) {
  const lines: TailLine[] = [];
  const child = spawn(
    'kcat',
    [
      '-b',
      bootstrap,
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-u',
      '-X',
      'isolation.level=read_committed',
      '-X',
      `fetch.wait.max.ms=${longPollMs}`,
      '-f',
      '%p|%s\\n',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      const [partition, ...value] = line.split('|');
      lines.push({ partition: Number(partition), value: value.join('|'), atMs: Date.now() });
      newline = pending.indexOf('\n');
    }
  });
  child.stderr.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return {
    lines,
    stop: () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
    },
  };
}

async function deleteRecords(wire: WireClient, topic: string, partition: number, offset: number) {
  const response = await wire.call(DeleteRecordsApi, 1, {
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, offset: BigInt(offset) }] }],
    timeoutMs: 5_000,
  });
  const answer = response.topics[0]?.partitions[0];
  assert.ok(answer);
  return { errorCode: answer.errorCode, lowWatermark: Number(answer.lowWatermark) };
}

async function deleteTopic(wire: WireClient, topic: string): Promise<void> {
  const response = await wire.call(DeleteTopicsApi, 4, {
    topics: [],
    topicNames: [topic],
    timeoutMs: 10_000,
  });
  assert.equal(response.responses[0]?.errorCode, 0, JSON.stringify(response.responses));
}

async function describeTransaction(wire: WireClient, transactionalId: string) {
  const response = await wire.call(DescribeTransactionsApi, 0, { transactionalIds: [transactionalId] });
  const state = response.transactionStates[0];
  assert.ok(state);
  return {
    errorCode: state.errorCode,
    state: state.transactionState,
    producerId: Number(state.producerId),
    producerEpoch: state.producerEpoch,
    timeoutMs: state.transactionTimeoutMs,
    startTimeMs: Number(state.transactionStartTimeMs),
    topics: state.topics
      .map((t) => [t.topic, [...t.partitions].sort((a, b) => a - b)] as [string, number[]])
      .sort((a, b) => a[0].localeCompare(b[0])),
  };
}

describe('transactions in application usage', () => {
  let broker: Broker;
  let wire: WireClient;

  before(async () => {
    broker = await startBroker({ args: brokerArgs });
    wire = await WireClient.connect(broker.port);
  });

  after(async () => {
    wire?.close();
    await disposeAllBrokers();
  });

  test('DeleteRecords inside an open transaction: LSO never below the log start; commit reads from there', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'usage-delete-records';
    await createTopic(wire, topic, 1);
    const open = await rawProducer(wire, 'usage-dr-open');
    const other = await rawProducer(wire, 'usage-dr-other');
    assert.deepEqual(await open.addPartitions(topic, [0]), [0]);
    assert.deepEqual(await open.produce(topic, 0, ['o0', 'o1', 'o2']), produced(0));
    assert.deepEqual(await other.addPartitions(topic, [0]), [0]);
    assert.deepEqual(await other.produce(topic, 0, ['q0']), produced(3));
    assert.equal(await other.end(true), 0);
    assert.equal(await listOffset(wire, topic, 0, READ_COMMITTED), 0);

    // Kafka bounds DeleteRecords by the high watermark, not the LSO, and then reports the LSO as
    // max(first unstable offset, log start offset).
    assert.deepEqual(await deleteRecords(wire, topic, 0, 2), { errorCode: 0, lowWatermark: 2 });
    assert.equal(await listOffset(wire, topic, 0, READ_COMMITTED), 2);
    const during = await fetchPartition(wire, topic, 0, 2, READ_COMMITTED);
    assert.deepEqual(
      [during.highWatermark, during.lastStableOffset, during.abortedTransactions, during.batches.length],
      [5, 2, [], 0],
    );

    assert.deepEqual(await open.produce(topic, 0, ['o3']), produced(5));
    assert.equal(await open.end(false), 0);
    assert.equal(await listOffset(wire, topic, 0, READ_COMMITTED), 7);
    const done = await fetchPartition(wire, topic, 0, 2, READ_COMMITTED);
    assert.deepEqual(
      [done.highWatermark, done.lastStableOffset, done.abortedTransactions],
      [7, 7, [{ producerId: Number(open.producerId), firstOffset: 0 }]],
    );
    assert.deepEqual(await layoutFrom(wire, topic, 0, 2), [
      [2, 'o2'],
      [3, 'q0'],
      [4, COMMIT],
      [5, 'o3'],
      [6, ABORT],
    ]);
  });

  test('a topic deleted inside an open transaction: commit succeeds, markers go to the rest, the id stays usable', {
    timeout: testTimeoutMs,
  }, async () => {
    const doomed = 'usage-doomed';
    const kept = 'usage-kept';
    await createTopic(wire, doomed, 2);
    await createTopic(wire, kept, 1);
    const producer = await rawProducer(wire, 'usage-doomed-tid');
    assert.deepEqual(await producer.addPartitions(doomed, [0, 1]), [0, 0]);
    assert.deepEqual(await producer.addPartitions(kept, [0]), [0]);
    assert.deepEqual(await producer.produce(doomed, 0, ['d0']), produced(0));
    assert.deepEqual(await producer.produce(kept, 0, ['k0']), produced(0));
    await deleteTopic(wire, doomed);

    // Kafka's marker writer drops the partitions of a deleted topic; the transaction completes.
    assert.equal(await producer.end(true), 0);
    assert.deepEqual(await layout(wire, kept, 0), [
      [0, 'k0'],
      [1, COMMIT],
    ]);
    const completed = await describeTransaction(wire, 'usage-doomed-tid');
    assert.deepEqual([completed.errorCode, completed.state, completed.topics], [0, 'CompleteCommit', []]);

    // Adding the gone topic now is UNKNOWN_TOPIC_OR_PARTITION; the next transaction works.
    assert.deepEqual(await producer.addPartitions(doomed, [0]), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    assert.deepEqual(await producer.addPartitions(kept, [0]), [0]);
    assert.deepEqual(await producer.produce(kept, 0, ['k1']), produced(2));
    assert.equal(await producer.end(false), 0);

    // A topic created again under the same name starts with no producer state and no transaction.
    await createTopic(wire, doomed, 1);
    assert.deepEqual(await producer.addPartitions(doomed, [0]), [0]);
    assert.deepEqual(await producer.produce(doomed, 0, ['n0']), produced(0));
    assert.equal(await producer.end(true), 0);
    assert.deepEqual(await layout(wire, doomed, 0), [
      [0, 'n0'],
      [1, COMMIT],
    ]);
    assert.deepEqual(await layout(wire, kept, 0), [
      [0, 'k0'],
      [1, COMMIT],
      [2, 'k1'],
      [3, ABORT],
    ]);
  });

  test('a partition created inside an open transaction joins it', { timeout: testTimeoutMs }, async () => {
    const topic = 'usage-grow';
    await createTopic(wire, topic, 1);
    const producer = await rawProducer(wire, 'usage-grow-tid');
    assert.deepEqual(await producer.addPartitions(topic, [0]), [0]);
    assert.deepEqual(await producer.produce(topic, 0, ['g0']), produced(0));
    assert.deepEqual(await producer.addPartitions(topic, [1]), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const grown = await wire.call(CreatePartitionsApi, 1, {
      topics: [{ name: topic, count: 2, assignments: null }],
      timeoutMs: 5_000,
      validateOnly: false,
    });
    assert.equal(grown.results[0]?.errorCode, 0);
    assert.deepEqual(await producer.addPartitions(topic, [1]), [0]);
    assert.deepEqual(await producer.produce(topic, 1, ['g1']), produced(0));
    const ongoing = await describeTransaction(wire, 'usage-grow-tid');
    assert.deepEqual([ongoing.state, ongoing.topics], ['Ongoing', [[topic, [0, 1]]]]);
    assert.equal(await producer.end(true), 0);
    assert.deepEqual(await layout(wire, topic, 0), [
      [0, 'g0'],
      [1, COMMIT],
    ]);
    assert.deepEqual(await layout(wire, topic, 1), [
      [0, 'g1'],
      [1, COMMIT],
    ]);
  });
  test('transactions spanning segment rolls: aborted lists exact from every offset, and after DeleteRecords', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'usage-segments';
    await createTopicWithConfigs(wire, topic, 1, { 'segment.bytes': '300' });
    const long = await rawProducer(wire, 'usage-seg-long');
    const short = await rawProducer(wire, 'usage-seg-short');
    assert.deepEqual(await long.addPartitions(topic, [0]), [0]);
    for (let i = 0; i < 6; i++) {
      await long.produce(topic, 0, [`l${i}a`, `l${i}b`]);
      assert.deepEqual(await short.addPartitions(topic, [0]), [0]);
      await short.produce(topic, 0, [`s${i}`]);
      assert.equal(await short.end(i % 2 === 0), 0);
    }
    assert.equal(await long.end(false), 0);
    const raw = await readLog(wire, topic, 0);
    assert.equal(raw.highWatermark, 6 * 4 + 1);
    const segments = (await readdir(broker.dataDir, { recursive: true })).filter(
      (name) => name.includes(`${topic}-0`) && name.endsWith('.log'),
    );
    assert.ok(segments.length >= 6, `segments: ${JSON.stringify(segments)}`);
    const entries = await checkReadCommitted(wire, topic, 0);
    assert.deepEqual(
      entries.map((e) => e[1]),
      ['s0', 's2', 's4'],
    );
    const longId = Number(long.producerId);
    const shortId = Number(short.producerId);
    assert.deepEqual(
      abortedTransactionsOf(raw.batches).map((t) => [t.producerId, t.firstOffset, t.lastOffset]),
      [
        [longId, 0, 24],
        [shortId, 6, 7],
        [shortId, 14, 15],
        [shortId, 22, 23],
      ],
    );
    // One Fetch from each offset: the long transaction, whose marker is in the last segment, is listed from all.
    for (let offset = 0; offset < raw.highWatermark; offset++) {
      const fetched = await fetchPartition(wire, topic, 0, offset, READ_COMMITTED);
      assert.ok(
        fetched.abortedTransactions?.some((t) => t.producerId === longId && t.firstOffset === 0),
        `read_committed at ${offset} (segments ${JSON.stringify(segments)}): ${JSON.stringify(fetched.abortedTransactions)}`,
      );
    }
    assert.deepEqual(
      (await kcatRead(broker.bootstrap, topic, 'read_committed')).map((d) => d[2]),
      ['s0', 's2', 's4'],
    );

    // Old segments deleted: the entries of the remaining ones still answer.
    assert.deepEqual(await deleteRecords(wire, topic, 0, 20), { errorCode: 0, lowWatermark: 20 });
    const afterDelete = await fetchPartition(wire, topic, 0, 20, READ_COMMITTED);
    assert.deepEqual(afterDelete.abortedTransactions?.[0], { producerId: longId, firstOffset: 0 });
    assert.ok(
      afterDelete.abortedTransactions?.every((t) => t.firstOffset === 0 || t.firstOffset >= 20),
      JSON.stringify(afterDelete.abortedTransactions),
    );
  });

  test('kafkajs: a producer still sending past its transaction timeout is fenced; nothing of it after the abort', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'usage-timeout';
    await createTopic(wire, topic, 1);
    const kafka = createKafka(broker.bootstrap);
    const slow = kafka.producer({
      transactionalId: 'usage-timeout-tid',
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 1_000,
    });
    await slow.connect();
    const transaction = await slow.transaction();
    await transaction.send({ topic, messages: [{ value: 'before-timeout', partition: 0 }] });
    await waitFor(
      async () => (await describeTransaction(wire, 'usage-timeout-tid')).state === 'CompleteAbort',
      10_000,
      async () => JSON.stringify(await describeTransaction(wire, 'usage-timeout-tid')),
    );
    const fenced = await describeTransaction(wire, 'usage-timeout-tid');
    const sendError = await transaction
      .send({ topic, messages: [{ value: 'after-timeout', partition: 0 }] })
      .then(
        () => null,
        (error: unknown) => error,
      );
    assert.ok(sendError instanceof Error, 'a send after the timeout abort must fail');
    const commitError = await transaction.commit().then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(commitError instanceof Error, 'a commit after the timeout abort must fail');
    await slow.disconnect().catch(() => undefined);
    // Nothing of the fenced producer after its abort marker, and the coordinator state is unchanged by it.
    assert.deepEqual(await layout(wire, topic, 0), [
      [0, 'before-timeout'],
      [1, ABORT],
    ]);
    assert.deepEqual(await describeTransaction(wire, 'usage-timeout-tid'), fenced);

    const next = kafka.producer({
      transactionalId: 'usage-timeout-tid',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await next.connect();
    const again = await next.transaction();
    await again.send({ topic, messages: [{ value: 'next', partition: 0 }] });
    await again.commit();
    await next.disconnect();
    assert.deepEqual(await layout(wire, topic, 0), [
      [0, 'before-timeout'],
      [1, ABORT],
      [2, 'next'],
      [3, COMMIT],
    ]);
    assert.deepEqual(
      (await kcatRead(broker.bootstrap, topic, 'read_committed')).map((d) => d[2]),
      ['next'],
    );
  });

  test('admin views: ListTransactions filters, DescribeTransactions, DescribeProducers', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'usage-admin';
    await createTopic(wire, topic, 2);
    const before = Date.now();
    const ongoing = await rawProducer(wire, 'usage-admin-ongoing', 45_000);
    const committed = await rawProducer(wire, 'usage-admin-committed');
    const aborted = await rawProducer(wire, 'usage-admin-aborted');
    assert.deepEqual(await committed.addPartitions(topic, [0]), [0]);
    assert.deepEqual(await committed.produce(topic, 0, ['c0', 'c1']), produced(0));
    assert.equal(await committed.end(true), 0);
    assert.deepEqual(await aborted.addPartitions(topic, [1]), [0]);
    assert.deepEqual(await aborted.produce(topic, 1, ['a0']), produced(0));
    assert.equal(await aborted.end(false), 0);
    assert.deepEqual(await ongoing.addPartitions(topic, [0, 1]), [0, 0]);
    assert.deepEqual(await ongoing.produce(topic, 0, ['o0', 'o1', 'o2']), produced(3));
    const after = Date.now();

    const mine = new Set(['usage-admin-ongoing', 'usage-admin-committed', 'usage-admin-aborted']);
    const list = async (stateFilters: string[], producerIdFilters: bigint[] = [], durationFilter = -1n) => {
      const response = await wire.call(ListTransactionsApi, 1, {
        stateFilters,
        producerIdFilters,
        durationFilter,
      });
      return {
        errorCode: response.errorCode,
        unknownStateFilters: response.unknownStateFilters,
        states: response.transactionStates
          .filter((t) => mine.has(t.transactionalId))
          .map((t) => [t.transactionalId, Number(t.producerId), t.transactionState])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      };
    };
    const o = Number(ongoing.producerId);
    const c = Number(committed.producerId);
    const a = Number(aborted.producerId);
    assert.deepEqual(await list([]), {
      errorCode: 0,
      unknownStateFilters: [],
      states: [
        ['usage-admin-aborted', a, 'CompleteAbort'],
        ['usage-admin-committed', c, 'CompleteCommit'],
        ['usage-admin-ongoing', o, 'Ongoing'],
      ],
    });
    assert.deepEqual(await list(['Ongoing', 'CompleteAbort']), {
      errorCode: 0,
      unknownStateFilters: [],
      states: [
        ['usage-admin-aborted', a, 'CompleteAbort'],
        ['usage-admin-ongoing', o, 'Ongoing'],
      ],
    });
    assert.deepEqual(await list(['Bogus']), { errorCode: 0, unknownStateFilters: ['Bogus'], states: [] });
    assert.deepEqual(await list([], [BigInt(c)]), {
      errorCode: 0,
      unknownStateFilters: [],
      states: [['usage-admin-committed', c, 'CompleteCommit']],
    });
    assert.deepEqual((await list([], [], 60_000n)).states, []);

    const described = await describeTransaction(wire, 'usage-admin-ongoing');
    assert.ok(
      described.startTimeMs >= before && described.startTimeMs <= after,
      `start ${described.startTimeMs} not in [${before}, ${after}]`,
    );
    assert.deepEqual(
      { ...described, startTimeMs: 0 },
      {
        errorCode: 0,
        state: 'Ongoing',
        producerId: o,
        producerEpoch: 0,
        timeoutMs: 45_000,
        startTimeMs: 0,
        topics: [[topic, [0, 1]]],
      },
    );
    const missing = await wire.call(DescribeTransactionsApi, 0, { transactionalIds: ['usage-admin-never'] });
    assert.deepEqual(
      missing.transactionStates.map((t) => [t.transactionalId, t.errorCode]),
      [['usage-admin-never', ErrorCode.TRANSACTIONAL_ID_NOT_FOUND]],
    );

    const producers = await wire.call(DescribeProducersApi, 0, {
      topics: [
        { name: topic, partitionIndexes: [0, 1, 7] },
        { name: 'usage-admin-none', partitionIndexes: [0] },
      ],
    });
    const view = producers.topics.map((t) => [
      t.name,
      t.partitions.map((p) => [
        p.partitionIndex,
        p.errorCode,
        p.activeProducers
          .map((s) => [
            Number(s.producerId),
            s.producerEpoch,
            s.lastSequence,
            s.coordinatorEpoch,
            Number(s.currentTxnStartOffset),
          ])
          .sort((x, y) => Number(x[0]) - Number(y[0])),
      ]),
    ]);
    const expected = [
      [
        topic,
        [
          [
            0,
            0,
            [
              [c, 0, 1, 0, -1],
              [o, 0, 2, -1, 3],
            ].sort((x, y) => Number(x[0]) - Number(y[0])),
          ],
          [1, 0, [[a, 0, 0, 0, -1]]],
          [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []],
        ],
      ],
      ['usage-admin-none', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []]]],
    ];
    assert.deepEqual(view, expected);
    assert.equal(await ongoing.end(false), 0);
  });

  test('kafkajs gzip / lz4 / zstd transactional batches with aborts: content and aborted lists exact', {
    timeout: testTimeoutMs,
  }, async () => {
    registerCompressionCodecs();
    const topic = 'usage-compressed';
    await createTopic(wire, topic, 1);
    const codecs = [
      ['gzip', CompressionTypes.GZIP, 1],
      ['lz4', CompressionTypes.LZ4, 3],
      ['zstd', CompressionTypes.ZSTD, 4],
    ] as const;
    const producers = await Promise.all(
      codecs.map(async ([name]) => {
        const producer = createKafka(broker.bootstrap).producer({
          transactionalId: `usage-compressed-${name}`,
          idempotent: true,
          maxInFlightRequests: 1,
        });
        await producer.connect();
        return producer;
      }),
    );
    const expectedCommitted: string[] = [];
    for (let round = 0; round < 3; round++) {
      // All three open at once, so that their batches interleave; then each one ends its own way.
      const transactions = await Promise.all(producers.map((p) => p.transaction()));
      for (const [i, [name, compression]] of codecs.entries()) {
        await transactions[i]!.send({
          topic,
          compression,
          messages: [0, 1, 2].map((n) => ({ value: `${name}-${round}-${n}`.padEnd(200, '.'), partition: 0 })),
        });
      }
      for (const [i, [name]] of codecs.entries()) {
        if ((round + i) % 2 === 0) {
          await transactions[i]!.commit();
          for (const n of [0, 1, 2]) expectedCommitted.push(`${name}-${round}-${n}`);
        } else {
          await transactions[i]!.abort();
        }
      }
    }
    await Promise.all(producers.map((p) => p.disconnect()));
    const raw = await readLog(wire, topic, 0);
    const dataBatches = raw.batches.filter((b) => !b.isControl);
    assert.equal(dataBatches.length, 9);
    assert.deepEqual(
      dataBatches.map((b) => b.attributes & 0x07),
      [1, 3, 4, 1, 3, 4, 1, 3, 4],
    );
    assert.equal(abortedTransactionsOf(raw.batches).length, 4);
    const committed = (await checkReadCommitted(wire, topic, 0)).map((e) => e[1].replace(/\.+$/, ''));
    const byLogOrder = [...expectedCommitted].sort((x, y) => committed.indexOf(x) - committed.indexOf(y));
    assert.deepEqual(committed, byLogOrder);
    assert.deepEqual(new Set(committed), new Set(expectedCommitted));
    assert.equal(committed.length, 15);
    const viaKcat = (await kcatRead(broker.bootstrap, topic, 'read_committed')).map((d) =>
      d[2].replace(/\.+$/, ''),
    );
    assert.deepEqual(viaKcat, committed);
  });
  test('8 kafkajs transactional producers interleaving on 2 partitions; kcat and kafkajs tail read_committed', {
    timeout: 45_000,
  }, async () => {
    const topic = 'usage-many';
    await createTopic(wire, topic, 2);
    const longPollMs = 5_000;
    const tails = [startKcatTail(broker.bootstrap, topic, longPollMs)];
    const kafkajsDelivered: { value: string; atMs: number }[] = [];
    const consumer = createKafka(broker.bootstrap).consumer({
      groupId: 'usage-many-tail',
      maxWaitTimeInMs: longPollMs,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        kafkajsDelivered.push({ value: message.value?.toString() ?? '<null>', atMs: Date.now() });
      },
    });
    try {
      const producerCount = 8;
      const transactionsEach = 6;
      const committed: string[] = [];
      await Promise.all(
        Array.from({ length: producerCount }, async (_, p) => {
          const producer = createKafka(broker.bootstrap).producer({
            transactionalId: `usage-many-${p}`,
            idempotent: true,
            maxInFlightRequests: 1,
          });
          await producer.connect();
          for (let t = 0; t < transactionsEach; t++) {
            const transaction = await producer.transaction();
            const values = [0, 1, 2, 3, 4].map((i) => `p${p}-t${t}-${i}`);
            await transaction.send({
              topic,
              messages: values.map((value, i) => ({ value, partition: (t + i) % 2 })),
            });
            await transaction.send({ topic, messages: [{ value: `p${p}-t${t}-5`, partition: t % 2 }] });
            values.push(`p${p}-t${t}-5`);
            if (t % 3 === 2) {
              await transaction.abort();
            } else {
              await transaction.commit();
              committed.push(...values);
            }
          }
          await producer.disconnect();
        }),
      );
      const expected: LogEntry[][] = [];
      for (const partition of [0, 1]) expected.push(await checkReadCommitted(wire, topic, partition));
      const expectedValues = expected.flat().map((e) => e[1]);
      assert.deepEqual(new Set(expectedValues), new Set(committed));
      assert.equal(expectedValues.length, producerCount * 4 * 6);
      // Per producer and partition, the log keeps the order of its sends.
      for (const entries of expected) {
        for (let p = 0; p < producerCount; p++) {
          const mine = entries.map((e) => e[1]).filter((v) => v.startsWith(`p${p}-`));
          assert.deepEqual(mine, [...mine].sort(), `producer ${p}`);
        }
      }
      await waitFor(
        () => tails[0]!.lines.length >= expectedValues.length,
        15_000,
        () =>
          `kafkajs ${kafkajsDelivered.length}, kcat ${tails[0]!.lines.length} of ${expectedValues.length}`,
      );

      // One more transaction after a quiet moment: both long polls must wake at its commit, not at their max wait.
      await sleep(300);
      const last = createKafka(broker.bootstrap).producer({
        transactionalId: 'usage-many-last',
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await last.connect();
      const transaction = await last.transaction();
      await transaction.send({
        topic,
        messages: [
          { value: 'last-0', partition: 0 },
          { value: 'last-1', partition: 1 },
        ],
      });
      await sleep(1_000);
      await transaction.commit();
      const committedAtMs = Date.now();
      await last.disconnect();
      await waitFor(
        () =>
          ['last-0', 'last-1'].every((v) => kafkajsDelivered.some((d) => d.value === v)) &&
          tails[0]!.lines.length >= expectedValues.length + 2,
        10_000,
        () =>
          `kafkajs ${kafkajsDelivered.length}, kcat ${tails[0]!.lines.length} of ${expectedValues.length + 2}`,
      );
      // kafkajs is only timed here, not checked for content: its filter (filterAbortedMessages.js) takes at most
      // one aborted transaction from the broker's list per record, so a Fetch whose offset lies past the first
      // offsets of several aborted transactions (as the LSO makes happen here, against Kafka alike) lets records
      // of an aborted transaction through and, once it lags behind an abort marker, drops a later committed
      // transaction of that producer. The broker's lists are checked exact above and kcat filters them right.
      const kafkajsWakeMs =
        Math.max(...kafkajsDelivered.filter((d) => d.value.startsWith('last-')).map((d) => d.atMs)) -
        committedAtMs;
      const kcatWakeMs = Math.max(...tails[0]!.lines.slice(-2).map((d) => d.atMs)) - committedAtMs;
      assert.ok(kafkajsWakeMs < 1_500, `kafkajs delivered ${kafkajsWakeMs} ms after the commit`);
      assert.ok(kcatWakeMs < 1_500, `kcat delivered ${kcatWakeMs} ms after the commit`);

      // Exactly the committed records, each partition in log order, nothing aborted.
      const withLast = [
        [...expected[0]!.map((e) => e[1]), 'last-0'],
        [...expected[1]!.map((e) => e[1]), 'last-1'],
      ];
      assert.deepEqual(
        [0, 1].map((partition) =>
          tails[0]!.lines.filter((l) => l.partition === partition).map((l) => l.value),
        ),
        withLast,
      );
    } finally {
      await consumer.disconnect();
      for (const tail of tails) tail.stop();
    }
  });

  test('confluent-kafka consume-transform-produce with send_offsets_to_transaction, a member joining mid-stream', {
    timeout: 60_000,
  }, async () => {
    await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
    const input = 'usage-eos-in';
    const output = 'usage-eos-out';
    const recordCount = 2_000;
    await createTopic(wire, input, 4);
    await createTopic(wire, output, 4);
    const script = `
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaException
inp, outp, total = sys.argv[3], sys.argv[4], int(sys.argv[5])
loader = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5})
for i in range(total):
    loader.produce(inp, value=str(i), partition=i % 4)
loader.flush(30)
group = prefix + '-group'
def member(n):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False,
                  'auto.offset.reset': 'earliest', 'isolation.level': 'read_committed',
                  'session.timeout.ms': 10000, 'heartbeat.interval.ms': 100, 'max.poll.interval.ms': 30000})
    p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': '%s-tid-%d' % (prefix, n), 'linger.ms': 5})
    p.init_transactions(15)
    c.subscribe([inp])
    return c, p
stats = dict(committed=0, aborted=0, errors=[], by_member=[0, 0])
def step(n, c, p):
    msgs = [m for m in c.consume(20, 0.05) if not m.error()]
    if not msgs:
        return
    p.begin_transaction()
    offsets = {}
    for m in msgs:
        p.produce(outp, value='%d:%d:%s' % (m.partition(), m.offset(), m.value().decode()), partition=m.partition())
        offsets[m.partition()] = m.offset() + 1
    try:
        p.send_offsets_to_transaction([TopicPartition(inp, q, o) for q, o in offsets.items()],
                                      c.consumer_group_metadata(), 15)
        p.commit_transaction(15)
        stats['committed'] += len(msgs)
        stats['by_member'][n] += len(msgs)
    except KafkaException as e:
        err = e.args[0]
        stats['errors'].append(err.name())
        if not err.txn_requires_abort():
            raise
        p.abort_transaction(15)
        stats['aborted'] += len(msgs)
        # Back to the group's committed offsets: the aborted batch is processed again by whoever owns it.
        for tp in c.committed(c.assignment(), timeout=10):
            c.seek(TopicPartition(inp, tp.partition, tp.offset if tp.offset >= 0 else 0))
members = [member(0)]
deadline = time.monotonic() + 45
while stats['committed'] < total and time.monotonic() < deadline:
    for n, (c, p) in enumerate(members):
        step(n, c, p)
    if len(members) == 1 and stats['committed'] >= total // 4:
        members.append(member(1))
        out('joined', after=stats['committed'] >= total // 4)
check = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False})
offsets = check.committed([TopicPartition(inp, q) for q in range(4)], timeout=10)
assignments = [sorted(tp.partition for tp in c.assignment()) for c, p in members]
out('done', committed=stats['committed'] >= total, offsets=[tp.offset for tp in offsets],
    assignments=sorted(len(a) for a in assignments), second_member_worked=stats['by_member'][1] > 0)
out('stats', **stats)
check.close()
for c, p in members:
    c.close()
`;
    const steps = await runPythonSteps(script, {
      bootstrap: broker.bootstrap,
      prefix: 'usage-eos',
      extraArgs: [input, output, String(recordCount)],
      timeoutMs: 55_000,
    });
    const stats = steps.find((s) => s.step === 'stats');
    assert.deepEqual(
      steps.filter((s) => s.step !== 'stats'),
      [
        { step: 'joined', after: true },
        {
          step: 'done',
          committed: true,
          offsets: [500, 500, 500, 500],
          assignments: [2, 2],
          second_member_worked: true,
        },
      ],
      JSON.stringify(stats),
    );
    // Every input record's transform exactly once, each output partition in input order.
    const delivered = await kcatRead(broker.bootstrap, output, 'read_committed', 30_000);
    for (const partition of [0, 1, 2, 3]) {
      const values = delivered.filter((d) => d[0] === partition).map((d) => d[2]);
      const expected = Array.from(
        { length: recordCount / 4 },
        (_, i) => `${partition}:${i}:${i * 4 + partition}`,
      );
      assert.deepEqual(values, expected, `output partition ${partition}; stats ${JSON.stringify(stats)}`);
    }
    for (const partition of [0, 1, 2, 3]) await checkReadCommitted(wire, output, partition);
  });
});
