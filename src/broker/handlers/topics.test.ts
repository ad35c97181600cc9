import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadBrokerConfig } from '../../common/config.js';
import type { TopicRecord } from '../../metadata/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  CreatePartitionsApi,
  CreateTopicsApi,
  type CreateTopicsRequest,
  DeleteTopicsApi,
} from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/primitives/uuid.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { allowOnly, type Permission } from './authorizer-test-support.js';
import { callApi, dispatcherOver } from './test-support.js';

const { CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS } = AclOperation;
const { TOPIC, CLUSTER } = ResourceType;
const ORDERS_ID = 'AQIDBAUGBwgJCgsMDQ4PEA';
const SECRET_ID = 'ERITFBUWFxgZGhscHR4fIA';
const NEW_ID = 'ISIjJCUmJygpKissLS4vMA';
const TOPIC_DENIED = 'Not authorized to access the topic.';

/** A broker whose controller records what it was asked to do and always succeeds. */
function broker(allowed: Permission[]) {
  const topics: TopicRecord[] = [
    { name: 'orders', topicId: ORDERS_ID, partitions: [], configs: {}, createdAtMs: 0, internal: false },
    { name: 'secret', topicId: SECRET_ID, partitions: [], configs: {}, createdAtMs: 0, internal: false },
  ];
  const done: string[] = [];
  const ok = { errorCode: ErrorCode.NONE, errorMessage: null };
  const authorizer = allowOnly(allowed);
  const dispatch = dispatcherOver({
    authorizer,
    config: loadBrokerConfig(),
    metadata: {
      getTopic: (name: string) => topics.find((t) => t.name === name),
      getTopicById: (id: string) => topics.find((t) => t.topicId === id),
    },
    controller: {
      requestedPartitions: (numPartitions: number) => numPartitions,
      createTopic: async (spec: { name: string; numPartitions: number }) => {
        done.push(`create ${spec.name}`);
        return { ...ok, numPartitions: spec.numPartitions, replicationFactor: 1, topic: { topicId: NEW_ID } };
      },
      deleteTopic: async (name: string) => {
        done.push(`delete ${name}`);
        return ok;
      },
      createPartitions: async (name: string, count: number) => {
        done.push(`partitions ${name} ${count}`);
        return ok;
      },
    },
  });
  return { dispatch, authorizer, done };
}

describe('CreateTopics with an authorizer', () => {
  const creatable = (name: string): CreateTopicsRequest['topics'][number] => ({
    name,
    numPartitions: 2,
    replicationFactor: 1,
    assignments: [],
    configs: [],
  });
  const create = (dispatch: ReturnType<typeof broker>['dispatch'], names: string[]) =>
    callApi(dispatch, CreateTopicsApi, 7, {
      topics: names.map(creatable),
      timeoutMs: 5000,
      validateOnly: false,
    });

  test('CREATE on the topic is needed, else TOPIC_AUTHORIZATION_FAILED; configs only with DESCRIBE_CONFIGS', async () => {
    const { dispatch, done } = broker([
      [CREATE, TOPIC, 'seen'],
      [DESCRIBE_CONFIGS, TOPIC, 'seen'],
      [CREATE, TOPIC, 'blind'],
    ]);
    const response = await create(dispatch, ['seen', 'blind', 'denied']);
    assert.deepEqual(
      response.topics.map((t) => [
        t.name,
        t.topicId,
        t.errorCode,
        t.errorMessage,
        t.topicConfigErrorCode,
        t.numPartitions,
        t.configs === null ? null : t.configs.length > 0,
      ]),
      [
        ['seen', NEW_ID, ErrorCode.NONE, null, ErrorCode.NONE, 2, true],
        // Created, but its configs and sizes are not shown to who may not describe its configs.
        ['blind', NEW_ID, ErrorCode.NONE, null, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, false],
        [
          'denied',
          ZERO_UUID,
          ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          'Authorization failed.',
          ErrorCode.NONE,
          -1,
          null,
        ],
      ],
    );
    assert.deepEqual(done, ['create seen', 'create blind']);
  });

  test('CREATE on the cluster allows every topic, asked once', async () => {
    const { dispatch, authorizer, done } = broker([[CREATE, CLUSTER, CLUSTER_RESOURCE_NAME]]);
    const response = await create(dispatch, ['a', 'b']);
    assert.deepEqual(
      response.topics.map((t) => [t.name, t.errorCode]),
      [
        ['a', ErrorCode.NONE],
        ['b', ErrorCode.NONE],
      ],
    );
    assert.deepEqual(done, ['create a', 'create b']);
    assert.deepEqual(
      authorizer.asked.filter(([op]) => op === CREATE),
      [[CREATE, CLUSTER, CLUSTER_RESOURCE_NAME]],
    );
  });
});

