// Python clients against a real Sluice process: kafka-python 2.0.2 (python3-kafka) and confluent-kafka 1.7
// (python3-confluent-kafka, librdkafka 2.0.2). Each produces keyed messages with headers, reads them back by
// assignment and through a consumer group, and kafkajs cross-checks what they wrote.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka, readAll, registerCompressionCodecs } from '../helpers/kafka.js';
import { runProgramOk } from '../helpers/process.js';
import { assertPythonModule, PYTHON } from '../helpers/python.js';

const testTimeoutMs = 60_000;
const messageCount = 6;

// confluent-kafka produces lz4 here; kafkajs needs the codec to read it back.
registerCompressionCodecs();

// Both scripts print one JSON object per consumed record, sorted by (partition, offset), under a "mode" label.
const kafkaPythonScript = `
import json, sys
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', request_timeout_ms=10000, max_block_ms=10000,
                         retries=0)
for i in range(count):
    producer.send(topic, key=('k%d' % i).encode(), value=('py-v%d' % i).encode(), partition=i % 2,
                  headers=[('origin', b'kafka-python'), ('n', str(i).encode())]).get(timeout=10)
producer.flush(10)
producer.close(10)

def record(m):
    return {'p': m.partition, 'o': m.offset, 'k': m.key.decode() if m.key is not None else None,
            'v': m.value.decode() if m.value is not None else None,
            'h': [[name, value.decode()] for name, value in (m.headers or [])]}

def drain(consumer):
    got = []
    for m in consumer:
        got.append(record(m))
        if len(got) == count:
            break
    consumer.close()
    return sorted(got, key=lambda r: (r['p'], r['o']))

assigned = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10000,
                         request_timeout_ms=15000, session_timeout_ms=10000, heartbeat_interval_ms=1000)
partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
assigned.assign(partitions)
assigned.seek_to_beginning(*partitions)
for r in drain(assigned):
    print(json.dumps(dict(r, mode='assign')))

grouped = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id='kafka-python-group',
                        auto_offset_reset='earliest', enable_auto_commit=False, consumer_timeout_ms=15000,
                        request_timeout_ms=15000, session_timeout_ms=10000, heartbeat_interval_ms=1000)
for r in drain(grouped):
    print(json.dumps(dict(r, mode='group')))
`;

const confluentScript = `
import json, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition
bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
failures = []
def on_delivery(err, msg):
    if err is not None:
        failures.append(str(err))
producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'message.timeout.ms': 10000,
                     'compression.codec': 'lz4'})
for i in range(count):
    producer.produce(topic, key=('k%d' % i).encode(), value=('ck-v%d' % i).encode(), partition=i % 2,
                     headers=[('origin', b'confluent-kafka'), ('n', str(i).encode())], on_delivery=on_delivery)
remaining = producer.flush(15)
if remaining or failures:
    sys.exit('delivery failed: remaining=%d failures=%r' % (remaining, failures))

def record(m):
    return {'p': m.partition(), 'o': m.offset(), 'k': m.key().decode() if m.key() is not None else None,
            'v': m.value().decode() if m.value() is not None else None,
            'h': [[name, value.decode()] for name, value in (m.headers() or [])]}

def drain(consumer, mode):
    got = []
    deadline = time.time() + 20
    while len(got) < count and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None:
            continue
        if m.error():
            sys.exit('%s consumer error: %s' % (mode, m.error()))
        got.append(record(m))
    if len(got) < count:
        # What the client believed when it gave up, for the test's failure message.
        parts = [TopicPartition(topic, p) for p in (0, 1)]
        print('%s: %d of %d; assignment %r; positions %r; watermarks %r' % (
            mode, len(got), count, consumer.assignment(), consumer.position(parts),
            [consumer.get_watermark_offsets(tp, timeout=5) for tp in parts]), file=sys.stderr)
    consumer.close()
    for r in sorted(got, key=lambda r: (r['p'], r['o'])):
        print(json.dumps(dict(r, mode=mode)))

common = {'bootstrap.servers': bootstrap, 'enable.auto.commit': False, 'session.timeout.ms': 6000}
assigned = Consumer(dict(common, **{'group.id': 'confluent-assign'}))
assigned.assign([TopicPartition(topic, 0, -2), TopicPartition(topic, 1, -2)])
drain(assigned, 'assign')
grouped = Consumer(dict(common, **{'group.id': 'confluent-group', 'auto.offset.reset': 'earliest'}))
grouped.subscribe([topic])
drain(grouped, 'group')
`;

interface PyRecord {
  mode: string;
  p: number;
  o: number;
  k: string | null;
  v: string | null;
  h: string[][];
}

function expectedRecords(mode: string, valuePrefix: string, origin: string): PyRecord[] {
  const records: PyRecord[] = [];
  for (const partition of [0, 1]) {
    for (let i = partition; i < messageCount; i += 2) {
      records.push({
        mode,
        p: partition,
        o: Math.floor(i / 2),
        k: `k${i}`,
        v: `${valuePrefix}${i}`,
        h: [
          ['origin', origin],
          ['n', String(i)],
        ],
      });
    }
  }
  return records;
}

describe('python clients', { timeout: 180_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;

  before(async () => {
    broker = await startBroker();
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    await admin?.disconnect().catch(() => {});
    await disposeAllBrokers();
  });

  const cases = [
    {
      name: 'kafka-python',
      module: 'kafka',
      debianPackage: 'python3-kafka',
      script: kafkaPythonScript,
      prefix: 'py-v',
    },
    {
      name: 'confluent-kafka',
      module: 'confluent_kafka',
      debianPackage: 'python3-confluent-kafka',
      script: confluentScript,
      prefix: 'ck-v',
    },
  ];
  for (const { name, module, debianPackage, script, prefix } of cases) {
    test(`${name} produces and consumes keyed messages with headers`, {
      timeout: testTimeoutMs,
    }, async () => {
      await assertPythonModule(module, debianPackage);
      const topic = `py-${name}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const result = await runProgramOk(
        PYTHON,
        ['-c', script, broker.bootstrap, topic, String(messageCount)],
        {
          timeoutMs: testTimeoutMs - 5_000,
        },
      );
      const records = result.stdout
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as PyRecord);
      // The client's own log (stderr) says why, should records ever be missing.
      assert.deepEqual(
        records,
        [...expectedRecords('assign', prefix, name), ...expectedRecords('group', prefix, name)],
        `${name} stderr:\n${result.stderr.slice(-4000)}`,
      );

      const viaKafkajs = (await readAll(kafka, topic)).sort(
        (a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset),
      );
      assert.deepEqual(
        viaKafkajs.map((m) => ({ p: m.partition, o: Number(m.offset), k: m.key, v: m.value, h: m.headers })),
        expectedRecords('assign', prefix, name).map(({ p, o, k, v, h }) => ({
          p,
          o,
          k,
          v,
          h: Object.fromEntries(h),
        })),
      );
    });
  }
});
