// @platformatic/kafka 2.12.1 used the way its users use it, against a real Sluice process. The client always
// speaks the broker's highest version of every API (CreateTopics 7, DescribeConfigs 4, ListOffsets 9, Fetch 17
// by topic id, JoinGroup 9, OffsetCommit 9...), so this covers our flexible versions through a second
// implementation: admin topics, partitions, configs, groups, group offsets and records; producer keys,
// headers, timestamps, partitioners (against kafkajs), acks, size limits, auto-creation and the refused
// idempotent producer; consumer start modes, manual and automatic commits, resuming in a group, rebalances
// with another platformatic or a kafkajs member, a member expired after SIGKILL, several topics in one stream,
// manual offsets with out-of-range recovery, static membership and leaving cleanly. Complements
// platformatic.test.ts (codecs round trip); every assertion is exact.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  Admin as AdminClient,
  Consumer as ConsumerClient,
  ConsumerOptions,
  Message,
  MessagesStream,
  Producer as ProducerClient,
  ProducerOptions,
} from '@platformatic/kafka';
import type { Consumer as KafkajsConsumer, PartitionAssigner } from 'kafkajs';
import kafkajs from 'kafkajs';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { loadPlatformatic } from '../helpers/platformatic.js';
import { killLinePrograms, spawnLines } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

const {
  Admin,
  ConfigResourceTypes,
  ConfigSources,
  Consumer,
  IncrementalAlterConfigOperationTypes,
  ListOffsetTimestamps,
  Producer,
  compatibilityPartitioner,
  murmur2,
  stringDeserializers,
  stringSerializers,
} = await loadPlatformatic();

const { PartitionAssigners, Partitioners } = kafkajs;

const testTimeoutMs = 25_000;
const brokerArgs = [
  '--set',
  'group.initial.rebalance.delay.ms=0',
  '--set',
  'group.min.session.timeout.ms=1000',
];
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type StringMessage = Message<string, string, string, string>;
type StringStream = MessagesStream<string, string, string, string>;
type StringConsumer = ConsumerClient<string, string, string, string>;
type StringProducer = ProducerClient<string, string, string, string>;

/** Group settings that keep joins and rebalances short. */
const fastGroup = {
  maxWaitTime: 100,
  sessionTimeout: 6_000,
  rebalanceTimeout: 6_000,
  heartbeatInterval: 300,
} as const;

interface KafkaErrorSummary {
  /** Kafka's error name, e.g. TOPIC_ALREADY_EXISTS. */
  id: string;
  serverMessage: string | null;
}

/** The Kafka protocol errors platformatic found in a response, looking through its wrapping errors. */
function kafkaErrors(error: unknown, depth = 0): KafkaErrorSummary[] {
  if (error === null || typeof error !== 'object' || depth > 8) return [];
  const e = error as { apiId?: unknown; serverErrorMessage?: unknown; errors?: unknown; cause?: unknown };
  const found: KafkaErrorSummary[] =
    typeof e.apiId === 'string'
      ? [
          {
            id: e.apiId,
            serverMessage: typeof e.serverErrorMessage === 'string' ? e.serverErrorMessage : null,
          },
        ]
      : [];
  if (Array.isArray(e.errors)) for (const inner of e.errors) found.push(...kafkaErrors(inner, depth + 1));
  found.push(...kafkaErrors(e.cause, depth + 1));
  return found;
}

/**
 * Asserts that the operation fails with Kafka errors of this one name only (and message, if given). The name may
 * repeat: platformatic retries retriable errors such as UNKNOWN_TOPIC_OR_PARTITION and reports every attempt.
 */
async function rejectsWithKafkaError(
  operation: Promise<unknown>,
  id: string,
  serverMessage?: RegExp,
): Promise<void> {
  await assert.rejects(operation, (error: unknown) => {
    const found = kafkaErrors(error);
    assert.deepEqual(
      [...new Set(found.map((e) => e.id))],
      [id],
      `Kafka errors in ${error instanceof Error ? error.message : String(error)}`,
    );
    if (serverMessage) assert.match(found[0]?.serverMessage ?? '', serverMessage);
    return true;
  });
}

