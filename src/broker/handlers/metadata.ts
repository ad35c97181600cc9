// Metadata: brokers, controller, and topics with their partitions' leaders, epochs, replicas and ISR.
// Unknown topics are auto-created when both the broker and the request allow it, as Kafka does.

import type { TopicRecord } from '../../metadata/index.js';
import { validateTopicName } from '../../metadata/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import { MetadataApi, type MetadataRequest, type MetadataResponse } from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/primitives/uuid.js';
import { type ApiHandler, type RequestContext, registerHandler } from '../context.js';

type TopicResponse = MetadataResponse['topics'][number];

/** Sent when the client did not ask for authorized operations. */
const OPERATIONS_NOT_REQUESTED = -2147483648;

// Without an authorizer every operation is allowed: bits of Kafka's AclOperation codes that apply to topics
// (READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11) and to
// the cluster (CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11,
// IDEMPOTENT_WRITE 12).
export const TOPIC_OPERATIONS = bits([3, 4, 5, 6, 7, 8, 10, 11]);
export const CLUSTER_OPERATIONS = bits([5, 7, 8, 9, 10, 11, 12]);

function bits(operations: readonly number[]): number {
  return operations.reduce((acc, op) => acc | (1 << op), 0);
}

function describeTopic(ctx: RequestContext, topic: TopicRecord, includeOperations: boolean): TopicResponse {
  const live = new Set(ctx.broker.metadata.listBrokers().map((b) => b.nodeId));
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: topic.internal,
    partitions: topic.partitions.map((p) => ({
      errorCode: p.leader >= 0 && live.has(p.leader) ? ErrorCode.NONE : ErrorCode.LEADER_NOT_AVAILABLE,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas,
      isrNodes: p.isr,
      offlineReplicas: p.replicas.filter((id) => !live.has(id)),
    })),
    topicAuthorizedOperations: includeOperations ? TOPIC_OPERATIONS : OPERATIONS_NOT_REQUESTED,
  };
}

function missingTopic(name: string | null, topicId: string, errorCode: number): TopicResponse {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
  };
}

/**
 * The error for a topic that does not exist (and was not created): an illegal name is INVALID_TOPIC_EXCEPTION
 * even when auto-creation is off, as in Kafka, so clients report the bad name rather than wait for the topic.
 */
export function missingTopicErrorCode(name: string): number {
  return validateTopicName(name) === null
    ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    : ErrorCode.INVALID_TOPIC_EXCEPTION;
}

async function topicByName(
  ctx: RequestContext,
  name: string,
  allowAutoCreate: boolean,
  includeOperations: boolean,
): Promise<TopicResponse> {
  const { metadata, controller, config } = ctx.broker;
  let topic = metadata.getTopic(name);
  if (topic === undefined && allowAutoCreate && config.autoCreateTopicsEnable) {
    const created = await controller.autoCreateTopic(name);
    if (created.errorCode !== ErrorCode.NONE) return missingTopic(name, ZERO_UUID, created.errorCode);
    topic = metadata.getTopic(name);
  }
  if (topic === undefined) return missingTopic(name, ZERO_UUID, missingTopicErrorCode(name));
  return describeTopic(ctx, topic, includeOperations);
}

const handler: ApiHandler<MetadataRequest, MetadataResponse> = {
  api: MetadataApi,
  minVersion: 0,
  maxVersion: 12,
  async handle(ctx, request) {
    const { metadata } = ctx.broker;
    const version = ctx.apiVersion;
    const includeOperations = version >= 8 && request.includeTopicAuthorizedOperations;
    // v0: an empty list means every topic; v1+: null means every topic and an empty list none.
    const all = request.topics === null || (version === 0 && request.topics.length === 0);
    let topics: TopicResponse[];
    if (all) {
      topics = metadata.listTopics().map((t) => describeTopic(ctx, t, includeOperations));
    } else {
      const allowAutoCreate = version < 4 || request.allowAutoTopicCreation;
      topics = [];
      for (const requested of request.topics ?? []) {
        // As Kafka: from v10 a topic id other than zero (or a null name) means a lookup by id. The response's
        // name is nullable only from v12.
        if (requested.name === null || (version >= 10 && requested.topicId !== ZERO_UUID)) {
          const topic = metadata.getTopicById(requested.topicId);
          topics.push(
            topic === undefined
              ? missingTopic(version >= 12 ? null : '', requested.topicId, ErrorCode.UNKNOWN_TOPIC_ID)
              : describeTopic(ctx, topic, includeOperations),
          );
        } else {
          // An empty name is a name, and an invalid one: INVALID_TOPIC_EXCEPTION, never an encoding failure.
          topics.push(await topicByName(ctx, requested.name, allowAutoCreate, includeOperations));
        }
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: metadata
        .listBrokers()
        .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      clusterId: metadata.clusterId(),
      controllerId: metadata.controllerId(),
      topics,
      clusterAuthorizedOperations:
        version >= 8 && request.includeClusterAuthorizedOperations
          ? CLUSTER_OPERATIONS
          : OPERATIONS_NOT_REQUESTED,
    };
  },
  errorResponse(ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      brokers: [],
      clusterId: ctx.broker.metadata.clusterId(),
      controllerId: -1,
      topics: (request.topics ?? []).map((t) => missingTopic(t.name, t.topicId, errorCode)),
      clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
    };
  },
};

export const metadataHandler = registerHandler(handler);
