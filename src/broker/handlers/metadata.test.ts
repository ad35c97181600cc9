import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TopicRecord } from '../../metadata/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import { MetadataApi, type MetadataResponse } from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/primitives/uuid.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { OPERATIONS_NOT_REQUESTED } from './authorization.js';
import { allowOnly, type Permission } from './authorizer-test-support.js';
import { missingTopicErrorCode } from './metadata.js';
import { callApi, type Dispatch, dispatcherOver } from './test-support.js';

test('a missing topic with a legal name is UNKNOWN_TOPIC_OR_PARTITION', () => {
  for (const name of ['orders', 'a.b_c-1', 'x'.repeat(249)]) {
    assert.equal(missingTopicErrorCode(name), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name);
  }
});

test('a missing topic with an illegal name is INVALID_TOPIC_EXCEPTION', () => {
  for (const name of ['bad/name', '..', '.', 'with space', 'x'.repeat(250), 'ümlaut']) {
    assert.equal(missingTopicErrorCode(name), ErrorCode.INVALID_TOPIC_EXCEPTION, name);
  }
});

describe('Metadata with an authorizer', () => {
  const { READ, CREATE, DESCRIBE } = AclOperation;
  const { TOPIC, CLUSTER } = ResourceType;
  const ORDERS_ID = 'AQIDBAUGBwgJCgsMDQ4PEA';
  const SECRET_ID = 'ERITFBUWFxgZGhscHR4fIA';
  const CREATED_ID = 'ISIjJCUmJygpKissLS4vMA';
  const bit = (...operations: number[]) => operations.reduce((bits, op) => bits | (1 << op), 0);

  function topicRecord(name: string, topicId: string): TopicRecord {
    const partition = { partition: 0, replicas: [1], leader: 1, leaderEpoch: 0, isr: [1], partitionEpoch: 0 };
    return { name, topicId, partitions: [partition], configs: {}, createdAtMs: 0, internal: false };
  }

  function broker(allowed: Permission[], authorizerOn = true) {
    const topics = [topicRecord('orders', ORDERS_ID), topicRecord('secret', SECRET_ID)];
    const created: string[] = [];
    const authorizer = allowOnly(allowed);
    const dispatch = dispatcherOver({
      authorizer: authorizerOn ? authorizer : null,
      config: { autoCreateTopicsEnable: true },
      metadata: {
        listTopics: () => topics,
        getTopic: (name: string) => topics.find((t) => t.name === name),
        getTopicById: (id: string) => topics.find((t) => t.topicId === id),
        listBrokers: () => [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
        clusterId: () => 'cluster',
        controllerId: () => 1,
      },
      controller: {
        autoCreateTopic: async (name: string) => {
          created.push(name);
          topics.push(topicRecord(name, CREATED_ID));
          return { errorCode: ErrorCode.NONE, errorMessage: null };
        },
      },
    });
    return { dispatch, authorizer, created };
  }

  function metadata(
    dispatch: Dispatch,
    version: number,
    topics: { name: string | null; topicId?: string }[] | null,
    options: { autoCreate?: boolean; operations?: boolean } = {},
  ) {
    return callApi(dispatch, MetadataApi, version, {
      topics: topics?.map((t) => ({ name: t.name, topicId: t.topicId ?? ZERO_UUID })) ?? null,
      allowAutoTopicCreation: options.autoCreate ?? true,
      includeClusterAuthorizedOperations: options.operations ?? false,
      includeTopicAuthorizedOperations: options.operations ?? false,
    });
  }

  /** [name, topicId, errorCode, partitions, authorized operations] of each topic answered. */
  const summary = (response: MetadataResponse) =>
    response.topics.map((t) => [
      t.name,
      t.topicId,
      t.errorCode,
      t.partitions.length,
      t.topicAuthorizedOperations,
    ]);

  test('all topics: only those with DESCRIBE, with the operations the principal may perform', async () => {
    const { dispatch } = broker([
      [DESCRIBE, TOPIC, 'orders'],
      [READ, TOPIC, 'orders'],
    ]);
    assert.deepEqual(summary(await metadata(dispatch, 12, null, { operations: true })), [
      ['orders', ORDERS_ID, ErrorCode.NONE, 1, bit(READ, DESCRIBE)],
    ]);
    // v0: an empty list is every topic; topic ids come with v10.
    assert.deepEqual(summary(await metadata(dispatch, 0, [])), [
      ['orders', ZERO_UUID, ErrorCode.NONE, 1, OPERATIONS_NOT_REQUESTED],
    ]);
  });

  test('named topics without DESCRIBE: TOPIC_AUTHORIZATION_FAILED, whether or not they exist', async () => {
    const { dispatch, created } = broker([[DESCRIBE, TOPIC, 'orders']]);
    const response = await metadata(
      dispatch,
      12,
      [{ name: 'orders' }, { name: 'secret' }, { name: 'ghost' }],
      {
        operations: true,
      },
    );
    assert.deepEqual(summary(response), [
      ['orders', ORDERS_ID, ErrorCode.NONE, 1, bit(DESCRIBE)],
      ['secret', ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0, OPERATIONS_NOT_REQUESTED],
      ['ghost', ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0, OPERATIONS_NOT_REQUESTED],
    ]);
    assert.deepEqual(created, []);
  });

  test('by topic id (v12): an id is no secret, the name behind it is', async () => {
    const { dispatch } = broker([[DESCRIBE, TOPIC, 'orders']]);
    const response = await metadata(dispatch, 12, [
      { name: null, topicId: ORDERS_ID },
      { name: null, topicId: SECRET_ID },
    ]);
    assert.deepEqual(summary(response), [
      ['orders', ORDERS_ID, ErrorCode.NONE, 1, OPERATIONS_NOT_REQUESTED],
      [null, SECRET_ID, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0, OPERATIONS_NOT_REQUESTED],
    ]);
  });

  test('auto-creation needs CREATE on the topic or the cluster, else TOPIC_AUTHORIZATION_FAILED', async () => {
    const { dispatch, authorizer, created } = broker([
      [DESCRIBE, TOPIC, 'fresh'],
      [DESCRIBE, TOPIC, 'allowed'],
      [CREATE, TOPIC, 'allowed'],
    ]);
    const response = await metadata(dispatch, 10, [{ name: 'fresh' }, { name: 'allowed' }]);
    assert.deepEqual(summary(response), [
      ['fresh', ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0, OPERATIONS_NOT_REQUESTED],
      ['allowed', CREATED_ID, ErrorCode.NONE, 1, OPERATIONS_NOT_REQUESTED],
    ]);
    assert.deepEqual(created, ['allowed']);
    // CREATE on the cluster is asked once for the request.
    assert.deepEqual(
      authorizer.asked.filter(([, type]) => type === CLUSTER),
      [[CREATE, CLUSTER, CLUSTER_RESOURCE_NAME]],
    );
    // Without auto-creation a describable missing topic is simply unknown.
    assert.deepEqual(summary(await metadata(dispatch, 10, [{ name: 'fresh' }], { autoCreate: false })), [
      ['fresh', ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0, OPERATIONS_NOT_REQUESTED],
    ]);
  });

  test('CREATE on the cluster allows auto-creating any topic the principal may describe', async () => {
    const { dispatch, created } = broker([
      [DESCRIBE, TOPIC, 'a'],
      [DESCRIBE, TOPIC, 'b'],
      [CREATE, CLUSTER, CLUSTER_RESOURCE_NAME],
    ]);
    const response = await metadata(dispatch, 9, [{ name: 'a' }, { name: 'b' }]);
    assert.deepEqual(
      response.topics.map((t) => [t.name, t.errorCode]),
      [
        ['a', ErrorCode.NONE],
        ['b', ErrorCode.NONE],
      ],
    );
    assert.deepEqual(created, ['a', 'b']);
  });

  test('cluster authorized operations (v8-10): none without DESCRIBE on the cluster, else what is allowed', async () => {
    const { dispatch, authorizer } = broker([]);
    assert.equal((await metadata(dispatch, 10, [], { operations: true })).clusterAuthorizedOperations, 0);
    authorizer.allowed.push(
      [DESCRIBE, CLUSTER, CLUSTER_RESOURCE_NAME],
      [CREATE, CLUSTER, CLUSTER_RESOURCE_NAME],
    );
    assert.equal(
      (await metadata(dispatch, 10, [], { operations: true })).clusterAuthorizedOperations,
      bit(CREATE, DESCRIBE),
    );
    assert.equal((await metadata(dispatch, 10, [])).clusterAuthorizedOperations, OPERATIONS_NOT_REQUESTED);
  });

  test('without an authorizer every topic and operation is allowed', async () => {
    const { dispatch } = broker([], false);
    const response = await metadata(dispatch, 10, [{ name: 'secret' }, { name: 'missing' }], {
      operations: true,
      autoCreate: false,
    });
    const allTopicOperations = bit(3, 4, 5, 6, 7, 8, 10, 11);
    assert.deepEqual(summary(response), [
      ['secret', SECRET_ID, ErrorCode.NONE, 1, allTopicOperations],
      ['missing', ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0, allTopicOperations],
    ]);
    assert.equal(response.clusterAuthorizedOperations, bit(5, 7, 8, 9, 10, 11, 12));
  });
});

describe('Metadata with several listeners', () => {
  /** Broker 1 registered an endpoint per listener; broker 2 is a record from before listeners had names. */
  const brokers = [
    {
      nodeId: 1,
      host: '127.0.0.1',
      port: 9092,
      rack: null,
      endpoints: [
        { listener: 'PLAINTEXT', host: '127.0.0.1', port: 9092 },
        { listener: 'EXTERNAL', host: 'broker.example.com', port: 9094 },
      ],
    },
    { nodeId: 2, host: 'old-host', port: 9093, rack: 'r2' },
  ];
  const dispatch = dispatcherOver({
    config: { autoCreateTopicsEnable: false },
    metadata: {
      listTopics: () => [],
      listBrokers: () => brokers,
      clusterId: () => 'cluster',
      controllerId: () => 1,
    },
  });
  const brokersSeenOn = async (listener: string, version: number) =>
    (
      await callApi(
        dispatch,
        MetadataApi,
        version,
        {
          topics: [],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        },
        { listener },
      )
    ).brokers;

  test("each broker's address for the listener the request came in on, else its record's", async () => {
    for (const version of [1, 12]) {
      assert.deepEqual(await brokersSeenOn('EXTERNAL', version), [
        { nodeId: 1, host: 'broker.example.com', port: 9094, rack: null },
        { nodeId: 2, host: 'old-host', port: 9093, rack: 'r2' },
      ]);
      assert.deepEqual(await brokersSeenOn('PLAINTEXT', version), [
        { nodeId: 1, host: '127.0.0.1', port: 9092, rack: null },
        { nodeId: 2, host: 'old-host', port: 9093, rack: 'r2' },
      ]);
    }
    assert.deepEqual((await brokersSeenOn('UNKNOWN', 12))[0], {
      nodeId: 1,
      host: '127.0.0.1',
      port: 9092,
      rack: null,
    });
  });
});
