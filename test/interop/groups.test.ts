// Consumer groups against a real Sluice process: kafkajs membership (partition split, hand-off on leave,
// session expiry of a killed member, committed offsets across a broker restart), librdkafka's balanced
// consumer (two kcat -G processes), the kafkajs admin group APIs, kafka-python's group consumer, and the
// per-version wire behaviour of every group API, spoken with the generated codecs.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { Admin, Consumer, GroupDescription, Kafka, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  ApiVersionsApi,
  ConsumerProtocolAssignmentCodec,
  DeleteGroupsApi,
  DescribeGroupsApi,
  FindCoordinatorApi,
  HeartbeatApi,
  JoinGroupApi,
  type JoinGroupRequest,
  LeaveGroupApi,
  ListGroupsApi,
  OffsetCommitApi,
  type OffsetCommitRequest,
  OffsetDeleteApi,
  OffsetFetchApi,
  type OffsetFetchRequest,
  SyncGroupApi,
  type SyncGroupRequest,
} from '../../src/protocol/generated/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { kafkaErrorTypes } from '../helpers/errors.js';
import { createKafka } from '../helpers/kafka.js';
import { killLinePrograms, runProgramOk, spawnLines } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { WireClient } from '../helpers/wire-client.js';

const { AssignerProtocol } = kafkajs;
const testTimeoutMs = 40_000;
const PYTHON = '/usr/bin/python3';
// Short enough to keep the expiry test fast; group.min.session.timeout.ms is lowered to allow it.
const doomedSessionTimeoutMs = 3_000;
const heartbeatIntervalMs = 300;
const brokerArgs = [
  '--set',
  'group.initial.rebalance.delay.ms=0',
  '--set',
  'group.min.session.timeout.ms=1000',
];
const kafkajsPath = createRequire(import.meta.url).resolve('kafkajs');

// ---------------------------------------------------------------------------------------------------
// Small helpers

const sorted = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

/** A kafkajs group member that records its latest assignment of one topic and everything it consumes. */
interface Member {
  consumer: Consumer;
  memberId: string;
  /** Sorted partitions of `topic` from the latest GROUP_JOIN; null before the first. */
  assignment: number[] | null;
  received: { partition: number; offset: number; value: string }[];
}

const liveConsumers = new Set<Consumer>();

async function startMember(
  kafka: Kafka,
  groupId: string,
  topic: string,
  onMessage?: (member: Member, partition: number, offset: number) => Promise<void>,
): Promise<Member> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: heartbeatIntervalMs,
    maxWaitTimeInMs: 100,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  const member: Member = { consumer, memberId: '', assignment: null, received: [] };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    member.memberId = payload.memberId;
    member.assignment = sorted(payload.memberAssignment[topic] ?? []);
  });
  liveConsumers.add(consumer);
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: onMessage === undefined,
    eachMessage: async ({ partition, message }) => {
      const offset = Number(message.offset);
      member.received.push({ partition, offset, value: message.value?.toString() ?? '' });
      await onMessage?.(member, partition, offset);
    },
  });
  return member;
}

async function stopMember(member: Member): Promise<void> {
  await member.consumer.disconnect();
  liveConsumers.delete(member.consumer);
}

/** A long-running child process whose stdout is collected line by line. */

async function produce(
  producer: Producer,
  topic: string,
  partitions: number,
  perPartition: number,
  tag: string,
) {
  const messages = [];
  for (let partition = 0; partition < partitions; partition++) {
    for (let i = 0; i < perPartition; i++) messages.push({ partition, value: `${tag}-${partition}-${i}` });
  }
  await producer.send({ topic, acks: -1, messages });
}

function decodeAssignment(bytes: Buffer): Map<string, number[]> {
  const r = new Reader(bytes);
  const version = r.readInt16();
  const assignment = ConsumerProtocolAssignmentCodec.decode(r, version);
  return new Map(assignment.assignedPartitions.map((tp) => [tp.topic, sorted(tp.partitions)]));
}

function joinRequest(
  groupId: string,
  memberId: string,
  overrides: Partial<JoinGroupRequest> = {},
): JoinGroupRequest {
  return {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'wire-test',
    protocols: [{ name: 'only', metadata: Buffer.from('subscription') }],
    reason: null,
    ...overrides,
  };
}

function commitRequest(
  groupId: string,
  entries: { topic: string; partition: number; offset: bigint; metadata?: string; leaderEpoch?: number }[],
  overrides: Partial<OffsetCommitRequest> = {},
): OffsetCommitRequest {
  const topics = [...new Set(entries.map((e) => e.topic))].map((name) => ({
    name,
    partitions: entries
      .filter((e) => e.topic === name)
      .map((e) => ({
        partitionIndex: e.partition,
        committedOffset: e.offset,
        committedLeaderEpoch: e.leaderEpoch ?? -1,
        commitTimestamp: -1n,
        committedMetadata: e.metadata ?? null,
      })),
  }));
  return {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics,
    ...overrides,
  };
}

