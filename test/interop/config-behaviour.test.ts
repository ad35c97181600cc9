// Topic and broker configs behaving as Kafka users expect, through real clients: broker settings from a
// properties file, SLUICE_* variables and --set flags as DescribeConfigs shows them (kafkajs, confluent-kafka,
// kafka-python, with sources, flags and synonyms) and as topics inherit them; compression.type per topic and
// changed live (the stored codec of each batch, and every client reading back the same records); time
// retention by the batches' largest timestamps with the log start offset and consumers' resets; LogAppendTime,
// max.message.bytes and min.insync.replicas changed live; cleanup.policy=compact stored but inert. The
// stored batches are read from the broker's segment files. Complements kafkajs/python/platformatic-usage
// (config CRUD) and failure/clients-under-change (retention.bytes, retention.ms through kcat and kafkajs).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import type { Kafka, Admin as KafkajsAdmin } from 'kafkajs';
import kafkajs from 'kafkajs';
import { type Broker, disposeAllBrokers, makeTempDir, startBroker } from '../helpers/broker.js';
import { hasKafkaErrorType } from '../helpers/errors.js';
import { createKafka, registerCompressionCodecs } from '../helpers/kafka.js';
import { loadPlatformatic } from '../helpers/platformatic.js';
import { runProgram, runProgramOk } from '../helpers/process.js';
import { assertPythonModule, runPythonSteps } from '../helpers/python.js';
import { waitFor } from '../helpers/wait.js';

const { ConfigResourceTypes } = kafkajs;
const testTimeoutMs = 30_000;
// ConfigSource codes as the protocol carries them.
const DYNAMIC_TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;
// Record batch codec ids (attributes & 7).
const CODEC = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

const brokerProperties = `# Broker settings as a Kafka operator writes them
log.retention.check.interval.ms=200
compression.type = lz4
log.retention.minutes: 600
log.segment.bytes=2000000
`;

interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  codec: number;
  logAppendTime: boolean;
  maxTimestampMs: number;
}

