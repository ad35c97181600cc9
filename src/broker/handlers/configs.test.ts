import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadBrokerConfig } from '../../common/config.js';
import type { TopicRecord } from '../../metadata/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  AlterConfigsApi,
  DescribeConfigsApi,
  IncrementalAlterConfigsApi,
} from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/primitives/uuid.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { allowOnly, type Permission } from './authorizer-test-support.js';
import { callApi, dispatcherOver } from './test-support.js';

// Kafka's ConfigResource.Type codes.
const TOPIC_RESOURCE = 2;
const BROKER_RESOURCE = 4;
const BROKER_LOGGER_RESOURCE = 8;
const { DESCRIBE_CONFIGS, ALTER_CONFIGS } = AclOperation;
const TOPIC_DENIED = 'Not authorized to access the topic.';
const CLUSTER_DENIED = 'Not authorized to perform cluster operations.';

function broker(allowed: Permission[]) {
  const topics: TopicRecord[] = ['orders', 'secret'].map((name) => ({
    name,
    topicId: ZERO_UUID,
    partitions: [],
    configs: {},
    createdAtMs: 0,
    internal: false,
  }));
  const altered: string[] = [];
  const authorizer = allowOnly(allowed);
  const dispatch = dispatcherOver({
    nodeId: 1,
    authorizer,
    config: loadBrokerConfig(),
    metadata: { getTopic: (name: string) => topics.find((t) => t.name === name) },
    controller: {
      replaceTopicConfigs: async (name: string) => {
        altered.push(`replace ${name}`);
        return { errorCode: ErrorCode.NONE, errorMessage: null };
      },
      alterTopicConfigs: async (name: string) => {
        altered.push(`alter ${name}`);
        return { errorCode: ErrorCode.NONE, errorMessage: null };
      },
    },
  });
  return { dispatch, authorizer, altered };
}

const RESOURCES: [number, string][] = [
  [TOPIC_RESOURCE, 'orders'],
  [TOPIC_RESOURCE, 'secret'],
  [BROKER_RESOURCE, '1'],
];

describe('DescribeConfigs with an authorizer', () => {
  test('DESCRIBE_CONFIGS on the topic, or on the cluster for the broker', async () => {
    const { dispatch, authorizer } = broker([[DESCRIBE_CONFIGS, ResourceType.TOPIC, 'orders']]);
    const describe = () =>
      callApi(dispatch, DescribeConfigsApi, 4, {
        resources: [...RESOURCES, [BROKER_LOGGER_RESOURCE, '1'] as [number, string]].map(
          ([resourceType, resourceName]) => ({ resourceType, resourceName, configurationKeys: null }),
        ),
        includeSynonyms: false,
        includeDocumentation: false,
      });
    const response = await describe();
    assert.deepEqual(
      response.results.map((r) => [r.resourceName, r.errorCode, r.errorMessage, r.configs.length > 0]),
      [
        ['orders', ErrorCode.NONE, null, true],
        ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED, TOPIC_DENIED, false],
        ['1', ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED, false],
        ['1', ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED, false],
      ],
    );
    authorizer.allowed.push([DESCRIBE_CONFIGS, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME]);
    const allowed = await describe();
    assert.deepEqual(
      allowed.results.slice(2).map((r) => [r.resourceType, r.errorCode, r.configs.length > 0]),
      [
        [BROKER_RESOURCE, ErrorCode.NONE, true],
        // Past authorization, a resource type this broker does not describe.
        [BROKER_LOGGER_RESOURCE, ErrorCode.INVALID_REQUEST, false],
      ],
    );
  });
});

describe('AlterConfigs and IncrementalAlterConfigs with an authorizer', () => {
  test('ALTER_CONFIGS on the topic, or on the cluster for the broker; refused resources are not altered', async () => {
    const { dispatch, authorizer, altered } = broker([[ALTER_CONFIGS, ResourceType.TOPIC, 'orders']]);
    const legacy = () =>
      callApi(dispatch, AlterConfigsApi, 2, {
        resources: RESOURCES.map(([resourceType, resourceName]) => ({
          resourceType,
          resourceName,
          configs: [{ name: 'retention.ms', value: '1000' }],
        })),
        validateOnly: false,
      });
    const incremental = () =>
      callApi(dispatch, IncrementalAlterConfigsApi, 1, {
        resources: RESOURCES.map(([resourceType, resourceName]) => ({
          resourceType,
          resourceName,
          configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }],
        })),
        validateOnly: false,
      });
    for (const alter of [legacy, incremental]) {
      const response = await alter();
      assert.deepEqual(
        response.responses.map((r) => [r.resourceName, r.errorCode, r.errorMessage]),
        [
          ['orders', ErrorCode.NONE, null],
          ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED, TOPIC_DENIED],
          ['1', ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED],
        ],
      );
    }
    assert.deepEqual(altered, ['replace orders', 'alter orders']);
    // Allowed, broker configs meet what this broker answers: they are static.
    authorizer.allowed.push([ALTER_CONFIGS, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME]);
    assert.equal((await incremental()).responses[2]!.errorCode, ErrorCode.INVALID_REQUEST);
  });
});