function fetchRequest(groupId: string, topics: OffsetFetchRequest['topics']): OffsetFetchRequest {
  return { groupId, topics, groups: [], requireStable: false };
}

// ---------------------------------------------------------------------------------------------------

describe('consumer groups', { timeout: 240_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  before(async () => {
    broker = await startBroker({ args: brokerArgs });
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  after(async () => {
    killLinePrograms();
    await Promise.all([...liveConsumers].map((c) => c.disconnect().catch(() => {})));
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await disposeAllBrokers();
  });

  test('kafkajs members split partitions, hand them over on leave, and lose a killed member after its session', {
    timeout: 60_000,
  }, async () => {
    const topic = 'groups-split';
    const groupId = 'split-group';
    const all = [0, 1, 2, 3];
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });

    const a = await startMember(kafka, groupId, topic);
    await waitFor(
      () => a.assignment?.length === 4,
      15_000,
      () => `a alone: ${a.assignment}`,
    );
    const b = await startMember(kafka, groupId, topic);
    const split = () =>
      a.assignment !== null &&
      b.assignment !== null &&
      a.assignment.length === 2 &&
      b.assignment.length === 2 &&
      sorted([...a.assignment, ...b.assignment]).join() === all.join();
    await waitFor(split, 15_000, () => `a=${a.assignment} b=${b.assignment}`);

    // The coordinator's view matches what the members were told.
    const { groups } = await admin.describeGroups([groupId]);
    const described = groups[0]!;
    assert.equal(described.state, 'Stable');
    assert.equal(described.protocolType, 'consumer');
    assert.deepEqual(
      new Map(described.members.map((m) => [m.memberId, decodeAssignment(m.memberAssignment).get(topic)])),
      new Map([
        [a.memberId, a.assignment],
        [b.memberId, b.assignment],
      ]),
    );

    // Each message goes to the member owning its partition, exactly once.
    await produce(producer, topic, 4, 3, 'first');
    await waitFor(
      () => a.received.length + b.received.length >= 12,
      15_000,
      () => `received a=${a.received.length} b=${b.received.length}`,
    );
    await sleep(300);
    assert.deepEqual(sorted(new Set(a.received.map((m) => m.partition))), a.assignment);
    assert.deepEqual(sorted(new Set(b.received.map((m) => m.partition))), b.assignment);
    assert.deepEqual(
      [...a.received, ...b.received].map((m) => m.value).sort(),
      all.flatMap((p) => [0, 1, 2].map((i) => `first-${p}-${i}`)).sort(),
    );

    // b leaves: a gets everything and resumes after b's commits (no message of b's is delivered again).
    await stopMember(b);
    await waitFor(
      () => a.assignment?.length === 4,
      15_000,
      () => `a after b left: ${a.assignment}`,
    );
    const receivedBefore = a.received.length;
    await produce(producer, topic, 4, 2, 'second');
    await waitFor(
      () => a.received.length >= receivedBefore + 8,
      15_000,
      () => `a received ${a.received.length - receivedBefore} of 8 after the hand-off`,
    );
    await sleep(300);
    assert.deepEqual(
      a.received
        .slice(receivedBefore)
        .map((m) => m.value)
        .sort(),
      all.flatMap((p) => [0, 1].map((i) => `second-${p}-${i}`)).sort(),
    );

    // A member in another process joins, then dies without leaving: only its session timeout removes it.
    const doomed = spawnLines(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
        const { Kafka, logLevel } = (await import(process.env.KAFKAJS_URL)).default;
        const kafka = new Kafka({ clientId: 'doomed', brokers: [process.env.BOOTSTRAP], logLevel: logLevel.NOTHING });
        const consumer = kafka.consumer({ groupId: process.env.GROUP, sessionTimeout: ${doomedSessionTimeoutMs},
          rebalanceTimeout: 10000, heartbeatInterval: ${heartbeatIntervalMs}, maxWaitTimeInMs: 100 });
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
          console.log(JSON.stringify(payload.memberAssignment[process.env.TOPIC] ?? [])));
        await consumer.connect();
        await consumer.subscribe({ topics: [process.env.TOPIC] });
        await consumer.run({ eachMessage: async () => {} });
        `,
      ],
      {
        KAFKAJS_URL: pathToFileURL(kafkajsPath).href,
        BOOTSTRAP: broker.bootstrap,
        GROUP: groupId,
        TOPIC: topic,
      },
    );
    const doomedAssignment = () => {
      const last = doomed.lines.at(-1);
      return last === undefined ? null : sorted(JSON.parse(last) as number[]);
    };
    await waitFor(
      () => a.assignment?.length === 2 && doomedAssignment()?.length === 2,
      20_000,
      () => `a=${a.assignment} doomed=${doomedAssignment()} stderr=${doomed.stderr()}`,
    );
    assert.deepEqual(sorted([...a.assignment!, ...doomedAssignment()!]), all);

    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const killedAtMs = Date.now();
    await waitFor(
      () => a.assignment?.length === 4,
      doomedSessionTimeoutMs + 10_000,
      () => `a after the kill: ${a.assignment}`,
    );
    const movedAfterMs = Date.now() - killedAtMs;
    // Not before the session could have lapsed (its last heartbeat was at most one interval before the kill).
    assert.ok(
      movedAfterMs >= doomedSessionTimeoutMs - heartbeatIntervalMs - 200,
      `partitions moved ${movedAfterMs} ms after the kill, before the ${doomedSessionTimeoutMs} ms session ended`,
    );
    const after = (await admin.describeGroups([groupId])).groups[0]!;
    assert.equal(after.state, 'Stable');
    assert.deepEqual(
      after.members.map((m) => m.memberId),
      [a.memberId],
    );
    await stopMember(a);
  });

  test('two kcat -G processes consume a 4-partition topic together, each record once', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'groups-kcat';
    const groupId = 'kcat-balanced';
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const kcat = (clientId: string) =>
      spawnLines('kcat', [
        '-b',
        broker.bootstrap,
        '-G',
        groupId,
        '-q',
        '-u',
        '-X',
        `client.id=${clientId}`,
        '-X',
        'auto.offset.reset=earliest',
        '-X',
        'session.timeout.ms=6000',
        '-X',
        'heartbeat.interval.ms=500',
        '-f',
        '%p|%o|%s\\n',
        topic,
      ]);
    const readers = new Map([
      ['kcat-a', kcat('kcat-a')],
      ['kcat-b', kcat('kcat-b')],
    ]);

    // Records are produced only once both are members, so neither can read the other's share first.
    let description: GroupDescription | undefined;
    await waitFor(
      async () => {
        description = (await admin.describeGroups([groupId])).groups[0];
        return (
          description?.state === 'Stable' &&
          description.members.length === 2 &&
          description.members.every((m) => m.memberAssignment.length > 0)
        );
      },
      20_000,
      () =>
        `group: ${JSON.stringify(description)}; kcat stderr: ${[...readers.values()].map((r) => r.stderr()).join('\n')}`,
    );
    const assignments = new Map(
      description!.members.map((m) => [m.clientId, decodeAssignment(m.memberAssignment).get(topic) ?? []]),
    );
    assert.deepEqual(sorted([...assignments.values()].flat()), [0, 1, 2, 3]);
    assert.equal(description!.protocol, 'range');

    await produce(producer, topic, 4, 10, 'kc');
    const total = () => [...readers.values()].reduce((n, r) => n + r.lines.length, 0);
    await waitFor(
      () => total() >= 40,
      15_000,
      () => `kcat read ${total()} of 40`,
    );
    await sleep(500);
    for (const reader of readers.values()) reader.child.kill('SIGTERM');
    await Promise.all([...readers.values()].map((r) => r.exited));

    const expected: string[] = [];
    for (let p = 0; p < 4; p++) for (let i = 0; i < 10; i++) expected.push(`${p}|${i}|kc-${p}-${i}`);
    const all = [...readers.values()].flatMap((r) => r.lines);
    assert.deepEqual([...all].sort(), [...expected].sort());
    for (const [clientId, reader] of readers) {
      const partitions = sorted(new Set(reader.lines.map((line) => Number(line.split('|')[0]))));
      assert.deepEqual(partitions, assignments.get(clientId), `partitions read by ${clientId}`);
    }
    // Both left the group on SIGTERM.
    const { groups } = await admin.describeGroups([groupId]);
    assert.equal(groups[0]?.state, 'Empty');
  });

  test('kafkajs admin lists, describes, deletes groups, and reads, sets and resets their offsets', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'groups-admin';
    const groupId = 'admin-group';
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    await produce(producer, topic, 3, 5, 'adm');
    const member = await startMember(kafka, groupId, topic, async (m, partition, offset) => {
      // Commit part of what was read: all of partition 0, three records of partition 1, none of 2.
      if ((partition === 0 && offset === 4) || (partition === 1 && offset === 2)) {
        await m.consumer.commitOffsets([{ topic, partition, offset: String(offset + 1) }]);
      }
    });
    await waitFor(
      () => member.received.length >= 15,
      15_000,
      () => `received ${member.received.length} of 15`,
    );

    const { groups: listed } = await admin.listGroups();
    assert.deepEqual(
      listed.filter((g) => g.groupId === groupId),
      [{ groupId, protocolType: 'consumer' }],
    );

    const described = (await admin.describeGroups([groupId])).groups[0]!;
    assert.equal(described.groupId, groupId);
    assert.equal(described.state, 'Stable');
    assert.equal(described.protocolType, 'consumer');
    assert.equal(described.protocol, 'RoundRobinAssigner');
    assert.equal(described.members.length, 1);
    const [only] = described.members;
    assert.equal(only!.memberId, member.memberId);
    assert.equal(only!.clientId, 'sluice-test');
    assert.equal(only!.clientHost, '/127.0.0.1');
    assert.deepEqual(AssignerProtocol.MemberAssignment.decode(only!.memberAssignment)?.assignment, {
      [topic]: [0, 1, 2],
    });
    assert.deepEqual(AssignerProtocol.MemberMetadata.decode(only!.memberMetadata)?.topics, [topic]);

    // A group with members cannot be deleted.
    await assert.rejects(admin.deleteGroups([groupId]), (err: unknown) => {
      const failed = (err as { groups?: { groupId: string; errorCode: number; error: unknown }[] }).groups;
      assert.deepEqual(
        failed?.map((g) => [g.groupId, g.errorCode, kafkaErrorTypes(g.error)]),
        [[groupId, ErrorCode.NON_EMPTY_GROUP, ['NON_EMPTY_GROUP']]],
      );
      return true;
    });

    const committed = async () =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))
        .flatMap((t) => t.partitions.map((p) => [p.partition, p.offset] as const))
        .sort((x, y) => x[0] - y[0]);
    assert.deepEqual(await committed(), [
      [0, '5'],
      [1, '3'],
      [2, '-1'],
    ]);
    // Lag = high watermark - committed offset (- low watermark where nothing is committed).
    const watermarks = await admin.fetchTopicOffsets(topic);
    const lag = (await committed()).map(([partition, offset]) => {
      const w = watermarks.find((x) => x.partition === partition)!;
      return Number(w.high) - (offset === '-1' ? Number(w.low) : Number(offset));
    });
    assert.deepEqual(lag, [0, 2, 5]);

    await stopMember(member);
    const empty = (await admin.describeGroups([groupId])).groups[0]!;
    assert.equal(empty.state, 'Empty');
    assert.deepEqual(empty.members, []);

    await admin.setOffsets({
      groupId,
      topic,
      partitions: [
        { partition: 0, offset: '1' },
        { partition: 1, offset: '4' },
        { partition: 2, offset: '2' },
      ],
    });
    assert.deepEqual(await committed(), [
      [0, '1'],
      [1, '4'],
      [2, '2'],
    ]);
    // kafkajs commits the "earliest" sentinel (-2) itself, which Kafka stores as given.
    await admin.resetOffsets({ groupId, topic, earliest: true });
    assert.deepEqual(await committed(), [
      [0, '-2'],
      [1, '-2'],
      [2, '-2'],
    ]);
    const resolved = await admin.fetchOffsets({ groupId, topics: [topic], resolveOffsets: true });
    assert.deepEqual(resolved[0]?.partitions.map((p) => [p.partition, p.offset]).sort(), [
      [0, '0'],
      [1, '0'],
      [2, '0'],
    ]);

    assert.deepEqual(await admin.deleteGroups([groupId]), [{ groupId, errorCode: 0 }]);
    assert.deepEqual(await committed(), [
      [0, '-1'],
      [1, '-1'],
      [2, '-1'],
    ]);
    assert.equal((await admin.describeGroups([groupId])).groups[0]?.state, 'Dead');
    assert.deepEqual(
      (await admin.listGroups()).groups.filter((g) => g.groupId === groupId),
      [],
    );
  });

  test('kafka-python joins a group, commits, and a later member resumes after the commit', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'groups-python';
    const groupId = 'python-group';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await produce(producer, topic, 2, 3, 'py');
    const script = `
import json, sys
from kafka import KafkaConsumer
bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, client_id='kafka-python-member',
                         auto_offset_reset='earliest', enable_auto_commit=False, consumer_timeout_ms=15000,
                         request_timeout_ms=15000, session_timeout_ms=10000, heartbeat_interval_ms=1000)
got = []
for m in consumer:
    got.append([m.partition, m.offset, m.value.decode()])
    if len(got) == count:
        break
consumer.commit()
committed = sorted([tp.partition, consumer.committed(tp)] for tp in consumer.assignment())
consumer.close()
print(json.dumps({'got': sorted(got), 'committed': committed}))
`;
    const run = async (count: number) => {
      const { stdout } = await runProgramOk(
        PYTHON,
        ['-c', script, broker.bootstrap, topic, groupId, String(count)],
        {
          timeoutMs: 30_000,
        },
      );
      return JSON.parse(stdout) as { got: [number, number, string][]; committed: [number, number][] };
    };

    const first = await run(6);
    assert.deepEqual(first, {
      got: [0, 1].flatMap((p) => [0, 1, 2].map((i) => [p, i, `py-${p}-${i}`])),
      committed: [
        [0, 3],
        [1, 3],
      ],
    });
    const fromKafkajs = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.deepEqual(fromKafkajs[0]?.partitions.map((p) => [p.partition, p.offset]).sort(), [
      [0, '3'],
      [1, '3'],
    ]);

    await produce(producer, topic, 2, 1, 'py-more');
    const second = await run(2);
    assert.deepEqual(second, {
      got: [
        [0, 3, 'py-more-0-0'],
        [1, 3, 'py-more-1-0'],
      ],
      committed: [
        [0, 4],
        [1, 4],
      ],
    });
    assert.equal((await admin.describeGroups([groupId])).groups[0]?.state, 'Empty');
  });

  test('every group API answers per version as Kafka does', { timeout: testTimeoutMs }, async () => {
    const topic = 'groups-wire';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const wire = await WireClient.connect(broker.port);
    try {
      const found = await wire.call(FindCoordinatorApi, 0, {
        key: 'wire-group',
        keyType: 0,
        coordinatorKeys: [],
      });
      assert.equal(found.errorCode, ErrorCode.NONE);

      // Advertised ranges: OffsetCommit and OffsetFetch v0 were ZooKeeper-only and are not served.
      const versions = await wire.call(ApiVersionsApi, 0, {
        clientSoftwareName: '',
        clientSoftwareVersion: '',
      });
      const ranges = new Map(versions.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
      assert.deepEqual(
        [8, 9, 11, 12, 13, 14, 15, 16, 42, 47].map((key) => [key, ranges.get(key)]),
        [
          [8, [1, 9]],
          [9, [1, 9]],
          [11, [0, 9]],
          [12, [0, 4]],
          [13, [0, 5]],
          [14, [0, 5]],
          [15, [0, 5]],
          [16, [0, 5]],
          [42, [0, 2]],
          [47, [0, 0]],
        ],
      );
      const v0Commit = await wire.call(
        OffsetCommitApi,
        0,
        commitRequest('wire-simple', [{ topic, partition: 0, offset: 1n }]),
      );
      assert.deepEqual(v0Commit.topics, [
        { name: topic, partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNSUPPORTED_VERSION }] },
      ]);
      const v0Fetch = await wire.call(
        OffsetFetchApi,
        0,
        fetchRequest('wire-simple', [{ name: topic, partitionIndexes: [0] }]),
      );
      assert.deepEqual(v0Fetch.topics[0]?.partitions[0]?.errorCode, ErrorCode.UNSUPPORTED_VERSION);

      // Simple (memberless) commits: unknown partitions and topics fail alone; metadata and epochs are kept.
      const simple = await wire.call(
        OffsetCommitApi,
        6,
        commitRequest('wire-simple', [
          { topic, partition: 0, offset: 7n, metadata: 'meta', leaderEpoch: 3 },
          { topic, partition: 9, offset: 1n },
          { topic: 'no-such-topic', partition: 0, offset: 1n },
        ]),
      );
      assert.deepEqual(simple.topics, [
        {
          name: topic,
          partitions: [
            { partitionIndex: 0, errorCode: ErrorCode.NONE },
            { partitionIndex: 9, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
          ],
        },
        {
          name: 'no-such-topic',
          partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
        },
      ]);
      // v2-v4 carry a retention time, v1 a commit timestamp; both are accepted.
      const retained = await wire.call(
        OffsetCommitApi,
        2,
        commitRequest('wire-simple', [{ topic, partition: 1, offset: 4n }], { retentionTimeMs: 60_000n }),
      );
      assert.equal(retained.topics[0]?.partitions[0]?.errorCode, ErrorCode.NONE);

      const v1Fetch = await wire.call(
        OffsetFetchApi,
        1,
        fetchRequest('wire-simple', [{ name: topic, partitionIndexes: [0, 1] }]),
      );
      assert.deepEqual(v1Fetch.topics, [
        {
          name: topic,
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 7n,
              committedLeaderEpoch: -1,
              metadata: 'meta',
              errorCode: 0,
            },
            { partitionIndex: 1, committedOffset: 4n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
      ]);
      const v5Fetch = await wire.call(OffsetFetchApi, 5, fetchRequest('wire-simple', null));
      assert.equal(v5Fetch.errorCode, ErrorCode.NONE);
      assert.deepEqual(
        v5Fetch.topics.flatMap((t) =>
          t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset, p.committedLeaderEpoch]),
        ),
        [
          [topic, 0, 7n, 3],
          [topic, 1, 4n, -1],
        ],
      );
      const v8Fetch = await wire.call(OffsetFetchApi, 8, {
        groupId: '',
        topics: [],
        groups: [
          {
            groupId: 'wire-simple',
            memberId: null,
            memberEpoch: -1,
            topics: [{ name: topic, partitionIndexes: [1] }],
          },
          { groupId: 'wire-nobody', memberId: null, memberEpoch: -1, topics: null },
        ],
        requireStable: true,
      });
      assert.deepEqual(v8Fetch.groups, [
        {
          groupId: 'wire-simple',
          errorCode: 0,
          topics: [
            {
              name: topic,
              partitions: [
                {
                  partitionIndex: 1,
                  committedOffset: 4n,
                  committedLeaderEpoch: -1,
                  metadata: '',
                  errorCode: 0,
                },
              ],
            },
          ],
        },
        { groupId: 'wire-nobody', errorCode: 0, topics: [] },
      ]);

      // Membership APIs need a group id; JoinGroup v0-v6 send '' for no protocol name, v7+ null.
      const noId = await wire.call(JoinGroupApi, 5, joinRequest('', ''));
      assert.deepEqual(
        [noId.errorCode, noId.generationId, noId.protocolName, noId.memberId],
        [ErrorCode.INVALID_GROUP_ID, -1, '', ''],
      );
      const noIdV7 = await wire.call(JoinGroupApi, 7, joinRequest('', ''));
      assert.deepEqual([noIdV7.errorCode, noIdV7.protocolName], [ErrorCode.INVALID_GROUP_ID, null]);

      // v4+: a new member first gets its id (KIP-394), then joins with it.
      const groupId = 'wire-group';
      const required = await wire.call(JoinGroupApi, 9, joinRequest(groupId, '', { reason: 'wire test' }));
      assert.equal(required.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
      assert.match(required.memberId, /^wire-test-/);
      const joined = await wire.call(JoinGroupApi, 9, joinRequest(groupId, required.memberId));
      assert.deepEqual(
        { ...joined, members: joined.members.map((m) => ({ ...m, metadata: m.metadata.toString() })) },
        {
          throttleTimeMs: 0,
          errorCode: ErrorCode.NONE,
          generationId: 1,
          protocolType: 'wire-test',
          protocolName: 'only',
          leader: required.memberId,
          skipAssignment: false,
          memberId: required.memberId,
          members: [{ memberId: required.memberId, groupInstanceId: null, metadata: 'subscription' }],
        },
      );
      const memberId = required.memberId;
      const sync = (version: number, overrides: Partial<SyncGroupRequest> = {}) =>
        wire.call(SyncGroupApi, version, {
          groupId,
          generationId: 1,
          memberId,
          groupInstanceId: null,
          protocolType: 'wire-test',
          protocolName: 'only',
          assignments: [{ memberId, assignment: Buffer.from('assigned') }],
          ...overrides,
        });
      // KIP-559: v5 must name the protocol.
      assert.equal((await sync(5, { protocolType: null })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      assert.equal(
        (await sync(5, { protocolName: 'other' })).errorCode,
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
      );
      const synced = await sync(5);
      assert.deepEqual(
        [synced.errorCode, synced.protocolType, synced.protocolName, synced.assignment.toString()],
        [ErrorCode.NONE, 'wire-test', 'only', 'assigned'],
      );
      const again = await sync(0, { protocolType: null, protocolName: null });
      assert.deepEqual([again.errorCode, again.assignment.toString()], [ErrorCode.NONE, 'assigned']);

      const beat = (version: number, generationId: number) =>
        wire.call(HeartbeatApi, version, { groupId, generationId, memberId, groupInstanceId: null });
      assert.equal((await beat(4, 1)).errorCode, ErrorCode.NONE);
      assert.equal((await beat(0, 2)).errorCode, ErrorCode.ILLEGAL_GENERATION);

      // Member commits are checked against the generation; v9 tells a missing group from a stale one.
      const memberCommit = await wire.call(
        OffsetCommitApi,
        8,
        commitRequest(groupId, [{ topic, partition: 0, offset: 2n }], {
          generationIdOrMemberEpoch: 1,
          memberId,
        }),
      );
      assert.equal(memberCommit.topics[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
      const staleCommit = await wire.call(
        OffsetCommitApi,
        8,
        commitRequest(groupId, [{ topic, partition: 0, offset: 2n }], {
          generationIdOrMemberEpoch: 5,
          memberId,
        }),
      );
      assert.equal(staleCommit.topics[0]?.partitions[0]?.errorCode, ErrorCode.ILLEGAL_GENERATION);
      for (const [version, expected] of [
        [8, ErrorCode.ILLEGAL_GENERATION],
        [9, ErrorCode.GROUP_ID_NOT_FOUND],
      ] as const) {
        const missing = await wire.call(
          OffsetCommitApi,
          version,
          commitRequest('wire-missing', [{ topic, partition: 0, offset: 2n }], {
            generationIdOrMemberEpoch: 1,
            memberId: 'ghost',
          }),
        );
        assert.equal(missing.topics[0]?.partitions[0]?.errorCode, expected, `OffsetCommit v${version}`);
      }

      // DescribeGroups: authorized operations only when asked (v3+): READ, DELETE and DESCRIBE.
      const describedV5 = await wire.call(DescribeGroupsApi, 5, {
        groups: [groupId, 'wire-nobody'],
        includeAuthorizedOperations: true,
      });
      assert.deepEqual(
        describedV5.groups.map((g) => ({
          ...g,
          members: g.members.map((m) => ({
            ...m,
            memberMetadata: m.memberMetadata.toString(),
            memberAssignment: m.memberAssignment.toString(),
          })),
        })),
        [
          {
            errorCode: 0,
            groupId,
            groupState: 'Stable',
            protocolType: 'wire-test',
            protocolData: 'only',
            members: [
              {
                memberId,
                groupInstanceId: null,
                clientId: 'wire-test',
                clientHost: '/127.0.0.1',
                memberMetadata: 'subscription',
                memberAssignment: 'assigned',
              },
            ],
            authorizedOperations: (1 << 3) | (1 << 6) | (1 << 8),
          },
          {
            errorCode: 0,
            groupId: 'wire-nobody',
            groupState: 'Dead',
            protocolType: '',
            protocolData: '',
            members: [],
            authorizedOperations: (1 << 3) | (1 << 6) | (1 << 8),
          },
        ],
      );
      const describedV3 = await wire.call(DescribeGroupsApi, 3, {
        groups: [groupId],
        includeAuthorizedOperations: false,
      });
      assert.equal(describedV3.groups[0]?.authorizedOperations, -2147483648);

      // ListGroups: states filter (v4+, any case) and types filter (v5+).
      const listed = async (version: number, statesFilter: string[], typesFilter: string[]) =>
        (await wire.call(ListGroupsApi, version, { statesFilter, typesFilter })).groups
          .filter((g) => g.groupId.startsWith('wire-'))
          .map((g) => [g.groupId, g.protocolType, g.groupState, g.groupType]);
      assert.deepEqual(await listed(5, ['stable'], ['classic']), [
        [groupId, 'wire-test', 'Stable', 'classic'],
      ]);
      assert.deepEqual(await listed(5, [], ['consumer']), []);
      assert.deepEqual(await listed(4, ['Empty'], []), [['wire-simple', '', 'Empty', '']]);
      assert.deepEqual((await listed(0, [], [])).sort(), [
        [groupId, 'wire-test', '', ''],
        ['wire-simple', '', '', ''],
      ]);

      // A group with members keeps its offsets and cannot be deleted.
      const offsetDeleteBusy = await wire.call(OffsetDeleteApi, 0, {
        groupId,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0 }] }],
      });
      assert.deepEqual(offsetDeleteBusy, {
        errorCode: ErrorCode.NON_EMPTY_GROUP,
        throttleTimeMs: 0,
        topics: [],
      });
      const deleteBusy = await wire.call(DeleteGroupsApi, 2, { groupsNames: [groupId] });
      assert.deepEqual(deleteBusy.results, [{ groupId, errorCode: ErrorCode.NON_EMPTY_GROUP }]);

      // LeaveGroup v0-v2 answer one error (the member's); v3+ one per member.
      const leaveUnknown = await wire.call(LeaveGroupApi, 0, { groupId, memberId: 'ghost', members: [] });
      assert.equal(leaveUnknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
      const leaveNoId = await wire.call(LeaveGroupApi, 5, { groupId: '', memberId: '', members: [] });
      assert.deepEqual(leaveNoId, { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID, members: [] });
      const left = await wire.call(LeaveGroupApi, 5, {
        groupId,
        memberId: '',
        members: [
          { memberId, groupInstanceId: null, reason: 'done' },
          { memberId: 'ghost', groupInstanceId: null, reason: null },
        ],
      });
      assert.deepEqual(left, {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        members: [
          { memberId, groupInstanceId: null, errorCode: ErrorCode.NONE },
          { memberId: 'ghost', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
        ],
      });

      // Once Empty: offsets can be deleted (unknown partitions fail alone), then the group itself.
      const offsetDeleted = await wire.call(OffsetDeleteApi, 0, {
        groupId,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0 }, { partitionIndex: 7 }] }],
      });
      assert.deepEqual(offsetDeleted, {
        errorCode: ErrorCode.NONE,
        throttleTimeMs: 0,
        topics: [
          {
            name: topic,
            partitions: [
              { partitionIndex: 0, errorCode: ErrorCode.NONE },
              { partitionIndex: 7, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
            ],
          },
        ],
      });
      const afterDelete = await wire.call(
        OffsetFetchApi,
        3,
        fetchRequest(groupId, [{ name: topic, partitionIndexes: [0] }]),
      );
      assert.equal(afterDelete.topics[0]?.partitions[0]?.committedOffset, -1n);
      const offsetDeleteNoId = await wire.call(OffsetDeleteApi, 0, { groupId: '', topics: [] });
      assert.equal(offsetDeleteNoId.errorCode, ErrorCode.INVALID_GROUP_ID);
      const deleted = await wire.call(DeleteGroupsApi, 0, {
        groupsNames: [groupId, 'wire-simple', 'wire-nobody'],
      });
      // Deleting its last offset already removed the Empty group, as Kafka does.
      assert.deepEqual(deleted.results, [
        { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
        { groupId: 'wire-simple', errorCode: ErrorCode.NONE },
        { groupId: 'wire-nobody', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
      ]);

      // Static membership (KIP-345): a restarted instance takes its old place under a new member id, without
      // a rebalance; the old id is fenced everywhere; a v9 leader is told to skip the assignment.
      const staticGroup = 'wire-static';
      const staticJoin = (version: number) =>
        wire.call(JoinGroupApi, version, joinRequest(staticGroup, '', { groupInstanceId: 'instance-1' }));
      const firstLife = await staticJoin(5);
      assert.deepEqual(
        [
          firstLife.errorCode,
          firstLife.generationId,
          firstLife.leader,
          firstLife.members[0]?.groupInstanceId,
        ],
        [ErrorCode.NONE, 1, firstLife.memberId, 'instance-1'],
      );
      assert.match(firstLife.memberId, /^instance-1-/);
      const staticSync = (version: number, id: string) =>
        wire.call(SyncGroupApi, version, {
          groupId: staticGroup,
          generationId: 1,
          memberId: id,
          groupInstanceId: 'instance-1',
          protocolType: 'wire-test',
          protocolName: 'only',
          assignments: [{ memberId: id, assignment: Buffer.from('mine') }],
        });
      assert.equal((await staticSync(3, firstLife.memberId)).errorCode, ErrorCode.NONE);
      const secondLife = await staticJoin(9);
      assert.notEqual(secondLife.memberId, firstLife.memberId);
      assert.deepEqual(
        [secondLife.errorCode, secondLife.generationId, secondLife.leader, secondLife.skipAssignment],
        [ErrorCode.NONE, 1, secondLife.memberId, true],
      );
      const staticBeat = (id: string) =>
        wire.call(HeartbeatApi, 3, {
          groupId: staticGroup,
          generationId: 1,
          memberId: id,
          groupInstanceId: 'instance-1',
        });
      assert.equal((await staticBeat(firstLife.memberId)).errorCode, ErrorCode.FENCED_INSTANCE_ID);
      assert.equal((await staticBeat(secondLife.memberId)).errorCode, ErrorCode.NONE);
      const staticCommit = (id: string) =>
        wire.call(
          OffsetCommitApi,
          7,
          commitRequest(staticGroup, [{ topic, partition: 1, offset: 3n }], {
            generationIdOrMemberEpoch: 1,
            memberId: id,
            groupInstanceId: 'instance-1',
          }),
        );
      assert.equal(
        (await staticCommit(firstLife.memberId)).topics[0]?.partitions[0]?.errorCode,
        ErrorCode.FENCED_INSTANCE_ID,
      );
      assert.equal(
        (await staticCommit(secondLife.memberId)).topics[0]?.partitions[0]?.errorCode,
        ErrorCode.NONE,
      );
      const kept = await staticSync(4, secondLife.memberId);
      assert.deepEqual([kept.errorCode, kept.assignment.toString()], [ErrorCode.NONE, 'mine']);
      // LeaveGroup v3+ can remove a static member by its instance id alone.
      const removed = await wire.call(LeaveGroupApi, 3, {
        groupId: staticGroup,
        memberId: '',
        members: [{ memberId: '', groupInstanceId: 'instance-1', reason: null }],
      });
      assert.deepEqual(removed.members, [
        { memberId: '', groupInstanceId: 'instance-1', errorCode: ErrorCode.NONE },
      ]);
      assert.equal(
        (await wire.call(DescribeGroupsApi, 4, { groups: [staticGroup], includeAuthorizedOperations: false }))
          .groups[0]?.groupState,
        'Empty',
      );

      // JoinGroup v0 has neither a rebalance timeout nor the member-id round trip.
      const v0Join = await wire.call(JoinGroupApi, 0, joinRequest('wire-v0', '', { rebalanceTimeoutMs: -1 }));
      assert.equal(v0Join.errorCode, ErrorCode.NONE);
      assert.equal(v0Join.generationId, 1);
      assert.equal(v0Join.leader, v0Join.memberId);
      const v0Leave = await wire.call(LeaveGroupApi, 1, {
        groupId: 'wire-v0',
        memberId: v0Join.memberId,
        members: [],
      });
      assert.equal(v0Leave.errorCode, ErrorCode.NONE);
    } finally {
      wire.close();
    }
  });

  // Last: it restarts the broker.
  test('committed offsets survive a broker restart and a new member resumes right after them', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'groups-restart';
    const groupId = 'restart-group';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await produce(producer, topic, 2, 10, 'r');
    // Commits after offset 4 only: 5..9 stay the uncommitted window a successor must read again.
    const first = await startMember(kafka, groupId, topic, async (m, partition, offset) => {
      if (offset === 4) await m.consumer.commitOffsets([{ topic, partition, offset: '5' }]);
    });
    await waitFor(
      () => first.received.length >= 20,
      15_000,
      () => `received ${first.received.length} of 20`,
    );
    await stopMember(first);

    await producer.disconnect();
    await admin.disconnect();
    await broker.restart();
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.deepEqual(offsets[0]?.partitions.map((p) => [p.partition, p.offset]).sort(), [
      [0, '5'],
      [1, '5'],
    ]);
    const successor = await startMember(kafka, groupId, topic, async () => {});
    await waitFor(
      () => successor.received.length >= 10,
      20_000,
      () => `successor received ${successor.received.length} of 10`,
    );
    await sleep(500);
    assert.deepEqual(
      successor.received
        .map((m) => [m.partition, m.offset, m.value])
        .sort((x, y) => (x[0] as number) - (y[0] as number) || (x[1] as number) - (y[1] as number)),
      [0, 1].flatMap((p) => [5, 6, 7, 8, 9].map((i) => [p, i, `r-${p}-${i}`])),
    );
    await stopMember(successor);
  });
});
