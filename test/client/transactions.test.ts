// Sluice's transactional Producer against a real Sluice broker process: committed transactions are read by
// read_committed consumers (ours and kafkajs) exactly, aborted ones only by read_uncommitted; offsets sent
// with a transaction reach the group only when it commits (consume-transform-produce exactly once); a
// second producer with the same transactional id fences the first.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import {
  Admin,
  Consumer,
  type ConsumerMessage,
  type ConsumerOptions,
  Producer,
  ProducerFencedError,
  type ProducerOptions,
} from '../../src/index.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { waitFor } from '../helpers/wait.js';

const WAIT_MS = 15_000;

/** Reads `count` messages from the consumer's iterator, failing after timeoutMs with what it got. */
async function take(consumer: Consumer, count: number, timeoutMs = WAIT_MS): Promise<ConsumerMessage[]> {
  const messages: ConsumerMessage[] = [];
  const iterator = consumer[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  try {
    while (messages.length < count) {
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        iterator.next(),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), 'timeout');
        }),
      ]);
      clearTimeout(timer);
      if (result === 'timeout') {
        throw new Error(
          `got ${messages.length} of ${count} messages: ${JSON.stringify(byPartition(messages))}`,
        );
      }
      if (result.done) throw new Error(`iterator ended after ${messages.length} of ${count} messages`);
      messages.push(result.value);
    }
  } finally {
    await iterator.return?.();
  }
  return messages;
}

/** Values per partition, in offset order. */
function byPartition(messages: readonly ConsumerMessage[]): Record<number, string[]> {
  const result: Record<number, string[]> = {};
  for (const m of [...messages].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const values = result[m.partition] ?? [];
    values.push(m.value?.toString() ?? '<null>');
    result[m.partition] = values;
  }
  return result;
}

