// Real clients driving one Sluice process the way a load generator does: several librdkafka producers at
// full speed with every codec, one CreateTopics with hundreds of topics, a consumer group of librdkafka and
// kafka-python members that come and go under continuous production, and records at message.max.bytes read
// through 1 KiB fetch limits. Every case checks exact content and per-partition order; the broker's memory
// is sampled throughout and its log must hold no error.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { killLinePrograms, type LineProgram, runProgramOk, spawnLines } from '../helpers/process.js';
import { assertPythonModule, PYTHON } from '../helpers/python.js';

const rssLimitBytes = 256 * 1024 * 1024;
const rssSampleIntervalMs = 250;

/** librdkafka producer: `count` records `<prefix>-<i>-<padding>` to partition i % partitions; prints a summary. */
const produceScript = `
import json, sys, time
from confluent_kafka import Producer
bootstrap, topic, count, partitions, codec, acks, size, prefix = sys.argv[1:9]
count, partitions, size = int(count), int(partitions), int(size)
producer = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5, 'batch.size': 1000000,
                     'compression.codec': codec, 'acks': acks, 'queue.buffering.max.messages': 200000,
                     'message.timeout.ms': 30000})
failures, delivered = [], [0]
def on_delivery(err, msg):
    if err is not None: failures.append(str(err))
    else: delivered[0] += 1
padding = 'x' * size
started = time.time()
for i in range(count):
    while True:
        try:
            producer.produce(topic, value=('%s-%d-%s' % (prefix, i, padding)).encode(), key=b'k%d' % i,
                             partition=i % partitions, on_delivery=on_delivery)
            break
        except BufferError:
            producer.poll(0.05)
    if i % 1000 == 0: producer.poll(0)
left = producer.flush(30)
print(json.dumps({'delivered': delivered[0], 'failures': failures[:5], 'left': left,
                  'seconds': round(time.time() - started, 2)}))
`;

/** One CreateTopics with every topic, then a record per partition and a regex-subscribed group reads all. */
const manyTopicsScript = `
import json, sys, time
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
bootstrap, prefix, topics, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
names = ['%s-%d' % (prefix, t) for t in range(topics)]
admin = AdminClient({'bootstrap.servers': bootstrap})
started = time.time()
errors = []
for name, future in admin.create_topics([NewTopic(n, partitions, 1) for n in names], request_timeout=30).items():
    try: future.result()
    except Exception as e: errors.append('%s: %s' % (name, e))
created = time.time()
producer = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5, 'compression.codec': 'snappy',
                     'message.timeout.ms': 20000})
failures = []
for name in names:
    for p in range(partitions):
        producer.produce(name, value=('%s/%d' % (name, p)).encode(), partition=p,
                         on_delivery=lambda err, msg: err is not None and failures.append(str(err)))
producer.poll(0)
left = producer.flush(20)
consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': prefix + '-readers',
                     'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
consumer.subscribe(['^' + prefix + '-.*'])
seen = []
deadline = time.time() + 25
while len(seen) < topics * partitions and time.time() < deadline:
    for m in consumer.consume(1000, 0.5):
        if m.error(): errors.append(str(m.error()))
        else: seen.append([m.topic(), m.partition(), m.offset(), m.value().decode()])
consumer.close()
print(json.dumps({'createErrors': errors[:5], 'createSeconds': round(created - started, 2),
                  'failures': failures[:5], 'left': left, 'seen': seen}))
`;

/** A group member (librdkafka "ck" or kafka-python "kp") printing "partition offset value" and committing. */
const memberScript = `
import sys, time
client, bootstrap, topic, group, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
started = time.time()
def emit(lines):
    if lines:
        sys.stdout.write(''.join(lines)); sys.stdout.flush()
if client == 'ck':
    from confluent_kafka import Consumer
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False, 'session.timeout.ms': 10000, 'heartbeat.interval.ms': 500,
                  'partition.assignment.strategy': 'range,roundrobin'})
    c.subscribe([topic])
    while time.time() - started < seconds:
        messages = [m for m in c.consume(500, 0.2) if not m.error()]
        emit(['%d %d %s\\n' % (m.partition(), m.offset(), m.value().decode()) for m in messages])
        if messages:
            try: c.commit(asynchronous=False)
            except Exception as e: print('commit: %s' % e, file=sys.stderr)
    c.close()
else:
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset='earliest',
                      enable_auto_commit=False, session_timeout_ms=10000, heartbeat_interval_ms=500,
                      partition_assignment_strategy=[RangePartitionAssignor, RoundRobinPartitionAssignor])
    while time.time() - started < seconds:
        lines = ['%d %d %s\\n' % (m.partition, m.offset, m.value.decode())
                 for records in c.poll(200, max_records=500).values() for m in records]
        emit(lines)
        if lines:
            try: c.commit()
            except Exception as e: print('commit: %s' % e, file=sys.stderr)
    c.close()
`;

