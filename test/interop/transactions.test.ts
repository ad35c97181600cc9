// Kafka's exactly-once transactions against a real Sluice process, checked through the clients that use them:
// kafkajs (transactional producer with sendOffsets; read_committed is its consumers' default), confluent-kafka
// (librdkafka: init/begin/send_offsets/commit/abort, fencing by a second producer with the same transactional.id,
// both isolation levels), kcat (read_committed stops at the last stable offset while a transaction is open),
// kafka-python 2.0.2 (no isolation levels: it sees everything, markers included, as against Kafka),
// @platformatic/kafka (its transaction API and read_committed consumer) and Sluice's own Consumer. Raw requests pin
// the protocol answers: FindCoordinator key type 1, InitProducerId epoch bumps and fencing, INVALID_TXN_STATE for
// a partition not added and for EndTxn without a transaction, ListOffsets and Fetch read_committed (last stable
// offset, aborted transactions) and the coordinator aborting a transaction past its timeout.
// Every partition's log is also read back raw: data records and COMMIT/ABORT markers at exact offsets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Producer as KafkajsProducer } from 'kafkajs';
import { Consumer as SluiceConsumer } from '../../src/client/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { EndTxnApi, FindCoordinatorApi, InitProducerIdApi } from '../../src/protocol/generated/index.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { loadPlatformatic } from '../helpers/platformatic.js';
import { assertPythonModule, runPythonSteps } from '../helpers/python.js';
import {
  ABORT,
  COMMIT,
  createTopic,
  type Delivered,
  fetchPartition,
  findTransactionCoordinator,
  kafkajsRead,
  kcatRead,
  listOffset,
  produced,
  RawTransactionalProducer,
  READ_COMMITTED,
  READ_UNCOMMITTED,
  readLog,
  refused,
} from '../helpers/transactions.js';
import { waitFor } from '../helpers/wait.js';
import { WireClient } from '../helpers/wire-client.js';

const testTimeoutMs = 30_000;
const programTimeoutMs = 25_000;
const brokerArgs = ['--set', 'group.initial.rebalance.delay.ms=0'];

const {
  Producer: PlatformaticProducer,
  Consumer: PlatformaticConsumer,
  stringSerializers,
  stringDeserializers,
} = await loadPlatformatic();

function kafkajsTransactionalProducer(
  bootstrap: string,
  transactionalId: string,
  transactionTimeout = 60_000,
): KafkajsProducer {
  return createKafka(bootstrap).producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout,
  });
}

/** Values of one partition's log, as readLog shows them: [offset, value or marker]. */
async function layout(wire: WireClient, topic: string, partition: number): Promise<[number, string][]> {
  return (await readLog(wire, topic, partition)).entries;
}

