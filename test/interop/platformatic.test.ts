// @platformatic/kafka against a Sluice broker. It picks the broker's highest version of every API, so it
// exercises our flexible versions (Produce 11, Fetch 17 with topic IDs from Metadata 12, the classic group
// APIs at their maxima): admin create/list, produce with keys, headers and each codec its Node build has,
// acks=-1, and a consumer group reading everything back exactly and in per-partition order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { loadPlatformatic } from '../helpers/platformatic.js';

const { Admin, Consumer, Producer, stringDeserializers, stringSerializers } = await loadPlatformatic();

const testTimeoutMs = 40_000;
const PARTITIONS = 3;
const MESSAGES = 30;
const CODECS = ['none', 'gzip', 'snappy', 'lz4'] as const;

describe('@platformatic/kafka interop', () => {
  let broker: Broker;
  let bootstrapBrokers: string[];

  before(async () => {
    broker = await startBroker();
    bootstrapBrokers = [broker.bootstrap];
  });

  after(async () => {
    await disposeAllBrokers();
  });

  test('admin creates and lists topics', { timeout: testTimeoutMs }, async () => {
    const admin = new Admin({ clientId: 'sluice-test-admin', bootstrapBrokers });
    try {
      await admin.createTopics({
        topics: CODECS.map((codec) => `platformatic-${codec}`),
        partitions: PARTITIONS,
        replicas: 1,
      });
      const topics = await admin.listTopics();
      for (const codec of CODECS) assert.ok(topics.includes(`platformatic-${codec}`), `${codec} listed`);
    } finally {
      await admin.close();
    }
  });

  for (const codec of CODECS) {
    test(`produce (${codec}, acks=-1) and consume in a group: exact keys, values, headers, order`, {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `platformatic-${codec}`;
      const sent = Array.from({ length: MESSAGES }, (_, i) => ({
        topic,
        partition: i % PARTITIONS,
        key: `key-${i}`,
        value: `value-${i}-${'x'.repeat(i * 7)}`,
        headers: new Map([['sequence', String(i)]]),
      }));
      const producer = new Producer({
        clientId: 'sluice-test-producer',
        bootstrapBrokers,
        serializers: stringSerializers,
        compression: codec,
      });
      try {
        const result = await producer.send({ messages: sent, acks: -1 });
        const firstOffsets = (result.offsets ?? []).map((o) => [o.partition, o.offset]).sort();
        assert.deepEqual(
          firstOffsets,
          Array.from({ length: PARTITIONS }, (_, p) => [p, 0n]),
        );
      } finally {
        await producer.close();
      }

      const consumer = new Consumer({
        groupId: `sluice-test-${codec}`,
        clientId: 'sluice-test-consumer',
        bootstrapBrokers,
        deserializers: stringDeserializers,
        maxWaitTime: 200,
      });
      const received: { partition: number; offset: bigint; key: string; value: string; sequence: string }[] =
        [];
      try {
        const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
        for await (const message of stream) {
          received.push({
            partition: message.partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            sequence: message.headers.get('sequence') ?? '',
          });
          if (received.length === MESSAGES) break;
        }
        await stream.close();
      } finally {
        await consumer.close();
      }
      for (let p = 0; p < PARTITIONS; p++) {
        const expected = sent
          .filter((message) => message.partition === p)
          .map((message, index) => ({
            partition: p,
            offset: BigInt(index),
            key: message.key,
            value: message.value,
            sequence: message.headers.get('sequence')!,
          }));
        assert.deepEqual(
          received.filter((message) => message.partition === p),
          expected,
          `partition ${p}`,
        );
      }
    });
  }
});
