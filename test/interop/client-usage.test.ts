// kcat 1.7.1 (librdkafka 2.0.2) and kafkajs 2.2.4 used the way their users use them, against a real Sluice
// process: kcat's offset forms, query mode, format strings, delimiters, old protocol versions without
// ApiVersions, balanced consumers with the cooperative-sticky and roundrobin assignors, unsupported producer
// features and topic errors; kafkajs's seek, pause/resume, eachBatch, manual commits, reading only new
// messages, admin group offsets, sendBatch, RegExp subscriptions and the idempotent producer.
// Complements kcat.test.ts, kafkajs.test.ts and groups.test.ts (which cover codecs, basic metadata and
// group membership); every assertion is on exact content.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  Admin,
  CompressionTypes as CompressionType,
  Consumer,
  ConsumerConfig,
  EachMessagePayload,
  Kafka,
  Producer,
} from 'kafkajs';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { hasKafkaErrorType } from '../helpers/errors.js';
import { CompressionTypes, createKafka, readAll, registerCompressionCodecs } from '../helpers/kafka.js';
import {
  killLinePrograms,
  type LineProgram,
  runProgram,
  runProgramOk,
  spawnLines,
} from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

const testTimeoutMs = 30_000;
const baseTimestampMs = 1_700_000_000_000;
const brokerArgs = [
  '--set',
  'group.initial.rebalance.delay.ms=0',
  '--set',
  'group.min.session.timeout.ms=1000',
];

registerCompressionCodecs();

function lines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.length > 0);
}

/** A kcat process that keeps running (a -G group member); its stdout is collected line by line. */
function spawnKcat(args: string[]): LineProgram {
  return spawnLines('kcat', args);
}

const liveConsumers = new Set<Consumer>();

/** Consumer settings that keep group round trips short. */
const fastConsumer: Omit<ConsumerConfig, 'groupId'> = {
  sessionTimeout: 6_000,
  rebalanceTimeout: 6_000,
  heartbeatInterval: 300,
  maxWaitTimeInMs: 100,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
};

function newConsumer(kafka: Kafka, groupId: string, overrides: Partial<ConsumerConfig> = {}): Consumer {
  const consumer = kafka.consumer({ groupId, ...fastConsumer, ...overrides });
  liveConsumers.add(consumer);
  return consumer;
}

async function closeConsumer(consumer: Consumer): Promise<void> {
  await consumer.disconnect();
  liveConsumers.delete(consumer);
}

/** Waits until `count` records were seen, gives any extra ones 300 ms to show up, then closes the consumer. */
async function closeAfterSeeing(consumer: Consumer, seen: readonly string[], count: number): Promise<void> {
  await waitFor(
    () => seen.length >= count,
    10_000,
    () => `seen ${seen}`,
  );
  await sleep(300);
  await closeConsumer(consumer);
}

/** Resolves on the consumer's first completed fetch: by then it has joined and resolved its start offsets. */
function firstFetch(consumer: Consumer): Promise<void> {
  return new Promise((resolve) => {
    const remove = consumer.on(consumer.events.FETCH, () => {
      remove();
      resolve();
    });
  });
}

const describeValue = (payload: EachMessagePayload) =>
  `${payload.topic}|${payload.partition}|${payload.message.offset}|${payload.message.value?.toString() ?? 'null'}`;

