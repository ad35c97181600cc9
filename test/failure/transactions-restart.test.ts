// An exactly-once consume-transform-produce loop (kafkajs: a transaction per batch with sendOffsets) through a
// graceful broker restart in the middle of the stream. Transactions caught by the restart are aborted and their
// batches processed again; afterwards the output topic, read read_committed, holds each input record's transform
// exactly once and in input order, and the group's committed offsets are the input's end.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Broker, disposeAllBrokers, freePort, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { createTopic, kcatRead, readLog } from '../helpers/transactions.js';
import { committedEntries } from '../helpers/txn-log-model.js';
import { waitFor } from '../helpers/wait.js';
import { WireClient } from '../helpers/wire-client.js';

const INPUT = 'restart-eos-in';
const OUTPUT = 'restart-eos-out';
const GROUP = 'restart-eos-group';
const PARTITIONS = 3;
const RECORDS = 900;

describe('exactly-once through a broker restart', () => {
  let broker: Broker;
  let port: number;

  before(async () => {
    port = await freePort();
    broker = await startBroker({
      args: ['--listen', `127.0.0.1:${port}`, '--set', 'group.initial.rebalance.delay.ms=0'],
    });
  });

  after(async () => {
    await disposeAllBrokers();
  });

  test('kafkajs transaction + sendOffsets per batch; graceful restart mid-stream; output exactly once', {
    timeout: 60_000,
  }, async () => {
    const bootstrap = `127.0.0.1:${port}`;
    const setup = await WireClient.connect(port);
    await createTopic(setup, INPUT, PARTITIONS);
    await createTopic(setup, OUTPUT, PARTITIONS);
    setup.close();
    const kafka = createKafka(bootstrap, {
      retry: { retries: 15, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
    const loader = kafka.producer();
    await loader.connect();
    // Many small batches in the input, so that the loop runs many small transactions.
    for (let start = 0; start < RECORDS; start += 3 * PARTITIONS) {
      await loader.send({
        topic: INPUT,
        acks: -1,
        messages: Array.from({ length: 3 * PARTITIONS }, (_, i) => ({
          value: String(start + i),
          partition: (start + i) % PARTITIONS,
        })),
      });
    }
    await loader.disconnect();

    const newProducer = async () => {
      const created = kafka.producer({
        transactionalId: 'restart-eos-tid',
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await created.connect();
      return created;
    };
    let producer = await newProducer();
    let producerBroken = false;
    const consumer = kafka.consumer({
      groupId: GROUP,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 200,
      maxBytesPerPartition: 300,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [INPUT], fromBeginning: true });
    const progress = {
      committed: 0,
      aborted: 0,
      batches: 0,
      errors: [] as string[],
      crashes: [] as string[],
      newProducers: 0,
    };
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      progress.crashes.push(`${payload.error.name}: ${payload.error.message} restart=${payload.restart}`);
      // kafkajs gives up when its own retries run out while the broker is away ("Failed to find group
      // coordinator"); as applications do, run the consumer again: it resumes from the committed offsets.
      if (!payload.restart) setTimeout(() => void run().catch(() => undefined), 500);
    });
    let atRestart = 0;
    const run = () =>
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          if (batch.messages.length === 0) return;
          if (producerBroken) {
            // kafkajs cannot leave a transaction whose EndTxn failed (it stays COMMITTING): as applications do, a
            // new producer with the same transactional id, whose InitProducerId fences the old one.
            await producer.disconnect().catch(() => undefined);
            producer = await newProducer();
            producerBroken = false;
            progress.newProducers++;
          }
          const transaction = await producer.transaction();
          try {
            await transaction.send({
              topic: OUTPUT,
              messages: batch.messages.map((m) => ({
                value: `${batch.partition}:${m.offset}:${m.value?.toString()}`,
                partition: batch.partition,
              })),
            });
            await transaction.sendOffsets({
              consumerGroupId: GROUP,
              topics: [
                {
                  topic: INPUT,
                  partitions: [
                    { partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
                  ],
                },
              ],
            });
            await transaction.commit();
          } catch (error) {
            await transaction.abort().catch(() => {
              producerBroken = true;
            });
            progress.aborted += batch.messages.length;
            progress.errors.push(`${(error as Error).name}: ${(error as Error).message}`);
            // kafkajs restarts the consumer from the group's committed offsets: the batch is processed again.
            throw error;
          }
          resolveOffset(batch.lastOffset());
          progress.committed += batch.messages.length;
          progress.batches++;
        },
      });
    await run();
    try {
      await waitFor(
        () => progress.committed >= RECORDS / 3,
        20_000,
        () => JSON.stringify(progress),
      );
      atRestart = progress.committed;
      await broker.restart();
      await waitFor(
        () => progress.committed >= RECORDS,
        30_000,
        () => `${JSON.stringify(progress)}\nbroker log tail:\n${broker.logs().slice(-3_000)}`,
      );
      // A moment for a batch still in flight (there should be none: everything is consumed) to show up.
      await sleep(300);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
    assert.equal(progress.committed, RECORDS, JSON.stringify(progress));
    assert.ok(atRestart < RECORDS, `restarted after ${atRestart} records: not mid-stream`);
    assert.ok(progress.batches > 10, JSON.stringify(progress));

    const delivered = await kcatRead(bootstrap, OUTPUT, 'read_committed', 30_000);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const values = delivered.filter((d) => d[0] === partition).map((d) => d[2]);
      const expected = Array.from(
        { length: RECORDS / PARTITIONS },
        (_, i) => `${partition}:${i}:${i * PARTITIONS + partition}`,
      );
      assert.deepEqual(values, expected, `output partition ${partition}; ${JSON.stringify(progress)}`);
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [INPUT] });
      assert.deepEqual(
        offsets[0]?.partitions
          .map((p) => [p.partition, p.offset])
          .sort((a, b) => Number(a[0]) - Number(b[0])),
        [
          [0, String(RECORDS / PARTITIONS)],
          [1, String(RECORDS / PARTITIONS)],
          [2, String(RECORDS / PARTITIONS)],
        ],
      );
    } finally {
      await admin.disconnect();
    }
    // The raw log agrees with what kcat read, and every transaction ended (the LSO is the log end). A batch whose
    // EndTxn failed in the restart may still have committed (its PrepareCommit was durable and the coordinator
    // completed it on load): the consumer then resumes after it, so it is not written twice either way.
    const wire = await WireClient.connect(port);
    try {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const raw = await readLog(wire, OUTPUT, partition);
        assert.equal(raw.lastStableOffset, raw.highWatermark);
        assert.deepEqual(
          committedEntries(raw.batches).map((e) => e[1]),
          delivered.filter((d) => d[0] === partition).map((d) => d[2]),
        );
      }
    } finally {
      wire.close();
    }
  });
});
