// sarama 1.22.1 (Go, Debian golang-github-shopify-sarama-dev) against a real Sluice process. sarama never asks
// ApiVersions: Config.Version alone fixes its request versions and message format, so each case pins one:
// the default V0_8_2_0 (Produce v0 with magic 0 messages, Fetch v0, Metadata v0, ListOffsets v0), V0_10_0_0
// (Produce v2 with magic 1, Fetch v2) and V2_2_0_0, the highest it knows (Produce v3 with v2 batches and
// headers, Fetch v4, ListOffsets v1). The Go program test/interop/sarama/main.go is built once, offline, in
// GOPATH mode against Debian's Go sources.
// The scripted subcommands (admin.go, client.go) print one {"step","err",...} line per sarama call, and the
// tests compare the whole session with what Kafka answers; "err" is the Kafka error code sarama returned (-1
// for an error sarama built from the broker's message text, kept in "msg").
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { type Broker, disposeAllBrokers, makeTempDir, startBroker } from '../helpers/broker.js';
import { CompressionTypes, createKafka, readAll, registerCompressionCodecs } from '../helpers/kafka.js';
import { runProgram, runProgramOk } from '../helpers/process.js';
import { buildSaramaProgram, goMissingReason } from '../helpers/sarama.js';

const testTimeoutMs = 40_000;
const programTimeoutMs = 30_000;
const defaultVersion = 'default';
const legacyVersion = '0.10.0.0';
const maxVersion = '2.2.0';
const groupVersion = '2.0.0';

// sarama writes lz4 (and kafkajs reads what it wrote); kafkajs ships only gzip.
registerCompressionCodecs();

const skipReason = await goMissingReason();

/** One record as the Go program prints it: partition, offset, key, value, headers, and the group member. */
interface SaramaRecord {
  p: number;
  o: number;
  k: string | null;
  v: string | null;
  h: string[][];
  m?: number;
}

interface ProduceLine {
  p?: number;
  o?: number;
  err?: number;
  msg?: string;
}

interface MessageShape {
  count: number;
  partitions: number;
  prefix: string;
  headers: boolean;
  nullKey?: number;
  nullValue?: number;
}

/** Message i of the Go program: key k<i>, value <prefix>-v<i>, on partition i % partitions. */
function messageAt(shape: MessageShape, i: number): Omit<SaramaRecord, 'p' | 'o'> {
  return {
    k: i === shape.nullKey ? null : `k${i}`,
    v: i === shape.nullValue ? null : `${shape.prefix}-v${i}`,
    h: shape.headers
      ? [
          ['origin', 'sarama'],
          ['n', String(i)],
        ]
      : [],
  };
}

/** What reading the messages back must give, sorted by partition then offset. */
function expectedRecords(shape: MessageShape, firstOffset = 0): SaramaRecord[] {
  const records: SaramaRecord[] = [];
  for (let partition = 0; partition < shape.partitions; partition++) {
    let offset = firstOffset;
    for (let i = partition; i < shape.count; i += shape.partitions) {
      records.push({ p: partition, o: offset++, ...messageAt(shape, i) });
    }
  }
  return records;
}

/** The offsets SyncProducer reports, in send order. */
function expectedProduced(shape: MessageShape, firstOffset = 0): ProduceLine[] {
  return Array.from({ length: shape.count }, (_, i) => ({
    p: i % shape.partitions,
    o: firstOffset + Math.floor(i / shape.partitions),
  }));
}

function jsonLines<T>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

/** One line of a scripted subcommand: the call's name, the error code sarama returned, and what it read. */
type Step = { step: string; err: number; msg?: string } & Record<string, unknown>;

const adminVersionLow = '0.11.0.0';
const adminVersionHigh = '2.0.0';

/** sarama's NewHashPartitioner: FNV-1a of the key as a signed 32-bit value, remainder, then its magnitude. */
function saramaHashPartition(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return Math.abs((hash | 0) % partitions);
}

function partitionView(id: number) {
  return { id, leader: 0, replicas: [0], isr: [0], err: 0 };
}

function topicView(name: string, partitions: number) {
  return { name, err: 0, partitions: Array.from({ length: partitions }, (_, id) => partitionView(id)) };
}

const missingTopicView = (name: string) => ({ name, err: 3, partitions: [] });