describe('kcat and kafkajs as their users use them', { timeout: 150_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let nodeId: number;

  // Consumers see the end of a partition only in an empty fetch answer, which the broker holds for
  // fetch.wait.max.ms (500 ms by default): a shorter wait keeps the many `-e` runs quick.
  const kcatArgs = (args: string[]) => [
    '-b',
    broker.bootstrap,
    '-m',
    '10',
    ...(args.includes('-C') || args.includes('-G') ? ['-X', 'fetch.wait.max.ms=50'] : []),
    ...args,
  ];
  const kcat = (args: string[], input = '') =>
    runProgramOk('kcat', kcatArgs(args), { input, timeoutMs: 20_000 });
  const kcatMayFail = (args: string[], input = '') =>
    runProgram('kcat', kcatArgs(args), { input, timeoutMs: 20_000 });
  const createTopic = async (topic: string, numPartitions: number, config: Record<string, string> = {}) => {
    const configEntries = Object.entries(config).map(([name, value]) => ({ name, value }));
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions, configEntries }] }), true);
  };
  const highWatermarks = async (topic: string) =>
    (await admin.fetchTopicOffsets(topic))
      .sort((a, b) => a.partition - b.partition)
      .map((p) => `${p.partition}:${p.low}-${p.high}`);
  const committedOffsets = async (groupId: string, topic: string) =>
    (await admin.fetchOffsets({ groupId, topics: [topic] }))
      .flatMap((t) => t.partitions.map((p) => `${p.partition}:${p.offset}`))
      .sort();

  before(async () => {
    broker = await startBroker({ args: brokerArgs });
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
    nodeId = (await admin.describeCluster()).brokers[0]!.nodeId;
  });

  after(async () => {
    killLinePrograms();
    await Promise.all([...liveConsumers].map((c) => c.disconnect().catch(() => {})));
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await disposeAllBrokers();
  });

  // ---------------------------------------------------------------------------------------------
  // kcat

  test('kcat -L -t lists exactly one topic with its partitions', { timeout: testTimeoutMs }, async () => {
    await createTopic('cu-meta', 3);
    await createTopic('cu-meta-other', 1);
    const { stdout } = await kcat(['-L', '-t', 'cu-meta']);
    const address = `127.0.0.1:${broker.port}`;
    assert.equal(
      stdout,
      [
        `Metadata for cu-meta (from broker ${nodeId}: ${address}/${nodeId}):`,
        ' 1 brokers:',
        `  broker ${nodeId} at ${address} (controller)`,
        ' 1 topics:',
        '  topic "cu-meta" with 3 partitions:',
        ...[0, 1, 2].map((p) => `    partition ${p}, leader ${nodeId}, replicas: ${nodeId}, isrs: ${nodeId}`),
        '',
      ].join('\n'),
    );
  });

  test('kcat -Q finds offsets by timestamp, -1 (end) and -2 (log start, after deleted records)', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-query';
    await createTopic(topic, 2);
    // Partition 0 holds even seconds (offsets 0-4), partition 1 odd seconds, two batches each.
    for (const half of [0, 5]) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 5 }, (_, j) => {
          const i = half + j;
          return { partition: i % 2, value: `q${i}`, timestamp: String(baseTimestampMs + i * 1_000) };
        }),
      });
    }
    const query = async (...specs: string[]) =>
      (await kcat(['-Q', ...specs.flatMap((spec) => ['-t', `${topic}:${spec}`])])).stdout;
    assert.equal(
      await query(`0:${baseTimestampMs + 3_000}`, `1:${baseTimestampMs + 3_000}`),
      `${topic} [0] offset 2\n${topic} [1] offset 1\n`,
    );
    assert.equal(
      await query(`0:${baseTimestampMs + 8_000}`, `1:${baseTimestampMs - 60_000}`),
      `${topic} [0] offset 4\n${topic} [1] offset 0\n`,
    );
    // After the last timestamp Kafka answers offset -1.
    assert.equal(await query(`0:${baseTimestampMs + 60_000}`), `${topic} [0] offset -1\n`);
    assert.equal(await query('0:-1', '1:-2'), `${topic} [0] offset 5\n${topic} [1] offset 0\n`);

    // kafkajs's admin finds leaders in its cached metadata only; fetching offsets loads the topic's.
    assert.deepEqual(await highWatermarks(topic), ['0:0-5', '1:0-5']);
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '3' }] });
    assert.equal(
      await query(`0:${baseTimestampMs + 1_000}`, '1:-2'),
      `${topic} [0] offset 1\n${topic} [1] offset 3\n`,
    );
    // A timestamp of a deleted record resolves to the first record still there.
    assert.equal(await query(`1:${baseTimestampMs + 1_000}`), `${topic} [1] offset 3\n`);
  });

  test('kcat -C -o beginning, end, -N, absolute, s@/e@ and out-of-range offsets with -c and -e', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-offsets';
    await createTopic(topic, 2);
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({
        partition: i % 2,
        value: `o${i}`,
        timestamp: String(baseTimestampMs + i * 1_000),
      })),
    });
    const consume = async (partition: string, ...args: string[]) =>
      (await kcat(['-C', '-t', topic, '-p', partition, '-f', '%p:%o:%s\\n', ...args])).stdout;
    assert.equal(await consume('0', '-o', 'beginning', '-e'), '0:0:o0\n0:1:o2\n0:2:o4\n0:3:o6\n0:4:o8\n');
    assert.equal(await consume('0', '-o', 'end', '-e'), '');
    assert.equal(await consume('1', '-o', '-2', '-e'), '1:3:o7\n1:4:o9\n');
    assert.equal(await consume('1', '-o', '1', '-c', '2'), '1:1:o3\n1:2:o5\n');
    // Both partitions, from 3 s up to (not including) 7 s.
    const window = await kcat([
      '-C',
      '-t',
      topic,
      '-o',
      `s@${baseTimestampMs + 3_000}`,
      '-o',
      `e@${baseTimestampMs + 7_000}`,
      '-e',
      '-f',
      '%p:%o:%T:%s\\n',
    ]);
    assert.deepEqual(lines(window.stdout).sort(), [
      `0:2:${baseTimestampMs + 4_000}:o4`,
      `0:3:${baseTimestampMs + 6_000}:o6`,
      `1:1:${baseTimestampMs + 3_000}:o3`,
      `1:2:${baseTimestampMs + 5_000}:o5`,
    ]);

    // Below the log start offset or past the end: OFFSET_OUT_OF_RANGE, then librdkafka applies
    // auto.offset.reset (after fetch.error.backoff.ms, shortened here).
    assert.deepEqual(await highWatermarks(topic), ['0:0-5', '1:0-5']);
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '3' }] });
    const outOfRange = (offset: string, reset?: string) =>
      consume(
        '0',
        '-o',
        offset,
        '-e',
        '-X',
        'fetch.error.backoff.ms=10',
        ...(reset === undefined ? [] : ['-X', `auto.offset.reset=${reset}`]),
      );
    assert.equal(await outOfRange('1', 'earliest'), '0:3:o6\n0:4:o8\n');
    assert.equal(await outOfRange('9', 'earliest'), '0:3:o6\n0:4:o8\n');
    assert.equal(await outOfRange('1'), '', 'the default auto.offset.reset is the end');
    const strict = await kcatMayFail([
      '-C',
      '-t',
      topic,
      '-p',
      '0',
      '-o',
      '1',
      '-e',
      '-X',
      'auto.offset.reset=error',
    ]);
    assert.equal(strict.code, 1, strict.stderr);
    assert.match(strict.stderr, /Topic cu-offsets \[0\] error: .*Broker: Offset out of range/);
  });

  test('kcat -f with every token, -J envelopes and -Z for records kafkajs wrote', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-format';
    await createTopic(topic, 1);
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'k0', value: 'first', headers: { h1: 'a', h2: 'b' }, timestamp: String(baseTimestampMs) },
        { key: null, value: 'no key', timestamp: String(baseTimestampMs + 1) },
        { key: 'k2', value: null, headers: { only: 'one' }, timestamp: String(baseTimestampMs + 2) },
        { key: '', value: '', timestamp: String(baseTimestampMs + 3) },
      ],
    });
    const formatted = await kcat([
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-Z',
      '-f',
      '%t|%p|%o|%T|%k|%K|%s|%S|%h\\n',
    ]);
    assert.equal(
      formatted.stdout,
      [
        `${topic}|0|0|${baseTimestampMs}|k0|2|first|5|h1=a,h2=b`,
        `${topic}|0|1|${baseTimestampMs + 1}|NULL|-1|no key|6|`,
        `${topic}|0|2|${baseTimestampMs + 2}|k2|2|NULL|-1|only=one`,
        // -Z prints empty keys and values as NULL too; %K and %S tell them from null ones.
        `${topic}|0|3|${baseTimestampMs + 3}|NULL|0|NULL|0|`,
        '',
      ].join('\n'),
    );
    const json = lines((await kcat(['-C', '-t', topic, '-o', '-2', '-e', '-J'])).stdout).map((line) =>
      JSON.parse(line),
    );
    assert.deepEqual(json, [
      {
        topic,
        partition: 0,
        offset: 2,
        tstype: 'create',
        ts: baseTimestampMs + 2,
        broker: nodeId,
        headers: ['only', 'one'],
        key: 'k2',
        payload: null,
      },
      {
        topic,
        partition: 0,
        offset: 3,
        tstype: 'create',
        ts: baseTimestampMs + 3,
        broker: nodeId,
        key: '',
        payload: '',
      },
    ]);
  });

  test('kcat -P with -K/-D delimiters, -Z nulls, -k, repeated and value-less -H headers, -p', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-delims';
    await createTopic(topic, 2);
    await kcat(
      [
        '-P',
        '-t',
        topic,
        '-p',
        '1',
        '-K',
        '::',
        '-D',
        '|',
        '-Z',
        '-H',
        'a=1',
        '-H',
        'a=2',
        '-H',
        'flag',
        '-H',
        'e=',
      ],
      'k1::v1|k2::has\nnewline|::null key|k4::|',
    );
    await kcat(['-P', '-t', topic, '-p', '0', '-k', 'fixed'], 'x\ny\n');
    assert.equal(
      (await kcat(['-C', '-t', topic, '-p', '1', '-o', 'beginning', '-e', '-Z', '-f', '%o|%k|%s|%h\\n']))
        .stdout,
      [
        '0|k1|v1|a=1,a=2,flag=NULL,e=',
        '1|k2|has\nnewline|a=1,a=2,flag=NULL,e=',
        '2|NULL|null key|a=1,a=2,flag=NULL,e=',
        '3|k4|NULL|a=1,a=2,flag=NULL,e=',
        '',
      ].join('\n'),
    );
    // Consuming with -K and -D instead of a format string.
    assert.equal(
      (await kcat(['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-K', '=', '-D', ';'])).stdout,
      'fixed=x;fixed=y;',
    );
  });

  test('a LogAppendTime topic: kcat -J shows tstype logappend and the broker time', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-append-time';
    await createTopic(topic, 1, { 'message.timestamp.type': 'LogAppendTime' });
    const beforeMs = Date.now();
    await kcat(['-P', '-t', topic, '-K', ':'], 'k:v\n');
    const afterMs = Date.now();
    const [record] = lines((await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-J'])).stdout).map(
      (line) => JSON.parse(line) as { tstype: string; ts: number; key: string; payload: string },
    );
    assert.equal(record?.tstype, 'logappend');
    assert.equal(record?.key, 'k');
    assert.equal(record?.payload, 'v');
    assert.ok(
      record.ts >= beforeMs && record.ts <= afterMs,
      `log append time ${record.ts} within [${beforeMs}, ${afterMs}]`,
    );
  });

  for (const version of ['0.8.2', '0.9.0', '0.10.0', '0.10.2', '0.11.0']) {
    test(`kcat with api.version.request=false and broker.version.fallback=${version} round-trips every codec`, {
      timeout: testTimeoutMs,
    }, async () => {
      // Below 0.10 librdkafka speaks Produce v0/v1, Fetch v0/v1, ListOffsets v0 and Metadata v0 without
      // ApiVersions; from 0.10 on it sends ApiVersions anyway (the fallback only matters if that fails).
      const old = ['-X', 'api.version.request=false', '-X', `broker.version.fallback=${version}`];
      const topic = `cu-old-${version.replaceAll('.', '-')}`;
      await createTopic(topic, 2);
      const codecs = ['none', 'gzip', 'snappy', 'lz4'];
      for (const [i, codec] of codecs.entries()) {
        await kcat(
          [...old, '-P', '-t', topic, '-p', String(i % 2), '-K', ':', '-z', codec],
          `${codec}-k1:${codec}-v1\n${codec}-k2:${'x'.repeat(300)}\n`,
        );
      }
      const expected = (partition: number) =>
        codecs
          .filter((_, i) => i % 2 === partition)
          .flatMap((codec, n) => [
            `${partition}|${2 * n}|${codec}-k1|${codec}-v1`,
            `${partition}|${2 * n + 1}|${codec}-k2|${'x'.repeat(300)}`,
          ]);
      const viaOld = await kcat([...old, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%p|%o|%k|%s\\n']);
      assert.deepEqual(lines(viaOld.stdout).sort(), [...expected(0), ...expected(1)].sort());
      assert.deepEqual(await highWatermarks(topic), ['0:0-4', '1:0-4']);
      if (version.startsWith('0.8') || version.startsWith('0.9')) {
        // Message sets v0/v1 were stored as record batches a modern client reads too.
        const viaKafkajs = await readAll(kafka, topic);
        assert.deepEqual(
          viaKafkajs.map((m) => `${m.partition}|${m.offset}|${m.key}|${m.value}`).sort(),
          [...expected(0), ...expected(1)].sort(),
        );
      }
      // An old balanced consumer (JoinGroup/SyncGroup/Heartbeat v0, OffsetCommit v2) commits what it read;
      // librdkafka has no balanced consumer for brokers before 0.9.
      if (version === '0.8.2') return;
      const groupId = `cu-old-group-${version}`;
      const grouped = await kcat([
        ...old,
        '-G',
        groupId,
        '-X',
        'auto.offset.reset=earliest',
        '-c',
        '8',
        '-f',
        '%p|%o|%k|%s\\n',
        topic,
      ]);
      assert.deepEqual(lines(grouped.stdout).sort(), [...expected(0), ...expected(1)].sort());
      assert.deepEqual(await committedOffsets(groupId, topic), ['0:4', '1:4']);
    });
  }

  test('kcat -P with enable.idempotence=true writes; with a transactional.id it writes one committed transaction', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-idempotent';
    await createTopic(topic, 1);
    const idempotent = await kcatMayFail(['-P', '-t', topic, '-X', 'enable.idempotence=true'], 'one\n');
    assert.equal(idempotent.code, 0, idempotent.stderr);
    assert.doesNotMatch(idempotent.stderr, /FATAL|not supported/);
    const transactional = await kcatMayFail(
      ['-P', '-t', topic, '-X', 'transactional.id=cu-tx'],
      'two\nthree\n',
    );
    assert.equal(transactional.code, 0, transactional.stderr);
    assert.match(transactional.stderr, /Transaction successfully committed/);
    // The commit marker takes offset 3: a read_committed reader reaches the end past it.
    for (const isolation of ['read_committed', 'read_uncommitted']) {
      const read = await kcat([
        '-C',
        '-t',
        topic,
        '-o',
        'beginning',
        '-e',
        '-X',
        `isolation.level=${isolation}`,
        '-f',
        '%o|%s\\n',
      ]);
      assert.equal(read.stdout, '0|one\n1|two\n2|three\n', isolation);
      assert.match(read.stderr, /Reached end of topic cu-idempotent \[0\] at offset 4/, isolation);
    }
  });

  test('kcat -G with cooperative-sticky: a second member takes half the partitions incrementally', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-coop';
    const groupId = 'cu-coop-group';
    await createTopic(topic, 4);
    const member = (clientId: string) =>
      spawnKcat(
        kcatArgs([
          '-G',
          groupId,
          '-u',
          '-X',
          `client.id=${clientId}`,
          '-X',
          'partition.assignment.strategy=cooperative-sticky',
          '-X',
          'auto.offset.reset=earliest',
          '-X',
          'session.timeout.ms=6000',
          '-X',
          'heartbeat.interval.ms=300',
          '-f',
          '%p|%o|%s\\n',
          topic,
        ]),
      );
    const describeGroup = async () => (await admin.describeGroups([groupId])).groups[0]!;
    const first = member('coop-a');
    await waitFor(
      async () => {
        const group = await describeGroup();
        return group.state === 'Stable' && group.members.length === 1;
      },
      10_000,
      () => `first member: ${first.stderr()}`,
    );
    await producer.send({
      topic,
      acks: -1,
      messages: [0, 1, 2, 3].map((partition) => ({ partition, value: `before-${partition}` })),
    });
    await waitFor(
      () => first.lines.length === 4,
      10_000,
      () => `first read ${first.lines}`,
    );

    const second = member('coop-b');
    await waitFor(
      () =>
        /incremental assignment of 2 partition\(s\)/.test(second.stderr()) &&
        /incremental revoke of 2 partition\(s\)/.test(first.stderr()),
      15_000,
      () => `first: ${first.stderr()}\nsecond: ${second.stderr()}`,
    );
    const group = await describeGroup();
    assert.equal(group.state, 'Stable');
    assert.equal(group.protocol, 'cooperative-sticky');
    assert.deepEqual(group.members.map((m) => m.clientId).sort(), ['coop-a', 'coop-b']);

    await producer.send({
      topic,
      acks: -1,
      messages: [0, 1, 2, 3].map((partition) => ({ partition, value: `after-${partition}` })),
    });
    await waitFor(
      () => first.lines.length + second.lines.length === 8,
      10_000,
      () => `first=${first.lines} second=${second.lines}`,
    );
    await sleep(300);
    first.child.kill('SIGTERM');
    second.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all([first.exited, second.exited]), [0, 0]);

    // The partitions the second member read "after" are exactly those it took over, and nothing was read twice.
    const partitionsOf = (read: string[], tag: string) =>
      read
        .filter((line) => line.endsWith(`|${tag}-${line.split('|')[0]}`))
        .map((line) => Number(line.split('|')[0]))
        .sort();
    const secondAfter = partitionsOf(second.lines, 'after');
    const firstAfter = partitionsOf(first.lines, 'after');
    assert.equal(secondAfter.length, 2, `second read ${second.lines}`);
    assert.deepEqual([...firstAfter, ...secondAfter].sort(), [0, 1, 2, 3]);
    assert.deepEqual(partitionsOf(second.lines, 'before'), [], 'the second member re-read nothing');
    assert.deepEqual(
      [...first.lines, ...second.lines].sort(),
      [
        ...[0, 1, 2, 3].map((p) => `${p}|0|before-${p}`),
        ...[0, 1, 2, 3].map((p) => `${p}|1|after-${p}`),
      ].sort(),
    );
    assert.deepEqual(await committedOffsets(groupId, topic), ['0:2', '1:2', '2:2', '3:2']);
    assert.equal((await describeGroup()).state, 'Empty');
  });

  test('kcat -G with roundrobin and a RegExp subscription reads matching topics and commits', {
    timeout: testTimeoutMs,
  }, async () => {
    for (const topic of ['cu-rr-one', 'cu-rr-two', 'cu-other-rr']) await createTopic(topic, 2);
    for (const topic of ['cu-rr-one', 'cu-rr-two', 'cu-other-rr']) {
      await producer.send({
        topic,
        acks: -1,
        messages: [0, 1].map((partition) => ({ partition, value: `${topic}-${partition}` })),
      });
    }
    const groupId = 'cu-rr-group';
    const { stdout } = await kcat([
      '-G',
      groupId,
      '-X',
      'partition.assignment.strategy=roundrobin',
      '-X',
      'auto.offset.reset=earliest',
      '-c',
      '4',
      '-f',
      '%t|%p|%o|%s\\n',
      '^cu-rr-.*',
    ]);
    assert.deepEqual(lines(stdout).sort(), [
      'cu-rr-one|0|0|cu-rr-one-0',
      'cu-rr-one|1|0|cu-rr-one-1',
      'cu-rr-two|0|0|cu-rr-two-0',
      'cu-rr-two|1|0|cu-rr-two-1',
    ]);
    assert.deepEqual(await committedOffsets(groupId, 'cu-rr-one'), ['0:1', '1:1']);
    assert.deepEqual(await committedOffsets(groupId, 'cu-rr-two'), ['0:1', '1:1']);
    assert.deepEqual(await committedOffsets(groupId, 'cu-other-rr'), ['0:-1', '1:-1']);
  });

  test('kcat -X check.crcs=true verifies batches written by kcat and kafkajs with every codec', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-crcs';
    await createTopic(topic, 1);
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    for (const codec of codecs)
      await kcat(['-P', '-t', topic, '-z', codec], `kcat-${codec}-a\nkcat-${codec}-b\n`);
    const kafkajsCodecs = [
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ];
    for (const [i, compression] of kafkajsCodecs.entries()) {
      await producer.send({
        topic,
        acks: -1,
        compression,
        messages: [{ value: `kafkajs-${codecs[i]}-a` }, { value: `kafkajs-${codecs[i]}-b` }],
      });
    }
    const { stdout, stderr } = await kcat([
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-X',
      'check.crcs=true',
      '-f',
      '%o:%s\\n',
    ]);
    assert.doesNotMatch(stderr, /mismatch|corrupt|checksum/i);
    const expected = [...codecs.map((c) => `kcat-${c}`), ...codecs.map((c) => `kafkajs-${c}`)].flatMap(
      (v) => [`${v}-a`, `${v}-b`],
    );
    assert.equal(stdout, expected.map((v, offset) => `${offset}:${v}\n`).join(''));
  });

  test('kcat -e on an empty topic exits 0 at once with no records', { timeout: testTimeoutMs }, async () => {
    await createTopic('cu-empty', 3);
    const startedMs = Date.now();
    const result = await kcat(['-C', '-t', 'cu-empty', '-o', 'beginning', '-e', '-f', '%s\\n']);
    assert.equal(result.stdout, '');
    assert.deepEqual(
      lines(result.stderr).sort(),
      [0, 1, 2]
        .map((p) => `% Reached end of topic cu-empty [${p}] at offset 0${p === 2 ? ': exiting' : ''}`)
        .sort(),
    );
    assert.ok(Date.now() - startedMs < 5_000, `took ${Date.now() - startedMs} ms`);
  });

  test('kcat with an invalid topic name fails with INVALID_TOPIC_EXCEPTION and creates nothing', {
    timeout: testTimeoutMs,
  }, async () => {
    const produced = await kcatMayFail(['-P', '-t', 'cu/bad'], 'x\n');
    assert.equal(produced.code, 1, produced.stderr);
    // Which of the two librdkafka reports depends on whether the topic's metadata came before the produce call.
    assert.match(
      produced.stderr,
      /Delivery failed for message: Broker: Invalid topic|Failed to produce message \(1 bytes\): Local: Unknown topic/,
    );
    const listed = await kcat(['-L', '-t', 'cu/bad']);
    assert.match(listed.stdout, / {2}topic "cu\/bad" with 0 partitions: Broker: Invalid topic\n/);
    // A consumer's metadata request does not allow auto-creation; Kafka still names the bad name, not an
    // unknown topic.
    const consumed = await kcatMayFail(['-C', '-t', 'cu/bad', '-e']);
    assert.equal(consumed.code, 1, consumed.stderr);
    assert.match(consumed.stderr, /ERROR: Topic cu\/bad error: Broker: Invalid topic/);
    await assert.rejects(
      admin.fetchTopicMetadata({ topics: ['cu/bad'] }),
      hasKafkaErrorType('INVALID_TOPIC_EXCEPTION'),
    );
    assert.ok(!(await admin.listTopics()).includes('cu/bad'));
  });

  test('kcat and topic auto-creation: producers create, consumers only with allow.auto.create.topics', {
    timeout: testTimeoutMs,
  }, async () => {
    // Broker allows auto-creation (the default).
    await kcat(['-P', '-t', 'cu-auto-produced'], 'made\n');
    assert.deepEqual(await highWatermarks('cu-auto-produced'), ['0:0-1']);
    const plainConsumer = await kcatMayFail(['-C', '-t', 'cu-auto-consumer', '-e']);
    assert.equal(plainConsumer.code, 1, plainConsumer.stderr);
    assert.match(
      plainConsumer.stderr,
      /ERROR: Topic cu-auto-consumer error: Broker: Unknown topic or partition/,
    );
    assert.ok(!(await admin.listTopics()).includes('cu-auto-consumer'), 'consumer did not create its topic');
    const allowed = await kcat(['-C', '-t', 'cu-auto-allowed', '-e', '-X', 'allow.auto.create.topics=true']);
    assert.equal(allowed.stdout, '');
    assert.deepEqual(await highWatermarks('cu-auto-allowed'), ['0:0-0']);

    // Broker with auto.create.topics.enable=false: nobody creates topics.
    const strict = await startBroker({ args: ['--set', 'auto.create.topics.enable=false'] });
    const strictArgs = ['-b', strict.bootstrap, '-m', '10'];
    // librdkafka waits topic.metadata.propagation.max.ms (30 s by default) for a missing topic to appear.
    const producing = await runProgram(
      'kcat',
      [...strictArgs, '-P', '-t', 'cu-strict', '-X', 'topic.metadata.propagation.max.ms=500'],
      { input: 'x\n', timeoutMs: 15_000 },
    );
    assert.equal(producing.code, 1, producing.stderr);
    assert.match(producing.stderr, /Delivery failed for message: Broker: Unknown topic or partition/);
    const consuming = await runProgram(
      'kcat',
      [...strictArgs, '-C', '-t', 'cu-strict', '-e', '-X', 'allow.auto.create.topics=true'],
      { timeoutMs: 15_000 },
    );
    assert.equal(consuming.code, 1, consuming.stderr);
    assert.match(consuming.stderr, /ERROR: Topic cu-strict error: Broker: Unknown topic or partition/);
    const listing = await runProgramOk('kcat', [...strictArgs, '-L']);
    assert.doesNotMatch(listing.stdout, /cu-strict/);
    await strict.dispose();
  });

  // ---------------------------------------------------------------------------------------------
  // kafkajs

  test('kafkajs consumer.seek during run re-reads from the chosen offset', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-seek';
    await createTopic(topic, 1);
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 8 }, (_, i) => ({ value: `s${i}` })),
    });
    const consumer = newConsumer(kafka, 'cu-seek-group');
    const seen: string[] = [];
    let sought = false;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async (payload) => {
        seen.push(describeValue(payload));
        if (payload.message.offset === '5' && !sought) {
          sought = true;
          consumer.seek({ topic, partition: 0, offset: '2' });
        }
      },
    });
    await closeAfterSeeing(consumer, seen, 12);
    assert.deepEqual(seen, [
      ...[0, 1, 2, 3, 4, 5].map((i) => `${topic}|0|${i}|s${i}`),
      ...[2, 3, 4, 5, 6, 7].map((i) => `${topic}|0|${i}|s${i}`),
    ]);
    assert.deepEqual(await committedOffsets('cu-seek-group', topic), ['0:8']);
  });

  test('kafkajs pause and resume of one topic', { timeout: testTimeoutMs }, async () => {
    const [paused, flowing] = ['cu-paused', 'cu-flowing'];
    await createTopic(paused, 2);
    await createTopic(flowing, 1);
    const consumer = newConsumer(kafka, 'cu-pause-group');
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [paused, flowing], fromBeginning: true });
    const fetched = firstFetch(consumer);
    await consumer.run({
      eachMessage: async (payload) => {
        seen.push(describeValue(payload));
      },
    });
    await fetched;
    consumer.pause([{ topic: paused }]);
    assert.deepEqual(consumer.paused(), [{ topic: paused, partitions: [0, 1] }]);
    await producer.send({
      topic: paused,
      acks: -1,
      messages: [0, 1].map((partition) => ({ partition, value: `p${partition}` })),
    });
    await producer.send({ topic: flowing, acks: -1, messages: [{ value: 'f0' }, { value: 'f1' }] });
    await waitFor(
      () => seen.length >= 2,
      10_000,
      () => `seen ${seen}`,
    );
    await sleep(500);
    assert.deepEqual(seen, [`${flowing}|0|0|f0`, `${flowing}|0|1|f1`]);

    consumer.resume([{ topic: paused }]);
    assert.deepEqual(consumer.paused(), []);
    await waitFor(
      () => seen.length >= 4,
      10_000,
      () => `seen ${seen}`,
    );
    await sleep(200);
    await closeConsumer(consumer);
    assert.deepEqual(seen.slice(2).sort(), [`${paused}|0|0|p0`, `${paused}|1|0|p1`]);
  });

  test('kafkajs eachBatch with resolveOffset, heartbeat and commitOffsetsIfNecessary', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-each-batch';
    const groupId = 'cu-each-batch-group';
    await createTopic(topic, 1);
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `b${i}` })),
    });
    const consumer = newConsumer(kafka, groupId);
    const batches: { offsets: string[]; highWatermark: string; lastOffset: string; lag: string }[] = [];
    let committedMidway: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommitThreshold: 1,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        batches.push({
          offsets: batch.messages.map((m) => m.offset),
          highWatermark: batch.highWatermark,
          lastOffset: batch.lastOffset(),
          lag: batch.offsetLag(),
        });
        // The first time, handle only offsets 0-5: the rest must come again in the next batch.
        const limit = batches.length === 1 ? 5 : Number.POSITIVE_INFINITY;
        for (const message of batch.messages) {
          if (!isRunning() || isStale() || Number(message.offset) > limit) break;
          resolveOffset(message.offset);
          await heartbeat();
        }
        await commitOffsetsIfNecessary();
        if (batches.length === 1) committedMidway = await committedOffsets(groupId, topic);
      },
    });
    await waitFor(
      () => batches.length >= 2,
      10_000,
      () => `batches ${JSON.stringify(batches)}`,
    );
    await sleep(300);
    await closeConsumer(consumer);
    assert.deepEqual(batches, [
      {
        offsets: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
        highWatermark: '10',
        lastOffset: '9',
        lag: '0',
      },
      { offsets: ['6', '7', '8', '9'], highWatermark: '10', lastOffset: '9', lag: '0' },
    ]);
    assert.deepEqual(committedMidway, ['0:6']);
    assert.deepEqual(await committedOffsets(groupId, topic), ['0:10']);
  });

  test('kafkajs autoCommit=false with commitOffsets: the next member resumes after the commit', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-manual-commit';
    const groupId = 'cu-manual-group';
    await createTopic(topic, 1);
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 6 }, (_, i) => ({ value: `m${i}` })),
    });
    /** Reads `count` records with autoCommit off, committing offset+1 after `commitAfter` if given. */
    const read = async (count: number, commitAfter?: string) => {
      const consumer = newConsumer(kafka, groupId);
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async (payload) => {
          seen.push(describeValue(payload));
          if (payload.message.offset === commitAfter) {
            await consumer.commitOffsets([{ topic, partition: 0, offset: String(Number(commitAfter) + 1) }]);
          }
        },
      });
      await waitFor(
        () => seen.length >= count,
        10_000,
        () => `seen ${seen}`,
      );
      await sleep(200);
      await closeConsumer(consumer);
      return seen;
    };
    assert.deepEqual(
      await read(6, '2'),
      [0, 1, 2, 3, 4, 5].map((i) => `${topic}|0|${i}|m${i}`),
    );
    // Only the explicit commit: autoCommit=false commits nothing on its own, not even on disconnect.
    assert.deepEqual(await committedOffsets(groupId, topic), ['0:3']);
    assert.deepEqual(
      await read(3),
      [3, 4, 5].map((i) => `${topic}|0|${i}|m${i}`),
    );
    assert.deepEqual(await committedOffsets(groupId, topic), ['0:3']);
  });

  test('kafkajs fromBeginning=false reads only records produced after it joined', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-latest';
    await createTopic(topic, 2);
    await producer.send({
      topic,
      acks: -1,
      messages: [0, 1].map((partition) => ({ partition, value: `old-${partition}` })),
    });
    const consumer = newConsumer(kafka, 'cu-latest-group');
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    const fetched = firstFetch(consumer);
    await consumer.run({
      eachMessage: async (payload) => {
        seen.push(describeValue(payload));
      },
    });
    await fetched;
    await producer.send({
      topic,
      acks: -1,
      messages: [0, 1].map((partition) => ({ partition, value: `new-${partition}` })),
    });
    await closeAfterSeeing(consumer, seen, 2);
    assert.deepEqual(seen.sort(), [`${topic}|0|1|new-0`, `${topic}|1|1|new-1`]);
    assert.deepEqual(await committedOffsets('cu-latest-group', topic), ['0:2', '1:2']);
  });

  test('kafkajs admin: offsets set on an empty group are where its consumer starts; unknown groups', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-admin-offsets';
    const groupId = 'cu-admin-group';
    await createTopic(topic, 2);
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `a${i}` })),
    });

    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.deepEqual(
      metadata.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => [p.partitionId, p.leader, p.partitionErrorCode]).sort(),
      })),
      [
        {
          name: topic,
          partitions: [
            [0, nodeId, 0],
            [1, nodeId, 0],
          ],
        },
      ],
    );
    await assert.rejects(
      admin.fetchTopicMetadata({ topics: ['cu-admin-missing'] }),
      hasKafkaErrorType('UNKNOWN_TOPIC_OR_PARTITION'),
    );
    assert.ok(!(await admin.listTopics()).includes('cu-admin-missing'), 'admin metadata created no topic');

    // A group that never existed: Dead, nothing committed, and DeleteGroups says GROUP_ID_NOT_FOUND.
    assert.deepEqual((await admin.describeGroups(['cu-never'])).groups, [
      { errorCode: 0, groupId: 'cu-never', state: 'Dead', protocolType: '', protocol: '', members: [] },
    ]);
    assert.deepEqual(await committedOffsets('cu-never', topic), ['0:-1', '1:-1']);
    await assert.rejects(admin.deleteGroups(['cu-never']), (err: unknown) => {
      const groups = (err as { groups?: { groupId: string; error?: { type?: string } }[] }).groups;
      assert.deepEqual(
        groups?.map((g) => [g.groupId, g.error?.type]),
        [['cu-never', 'GROUP_ID_NOT_FOUND']],
      );
      return true;
    });

    await admin.setOffsets({
      groupId,
      topic,
      partitions: [
        { partition: 0, offset: '3' },
        { partition: 1, offset: '4' },
      ],
    });
    assert.deepEqual(await committedOffsets(groupId, topic), ['0:3', '1:4']);
    assert.deepEqual(
      (await admin.listGroups()).groups.filter((g) => g.groupId === groupId),
      [{ groupId, protocolType: 'consumer' }],
    );
    assert.equal((await admin.describeGroups([groupId])).groups[0]?.state, 'Empty');

    const consumer = newConsumer(kafka, groupId);
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async (payload) => {
        seen.push(describeValue(payload));
      },
    });
    await closeAfterSeeing(consumer, seen, 3);
    assert.deepEqual(seen.sort(), [`${topic}|0|3|a6`, `${topic}|0|4|a8`, `${topic}|1|4|a9`]);
    assert.deepEqual(await committedOffsets(groupId, topic), ['0:5', '1:5']);

    // Empty again: it can be deleted, and its offsets go with it.
    assert.deepEqual(await admin.deleteGroups([groupId]), [{ groupId, errorCode: 0 }]);
    assert.deepEqual(await committedOffsets(groupId, topic), ['0:-1', '1:-1']);
  });

  test('kafkajs sendBatch to several topics in one request', { timeout: testTimeoutMs }, async () => {
    const [orders, audit] = ['cu-batch-orders', 'cu-batch-audit'];
    await createTopic(orders, 2);
    await createTopic(audit, 1);
    const send = (round: number, compression: CompressionType) =>
      producer.sendBatch({
        acks: -1,
        compression,
        topicMessages: [
          {
            topic: orders,
            messages: [
              { partition: 0, key: `o${round}-a`, value: `order ${round}a` },
              { partition: 1, key: `o${round}-b`, value: `order ${round}b` },
              {
                partition: 0,
                key: `o${round}-c`,
                value: `order ${round}c`,
                headers: { round: String(round) },
              },
            ],
          },
          { topic: audit, messages: [{ value: `audit ${round}` }] },
        ],
      });
    const summary = (results: Awaited<ReturnType<typeof send>>) =>
      results
        .map(
          (r) =>
            `${r.topicName}|${r.partition}|${r.errorCode}|${r.baseOffset}|${r.logAppendTime}|${r.logStartOffset}`,
        )
        .sort();
    assert.deepEqual(summary(await send(1, CompressionTypes.None)), [
      `${audit}|0|0|0|-1|0`,
      `${orders}|0|0|0|-1|0`,
      `${orders}|1|0|0|-1|0`,
    ]);
    assert.deepEqual(summary(await send(2, CompressionTypes.GZIP)), [
      `${audit}|0|0|1|-1|0`,
      `${orders}|0|0|2|-1|0`,
      `${orders}|1|0|1|-1|0`,
    ]);
    const read = async (topic: string) =>
      lines(
        (await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%p|%o|%k|%s|%h\\n'])).stdout,
      ).sort();
    assert.deepEqual(await read(orders), [
      '0|0|o1-a|order 1a|',
      '0|1|o1-c|order 1c|round=1',
      '0|2|o2-a|order 2a|',
      '0|3|o2-c|order 2c|round=2',
      '1|0|o1-b|order 1b|',
      '1|1|o2-b|order 2b|',
    ]);
    assert.deepEqual(await read(audit), ['0|0||audit 1|', '0|1||audit 2|']);
  });

  test('kafkajs subscribes by RegExp to the matching existing topics only', {
    timeout: testTimeoutMs,
  }, async () => {
    const matching = ['cu-rx-orders', 'cu-rx-payments'];
    const other = ['cu-rx-audit', 'cu-rxorders'];
    for (const topic of [...matching, ...other]) {
      await createTopic(topic, 1);
      await producer.send({ topic, acks: -1, messages: [{ value: `in ${topic}` }] });
    }
    const consumer = newConsumer(kafka, 'cu-regexp-group');
    const seen: string[] = [];
    const assigned: string[] = [];
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      assigned.push(...Object.keys(payload.memberAssignment).sort());
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [/^cu-rx-(orders|payments)$/], fromBeginning: true });
    await consumer.run({
      eachMessage: async (payload) => {
        seen.push(describeValue(payload));
      },
    });
    await closeAfterSeeing(consumer, seen, 2);
    assert.deepEqual(assigned, matching);
    assert.deepEqual(
      seen.sort(),
      matching.map((topic) => `${topic}|0|0|in ${topic}`),
    );
  });

  test('kafkajs idempotent producer writes each message once, in order', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cu-kafkajs-idempotent';
    await createTopic(topic, 1);
    const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await idempotent.connect();
    for (const batch of [['a', 'b'], ['c']]) {
      await idempotent.send({ topic, acks: -1, messages: batch.map((value) => ({ value })) });
    }
    await idempotent.disconnect();
    assert.equal(
      (await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%o|%s\\n'])).stdout,
      '0|a\n1|b\n2|c\n',
    );
  });
});
