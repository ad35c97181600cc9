// Our Producer against a real Sluice broker process: keyed, keyless and header-carrying records with every codec,
// read back exactly with kcat (librdkafka) and kafkajs; keyed placement equal to kafkajs's DefaultPartitioner;
// acks=0; broker-side record errors; ordering of a long run.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import {
  Admin,
  ClientClosedError,
  Producer,
  type ProducerMessage,
  type ProducerOptions,
  RecordError,
  type RecordMetadata,
} from '../../src/index.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { type ConsumedMessage, createKafka, readAll, registerCompressionCodecs } from '../helpers/kafka.js';
import { kcatReadAll } from '../helpers/kcat.js';

const { Partitioners } = kafkajs;
const baseTimestampMs = 1_700_000_000_000;
const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

registerCompressionCodecs();

let broker: Broker;
let admin: Admin;
const producers: Producer[] = [];

function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

async function createTopic(partitions: number, configs: Record<string, string> = {}): Promise<string> {
  const topic = unique('producer');
  await admin.createTopics([{ topic, numPartitions: partitions, replicationFactor: 1, configs }]);
  return topic;
}

async function connectedProducer(options: Partial<ProducerOptions> = {}): Promise<Producer> {
  const producer = new Producer({ bootstrap: broker.bootstrap, lingerMs: 2, ...options });
  producers.push(producer);
  await producer.connect();
  return producer;
}

/** A mix of keyed, keyless and header-carrying records with distinct values and explicit timestamps. */
function mixedMessages(count: number): ProducerMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const message: ProducerMessage = {
      value: `value-${i}-${'x'.repeat(i % 7)}`,
      timestamp: baseTimestampMs + i,
    };
    if (i % 3 !== 0) message.key = `key-${i % 5}`;
    if (i % 4 === 0)
      message.headers = { source: 'sluice', binary: Buffer.from([0x41, 0x42]), seq: String(i) };
    return message;
  });
}

interface Expected {
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  timestamp: string;
}