/** Gathers a stream's messages; `done` resolves once `count` arrived (more may follow until it is closed). */
function collect(
  stream: StringStream,
  count: number,
  label: string,
  timeoutMs = 10_000,
): { received: StringMessage[]; done: Promise<void> } {
  const received: StringMessage[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label}: got ${received.length} of ${count} messages in ${timeoutMs} ms`)),
      timeoutMs,
    ).unref();
    stream.on('data', (message) => {
      received.push(message);
      if (received.length === count) {
        clearTimeout(timer);
        resolve();
      }
    });
    stream.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  // A test that fails before awaiting `done` must not leave an unhandled rejection behind.
  done.catch(() => undefined);
  return { received, done };
}

/** partition:offset:key:value, the compact form the assertions compare. */
const describeMessage = (m: StringMessage) => `${m.partition}:${m.offset}:${m.key ?? '-'}:${m.value ?? '-'}`;

/**
 * The distinct messages, sorted. platformatic 2.12 can hand over a record twice across a rebalance: a Fetch
 * sent under the old assignment answers after the rejoin, and the next Fetch starts again from the committed
 * offset. That is the client's at-least-once delivery (the broker answered each Fetch correctly), so group
 * tests compare what arrived, not how often.
 */
const distinct = (messages: StringMessage[]) => [...new Set(messages.map(describeMessage))].sort();

const byPartitionThenOffset = (a: StringMessage, b: StringMessage) =>
  a.partition - b.partition || Number(a.offset - b.offset);

describe('@platformatic/kafka in everyday use', () => {
  let broker: Broker;
  let bootstrapBrokers: string[];
  let admin: AdminClient;
  let producer: StringProducer;
  const openClients = new Set<{ close(force?: boolean): Promise<void> }>();

  function newConsumer(
    groupId: string,
    options: Partial<ConsumerOptions<string, string, string, string>> = {},
  ): StringConsumer {
    const consumer = new Consumer({
      clientId: 'plu-consumer',
      bootstrapBrokers,
      groupId,
      deserializers: stringDeserializers,
      ...fastGroup,
      ...options,
    } as ConsumerOptions<string, string, string, string>);
    openClients.add(consumer);
    return consumer;
  }

  function newProducer(
    options: Partial<ProducerOptions<string, string, string, string>> = {},
  ): StringProducer {
    const created = new Producer({
      clientId: 'plu-producer',
      bootstrapBrokers,
      serializers: stringSerializers,
      ...options,
    }) as StringProducer;
    openClients.add(created);
    return created;
  }

  async function closeClient(client: { close(force?: boolean): Promise<void> }): Promise<void> {
    await client.close();
    openClients.delete(client);
  }

  async function createTopic(topic: string, partitions: number): Promise<void> {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  }

  /** The log end offset of every partition, in partition order. */
  async function logEndOffsets(topic: string, partitions: number): Promise<bigint[]> {
    const [listed] = await admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: partitions }, (_, p) => ({
            partitionIndex: p,
            timestamp: ListOffsetTimestamps.LATEST,
          })),
        },
      ],
    });
    return (listed?.partitions ?? [])
      .sort((a, b) => a.partitionIndex - b.partitionIndex)
      .map((p) => p.offset);
  }

  /** The group's committed offsets as partition -> offset, for one topic. */
  async function committedOffsets(groupId: string, topic: string): Promise<Record<number, bigint>> {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const result: Record<number, bigint> = {};
    for (const t of group?.topics ?? []) {
      if (t.name !== topic) continue;
      for (const p of t.partitions) result[p.partitionIndex] = p.committedOffset;
    }
    return result;
  }

  before(async () => {
    broker = await startBroker({ args: brokerArgs });
    bootstrapBrokers = [broker.bootstrap];
    // A couple of quick retries: the first group request can meet COORDINATOR_LOAD_IN_PROGRESS.
    admin = new Admin({ clientId: 'plu-admin', bootstrapBrokers, retries: 2, retryDelay: 100 });
    producer = newProducer();
  });

  after(async () => {
    killLinePrograms();
    for (const client of openClients) await client.close(true).catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await disposeAllBrokers();
  });

  describe('admin', () => {
    test('createTopics with configs answers the topic as created; metadata, listTopics and describeConfigs agree', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-admin-configs';
      const created = await admin.createTopics({
        topics: [topic],
        partitions: 3,
        replicas: 1,
        configs: [
          { name: 'retention.ms', value: '3600000' },
          { name: 'max.message.bytes', value: '2000' },
          { name: 'cleanup.policy', value: 'compact' },
        ],
      });
      assert.equal(created.length, 1);
      const [answer] = created;
      assert.ok(answer);
      assert.match(answer.id, uuidPattern);
      assert.deepEqual(
        { name: answer.name, partitions: answer.partitions, replicas: answer.replicas },
        { name: topic, partitions: 3, replicas: 1 },
      );
      assert.deepEqual(
        {
          'retention.ms': answer.configuration['retention.ms'],
          'max.message.bytes': answer.configuration['max.message.bytes'],
          'cleanup.policy': answer.configuration['cleanup.policy'],
          'segment.ms': answer.configuration['segment.ms'],
        },
        {
          'retention.ms': '3600000',
          'max.message.bytes': '2000',
          'cleanup.policy': 'compact',
          'segment.ms': '604800000',
        },
      );

      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      assert.deepEqual([...metadata.brokers], [[0, { host: '127.0.0.1', port: broker.port, rack: null }]]);
      const described = metadata.topics.get(topic);
      assert.equal(described?.id, answer.id, 'Metadata 12 gives the topic id CreateTopics answered');
      assert.equal(described?.partitionsCount, 3);
      assert.deepEqual(
        described?.partitions,
        Array.from({ length: 3 }, () => ({
          leader: 0,
          leaderEpoch: 0,
          replicas: [0],
          isr: [0],
          offlineReplicas: [],
        })),
      );
      assert.ok((await admin.listTopics()).includes(topic));

      const [configs] = await admin.describeConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configurationKeys: ['cleanup.policy', 'max.message.bytes', 'retention.ms', 'segment.ms'],
          },
        ],
      });
      assert.deepEqual(
        configs?.configs.map((c) => [c.name, c.value, c.configSource, c.readOnly, c.isSensitive]),
        [
          ['cleanup.policy', 'compact', ConfigSources.DYNAMIC_TOPIC_CONFIG, false, false],
          ['max.message.bytes', '2000', ConfigSources.DYNAMIC_TOPIC_CONFIG, false, false],
          ['retention.ms', '3600000', ConfigSources.DYNAMIC_TOPIC_CONFIG, false, false],
          ['segment.ms', '604800000', ConfigSources.DEFAULT_CONFIG, false, false],
        ],
      );
    });

    test('createTopics with partitions and replicas -1 takes the broker defaults (num.partitions=1)', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-admin-defaults';
      const [answer] = await admin.createTopics({ topics: [topic], partitions: -1, replicas: -1 });
      assert.deepEqual([answer?.name, answer?.partitions, answer?.replicas], [topic, 1, 1]);
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      assert.equal(metadata.topics.get(topic)?.partitionsCount, 1);
    });

    test('createTopics refuses an existing topic, a bad partition count, unknown or invalid configs and too many replicas', {
      timeout: testTimeoutMs,
    }, async () => {
      await createTopic('plu-admin-exists', 1);
      await rejectsWithKafkaError(
        admin.createTopics({ topics: ['plu-admin-exists'], partitions: 1, replicas: 1 }),
        'TOPIC_ALREADY_EXISTS',
        /plu-admin-exists/,
      );
      await rejectsWithKafkaError(
        admin.createTopics({ topics: ['plu-admin-zero'], partitions: 0, replicas: 1 }),
        'INVALID_PARTITIONS',
      );
      await rejectsWithKafkaError(
        admin.createTopics({
          topics: ['plu-admin-unknown-config'],
          partitions: 1,
          replicas: 1,
          configs: [{ name: 'no.such.config', value: '1' }],
        }),
        'INVALID_CONFIG',
        /no\.such\.config/,
      );
      await rejectsWithKafkaError(
        admin.createTopics({
          topics: ['plu-admin-bad-value'],
          partitions: 1,
          replicas: 1,
          configs: [{ name: 'retention.ms', value: 'soon' }],
        }),
        'INVALID_CONFIG',
        /retention\.ms/,
      );
      await rejectsWithKafkaError(
        admin.createTopics({ topics: ['plu-admin-replicas'], partitions: 1, replicas: 3 }),
        'INVALID_REPLICATION_FACTOR',
      );
      // Kafka treats '.' and '_' alike in topic names (their metric names would clash).
      await createTopic('plu-admin.collide', 1);
      await rejectsWithKafkaError(
        admin.createTopics({ topics: ['plu-admin_collide'], partitions: 1, replicas: 1 }),
        'INVALID_TOPIC_EXCEPTION',
        /collides with existing topic: plu-admin\.collide/,
      );
      await rejectsWithKafkaError(
        admin.createTopics({ topics: ['bad name!'], partitions: 1, replicas: 1 }),
        'INVALID_TOPIC_EXCEPTION',
      );
      const topics = await admin.listTopics();
      for (const refused of [
        'plu-admin_collide',
        'plu-admin-zero',
        'plu-admin-unknown-config',
        'plu-admin-bad-value',
        'plu-admin-replicas',
      ]) {
        assert.ok(!topics.includes(refused), `${refused} was not created`);
      }
    });

    test('deleteTopics removes topics; deleting a missing topic is UNKNOWN_TOPIC_OR_PARTITION', {
      timeout: testTimeoutMs,
    }, async () => {
      await admin.createTopics({
        topics: ['plu-admin-delete-a', 'plu-admin-delete-b'],
        partitions: 2,
        replicas: 1,
      });
      await admin.deleteTopics({ topics: ['plu-admin-delete-a', 'plu-admin-delete-b'] });
      const topics = await admin.listTopics();
      assert.deepEqual(
        topics.filter((t) => t.startsWith('plu-admin-delete-')),
        [],
      );
      await rejectsWithKafkaError(
        admin.deleteTopics({ topics: ['plu-admin-delete-a'] }),
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
    });

    test('createPartitions grows a topic; validateOnly, shrinking, same count, wrong assignments and missing topics change nothing', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-admin-grow';
      await createTopic(topic, 2);
      const partitionCount = async () =>
        (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)?.partitionsCount;

      await admin.createPartitions({ topics: [{ name: topic, count: 4 }], validateOnly: true });
      assert.equal(await partitionCount(), 2, 'validateOnly adds nothing');
      await admin.createPartitions({ topics: [{ name: topic, count: 4 }] });
      assert.equal(await partitionCount(), 4);

      await rejectsWithKafkaError(
        admin.createPartitions({ topics: [{ name: topic, count: 3 }] }),
        'INVALID_PARTITIONS',
        /higher than the requested 3/,
      );
      await rejectsWithKafkaError(
        admin.createPartitions({ topics: [{ name: topic, count: 4 }] }),
        'INVALID_PARTITIONS',
      );
      await rejectsWithKafkaError(
        admin.createPartitions({ topics: [{ name: topic, count: 6, assignments: [{ brokerIds: [0] }] }] }),
        'INVALID_REPLICA_ASSIGNMENT',
      );
      await rejectsWithKafkaError(
        admin.createPartitions({ topics: [{ name: 'plu-admin-grow-missing', count: 2 }] }),
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      assert.equal(await partitionCount(), 4);

      // A producer that learns the new layout writes to the new partitions.
      const fresh = newProducer();
      const result = await fresh.send({ messages: [{ topic, partition: 3, value: 'in-new-partition' }] });
      assert.deepEqual(result.offsets, [{ topic, partition: 3, offset: 0n }]);
      assert.deepEqual(await logEndOffsets(topic, 4), [0n, 0n, 0n, 1n]);
      await closeClient(fresh);
    });

    test('alterConfigs replaces the overrides; incrementalAlterConfigs sets, appends, subtracts and deletes; bad changes are refused', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-admin-alter';
      await admin.createTopics({
        topics: [topic],
        partitions: 1,
        replicas: 1,
        configs: [{ name: 'max.message.bytes', value: '2000' }],
      });
      const describe = async (keys: string[]) => {
        const [result] = await admin.describeConfigs({
          resources: [
            { resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: keys },
          ],
        });
        return result?.configs.map((c) => [c.name, c.value, c.configSource]);
      };
      const { SET, DELETE, APPEND, SUBTRACT } = IncrementalAlterConfigOperationTypes;
      const alterIncrementally = (
        configs: { name: string; configOperation: number; value: string | null }[],
        validateOnly = false,
      ) =>
        admin.incrementalAlterConfigs({
          resources: [
            {
              resourceType: ConfigResourceTypes.TOPIC,
              resourceName: topic,
              configs: configs as Parameters<
                AdminClient['incrementalAlterConfigs']
              >[0]['resources'][0]['configs'],
            },
          ],
          validateOnly,
        });

      // The legacy AlterConfigs replaces the whole override set: max.message.bytes falls back to its default.
      await admin.alterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configs: [{ name: 'retention.ms', value: '999' }],
          },
        ],
      });
      assert.deepEqual(await describe(['max.message.bytes', 'retention.ms']), [
        ['max.message.bytes', '1048588', ConfigSources.DEFAULT_CONFIG],
        ['retention.ms', '999', ConfigSources.DYNAMIC_TOPIC_CONFIG],
      ]);

      await alterIncrementally([
        { name: 'segment.ms', configOperation: SET, value: '100000' },
        { name: 'cleanup.policy', configOperation: APPEND, value: 'compact' },
      ]);
      assert.deepEqual(await describe(['cleanup.policy', 'retention.ms', 'segment.ms']), [
        ['cleanup.policy', 'delete,compact', ConfigSources.DYNAMIC_TOPIC_CONFIG],
        ['retention.ms', '999', ConfigSources.DYNAMIC_TOPIC_CONFIG],
        ['segment.ms', '100000', ConfigSources.DYNAMIC_TOPIC_CONFIG],
      ]);
      await alterIncrementally([
        { name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' },
        { name: 'segment.ms', configOperation: DELETE, value: null },
      ]);
      await alterIncrementally([{ name: 'retention.ms', configOperation: SET, value: '5' }], true);
      assert.deepEqual(await describe(['cleanup.policy', 'retention.ms', 'segment.ms']), [
        ['cleanup.policy', 'compact', ConfigSources.DYNAMIC_TOPIC_CONFIG],
        ['retention.ms', '999', ConfigSources.DYNAMIC_TOPIC_CONFIG],
        ['segment.ms', '604800000', ConfigSources.DEFAULT_CONFIG],
      ]);

      const [withSynonyms] = await admin.describeConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configurationKeys: ['retention.ms'],
          },
        ],
        includeSynonyms: true,
      });
      const synonyms = withSynonyms?.configs[0]?.synonyms ?? [];
      assert.deepEqual(synonyms[0], {
        name: 'retention.ms',
        value: '999',
        source: ConfigSources.DYNAMIC_TOPIC_CONFIG,
      });
      assert.deepEqual(synonyms.at(-1), {
        name: 'log.retention.ms',
        value: '604800000',
        source: ConfigSources.DEFAULT_CONFIG,
      });

      await rejectsWithKafkaError(
        alterIncrementally([{ name: 'retention.ms', configOperation: SET, value: 'forever' }]),
        'INVALID_CONFIG',
        /retention\.ms/,
      );
      await rejectsWithKafkaError(
        alterIncrementally([{ name: 'retention.ms', configOperation: APPEND, value: '5' }]),
        'INVALID_CONFIG',
        /retention\.ms/,
      );
      await rejectsWithKafkaError(
        admin.alterConfigs({
          resources: [
            {
              resourceType: ConfigResourceTypes.TOPIC,
              resourceName: topic,
              configs: [{ name: 'bogus.key', value: '1' }],
            },
          ],
        }),
        'INVALID_CONFIG',
        /bogus\.key/,
      );
      await rejectsWithKafkaError(
        admin.describeConfigs({
          resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plu-admin-alter-missing' }],
        }),
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      assert.deepEqual(await describe(['retention.ms']), [
        ['retention.ms', '999', ConfigSources.DYNAMIC_TOPIC_CONFIG],
      ]);

      const [brokerConfigs] = await admin.describeConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.BROKER,
            resourceName: '0',
            configurationKeys: ['num.partitions'],
          },
        ],
      });
      assert.deepEqual(
        brokerConfigs?.configs.map((c) => [c.name, c.value, c.readOnly, c.configSource]),
        [['num.partitions', '1', true, ConfigSources.DEFAULT_CONFIG]],
      );
    });

    test('listOffsets: earliest, latest, max timestamp and by timestamp; deleteRecords moves the log start offset', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-admin-offsets';
      await createTopic(topic, 2);
      // Timestamps out of order inside one batch, then two single-record batches (7000 then 6000).
      await producer.send({
        messages: [1_000n, 3_000n, 2_000n, 5_000n].map((timestamp, i) => ({
          topic,
          partition: 0,
          value: `v${i}`,
          timestamp,
        })),
      });
      for (const [i, timestamp] of [
        [4, 7_000n],
        [5, 6_000n],
      ] as const) {
        await producer.send({ messages: [{ topic, partition: 0, value: `v${i}`, timestamp }] });
      }
      await producer.send({ messages: ['a', 'b', 'c'].map((value) => ({ topic, partition: 1, value })) });

      const lookup = async (partitionIndex: number, timestamp: bigint) => {
        const [listed] = await admin.listOffsets({
          topics: [{ name: topic, partitions: [{ partitionIndex, timestamp }] }],
        });
        const partition = listed?.partitions[0];
        return [partition?.offset, partition?.timestamp];
      };
      assert.deepEqual(await lookup(0, ListOffsetTimestamps.EARLIEST), [0n, -1n]);
      assert.deepEqual(await lookup(0, ListOffsetTimestamps.LATEST), [6n, -1n]);
      assert.deepEqual(
        await lookup(0, ListOffsetTimestamps.MAX),
        [4n, 7_000n],
        'the record with the largest timestamp',
      );
      assert.deepEqual(await lookup(0, 0n), [0n, 1_000n]);
      assert.deepEqual(await lookup(0, 1_500n), [1n, 3_000n], 'first record at or after 1500');
      assert.deepEqual(await lookup(0, 4_000n), [3n, 5_000n]);
      assert.deepEqual(await lookup(0, 5_001n), [4n, 7_000n]);
      assert.deepEqual(await lookup(0, 7_001n), [-1n, -1n], 'no record that late');
      assert.deepEqual(await lookup(1, ListOffsetTimestamps.LATEST), [3n, -1n]);

      const deleted = await admin.deleteRecords({
        topics: [
          {
            name: topic,
            partitions: [
              { partition: 0, offset: 2n },
              { partition: 1, offset: -1n },
            ],
          },
        ],
      });
      assert.deepEqual(deleted, [
        {
          name: topic,
          partitions: [
            { partition: 0, lowWatermark: 2n },
            { partition: 1, lowWatermark: 3n },
          ],
        },
      ]);
      assert.deepEqual(await lookup(0, ListOffsetTimestamps.EARLIEST), [2n, -1n]);
      assert.deepEqual(await lookup(1, ListOffsetTimestamps.EARLIEST), [3n, -1n]);
      assert.deepEqual(await lookup(0, 0n), [2n, 2_000n], 'deleted records are not found by timestamp');
      await rejectsWithKafkaError(
        admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 99n }] }] }),
        'OFFSET_OUT_OF_RANGE',
      );

      const consumer = newConsumer('plu-admin-offsets-reader');
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
      const { received, done } = collect(stream, 4, 'read after deleteRecords');
      await done;
      await stream.close();
      await closeClient(consumer);
      assert.deepEqual(received.sort(byPartitionThenOffset).map(describeMessage), [
        '0:2:-:v2',
        '0:3:-:v3',
        '0:4:-:v4',
        '0:5:-:v5',
      ]);
    });

    test('message.timestamp.type=LogAppendTime: ListOffsets finds records by the broker’s append time', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-admin-append-time';
      await admin.createTopics({
        topics: [topic],
        partitions: 1,
        replicas: 1,
        configs: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
      });
      const before = BigInt(Date.now());
      await producer.send({
        messages: [
          { topic, partition: 0, value: 'first', timestamp: 1_000n },
          { topic, partition: 0, value: 'second', timestamp: 2_000n },
        ],
      });
      const after = BigInt(Date.now());
      const lookup = async (timestamp: bigint) => {
        const [listed] = await admin.listOffsets({
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }],
        });
        return listed?.partitions[0];
      };
      const newest = await lookup(ListOffsetTimestamps.MAX);
      assert.equal(newest?.offset, 0n, 'both records share the append time; the first one is found');
      const appendTime = newest?.timestamp ?? 0n;
      assert.ok(
        appendTime >= before && appendTime <= after,
        `append time ${appendTime} in [${before}, ${after}]`,
      );
      assert.deepEqual(
        [(await lookup(1_500n))?.offset, (await lookup(appendTime + 1n))?.offset],
        [0n, -1n],
        'the producer’s timestamps are not what is indexed',
      );
    });

    test('a live group: listed, described with its member, and protected from deletion and offset changes; once empty its offsets are altered, listed and deleted, then the group', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-admin-group';
      const groupId = 'plu-admin-group-g';
      await createTopic(topic, 2);
      await producer.send({
        messages: Array.from({ length: 4 }, (_, i) => ({ topic, partition: i % 2, value: `g${i}` })),
      });
      const consumer = newConsumer(groupId, { clientId: 'plu-group-member', autocommit: false });
      const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
      const { received, done } = collect(stream, 4, 'group member');
      await done;
      for (const message of received) if (message.offset === 1n) await message.commit();

      const listed = await admin.listGroups();
      assert.deepEqual(listed.get(groupId), {
        id: groupId,
        state: 'Stable',
        groupType: 'classic',
        protocolType: 'consumer',
      });
      assert.ok((await admin.listGroups({ states: ['Stable'] })).has(groupId));
      assert.ok(!(await admin.listGroups({ states: ['Empty'] })).has(groupId));

      const live = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      assert.deepEqual(
        [live?.state, live?.protocolType, live?.protocol],
        ['Stable', 'consumer', 'roundrobin'],
      );
      assert.deepEqual([...(live?.members.keys() ?? [])], [consumer.memberId]);
      const member = live?.members.get(consumer.memberId ?? '');
      assert.deepEqual(
        [member?.clientId, member?.clientHost, member?.groupInstanceId, member?.metadata?.topics],
        ['plu-group-member', '/127.0.0.1', null, [topic]],
      );
      assert.deepEqual([...(member?.assignments ?? [])], [[topic, { topic, partitions: [0, 1] }]]);

      await rejectsWithKafkaError(admin.deleteGroups({ groups: [groupId] }), 'NON_EMPTY_GROUP');
      await rejectsWithKafkaError(
        admin.alterConsumerGroupOffsets({
          groupId,
          topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: 0n }] }],
        }),
        'UNKNOWN_MEMBER_ID',
      );
      await rejectsWithKafkaError(
        admin.deleteConsumerGroupOffsets({ groupId, topics: [{ name: topic, partitionIndexes: [0] }] }),
        'GROUP_SUBSCRIBED_TO_TOPIC',
      );
      assert.deepEqual(await committedOffsets(groupId, topic), { 0: 2n, 1: 2n });

      await stream.close();
      await closeClient(consumer);
      const empty = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      assert.deepEqual([empty?.state, empty?.protocol, empty?.members.size], ['Empty', '', 0]);

      await admin.alterConsumerGroupOffsets({
        groupId,
        topics: [
          {
            name: topic,
            partitionOffsets: [
              { partition: 0, offset: 1n },
              { partition: 1, offset: 0n },
            ],
          },
        ],
      });
      assert.deepEqual(await admin.listConsumerGroupOffsets({ groups: [groupId] }), [
        {
          groupId,
          topics: [
            {
              name: topic,
              partitions: [
                { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, metadata: '' },
                { partitionIndex: 1, committedOffset: 0n, committedLeaderEpoch: -1, metadata: '' },
              ],
            },
          ],
        },
      ]);
      assert.deepEqual(
        await admin.listConsumerGroupOffsets({
          groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [1] }] }],
        }),
        [
          {
            groupId,
            topics: [
              {
                name: topic,
                partitions: [
                  { partitionIndex: 1, committedOffset: 0n, committedLeaderEpoch: -1, metadata: '' },
                ],
              },
            ],
          },
        ],
      );
      assert.deepEqual(
        await admin.deleteConsumerGroupOffsets({ groupId, topics: [{ name: topic, partitionIndexes: [1] }] }),
        [{ name: topic, partitionIndexes: [1] }],
      );
      assert.deepEqual(await committedOffsets(groupId, topic), { 0: 1n });

      await admin.deleteGroups({ groups: [groupId] });
      const gone = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      assert.deepEqual([gone?.state, gone?.members.size], ['Dead', 0]);
      assert.deepEqual(await admin.listConsumerGroupOffsets({ groups: [groupId] }), [
        { groupId, topics: [] },
      ]);
      await rejectsWithKafkaError(admin.deleteGroups({ groups: [groupId] }), 'GROUP_ID_NOT_FOUND');
    });

    test('group offsets and descriptions of several groups in one request; admin commits create a group without a protocol', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-admin-many-groups';
      await createTopic(topic, 2);
      const [first, second, missing] = ['plu-many-1', 'plu-many-2', 'plu-many-missing'];
      // Offsets may point past the log end, as in Kafka.
      await admin.alterConsumerGroupOffsets({
        groupId: first,
        topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: 5n }] }],
      });
      await admin.alterConsumerGroupOffsets({
        groupId: second,
        topics: [{ name: topic, partitionOffsets: [{ partition: 1, offset: 7n }] }],
      });
      await rejectsWithKafkaError(
        admin.alterConsumerGroupOffsets({
          groupId: first,
          topics: [{ name: topic, partitionOffsets: [{ partition: 9, offset: 1n }] }],
        }),
        'UNKNOWN_TOPIC_OR_PARTITION',
      );

      const noCommit = { committedOffset: -1n, committedLeaderEpoch: -1, metadata: '' };
      assert.deepEqual(
        await admin.listConsumerGroupOffsets({
          groups: [first, { groupId: second, topics: [{ name: topic, partitionIndexes: [0, 1] }] }, missing],
        }),
        [
          {
            groupId: first,
            topics: [
              {
                name: topic,
                partitions: [
                  { partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, metadata: '' },
                ],
              },
            ],
          },
          {
            groupId: second,
            topics: [
              {
                name: topic,
                partitions: [
                  { partitionIndex: 0, ...noCommit },
                  { partitionIndex: 1, committedOffset: 7n, committedLeaderEpoch: -1, metadata: '' },
                ],
              },
            ],
          },
          { groupId: missing, topics: [] },
        ],
      );

      const described = await admin.describeGroups({ groups: [first, missing] });
      assert.deepEqual(
        [...described.values()].map((g) => [g.id, g.state, g.protocolType, g.protocol, g.members.size]),
        [
          [first, 'Empty', '', '', 0],
          [missing, 'Dead', '', '', 0],
        ],
      );
      const listed = await admin.listGroups();
      assert.deepEqual(
        [listed.get(first), listed.get(second), listed.get(missing)],
        [
          { id: first, state: 'Empty', groupType: 'classic', protocolType: '' },
          { id: second, state: 'Empty', groupType: 'classic', protocolType: '' },
          undefined,
        ],
      );
    });

    test('removeMembersFromConsumerGroup expels a member, which rejoins under a new member id', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-admin-remove';
      const groupId = 'plu-admin-remove-g';
      await createTopic(topic, 1);
      const consumer = newConsumer(groupId);
      const joins: string[] = [];
      consumer.on('consumer:group:join', (payload) => joins.push(payload.memberId));
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
      stream.on('data', () => undefined);
      const firstMemberId = consumer.memberId;
      assert.deepEqual(joins, [firstMemberId]);

      await admin.removeMembersFromConsumerGroup({ groupId });
      await waitFor(
        () => joins.length === 2,
        10_000,
        () => `joins: ${joins.join(', ')}`,
      );
      assert.notEqual(joins[1], firstMemberId);
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      assert.deepEqual([group?.state, [...(group?.members.keys() ?? [])]], ['Stable', [joins[1]]]);
      await stream.close();
      await closeClient(consumer);
    });
  });

  describe('producer', () => {
    test('keys, headers, explicit partitions, missing keys or values and timestamps come back exactly', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-produce-fields';
      await createTopic(topic, 3);
      const sent = [
        { topic, partition: 0, key: 'order-1', value: 'created', headers: { source: 'web', trace: '' } },
        { topic, partition: 1, key: 'ключ', value: 'значение ✓', headers: new Map([['émoji', '🚀']]) },
        { topic, partition: 1, key: 'tombstone' },
        { topic, partition: 2, value: 'no key' },
      ];
      const before = BigInt(Date.now());
      const result = await producer.send({ messages: sent, acks: -1 });
      const after = BigInt(Date.now());
      assert.deepEqual(
        [...(result.offsets ?? [])].sort((a, b) => a.partition - b.partition),
        [0, 1, 2].map((partition) => ({ topic, partition, offset: 0n })),
      );
      // Its own batch: platformatic 2.12 mis-encodes a record's timestamp delta beyond ±2^31 ms (about 24
      // days) from the batch's first timestamp, so an old timestamp after a current one comes back wrong.
      const paid = await producer.send({
        messages: [{ topic, partition: 0, key: 'order-1', value: 'paid', timestamp: 1_700_000_000_000n }],
      });
      assert.deepEqual(paid.offsets, [{ topic, partition: 0, offset: 1n }]);

      const consumer = newConsumer('plu-produce-fields-reader');
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
      const { received, done } = collect(stream, sent.length + 1, 'fields');
      await done;
      await stream.close();
      await closeClient(consumer);
      received.sort(byPartitionThenOffset);
      assert.deepEqual(
        received.map((m) => ({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          headers: m.headerEntries,
        })),
        [
          {
            topic,
            partition: 0,
            offset: 0n,
            key: 'order-1',
            value: 'created',
            headers: [
              ['source', 'web'],
              ['trace', ''],
            ],
          },
          { topic, partition: 0, offset: 1n, key: 'order-1', value: 'paid', headers: [] },
          { topic, partition: 1, offset: 0n, key: 'ключ', value: 'значение ✓', headers: [['émoji', '🚀']] },
          { topic, partition: 1, offset: 1n, key: 'tombstone', value: undefined, headers: [] },
          { topic, partition: 2, offset: 0n, key: undefined, value: 'no key', headers: [] },
        ],
      );
      assert.equal(received[1]?.timestamp, 1_700_000_000_000n, 'an explicit timestamp is kept');
      for (const index of [0, 2, 3, 4]) {
        const timestamp = received[index]?.timestamp ?? 0n;
        assert.ok(
          timestamp >= before && timestamp <= after,
          `record ${index} has the send time, got ${timestamp}`,
        );
      }
    });

    test('compatibilityPartitioner places keys as kafkajs DefaultPartitioner (Java) does; the default one uses unsigned murmur2', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-produce-partitioners';
      const partitions = 7;
      await createTopic(topic, partitions);
      const keys = ['a', ...Array.from({ length: 23 }, (_, i) => `user-${i}`)];

      const kafka = createKafka(broker.bootstrap);
      const kafkajsProducer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await kafkajsProducer.connect();
      try {
        await kafkajsProducer.send({ topic, messages: keys.map((key) => ({ key, value: 'kafkajs' })) });
      } finally {
        await kafkajsProducer.disconnect();
      }
      await producer.send({
        messages: keys.map((key) => ({ topic, key, value: 'compatibility' })),
        partitioner: compatibilityPartitioner,
      });
      await producer.send({ messages: keys.map((key) => ({ topic, key, value: 'default' })) });

      const consumer = newConsumer('plu-produce-partitioners-reader');
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
      const { received, done } = collect(stream, keys.length * 3, 'partitioners');
      await done;
      await stream.close();
      await closeClient(consumer);
      const placement = (producedBy: string) =>
        Object.fromEntries(
          received
            .filter((m) => m.value === producedBy)
            .map((m) => [m.key, m.partition])
            .sort(([a], [b]) => String(a).localeCompare(String(b))),
        );
      const sortedKeys = [...keys].sort((a, b) => a.localeCompare(b));
      assert.deepEqual(placement('compatibility'), placement('kafkajs'));
      assert.deepEqual(
        placement('default'),
        Object.fromEntries(sortedKeys.map((key) => [key, (murmur2(key) >>> 0) % partitions])),
      );
      // murmur2("a") is negative: Java masks the sign bit, platformatic's default reads it unsigned.
      assert.deepEqual([placement('kafkajs').a, placement('default').a], [5, 0]);
    });

    test('acks 0, 1 and -1 all write; acks 0 gets no offsets back', { timeout: testTimeoutMs }, async () => {
      const topic = 'plu-produce-acks';
      await createTopic(topic, 1);
      const none = await producer.send({ messages: [{ topic, partition: 0, value: 'acks0' }], acks: 0 });
      assert.equal(none.offsets, undefined);
      const leader = await producer.send({ messages: [{ topic, partition: 0, value: 'acks1' }], acks: 1 });
      assert.deepEqual(leader.offsets, [{ topic, partition: 0, offset: 1n }]);
      const all = await producer.send({ messages: [{ topic, partition: 0, value: 'acksAll' }], acks: -1 });
      assert.deepEqual(all.offsets, [{ topic, partition: 0, offset: 2n }]);
      assert.deepEqual(await logEndOffsets(topic, 1), [3n]);
    });

    test('a record over the topic max.message.bytes is refused at once with MESSAGE_TOO_LARGE and nothing is written', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-produce-too-large';
      await admin.createTopics({
        topics: [topic],
        partitions: 1,
        replicas: 1,
        configs: [{ name: 'max.message.bytes', value: '2000' }],
      });
      const startedMs = Date.now();
      await rejectsWithKafkaError(
        producer.send({ messages: [{ topic, partition: 0, value: 'x'.repeat(3_000) }], acks: -1 }),
        'MESSAGE_TOO_LARGE',
      );
      assert.ok(Date.now() - startedMs < 2_000, `refused in ${Date.now() - startedMs} ms`);
      assert.deepEqual(await logEndOffsets(topic, 1), [0n]);
      const small = await producer.send({ messages: [{ topic, partition: 0, value: 'x'.repeat(1_000) }] });
      assert.deepEqual(small.offsets, [{ topic, partition: 0, offset: 0n }]);
    });

    test('a missing topic is refused without autocreateTopics and auto-created with num.partitions with it', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-produce.auto';
      await assert.rejects(
        producer.send({ messages: [{ topic, value: 'refused' }] }),
        /Unknown topic plu-produce\.auto/,
      );
      assert.ok(!(await admin.listTopics()).includes(topic), 'plain Metadata does not create it');

      const result = await producer.send({ messages: [{ topic, value: 'created' }], autocreateTopics: true });
      assert.deepEqual(result.offsets, [{ topic, partition: 0, offset: 0n }]);
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      assert.equal(metadata.topics.get(topic)?.partitionsCount, 1);
      assert.deepEqual(await logEndOffsets(topic, 1), [1n]);

      // A name that collides with an existing topic ('.' versus '_') is refused, not an internal error.
      const colliding = 'plu-produce_auto';
      const startedMs = Date.now();
      await rejectsWithKafkaError(
        producer.send({ messages: [{ topic: colliding, value: 'refused' }], autocreateTopics: true }),
        'INVALID_TOPIC_EXCEPTION',
      );
      assert.ok(Date.now() - startedMs < 5_000, `refused in ${Date.now() - startedMs} ms`);
      assert.ok(!(await admin.listTopics()).includes(colliding));
    });

    test('the idempotent producer gets a producer id and writes each message once, in order', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-produce-idempotent';
      await createTopic(topic, 1);
      const idempotent = newProducer({ idempotent: true });
      const first = await idempotent.send({ messages: [{ topic, partition: 0, value: 'once' }] });
      const second = await idempotent.send({
        messages: [
          { topic, partition: 0, value: 'twice' },
          { topic, partition: 0, value: 'thrice' },
        ],
      });
      await closeClient(idempotent);
      assert.deepEqual(
        [first.offsets, second.offsets],
        [[{ topic, partition: 0, offset: 0n }], [{ topic, partition: 0, offset: 1n }]],
      );
      assert.deepEqual(await logEndOffsets(topic, 1), [3n]);
    });
  });

  describe('consumer', () => {
    test('earliest reads everything in per-partition order; latest only what is produced after it started', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-consume-modes';
      await createTopic(topic, 3);
      await producer.send({
        messages: Array.from({ length: 9 }, (_, i) => ({
          topic,
          partition: i % 3,
          key: `k${i}`,
          value: `old-${i}`,
        })),
      });

      const earliest = newConsumer('plu-consume-modes-earliest');
      const fromStart = await earliest.consume({ topics: [topic], mode: 'earliest' });
      const all = collect(fromStart, 9, 'earliest');
      await all.done;

      const latest = newConsumer('plu-consume-modes-latest');
      const fromEnd = await latest.consume({ topics: [topic], mode: 'latest' });
      const fresh = collect(fromEnd, 3, 'latest');
      await waitFor(
        () => fromEnd.offsetsToFetch.size === 3,
        5_000,
        () => `latest start offsets: ${[...fromEnd.offsetsToFetch]}`,
      );
      await producer.send({
        messages: [0, 1, 2].map((partition) => ({
          topic,
          partition,
          key: `n${partition}`,
          value: `new-${partition}`,
        })),
      });
      await fresh.done;
      await sleep(300);
      await Promise.all([fromStart.close(), fromEnd.close()]);
      await Promise.all([closeClient(earliest), closeClient(latest)]);

      assert.deepEqual(
        all.received
          .filter((m) => m.offset < 3n)
          .map(describeMessage)
          .sort(),
        Array.from({ length: 9 }, (_, i) => `${i % 3}:${Math.floor(i / 3)}:k${i}:old-${i}`).sort(),
      );
      for (let partition = 0; partition < 3; partition++) {
        const offsets = all.received.filter((m) => m.partition === partition).map((m) => m.offset);
        assert.deepEqual(offsets.slice(0, 3), [0n, 1n, 2n], `partition ${partition} in order`);
      }
      assert.deepEqual(fresh.received.sort(byPartitionThenOffset).map(describeMessage), [
        '0:3:n0:new-0',
        '1:3:n1:new-1',
        '2:3:n2:new-2',
      ]);
    });

    test('manual commits: a new consumer of the group resumes after the committed offsets', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-consume-manual-commit';
      const groupId = 'plu-consume-manual-commit-g';
      await createTopic(topic, 3);
      await producer.send({
        messages: Array.from({ length: 9 }, (_, i) => ({ topic, partition: i % 3, value: `m${i}` })),
      });

      const first = newConsumer(groupId, { autocommit: false });
      const firstStream = await first.consume({
        topics: [topic],
        mode: 'committed',
        fallbackMode: 'earliest',
      });
      const firstRead = collect(firstStream, 9, 'first member');
      await firstRead.done;
      for (const message of firstRead.received) if (message.offset === 1n) await message.commit();
      assert.deepEqual(
        await first.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1, 2] }] }),
        new Map([[topic, [2n, 2n, 2n]]]),
      );
      await firstStream.close();
      await closeClient(first);
      assert.deepEqual(await committedOffsets(groupId, topic), { 0: 2n, 1: 2n, 2: 2n });

      const second = newConsumer(groupId, { autocommit: false });
      const secondStream = await second.consume({
        topics: [topic],
        mode: 'committed',
        fallbackMode: 'earliest',
      });
      const secondRead = collect(secondStream, 3, 'second member');
      await secondRead.done;
      await secondStream.close();
      await closeClient(second);
      assert.deepEqual(secondRead.received.sort(byPartitionThenOffset).map(describeMessage), [
        '0:2:-:m6',
        '1:2:-:m7',
        '2:2:-:m8',
      ]);
    });

    test('autocommit: after each fetch when true; on an interval, and what is left is committed on close', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-consume-autocommit';
      await createTopic(topic, 3);
      await producer.send({
        messages: Array.from({ length: 6 }, (_, i) => ({ topic, partition: i % 3, value: `a${i}` })),
      });

      const eager = newConsumer('plu-consume-autocommit-eager', { autocommit: true });
      const eagerStream = await eager.consume({
        topics: [topic],
        mode: 'committed',
        fallbackMode: 'earliest',
      });
      await collect(eagerStream, 6, 'autocommit true').done;
      await waitFor(
        async () => Object.values(await committedOffsets('plu-consume-autocommit-eager', topic)).length === 3,
        5_000,
        async () =>
          `committed: ${JSON.stringify(await committedOffsets('plu-consume-autocommit-eager', topic), (_, v) => (typeof v === 'bigint' ? String(v) : v))}`,
      );
      assert.deepEqual(await committedOffsets('plu-consume-autocommit-eager', topic), {
        0: 2n,
        1: 2n,
        2: 2n,
      });
      await eagerStream.close();
      await closeClient(eager);

      // An interval far longer than the test: only the close can commit.
      const lazy = newConsumer('plu-consume-autocommit-lazy', { autocommit: 600_000 });
      const lazyStream = await lazy.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
      await collect(lazyStream, 6, 'autocommit interval').done;
      assert.deepEqual(await committedOffsets('plu-consume-autocommit-lazy', topic), {});
      await lazyStream.close();
      await closeClient(lazy);
      assert.deepEqual(await committedOffsets('plu-consume-autocommit-lazy', topic), { 0: 2n, 1: 2n, 2: 2n });
    });

    test('two consumers split the partitions; the survivor takes over from the leaver’s commits', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-consume-split';
      const groupId = 'plu-consume-split-g';
      await createTopic(topic, 4);
      const produceRound = (round: string) =>
        producer.send({
          messages: [0, 1, 2, 3].map((partition) => ({ topic, partition, value: `${round}-${partition}` })),
        });
      await produceRound('r1');

      const a = newConsumer(groupId, { clientId: 'plu-split-a' });
      const aStream = await a.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
      const aRead = collect(aStream, 4, 'a alone');
      await aRead.done;
      await waitFor(
        async () => Object.values(await committedOffsets(groupId, topic)).length === 4,
        5_000,
        () => 'a to commit round 1',
      );

      // b commits by hand, so what it read is committed when it leaves whatever its autocommit timing.
      const b = newConsumer(groupId, { clientId: 'plu-split-b', autocommit: false });
      const bStream = await b.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
      const bRead = collect(bStream, 2, 'b');
      await waitFor(
        () => a.assignments?.[0]?.partitions.length === 2 && b.assignments?.[0]?.partitions.length === 2,
        10_000,
        () => `a: ${JSON.stringify(a.assignments)}, b: ${JSON.stringify(b.assignments)}`,
      );
      assert.deepEqual(
        [a.assignments, b.assignments],
        [[{ topic, partitions: [0, 2] }], [{ topic, partitions: [1, 3] }]],
        'roundrobin over the sorted member ids (a < b)',
      );
      // Let a Fetch sent under the old assignment (long poll: maxWaitTime) come back empty first.
      await sleep(300);
      await produceRound('r2');
      await bRead.done;
      for (const message of bRead.received) await message.commit();
      const committedByB = await committedOffsets(groupId, topic);
      assert.deepEqual([committedByB[1], committedByB[3]], [2n, 2n]);
      await waitFor(
        () => distinct(aRead.received).length === 6,
        5_000,
        () => `a got ${aRead.received.map(describeMessage)}`,
      );

      await bStream.close();
      await closeClient(b);
      await waitFor(
        () => a.assignments?.[0]?.partitions.length === 4,
        10_000,
        () => `a: ${JSON.stringify(a.assignments)}`,
      );
      await produceRound('r3');
      await waitFor(
        () => distinct(aRead.received).length === 10,
        5_000,
        () => `a got ${aRead.received.map(describeMessage)}`,
      );
      await sleep(300);
      await aStream.close();
      await closeClient(a);

      assert.deepEqual(distinct(aRead.received), [
        '0:0:-:r1-0',
        '0:1:-:r2-0',
        '0:2:-:r3-0',
        '1:0:-:r1-1',
        '1:2:-:r3-1',
        '2:0:-:r1-2',
        '2:1:-:r2-2',
        '2:2:-:r3-2',
        '3:0:-:r1-3',
        '3:2:-:r3-3',
      ]);
      assert.deepEqual(distinct(bRead.received), ['1:1:-:r2-1', '3:1:-:r2-3']);
    });

    test('a platformatic consumer and a kafkajs consumer share a group both ways; a member without a common protocol is refused', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-consume-mixed';
      const groupId = 'plu-consume-mixed-g';
      await createTopic(topic, 4);
      const produceRound = (round: string) =>
        producer.send({
          messages: [0, 1, 2, 3].map((partition) => ({ topic, partition, value: `${round}-${partition}` })),
        });

      // platformatic names its round-robin protocol "roundrobin"; kafkajs needs the same name to share a group.
      const roundrobin: PartitionAssigner = (config) => ({
        ...PartitionAssigners.roundRobin(config),
        name: 'roundrobin',
      });
      const platformatic = newConsumer(groupId, { clientId: 'plu-mixed-platformatic' });
      const platformaticStream = await platformatic.consume({
        topics: [topic],
        mode: 'committed',
        fallbackMode: 'earliest',
      });
      const platformaticRead = collect(platformaticStream, 2, 'platformatic');

      const kafka = createKafka(broker.bootstrap, { clientId: 'plu-mixed-kafkajs' });
      const kafkajsConsumer: KafkajsConsumer = kafka.consumer({
        groupId,
        partitionAssigners: [roundrobin],
        sessionTimeout: 6_000,
        rebalanceTimeout: 6_000,
        heartbeatInterval: 300,
        maxWaitTimeInMs: 100,
      });
      const kafkajsAssignments: Record<string, number[]>[] = [];
      kafkajsConsumer.on(kafkajsConsumer.events.GROUP_JOIN, (event) => {
        kafkajsAssignments.push(event.payload.memberAssignment);
      });
      const kafkajsReceived: string[] = [];
      try {
        await kafkajsConsumer.connect();
        await kafkajsConsumer.subscribe({ topics: [topic], fromBeginning: true });
        await kafkajsConsumer.run({
          eachMessage: async ({ partition, message }) => {
            kafkajsReceived.push(`${partition}:${message.offset}:${message.value?.toString()}`);
          },
        });
        // platformatic led the rebalance and assigned; kafkajs decoded its assignment.
        await waitFor(
          () => kafkajsAssignments.length === 1 && platformatic.assignments?.[0]?.partitions.length === 2,
          10_000,
          () =>
            `kafkajs: ${JSON.stringify(kafkajsAssignments)}, platformatic: ${JSON.stringify(platformatic.assignments)}`,
        );
        const platformaticPartitions = platformatic.assignments?.[0]?.partitions ?? [];
        const kafkajsPartitions = kafkajsAssignments[0]?.[topic] ?? [];
        assert.deepEqual([...platformaticPartitions, ...kafkajsPartitions].sort(), [0, 1, 2, 3]);
        const described = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
        assert.deepEqual(
          [
            described?.state,
            described?.protocol,
            [...(described?.members.values() ?? [])].map((m) => m.clientId).sort(),
          ],
          ['Stable', 'roundrobin', ['plu-mixed-kafkajs', 'plu-mixed-platformatic']],
        );

        // Let a Fetch sent under the old assignment (long poll: maxWaitTime) come back empty first.
        await sleep(300);
        await produceRound('r1');
        await platformaticRead.done;
        await waitFor(
          () => kafkajsReceived.length === 2,
          5_000,
          () => `kafkajs got ${kafkajsReceived}`,
        );
        assert.deepEqual(
          platformaticRead.received.map((m) => m.partition).sort(),
          [...platformaticPartitions].sort(),
        );
        assert.deepEqual(
          kafkajsReceived.sort(),
          [...kafkajsPartitions].sort().map((p) => `${p}:0:r1-${p}`),
        );

        const stranger = newConsumer(groupId, {
          clientId: 'plu-mixed-stranger',
          protocols: [{ name: 'range', version: 1 }],
          retries: 0,
        });
        await rejectsWithKafkaError(
          stranger.consume({ topics: [topic], mode: 'earliest' }),
          'INCONSISTENT_GROUP_PROTOCOL',
        );
        await closeClient(stranger);

        // platformatic leaves: kafkajs, now alone, leads and takes every partition from the commits.
        await platformaticStream.close();
        await closeClient(platformatic);
        await waitFor(
          () => (kafkajsAssignments.at(-1)?.[topic]?.length ?? 0) === 4,
          10_000,
          () => `kafkajs: ${JSON.stringify(kafkajsAssignments)}`,
        );
        await produceRound('r2');
        await waitFor(
          () => kafkajsReceived.length === 6,
          5_000,
          () => `kafkajs got ${kafkajsReceived}`,
        );
        assert.deepEqual(
          kafkajsReceived.filter((m) => m.includes(':r2-')).sort(),
          ['0:1:r2-0', '1:1:r2-1', '2:1:r2-2', '3:1:r2-3'],
          'kafkajs resumes the partitions platformatic committed',
        );
      } finally {
        await kafkajsConsumer.disconnect();
      }
    });

    test('manual offsets are where reading starts; out of range offsets recover by fallbackMode or fail with OFFSET_OUT_OF_RANGE', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-consume-seek';
      await createTopic(topic, 2);
      await producer.send({
        messages: [
          ...Array.from({ length: 5 }, (_, i) => ({ topic, partition: 0, value: `p0-${i}` })),
          ...Array.from({ length: 2 }, (_, i) => ({ topic, partition: 1, value: `p1-${i}` })),
        ],
      });
      await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 2n }] }] });
      const consumer = newConsumer('plu-consume-seek-g');
      const read = async (
        offsets: { partition: number; offset: bigint }[],
        fallbackMode: 'earliest' | 'latest' | 'fail',
        count: number,
      ) => {
        const stream = await consumer.consume({
          topics: [topic],
          mode: 'manual',
          fallbackMode,
          offsets: offsets.map((o) => ({ topic, ...o })),
        });
        const { received, done } = collect(
          stream,
          count,
          `manual ${JSON.stringify(offsets, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`,
        );
        await done;
        await stream.close();
        return received.sort(byPartitionThenOffset).map(describeMessage);
      };

      assert.deepEqual(
        await read(
          [
            { partition: 0, offset: 3n },
            { partition: 1, offset: 1n },
          ],
          'fail',
          3,
        ),
        ['0:3:-:p0-3', '0:4:-:p0-4', '1:1:-:p1-1'],
      );
      assert.deepEqual(
        await read(
          [
            { partition: 0, offset: 0n },
            { partition: 1, offset: 0n },
          ],
          'earliest',
          5,
        ),
        ['0:2:-:p0-2', '0:3:-:p0-3', '0:4:-:p0-4', '1:0:-:p1-0', '1:1:-:p1-1'],
        'below the log start offset: restart at the log start',
      );

      const failing = await consumer.consume({
        topics: [topic],
        mode: 'manual',
        fallbackMode: 'fail',
        offsets: [
          { topic, partition: 0, offset: 0n },
          { topic, partition: 1, offset: 2n },
        ],
      });
      await rejectsWithKafkaError(
        new Promise((_, reject) => {
          failing.once('error', reject);
          failing.on('data', (message) =>
            reject(new Error(`unexpected message ${describeMessage(message)}`)),
          );
        }),
        'OFFSET_OUT_OF_RANGE',
      );
      await failing.close();

      // Past the log end offset: fallback latest waits at the end for what comes next.
      const pastEnd = await consumer.consume({
        topics: [topic],
        mode: 'manual',
        fallbackMode: 'latest',
        offsets: [
          { topic, partition: 0, offset: 50n },
          { topic, partition: 1, offset: 2n },
        ],
      });
      const next = collect(pastEnd, 1, 'past the end');
      await sleep(500);
      await producer.send({ messages: [{ topic, partition: 0, value: 'p0-5' }] });
      await next.done;
      await pastEnd.close();
      assert.deepEqual(next.received.map(describeMessage), ['0:5:-:p0-5']);
      await closeClient(consumer);
    });

    test('one stream reads several topics; a record larger than maxBytes still arrives (KIP-74)', {
      timeout: testTimeoutMs,
    }, async () => {
      const [first, second] = ['plu-consume-multi-a', 'plu-consume-multi-b'];
      await admin.createTopics({ topics: [first, second], partitions: 2, replicas: 1 });
      const big = (letter: string) => letter.repeat(5_000);
      const sent = await producer.send({
        messages: [
          { topic: first, partition: 0, value: big('A') },
          { topic: second, partition: 1, value: big('B') },
          { topic: first, partition: 1, value: 'small-a1' },
          { topic: first, partition: 0, value: 'small-a0' },
        ],
      });
      assert.deepEqual(
        [...(sent.offsets ?? [])].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
        [
          { topic: first, partition: 0, offset: 0n },
          { topic: first, partition: 1, offset: 0n },
          { topic: second, partition: 1, offset: 0n },
        ],
      );

      const consumer = newConsumer('plu-consume-multi-g', { maxBytes: 1_000, maxBytesPerPartition: 1_000 });
      const stream = await consumer.consume({ topics: [first, second], mode: 'earliest' });
      const { received, done } = collect(stream, 4, 'several topics');
      await done;
      await stream.close();
      await closeClient(consumer);
      assert.deepEqual(
        received
          .map(
            (m) =>
              `${m.topic}:${m.partition}:${m.offset}:${m.value?.length === 5_000 ? m.value.slice(0, 1) : m.value}`,
          )
          .sort(),
        [`${first}:0:0:A`, `${first}:0:1:small-a0`, `${first}:1:0:small-a1`, `${second}:1:0:B`],
      );
    });

    test('a member that dies without leaving is expired after its session timeout and a platformatic member takes its partitions', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-consume-expire';
      const groupId = 'plu-consume-expire-g';
      await createTopic(topic, 4);
      const survivor = newConsumer(groupId, { clientId: 'plu-expire-survivor' });
      const survivorStream = await survivor.consume({
        topics: [topic],
        mode: 'committed',
        fallbackMode: 'earliest',
      });
      survivorStream.on('data', () => undefined);

      // The member to kill runs in its own process, so SIGKILL ends it without a LeaveGroup.
      const memberScript = `
        const { loadPlatformatic } = await import(process.env.LOADER_URL);
        const { Consumer } = await loadPlatformatic();
        const consumer = new Consumer({ clientId: 'plu-expire-victim', groupId: process.env.GROUP_ID,
          bootstrapBrokers: [process.env.BOOTSTRAP], maxWaitTime: 100, sessionTimeout: 1500,
          rebalanceTimeout: 6000, heartbeatInterval: 300 });
        consumer.on('consumer:group:join', (p) => console.log('joined ' + JSON.stringify(p.assignments)));
        const stream = await consumer.consume({ topics: [process.env.TOPIC], mode: 'earliest' });
        stream.on('data', () => {});
      `;
      const victim = spawnLines(process.execPath, ['--input-type=module', '-e', memberScript], {
        // The compiled loader next to this compiled test: it installs the stand-in, then loads the client.
        LOADER_URL: new URL('../helpers/platformatic.js', import.meta.url).href,
        GROUP_ID: groupId,
        BOOTSTRAP: broker.bootstrap,
        TOPIC: topic,
      });
      await waitFor(
        () => survivor.assignments?.[0]?.partitions.length === 2 && victim.lines.length > 0,
        15_000,
        () => `survivor: ${JSON.stringify(survivor.assignments)}, victim: ${victim.lines} ${victim.stderr()}`,
      );
      assert.equal((await admin.describeGroups({ groups: [groupId] })).get(groupId)?.members.size, 2);

      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedMs = Date.now();
      await waitFor(
        () => survivor.assignments?.[0]?.partitions.length === 4,
        10_000,
        () => `survivor: ${JSON.stringify(survivor.assignments)}`,
      );
      const takeoverMs = Date.now() - killedMs;
      assert.ok(takeoverMs >= 1_000, `not before the 1.5 s session ends: ${takeoverMs} ms`);
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      assert.deepEqual(
        [group?.state, [...(group?.members.values() ?? [])].map((m) => m.clientId)],
        ['Stable', ['plu-expire-survivor']],
      );
      await survivorStream.close();
      await closeClient(survivor);
    });

    test('an empty topic: nothing arrives, lag and log end are 0, and close leaves the group at once', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-consume-empty';
      const groupId = 'plu-consume-empty-g';
      await createTopic(topic, 2);
      const consumer = newConsumer(groupId);
      const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
      const fetches = { count: 0 };
      stream.on('fetch', () => {
        fetches.count++;
      });
      const received: StringMessage[] = [];
      stream.on('data', (message) => received.push(message));
      await waitFor(
        () => fetches.count >= 3,
        5_000,
        () => `${fetches.count} fetches`,
      );
      assert.deepEqual(received, []);
      assert.deepEqual(await consumer.getLag({ topics: [topic] }), new Map([[topic, [0n, 0n]]]));
      assert.deepEqual(await consumer.listOffsets({ topics: [topic] }), new Map([[topic, [0n, 0n]]]));
      assert.equal((await admin.describeGroups({ groups: [groupId] })).get(groupId)?.members.size, 1);

      await stream.close();
      await closeClient(consumer);
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      assert.deepEqual(
        [group?.state, group?.members.size],
        ['Empty', 0],
        'LeaveGroup, not a session timeout',
      );
    });

    test('a static member (groupInstanceId) is described with its instance id and leaves on close', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'plu-consume-static';
      const groupId = 'plu-consume-static-g';
      await createTopic(topic, 1);
      await producer.send({ messages: [{ topic, partition: 0, value: 'static' }] });
      const consumer = newConsumer(groupId, { groupInstanceId: 'plu-instance-1' });
      const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
      const { received, done } = collect(stream, 1, 'static member');
      await done;
      assert.deepEqual(received.map(describeMessage), ['0:0:-:static']);
      assert.match(consumer.memberId ?? '', /^plu-instance-1-/);
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      assert.deepEqual(
        [...(group?.members.values() ?? [])].map((m) => [m.id, m.groupInstanceId]),
        [[consumer.memberId, 'plu-instance-1']],
      );
      await stream.close();
      await closeClient(consumer);
      const left = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      assert.deepEqual([left?.state, left?.members.size], ['Empty', 0]);
    });
  });
});
