// kcat 1.7.1 (librdkafka 2.0.2, Debian) against a real Sluice process: metadata listing, produce with keys,
// headers and every codec, consume with an exact format string, cross-client round trips and start by timestamp.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka, readAll, registerCompressionCodecs } from '../helpers/kafka.js';
import { ProgramMissingError, runProgram, runProgramOk } from '../helpers/process.js';

const testTimeoutMs = 40_000;
const baseTimestampMs = 1_700_000_000_000;
// Partition, offset, key, value, headers; -Z prints NULL for null keys and values.
const lineFormat = '%p|%o|%k|%s|%h\\n';

registerCompressionCodecs();

/** Fails (never skips) when kcat is missing: CI installs it, so a missing binary is a broken environment. */
async function assertKcatInstalled(): Promise<void> {
  try {
    const result = await runProgram('kcat', ['-V'], { timeoutMs: 5_000 });
    assert.match(result.stdout + result.stderr, /kcat/, 'kcat -V output');
  } catch (err) {
    if (err instanceof ProgramMissingError) {
      throw new Error('kcat is not installed (expected /usr/bin/kcat from the Debian "kcat" package)');
    }
    throw err;
  }
}

/** Sorts kcat's output lines by partition then offset: kcat interleaves partitions in arrival order. */
function sortedLines(stdout: string): string[] {
  const lines = stdout.split('\n').filter((line) => line.length > 0);
  const keyOf = (line: string) => line.split('|').slice(0, 2).map(Number) as [number, number];
  return lines.sort((a, b) => {
    const [pa, oa] = keyOf(a);
    const [pb, ob] = keyOf(b);
    return pa - pb || oa - ob;
  });
}