function expectedRecords(messages: ProducerMessage[], results: RecordMetadata[]): Expected[] {
  return messages
    .map((m, i) => ({
      partition: results[i]!.partition,
      offset: String(results[i]!.offset),
      key: m.key === undefined || m.key === null ? null : m.key.toString(),
      value: String(m.value),
      headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
      timestamp: String(m.timestamp),
    }))
    .sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

function consumed(messages: ConsumedMessage[]): Expected[] {
  return messages
    .map(({ partition, offset, key, value, headers, timestamp }) => ({
      partition,
      offset,
      key,
      value: value ?? '<null>',
      headers,
      timestamp,
    }))
    .sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

describe('Producer against a Sluice broker', { timeout: 180_000 }, () => {
  before(async () => {
    broker = await startBroker({ args: ['--set', 'num.partitions=3'] });
    admin = new Admin({ bootstrap: broker.bootstrap });
    await admin.connect();
  });

  after(async () => {
    await Promise.allSettled(producers.map((p) => p.close()));
    await admin?.close();
    await disposeAllBrokers();
  });

  test('every codec: keyed, keyless and headers read back exactly by kafkajs and kcat', async () => {
    const topic = await createTopic(3);
    const expected: Expected[] = [];
    for (const compression of codecs) {
      const producer = await connectedProducer({ compression });
      const messages = mixedMessages(60).map((m) => ({ ...m, value: `${compression}:${String(m.value)}` }));
      // Two sends in flight together, so that batches hold records of both.
      const [first, second] = await Promise.all([
        producer.send({ topic, messages: messages.slice(0, 25) }),
        producer.send({ topic, messages: messages.slice(25) }),
      ]);
      const results = [...first, ...second];
      assert.equal(results.length, 60);
      for (const [i, result] of results.entries()) {
        assert.equal(result.topic, topic);
        assert.equal(result.timestamp, baseTimestampMs + i);
      }
      expected.push(...expectedRecords(messages, results));
      await producer.close();
    }
    expected.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
    // Offsets are dense per partition: 0..n-1.
    for (const partition of [0, 1, 2]) {
      const offsets = expected.filter((e) => e.partition === partition).map((e) => Number(e.offset));
      assert.deepEqual(
        offsets,
        offsets.map((_, i) => i),
      );
    }

    const viaKafkajs = await readAll(createKafka(broker.bootstrap), topic);
    assert.deepEqual(consumed(viaKafkajs), expected);

    const viaKcat = await kcatReadAll(broker.bootstrap, topic);
    assert.deepEqual(
      viaKcat,
      expected.map(({ partition, offset, value }) => ({ partition, offset, value })),
    );
  });

  test('same keys land on the same partitions as kafkajs DefaultPartitioner', async () => {
    const ours = await createTopic(7);
    const theirs = await createTopic(7);
    const keys = Array.from({ length: 200 }, (_, i) => `customer-${i * 7919}`);

    const producer = await connectedProducer();
    const results = await producer.send({ topic: ours, messages: keys.map((key) => ({ key, value: key })) });
    const ourPartitions = keys.map((_, i) => results[i]!.partition);

    const kafkajsProducer = createKafka(broker.bootstrap).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await kafkajsProducer.connect();
    const theirPartitions: number[] = [];
    try {
      // One record per send, so that kafkajs's answer names the partition of each key.
      for (const key of keys) {
        const [meta] = await kafkajsProducer.send({ topic: theirs, messages: [{ key, value: key }] });
        theirPartitions.push(meta!.partition);
      }
    } finally {
      await kafkajsProducer.disconnect();
    }
    assert.deepEqual(ourPartitions, theirPartitions);
    assert.ok(new Set(ourPartitions).size === 7, 'the keys spread over every partition');
    // And what we wrote is where we said it is.
    const stored = await kcatReadAll(broker.bootstrap, ours);
    assert.deepEqual(
      new Map(stored.map((r) => [r.value, r.partition])),
      new Map(keys.map((key, i) => [key, ourPartitions[i]])),
    );
  });

  test('acks=0 writes the records and reports offset -1', async () => {
    const topic = await createTopic(1);
    const producer = await connectedProducer({ acks: 0 });
    const results = await producer.send({
      topic,
      messages: [
        { value: 'a', timestamp: baseTimestampMs },
        { value: 'b', timestamp: baseTimestampMs + 1 },
      ],
    });
    assert.deepEqual(results, [
      { topic, partition: 0, offset: -1, timestamp: baseTimestampMs },
      { topic, partition: 0, offset: -1, timestamp: baseTimestampMs + 1 },
    ]);
    // acks=0 gives no completion signal from the broker: poll until the records are readable.
    const deadline = Date.now() + 10_000;
    let read = await kcatReadAll(broker.bootstrap, topic);
    while (read.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      read = await kcatReadAll(broker.bootstrap, topic);
    }
    assert.deepEqual(read, [
      { partition: 0, offset: '0', value: 'a' },
      { partition: 0, offset: '1', value: 'b' },
    ]);
  });

  test('a batch the broker refuses rejects with its typed error', async () => {
    const topic = await createTopic(1, { 'max.message.bytes': '1024' });
    const producer = await connectedProducer();
    const error = await producer.send({ topic, messages: [{ value: 'x'.repeat(4096) }] }).then(
      () => assert.fail('the broker should refuse a 4 KiB batch'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RecordError, `got ${String(error)}`);
    assert.equal(error.code, 10);
    assert.equal(error.type, 'MESSAGE_TOO_LARGE');
    assert.equal(error.topic, topic);
    assert.equal(error.partition, 0);
    // The partition keeps working for records that fit.
    const [ok] = await producer.send({ topic, messages: [{ value: 'small' }] });
    assert.equal(ok!.offset, 0);
  });

  test('a long run to one partition keeps send order, with many batches and requests', async () => {
    const topic = await createTopic(1);
    const producer = await connectedProducer({ batchSize: 4096, lingerMs: 1 });
    const sends: Promise<RecordMetadata[]>[] = [];
    for (let s = 0; s < 50; s++) {
      sends.push(
        producer.send({
          topic,
          messages: Array.from({ length: 40 }, (_, i) => ({ value: `r${s * 40 + i}`, partition: 0 })),
        }),
      );
    }
    const offsets = (await Promise.all(sends)).flat().map((r) => r.offset);
    assert.deepEqual(
      offsets,
      Array.from({ length: 2000 }, (_, i) => i),
    );
    const read = await kcatReadAll(broker.bootstrap, topic);
    assert.deepEqual(
      read.map((r) => r.value),
      Array.from({ length: 2000 }, (_, i) => `r${i}`),
    );
  });

  test('auto-created topic, flush, close; send after close is refused', async () => {
    const topic = unique('auto');
    const producer = await connectedProducer({ lingerMs: 60_000 });
    const pending = producer.send({ topic, messages: [{ key: 'k', value: 'v' }] });
    await producer.flush();
    const [result] = await pending;
    assert.equal(result!.offset, 0);
    await producer.close();
    await assert.rejects(producer.send({ topic, messages: [{ value: 'late' }] }), ClientClosedError);
    const read = await kcatReadAll(broker.bootstrap, topic);
    assert.deepEqual(read, [{ partition: result!.partition, offset: '0', value: 'v' }]);
  });
});