function topicConfigs(retentionMs: string, segmentBytes: string | null) {
  return {
    'cleanup.policy': { value: 'delete', default: true, readOnly: false },
    'max.message.bytes': { value: '1048588', default: true, readOnly: false },
    'retention.ms': { value: retentionMs, default: false, readOnly: false },
    'segment.bytes':
      segmentBytes === null
        ? { value: '1073741824', default: true, readOnly: false }
        : { value: segmentBytes, default: false, readOnly: false },
  };
}

/** What a Kafka 2.x broker answers to the admin subcommand's session (node 0, reached at `address`). */
function expectedAdminSession(prefix: string, version: string, address: string): Step[] {
  const topic = `${prefix}-t`;
  const missing = `${prefix}-missing`;
  // sarama refuses CreatePartitions itself below V1_0_0_0, before sending anything.
  const createPartitionsWorks = version !== adminVersionLow;
  const partitionsAfterCreate = createPartitionsWorks ? 5 : 3;
  const notFound = `Topic ${missing} does not exist.`;
  return [
    { step: 'create-validate-only', err: 0 },
    { step: 'describe-after-validate-only', err: 0, topics: [missingTopicView(topic)] },
    { step: 'create', err: 0 },
    { step: 'create-existing', err: 36 },
    { step: 'create-zero-partitions', err: 37 },
    { step: 'create-replication-factor-3', err: 38 },
    { step: 'create-bad-config-value', err: 40 },
    {
      step: 'list-topics',
      err: 0,
      topics: {
        [topic]: {
          NumPartitions: 3,
          ReplicationFactor: 1,
          ReplicaAssignment: { 0: [0], 1: [0], 2: [0] },
          ConfigEntries: { 'retention.ms': '3600000', 'segment.bytes': '1048576' },
        },
      },
    },
    { step: 'describe', err: 0, topics: [topicView(topic, 3), missingTopicView(missing)] },
    { step: 'describe-config', err: 0, configs: topicConfigs('3600000', '1048576') },
    { step: 'describe-config-missing', err: -1, msg: notFound, configs: {} },
    {
      step: 'describe-config-broker-resource',
      err: -1,
      msg: 'Resource type 5 is not supported by DescribeConfigs here.',
      configs: {},
    },
    {
      step: 'describe-config-cluster-resource',
      err: 0,
      configs: {
        'log.retention.ms': { value: '604800000', default: true, readOnly: true },
        'message.max.bytes': { value: '1048588', default: true, readOnly: true },
      },
    },
    { step: 'alter-validate-only', err: 0 },
    { step: 'describe-after-validate-only-alter', err: 0, configs: topicConfigs('3600000', '1048576') },
    { step: 'alter', err: 0 },
    { step: 'describe-after-alter', err: 0, configs: topicConfigs('7200000', null) },
    {
      step: 'alter-bad-value',
      err: -1,
      msg: 'Invalid value soon for configuration retention.ms: expected a 64-bit integer at least -1',
    },
    { step: 'alter-missing', err: -1, msg: notFound },
    { step: 'create-partitions-validate-only', err: createPartitionsWorks ? 0 : 35 },
    { step: 'describe-after-validate-only-partitions', err: 0, topics: [topicView(topic, 3)] },
    { step: 'create-partitions', err: createPartitionsWorks ? 0 : 35 },
    { step: 'describe-after-create-partitions', err: 0, topics: [topicView(topic, partitionsAfterCreate)] },
    { step: 'create-partitions-fewer', err: createPartitionsWorks ? 37 : 35 },
    { step: 'create-partitions-missing', err: createPartitionsWorks ? 3 : 35 },
    { step: 'delete-records', err: 0 },
    { step: 'offsets-after-delete-records', err: 0, oldest: 4, newest: 6 },
    {
      step: 'delete-records-raw',
      err: 0,
      partitions: { 0: { err: 1, lowWatermark: -1 }, 1: { err: 0, lowWatermark: 0 } },
    },
    { step: 'delete', err: 0 },
    { step: 'delete-again', err: 3 },
    { step: 'describe-after-delete', err: 0, topics: [missingTopicView(topic)] },
    // sarama's DescribeCluster sends Metadata v0, which carries no controller id: it reports -1.
    { step: 'describe-cluster', err: 0, brokers: [{ id: 0, addr: address }], controller: -1 },
  ];
}

