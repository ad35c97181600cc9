// Error paths as real clients meet them: produce refusals (acks, min.insync.replicas, sizes, missing topics and
// partitions, internal topics), session timeouts out of range, a member expelled from its group, a topic
// deleted and recreated under its consumers, admin refusals, and producer features the broker does not offer.
// Kafka 3.x's answers are the reference; each case asserts the exact error each client surfaces and that
// nothing was written, and every client call is bounded by the client's own timeouts and retries.
// The sarama cases run test/interop/sarama/error-paths/main.go, built once, offline, in GOPATH mode.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import type { Admin, Kafka, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
import { type Broker, disposeAllBrokers, makeTempDir, startBroker } from '../helpers/broker.js';
import { hasKafkaErrorType, kafkaErrorTypes } from '../helpers/errors.js';
import { createKafka } from '../helpers/kafka.js';
import { loadPlatformatic } from '../helpers/platformatic.js';
import { runProgram, runProgramOk } from '../helpers/process.js';
import { buildSaramaProgram, goMissingReason } from '../helpers/sarama.js';
import { waitFor } from '../helpers/wait.js';

const {
  Admin: PlatformaticAdminClass,
  Consumer,
  Producer: PlatformaticProducer,
  stringDeserializers,
  stringSerializers,
} = await loadPlatformatic();
const { Partitioners } = kafkajs;

const testTimeoutMs = 30_000;
const programTimeoutMs = 30_000;

const goSkipReason = await goMissingReason();

/** One line of the Go program: the step, the Kafka error code sarama returned, and what came with it. */
type Step = { step: string; err: number; msg?: string } & Record<string, unknown>;

function jsonLines(stdout: string): Step[] {
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Step);
}

/** The Kafka error names platformatic found in a failure, looking through its wrapping errors. */
function platformaticErrorIds(error: unknown, depth = 0): string[] {
  if (error === null || typeof error !== 'object' || depth > 8) return [];
  const e = error as { apiId?: unknown; errors?: unknown; cause?: unknown };
  const ids = typeof e.apiId === 'string' ? [e.apiId] : [];
  if (Array.isArray(e.errors))
    for (const inner of e.errors) ids.push(...platformaticErrorIds(inner, depth + 1));
  ids.push(...platformaticErrorIds(e.cause, depth + 1));
  return [...new Set(ids)];
}