/** Produces value str(i) for i = 0.. at `rate` per second for `seconds`, keyed over 97 keys; prints the count. */
const steadyProducerScript = `
import json, sys, time
from confluent_kafka import Producer
bootstrap, topic, seconds, rate = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
producer = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5, 'compression.codec': 'gzip', 'acks': 'all',
                     'message.timeout.ms': 20000})
failures = []
i, started = 0, time.time()
while time.time() - started < seconds:
    target = int((time.time() - started) * rate)
    while i < target:
        producer.produce(topic, key=b'k%d' % (i % 97), value=str(i).encode(),
                         on_delivery=lambda err, msg: err is not None and failures.append(str(err)))
        i += 1
    producer.poll(0.01)
left = producer.flush(20)
print(json.dumps({'produced': i, 'failures': failures[:5], 'left': left}))
`;

/** Produces records sized around message.max.bytes one by one; prints each one's offset or error name. */
const largeRecordsScript = `
import json, sys
from confluent_kafka import Producer
bootstrap, topic = sys.argv[1], sys.argv[2]
sizes = [int(s) for s in sys.argv[3].split(',')]
producer = Producer({'bootstrap.servers': bootstrap, 'message.max.bytes': 2000000, 'linger.ms': 0,
                     'message.timeout.ms': 20000})
results = []
for i, size in enumerate(sizes):
    producer.produce(topic, value=bytes([65 + i]) * size, partition=0,
                     on_delivery=lambda err, msg: results.append(err.name() if err else msg.offset()))
    producer.flush(20)
print(json.dumps(results))
`;

/** kafka-python reading partition 0 from the start with 1 KiB fetch limits: prints [offset, size, first byte]. */
const kafkaPythonSmallFetchScript = `
import json, sys
from kafka import KafkaConsumer, TopicPartition
consumer = KafkaConsumer(bootstrap_servers=sys.argv[1], fetch_max_bytes=1024, max_partition_fetch_bytes=1024,
                         consumer_timeout_ms=8000, enable_auto_commit=False)
tp = TopicPartition(sys.argv[2], 0)
consumer.assign([tp])
consumer.seek_to_beginning(tp)
got = []
for m in consumer:
    got.append([m.offset, len(m.value), m.value[0], m.value[-1]])
    if len(got) == int(sys.argv[3]): break
consumer.close()
print(json.dumps(got))
`;

interface KcatLine {
  partition: number;
  offset: number;
  value: string;
}

async function kcatConsumeAll(
  bootstrap: string,
  topic: string,
  extraArgs: string[] = [],
): Promise<KcatLine[]> {
  const { stdout } = await runProgramOk(
    'kcat',
    ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', ...extraArgs, '-f', '%p %o %s\\n'],
    { timeoutMs: 30_000 },
  );
  return parseLines(stdout.split('\n'));
}

function parseLines(lines: readonly string[]): KcatLine[] {
  return lines
    .filter((line) => line.length > 0)
    .map((line) => {
      const [partition, offset, ...rest] = line.split(' ');
      return { partition: Number(partition), offset: Number(offset), value: rest.join(' ') };
    });
}

function lastJsonLine<T>(stdout: string): T {
  const lines = stdout.split('\n').filter((line) => line.length > 0);
  return JSON.parse(lines.at(-1) ?? 'null') as T;
}

async function createTopic(bootstrap: string, topic: string, numPartitions: number): Promise<void> {
  const admin = createKafka(bootstrap, { requestTimeout: 30_000 }).admin();
  await admin.connect();
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions }], timeout: 30_000 }), true);
  } finally {
    await admin.disconnect();
  }
}

/** Resident set size of a process from /proc, in bytes. */
async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kib === undefined ? 0 : Number(kib) * 1024;
}

