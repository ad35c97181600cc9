// Record bytes survive the broker's buffer reuse: large Produce requests (assembled in pooled frames) from
// several kafkajs producers at once, while a consumer tails the topic (tail-cache chunks) and, afterwards, a
// second one reads it all through a small fetch.memory.bytes (pooled read windows reused response after
// response; each partition gets more than its 4 MiB tail cache holds, so the start comes from disk). Every
// value is derived from its key, so any byte from a reused buffer shows.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import kafkajs from 'kafkajs';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';

const { Partitioners } = kafkajs;

const testTimeoutMs = 90_000;
const TOPIC = 'integrity';
const PARTITIONS = 2;
const PRODUCERS = 3;
const SENDS_PER_PRODUCER = 30;
/** Messages per send: ~1 KiB each, so every request is well above the 64 KiB pooled-frame threshold. */
const MESSAGES_PER_SEND = 150;
const VALUE_BYTES = 1000;

function keyOf(producer: number, send: number, message: number): string {
  return `${producer}-${send}-${message}`;
}

/** VALUE_BYTES bytes that depend on every character of the key. */
function expectedValue(key: string): Buffer {
  const value = Buffer.alloc(VALUE_BYTES);
  let block = createHash('sha256').update(key).digest();
  for (let at = 0; at < VALUE_BYTES; at += block.length) {
    block.copy(value, at);
    block = createHash('sha256').update(block).digest();
  }
  return value;
}

interface Received {
  key: string | null;
  value: Buffer | null;
}

/** Reads `count` messages of TOPIC from the beginning through a fresh group, keeping the value bytes. */
async function consume(kafka: Kafka, count: number, timeoutMs: number): Promise<Received[]> {
  const consumer = kafka.consumer({ groupId: `integrity-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const received: Received[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`got ${received.length} of ${count} messages in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              // kafkajs hands out views of its response buffer: keep copies.
              received.push({
                key: message.key === null ? null : message.key.toString(),
                value: message.value === null ? null : Buffer.from(message.value),
              });
            }
            if (received.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error);
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

function check(messages: Received[], label: string): void {
  const seen = new Set<string>();
  let corrupt = 0;
  for (const message of messages) {
    assert.ok(message.key !== null && message.value !== null, `${label}: a message without key or value`);
    if (!expectedValue(message.key).equals(message.value)) corrupt++;
    assert.ok(!seen.has(message.key), `${label}: ${message.key} read twice`);
    seen.add(message.key);
  }
  assert.equal(corrupt, 0, `${label}: ${corrupt} of ${messages.length} values differ from what was sent`);
  assert.equal(seen.size, PRODUCERS * SENDS_PER_PRODUCER * MESSAGES_PER_SEND, `${label}: every key once`);
}

describe('record bytes under buffer reuse', () => {
  let broker: Broker;
  let kafka: Kafka;

  before(async () => {
    broker = await startBroker({
      args: ['--set', 'fetch.memory.bytes=1048576', '--set', 'log.segment.bytes=1048576'],
    });
    kafka = createKafka(broker.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    await admin.disconnect();
  });

  after(async () => {
    await disposeAllBrokers();
  });

  test('concurrent large produces read back exactly, while tailing and from disk', {
    timeout: testTimeoutMs,
  }, async () => {
    const total = PRODUCERS * SENDS_PER_PRODUCER * MESSAGES_PER_SEND;
    const tailing = consume(kafka, total, 60_000);
    const producers = await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        return producer;
      }),
    );
    try {
      await Promise.all(
        producers.map(async (producer, p) => {
          for (let send = 0; send < SENDS_PER_PRODUCER; send++) {
            const messages = Array.from({ length: MESSAGES_PER_SEND }, (_, m) => {
              const key = keyOf(p, send, m);
              return { key, value: expectedValue(key), partition: (p + send + m) % PARTITIONS };
            });
            await producer.send({ topic: TOPIC, acks: 1, messages });
          }
        }),
      );
    } finally {
      await Promise.all(producers.map((producer) => producer.disconnect()));
    }
    check(await tailing, 'tailing consumer');
    check(await consume(kafka, total, 60_000), 'reading from disk');
  });
});
