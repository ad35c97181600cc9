// kafkajs 2.2.4 against a real Sluice process: admin operations, produce with every feature a record can
// carry, every compression codec, group consumption and offsets by timestamp, asserting exact content.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type {
  Admin,
  CompressionTypes as CompressionType,
  Kafka,
  Message,
  PartitionerArgs,
  Producer,
} from 'kafkajs';
import kafkajs from 'kafkajs';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { hasKafkaErrorType } from '../helpers/errors.js';
import {
  byPartition,
  CompressionTypes,
  type ConsumedMessage,
  createKafka,
  readAll,
  registerCompressionCodecs,
} from '../helpers/kafka.js';

const { ConfigResourceTypes, Partitioners } = kafkajs;
const testTimeoutMs = 40_000;
const baseTimestampMs = 1_700_000_000_000;

registerCompressionCodecs();

/** What a consumer should see for a produced message (kafkajs returns headers and timestamps as strings). */
interface ExpectedRecord {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp: string;
}

function simplify(messages: ConsumedMessage[]): ExpectedRecord[] {
  return messages.map(({ key, value, headers, timestamp }) => ({ key, value, headers, timestamp }));
}

function assertConsecutiveOffsets(messages: ConsumedMessage[], partition: number): void {
  assert.deepEqual(
    messages.map((m) => m.offset),
    messages.map((_, i) => String(i)),
    `offsets of partition ${partition}`,
  );
}