describe('real clients under load', { timeout: 180_000 }, () => {
  let broker: Broker;
  let peakRssBytes = 0;
  let sampler: NodeJS.Timeout | undefined;

  before(async () => {
    await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
    await assertPythonModule('kafka', 'python3-kafka');
    broker = await startBroker({
      args: ['--set', 'group.initial.rebalance.delay.ms=0', '--set', 'group.min.session.timeout.ms=1000'],
    });
    const pid = broker.process.pid;
    assert.ok(pid !== undefined);
    sampler = setInterval(() => {
      rssBytes(pid).then(
        (bytes) => {
          peakRssBytes = Math.max(peakRssBytes, bytes);
        },
        () => {},
      );
    }, rssSampleIntervalMs);
  });

  after(async () => {
    clearInterval(sampler);
    killLinePrograms();
    await disposeAllBrokers();
  });

  test('four librdkafka producers at once, one per codec, acks all and 1: every record back once, in order', {
    timeout: 60_000,
  }, async (t) => {
    const topic = 'load-codecs';
    const partitions = 48;
    const count = 30_000;
    await createTopic(broker.bootstrap, topic, partitions);
    const producers = [
      ['lz4', 'all'],
      ['zstd', '1'],
      ['gzip', 'all'],
      ['snappy', '1'],
    ] as const;
    const results = await Promise.all(
      producers.map(([codec, acks]) =>
        runProgramOk(
          PYTHON,
          [
            '-c',
            produceScript,
            broker.bootstrap,
            topic,
            String(count),
            String(partitions),
            codec,
            acks,
            '200',
            codec,
          ],
          { timeoutMs: 45_000 },
        ),
      ),
    );
    for (const [index, result] of results.entries()) {
      const summary = lastJsonLine<{ seconds: number }>(result.stdout);
      t.diagnostic(`${producers[index]?.join(' acks=')}: ${Math.round(count / summary.seconds)} records/s`);
      assert.deepEqual(
        { ...lastJsonLine<Record<string, unknown>>(result.stdout), seconds: 0 },
        { delivered: count, failures: [], left: 0, seconds: 0 },
      );
    }

    const records = await kcatConsumeAll(broker.bootstrap, topic);
    assert.equal(records.length, count * producers.length);
    const padding = 'x'.repeat(200);
    for (let partition = 0; partition < partitions; partition++) {
      const mine = records.filter((r) => r.partition === partition);
      assert.deepEqual(
        mine.map((r) => r.offset),
        Array.from({ length: mine.length }, (_, i) => i),
        `partition ${partition}: offsets 0.. without gaps`,
      );
      for (const [codec] of producers) {
        const expected: string[] = [];
        for (let i = partition; i < count; i += partitions) expected.push(`${codec}-${i}-${padding}`);
        assert.deepEqual(
          mine.filter((r) => r.value.startsWith(`${codec}-`)).map((r) => r.value),
          expected,
          `partition ${partition}: ${codec} records complete and in send order`,
        );
      }
    }
  });

  test('one CreateTopics with 150 topics answers in time; every partition then takes and returns a record', {
    timeout: 60_000,
  }, async (t) => {
    const topics = 150;
    const partitions = 2;
    const { stdout } = await runProgramOk(
      PYTHON,
      ['-c', manyTopicsScript, broker.bootstrap, 'load-many', String(topics), String(partitions)],
      { timeoutMs: 55_000 },
    );
    const result = lastJsonLine<{
      createErrors: string[];
      createSeconds: number;
      failures: string[];
      left: number;
      seen: [string, number, number, string][];
    }>(stdout);
    assert.deepEqual(result.createErrors, []);
    assert.deepEqual(result.failures, []);
    assert.equal(result.left, 0);
    // librdkafka's request timeout is 30 s; kafkajs's is 30 s too. Kafka answers this in about a second.
    t.diagnostic(`CreateTopics with ${topics} topics: ${result.createSeconds} s`);
    assert.ok(result.createSeconds < 20, `CreateTopics took ${result.createSeconds} s`);
    const expected: string[] = [];
    for (let t = 0; t < topics; t++) {
      for (let p = 0; p < partitions; p++) expected.push(`load-many-${t} ${p} 0 load-many-${t}/${p}`);
    }
    assert.deepEqual(result.seen.map((r) => r.join(' ')).sort(), expected.sort());
  });

  test('a group of librdkafka and kafka-python members coming and going under load loses no record', {
    timeout: 70_000,
  }, async () => {
    const topic = 'load-group';
    const group = 'load-group-members';
    const partitions = 16;
    await createTopic(broker.bootstrap, topic, partitions);
    const member = (client: 'ck' | 'kp', seconds: number): LineProgram =>
      spawnLines(PYTHON, ['-c', memberScript, client, broker.bootstrap, topic, group, String(seconds)]);
    const producer = runProgramOk(
      PYTHON,
      ['-c', steadyProducerScript, broker.bootstrap, topic, '14', '2500'],
      { timeoutMs: 45_000 },
    );
    // Two of each client stay to the end, one of each leaves mid-way, one of each joins late.
    const members: LineProgram[] = [member('ck', 26), member('ck', 26), member('kp', 26), member('kp', 26)];
    members.push(member('ck', 7), member('kp', 9));
    await sleep(4_000);
    members.push(member('ck', 21));
    await sleep(4_000);
    members.push(member('kp', 17));
    const { stdout } = await producer;
    const produced = lastJsonLine<{ produced: number; failures: string[]; left: number }>(stdout);
    assert.deepEqual({ ...produced, produced: 0 }, { produced: 0, failures: [], left: 0 });
    const exitCodes = await Promise.all(members.map((m) => m.exited));
    assert.deepEqual(
      exitCodes,
      members.map(() => 0),
      members.map((m) => m.stderr()).join('\n'),
    );

    const consumed = parseLines(members.flatMap((m) => m.lines));
    const valueAt = new Map<string, string>();
    const timesSeen = new Map<number, number>();
    for (const { partition, offset, value } of consumed) {
      const at = `${partition}/${offset}`;
      const earlier = valueAt.get(at);
      assert.ok(earlier === undefined || earlier === value, `${at} read as ${earlier} and as ${value}`);
      valueAt.set(at, value);
      timesSeen.set(Number(value), (timesSeen.get(Number(value)) ?? 0) + 1);
    }
    const missing: number[] = [];
    for (let i = 0; i < produced.produced; i++) if (!timesSeen.has(i)) missing.push(i);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${produced.produced} never consumed`);
    assert.equal(timesSeen.size, produced.produced);
    // Every partition was read from offset 0 to its end without a hole.
    const byPartition = new Map<number, Set<number>>();
    for (const { partition, offset } of consumed) {
      byPartition.set(partition, (byPartition.get(partition) ?? new Set()).add(offset));
    }
    let total = 0;
    for (const [partition, offsets] of byPartition) {
      assert.equal(Math.max(...offsets) + 1, offsets.size, `partition ${partition} has no hole`);
      total += offsets.size;
    }
    assert.equal(total, produced.produced);
  });

  test('records at message.max.bytes: the limit is exact, and 1 KiB fetch limits still return each whole', {
    timeout: 60_000,
  }, async () => {
    const topic = 'load-large';
    await createTopic(broker.bootstrap, topic, 1);
    // A batch of one record with a null key, no headers and a 3-byte value length adds 72 bytes: 61 of batch
    // header, 11 of record framing. 1048588 (the default message.max.bytes) - 72 = 1048516.
    const sizes = [1_048_516, 1_048_517, 700_000, 10, 1_048_516];
    const { stdout } = await runProgramOk(
      PYTHON,
      ['-c', largeRecordsScript, broker.bootstrap, topic, sizes.join(',')],
      { timeoutMs: 45_000 },
    );
    assert.deepEqual(lastJsonLine<unknown>(stdout), [0, 'MSG_SIZE_TOO_LARGE', 1, 2, 3]);
    // Accepted: sizes[0], sizes[2], sizes[3], sizes[4], whose bytes are 'A', 'C', 'D', 'E'.
    const expected = [
      [0, 1_048_516, 65, 65],
      [1, 700_000, 67, 67],
      [2, 10, 68, 68],
      [3, 1_048_516, 69, 69],
    ];

    const kcat = await kcatConsumeAll(broker.bootstrap, topic, [
      '-X',
      'fetch.max.bytes=1024',
      '-X',
      'message.max.bytes=1000',
      '-X',
      'max.partition.fetch.bytes=1024',
    ]);
    assert.deepEqual(
      kcat.map((r) => [
        r.offset,
        r.value.length,
        r.value.charCodeAt(0),
        r.value.charCodeAt(r.value.length - 1),
      ]),
      expected,
    );
    const kafkaPython = await runProgramOk(
      PYTHON,
      ['-c', kafkaPythonSmallFetchScript, broker.bootstrap, topic, String(expected.length)],
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(lastJsonLine<unknown>(kafkaPython.stdout), expected);

    const consumer = createKafka(broker.bootstrap).consumer({
      groupId: 'load-large-kafkajs',
      maxBytes: 1024,
      maxBytesPerPartition: 1024,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    const seen: number[][] = [];
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const value = message.value ?? Buffer.alloc(0);
          seen.push([Number(message.offset), value.length, value[0] ?? -1, value.at(-1) ?? -1]);
        },
      });
      const deadline = Date.now() + 20_000;
      while (seen.length < expected.length && Date.now() < deadline) await sleep(50);
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(seen, expected);
  });

  test('the broker stayed within its memory bound and logged no error', (t) => {
    t.diagnostic(`peak broker RSS ${Math.round(peakRssBytes / 1024 / 1024)} MiB`);
    assert.ok(peakRssBytes > 0, 'RSS was sampled');
    assert.ok(
      peakRssBytes < rssLimitBytes,
      `peak RSS ${Math.round(peakRssBytes / 1024 / 1024)} MiB exceeds ${rssLimitBytes / 1024 / 1024} MiB`,
    );
    const problems = broker
      .logs()
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line));
    assert.deepEqual(problems, []);
  });
});