describe('DeleteTopics with an authorizer', () => {
  test('by name: DESCRIBE to learn whether it exists, DELETE to delete it', async () => {
    const { dispatch, done } = broker([
      [DELETE, TOPIC, 'orders'],
      [DESCRIBE, TOPIC, 'orders'],
      [DESCRIBE, TOPIC, 'secret'],
      [DESCRIBE, TOPIC, 'missing'],
    ]);
    for (const version of [1, 6]) {
      done.length = 0;
      const names = ['orders', 'secret', 'missing', 'hidden'];
      const response = await callApi(dispatch, DeleteTopicsApi, version, {
        topics: names.map((name) => ({ name, topicId: ZERO_UUID })),
        topicNames: names,
        timeoutMs: 5000,
      });
      // Error messages come with v5.
      const denied = version >= 5 ? TOPIC_DENIED : null;
      assert.deepEqual(
        response.responses.map((r) => [r.name, r.errorCode, r.errorMessage]),
        [
          ['orders', ErrorCode.NONE, null],
          ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED, denied],
          ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null],
          ['hidden', ErrorCode.TOPIC_AUTHORIZATION_FAILED, denied],
        ],
        `v${version}`,
      );
      assert.deepEqual(done, ['delete orders']);
    }
  });

  test('by id (v6): the name is told only to who may describe the topic', async () => {
    const { dispatch, authorizer, done } = broker([[DESCRIBE, TOPIC, 'orders']]);
    const response = await callApi(dispatch, DeleteTopicsApi, 6, {
      topics: [
        { name: null, topicId: ORDERS_ID },
        { name: null, topicId: SECRET_ID },
        { name: null, topicId: NEW_ID },
      ],
      topicNames: [],
      timeoutMs: 5000,
    });
    assert.deepEqual(
      response.responses.map((r) => [r.name, r.topicId, r.errorCode]),
      [
        ['orders', ORDERS_ID, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        [null, SECRET_ID, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        [null, NEW_ID, ErrorCode.UNKNOWN_TOPIC_ID],
      ],
    );
    assert.deepEqual(done, []);
    // DELETE on the cluster: every topic.
    authorizer.allowed.push([DELETE, CLUSTER, CLUSTER_RESOURCE_NAME]);
    const allowed = await callApi(dispatch, DeleteTopicsApi, 6, {
      topics: [{ name: null, topicId: SECRET_ID }],
      topicNames: [],
      timeoutMs: 5000,
    });
    assert.deepEqual(
      allowed.responses.map((r) => [r.name, r.errorCode]),
      [['secret', ErrorCode.NONE]],
    );
    assert.deepEqual(done, ['delete secret']);
  });
});

describe('CreatePartitions with an authorizer', () => {
  test('ALTER on the topic is needed, else TOPIC_AUTHORIZATION_FAILED; duplicates stay INVALID_REQUEST', async () => {
    const { dispatch, done } = broker([[ALTER, TOPIC, 'orders']]);
    const response = await callApi(dispatch, CreatePartitionsApi, 3, {
      topics: [
        { name: 'orders', count: 4, assignments: null },
        { name: 'secret', count: 4, assignments: null },
        { name: 'twice', count: 4, assignments: null },
        { name: 'twice', count: 5, assignments: null },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.deepEqual(
      response.results.map((r) => [r.name, r.errorCode, r.errorMessage]),
      [
        ['orders', ErrorCode.NONE, null],
        ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED, null],
        ['twice', ErrorCode.INVALID_REQUEST, 'Duplicate topic in request.'],
        ['twice', ErrorCode.INVALID_REQUEST, 'Duplicate topic in request.'],
      ],
    );
    assert.deepEqual(done, ['partitions orders 4']);
  });
});