describe('transactions through real clients', () => {
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

  test('raw protocol: coordinator, epochs, partition verification, EndTxn states, LSO and aborted transactions', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'txn-raw';
    await createTopic(wire, topic, 2);

    // FindCoordinator for a transactional id (key type 1): this broker, in both request layouts.
    const single = await findTransactionCoordinator(wire, 'raw-tid');
    assert.deepEqual(
      [single.errorCode, single.nodeId, single.host, single.port],
      [0, 0, '127.0.0.1', broker.port],
    );
    const batched = await wire.call(FindCoordinatorApi, 4, {
      key: '',
      keyType: 1,
      coordinatorKeys: ['raw-tid'],
    });
    assert.deepEqual(batched.coordinators, [
      { key: 'raw-tid', nodeId: 0, host: '127.0.0.1', port: broker.port, errorCode: 0, errorMessage: null },
    ]);

    // InitProducerId with a transactional id: epoch 0, then the same producer id at epoch 1; v4 with the current
    // producer id and epoch bumps again, a retry of that call gets the same answer, an older epoch is fenced.
    const producer = new RawTransactionalProducer(wire, 'raw-tid');
    const first = await producer.init();
    assert.equal(first.errorCode, 0);
    assert.equal(first.producerEpoch, 0);
    assert.ok(first.producerId >= 0n, `producer id ${first.producerId}`);
    const producerId = first.producerId;
    const second = await producer.init();
    assert.deepEqual([second.errorCode, second.producerId, second.producerEpoch], [0, producerId, 1]);
    const initV4 = (producerEpoch: number) =>
      wire.call(InitProducerIdApi, 4, {
        transactionalId: 'raw-tid',
        transactionTimeoutMs: 60_000,
        producerId,
        producerEpoch,
      });
    const bumped = await initV4(1);
    assert.deepEqual([bumped.errorCode, bumped.producerId, bumped.producerEpoch], [0, producerId, 2]);
    const retried = await initV4(1);
    assert.deepEqual([retried.errorCode, retried.producerId, retried.producerEpoch], [0, producerId, 2]);
    const stale = await initV4(0);
    assert.deepEqual(
      [stale.errorCode, stale.producerId, stale.producerEpoch],
      [ErrorCode.PRODUCER_FENCED, -1n, -1],
    );
    producer.producerEpoch = 2;
    const pid = Number(producerId);

    // EndTxn with no transaction begun, and for a transactional id the coordinator never saw.
    assert.equal(await producer.end(true), ErrorCode.INVALID_TXN_STATE);
    const unknown = await wire.call(EndTxnApi, 3, {
      transactionalId: 'raw-never-initialised',
      producerId: 1_000_000n,
      producerEpoch: 0,
      committed: true,
    });
    assert.equal(unknown.errorCode, ErrorCode.INVALID_PRODUCER_ID_MAPPING);

    // Transaction 1: partition 0 only. Producing to partition 1 (not added) is refused.
    assert.deepEqual(await producer.addPartitions(topic, [0]), [0]);
    assert.deepEqual(await producer.produce(topic, 0, ['r0', 'r1']), produced(0));
    assert.deepEqual(await producer.produce(topic, 1, ['stray']), refused(ErrorCode.INVALID_TXN_STATE));

    // While it is open: read_committed ends at its first offset (the LSO), read_uncommitted at the high watermark.
    assert.equal(await listOffset(wire, topic, 0, READ_COMMITTED), 0);
    assert.equal(await listOffset(wire, topic, 0, READ_UNCOMMITTED), 2);
    assert.equal(await listOffset(wire, topic, 1, READ_COMMITTED), 0);
    const open = await fetchPartition(wire, topic, 0, 0, READ_COMMITTED);
    assert.deepEqual(
      [open.highWatermark, open.lastStableOffset, open.abortedTransactions, open.batches.length],
      [2, 0, [], 0],
    );
    const openUncommitted = await fetchPartition(wire, topic, 0, 0, READ_UNCOMMITTED);
    assert.deepEqual(
      [openUncommitted.highWatermark, openUncommitted.lastStableOffset, openUncommitted.abortedTransactions],
      [2, 0, null],
    );
    assert.deepEqual(
      openUncommitted.batches.map((b) => [b.baseOffset, b.isTransactional, b.producerId, b.producerEpoch]),
      [[0, true, pid, 2]],
    );

    assert.equal(await producer.end(true), 0);
    assert.equal(await listOffset(wire, topic, 0, READ_COMMITTED), 3);
    const committed = await fetchPartition(wire, topic, 0, 0, READ_COMMITTED);
    assert.deepEqual(
      [committed.highWatermark, committed.lastStableOffset, committed.abortedTransactions],
      [3, 3, []],
    );
    // A retried commit of the completed transaction succeeds and writes nothing (Kafka's CompleteCommit + COMMIT).
    assert.equal(await producer.end(true), 0);

    // Transaction 2 over both partitions, aborted. Committing it afterwards is INVALID_TXN_STATE; a retried
    // abort succeeds.
    assert.deepEqual(await producer.addPartitions(topic, [0, 1]), [0, 0]);
    assert.deepEqual(await producer.produce(topic, 0, ['a0']), produced(3));
    assert.deepEqual(await producer.produce(topic, 1, ['a1']), produced(0));
    assert.equal(await producer.end(false), 0);
    assert.equal(await producer.end(true), ErrorCode.INVALID_TXN_STATE);
    assert.equal(await producer.end(false), 0);

    assert.deepEqual(await layout(wire, topic, 0), [
      [0, 'r0'],
      [1, 'r1'],
      [2, COMMIT],
      [3, 'a0'],
      [4, ABORT],
    ]);
    assert.deepEqual(await layout(wire, topic, 1), [
      [0, 'a1'],
      [1, ABORT],
    ]);
    const log0 = await readLog(wire, topic, 0);
    assert.deepEqual(
      log0.batches.map((b) => [b.baseOffset, b.isControl, b.producerId, b.producerEpoch]),
      [
        [0, false, pid, 2],
        [2, true, pid, 2],
        [3, false, pid, 2],
        [4, true, pid, 2],
      ],
    );

    // read_committed: the aborted transactions overlapping what is fetched (Kafka: lastOffset >= fetch offset).
    const aborted = (fetchOffset: number, partition = 0) =>
      fetchPartition(wire, topic, partition, fetchOffset, READ_COMMITTED).then((f) => [
        f.highWatermark,
        f.lastStableOffset,
        f.abortedTransactions,
      ]);
    assert.deepEqual(await aborted(0), [5, 5, [{ producerId: pid, firstOffset: 3 }]]);
    assert.deepEqual(await aborted(3), [5, 5, [{ producerId: pid, firstOffset: 3 }]]);
    assert.deepEqual(await aborted(4), [5, 5, [{ producerId: pid, firstOffset: 3 }]]);
    assert.deepEqual(await aborted(5), [5, 5, []]);
    assert.deepEqual(await aborted(0, 1), [2, 2, [{ producerId: pid, firstOffset: 0 }]]);
    assert.equal(await listOffset(wire, topic, 0, READ_COMMITTED), 5);
    assert.equal(await listOffset(wire, topic, 1, READ_COMMITTED), 2);
  });

  test('kafkajs: commit over 2 topics / 3 partitions, abort, read_committed and readUncommitted consumers', {
    timeout: testTimeoutMs,
  }, async () => {
    const a = 'txn-kafkajs-a';
    const b = 'txn-kafkajs-b';
    await createTopic(wire, a, 2);
    await createTopic(wire, b, 1);
    const producer = kafkajsTransactionalProducer(broker.bootstrap, 'kafkajs-tid');
    await producer.connect();
    try {
      const runTransaction = async (
        commit: boolean,
        messages: { topic: string; partition: number; value: string }[],
      ) => {
        const transaction = await producer.transaction();
        await transaction.sendBatch({
          topicMessages: [a, b].map((topic) => ({
            topic,
            messages: messages
              .filter((m) => m.topic === topic)
              .map(({ partition, value }) => ({ partition, value })),
          })),
        });
        if (commit) await transaction.commit();
        else await transaction.abort();
      };
      await runTransaction(true, [
        { topic: a, partition: 0, value: 'c1' },
        { topic: a, partition: 0, value: 'c2' },
        { topic: a, partition: 1, value: 'c3' },
        { topic: b, partition: 0, value: 'c4' },
      ]);
      await runTransaction(false, [
        { topic: a, partition: 0, value: 'x1' },
        { topic: a, partition: 1, value: 'x2' },
        { topic: b, partition: 0, value: 'x3' },
      ]);
      await runTransaction(true, [
        { topic: a, partition: 0, value: 'c5' },
        { topic: b, partition: 0, value: 'c6' },
      ]);
    } finally {
      await producer.disconnect();
    }

    assert.deepEqual(await layout(wire, a, 0), [
      [0, 'c1'],
      [1, 'c2'],
      [2, COMMIT],
      [3, 'x1'],
      [4, ABORT],
      [5, 'c5'],
      [6, COMMIT],
    ]);
    assert.deepEqual(await layout(wire, a, 1), [
      [0, 'c3'],
      [1, COMMIT],
      [2, 'x2'],
      [3, ABORT],
    ]);
    assert.deepEqual(await layout(wire, b, 0), [
      [0, 'c4'],
      [1, COMMIT],
      [2, 'x3'],
      [3, ABORT],
      [4, 'c6'],
      [5, COMMIT],
    ]);

    const kafka = createKafka(broker.bootstrap);
    assert.deepEqual(await kafkajsRead(kafka, a, { 0: 5, 1: 0 }, { readUncommitted: false }), [
      [0, 0, 'c1'],
      [0, 1, 'c2'],
      [0, 5, 'c5'],
      [1, 0, 'c3'],
    ] satisfies Delivered[]);
    assert.deepEqual(await kafkajsRead(kafka, b, { 0: 4 }, { readUncommitted: false }), [
      [0, 0, 'c4'],
      [0, 4, 'c6'],
    ] satisfies Delivered[]);
    assert.deepEqual(await kafkajsRead(kafka, a, { 0: 5, 1: 2 }, { readUncommitted: true }), [
      [0, 0, 'c1'],
      [0, 1, 'c2'],
      [0, 3, 'x1'],
      [0, 5, 'c5'],
      [1, 0, 'c3'],
      [1, 2, 'x2'],
    ] satisfies Delivered[]);
  });

  test('kafkajs: sendOffsets commits group offsets with the transaction, an abort leaves the old ones', {
    timeout: testTimeoutMs,
  }, async () => {
    const source = 'txn-kafkajs-source';
    const sink = 'txn-kafkajs-sink';
    const groupId = 'txn-kafkajs-eos';
    await createTopic(wire, source, 2);
    await createTopic(wire, sink, 1);
    const kafka = createKafka(broker.bootstrap);
    const admin = kafka.admin();
    const producer = kafkajsTransactionalProducer(broker.bootstrap, 'kafkajs-eos-tid');
    await Promise.all([admin.connect(), producer.connect()]);
    const groupOffsets = async () =>
      (await admin.fetchOffsets({ groupId, topics: [source] }))
        .flatMap((t) => t.partitions.map((p) => [t.topic, p.partition, p.offset]))
        .sort((x, y) => Number(x[1]) - Number(y[1]));
    let expectedOffsets: unknown = [
      [source, 0, '-1'],
      [source, 1, '-1'],
    ];
    try {
      const consumed = async (value: string, offsets: [number, string][], commit: boolean) => {
        const transaction = await producer.transaction();
        await transaction.send({ topic: sink, messages: [{ partition: 0, value }] });
        await transaction.sendOffsets({
          consumerGroupId: groupId,
          topics: [
            { topic: source, partitions: offsets.map(([partition, offset]) => ({ partition, offset })) },
          ],
        });
        // Pending: not visible to OffsetFetch until the transaction commits.
        assert.deepEqual(await groupOffsets(), expectedOffsets, `offsets while '${value}' is open`);
        if (commit) await transaction.commit();
        else await transaction.abort();
      };
      await consumed(
        't1',
        [
          [0, '2'],
          [1, '1'],
        ],
        true,
      );
      expectedOffsets = [
        [source, 0, '2'],
        [source, 1, '1'],
      ];
      assert.deepEqual(await groupOffsets(), expectedOffsets, 'after the commit');
      await consumed(
        't2',
        [
          [0, '6'],
          [1, '3'],
        ],
        false,
      );
      assert.deepEqual(await groupOffsets(), expectedOffsets, 'after the abort');
      await consumed('t3', [[0, '7']], true);
      assert.deepEqual(
        await groupOffsets(),
        [
          [source, 0, '7'],
          [source, 1, '1'],
        ],
        'after the second commit',
      );
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
    assert.deepEqual(await layout(wire, sink, 0), [
      [0, 't1'],
      [1, COMMIT],
      [2, 't2'],
      [3, ABORT],
      [4, 't3'],
      [5, COMMIT],
    ]);
    assert.deepEqual(await kafkajsRead(kafka, sink, { 0: 4 }, { readUncommitted: false }), [
      [0, 0, 't1'],
      [0, 4, 't3'],
    ] satisfies Delivered[]);
  });

  test('confluent-kafka: transactions with send_offsets_to_transaction, both isolation levels, fencing', {
    timeout: 60_000,
  }, async () => {
    await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
    const topic = 'txn-python';
    const fenced = 'txn-python-fenced';
    await createTopic(wire, topic, 2);
    await createTopic(wire, fenced, 1);
    const script = `
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaError, KafkaException, OFFSET_BEGINNING
topic, fenced = sys.argv[3], sys.argv[4]
group = prefix + '-group'
def failure(e):
    err = e.args[0]
    return dict(error=err.name(), fatal=err.fatal())
def producer(tid):
    return Producer({'bootstrap.servers': bootstrap, 'transactional.id': tid, 'linger.ms': 0})
def read(name, partitions, isolation):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': prefix + '-reader', 'enable.auto.commit': False,
                  'enable.partition.eof': True, 'isolation.level': isolation})
    c.assign([TopicPartition(name, p, OFFSET_BEGINNING) for p in range(partitions)])
    records, errors, eof = [], [], set()
    deadline = time.monotonic() + 15
    while len(eof) < partitions and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
            else:
                errors.append(m.error().name())
            continue
        records.append([m.partition(), m.offset(), m.value().decode()])
    c.close()
    return dict(records=sorted(records, key=lambda r: r[0]), errors=errors, eof=sorted(eof))

group_consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False})
def committed():
    found = group_consumer.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=10)
    return [tp.offset for tp in found]

p = producer(prefix + '-tid')
p.init_transactions(15)
p.begin_transaction()
p.produce(topic, value='c0', partition=0)
p.produce(topic, value='c1', partition=0)
p.produce(topic, value='c2', partition=1)
p.send_offsets_to_transaction([TopicPartition(topic, 0, 7)], group_consumer.consumer_group_metadata(), 15)
p.commit_transaction(15)
out('committed', offsets=committed())

p.begin_transaction()
p.produce(topic, value='x0', partition=0)
p.produce(topic, value='x1', partition=1)
p.flush(10)
p.send_offsets_to_transaction([TopicPartition(topic, 0, 99), TopicPartition(topic, 1, 42)],
                              group_consumer.consumer_group_metadata(), 15)
p.abort_transaction(15)
out('aborted', offsets=committed())

p.begin_transaction()
p.produce(topic, value='c3', partition=1)
p.commit_transaction(15)
out('read_committed', **read(topic, 2, 'read_committed'))
out('read_uncommitted', **read(topic, 2, 'read_uncommitted'))

first = producer(prefix + '-fenced-tid')
first.init_transactions(15)
first.begin_transaction()
first.produce(fenced, value='f1', partition=0)
first.flush(10)
second = producer(prefix + '-fenced-tid')
second.init_transactions(30)
second.begin_transaction()
second.produce(fenced, value='f2', partition=0)
second.commit_transaction(15)
try:
    first.commit_transaction(15)
    out('fenced', commit=None)
except KafkaException as e:
    out('fenced', commit=failure(e))
out('fenced_read_committed', **read(fenced, 1, 'read_committed'))
group_consumer.close()
`;
    const steps = await runPythonSteps(script, {
      bootstrap: broker.bootstrap,
      prefix: 'txn-python',
      extraArgs: [topic, fenced],
      timeoutMs: 55_000,
    });
    const OFFSET_INVALID = -1001;
    assert.deepEqual(steps, [
      { step: 'committed', offsets: [7, OFFSET_INVALID] },
      { step: 'aborted', offsets: [7, OFFSET_INVALID] },
      {
        step: 'read_committed',
        records: [
          [0, 0, 'c0'],
          [0, 1, 'c1'],
          [1, 0, 'c2'],
          [1, 4, 'c3'],
        ],
        errors: [],
        eof: [0, 1],
      },
      {
        step: 'read_uncommitted',
        records: [
          [0, 0, 'c0'],
          [0, 1, 'c1'],
          [0, 3, 'x0'],
          [1, 0, 'c2'],
          [1, 2, 'x1'],
          [1, 4, 'c3'],
        ],
        errors: [],
        eof: [0, 1],
      },
      // librdkafka reports PRODUCER_FENCED / INVALID_PRODUCER_EPOCH as its own fatal _FENCED.
      { step: 'fenced', commit: { error: '_FENCED', fatal: true } },
      { step: 'fenced_read_committed', records: [[0, 2, 'f2']], errors: [], eof: [0] },
    ]);
    assert.deepEqual(await layout(wire, topic, 0), [
      [0, 'c0'],
      [1, 'c1'],
      [2, COMMIT],
      [3, 'x0'],
      [4, ABORT],
    ]);
    assert.deepEqual(await layout(wire, topic, 1), [
      [0, 'c2'],
      [1, COMMIT],
      [2, 'x1'],
      [3, ABORT],
      [4, 'c3'],
      [5, COMMIT],
    ]);
    // The second producer's InitProducerId aborted the first one's open transaction before its own began.
    assert.deepEqual(await layout(wire, fenced, 0), [
      [0, 'f1'],
      [1, ABORT],
      [2, 'f2'],
      [3, COMMIT],
    ]);
  });

  describe('committed, aborted and open transactions in one partition', () => {
    const topic = 'txn-mixed';
    /** The log once the open transaction has committed. */
    const finalLayout: [number, string][] = [
      [0, 'k-c0'],
      [1, 'k-c1'],
      [2, COMMIT],
      [3, 'k-x0'],
      [4, ABORT],
      [5, 'plain0'],
      [6, 'k-o0'],
      [7, 'plain1'],
      [8, COMMIT],
    ];
    const committedRecords: Delivered[] = [
      [0, 0, 'k-c0'],
      [0, 1, 'k-c1'],
      [0, 5, 'plain0'],
      [0, 6, 'k-o0'],
      [0, 7, 'plain1'],
    ];

    test('kcat read_committed stops at the open transaction (LSO); read_uncommitted shows all', {
      timeout: testTimeoutMs,
    }, async () => {
      await createTopic(wire, topic, 1);
      const kafka = createKafka(broker.bootstrap);
      const plain = kafka.producer();
      const producer = kafkajsTransactionalProducer(broker.bootstrap, 'mixed-tid');
      await Promise.all([plain.connect(), producer.connect()]);
      try {
        const committed = await producer.transaction();
        await committed.send({ topic, messages: [{ value: 'k-c0' }, { value: 'k-c1' }] });
        await committed.commit();
        const aborted = await producer.transaction();
        await aborted.send({ topic, messages: [{ value: 'k-x0' }] });
        await aborted.abort();
        await plain.send({ topic, acks: -1, messages: [{ value: 'plain0' }] });
        const open = await producer.transaction();
        await open.send({ topic, messages: [{ value: 'k-o0' }] });
        await plain.send({ topic, acks: -1, messages: [{ value: 'plain1' }] });

        assert.equal(await listOffset(wire, topic, 0, READ_COMMITTED), 6);
        assert.equal(await listOffset(wire, topic, 0, READ_UNCOMMITTED), 8);
        assert.deepEqual(await kcatRead(broker.bootstrap, topic, 'read_committed'), [
          [0, 0, 'k-c0'],
          [0, 1, 'k-c1'],
          [0, 5, 'plain0'],
        ] satisfies Delivered[]);
        assert.deepEqual(await kcatRead(broker.bootstrap, topic, 'read_uncommitted'), [
          [0, 0, 'k-c0'],
          [0, 1, 'k-c1'],
          [0, 3, 'k-x0'],
          [0, 5, 'plain0'],
          [0, 6, 'k-o0'],
          [0, 7, 'plain1'],
        ] satisfies Delivered[]);

        await open.commit();
      } finally {
        await Promise.all([plain.disconnect(), producer.disconnect()]);
      }
      assert.deepEqual(await layout(wire, topic, 0), finalLayout);
      assert.equal(await listOffset(wire, topic, 0, READ_COMMITTED), 9);
      assert.deepEqual(await kcatRead(broker.bootstrap, topic, 'read_committed'), committedRecords);
    });

    test('kafka-python 2.0.2: no isolation_level setting; its consumer sees every record, markers too', {
      timeout: testTimeoutMs,
    }, async () => {
      await assertPythonModule('kafka', 'python3-kafka');
      const script = `
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaConfigurationError
topic = sys.argv[3]
try:
    KafkaConsumer(bootstrap_servers=bootstrap, isolation_level='read_committed').close()
    out('isolation_level', refused=None)
except KafkaConfigurationError as e:
    out('isolation_level', refused=type(e).__name__)
c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=8000)
tp = TopicPartition(topic, 0)
c.assign([tp])
c.seek_to_beginning(tp)
records = []
for m in c:
    if m.key is None:
        records.append([m.offset, m.value.decode()])
    else:
        records.append([m.offset, 'control:' + m.key.hex(), len(m.value)])
    if m.offset >= 8:
        break
out('records', records=records)
c.close()
`;
      const steps = await runPythonSteps(script, {
        bootstrap: broker.bootstrap,
        prefix: 'txn-kafka-python',
        extraArgs: [topic],
        timeoutMs: programTimeoutMs,
      });
      // Against Kafka, kafka-python 2.0.2 refuses the setting and hands control records to the application.
      assert.deepEqual(steps, [
        { step: 'isolation_level', refused: 'KafkaConfigurationError' },
        {
          step: 'records',
          records: [
            [0, 'k-c0'],
            [1, 'k-c1'],
            [2, 'control:00000001', 6],
            [3, 'k-x0'],
            [4, 'control:00000000', 6],
            [5, 'plain0'],
            [6, 'k-o0'],
            [7, 'plain1'],
            [8, 'control:00000001', 6],
          ],
        },
      ]);
    });

    test("Sluice's Consumer, isolationLevel 'read_committed': aborted records and markers skipped, position = log end", {
      timeout: testTimeoutMs,
    }, async () => {
      const consumer = new SluiceConsumer({
        bootstrap: broker.bootstrap,
        isolationLevel: 'read_committed',
        fetchMaxWaitMs: 100,
      });
      const delivered: Delivered[] = [];
      await consumer.connect();
      try {
        consumer.assign([{ topic, partition: 0, offset: 0 }]);
        const iterator = consumer[Symbol.asyncIterator]();
        const deadline = Date.now() + 10_000;
        while (delivered.length < committedRecords.length) {
          const remainingMs = deadline - Date.now();
          assert.ok(remainingMs > 0, `timed out; got ${JSON.stringify(delivered)}`);
          let timer: NodeJS.Timeout | undefined;
          const next = await Promise.race([
            iterator.next(),
            new Promise<'timeout'>((resolve) => {
              timer = setTimeout(resolve, remainingMs, 'timeout');
            }),
          ]);
          clearTimeout(timer);
          assert.ok(next !== 'timeout' && !next.done, `no message; got ${JSON.stringify(delivered)}`);
          delivered.push([next.value.partition, next.value.offset, next.value.value?.toString() ?? '<null>']);
        }
        assert.deepEqual(delivered, committedRecords);
        // The final COMMIT marker at 8 is passed over: the position reaches the log end offset, 9.
        await waitFor(
          () => consumer.position(topic, 0) === 9,
          5_000,
          () => `position ${consumer.position(topic, 0)}, expected 9`,
        );
      } finally {
        await consumer.close();
      }
    });
  });

  test('@platformatic/kafka: beginTransaction/commit/abort, consumers at both isolation levels', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'txn-platformatic';
    await createTopic(wire, topic, 1);
    const bootstrapBrokers = [broker.bootstrap];
    const producer = new PlatformaticProducer({
      clientId: 'txn-platformatic',
      bootstrapBrokers,
      serializers: stringSerializers,
      idempotent: true,
      transactionalId: 'platformatic-tid',
    });
    try {
      const run = async (values: string[], commit: boolean) => {
        const transaction = await producer.beginTransaction();
        await transaction.send({ messages: values.map((value) => ({ topic, partition: 0, value })) });
        if (commit) await transaction.commit();
        else await transaction.abort();
      };
      await run(['p-c0', 'p-c1'], true);
      await run(['p-x0'], false);
      await run(['p-c2'], true);
    } finally {
      await producer.close();
    }
    assert.deepEqual(await layout(wire, topic, 0), [
      [0, 'p-c0'],
      [1, 'p-c1'],
      [2, COMMIT],
      [3, 'p-x0'],
      [4, ABORT],
      [5, 'p-c2'],
      [6, COMMIT],
    ]);

    const consume = async (isolationLevel: number, lastOffset: number): Promise<Delivered[]> => {
      const consumer = new PlatformaticConsumer({
        groupId: `txn-platformatic-${isolationLevel}`,
        clientId: 'txn-platformatic-consumer',
        bootstrapBrokers,
        deserializers: stringDeserializers,
        maxWaitTime: 100,
        isolationLevel,
      });
      const delivered: Delivered[] = [];
      try {
        const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
        const reading = (async () => {
          for await (const message of stream) {
            delivered.push([message.partition, Number(message.offset), message.value]);
            if (Number(message.offset) >= lastOffset) break;
          }
        })();
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          reading.then(() => 'done' as const),
          new Promise<'timeout'>((resolve) => {
            timer = setTimeout(resolve, 15_000, 'timeout');
          }),
        ]);
        clearTimeout(timer);
        await stream.close();
        assert.equal(outcome, 'done', `isolation ${isolationLevel}: got ${JSON.stringify(delivered)}`);
      } finally {
        await consumer.close(true);
      }
      return delivered;
    };
    assert.deepEqual(await consume(1, 5), [
      [0, 0, 'p-c0'],
      [0, 1, 'p-c1'],
      [0, 5, 'p-c2'],
    ] satisfies Delivered[]);
    assert.deepEqual(await consume(0, 5), [
      [0, 0, 'p-c0'],
      [0, 1, 'p-c1'],
      [0, 3, 'p-x0'],
      [0, 5, 'p-c2'],
    ] satisfies Delivered[]);
  });
});