describe('transactional Producer against a Sluice broker', { timeout: 120_000 }, () => {
  let broker: Broker;
  let admin: Admin;
  let kafka: Kafka;
  const clients: Array<{ close(): Promise<void> }> = [];

  function unique(prefix: string): string {
    return `${prefix}-${randomUUID().slice(0, 8)}`;
  }

  async function producer(options: Partial<ProducerOptions> = {}): Promise<Producer> {
    const created = new Producer({ bootstrap: broker.bootstrap, lingerMs: 2, ...options });
    clients.push(created);
    await created.connect();
    return created;
  }

  function consumer(options: Partial<ConsumerOptions> = {}): Consumer {
    const created = new Consumer({
      bootstrap: broker.bootstrap,
      fetchMaxWaitMs: 100,
      fromBeginning: true,
      ...options,
    });
    clients.push(created);
    return created;
  }

  /** Every partition of `topic` from the start, without a group. */
  async function assignedConsumer(topic: string, partitions: number, options: Partial<ConsumerOptions>) {
    const reader = consumer(options);
    await reader.connect();
    reader.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    return reader;
  }

  async function logEndOffsets(topic: string): Promise<number[]> {
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    try {
      const offsets = await kafkaAdmin.fetchTopicOffsets(topic);
      return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
    } finally {
      await kafkaAdmin.disconnect();
    }
  }

  async function createTopic(partitions: number): Promise<string> {
    const topic = unique('txn');
    await admin.createTopics([{ topic, numPartitions: partitions, replicationFactor: 1 }]);
    return topic;
  }

  before(async () => {
    broker = await startBroker();
    admin = new Admin({ bootstrap: broker.bootstrap });
    await admin.connect();
    kafka = createKafka(broker.bootstrap);
  });

  after(async () => {
    for (const client of clients) await client.close().catch(() => {});
    await admin?.close();
    await disposeAllBrokers();
  });

  test('read_committed sees committed transactions only; read_uncommitted sees aborted ones too', async () => {
    const topic = await createTopic(3);
    const transactional = await producer({ transactionalId: unique('tx') });
    await transactional.initTransactions();
    assert.equal(transactional.transactionState, 'ready');

    transactional.beginTransaction();
    await transactional.send({
      topic,
      messages: [
        { value: 'c1', partition: 0 },
        { value: 'c2', partition: 1 },
      ],
    });
    await transactional.commitTransaction();

    transactional.beginTransaction();
    const aborted = await transactional.send({
      topic,
      messages: [
        { value: 'a1', partition: 0 },
        { value: 'a2', partition: 2 },
      ],
    });
    assert.deepEqual(
      aborted.map((m) => m.partition),
      [0, 2],
    );
    await transactional.abortTransaction();

    transactional.beginTransaction();
    await transactional.send({ topic, messages: [{ value: 'c3', partition: 2 }] });
    await transactional.commitTransaction();

    const committedReader = await assignedConsumer(topic, 3, { isolationLevel: 'read_committed' });
    assert.deepEqual(byPartition(await take(committedReader, 3)), { 0: ['c1'], 1: ['c2'], 2: ['c3'] });
    // Past the markers: every position reaches the log end, and nothing else arrives.
    const ends = await logEndOffsets(topic);
    await waitFor(
      () => [0, 1, 2].every((p) => committedReader.position(topic, p) === ends[p]),
      WAIT_MS,
      () => `positions ${[0, 1, 2].map((p) => committedReader.position(topic, p))}, log ends ${ends}`,
    );

    const uncommittedReader = await assignedConsumer(topic, 3, { isolationLevel: 'read_uncommitted' });
    assert.deepEqual(byPartition(await take(uncommittedReader, 5)), {
      0: ['c1', 'a1'],
      1: ['c2'],
      2: ['a2', 'c3'],
    });

    // kafkajs reads read_committed by default.
    const seen: string[] = [];
    const kafkajsConsumer = kafka.consumer({ groupId: unique('kjs'), maxWaitTimeInMs: 100 });
    await kafkajsConsumer.connect();
    try {
      await kafkajsConsumer.subscribe({ topic, fromBeginning: true });
      await kafkajsConsumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push(`${partition}:${message.value?.toString()}`);
        },
      });
      await waitFor(
        () => seen.length >= 3,
        WAIT_MS,
        () => `kafkajs saw ${seen.join(',')}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await kafkajsConsumer.disconnect();
    }
    assert.deepEqual(seen.sort(), ['0:c1', '1:c2', '2:c3']);
  });

  test('consume-transform-produce: the group offsets commit with the transaction, exactly once', async () => {
    const input = await createTopic(1);
    const output = await createTopic(1);
    const groupId = unique('etl');
    const plain = await producer();
    await plain.send({ topic: input, messages: ['w', 'x', 'y', 'z'].map((value) => ({ value })) });

    const reader = consumer({ groupId, autoCommit: false, isolationLevel: 'read_committed' });
    await reader.connect();
    reader.subscribe([input]);
    const batch = await take(reader, 4);
    const transactional = await producer({ transactionalId: unique('etl-tx') });
    await transactional.initTransactions();

    const transform = async (commit: boolean) => {
      transactional.beginTransaction();
      await transactional.send({
        topic: output,
        messages: batch.map((m) => ({ value: m.value!.toString().toUpperCase() })),
      });
      await transactional.sendOffsetsToTransaction(
        [{ topic: input, partition: 0, offset: batch.at(-1)!.offset + 1 }],
        reader.groupMetadata(),
      );
      if (commit) await transactional.commitTransaction();
      else await transactional.abortTransaction();
    };

    await transform(false);
    assert.deepEqual(await admin.listGroupOffsets(groupId), []);
    await transform(true);
    assert.deepEqual(
      (await admin.listGroupOffsets(groupId)).map((o) => [o.topic, o.partition, o.offset]),
      [[input, 0, 4]],
    );
    const outputReader = await assignedConsumer(output, 1, { isolationLevel: 'read_committed' });
    assert.deepEqual(byPartition(await take(outputReader, 4)), { 0: ['W', 'X', 'Y', 'Z'] });
    const [end] = await logEndOffsets(output);
    await waitFor(
      () => outputReader.position(output, 0) === end,
      WAIT_MS,
      () => `position ${outputReader.position(output, 0)}, log end ${end}`,
    );
  });

  test('a second producer with the same transactional id fences the first and aborts its transaction', async () => {
    const topic = await createTopic(1);
    const transactionalId = unique('fenced');
    const first = await producer({ transactionalId });
    await first.initTransactions();
    first.beginTransaction();
    await first.send({ topic, messages: [{ value: 'from-first' }] });

    const second = await producer({ transactionalId });
    await second.initTransactions();
    await assert.rejects(first.commitTransaction(), ProducerFencedError);
    assert.equal(first.transactionState, 'fatal-error');

    second.beginTransaction();
    await second.send({ topic, messages: [{ value: 'from-second' }] });
    await second.commitTransaction();

    const reader = await assignedConsumer(topic, 1, { isolationLevel: 'read_committed' });
    assert.deepEqual(byPartition(await take(reader, 1)), { 0: ['from-second'] });
    const [end] = await logEndOffsets(topic);
    await waitFor(
      () => reader.position(topic, 0) === end,
      WAIT_MS,
      () => `position ${reader.position(topic, 0)}, log end ${end}`,
    );
  });
});