describe('error paths', { timeout: 150_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let platformaticAdmin: PlatformaticAdmin;
  let buildDir: string | undefined;
  let saramaProgram = '';

  before(async () => {
    const build = async () => {
      if (goSkipReason !== undefined) return;
      buildDir = await makeTempDir('sluice-sarama-errors-');
      saramaProgram = await buildSaramaProgram(
        'test/interop/sarama/error-paths',
        buildDir,
        'sarama-error-paths',
      );
    };
    const start = async () => {
      // Auto-creation off: producing to a missing topic must fail, not create it.
      broker = await startBroker({
        args: ['--set', 'auto.create.topics.enable=false', '--set', 'group.initial.rebalance.delay.ms=0'],
      });
      kafka = createKafka(broker.bootstrap, { retry: { retries: 1, initialRetryTime: 50 } });
      admin = kafka.admin();
      await admin.connect();
      producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      platformaticAdmin = new PlatformaticAdminClass({
        clientId: 'errp-admin',
        bootstrapBrokers: [broker.bootstrap],
        retries: 1,
        retryDelay: 100,
      });
    };
    await Promise.all([build(), start()]);
  });

  after(async () => {
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await platformaticAdmin?.close().catch(() => {});
    await disposeAllBrokers();
    if (buildDir !== undefined) await rm(buildDir, { recursive: true, force: true });
  });

  const createTopic = async (topic: string, configs: Record<string, string> = {}, partitions = 1) => {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: partitions,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  };

  const logEndOffsets = async (topic: string) =>
    (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]);

  const kcat = (args: string[], input?: string, timeoutMs = 15_000) =>
    runProgram('kcat', ['-b', broker.bootstrap, ...args], {
      timeoutMs,
      ...(input === undefined ? {} : { input }),
    });

  const newPlatformaticProducer = () =>
    new PlatformaticProducer({
      clientId: 'errp-producer',
      bootstrapBrokers: [broker.bootstrap],
      retries: 0,
      serializers: stringSerializers,
    });

  test('acks=all on a min.insync.replicas=2 topic: NOT_ENOUGH_REPLICAS in kafkajs, platformatic and kcat, nothing written; acks=1 writes', {
    timeout: testTimeoutMs,
  }, async () => {
    // Kafka compares the in-sync replicas with min.insync.replicas as configured (KIP-966's cap at the
    // replication factor comes with eligible leader replicas, which Sluice does not have).
    const topic = 'errp-min-isr';
    await createTopic(topic, { 'min.insync.replicas': '2' });

    await assert.rejects(
      producer.send({ topic, acks: -1, messages: [{ value: 'kafkajs-all' }] }),
      hasKafkaErrorType('NOT_ENOUGH_REPLICAS'),
    );
    const platformatic = newPlatformaticProducer();
    try {
      await assert.rejects(
        platformatic.send({ messages: [{ topic, partition: 0, value: 'platformatic-all' }], acks: -1 }),
        (err: unknown) => {
          assert.deepEqual(platformaticErrorIds(err), ['NOT_ENOUGH_REPLICAS']);
          return true;
        },
      );
    } finally {
      await platformatic.close();
    }
    // librdkafka retries this retriable error until message.timeout.ms; without retries it reports it as is.
    const once = await kcat(
      ['-P', '-t', topic, '-X', 'acks=all', '-X', 'message.send.max.retries=0'],
      'kcat-all\n',
    );
    assert.deepEqual(
      [once.code, once.stderr.trim()],
      [1, '% Delivery failed for message: Broker: Not enough in-sync replicas'],
    );
    const retried = await kcat(
      ['-P', '-t', topic, '-X', 'acks=all', '-X', 'message.timeout.ms=1500'],
      'kcat-all\n',
    );
    assert.deepEqual(
      [retried.code, retried.stderr.trim()],
      [1, '% Delivery failed for message: Local: Message timed out'],
    );
    assert.deepEqual(await logEndOffsets(topic), [[0, '0']]);

    const written = await producer.send({ topic, acks: 1, messages: [{ value: 'kafkajs-1' }] });
    assert.deepEqual(
      written.map((r) => [r.partition, r.errorCode, r.baseOffset]),
      [[0, 0, '0']],
    );
    const kcatOne = await kcat(['-P', '-t', topic, '-X', 'acks=1'], 'kcat-1\n');
    assert.equal(kcatOne.code, 0, kcatOne.stderr);
    assert.deepEqual(await logEndOffsets(topic), [[0, '2']]);
  });

  test('an invalid acks value (2): INVALID_REQUIRED_ACKS at once in kafkajs, platformatic and kcat; nothing written', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'errp-acks';
    await createTopic(topic);
    await assert.rejects(
      producer.send({ topic, acks: 2, messages: [{ value: 'kafkajs' }] }),
      hasKafkaErrorType('INVALID_REQUIRED_ACKS'),
    );
    const platformatic = newPlatformaticProducer();
    try {
      await assert.rejects(
        platformatic.send({ messages: [{ topic, partition: 0, value: 'platformatic' }], acks: 2 }),
        (err: unknown) => {
          assert.deepEqual(platformaticErrorIds(err), ['INVALID_REQUIRED_ACKS']);
          return true;
        },
      );
    } finally {
      await platformatic.close();
    }
    const result = await kcat(['-P', '-t', topic, '-X', 'acks=2'], 'kcat\n');
    assert.deepEqual(
      [result.code, result.stderr.trim()],
      [1, '% Delivery failed for message: Broker: Invalid required acks value'],
    );
    assert.deepEqual(await logEndOffsets(topic), [[0, '0']]);
  });

  test('kcat: a missing topic with auto-creation off fails after topic.metadata.propagation.max.ms and is not created; a missing partition fails at once', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'errp-kcat-present';
    await createTopic(topic);
    const missing = await kcat(
      ['-P', '-t', 'errp-kcat-missing', '-X', 'topic.metadata.propagation.max.ms=1000'],
      'x\n',
    );
    assert.deepEqual(
      [missing.code, missing.stderr.trim()],
      [1, '% Delivery failed for message: Broker: Unknown topic or partition'],
    );
    assert.ok(!(await admin.listTopics()).includes('errp-kcat-missing'), 'the topic was not created');

    const partition = await kcat(['-P', '-t', topic, '-p', '5'], 'x\n');
    assert.deepEqual(
      [partition.code, partition.stderr.trim()],
      [1, '% Delivery failed for message: Local: Unknown partition'],
    );
    assert.deepEqual(await logEndOffsets(topic), [[0, '0']]);
  });

  test('sarama: acks 2, min.insync.replicas, a missing topic and a missing partition', {
    timeout: testTimeoutMs,
    skip: goSkipReason ?? false,
  }, async () => {
    const topic = 'errp-sarama';
    const isrTopic = 'errp-sarama-isr';
    await createTopic(topic);
    await createTopic(isrTopic, { 'min.insync.replicas': '2' });
    const { stdout } = await runProgramOk(
      saramaProgram,
      [
        'produce',
        '-bootstrap',
        broker.bootstrap,
        '-topic',
        topic,
        '-isr-topic',
        isrTopic,
        '-missing',
        'errp-sarama-missing',
      ],
      { timeoutMs: programTimeoutMs },
    );
    assert.deepEqual(jsonLines(stdout), [
      { step: 'acks-2', err: 21, withinTimeout: true },
      { step: 'min-isr-acks-all', err: 19, withinTimeout: true },
      { step: 'min-isr-acks-1', err: 0, p: 0, o: 0, withinTimeout: true },
      { step: 'missing-topic', err: 3, withinTimeout: true },
      // sarama checks the partition against the metadata itself and sends nothing.
      {
        step: 'missing-partition',
        err: -1,
        msg: 'kafka: partitioner returned an invalid partition index',
        withinTimeout: true,
      },
      { step: 'acks-1', err: 0, p: 0, o: 0, withinTimeout: true },
    ]);
    assert.deepEqual(await logEndOffsets(isrTopic), [[0, '1']]);
    assert.ok(!(await admin.listTopics()).includes('errp-sarama-missing'), 'the topic was not created');
  });

  test('session timeouts outside group.min/max.session.timeout.ms: INVALID_SESSION_TIMEOUT in kafkajs, platformatic, kcat and sarama', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'errp-session';
    await createTopic(topic);

    // kafkajs: a non-retriable join error crashes the consumer without a restart.
    for (const sessionTimeout of [1_000, 1_800_001]) {
      const consumer = kafka.consumer({
        groupId: 'errp-session-kafkajs',
        sessionTimeout,
        heartbeatInterval: 300,
      });
      const crashed = new Promise<{ error: Error; restart: boolean }>((resolve) => {
        consumer.on(consumer.events.CRASH, (event) => resolve(event.payload));
      });
      await consumer.connect();
      await consumer.subscribe({ topic });
      await consumer.run({ eachMessage: async () => {} });
      const crash = await crashed;
      assert.deepEqual([kafkaErrorTypes(crash.error), crash.restart], [['INVALID_SESSION_TIMEOUT'], false]);
      await consumer.disconnect();
    }

    const platformatic = new Consumer({
      clientId: 'errp-session',
      groupId: 'errp-session-platformatic',
      bootstrapBrokers: [broker.bootstrap],
      sessionTimeout: 1_000,
      heartbeatInterval: 300,
      retries: 0,
    });
    try {
      await assert.rejects(platformatic.consume({ topics: [topic], mode: 'earliest' }), (err: unknown) => {
        assert.deepEqual(platformaticErrorIds(err), ['INVALID_SESSION_TIMEOUT']);
        return true;
      });
    } finally {
      await platformatic.close(true);
    }

    const kcatMember = await kcat(
      ['-G', 'errp-session-kcat', '-X', 'session.timeout.ms=1000', '-X', 'heartbeat.interval.ms=100', topic],
      '',
    );
    assert.equal(kcatMember.code, 1);
    assert.match(
      kcatMember.stderr,
      /% ERROR: Consumer error: JoinGroup failed: Broker: Invalid session timeout\n$/,
    );

    if (goSkipReason === undefined) {
      const { stdout } = await runProgramOk(
        saramaProgram,
        ['session', '-bootstrap', broker.bootstrap, '-topic', topic, '-group', 'errp-session-sarama'],
        { timeoutMs: programTimeoutMs },
      );
      assert.deepEqual(jsonLines(stdout), [
        { step: 'below-min', err: 26 },
        { step: 'above-max', err: 26 },
      ]);
    }
    // None of them became a member: the groups are empty.
    const described = await admin.describeGroups([
      'errp-session-kafkajs',
      'errp-session-platformatic',
      'errp-session-kcat',
    ]);
    assert.deepEqual(
      described.groups.map((g) => [g.groupId, g.members.length]),
      [
        ['errp-session-kafkajs', 0],
        ['errp-session-platformatic', 0],
        ['errp-session-kcat', 0],
      ],
    );
  });

  test('a member expelled from its group (UNKNOWN_MEMBER_ID on its next heartbeat) rejoins under a new member id and reads on: kafkajs and sarama', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'errp-expelled';
    await createTopic(topic);

    const groupId = 'errp-expelled-kafkajs';
    const consumer = kafka.consumer({ groupId, heartbeatInterval: 200, maxWaitTimeInMs: 100 });
    const memberIds: string[] = [];
    const crashes: string[] = [];
    const values: string[] = [];
    consumer.on(consumer.events.GROUP_JOIN, (event) => memberIds.push(event.payload.memberId));
    consumer.on(consumer.events.CRASH, (event) => crashes.push(event.payload.error.message));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
      await waitFor(
        () => memberIds.length === 1,
        10_000,
        () => `joins: ${memberIds.join(', ')}`,
      );
      await platformaticAdmin.removeMembersFromConsumerGroup({ groupId });
      await waitFor(
        () => memberIds.length === 2,
        10_000,
        () => `joins: ${memberIds.join(', ')}`,
      );
      assert.notEqual(memberIds[1], memberIds[0]);
      await producer.send({ topic, acks: -1, messages: [{ value: 'after-rejoin' }] });
      await waitFor(
        () => values.length === 1,
        10_000,
        () => `values: ${values.join(', ')}`,
      );
      assert.deepEqual([values, crashes], [['after-rejoin'], []]);
      const group = (await admin.describeGroups([groupId])).groups[0];
      assert.deepEqual([group?.state, group?.members.map((m) => m.memberId)], ['Stable', [memberIds[1]]]);
    } finally {
      await consumer.disconnect();
    }

    if (goSkipReason === undefined) {
      // Its own topic: the member reads from the oldest offset and stops at the first 'after-rejoin'.
      const saramaTopic = 'errp-expelled-sarama';
      await createTopic(saramaTopic);
      const { stdout } = await runProgramOk(
        saramaProgram,
        ['expelled', '-bootstrap', broker.bootstrap, '-topic', saramaTopic, '-group', 'errp-expelled-sarama'],
        { timeoutMs: programTimeoutMs },
      );
      const lines = jsonLines(stdout);
      const sessions = lines.filter((l) => l.step === 'session');
      assert.equal(sessions.length, 2, stdout);
      assert.notEqual(sessions[0]?.member, sessions[1]?.member);
      // Generation 1; the expelled member's leave empties the group (generation 2); the rejoin makes 3.
      assert.deepEqual(
        lines.map((l) => (l.step === 'session' ? { step: l.step, err: l.err, n: l.n, gen: l.gen } : l)),
        [
          { step: 'session', err: 0, n: 1, gen: 1 },
          { step: 'expel', err: 0 },
          { step: 'session', err: 0, n: 2, gen: 3 },
          { step: 'produce', err: 0 },
          { step: 'read', err: 0, session: 2, p: 0, o: 0 },
        ],
      );
    }
  });

  test('a topic deleted and recreated under its consumers: platformatic’s Fetch v17 gets UNKNOWN_TOPIC_ID; a kafkajs member reads the new topic from offset 0', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'errp-recreated';
    await createTopic(topic);
    await producer.send({
      topic,
      acks: -1,
      messages: ['old-0', 'old-1', 'old-2'].map((value) => ({ value })),
    });

    const platformatic = new Consumer({
      clientId: 'errp-recreated',
      groupId: 'errp-recreated-platformatic',
      bootstrapBrokers: [broker.bootstrap],
      maxWaitTime: 100,
      sessionTimeout: 6_000,
      heartbeatInterval: 300,
      retries: 1,
      retryDelay: 100,
      deserializers: stringDeserializers,
    });
    const stream = await platformatic.consume({ topics: [topic], mode: 'earliest' });
    const platformaticValues: string[] = [];
    const streamFailed = new Promise<unknown>((resolve) => stream.once('error', resolve));
    stream.on('data', (m) => platformaticValues.push(`${m.offset}:${String(m.value)}`));

    const consumer = kafka.consumer({ groupId: 'errp-recreated-kafkajs', maxWaitTimeInMs: 100 });
    const kafkajsValues: string[] = [];
    const crashes: string[] = [];
    consumer.on(consumer.events.CRASH, (event) => crashes.push(event.payload.error.message));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) =>
          void kafkajsValues.push(`${message.offset}:${String(message.value)}`),
      });
      const old = ['0:old-0', '1:old-1', '2:old-2'];
      await waitFor(
        () => platformaticValues.length === 3 && kafkajsValues.length === 3,
        10_000,
        () => `platformatic ${platformaticValues}, kafkajs ${kafkajsValues}`,
      );
      assert.deepEqual([platformaticValues, kafkajsValues], [old, old]);

      await admin.deleteTopics({ topics: [topic] });
      // The old topic id is gone: platformatic's fetches fail with UNKNOWN_TOPIC_ID until it gives up.
      assert.deepEqual(platformaticErrorIds(await streamFailed), ['UNKNOWN_TOPIC_ID']);

      await createTopic(topic);
      await producer.send({ topic, acks: -1, messages: ['new-0', 'new-1'].map((value) => ({ value })) });
      // kafkajs fetched at offset 3, past the new log end: OFFSET_OUT_OF_RANGE resets it to the earliest.
      await waitFor(
        () => kafkajsValues.length === 5,
        15_000,
        () => `kafkajs ${kafkajsValues}`,
      );
      assert.deepEqual([kafkajsValues.slice(3), crashes], [['0:new-0', '1:new-1'], []]);
    } finally {
      await consumer.disconnect();
      await stream.close().catch(() => {});
      await platformatic.close(true).catch(() => {});
    }
  });

  test('kafkajs admin refusals: replication factor 2, configs of a missing topic, a broker config, deleting a missing topic', {
    timeout: testTimeoutMs,
  }, async () => {
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'errp-rf2', replicationFactor: 2 }] }),
      hasKafkaErrorType('INVALID_REPLICATION_FACTOR'),
    );
    await assert.rejects(
      admin.describeConfigs({ resources: [{ type: 2, name: 'errp-nowhere' }], includeSynonyms: false }),
      hasKafkaErrorType('UNKNOWN_TOPIC_OR_PARTITION'),
    );
    // Broker configs are static here; Kafka refuses a read-only one with INVALID_REQUEST too.
    await assert.rejects(
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 4, name: '0', configEntries: [{ name: 'log.dirs', value: '/elsewhere' }] }],
      }),
      hasKafkaErrorType('INVALID_REQUEST'),
    );
    await assert.rejects(
      admin.deleteTopics({ topics: ['errp-nowhere'], timeout: 2_000 }),
      hasKafkaErrorType('UNKNOWN_TOPIC_OR_PARTITION'),
    );
    assert.deepEqual(
      (await admin.listTopics()).filter((t) => t === 'errp-rf2' || t === 'errp-nowhere'),
      [],
    );
  });

  test('a batch larger than the topic’s segment.bytes fails with RECORD_LIST_TOO_LARGE, as Kafka’s log refuses it', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'errp-segment';
    await createTopic(topic, { 'segment.bytes': '1024' });
    // Random bytes do not compress: the batch is over 3000 bytes, under max.message.bytes (1048588).
    const value = randomBytes(3_000);
    await assert.rejects(
      producer.send({ topic, acks: -1, messages: [{ value }] }),
      hasKafkaErrorType('RECORD_LIST_TOO_LARGE'),
    );
    const result = await kcat(['-P', '-t', topic], `${'x'.repeat(3_000)}\n`);
    assert.deepEqual(
      [result.code, result.stderr.trim()],
      [1, '% Delivery failed for message: Broker: Message batch larger than configured server segment size'],
    );
    assert.deepEqual(await logEndOffsets(topic), [[0, '0']]);
  });

  test('producing to __consumer_offsets or deleting its records is refused with INVALID_TOPIC_EXCEPTION, so the groups stored there survive a restart', {
    timeout: testTimeoutMs,
  }, async () => {
    const own = await startBroker({ args: ['--set', 'group.initial.rebalance.delay.ms=0'] });
    const ownKafka = createKafka(own.bootstrap, { retry: { retries: 1, initialRetryTime: 50 } });
    const ownAdmin = ownKafka.admin();
    const ownProducer = ownKafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await ownAdmin.connect();
      await ownProducer.connect();
      const topic = 'errp-internal';
      const groupId = 'errp-internal-g';
      await ownAdmin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      await ownAdmin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] });
      // kafkajs sets offsets through a consumer that joins the group and leaves it; the Empty group's record
      // can land after setOffsets returns. The partition's end is read once it has stopped moving.
      const ends = (offsets: { high: string }[]) => offsets.map((p) => p.high).join();
      let settled = await ownAdmin.fetchTopicOffsets('__consumer_offsets');
      await waitFor(
        async () => {
          const previous = ends(settled);
          await sleep(200);
          settled = await ownAdmin.fetchTopicOffsets('__consumer_offsets');
          return ends(settled) === previous;
        },
        10_000,
        () => `__consumer_offsets ends still moving: ${ends(settled)}`,
      );
      const holding = settled.find((p) => p.high !== '0');
      assert.ok(holding !== undefined, 'the commit is in some __consumer_offsets partition');
      const before = holding.high;

      await assert.rejects(
        ownProducer.send({
          topic: '__consumer_offsets',
          acks: -1,
          messages: [{ partition: holding.partition, key: Buffer.from([0, 9]), value: 'garbage' }],
        }),
        hasKafkaErrorType('INVALID_TOPIC_EXCEPTION'),
      );
      const result = await runProgram(
        'kcat',
        ['-b', own.bootstrap, '-P', '-t', '__consumer_offsets', '-p', String(holding.partition)],
        { timeoutMs: 15_000, input: 'garbage\n' },
      );
      assert.deepEqual(
        [result.code, result.stderr.trim()],
        [1, '% Delivery failed for message: Broker: Invalid topic'],
      );
      // Deleting its records is refused too, as Kafka does for internal topics.
      await assert.rejects(
        ownAdmin.deleteTopicRecords({
          topic: '__consumer_offsets',
          partitions: [{ partition: holding.partition, offset: '-1' }],
        }),
        (error: { cause?: { partitions?: { error?: { type?: string } }[] } }) => {
          assert.deepEqual(
            error.cause?.partitions?.map((p) => p.error?.type),
            ['INVALID_TOPIC_EXCEPTION'],
          );
          return true;
        },
      );
      const after = (await ownAdmin.fetchTopicOffsets('__consumer_offsets')).find(
        (p) => p.partition === holding.partition,
      );
      assert.deepEqual([after?.low, after?.high], ['0', before]);
    } finally {
      await ownProducer.disconnect();
      await ownAdmin.disconnect();
    }
    // The coordinator reloads the partition on start: it must find only its own records there.
    await own.restart();
    const restartedAdmin = createKafka(own.bootstrap, {
      retry: { retries: 2, initialRetryTime: 100 },
    }).admin();
    await restartedAdmin.connect();
    try {
      const offsets = await restartedAdmin.fetchOffsets({
        groupId: 'errp-internal-g',
        topics: ['errp-internal'],
      });
      assert.deepEqual(
        offsets.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.offset])]),
        [['errp-internal', [[0, '0']]]],
      );
    } finally {
      await restartedAdmin.disconnect();
      await own.dispose();
    }
  });
});
