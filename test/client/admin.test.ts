// Admin against a real Sluice broker process: topics, partitions, configs, cluster, groups, offsets and lag,
// transactions and the producers partitions keep state for,
// plus bad input that must come back as typed errors with Kafka's codes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Consumer as KafkajsConsumer } from 'kafkajs';
import {
  Admin,
  ConfigError,
  GroupError,
  KafkaAggregateError,
  type KafkaClientError,
  OffsetOutOfRangeError,
  type PartitionProducers,
  Producer,
  RebalanceError,
  StaleMetadataError,
  TopicError,
  TransactionError,
  type TransactionListing,
} from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';

let broker: Broker;
let admin: Admin;
let nodeId: number;

function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Asserts a KafkaAggregateError whose item errors have exactly these classes, codes and topics/groups. */
function assertItemErrors(
  error: unknown,
  expected: { family: new (...args: never[]) => KafkaClientError; code: number; item: string }[],
): true {
  assert.ok(error instanceof KafkaAggregateError, `expected KafkaAggregateError, got ${String(error)}`);
  assert.equal(error.errors.length, expected.length, error.message);
  for (const [index, want] of expected.entries()) {
    const got: KafkaClientError = error.errors[index]!;
    assert.ok(
      got instanceof want.family,
      `${got.constructor.name} is not ${want.family.name}: ${got.message}`,
    );
    assert.equal(got.code, want.code);
    assert.equal(got.topic ?? got.groupId, want.item);
  }
  return true;
}