describe('sarama interop', { skip: skipReason ?? false, timeout: 300_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let buildDir: string;
  let program: string;

  const versionArgs = (version: string) => (version === defaultVersion ? [] : ['-version', version]);

  const sarama = async (command: string, args: string[]) =>
    runProgramOk(program, [command, '-bootstrap', broker.bootstrap, ...args], {
      timeoutMs: programTimeoutMs,
      // sarama's own log goes to stderr, which runProgramOk shows when the program fails.
      env: { SARAMA_DEBUG: '1' },
    });

  const saramaProduce = async (
    topic: string,
    version: string,
    compression: string,
    shape: MessageShape,
  ): Promise<{ lines: ProduceLine[]; log: string }> => {
    const args = [
      '-topic',
      topic,
      ...versionArgs(version),
      '-compression',
      compression,
      '-count',
      String(shape.count),
      '-partitions',
      String(shape.partitions),
      '-prefix',
      shape.prefix,
      '-null-key',
      String(shape.nullKey ?? -1),
      '-null-value',
      String(shape.nullValue ?? -1),
    ];
    const result = await runProgram(program, ['produce', '-bootstrap', broker.bootstrap, ...args], {
      timeoutMs: programTimeoutMs,
      env: { SARAMA_DEBUG: '1' },
    });
    // Exit 3 means some messages failed; their lines say why.
    if (result.code !== 0 && result.code !== 3) {
      throw new Error(`sarama produce exited with ${result.code ?? result.signal}\n${result.stderr}`);
    }
    return { lines: jsonLines<ProduceLine>(result.stdout), log: result.stderr };
  };

  /** Produces with sarama and asserts every message landed at the offset it should; shows sarama's log if not. */
  const saramaProduceOk = async (
    topic: string,
    version: string,
    compression: string,
    shape: MessageShape,
    firstOffset = 0,
  ): Promise<void> => {
    const { lines, log } = await saramaProduce(topic, version, compression, shape);
    const expected = expectedProduced(shape, firstOffset);
    assert.deepEqual(
      lines,
      expected,
      `sarama produce printed ${JSON.stringify(lines)}, expected ${JSON.stringify(expected)}\nsarama log:\n${log}`,
    );
  };

  const saramaConsume = async (topic: string, version: string, partitions: number) =>
    jsonLines<SaramaRecord>(
      (await sarama('consume', ['-topic', topic, ...versionArgs(version), '-partitions', String(partitions)]))
        .stdout,
    );

  const committedBySarama = async (topic: string, group: string, partitions: number) =>
    jsonLines<ProduceLine>(
      (
        await sarama('committed', [
          '-topic',
          topic,
          '-group',
          group,
          '-partitions',
          String(partitions),
          '-version',
          groupVersion,
        ])
      ).stdout,
    );

  before(async () => {
    buildDir = await makeTempDir('sluice-sarama-');
    program = await buildSaramaProgram('test/interop/sarama', buildDir, 'sarama-interop');
    // A short initial rebalance delay still lets two members started together join one generation.
    broker = await startBroker({ args: ['--set', 'group.initial.rebalance.delay.ms=1000'] });
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    await admin?.disconnect().catch(() => {});
    await disposeAllBrokers();
    if (buildDir !== undefined) await rm(buildDir, { recursive: true, force: true });
  });

  const roundTrips = [
    // The legacy path: Produce v0 with magic 0 messages, Fetch v0. sarama refuses lz4 below V0_10_0_0.
    ...['none', 'gzip', 'snappy'].map((codec) => ({ version: defaultVersion, codec, headers: false })),
    // Produce v2 with magic 1 messages (timestamps), Fetch v2.
    ...['none', 'gzip', 'snappy', 'lz4'].map((codec) => ({ version: legacyVersion, codec, headers: false })),
    // Produce v3 with v2 record batches and headers, Fetch v4.
    ...['none', 'gzip', 'snappy', 'lz4'].map((codec) => ({ version: maxVersion, codec, headers: true })),
  ];
  for (const { version, codec, headers } of roundTrips) {
    test(`sarama ${version} SyncProducer with ${codec} compression; its partition consumer reads it back`, {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `sarama-${version}-${codec}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const shape: MessageShape = {
        count: 12,
        partitions: 2,
        prefix: `${codec}-${'x'.repeat(100)}`,
        headers,
        nullKey: 3,
        nullValue: 4,
      };
      await saramaProduceOk(topic, version, codec, shape);
      assert.deepEqual(await saramaConsume(topic, version, 2), expectedRecords(shape));
    });
  }

  test('sarama zstd on Produce v3 is refused with UNSUPPORTED_COMPRESSION_TYPE, as Kafka does', {
    timeout: testTimeoutMs,
  }, async () => {
    // sarama 1.22.1 accepts CompressionZSTD at any Version but never sends Produce v7, which zstd needs.
    const topic = 'sarama-zstd';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const shape: MessageShape = { count: 4, partitions: 2, prefix: 'zstd', headers: true };
    const { lines } = await saramaProduce(topic, maxVersion, 'zstd', shape);
    assert.deepEqual(
      lines.map((line) => line.err),
      [76, 76, 76, 76],
    );
    const offsets = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition);
    assert.deepEqual(
      offsets.map(({ partition, high }) => ({ partition, high })),
      [
        { partition: 0, high: '0' },
        { partition: 1, high: '0' },
      ],
    );
  });

  test('sarama consumer group of two members reads every record once and commits the offsets', {
    timeout: 60_000,
  }, async () => {
    const topic = 'sarama-group';
    const group = 'sarama-group-readers';
    const partitions = 4;
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
    const first: MessageShape = { count: 40, partitions, prefix: 'first', headers: true };
    await saramaProduceOk(topic, maxVersion, 'none', first);

    // Both members start together, so they join the same first generation during the broker's initial
    // rebalance delay, and sarama's default range strategy gives each two partitions.
    const read = jsonLines<SaramaRecord>(
      (
        await sarama('group', [
          '-topic',
          topic,
          '-group',
          group,
          '-version',
          groupVersion,
          '-count',
          String(first.count),
          '-members',
          '2',
        ])
      ).stdout,
    );
    assert.deepEqual(
      read.map(({ m: _member, ...rest }) => rest),
      expectedRecords(first),
    );
    const memberOfPartition = new Map<number, Set<number | undefined>>();
    for (const r of read) {
      const members = memberOfPartition.get(r.p) ?? new Set();
      members.add(r.m);
      memberOfPartition.set(r.p, members);
    }
    const owners = [...memberOfPartition.values()].map((members) => [...members]);
    assert.ok(
      owners.every((members) => members.length === 1),
      `each partition read by one member: ${JSON.stringify(owners)}`,
    );
    assert.deepEqual(
      [0, 1].map((member) => owners.filter((members) => members[0] === member).length),
      [2, 2],
    );

    const allAtTen = Array.from({ length: partitions }, (_, p) => ({ p, o: 10 }));
    assert.deepEqual(await committedBySarama(topic, group, partitions), allAtTen);
    const viaKafkajs = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    assert.deepEqual(
      viaKafkajs[0]?.partitions
        .map(({ partition, offset }) => ({ p: partition, o: Number(offset) }))
        .sort((a, b) => a.p - b.p),
      allAtTen,
    );

    // A new member of the same group resumes at the committed offsets (OffsetFetch v1): only new records.
    const second: MessageShape = { count: 4, partitions, prefix: 'second', headers: true };
    await saramaProduceOk(topic, maxVersion, 'gzip', second, 10);
    const resumed = jsonLines<SaramaRecord>(
      (
        await sarama('group', [
          '-topic',
          topic,
          '-group',
          group,
          '-version',
          groupVersion,
          '-count',
          String(second.count),
        ])
      ).stdout,
    );
    assert.deepEqual(
      resumed.map(({ m: _member, ...rest }) => rest),
      expectedRecords(second, 10),
    );
    assert.deepEqual(
      await committedBySarama(topic, group, partitions),
      Array.from({ length: partitions }, (_, p) => ({ p, o: 11 })),
    );
  });

  test('a log mixing sarama magic 0, magic 1 and v2 batches reads back exactly in sarama and kafkajs', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'sarama-mixed';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const writes = [
      { version: defaultVersion, codec: 'gzip', shape: { prefix: 'magic0', headers: false, nullKey: 1 } },
      { version: legacyVersion, codec: 'snappy', shape: { prefix: 'magic1', headers: false, nullValue: 2 } },
      { version: maxVersion, codec: 'lz4', shape: { prefix: 'magic2', headers: true, nullKey: 0 } },
    ];
    const expected: SaramaRecord[] = [];
    for (const [round, { version, codec, shape: partial }] of writes.entries()) {
      const shape: MessageShape = { count: 6, partitions: 2, ...partial };
      await saramaProduceOk(topic, version, codec, shape, round * 3);
      expected.push(...expectedRecords(shape, round * 3));
    }
    expected.sort((a, b) => a.p - b.p || a.o - b.o);

    assert.deepEqual(await saramaConsume(topic, maxVersion, 2), expected);
    // sarama's default version fetches with Fetch v0 and gets the v2 batches as stored (it parses them).
    assert.deepEqual(await saramaConsume(topic, defaultVersion, 2), expected);

    const viaKafkajs = (await readAll(kafka, topic)).sort(
      (a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset),
    );
    assert.deepEqual(
      viaKafkajs.map((m) => ({
        p: m.partition,
        o: Number(m.offset),
        k: m.key,
        v: m.value,
        h: Object.entries(m.headers),
      })),
      expected,
    );
  });

  test('sarama at its default version reads what kafkajs wrote with headers and gzip', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'sarama-from-kafkajs';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: Array.from({ length: 6 }, (_, i) => ({
          partition: i % 2,
          key: `k${i}`,
          value: `kafkajs-v${i}`,
          headers: { origin: 'kafkajs' },
        })),
      });
    } finally {
      await producer.disconnect();
    }
    const expected = [0, 1].flatMap((p) =>
      [0, 1, 2].map((o) => ({
        p,
        o,
        k: `k${o * 2 + p}`,
        v: `kafkajs-v${o * 2 + p}`,
        h: [['origin', 'kafkajs']],
      })),
    );
    for (const version of [defaultVersion, legacyVersion, maxVersion]) {
      assert.deepEqual(await saramaConsume(topic, version, 2), expected, `sarama ${version}`);
    }
  });

  const saramaSteps = async (command: string, args: string[]): Promise<Step[]> =>
    jsonLines<Step>((await sarama(command, args)).stdout);

  for (const version of [adminVersionHigh, adminVersionLow]) {
    test(`sarama ${version} ClusterAdmin: topics, configs, partitions, records, errors`, {
      timeout: testTimeoutMs,
    }, async () => {
      const prefix = `sarama-admin-${version}`;
      const session = await saramaSteps('admin', ['-topic', prefix, '-version', version]);
      assert.deepEqual(session, expectedAdminSession(prefix, version, broker.bootstrap));
    });
  }

  test('sarama OffsetManager commits, ClusterAdmin lists and describes groups and their offsets', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'sarama-admin-groups';
    const group = 'sarama-admin';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const session = await saramaSteps('admin-groups', [
      '-topic',
      topic,
      '-group',
      group,
      '-version',
      groupVersion,
    ]);
    const consumerMember = {
      clientId: 'sluice-sarama-interop',
      topics: [topic],
      assignment: { [topic]: [0, 1] },
    };
    assert.deepEqual(session, [
      // Before each mark, a new OffsetManager reads the committed offset (-2: none, sarama's OffsetOldest).
      { step: 'mark', err: 0, before: -2, beforeMeta: '' },
      // MarkOffset never moves backwards; ResetOffset does.
      { step: 'mark-lower-ignored', err: 0, before: 3, beforeMeta: 'meta-3' },
      { step: 'reset', err: 0, before: 3, beforeMeta: 'meta-3' },
      { step: 'read-back', err: 0, before: 1, beforeMeta: 'back' },
      // A group that only committed offsets has no protocol type, as in Kafka.
      {
        step: 'list-groups',
        err: 0,
        groups: { [`${group}-active`]: 'consumer', [`${group}-committed`]: '' },
      },
      {
        step: 'describe-groups',
        err: 0,
        groups: {
          [`${group}-active`]: {
            err: 0,
            state: 'Stable',
            protocolType: 'consumer',
            protocol: 'range',
            members: [consumerMember],
          },
          [`${group}-committed`]: { err: 0, state: 'Empty', protocolType: '', protocol: '', members: [] },
          [`${group}-missing`]: { err: 0, state: 'Dead', protocolType: '', protocol: '', members: [] },
        },
      },
      {
        step: 'offsets-committed',
        err: 0,
        offsets: [
          { p: 0, o: 1, meta: 'back', err: 0 },
          { p: 1, o: -1, meta: '', err: 0 },
        ],
      },
      { step: 'offsets-missing-group', err: 0, offsets: [{ p: 0, o: -1, meta: '', err: 0 }] },
      {
        step: 'describe-after-leave',
        err: 0,
        groups: {
          [`${group}-active`]: {
            err: 0,
            state: 'Empty',
            protocolType: 'consumer',
            protocol: '',
            members: [],
          },
        },
      },
    ]);
  });

  /** Message n of the positions subcommand as a consumer reads it; ts 0 stands for "no timestamp". */
  const positionRecord = (n: number, ts: number) => ({ o: n, k: `k${n}`, v: `sarama-v${n}`, ts });
  const firstTimestampMs = Date.UTC(2021, 2, 4, 5, 6, 7);

  for (const { version, codec } of [
    { version: defaultVersion, codec: 'gzip' },
    { version: legacyVersion, codec: 'snappy' },
    { version: maxVersion, codec: 'none' },
    { version: maxVersion, codec: 'gzip' },
  ]) {
    test(`sarama ${version} ListOffsets, partition consumers from an offset, the newest and out of range, CreateTime (${codec})`, {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `sarama-positions-${version}-${codec}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const session = await saramaSteps('positions', [
        '-topic',
        topic,
        ...versionArgs(version),
        '-compression',
        codec,
      ]);
      // Magic 0 messages carry no timestamp; from V0_10_0_0 sarama sends CreateTime n seconds after the first.
      const ts = (n: number) => (version === defaultVersion ? 0 : firstTimestampMs + n * 1000);
      const sent = (from: number, count: number) =>
        Array.from({ length: count }, (_, i) => ({ o: from + i, ts: ts(from + i) }));
      const expected: Step[] = [
        { step: 'offsets-empty', err: 0, oldest: 0, newest: 0 },
        { step: 'produce', err: 0, sent: sent(0, 5) },
        { step: 'offsets', err: 0, oldest: 0, newest: 5 },
        { step: 'consume-from-2', err: 0, records: [2, 3, 4].map((n) => positionRecord(n, ts(n))) },
        {
          step: 'consume-newest',
          err: 0,
          sent: sent(5, 2),
          records: [5, 6].map((n) => positionRecord(n, ts(n))),
        },
        { step: 'consume-at-high-watermark', err: 0 },
        // sarama checks the start offset against ListOffsets itself and returns ErrOffsetOutOfRange.
        { step: 'consume-past-high-watermark', err: 1 },
      ];
      if (version === maxVersion) {
        // ListOffsets v1 (V0_10_1_0 and later) by timestamp: the first offset whose timestamp is at least the one asked for.
        expected.push({ step: 'offsets-for-times', err: 0, 0: 0, 2: 2, 7: -1 });
      }
      assert.deepEqual(session, expected);
    });
  }

  test('sarama on a LogAppendTime topic gets the broker time in Return.Successes and on every consumed message', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'sarama-log-append-time';
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
        },
      ],
    });
    const startedMs = Date.now();
    const session = await saramaSteps('positions', ['-topic', topic, '-version', maxVersion]);
    const finishedMs = Date.now();
    const bySteps = new Map(session.map((line) => [line.step, line]));
    const sentTimestamps = [
      ...((bySteps.get('produce')?.sent ?? []) as Array<{ o: number; ts: number }>),
      ...((bySteps.get('consume-newest')?.sent ?? []) as Array<{ o: number; ts: number }>),
    ];
    assert.deepEqual(
      sentTimestamps.map(({ o }) => o),
      [0, 1, 2, 3, 4, 5, 6],
    );
    for (const { o, ts } of sentTimestamps) {
      assert.ok(
        ts >= startedMs && ts <= finishedMs,
        `offset ${o}: append time ${ts} not in [${startedMs}, ${finishedMs}]`,
      );
    }
    const appendTimeOf = (n: number) => sentTimestamps[n]?.ts ?? -1;
    assert.deepEqual(
      bySteps.get('consume-from-2')?.records,
      [2, 3, 4].map((n) => positionRecord(n, appendTimeOf(n))),
    );
    assert.deepEqual(
      bySteps.get('consume-newest')?.records,
      [5, 6].map((n) => positionRecord(n, appendTimeOf(n))),
    );
    // Every record was appended after 2021, so each 2021 timestamp finds offset 0.
    assert.deepEqual(bySteps.get('offsets-for-times'), {
      step: 'offsets-for-times',
      err: 0,
      0: 0,
      2: 0,
      7: 0,
    });
  });

  test('sarama Sync and Async producers with the Hash partitioner place keys by FNV-1a; kafkajs reads them there', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'sarama-hash-partitioner';
    const partitions = 5;
    const count = 20;
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
    const session = await saramaSteps('partitioner', [
      '-topic',
      topic,
      '-version',
      maxVersion,
      '-partitions',
      String(partitions),
      '-count',
      String(count),
    ]);
    // Per partition, the sync round's records come first, in send order, then the async round's.
    const nextOffset = new Map<number, number>();
    const expectedPlaced = () =>
      Array.from({ length: count }, (_, i) => {
        const p = saramaHashPartition(`key-${i}`, partitions);
        const o = nextOffset.get(p) ?? 0;
        nextOffset.set(p, o + 1);
        return { p, o };
      });
    const syncPlaced = expectedPlaced();
    const asyncPlaced = expectedPlaced();
    assert.deepEqual(session, [
      { step: 'sync', err: 0, placed: syncPlaced },
      { step: 'async', err: 0, placed: asyncPlaced },
    ]);
    const stored = (await readAll(kafka, topic)).map((m) => ({
      p: m.partition,
      o: Number(m.offset),
      k: m.key,
      v: m.value,
    }));
    const expectedStored = [
      ...syncPlaced.map((at, i) => ({ ...at, k: `key-${i}`, v: `sync-${i}` })),
      ...asyncPlaced.map((at, i) => ({ ...at, k: `key-${i}`, v: `async-${i}` })),
    ];
    const byPosition = (a: { p: number; o: number }, b: { p: number; o: number }) => a.p - b.p || a.o - b.o;
    assert.deepEqual(stored.sort(byPosition), expectedStored.sort(byPosition));
  });

  for (const version of [defaultVersion, maxVersion]) {
    test(`sarama ${version} RequiredAcks NoResponse, WaitForLocal and WaitForAll all store every message`, {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `sarama-acks-${version}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const session = await saramaSteps('acks', ['-topic', topic, ...versionArgs(version)]);
      // With NoResponse sarama reports success without offsets (0); the others report where each landed.
      const sent = (offsets: number[]) => offsets.map((o) => ({ o, ts: 0 }));
      assert.deepEqual(
        session.map(({ newest: _newest, ...rest }) => rest),
        [
          { step: 'acks-0', err: 0, sent: sent([0, 0, 0]) },
          { step: 'acks-1', err: 0, sent: sent([3, 4, 5]) },
          { step: 'acks--1', err: 0, sent: sent([6, 7, 8]) },
        ],
      );
      // Each step asks for the newest offset on the producer's connection right after producing: Kafka handles
      // a connection's requests in order, so even after acks=0 the answer counts the records just sent.
      assert.deepEqual(
        session.map((line) => line.newest),
        [3, 6, 9],
      );
      const offsets = await admin.fetchTopicOffsets(topic);
      assert.deepEqual(
        offsets.map(({ low, high }) => ({ low, high })),
        [{ low: '0', high: '9' }],
      );
    });
  }

  for (const version of [defaultVersion, legacyVersion, maxVersion]) {
    test(`sarama ${version}: a message over the topic's max.message.bytes fails with MESSAGE_TOO_LARGE, the next succeeds`, {
      timeout: testTimeoutMs,
    }, async () => {
      // A 900-byte unkeyed value makes a 970-byte v2 batch. Like Kafka (message format v2), the broker judges
      // magic 0 and 1 messages by the size of the batch they convert to, so the limit is the same for all.
      const topic = `sarama-max-bytes-${version}`;
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '970' }] }],
      });
      const session = await saramaSteps('max-bytes', [
        '-topic',
        topic,
        ...versionArgs(version),
        '-sizes',
        '900,901,900',
      ]);
      assert.deepEqual(session, [
        { step: 'size-900', err: 0, o: 0 },
        { step: 'size-901', err: 10, o: -1 },
        { step: 'size-900', err: 0, o: 1 },
      ]);
    });
  }

  test('sarama over the broker-wide message.max.bytes (1048588) fails with MESSAGE_TOO_LARGE', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'sarama-max-bytes-broker';
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const session = await saramaSteps('max-bytes', [
      '-topic',
      topic,
      '-version',
      maxVersion,
      '-sizes',
      `${1048588 - 72},${1048588 - 71}`,
    ]);
    // Values of 8192 bytes and more take a 3-byte length varint: the batch is 72 bytes more than the value.
    assert.deepEqual(session, [
      { step: `size-${1048588 - 72}`, err: 0, o: 0 },
      { step: `size-${1048588 - 71}`, err: 10, o: -1 },
    ]);
  });
});