describe('kafkajs interop', { timeout: 180_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  before(async () => {
    broker = await startBroker({ args: ['--set', 'num.partitions=3'] });
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await disposeAllBrokers();
  });

  test('describeCluster reports this one broker', { timeout: testTimeoutMs }, async () => {
    const cluster = await admin.describeCluster();
    assert.equal(cluster.brokers.length, 1);
    const [self] = cluster.brokers;
    assert.equal(self?.host, '127.0.0.1');
    assert.equal(self?.port, broker.port);
    assert.equal(cluster.controller, self?.nodeId);
    assert.equal(typeof cluster.clusterId, 'string');
    assert.ok(cluster.clusterId.length > 0, 'cluster id is not empty');
  });

  test('create, list, describe, grow and delete topics', { timeout: testTimeoutMs }, async () => {
    const [self] = (await admin.describeCluster()).brokers;
    const nodeId = self!.nodeId;
    assert.equal(
      await admin.createTopics({
        topics: [
          { topic: 'admin-three', numPartitions: 3, replicationFactor: 1 },
          { topic: 'admin-one', numPartitions: 1 },
        ],
      }),
      true,
    );
    const listed = await admin.listTopics();
    assert.ok(listed.includes('admin-three'), `listTopics has admin-three: ${listed}`);
    assert.ok(listed.includes('admin-one'), `listTopics has admin-one: ${listed}`);

    const metadata = await admin.fetchTopicMetadata({ topics: ['admin-three', 'admin-one'] });
    const summary = metadata.topics
      .map((t) => ({
        name: t.name,
        partitions: t.partitions
          .map((p) => ({
            id: p.partitionId,
            error: p.partitionErrorCode,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
          }))
          .sort((a, b) => a.id - b.id),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const partition = (id: number) => ({ id, error: 0, leader: nodeId, replicas: [nodeId], isr: [nodeId] });
    assert.deepEqual(summary, [
      { name: 'admin-one', partitions: [partition(0)] },
      { name: 'admin-three', partitions: [partition(0), partition(1), partition(2)] },
    ]);

    await admin.createPartitions({ topicPartitions: [{ topic: 'admin-three', count: 5 }] });
    const grown = await admin.fetchTopicMetadata({ topics: ['admin-three'] });
    assert.deepEqual(grown.topics[0]?.partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3, 4]);

    await admin.deleteTopics({ topics: ['admin-three', 'admin-one'], timeout: 5_000 });
    const afterDelete = await admin.listTopics();
    assert.ok(!afterDelete.includes('admin-three'), `admin-three deleted: ${afterDelete}`);
    assert.ok(!afterDelete.includes('admin-one'), `admin-one deleted: ${afterDelete}`);
  });

  test('describeConfigs and alterConfigs on retention.ms', { timeout: testTimeoutMs }, async () => {
    await admin.createTopics({
      topics: [
        { topic: 'configs', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] },
      ],
    });
    const retentionOf = async (): Promise<string | undefined> => {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'configs', configNames: ['retention.ms'] }],
      });
      assert.equal(described.resources.length, 1);
      const [resource] = described.resources;
      assert.equal(resource?.errorCode, 0);
      assert.equal(resource?.resourceName, 'configs');
      return resource?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
    };
    assert.equal(await retentionOf(), '3600000');
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'configs',
          configEntries: [{ name: 'retention.ms', value: '7200000' }],
        },
      ],
    });
    assert.equal(await retentionOf(), '7200000');
  });

  test('keys, headers, null values and timestamps read back exactly with acks -1, 1 and 0', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'content';
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const expected = new Map<number, ExpectedRecord[]>([
      [0, []],
      [1, []],
      [2, []],
    ]);
    const makeMessages = (from: number, to: number): Message[] => {
      const messages: Message[] = [];
      for (let i = from; i < to; i++) {
        const partition = i % 3;
        const key = i % 5 === 4 ? null : `key-${i}`;
        const value = i % 7 === 3 ? null : `value-${i}-${'x'.repeat(i)}`;
        const headers: Record<string, string> =
          i % 2 === 0 ? { 'h-one': `one-${i}`, 'h-two': `two-${i}` } : {};
        const timestamp = String(baseTimestampMs + i * 1_000);
        messages.push({ partition, key, value, headers, timestamp });
        expected.get(partition)!.push({ key, value, headers, timestamp });
      }
      return messages;
    };

    const allAcks = await producer.send({ topic, acks: -1, messages: makeMessages(0, 12) });
    assert.deepEqual(
      allAcks
        .map((r) => ({ partition: r.partition, errorCode: r.errorCode, baseOffset: r.baseOffset }))
        .sort((a, b) => a.partition - b.partition),
      [0, 1, 2].map((partition) => ({ partition, errorCode: 0, baseOffset: '0' })),
    );
    const leaderAck = await producer.send({ topic, acks: 1, messages: makeMessages(12, 24) });
    assert.deepEqual(
      leaderAck
        .map((r) => ({ partition: r.partition, baseOffset: r.baseOffset }))
        .sort((a, b) => a.partition - b.partition),
      [0, 1, 2].map((partition) => ({ partition, baseOffset: '4' })),
    );
    await producer.send({ topic, acks: 0, messages: makeMessages(24, 36) });
    // Requests on one connection are handled in order, so once this is acknowledged the acks=0 batch is in.
    await producer.send({ topic, acks: -1, messages: makeMessages(36, 39) });

    const consumed = byPartition(await readAll(kafka, topic));
    assert.deepEqual([...consumed.keys()].sort(), [0, 1, 2]);
    for (const [partition, records] of expected) {
      const got = consumed.get(partition) ?? [];
      assertConsecutiveOffsets(got, partition);
      assert.deepEqual(simplify(got), records, `partition ${partition}`);
    }
  });

  test('keyed messages land on the partitioner-chosen partition in send order', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'keyed';
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const chosen = new Map<string, number>();
    const recordingPartitioner = () => {
      const inner = Partitioners.DefaultPartitioner();
      return (args: PartitionerArgs) => {
        const partition = inner(args);
        chosen.set(String(args.message.value), partition);
        return partition;
      };
    };
    const keyedProducer = kafka.producer({ createPartitioner: recordingPartitioner });
    await keyedProducer.connect();
    try {
      for (let batch = 0; batch < 8; batch++) {
        const messages = Array.from({ length: 25 }, (_, j) => {
          const n = batch * 25 + j;
          return { key: `user-${n % 17}`, value: `event-${n}` };
        });
        await keyedProducer.send({ topic, acks: -1, messages });
      }
    } finally {
      await keyedProducer.disconnect();
    }
    const expected = new Map<number, string[]>();
    for (let n = 0; n < 200; n++) {
      const partition = chosen.get(`event-${n}`)!;
      expected.set(partition, [...(expected.get(partition) ?? []), `event-${n}`]);
    }
    const consumed = byPartition(await readAll(kafka, topic));
    assert.deepEqual([...consumed.keys()].sort(), [...expected.keys()].sort());
    for (const [partition, values] of expected) {
      const got = consumed.get(partition) ?? [];
      assertConsecutiveOffsets(got, partition);
      assert.deepEqual(
        got.map((m) => m.value),
        values,
        `partition ${partition}`,
      );
      for (const m of got) assert.equal(m.key, `user-${Number(m.value!.slice('event-'.length)) % 17}`);
    }
  });

  const codecs: Array<[string, CompressionType]> = [
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ];
  for (const [name, compression] of codecs) {
    test(`produce and consume with ${name} compression`, { timeout: testTimeoutMs }, async () => {
      const topic = `codec-${name}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      // One value is larger than a 32 KiB xerial snappy chunk, so multi-chunk framing is exercised.
      const values = [
        ...Array.from({ length: 30 }, (_, i) => `${name} message ${i} ${'abc'.repeat(i * 5)}`),
        'z'.repeat(70_000),
      ];
      await producer.send({
        topic,
        acks: -1,
        compression,
        messages: values.map((value, i) => ({ key: `k${i}`, value, headers: { codec: name } })),
      });
      await producer.send({
        topic,
        acks: -1,
        compression,
        messages: [{ key: 'last', value: `${name} last` }],
      });
      const consumed = await readAll(kafka, topic);
      assertConsecutiveOffsets(consumed, 0);
      assert.deepEqual(
        consumed.map((m) => [m.key, m.value, m.headers]),
        [...values.map((value, i) => [`k${i}`, value, { codec: name }]), ['last', `${name} last`, {}]],
      );
    });
  }

  test('auto-created topic gets num.partitions partitions', { timeout: testTimeoutMs }, async () => {
    const topic = 'auto-created';
    await producer.send({ topic, acks: -1, messages: [{ partition: 2, value: 'first' }] });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.deepEqual(metadata.topics[0]?.partitions.map((p) => p.partitionId).sort(), [0, 1, 2]);
    const consumed = await readAll(kafka, topic);
    assert.deepEqual(
      consumed.map((m) => [m.partition, m.offset, m.value]),
      [[2, '0', 'first']],
    );
  });

  test('fetchTopicOffsetsByTimestamp finds the first offset at or after a timestamp', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'by-time';
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    // Offsets 0-4 in one batch, 5-9 in another: lookups must resolve inside a batch, not to its base offset.
    for (const start of [0, 5]) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 5 }, (_, j) => ({
          value: `t${start + j}`,
          timestamp: String(baseTimestampMs + (start + j) * 1_000),
        })),
      });
    }
    const lookup = async (timestampMs: number) => admin.fetchTopicOffsetsByTimestamp(topic, timestampMs);
    assert.deepEqual(await lookup(baseTimestampMs - 5_000), [{ partition: 0, offset: '0' }]);
    assert.deepEqual(await lookup(baseTimestampMs), [{ partition: 0, offset: '0' }]);
    assert.deepEqual(await lookup(baseTimestampMs + 2_000), [{ partition: 0, offset: '2' }]);
    assert.deepEqual(await lookup(baseTimestampMs + 2_500), [{ partition: 0, offset: '3' }]);
    assert.deepEqual(await lookup(baseTimestampMs + 7_000), [{ partition: 0, offset: '7' }]);
    assert.deepEqual(await lookup(baseTimestampMs + 9_000), [{ partition: 0, offset: '9' }]);
    // Past the last record Kafka answers -1, which kafkajs replaces with the high watermark.
    assert.deepEqual(await lookup(baseTimestampMs + 60_000), [{ partition: 0, offset: '10' }]);
  });

  test('deleteTopicRecords moves the low watermark; a consumer from the beginning starts there', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'trimmed';
    // Small segments, so that the deletion removes whole segment files as well as moving the start offset.
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'segment.bytes', value: '1024' }] }],
    });
    for (let i = 0; i < 20; i++) {
      await producer.send({ topic, messages: [0, 1].map((partition) => ({ partition, value: `v${i}` })) });
    }
    // kafkajs finds partition leaders in its cached metadata only; fetching offsets loads the topic's.
    assert.deepEqual(
      (await admin.fetchTopicOffsets(topic)).map((p) => p.high),
      ['20', '20'],
    );
    await admin.deleteTopicRecords({
      topic,
      partitions: [
        { partition: 0, offset: '12' },
        { partition: 1, offset: '-1' },
      ],
    });
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.deepEqual(
      offsets
        .map(({ partition, low, high }) => ({ partition, low, high }))
        .sort((a, b) => a.partition - b.partition),
      [
        { partition: 0, low: '12', high: '20' },
        { partition: 1, low: '20', high: '20' },
      ],
    );
    const consumer = kafka.consumer({ groupId: 'trimmed-reader' });
    const seen: { partition: number; offset: string; value: string }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${seen.length} of 8 records`)), 20_000);
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            seen.push({ partition, offset: message.offset, value: String(message.value) });
            if (seen.length === 8) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 8 }, (_, i) => ({ partition: 0, offset: String(12 + i), value: `v${12 + i}` })),
    );
  });

  test('creating an existing topic fails with TOPIC_ALREADY_EXISTS', { timeout: testTimeoutMs }, async () => {
    await admin.createTopics({ topics: [{ topic: 'exists', numPartitions: 1 }] });
    // kafkajs turns an answer where every topic is TOPIC_ALREADY_EXISTS into `false`; adding an invalid topic makes
    // it surface the per-topic errors instead, so the existing topic's own code can be checked.
    assert.equal(await admin.createTopics({ topics: [{ topic: 'exists', numPartitions: 1 }] }), false);
    await assert.rejects(
      admin.createTopics({
        topics: [
          { topic: 'exists', numPartitions: 1 },
          { topic: 'bad/name', numPartitions: 1 },
        ],
      }),
      hasKafkaErrorType('TOPIC_ALREADY_EXISTS'),
    );
  });

  test('invalid topic names fail with INVALID_TOPIC_EXCEPTION', { timeout: testTimeoutMs }, async () => {
    for (const topic of ['bad/name', 'a'.repeat(250), '..', 'spaces are bad']) {
      await assert.rejects(
        admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }),
        hasKafkaErrorType('INVALID_TOPIC_EXCEPTION'),
        `topic ${JSON.stringify(topic.slice(0, 20))}`,
      );
    }
    const listed = await admin.listTopics();
    assert.ok(!listed.includes('bad/name') && !listed.includes('..'), `no invalid topic created: ${listed}`);
  });

  test('a non-positive partition count fails with INVALID_PARTITIONS', {
    timeout: testTimeoutMs,
  }, async () => {
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'zero-partitions', numPartitions: 0 }] }),
      hasKafkaErrorType('INVALID_PARTITIONS'),
    );
    await assert.rejects(
      admin.createPartitions({ topicPartitions: [{ topic: 'exists', count: 1 }] }),
      hasKafkaErrorType('INVALID_PARTITIONS'),
      'shrinking from 1 to 1 partition',
    );
    assert.ok(!(await admin.listTopics()).includes('zero-partitions'));
  });

  test('a message over message.max.bytes fails with MESSAGE_TOO_LARGE', {
    timeout: testTimeoutMs,
  }, async () => {
    await admin.createTopics({ topics: [{ topic: 'large', numPartitions: 1 }] });
    // Random bytes do not compress, and 1.5 MB is above Kafka's default message.max.bytes (1048588).
    const huge = randomBytes(1_500_000);
    await assert.rejects(
      producer.send({ topic: 'large', acks: -1, messages: [{ value: huge }] }),
      hasKafkaErrorType('MESSAGE_TOO_LARGE'),
    );
    await producer.send({ topic: 'large', acks: -1, messages: [{ value: 'small' }] });
    const consumed = await readAll(kafka, 'large');
    assert.deepEqual(
      consumed.map((m) => [m.offset, m.value]),
      [['0', 'small']],
    );
  });

  test('producing to a missing topic with auto-create off fails with UNKNOWN_TOPIC_OR_PARTITION', {
    timeout: testTimeoutMs,
  }, async () => {
    const strict = await startBroker({ args: ['--set', 'auto.create.topics.enable=false'] });
    const strictKafka = createKafka(strict.bootstrap, { retry: { retries: 1, initialRetryTime: 100 } });
    const strictProducer = strictKafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const strictAdmin = strictKafka.admin();
    await strictProducer.connect();
    await strictAdmin.connect();
    try {
      await assert.rejects(
        strictProducer.send({ topic: 'missing', acks: -1, messages: [{ value: 'nowhere' }] }),
        hasKafkaErrorType('UNKNOWN_TOPIC_OR_PARTITION'),
      );
      assert.ok(!(await strictAdmin.listTopics()).includes('missing'), 'topic was not auto-created');
    } finally {
      await strictProducer.disconnect();
      await strictAdmin.disconnect();
      await strict.dispose();
    }
  });
});
