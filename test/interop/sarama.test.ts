// sarama 1.22.1 (Go, Debian golang-github-shopify-sarama-dev) against a real Sluice process. sarama never asks
// ApiVersions: Config.Version alone fixes its request versions and message format, so each case pins one:
// the default V0_8_2_0 (Produce v0 with magic 0 messages, Fetch v0, Metadata v0, ListOffsets v0), V0_10_0_0
// (Produce v2 with magic 1, Fetch v2) and V2_2_0_0, the highest it knows (Produce v3 with v2 batches and
// headers, Fetch v4, ListOffsets v1). The Go program test/interop/sarama/main.go is built once, offline, in
// GOPATH mode against Debian's Go sources.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { type Broker, disposeAllBrokers, makeTempDir, repoRoot, startBroker } from '../helpers/broker.js';
import { CompressionTypes, createKafka, readAll, registerCompressionCodecs } from '../helpers/kafka.js';
import { ProgramMissingError, runProgram, runProgramOk } from '../helpers/process.js';

const testTimeoutMs = 40_000;
const buildTimeoutMs = 120_000;
const programTimeoutMs = 30_000;
const saramaSourceDir = '/usr/share/gocode/src/github.com/Shopify/sarama';
const defaultVersion = 'default';
const legacyVersion = '0.10.0.0';
const maxVersion = '2.2.0';
const groupVersion = '2.0.0';

// sarama writes lz4 (and kafkajs reads what it wrote); kafkajs ships only gzip.
registerCompressionCodecs();

/** Skips the file only when Go itself is missing; CI installs golang-go, so other gaps fail loudly. */
async function goMissingReason(): Promise<string | undefined> {
  try {
    const result = await runProgram('go', ['version'], { timeoutMs: 10_000 });
    return result.code === 0 ? undefined : `"go version" failed: ${result.stderr}`;
  } catch (err) {
    if (err instanceof ProgramMissingError) {
      return 'go is not installed (apt-get install golang-go golang-github-shopify-sarama-dev)';
    }
    throw err;
  }
}

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
    if (!existsSync(saramaSourceDir)) {
      throw new Error(`${saramaSourceDir} is missing (apt-get install golang-github-shopify-sarama-dev)`);
    }
    buildDir = await makeTempDir('sluice-sarama-');
    program = join(buildDir, 'sarama-interop');
    // GOPATH mode against Debian's sources: no module proxy, no network. A private GOCACHE keeps the build
    // from touching $HOME and is removed with the temp dir.
    await runProgramOk(
      'go',
      ['build', '-o', program, join(repoRoot, 'test', 'interop', 'sarama', 'main.go')],
      {
        timeoutMs: buildTimeoutMs,
        env: {
          GO111MODULE: 'off',
          GOPATH: '/usr/share/gocode',
          GOFLAGS: '',
          GOPROXY: 'off',
          GOCACHE: join(buildDir, 'gocache'),
        },
      },
    );
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
});