describe('kcat interop', { timeout: 180_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  const kcat = (args: string[], input?: string) =>
    runProgramOk('kcat', ['-b', broker.bootstrap, '-m', '10', ...args], {
      input: input ?? '',
      timeoutMs: 25_000,
    });
  const consumeAll = async (topic: string, extra: string[] = []) =>
    sortedLines(
      (await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-Z', '-f', lineFormat, ...extra])).stdout,
    );

  before(async () => {
    await assertKcatInstalled();
    broker = await startBroker();
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await disposeAllBrokers();
  });

  test('kcat -L -J lists the broker, topics and partitions', { timeout: testTimeoutMs }, async () => {
    await admin.createTopics({ topics: [{ topic: 'kc-meta', numPartitions: 3 }] });
    const nodeId = (await admin.describeCluster()).brokers[0]!.nodeId;
    const listing = JSON.parse((await kcat(['-L', '-J'])).stdout) as {
      brokers: Array<{ id: number; name: string }>;
      topics: Array<{
        topic: string;
        partitions: Array<{
          partition: number;
          leader: number;
          replicas: Array<{ id: number }>;
          isrs: Array<{ id: number }>;
        }>;
      }>;
    };
    assert.deepEqual(listing.brokers, [{ id: nodeId, name: `127.0.0.1:${broker.port}` }]);
    const topic = listing.topics.find((t) => t.topic === 'kc-meta');
    assert.ok(topic, `kc-meta listed: ${JSON.stringify(listing.topics.map((t) => t.topic))}`);
    assert.deepEqual(
      topic.partitions
        .map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas, isrs: p.isrs }))
        .sort((a, b) => a.partition - b.partition),
      [0, 1, 2].map((partition) => ({
        partition,
        leader: nodeId,
        replicas: [{ id: nodeId }],
        isrs: [{ id: nodeId }],
      })),
    );
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    test(`kcat produces keys and headers with ${codec} compression; kcat and kafkajs read them back`, {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `kc-${codec}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const values = Array.from({ length: 12 }, (_, i) => `${codec}-value-${i}-${'q'.repeat(i * 40)}`);
      const input = `${values.map((v, i) => `key${i}:${v}`).join('\n')}\nnull-value:\n`;
      for (const partition of ['0', '1']) {
        const produced = await kcat(
          [
            '-P',
            '-t',
            topic,
            '-p',
            partition,
            '-K',
            ':',
            '-Z',
            '-z',
            codec,
            '-H',
            'app=kcat',
            '-H',
            `codec=${codec}`,
          ],
          input,
        );
        assert.doesNotMatch(produced.stderr, /not compressing|ERROR/i, 'kcat produce stderr');
      }
      const perPartition = (partition: number) => [
        ...values.map((v, i) => `${partition}|${i}|key${i}|${v}|app=kcat,codec=${codec}`),
        `${partition}|${values.length}|null-value|NULL|app=kcat,codec=${codec}`,
      ];
      assert.deepEqual(await consumeAll(topic), [...perPartition(0), ...perPartition(1)]);

      const viaKafkajs = await readAll(kafka, topic);
      const sorted = viaKafkajs.sort(
        (a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset),
      );
      assert.deepEqual(
        sorted.map(
          (m) =>
            `${m.partition}|${m.offset}|${m.key}|${m.value}|app=${m.headers.app},codec=${m.headers.codec}`,
        ),
        [...perPartition(0), ...perPartition(1)].map((line) => line.replace('|NULL|', '|null|')),
      );
    });
  }

  test('kafkajs produces, kcat reads keys, values, nulls, headers and timestamps', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'kc-from-kafkajs';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({
        partition: i % 2,
        key: i === 4 ? null : `k${i}`,
        value: i === 7 ? null : `v${i}`,
        headers: i % 3 === 0 ? { trace: `t${i}` } : {},
        timestamp: String(baseTimestampMs + i),
      })),
    });
    const lines = sortedLines(
      (await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-Z', '-f', '%p|%o|%T|%k|%S|%s|%h\\n']))
        .stdout,
    );
    const expected = Array.from({ length: 10 }, (_, i) => {
      const key = i === 4 ? 'NULL' : `k${i}`;
      const value = i === 7 ? 'NULL' : `v${i}`;
      const size = i === 7 ? -1 : `v${i}`.length;
      const headers = i % 3 === 0 ? `trace=t${i}` : '';
      return {
        partition: i % 2,
        line: `${i % 2}|${Math.floor(i / 2)}|${baseTimestampMs + i}|${key}|${size}|${value}|${headers}`,
      };
    });
    assert.deepEqual(lines, [
      ...expected.filter((e) => e.partition === 0).map((e) => e.line),
      ...expected.filter((e) => e.partition === 1).map((e) => e.line),
    ]);
  });

  test('kcat -o s@<timestamp> starts at the first record at or after it', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'kc-by-time';
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
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
    const from = async (timestampMs: number) =>
      (await kcat(['-C', '-t', topic, '-o', `s@${timestampMs}`, '-e', '-f', '%o:%s\\n'])).stdout;
    assert.equal(await from(baseTimestampMs + 3_500), '4:t4\n5:t5\n6:t6\n7:t7\n8:t8\n9:t9\n');
    assert.equal(await from(baseTimestampMs + 8_000), '8:t8\n9:t9\n');
    assert.equal(
      await from(baseTimestampMs - 1_000),
      '0:t0\n1:t1\n2:t2\n3:t3\n4:t4\n5:t5\n6:t6\n7:t7\n8:t8\n9:t9\n',
    );
  });

  test('kcat high-level consumer group reads a multi-partition topic', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'kc-group';
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 9 }, (_, i) => ({ partition: i % 3, key: `g${i}`, value: `gv${i}` })),
    });
    const result = await kcat([
      '-G',
      'kc-group-reader',
      '-X',
      'auto.offset.reset=earliest',
      '-c',
      '9',
      '-f',
      '%p|%o|%k|%s|%h\\n',
      '-X',
      'session.timeout.ms=6000',
      topic,
    ]);
    assert.deepEqual(
      sortedLines(result.stdout),
      Array.from({ length: 9 }, (_, i) => i)
        .sort((a, b) => (a % 3) - (b % 3) || a - b)
        .map((i) => `${i % 3}|${Math.floor(i / 3)}|g${i}|gv${i}|`),
    );
  });
});