async function produce(topic: string, perPartition: number[], bootstrap = broker.bootstrap): Promise<void> {
  const producer = createKafka(bootstrap).producer();
  await producer.connect();
  try {
    for (const [partition, count] of perPartition.entries()) {
      const messages = Array.from({ length: count }, (_, i) => ({ value: `m${i}`, partition }));
      if (messages.length > 0) await producer.send({ topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

before(async () => {
  broker = await startBroker();
  admin = new Admin({
    bootstrap: broker.bootstrap,
    requestTimeoutMs: 10_000,
    retry: { retries: 5, initialBackoffMs: 50, maxBackoffMs: 500 },
  });
  await admin.connect();
  nodeId = (await admin.describeCluster()).brokers[0]!.nodeId;
});

after(async () => {
  await admin?.close();
  await disposeAllBrokers();
});

describe('Admin: cluster and topics', () => {
  test('describeCluster reports the broker, the controller and a cluster id', async () => {
    const cluster = await admin.describeCluster();
    assert.equal(cluster.brokers.length, 1);
    assert.deepEqual(
      { host: cluster.brokers[0]!.host, port: cluster.brokers[0]!.port },
      { host: '127.0.0.1', port: broker.port },
    );
    assert.equal(cluster.controllerId, nodeId);
    assert.equal(typeof cluster.clusterId, 'string');
    assert.ok((cluster.clusterId ?? '').length > 0);
  });

  test('createTopics, listTopics, describeTopics, deleteTopics', async () => {
    const [a, b] = [unique('admin-a'), unique('admin-b')];
    const created = await admin.createTopics([
      { topic: a, numPartitions: 3, replicationFactor: 1 },
      { topic: b, numPartitions: 1, configs: { 'cleanup.policy': 'compact' } },
    ]);
    assert.deepEqual(
      created.map((t) => [t.topic, t.numPartitions, t.replicationFactor]),
      [
        [a, 3, 1],
        [b, 1, 1],
      ],
    );
    assert.equal(created[0]!.topicId.length, 22);
    assert.notEqual(created[0]!.topicId, 'AAAAAAAAAAAAAAAAAAAAAA');

    const names = await admin.listTopics();
    assert.ok(names.includes(a) && names.includes(b));
    assert.deepEqual(names, [...names].sort());

    const [described] = await admin.describeTopics([a]);
    assert.equal(described!.name, a);
    assert.equal(described!.topicId, created[0]!.topicId);
    assert.equal(described!.isInternal, false);
    assert.deepEqual(
      described!.partitions.map((p) => ({
        partition: p.partition,
        leader: p.leader,
        replicas: p.replicas,
        isr: p.isr,
      })),
      [0, 1, 2].map((partition) => ({ partition, leader: nodeId, replicas: [nodeId], isr: [nodeId] })),
    );

    await admin.deleteTopics([a, b]);
    const after = await admin.listTopics();
    assert.equal(after.includes(a) || after.includes(b), false);
  });

  test('validateOnly checks without creating', async () => {
    const name = unique('admin-validate');
    const [result] = await admin.createTopics([{ topic: name, numPartitions: 2 }], { validateOnly: true });
    assert.equal(result!.topic, name);
    assert.equal((await admin.listTopics()).includes(name), false);
  });

  test('internal topics are listed only when asked', async () => {
    // FindCoordinator creates __consumer_offsets on first use.
    await admin.listGroupOffsets(unique('admin-internal'));
    assert.equal((await admin.listTopics()).includes('__consumer_offsets'), false);
    assert.equal((await admin.listTopics({ includeInternal: true })).includes('__consumer_offsets'), true);
  });

  test('bad input comes back as typed per-topic errors; good topics in the same call are created', async () => {
    const existing = unique('admin-existing');
    await admin.createTopics([{ topic: existing, numPartitions: 1 }]);
    const fresh = unique('admin-fresh');
    await assert.rejects(
      admin.createTopics([
        { topic: existing, numPartitions: 1 },
        { topic: 'bad name!', numPartitions: 1 },
        { topic: fresh, numPartitions: 1 },
      ]),
      (error) =>
        assertItemErrors(error, [
          { family: TopicError, code: ErrorCode.TOPIC_ALREADY_EXISTS, item: existing },
          { family: TopicError, code: ErrorCode.INVALID_TOPIC_EXCEPTION, item: 'bad name!' },
        ]),
    );
    assert.equal((await admin.listTopics()).includes(fresh), true);

    await assert.rejects(admin.createTopics([{ topic: unique('admin-zero'), numPartitions: 0 }]), (error) => {
      assert.ok(error instanceof KafkaAggregateError);
      assert.ok(error.errors[0] instanceof TopicError);
      assert.equal(error.errors[0].code, ErrorCode.INVALID_PARTITIONS);
      return true;
    });
    await assert.rejects(
      admin.createTopics([{ topic: unique('admin-rf'), numPartitions: 1, replicationFactor: 3 }]),
      (error) => {
        assert.ok(error instanceof KafkaAggregateError);
        assert.ok(error.errors[0] instanceof TopicError);
        assert.equal(error.errors[0].code, ErrorCode.INVALID_REPLICATION_FACTOR);
        return true;
      },
    );
  });

  test('unknown topics: describeTopics and deleteTopics report UNKNOWN_TOPIC_OR_PARTITION per topic', async () => {
    const missing = unique('admin-missing');
    const started = Date.now();
    await assert.rejects(admin.describeTopics([missing]), (error) =>
      assertItemErrors(error, [
        { family: StaleMetadataError, code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, item: missing },
      ]),
    );
    await assert.rejects(admin.deleteTopics([missing]), (error) =>
      assertItemErrors(error, [
        { family: StaleMetadataError, code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, item: missing },
      ]),
    );
    assert.ok(Date.now() - started < 2_000, 'per-topic errors are not retried');
  });

  test('createPartitions raises the count; lowering it is INVALID_PARTITIONS', async () => {
    const name = unique('admin-partitions');
    await admin.createTopics([{ topic: name, numPartitions: 2 }]);
    await admin.createPartitions([{ topic: name, count: 5 }]);
    const [described] = await admin.describeTopics([name]);
    assert.deepEqual(
      described!.partitions.map((p) => p.partition),
      [0, 1, 2, 3, 4],
    );
    await assert.rejects(admin.createPartitions([{ topic: name, count: 3 }]), (error) =>
      assertItemErrors(error, [{ family: TopicError, code: ErrorCode.INVALID_PARTITIONS, item: name }]),
    );
  });
});

describe('Admin: deleteRecords', () => {
  /** Offsets the topic's partitions hold, read back through kafkajs from the earliest position. */
  async function readOffsets(
    topic: string,
    expected: number,
    bootstrap = broker.bootstrap,
  ): Promise<Map<number, number[]>> {
    const consumer = createKafka(bootstrap).consumer({ groupId: unique('delete-records-reader') });
    const offsets = new Map<number, number[]>();
    let seen = 0;
    let finish = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          offsets.set(partition, [...(offsets.get(partition) ?? []), Number(message.offset)]);
          if (++seen === expected) finish();
        },
      });
      const timeout = setTimeout(finish, 20_000);
      await done;
      clearTimeout(timeout);
    } finally {
      await consumer.disconnect();
    }
    return offsets;
  }

  test('moves start offsets up; earliest offsets and consumers start there; lower offsets change nothing', async () => {
    const name = unique('admin-delete-records');
    await admin.createTopics([{ topic: name, numPartitions: 3 }]);
    await produce(name, [10, 6, 3]);
    const results = await admin.deleteRecords({
      topic: name,
      partitions: [
        { partition: 0, offset: 4 },
        { partition: 1, offset: -1 },
      ],
    });
    assert.deepEqual(results, [
      { topic: name, partition: 0, lowWatermark: 4 },
      { topic: name, partition: 1, lowWatermark: 6 },
    ]);
    assert.deepEqual(await admin.deleteRecords({ topic: name, partitions: [{ partition: 0, offset: 2 }] }), [
      { topic: name, partition: 0, lowWatermark: 4 },
    ]);
    const kafka = createKafka(broker.bootstrap).admin();
    await kafka.connect();
    try {
      const offsets = await kafka.fetchTopicOffsets(name);
      assert.deepEqual(
        offsets
          .map(({ partition, low, high }) => ({ partition, low, high }))
          .sort((a, b) => a.partition - b.partition),
        [
          { partition: 0, low: '4', high: '10' },
          { partition: 1, low: '6', high: '6' },
          { partition: 2, low: '0', high: '3' },
        ],
      );
    } finally {
      await kafka.disconnect();
    }
    const read = await readOffsets(name, 9);
    assert.deepEqual(read.get(0), [4, 5, 6, 7, 8, 9]);
    assert.equal(read.get(1), undefined);
    assert.deepEqual(read.get(2), [0, 1, 2]);
  });

  test('the new start offset survives a broker restart', async () => {
    // A broker of its own: a restart listens on a new port, which the other tests' Admin does not follow.
    const own = await startBroker();
    const name = unique('admin-delete-records-restart');
    const ownAdmin = new Admin({ bootstrap: own.bootstrap, requestTimeoutMs: 10_000 });
    try {
      await ownAdmin.createTopics([{ topic: name, numPartitions: 1 }]);
      await produce(name, [8], own.bootstrap);
      await ownAdmin.deleteRecords({ topic: name, partitions: [{ partition: 0, offset: 5 }] });
      await ownAdmin.close();
      await own.restart();
      const read = await readOffsets(name, 3, own.bootstrap);
      assert.deepEqual(read.get(0), [5, 6, 7]);
    } finally {
      await ownAdmin.close();
      await own.dispose();
    }
  });

  test('past the high watermark is OFFSET_OUT_OF_RANGE, a compacted topic POLICY_VIOLATION, per partition', async () => {
    const name = unique('admin-delete-records-bad');
    await admin.createTopics([{ topic: name, numPartitions: 2 }]);
    await produce(name, [3, 3]);
    await assert.rejects(
      admin.deleteRecords({
        topic: name,
        partitions: [
          { partition: 0, offset: 4 },
          { partition: 1, offset: 2 },
        ],
      }),
      (error) =>
        assertItemErrors(error, [
          { family: OffsetOutOfRangeError, code: ErrorCode.OFFSET_OUT_OF_RANGE, item: name },
        ]),
    );
    assert.deepEqual(await admin.deleteRecords({ topic: name, partitions: [{ partition: 1, offset: 2 }] }), [
      { topic: name, partition: 1, lowWatermark: 2 },
    ]);
    const compacted = unique('admin-delete-records-compacted');
    await admin.createTopics([
      { topic: compacted, numPartitions: 1, configs: { 'cleanup.policy': 'compact' } },
    ]);
    await assert.rejects(
      admin.deleteRecords({ topic: compacted, partitions: [{ partition: 0, offset: 0 }] }),
      (error) =>
        assertItemErrors(error, [{ family: ConfigError, code: ErrorCode.POLICY_VIOLATION, item: compacted }]),
    );
    await assert.rejects(
      admin.deleteRecords({ topic: name, partitions: [{ partition: 7, offset: 0 }] }),
      (error) => error instanceof StaleMetadataError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
  });
});

describe('Admin: configs', () => {
  test('describeConfigs shows overrides and defaults of a topic, and broker configs', async () => {
    const name = unique('admin-configs');
    await admin.createTopics([{ topic: name, numPartitions: 1, configs: { 'cleanup.policy': 'compact' } }]);
    const [topicConfigs, brokerConfigs] = await admin.describeConfigs([
      { type: 'topic', name },
      { type: 'broker', name: String(nodeId) },
    ]);
    assert.equal(topicConfigs!.name, name);
    const byName = new Map(topicConfigs!.configs.map((c) => [c.name, c]));
    assert.deepEqual(
      { value: byName.get('cleanup.policy')?.value, source: byName.get('cleanup.policy')?.source },
      { value: 'compact', source: 'dynamic-topic' },
    );
    const retention = byName.get('retention.ms');
    assert.equal(retention?.isDefault, true);
    assert.notEqual(retention?.source, 'dynamic-topic');
    assert.equal(retention?.type, 'LONG');
    assert.equal(brokerConfigs!.type, 'broker');
    assert.ok(brokerConfigs!.configs.length > 0);

    const [only] = await admin.describeConfigs([{ type: 'topic', name, keys: ['retention.ms'] }]);
    assert.deepEqual(
      only!.configs.map((c) => c.name),
      ['retention.ms'],
    );
  });

  test('alterConfigs set, append, subtract and delete', async () => {
    const name = unique('admin-alter');
    await admin.createTopics([{ topic: name, numPartitions: 1 }]);
    const read = async (key: string) =>
      (await admin.describeConfigs([{ type: 'topic', name, keys: [key] }]))[0]!.configs[0]!;

    await admin.alterConfigs([
      { type: 'topic', name, configs: [{ name: 'retention.ms', value: '3600000' }] },
    ]);
    assert.deepEqual(
      { value: (await read('retention.ms')).value, source: (await read('retention.ms')).source },
      { value: '3600000', source: 'dynamic-topic' },
    );

    await admin.alterConfigs([
      { type: 'topic', name, configs: [{ name: 'cleanup.policy', value: 'compact', operation: 'append' }] },
    ]);
    assert.equal((await read('cleanup.policy')).value, 'delete,compact');
    await admin.alterConfigs([
      { type: 'topic', name, configs: [{ name: 'cleanup.policy', value: 'delete', operation: 'subtract' }] },
    ]);
    assert.equal((await read('cleanup.policy')).value, 'compact');

    await admin.alterConfigs([
      { type: 'topic', name, configs: [{ name: 'retention.ms', operation: 'delete' }] },
    ]);
    assert.equal((await read('retention.ms')).isDefault, true);

    await admin.alterConfigs([{ type: 'topic', name, configs: [{ name: 'retention.ms', value: '5' }] }], {
      validateOnly: true,
    });
    assert.equal((await read('retention.ms')).isDefault, true);
  });

  test('invalid config values and names are ConfigError INVALID_CONFIG', async () => {
    const name = unique('admin-badconfig');
    await admin.createTopics([{ topic: name, numPartitions: 1 }]);
    await assert.rejects(
      admin.alterConfigs([{ type: 'topic', name, configs: [{ name: 'retention.ms', value: 'soon' }] }]),
      (error) =>
        assertItemErrors(error, [{ family: ConfigError, code: ErrorCode.INVALID_CONFIG, item: name }]),
    );
    await assert.rejects(
      admin.createTopics([{ topic: unique('admin-badcfg'), configs: { 'no.such.config': '1' } }]),
      (error) => {
        assert.ok(error instanceof KafkaAggregateError);
        assert.ok(error.errors[0] instanceof ConfigError);
        assert.equal(error.errors[0].code, ErrorCode.INVALID_CONFIG);
        return true;
      },
    );
    await assert.rejects(
      admin.alterConfigs([{ type: 'topic', name, configs: [{ name: 'retention.ms' }] }]),
      (error) => error instanceof ConfigError && error.code === ErrorCode.INVALID_CONFIG,
    );
  });
});

describe('Admin: groups and offsets', () => {
  let topic: string;

  before(async () => {
    topic = unique('admin-offsets');
    await admin.createTopics([{ topic, numPartitions: 2 }]);
    await produce(topic, [5, 3]);
  });

  test('resetGroupOffsets to earliest/latest/offsets/timestamp, listGroupOffsets and lag', async () => {
    const groupId = unique('admin-reset');
    assert.deepEqual(await admin.listGroupOffsets(groupId), []);

    assert.deepEqual(await admin.resetGroupOffsets({ groupId, topic, to: 'earliest' }), [
      { topic, partition: 0, offset: 0 },
      { topic, partition: 1, offset: 0 },
    ]);
    assert.deepEqual(
      (await admin.listGroupOffsets(groupId)).map((o) => [o.topic, o.partition, o.offset]),
      [
        [topic, 0, 0],
        [topic, 1, 0],
      ],
    );
    assert.deepEqual(await admin.lag(groupId), [
      { topic, partition: 0, committedOffset: 0, highWatermark: 5, lag: 5 },
      { topic, partition: 1, committedOffset: 0, highWatermark: 3, lag: 3 },
    ]);

    await admin.resetGroupOffsets({ groupId, topic, to: 'latest' });
    assert.deepEqual(
      (await admin.lag(groupId)).map((l) => [l.partition, l.committedOffset, l.lag]),
      [
        [0, 5, 0],
        [1, 3, 0],
      ],
    );

    await admin.resetGroupOffsets({ groupId, topic, to: { offsets: [{ partition: 0, offset: 2 }] } });
    assert.deepEqual(
      (await admin.lag(groupId)).map((l) => [l.partition, l.committedOffset, l.lag]),
      [
        [0, 2, 3],
        [1, 3, 0],
      ],
    );

    assert.deepEqual(
      (await admin.resetGroupOffsets({ groupId, topic, to: { timestamp: 0 } })).map((o) => o.offset),
      [0, 0],
    );
    assert.deepEqual(
      (await admin.resetGroupOffsets({ groupId, topic, to: { timestamp: Date.now() + 3_600_000 } })).map(
        (o) => o.offset,
      ),
      [5, 3],
    );

    await assert.rejects(
      admin.resetGroupOffsets({ groupId, topic, to: { offsets: [{ partition: 7, offset: 0 }] } }),
      (error) => error instanceof StaleMetadataError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
  });

  test('list, describe and delete a group that only holds offsets', async () => {
    const groupId = unique('admin-offsets-only');
    await admin.resetGroupOffsets({ groupId, topic, to: 'earliest' });
    const listed = (await admin.listGroups()).find((g) => g.groupId === groupId);
    assert.equal(listed?.protocolType, '');
    const [described] = await admin.describeGroups([groupId]);
    assert.deepEqual(
      { groupId: described!.groupId, state: described!.state, members: described!.members },
      { groupId, state: 'Empty', members: [] },
    );
    await admin.deleteGroups([groupId]);
    assert.equal(
      (await admin.listGroups()).some((g) => g.groupId === groupId),
      false,
    );
    assert.deepEqual(await admin.listGroupOffsets(groupId), []);
    await assert.rejects(admin.deleteGroups([groupId]), (error) =>
      assertItemErrors(error, [{ family: GroupError, code: ErrorCode.GROUP_ID_NOT_FOUND, item: groupId }]),
    );
  });

  test('a live consumer group: members with assignments; reset and delete are refused', async () => {
    const groupId = unique('admin-live');
    const consumer: KafkajsConsumer = createKafka(broker.bootstrap).consumer({
      groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.run({ autoCommit: false, eachMessage: async () => {} });
      await joined;

      const [described] = await admin.describeGroups([groupId]);
      assert.equal(described!.state, 'Stable');
      assert.equal(described!.protocolType, 'consumer');
      assert.equal(described!.protocol, 'RoundRobinAssigner');
      assert.equal(described!.members.length, 1);
      const member = described!.members[0]!;
      assert.equal(member.clientId, 'sluice-test');
      assert.match(member.clientHost, /127\.0\.0\.1/);
      assert.deepEqual(member.assignment, [{ topic, partitions: [0, 1] }]);

      const listed = (await admin.listGroups()).find((g) => g.groupId === groupId);
      assert.equal(listed?.protocolType, 'consumer');

      await assert.rejects(admin.resetGroupOffsets({ groupId, topic, to: 'earliest' }), (error) => {
        assert.ok(error instanceof RebalanceError, String(error));
        assert.match(error.message, /only while the group is Empty/);
        assert.equal(error.groupId, groupId);
        return true;
      });
      await assert.rejects(admin.deleteGroups([groupId]), (error) =>
        assertItemErrors(error, [{ family: GroupError, code: ErrorCode.NON_EMPTY_GROUP, item: groupId }]),
      );
    } finally {
      await consumer.disconnect();
    }
    const [afterLeave] = await admin.describeGroups([groupId]);
    assert.equal(afterLeave!.state, 'Empty');
    await admin.deleteGroups([groupId]);
  });
});

describe('Admin: transactions and producers', () => {
  test('listTransactions, describeTransactions and describeProducers see an open and a committed transaction', async () => {
    const topic = unique('txn');
    await admin.createTopics([{ topic, numPartitions: 2, replicationFactor: 1 }]);
    const openId = unique('open-tx');
    const committedId = unique('done-tx');
    const open = new Producer({
      bootstrap: broker.bootstrap,
      transactionalId: openId,
      transactionTimeoutMs: 30_000,
    });
    const committed = new Producer({ bootstrap: broker.bootstrap, transactionalId: committedId });
    await open.connect();
    await committed.connect();
    try {
      await open.initTransactions();
      await committed.initTransactions();
      const ours = (listings: TransactionListing[]) =>
        listings.filter((t) => t.transactionalId === openId || t.transactionalId === committedId);
      const [initialized] = ours(await admin.listTransactions());
      assert.equal(initialized?.state, 'Empty');
      const [idle] = await admin.describeTransactions([openId]);
      assert.equal(idle!.transactionStartTimeMs, null);
      assert.deepEqual(idle!.topicPartitions, []);

      const beganMs = Date.now();
      open.beginTransaction();
      await open.send({
        topic,
        messages: [
          { value: 'o0', partition: 0 },
          { value: 'o1', partition: 1 },
        ],
      });
      committed.beginTransaction();
      await committed.send({
        topic,
        messages: [
          { value: 'c0', partition: 0 },
          { value: 'c1', partition: 0 },
        ],
      });
      await committed.commitTransaction();
      const doneMs = Date.now();

      const listed = ours(await admin.listTransactions());
      const openProducerId = listed.find((t) => t.transactionalId === openId)!.producerId;
      const committedProducerId = listed.find((t) => t.transactionalId === committedId)!.producerId;
      assert.notEqual(openProducerId, committedProducerId);
      assert.deepEqual(
        listed,
        [
          { transactionalId: openId, producerId: openProducerId, state: 'Ongoing', coordinatorId: nodeId },
          {
            transactionalId: committedId,
            producerId: committedProducerId,
            state: 'CompleteCommit',
            coordinatorId: nodeId,
          },
        ].sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : 1)),
      );
      assert.deepEqual(
        ours(await admin.listTransactions({ states: ['Ongoing'] })).map((t) => t.transactionalId),
        [openId],
      );
      assert.deepEqual(
        ours(await admin.listTransactions({ producerIds: [committedProducerId] })).map(
          (t) => t.transactionalId,
        ),
        [committedId],
      );
      assert.deepEqual(
        ours(await admin.listTransactions({ states: ['Ongoing'], durationMs: 3_600_000 })),
        [],
      );
      assert.deepEqual(await admin.listTransactions({ states: ['NoSuchState'] }), []);

      const [openTx, committedTx] = await admin.describeTransactions([openId, committedId]);
      const openStartMs = openTx!.transactionStartTimeMs!;
      assert.ok(openStartMs >= beganMs && openStartMs <= doneMs, `${beganMs} <= ${openStartMs} <= ${doneMs}`);
      assert.deepEqual(openTx, {
        transactionalId: openId,
        coordinatorId: nodeId,
        state: 'Ongoing',
        producerId: openProducerId,
        producerEpoch: 0,
        transactionTimeoutMs: 30_000,
        transactionStartTimeMs: openStartMs,
        topicPartitions: [
          { topic, partition: 0 },
          { topic, partition: 1 },
        ],
      });
      const committedStartMs = committedTx!.transactionStartTimeMs!;
      assert.ok(committedStartMs >= openStartMs && committedStartMs <= doneMs);
      assert.deepEqual(committedTx, {
        transactionalId: committedId,
        coordinatorId: nodeId,
        state: 'CompleteCommit',
        producerId: committedProducerId,
        producerEpoch: 0,
        transactionTimeoutMs: 60_000,
        transactionStartTimeMs: committedStartMs,
        topicPartitions: [],
      });

      const [partition0, partition1] = await admin.describeProducers([
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]);
      // Record timestamps come from the producers' clocks: within the test's window, taken as reported.
      const lastTimestamp = (partition: PartitionProducers | undefined, producerId: number) => {
        const timestamp = partition!.activeProducers.find((p) => p.producerId === producerId)!.lastTimestamp;
        assert.ok(timestamp >= beganMs && timestamp <= doneMs, `${beganMs} <= ${timestamp} <= ${doneMs}`);
        return timestamp;
      };
      const openState = (partition: PartitionProducers | undefined) => ({
        producerId: openProducerId,
        producerEpoch: 0,
        lastSequence: 0,
        lastTimestamp: lastTimestamp(partition, openProducerId),
        coordinatorEpoch: null,
        // The open transaction's first record is each partition's first offset: it holds back read_committed.
        currentTransactionStartOffset: 0,
      });
      assert.deepEqual(partition0, {
        topic,
        partition: 0,
        activeProducers: [
          openState(partition0),
          {
            producerId: committedProducerId,
            producerEpoch: 0,
            lastSequence: 1,
            lastTimestamp: lastTimestamp(partition0, committedProducerId),
            coordinatorEpoch: 0,
            currentTransactionStartOffset: null,
          },
        ].sort((a, b) => a.producerId - b.producerId),
      });
      assert.deepEqual(partition1, { topic, partition: 1, activeProducers: [openState(partition1)] });

      await open.commitTransaction();
      const [afterCommit] = await admin.describeProducers([{ topic, partition: 1 }]);
      assert.equal(afterCommit!.activeProducers[0]!.currentTransactionStartOffset, null);
      assert.equal((await admin.describeTransactions([openId]))[0]!.state, 'CompleteCommit');
    } finally {
      await open.close();
      await committed.close();
    }
  });

  test('an unknown transactional id, topic or partition is a per-item error', async () => {
    const topic = unique('txn');
    await admin.createTopics([{ topic, numPartitions: 1, replicationFactor: 1 }]);
    const missing = unique('missing-tx');
    await assert.rejects(admin.describeTransactions([missing]), (error) => {
      assert.ok(error instanceof KafkaAggregateError, String(error));
      assert.equal(error.errors.length, 1);
      const [item] = error.errors;
      assert.ok(item instanceof TransactionError, String(item));
      assert.equal(item.code, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
      assert.equal(item.message, `transactional id '${missing}': The transactional id was not found.`);
      return true;
    });
    const missingTopic = unique('nope');
    await assert.rejects(
      admin.describeProducers([
        { topic, partition: 0 },
        { topic, partition: 4 },
        { topic: missingTopic, partition: 0 },
      ]),
      (error) =>
        assertItemErrors(error, [
          { family: StaleMetadataError, code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, item: topic },
          { family: StaleMetadataError, code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, item: missingTopic },
        ]),
    );
    assert.deepEqual(await admin.describeProducers([{ topic, partition: 0 }]), [
      { topic, partition: 0, activeProducers: [] },
    ]);
    assert.deepEqual(await admin.describeTransactions([]), []);
    assert.deepEqual(await admin.describeProducers([]), []);
  });
});