describe('transaction timeout', () => {
  let broker: Broker;
  let wire: WireClient;

  before(async () => {
    broker = await startBroker({
      args: [...brokerArgs, '--set', 'transaction.abort.timed.out.transaction.cleanup.interval.ms=500'],
    });
    wire = await WireClient.connect(broker.port);
  });

  after(async () => {
    wire?.close();
    await disposeAllBrokers();
  });

  test('an open transaction past its timeout is aborted by the broker; read_committed consumers move on', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'txn-timeout';
    await createTopic(wire, topic, 1);
    const producer = new RawTransactionalProducer(wire, 'timeout-tid', 2_000);
    assert.equal((await findTransactionCoordinator(wire, 'timeout-tid')).errorCode, 0);
    assert.equal((await producer.init()).errorCode, 0);
    const pid = Number(producer.producerId);
    const epoch = producer.producerEpoch;
    assert.deepEqual(await producer.addPartitions(topic, [0]), [0]);
    assert.deepEqual(await producer.produce(topic, 0, ['stuck']), produced(0));
    const kafka = createKafka(broker.bootstrap);
    const plain = kafka.producer();
    await plain.connect();
    try {
      await plain.send({ topic, acks: -1, messages: [{ value: 'after' }] });
    } finally {
      await plain.disconnect();
    }
    assert.equal(await listOffset(wire, topic, 0, READ_COMMITTED), 0);

    // A kafkajs consumer (read_committed) waits at the open transaction, then gets 'after' once it is aborted.
    const startedMs = Date.now();
    const delivered = await kafkajsRead(
      kafka,
      topic,
      { 0: 1 },
      { readUncommitted: false, timeoutMs: 15_000 },
    );
    assert.deepEqual(delivered, [[0, 1, 'after']] satisfies Delivered[]);
    assert.ok(Date.now() - startedMs < 12_000, `took ${Date.now() - startedMs} ms`);

    assert.deepEqual(await layout(wire, topic, 0), [
      [0, 'stuck'],
      [1, 'after'],
      [2, ABORT],
    ]);
    const log = await readLog(wire, topic, 0);
    // The coordinator aborts with a bumped epoch, which fences the producer.
    assert.deepEqual(
      log.batches.map((b) => [b.baseOffset, b.isControl, b.producerId, b.producerEpoch]),
      [
        [0, false, pid, epoch],
        // kafkajs stamps its non-idempotent batches with producer id -1 and epoch 0.
        [1, false, -1, 0],
        [2, true, pid, epoch + 1],
      ],
    );
    const fetched = await fetchPartition(wire, topic, 0, 0, READ_COMMITTED);
    assert.deepEqual(
      [fetched.highWatermark, fetched.lastStableOffset, fetched.abortedTransactions],
      [3, 3, [{ producerId: pid, firstOffset: 0 }]],
    );
    assert.equal(await producer.end(true), ErrorCode.PRODUCER_FENCED);
    assert.deepEqual(await producer.addPartitions(topic, [0]), [ErrorCode.PRODUCER_FENCED]);
  });
});