describe('configs behave as Kafka users expect', { timeout: 150_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: KafkajsAdmin;
  let platformatic: PlatformaticAdmin;
  let platformaticModule: Awaited<ReturnType<typeof loadPlatformatic>>;

  before(async () => {
    await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
    await assertPythonModule('kafka', 'python3-kafka');
    registerCompressionCodecs();
    const configDir = await makeTempDir('sluice-config-');
    const configFile = join(configDir, 'broker.properties');
    await writeFile(configFile, brokerProperties);
    broker = await startBroker({
      args: [
        '--config',
        configFile,
        '--set',
        'num.partitions=2',
        '--set',
        'log.segment.delete.delay.ms=0',
        '--set',
        'group.initial.rebalance.delay.ms=0',
      ],
      // The environment outranks the file: log.segment.bytes is 3000000, not the file's 2000000.
      env: { SLUICE_LOG_SEGMENT_BYTES: '3000000', SLUICE_MESSAGE_MAX_BYTES: '2000000' },
    });
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
    platformaticModule = await loadPlatformatic();
    platformatic = new platformaticModule.Admin({
      clientId: 'cfgb-admin',
      bootstrapBrokers: [broker.bootstrap],
      retries: 2,
      retryDelay: 100,
    });
  });

  after(async () => {
    await admin?.disconnect();
    await platformatic?.close();
    await disposeAllBrokers();
  });

  /** Every batch stored for a partition of `topic`, from its segment files, in offset order. */
  function storedBatches(topic: string, partition = 0): StoredBatch[] {
    const dir = join(broker.dataDir, `${topic}-${partition}`);
    const batches: StoredBatch[] = [];
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.log'))
      .sort()) {
      const data = readFileSync(join(dir, name));
      for (let at = 0; at + 12 <= data.length; ) {
        const sizeBytes = 12 + data.readInt32BE(at + 8);
        const attributes = data.readUInt16BE(at + 21);
        const baseOffset = Number(data.readBigInt64BE(at));
        batches.push({
          baseOffset,
          lastOffset: baseOffset + data.readInt32BE(at + 23),
          codec: attributes & 7,
          logAppendTime: (attributes & 8) !== 0,
          maxTimestampMs: Number(data.readBigInt64BE(at + 35)),
        });
        at += sizeBytes;
      }
    }
    return batches;
  }

  function segmentBaseOffsets(topic: string): number[] {
    return readdirSync(join(broker.dataDir, `${topic}-0`))
      .filter((n) => n.endsWith('.log'))
      .map((n) => Number(n.slice(0, -4)))
      .sort((a, b) => a - b);
  }

  async function createTopic(topic: string, configs: Record<string, string>, numPartitions = 1) {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  }

  async function offsetsOf(topic: string): Promise<[string, string]> {
    const [p0] = await admin.fetchTopicOffsets(topic);
    return [p0?.low ?? '', p0?.high ?? ''];
  }

  const { SET, DELETE } = { SET: 0, DELETE: 1 };
  function alterIncrementally(topic: string, configs: { name: string; op: number; value?: string }[]) {
    return platformatic.incrementalAlterConfigs({
      resources: [
        {
          resourceType: platformaticModule.ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configs: configs.map((c) => ({
            name: c.name,
            configOperation: c.op,
            value: c.value ?? null,
          })) as never,
        },
      ],
    });
  }

  test('broker settings from --config FILE, SLUICE_* and --set: kafkajs, confluent-kafka and kafka-python describe them, and topics inherit them', {
    timeout: testTimeoutMs,
  }, async () => {
    const names = [
      'auto.create.topics.enable',
      'compression.type',
      'log.retention.check.interval.ms',
      'log.retention.minutes',
      'log.retention.ms',
      'log.segment.bytes',
      'message.max.bytes',
      'num.partitions',
    ];
    const described = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [{ type: ConfigResourceTypes.BROKER, name: '0', configNames: names }],
    });
    const [resource] = described.resources;
    assert.deepEqual([resource?.errorCode, resource?.resourceType, resource?.resourceName], [0, 4, '0']);
    assert.deepEqual(
      resource?.configEntries
        .map((e) => [
          e.configName,
          e.configValue,
          e.configSource,
          e.isDefault,
          e.readOnly,
          e.isSensitive,
          e.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]),
        ])
        .sort(),
      [
        [
          'auto.create.topics.enable',
          'true',
          DEFAULT_CONFIG,
          true,
          true,
          false,
          [['auto.create.topics.enable', 'true', DEFAULT_CONFIG]],
        ],
        [
          'compression.type',
          'lz4',
          STATIC_BROKER_CONFIG,
          false,
          true,
          false,
          [
            ['compression.type', 'lz4', STATIC_BROKER_CONFIG],
            ['compression.type', 'producer', DEFAULT_CONFIG],
          ],
        ],
        [
          'log.retention.check.interval.ms',
          '200',
          STATIC_BROKER_CONFIG,
          false,
          true,
          false,
          [
            ['log.retention.check.interval.ms', '200', STATIC_BROKER_CONFIG],
            ['log.retention.check.interval.ms', '300000', DEFAULT_CONFIG],
          ],
        ],
        [
          'log.retention.minutes',
          '600',
          STATIC_BROKER_CONFIG,
          false,
          true,
          false,
          [
            ['log.retention.minutes', '600', STATIC_BROKER_CONFIG],
            ['log.retention.minutes', null, DEFAULT_CONFIG],
          ],
        ],
        [
          'log.retention.ms',
          '36000000',
          STATIC_BROKER_CONFIG,
          false,
          true,
          false,
          [
            ['log.retention.minutes', '600', STATIC_BROKER_CONFIG],
            ['log.retention.ms', '604800000', DEFAULT_CONFIG],
          ],
        ],
        [
          'log.segment.bytes',
          '3000000',
          STATIC_BROKER_CONFIG,
          false,
          true,
          false,
          [
            ['log.segment.bytes', '3000000', STATIC_BROKER_CONFIG],
            ['log.segment.bytes', '1073741824', DEFAULT_CONFIG],
          ],
        ],
        [
          'message.max.bytes',
          '2000000',
          STATIC_BROKER_CONFIG,
          false,
          true,
          false,
          [
            ['message.max.bytes', '2000000', STATIC_BROKER_CONFIG],
            ['message.max.bytes', '1048588', DEFAULT_CONFIG],
          ],
        ],
        [
          'num.partitions',
          '2',
          STATIC_BROKER_CONFIG,
          false,
          true,
          false,
          [
            ['num.partitions', '2', STATIC_BROKER_CONFIG],
            ['num.partitions', '1', DEFAULT_CONFIG],
          ],
        ],
      ],
    );

    // The python clients: confluent-kafka (DescribeConfigs v1 through librdkafka) keys synonyms by name, so a
    // setting and its default of the same name show as one; kafka-python gives the raw entries.
    const steps = await runPythonSteps(
      `
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KpResource, ConfigResourceType
ck = AdminClient({'bootstrap.servers': bootstrap})
topic = prefix + '-inherit'
ck.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)
def ck_describe(resource, names):
    (f,) = ck.describe_configs([resource], request_timeout=10).values()
    e = f.result(10)
    return [[n, e[n].value, e[n].source, e[n].is_default, e[n].is_read_only,
             sorted([s.name, s.value, s.source] for s in e[n].synonyms.values())] for n in names]
out('ck-broker', value=ck_describe(ConfigResource('broker', '0'), ['log.segment.bytes', 'log.retention.hours']))
out('ck-topic', value=ck_describe(ConfigResource('topic', topic),
    ['cleanup.policy', 'compression.type', 'max.message.bytes', 'retention.ms', 'segment.bytes']))
kp = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
def kp_describe(kind, name, names):
    r = kp.describe_configs([KpResource(kind, name, configs={n: None for n in names})], include_synonyms=True)
    (error, _, _, _, entries), = r[0].resources
    return error, sorted(list(e) for e in entries)
out('kp-broker', value=kp_describe(ConfigResourceType.BROKER, '0', ['num.partitions']))
out('kp-topic', value=kp_describe(ConfigResourceType.TOPIC, topic, ['compression.type', 'retention.ms']))
kp.close()
`,
      { bootstrap: broker.bootstrap, prefix: 'cfgb', timeoutMs: 20_000 },
    );
    assert.deepEqual(steps, [
      {
        step: 'ck-broker',
        value: [
          [
            'log.segment.bytes',
            '3000000',
            STATIC_BROKER_CONFIG,
            false,
            true,
            [['log.segment.bytes', '1073741824', DEFAULT_CONFIG]],
          ],
          [
            'log.retention.hours',
            '168',
            DEFAULT_CONFIG,
            true,
            true,
            [['log.retention.hours', '168', DEFAULT_CONFIG]],
          ],
        ],
      },
      {
        step: 'ck-topic',
        value: [
          [
            'cleanup.policy',
            'delete',
            DEFAULT_CONFIG,
            true,
            false,
            [['log.cleanup.policy', 'delete', DEFAULT_CONFIG]],
          ],
          [
            'compression.type',
            'lz4',
            STATIC_BROKER_CONFIG,
            false,
            false,
            [['compression.type', 'producer', DEFAULT_CONFIG]],
          ],
          [
            'max.message.bytes',
            '2000000',
            STATIC_BROKER_CONFIG,
            false,
            false,
            [['message.max.bytes', '1048588', DEFAULT_CONFIG]],
          ],
          [
            'retention.ms',
            '36000000',
            STATIC_BROKER_CONFIG,
            false,
            false,
            [
              ['log.retention.minutes', '600', STATIC_BROKER_CONFIG],
              ['log.retention.ms', '604800000', DEFAULT_CONFIG],
            ],
          ],
          [
            'segment.bytes',
            '3000000',
            STATIC_BROKER_CONFIG,
            false,
            false,
            [['log.segment.bytes', '1073741824', DEFAULT_CONFIG]],
          ],
        ],
      },
      // kafka-python entries: [name, value, read_only, source, sensitive, synonyms].
      {
        step: 'kp-broker',
        value: [
          0,
          [
            [
              'num.partitions',
              '2',
              true,
              STATIC_BROKER_CONFIG,
              false,
              [
                ['num.partitions', '2', STATIC_BROKER_CONFIG],
                ['num.partitions', '1', DEFAULT_CONFIG],
              ],
            ],
          ],
        ],
      },
      {
        step: 'kp-topic',
        value: [
          0,
          [
            [
              'compression.type',
              'lz4',
              false,
              STATIC_BROKER_CONFIG,
              false,
              [
                ['compression.type', 'lz4', STATIC_BROKER_CONFIG],
                ['compression.type', 'producer', DEFAULT_CONFIG],
              ],
            ],
            [
              'retention.ms',
              '36000000',
              false,
              STATIC_BROKER_CONFIG,
              false,
              [
                ['log.retention.minutes', '600', STATIC_BROKER_CONFIG],
                ['log.retention.ms', '604800000', DEFAULT_CONFIG],
              ],
            ],
          ],
        ],
      },
    ]);

    // The settings act, not only show: message.max.bytes=2000000 (env) admits 1.5 MB; auto-created topics get
    // num.partitions=2 (flag); log.segment.bytes=3000000 (env, over the file) is the default segment.bytes.
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      const big = 'b'.repeat(1_500_000);
      const [sent] = await producer.send({
        topic: 'cfgb-auto',
        acks: -1,
        messages: [{ key: 'k', value: big }],
      });
      assert.equal(sent?.errorCode, 0);
      await assert.rejects(
        producer.send({
          topic: 'cfgb-auto',
          acks: -1,
          messages: [{ key: 'k', value: 'c'.repeat(2_100_000) }],
        }),
        hasKafkaErrorType('MESSAGE_TOO_LARGE'),
      );
    } finally {
      await producer.disconnect();
    }
    const metadata = await admin.fetchTopicMetadata({ topics: ['cfgb-auto'] });
    assert.deepEqual(metadata.topics[0]?.partitions.map((p) => p.partitionId).sort(), [0, 1]);
    // The lz4 broker default recompressed the uncompressed kafkajs batch.
    const partitionWithRecord = (await admin.fetchTopicOffsets('cfgb-auto')).find((p) => p.high === '1');
    const stored = storedBatches('cfgb-auto', partitionWithRecord?.partition ?? -1);
    assert.deepEqual(
      stored.map((b) => [b.baseOffset, b.lastOffset, b.codec]),
      [[0, 0, CODEC.lz4]],
    );
  });
  test('compression.type per topic: batches are stored with the topic’s codec and kcat, kafkajs, confluent-kafka and kafka-python read back the same records', {
    timeout: testTimeoutMs,
  }, async () => {
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd', 'uncompressed', 'producer'] as const;
    const topics = [...codecs.map((c) => `cfgc-${c}`), 'cfgc-inherit'];
    for (const codec of codecs) await createTopic(`cfgc-${codec}`, { 'compression.type': codec });
    await createTopic('cfgc-inherit', {});
    // Recent: with the broker's retention.ms (7 days) checked every 200 ms, older records would be deleted,
    // the active segment with them, as Kafka does.
    const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    // One snappy batch of five records per topic from librdkafka, then every client reads every topic. (No
    // null header values: confluent-kafka 1.7 under-counts references to None when it returns one, and
    // Python aborts at exit; client-edges.test.ts covers null headers.)
    const steps = await runPythonSteps(
      `
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaConsumer, TopicPartition as KpPartition
topics = sys.argv[3].split(',')
base = int(sys.argv[4])
p = Producer({'bootstrap.servers': bootstrap, 'compression.type': 'snappy', 'linger.ms': 100, 'acks': 'all'})
for t in topics:
    for i in range(5):
        p.produce(t, key=None if i == 1 else b'k%d' % i, value=None if i == 2 else (b'v%d-' % i) * 20,
                  headers=[('h', b'x%d' % i), ('e', b'')], timestamp=base + i * 1000)
if p.flush(10): sys.exit('flush failed')
def text(b): return None if b is None else b.decode()
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': prefix + '-ck', 'enable.auto.commit': False})
c.assign([TopicPartition(t, 0, 0) for t in topics])
got = []
deadline = time.time() + 10
while len(got) < 5 * len(topics) and time.time() < deadline:
    m = c.poll(0.2)
    if m is None: continue
    if m.error(): sys.exit('consumer error: %s' % m.error())
    got.append([m.topic(), m.offset(), text(m.key()), text(m.value()),
                [[k, text(v)] for k, v in (m.headers() or [])], list(m.timestamp())])
c.close()
out('confluent', value=sorted(got))
kc = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10000)
# Debian's kafka-python has gzip only (no python3-snappy, -lz4 or -zstandard): it reads the topics whose
# stored batches it can decode.
gzip_or_plain = [t for t in topics if t.endswith('-gzip') or t.endswith('-uncompressed')]
kc.assign([KpPartition(t, 0) for t in gzip_or_plain])
kc.seek_to_beginning()
got = []
for m in kc:
    got.append([m.topic, m.offset, text(m.key), text(m.value), [[k, text(v)] for k, v in m.headers],
                [m.timestamp_type, m.timestamp]])
    if len(got) == 5 * len(gzip_or_plain): break
kc.close()
out('kafka-python', value=sorted(got))
`,
      {
        bootstrap: broker.bootstrap,
        prefix: 'cfgc',
        extraArgs: [topics.join(','), String(base)],
        timeoutMs: 30_000,
      },
    );
    const expected = (topic: string, timestampType: number) =>
      Array.from({ length: 5 }, (_, i) => [
        topic,
        i,
        i === 1 ? null : `k${i}`,
        i === 2 ? null : `v${i}-`.repeat(20),
        [
          ['h', `x${i}`],
          ['e', ''],
        ],
        [timestampType, base + i * 1000],
      ]);
    // confluent-kafka: timestamp type 1 = CreateTime; kafka-python: 0 = CreateTime.
    assert.deepEqual(steps, [
      { step: 'confluent', value: topics.sort().flatMap((t) => expected(t, 1)) },
      { step: 'kafka-python', value: ['cfgc-gzip', 'cfgc-uncompressed'].flatMap((t) => expected(t, 0)) },
    ]);

    // librdkafka may split a topic's five records into several batches (it learns new topics' partitions
    // one by one); every stored batch carries the topic's codec and together they hold offsets 0 to 4.
    const storedCodecs = Object.fromEntries(
      topics.map((t) => {
        const batches = storedBatches(t);
        const contiguous = batches.every(
          (b, i) => b.baseOffset === (i === 0 ? 0 : batches[i - 1]!.lastOffset + 1),
        );
        return [t, [contiguous, batches.at(-1)?.lastOffset, [...new Set(batches.map((b) => b.codec))]]];
      }),
    );
    assert.deepEqual(storedCodecs, {
      'cfgc-gzip': [true, 4, [CODEC.gzip]],
      'cfgc-inherit': [true, 4, [CODEC.lz4]],
      'cfgc-lz4': [true, 4, [CODEC.lz4]],
      'cfgc-producer': [true, 4, [CODEC.snappy]],
      'cfgc-snappy': [true, 4, [CODEC.snappy]],
      'cfgc-uncompressed': [true, 4, [CODEC.none]],
      'cfgc-zstd': [true, 4, [CODEC.zstd]],
    });

    for (const topic of topics) {
      const { stdout } = await runProgramOk(
        'kcat',
        ['-b', broker.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-J', '-q'],
        { timeoutMs: 15_000 },
      );
      const read = stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .map((m) => [m.topic, m.offset, m.key, m.payload, m.headers, [m.tstype, m.ts]]);
      assert.deepEqual(
        read,
        expected(topic, 0).map(([t, offset, key, value, headers]) => [
          t,
          offset,
          key,
          value,
          (headers as string[][]).flat(),
          ['create', base + (offset as number) * 1000],
        ]),
        `kcat -J ${topic}`,
      );
    }

    const consumer = kafka.consumer({ groupId: 'cfgc-kafkajs', maxWaitTimeInMs: 100 });
    await consumer.connect();
    const seen: unknown[] = [];
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, message }) => {
          seen.push([
            topic,
            Number(message.offset),
            message.key?.toString() ?? null,
            message.value?.toString() ?? null,
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? null]),
            [0, Number(message.timestamp)],
          ]);
        },
      });
      await waitFor(
        () => seen.length >= 5 * topics.length,
        15_000,
        () => `kafkajs read ${seen.length}`,
      );
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(
      (seen as [string, number][]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1])),
      topics.sort().flatMap((t) => expected(t, 0)),
    );
  });
  test('compression.type changed live with IncrementalAlterConfigs affects later appends only; deleting the override brings back the broker’s lz4', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cfgl';
    await createTopic(topic, { 'compression.type': 'zstd' });
    const describeCompression = async () => {
      const [described] = await platformatic.describeConfigs({
        resources: [
          {
            resourceType: platformaticModule.ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configurationKeys: ['compression.type'],
          },
        ],
      });
      return described?.configs.map((c) => [c.value, c.configSource]);
    };
    const producer = kafka.producer();
    await producer.connect();
    const send = (values: string[]) =>
      producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: value, value })) });
    try {
      assert.deepEqual(await describeCompression(), [['zstd', DYNAMIC_TOPIC_CONFIG]]);
      await send(['z1', 'z2']);
      await alterIncrementally(topic, [{ name: 'compression.type', op: SET, value: 'gzip' }]);
      assert.deepEqual(await describeCompression(), [['gzip', DYNAMIC_TOPIC_CONFIG]]);
      await send(['g3']);
      await alterIncrementally(topic, [{ name: 'compression.type', op: DELETE }]);
      assert.deepEqual(await describeCompression(), [['lz4', STATIC_BROKER_CONFIG]]);
      await send(['l4']);
    } finally {
      await producer.disconnect();
    }
    assert.deepEqual(
      storedBatches(topic).map((b) => [b.baseOffset, b.lastOffset, b.codec]),
      [
        [0, 1, CODEC.zstd],
        [2, 2, CODEC.gzip],
        [3, 3, CODEC.lz4],
      ],
    );
    const { stdout } = await runProgramOk(
      'kcat',
      ['-b', broker.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%o %k=%s\n'],
      { timeoutMs: 15_000 },
    );
    assert.equal(stdout, '0 z1=z1\n1 z2=z2\n2 g3=g3\n3 l4=l4\n');
  });

  test('time retention goes by each segment’s largest timestamp: old CreateTime segments go once retention.ms is lowered live, the log start moves, consumers reset', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cfgr';
    // 300-byte records one per batch (~370 bytes): two batches per 1000-byte segment, uncompressed so that
    // the sizes do not depend on the broker's lz4.
    const produced = await runPythonSteps(
      `
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({'bootstrap.servers': bootstrap})
admin.create_topics([NewTopic(prefix, 1, 1, config={'segment.bytes': '1000', 'compression.type': 'uncompressed'})])[prefix].result(10)
now = int(time.time() * 1000)
old = now - 2 * 3600 * 1000
p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 0, 'acks': 'all'})
for i in range(12):
    p.produce(prefix, value=(b'%02d' % i) * 150, timestamp=now if i in (5, 8, 9, 10, 11) else old + i)
    if p.flush(10): sys.exit('flush failed')
out('produced', count=12)
`,
      { bootstrap: broker.bootstrap, prefix: topic, timeoutMs: 20_000 },
    );
    assert.deepEqual(produced, [{ step: 'produced', count: 12 }]);
    // Segments [0,1] [2,3] old; [4,5] holds one new record; [6,7] old again; [8..11] new.
    assert.deepEqual(segmentBaseOffsets(topic), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(await offsetsOf(topic), ['0', '12']);

    const steps = await runPythonSteps(
      `
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource
admin = AdminClient({'bootstrap.servers': bootstrap})
# AlterConfigs replaces the overrides, so the others are given again.
(f,) = admin.alter_configs([ConfigResource('topic', prefix, set_config={
    'segment.bytes': '1000', 'compression.type': 'uncompressed', 'retention.ms': '3600000'})], request_timeout=10).values()
f.result(10)
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': prefix + '-watch'})
tp = TopicPartition(prefix, 0)
deadline = time.time() + 10
while c.get_watermark_offsets(tp, timeout=10)[0] == 0 and time.time() < deadline:
    time.sleep(0.05)
out('watermarks', value=list(c.get_watermark_offsets(tp, timeout=10)))
time.sleep(0.6)  # three more retention passes: nothing newer goes
out('watermarks-later', value=list(c.get_watermark_offsets(tp, timeout=10)))
c.close()
def read_from_zero(reset):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': prefix + '-' + reset, 'auto.offset.reset': reset,
                  'enable.auto.commit': False})
    c.assign([TopicPartition(prefix, 0, 0)])
    got, error = [], None
    deadline = time.time() + 10
    while len(got) < 8 and error is None and time.time() < deadline:
        m = c.poll(0.1)
        if m is None: continue
        if m.error(): error = m.error().name()
        else: got.append([m.offset(), m.value()[:2].decode(), m.timestamp()[0]])
    c.close()
    return got, error
out('earliest', value=read_from_zero('earliest'))
out('error', value=read_from_zero('error'))
`,
      { bootstrap: broker.bootstrap, prefix: topic, timeoutMs: 30_000 },
    );
    assert.deepEqual(steps, [
      { step: 'watermarks', value: [4, 12] },
      { step: 'watermarks-later', value: [4, 12] },
      {
        step: 'earliest',
        value: [[4, 5, 6, 7, 8, 9, 10, 11].map((o) => [o, String(o).padStart(2, '0'), 1]), null],
      },
      // auto.offset.reset=error: librdkafka hands the application the out-of-range condition.
      { step: 'error', value: [[], '_AUTO_OFFSET_RESET'] },
    ]);
    // Kafka deletes a prefix of segments: [6,7] is old but stays behind [4,5].
    assert.deepEqual(segmentBaseOffsets(topic), [4, 6, 8, 10]);
    assert.deepEqual(await offsetsOf(topic), ['4', '12']);
    const earliest = await runProgramOk('kcat', ['-b', broker.bootstrap, '-Q', '-t', `${topic}:0:-2`], {
      timeoutMs: 15_000,
    });
    assert.equal(earliest.stdout.trim(), `${topic} [0] offset 4`);
  });

  test('retention.ms lowered on a topic whose records are all older: the active segment goes too and the log is emptied, as in Kafka', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cfgp';
    await createTopic(topic, { 'compression.type': 'uncompressed' });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const old = String(Date.now() - 2 * 3600_000);
      await producer.send({
        topic,
        acks: -1,
        messages: ['a', 'b', 'c'].map((value) => ({ value, timestamp: old })),
      });
      // The common way to purge a topic: lower retention.ms, wait, restore it.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: [
              { name: 'compression.type', value: 'uncompressed' },
              { name: 'retention.ms', value: '3600000' },
            ],
          },
        ],
      });
      await waitFor(
        async () => (await offsetsOf(topic))[0] === '3',
        3_000,
        async () => `offsets ${await offsetsOf(topic)}`,
      );
      assert.deepEqual(await offsetsOf(topic), ['3', '3']);
      const [sent] = await producer.send({ topic, acks: -1, messages: [{ value: 'd' }] });
      assert.equal(sent?.baseOffset, '3');
    } finally {
      await producer.disconnect();
    }
  });

  test('message.timestamp.type=LogAppendTime set live and removed: each batch keeps the type it was appended with', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cfgt';
    // Uncompressed so that kafka-python (gzip only) can read it under the broker's lz4 default.
    await createTopic(topic, { 'compression.type': 'uncompressed' });
    const producer = kafka.producer();
    await producer.connect();
    // Recent, or the broker's 7-day retention (checked every 200 ms) would delete it, active segment and all.
    const createTime = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const send = async (value: string) => {
      const [sent] = await producer.send({
        topic,
        acks: -1,
        messages: [{ value, timestamp: String(createTime) }],
      });
      return sent?.logAppendTime;
    };
    let appendTime: number;
    try {
      assert.equal(await send('create-1'), '-1');
      await alterIncrementally(topic, [{ name: 'message.timestamp.type', op: SET, value: 'LogAppendTime' }]);
      const beforeMs = Date.now();
      appendTime = Number(await send('append'));
      assert.ok(beforeMs <= appendTime && appendTime <= Date.now(), `append time ${appendTime}`);
      await alterIncrementally(topic, [{ name: 'message.timestamp.type', op: DELETE }]);
      assert.equal(await send('create-2'), '-1');
    } finally {
      await producer.disconnect();
    }
    assert.deepEqual(
      storedBatches(topic).map((b) => [b.baseOffset, b.logAppendTime, b.maxTimestampMs]),
      [
        [0, false, createTime],
        [1, true, appendTime],
        [2, false, createTime],
      ],
    );
    const { stdout } = await runProgramOk(
      'kcat',
      ['-b', broker.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-J'],
      { timeoutMs: 15_000 },
    );
    assert.deepEqual(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .map((m) => [m.offset, m.payload, m.tstype, m.ts]),
      [
        [0, 'create-1', 'create', createTime],
        [1, 'append', 'logappend', appendTime],
        [2, 'create-2', 'create', createTime],
      ],
    );
    const steps = await runPythonSteps(
      `
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10000)
c.assign([TopicPartition(prefix, 0)])
c.seek_to_beginning()
got = []
for m in c:
    got.append([m.offset, m.value.decode(), m.timestamp_type, m.timestamp])
    if len(got) == 3: break
out('kafka-python', value=got)
`,
      { bootstrap: broker.bootstrap, prefix: topic, timeoutMs: 20_000 },
    );
    assert.deepEqual(steps, [
      {
        step: 'kafka-python',
        value: [
          [0, 'create-1', 0, createTime],
          [1, 'append', 1, appendTime],
          [2, 'create-2', 0, createTime],
        ],
      },
    ]);
  });

  test('max.message.bytes raised and lowered live with AlterConfigs: confluent-kafka gets MSG_SIZE_TOO_LARGE exactly above the current limit; stored records stay readable', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runPythonSteps(
      `
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
admin = AdminClient({'bootstrap.servers': bootstrap})
admin.create_topics([NewTopic(prefix, 1, 1, config={'max.message.bytes': '2000'})])[prefix].result(10)
def alter(limit):
    (f,) = admin.alter_configs([ConfigResource('topic', prefix, set_config={'max.message.bytes': limit})], request_timeout=10).values()
    f.result(10)
    (f,) = admin.describe_configs([ConfigResource('topic', prefix)], request_timeout=10).values()
    e = f.result(10)['max.message.bytes']
    return [e.value, e.source]
p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 0, 'compression.type': 'none', 'message.send.max.retries': 0})
def produce(size):
    result = []
    def report(err, msg): result.append(err.name() if err else msg.offset())
    p.produce(prefix, value=b'm' * size, on_delivery=report)
    p.flush(10)
    return result
out('at-2000', value=produce(3000))
out('raised', value=alter('5000'))
out('at-5000', value=produce(3000))
out('lowered', value=alter('1000'))
out('at-1000', value=[produce(1500), produce(500)])
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': prefix, 'enable.auto.commit': False})
c.assign([TopicPartition(prefix, 0, 0)])
got = []
deadline = time.time() + 10
while len(got) < 2 and time.time() < deadline:
    m = c.poll(0.1)
    if m is None: continue
    if m.error(): sys.exit('consumer error: %s' % m.error())
    got.append([m.offset(), len(m.value())])
c.close()
out('read', value=got)
`,
      { bootstrap: broker.bootstrap, prefix: 'cfgm', timeoutMs: 30_000 },
    );
    assert.deepEqual(steps, [
      { step: 'at-2000', value: ['MSG_SIZE_TOO_LARGE'] },
      { step: 'raised', value: ['5000', DYNAMIC_TOPIC_CONFIG] },
      { step: 'at-5000', value: [0] },
      { step: 'lowered', value: ['1000', DYNAMIC_TOPIC_CONFIG] },
      { step: 'at-1000', value: [['MSG_SIZE_TOO_LARGE'], [1]] },
      {
        step: 'read',
        value: [
          [0, 3000],
          [1, 500],
        ],
      },
    ]);
  });

  test('min.insync.replicas changed live: acks=all from kcat fails with NOT_ENOUGH_REPLICAS only while it is 2; acks=1 always writes', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cfgi';
    await createTopic(topic, { 'min.insync.replicas': '1' });
    const kcatProduce = (acks: string, value: string) =>
      runProgramOk(
        'kcat',
        ['-b', broker.bootstrap, '-P', '-t', topic, '-X', `acks=${acks}`, '-X', 'message.send.max.retries=0'],
        { input: `${value}\n`, timeoutMs: 15_000 },
      ).then(
        () => 'ok',
        (err: Error) => /Delivery failed for message: (.*)/.exec(err.message)?.[1] ?? err.message,
      );
    const setMinIsr = (configEntries: { name: string; value: string }[]) =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries }],
      });
    const describeMinIsr = async () => {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
      });
      return described.resources[0]?.configEntries.map((e) => [e.configValue, e.configSource]);
    };
    assert.equal(await kcatProduce('all', 'a1'), 'ok');
    await setMinIsr([{ name: 'min.insync.replicas', value: '2' }]);
    assert.deepEqual(await describeMinIsr(), [['2', DYNAMIC_TOPIC_CONFIG]]);
    assert.equal(await kcatProduce('all', 'a2'), 'Broker: Not enough in-sync replicas');
    assert.equal(await kcatProduce('1', 'b3'), 'ok');
    // AlterConfigs with no entries removes every override: the broker default (1) is back.
    await setMinIsr([]);
    assert.deepEqual(await describeMinIsr(), [['1', DEFAULT_CONFIG]]);
    assert.equal(await kcatProduce('all', 'a4'), 'ok');
    const { stdout } = await runProgramOk(
      'kcat',
      ['-b', broker.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%o %s\n'],
      { timeoutMs: 15_000 },
    );
    assert.equal(stdout, '0 a1\n1 b3\n2 a4\n');
  });

  test('cleanup.policy=compact is accepted and described, refuses records without a key, and is otherwise inert: every record, duplicates and tombstones included, stays readable and retention deletes nothing until delete is added', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cfgk';
    const created = await runPythonSteps(
      `
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
r = admin.create_topics([NewTopic(prefix, 1, 1, topic_configs={'cleanup.policy': 'compact', 'segment.bytes': '1000',
                                                               'compression.type': 'uncompressed', 'retention.ms': '3600000'})])
out('create', errors=[[t, e] for t, e, *_ in r.topic_errors])
admin.close()
`,
      { bootstrap: broker.bootstrap, prefix: topic, timeoutMs: 20_000 },
    );
    assert.deepEqual(created, [{ step: 'create', errors: [[topic, 0]] }]);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
    });
    assert.deepEqual(
      described.resources[0]?.configEntries.map((e) => [e.configName, e.configValue, e.configSource]),
      [['cleanup.policy', 'compact', DYNAMIC_TOPIC_CONFIG]],
    );
    // ~370-byte batches (the tombstone is smaller) in 1000-byte segments: [0,1] [2,3,4] [5,6] [7]. The first
    // six records are two hours old, the last two new.
    const old = String(Date.now() - 2 * 3600_000);
    const records: [string, string | null][] = [
      ['a', 'a1'],
      ['b', 'b1'],
      ['a', 'a2'],
      ['b', null],
      ['a', 'a3'],
      ['c', 'c1'],
      ['a', 'a4'],
      ['c', 'c2'],
    ];
    const producer = kafka.producer();
    await producer.connect();
    try {
      // As in Kafka: compaction keeps the last record per key, so a keyless record is INVALID_RECORD, for a
      // compressed batch too, and nothing of its batch is appended.
      for (const compression of [kafkajs.CompressionTypes.None, kafkajs.CompressionTypes.GZIP]) {
        await assert.rejects(
          producer.send({
            topic,
            acks: -1,
            compression,
            messages: [{ key: 'k', value: 'keyed' }, { value: 'no key' }],
          }),
          hasKafkaErrorType('INVALID_RECORD'),
        );
      }
      const kcat = await runProgram('kcat', ['-b', broker.bootstrap, '-P', '-t', topic], {
        timeoutMs: 15_000,
        input: 'no key\n',
      });
      assert.deepEqual(
        [kcat.code, kcat.stderr.trim()],
        [1, '% Delivery failed for message: Broker: Broker failed to validate record'],
      );
      assert.deepEqual(await offsetsOf(topic), ['0', '0']);
      for (const [i, [key, value]] of records.entries()) {
        await producer.send({
          topic,
          acks: -1,
          messages: [
            {
              key,
              value: value === null ? null : value.padEnd(300, '.'),
              ...(i < 6 ? { timestamp: old } : {}),
            },
          ],
        });
      }
    } finally {
      await producer.disconnect();
    }
    assert.deepEqual(segmentBaseOffsets(topic), [0, 2, 5, 7]);
    // Six retention passes: compact alone deletes nothing.
    await sleep(1_200);
    assert.deepEqual(segmentBaseOffsets(topic), [0, 2, 5, 7]);
    assert.deepEqual(await offsetsOf(topic), ['0', '8']);
    const readAllKeys = async () => {
      const { stdout } = await runProgramOk(
        'kcat',
        ['-b', broker.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-Z', '-f', '%o %k %s\n'],
        { timeoutMs: 15_000 },
      );
      return stdout.split('\n').filter(Boolean);
    };
    const lines = records.map(
      ([key, value], i) => `${i} ${key} ${value === null ? 'NULL' : value.padEnd(300, '.')}`,
    );
    assert.deepEqual(await readAllKeys(), lines);

    // With delete added, the two old segments go; [5,6] stays for its new record.
    await alterIncrementally(topic, [{ name: 'cleanup.policy', op: SET, value: 'compact,delete' }]);
    await waitFor(
      async () => (await offsetsOf(topic))[0] === '5',
      10_000,
      async () => `offsets ${await offsetsOf(topic)}`,
    );
    assert.deepEqual(segmentBaseOffsets(topic), [5, 7]);
    assert.deepEqual(await readAllKeys(), lines.slice(5));
  });
});
