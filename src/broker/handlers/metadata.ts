// Metadata: brokers, controller, and topics with their partitions' leaders, epochs, replicas and ISR.
// Unknown topics are auto-created when both the broker and the request allow it, as Kafka does. With an
// authorizer, as Kafka: topics need DESCRIBE (a listing of all topics leaves the others out; a named one
// answers TOPIC_AUTHORIZATION_FAILED without saying whether it exists), and auto-creation needs CREATE on
// the cluster or on the topic.

import type { TopicRecord } from '../../metadata/index.js';
import { validateTopicName } from '../../metadata/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import { MetadataApi, type MetadataRequest, type MetadataResponse } from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/primitives/uuid.js';
import { type ApiHandler, brokerAddressFor, type RequestContext, registerHandler } from '../context.js';
import { AclOperation } from '../security/acl.js';
import {
  clusterAuthorizedOperations,
  isClusterAuthorized,
  OPERATIONS_NOT_REQUESTED,
  topicAuthorization,
  topicAuthorizedOperations,
} from './authorization.js';

type TopicResponse = MetadataResponse['topics'][number];

/** What one request needs to answer each topic. */
interface TopicLookup {
  readonly ctx: RequestContext;
  readonly includeOperations: boolean;
  readonly allowAutoCreate: boolean;
  /** Null without an authorizer. */
  readonly mayDescribe: ((topic: string) => boolean) | null;
  /** Whether the principal may create `topic`: asks for CREATE on the cluster once, then per topic. */
  readonly mayCreate: (topic: string) => boolean;
}

function lookup(ctx: RequestContext, request: MetadataRequest): TopicLookup {
  const version = ctx.apiVersion;
  const mayCreateTopic = topicAuthorization(ctx, AclOperation.CREATE);
  let clusterCreate: boolean | undefined;
  return {
    ctx,
    includeOperations: version >= 8 && request.includeTopicAuthorizedOperations,
    allowAutoCreate:
      (version < 4 || request.allowAutoTopicCreation) && ctx.broker.config.autoCreateTopicsEnable,
    mayDescribe: topicAuthorization(ctx, AclOperation.DESCRIBE),
    mayCreate(topic) {
      if (mayCreateTopic === null) return true;
      clusterCreate ??= isClusterAuthorized(ctx, AclOperation.CREATE);
      return clusterCreate || mayCreateTopic(topic);
    },
  };
}

/** A topic's authorized operations if the client asked for them. */
function operationsOf(lookup: TopicLookup, name: string): number {
  return lookup.includeOperations ? topicAuthorizedOperations(lookup.ctx, name) : OPERATIONS_NOT_REQUESTED;
}

function describeTopic(lookup: TopicLookup, topic: TopicRecord): TopicResponse {
  const live = new Set(lookup.ctx.broker.metadata.listBrokers().map((b) => b.nodeId));
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
    topicAuthorizedOperations: operationsOf(lookup, topic.name),
  };
}

function missingTopic(
  name: string | null,
  topicId: string,
  errorCode: number,
  operations = OPERATIONS_NOT_REQUESTED,
): TopicResponse {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: operations,
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

async function topicByName(lookup: TopicLookup, name: string): Promise<TopicResponse> {
  const { metadata, controller } = lookup.ctx.broker;
  // Kafka does not even look up a topic the principal may not describe, so the answer reveals nothing.
  if (lookup.mayDescribe !== null && !lookup.mayDescribe(name)) {
    return missingTopic(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  }
  let topic = metadata.getTopic(name);
  if (topic === undefined && lookup.allowAutoCreate) {
    if (!lookup.mayCreate(name)) return missingTopic(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const created = await controller.autoCreateTopic(name);
    if (created.errorCode !== ErrorCode.NONE) {
      return missingTopic(name, ZERO_UUID, created.errorCode, operationsOf(lookup, name));
    }
    topic = metadata.getTopic(name);
  }
  if (topic === undefined) {
    return missingTopic(name, ZERO_UUID, missingTopicErrorCode(name), operationsOf(lookup, name));
  }
  return describeTopic(lookup, topic);
}

function topicById(lookup: TopicLookup, topicId: string): TopicResponse {
  const topic = lookup.ctx.broker.metadata.getTopicById(topicId);
  // The response's name is nullable only from v12.
  const noName = lookup.ctx.apiVersion >= 12 ? null : '';
  if (topic === undefined) return missingTopic(noName, topicId, ErrorCode.UNKNOWN_TOPIC_ID);
  // As Kafka: a topic id is not secret, but the name behind it is.
  if (lookup.mayDescribe !== null && !lookup.mayDescribe(topic.name)) {
    return missingTopic(noName, topicId, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  }
  return describeTopic(lookup, topic);
}

const handler: ApiHandler<MetadataRequest, MetadataResponse> = {
  api: MetadataApi,
  minVersion: 0,
  maxVersion: 12,
  async handle(ctx, request) {
    const { metadata } = ctx.broker;
    const version = ctx.apiVersion;
    const topicLookup = lookup(ctx, request);
    // v0: an empty list means every topic; v1+: null means every topic and an empty list none.
    const all = request.topics === null || (version === 0 && request.topics.length === 0);
    let topics: TopicResponse[];
    if (all) {
      const { mayDescribe } = topicLookup;
      topics = [];
      for (const topic of metadata.listTopics()) {
        if (mayDescribe === null || mayDescribe(topic.name)) topics.push(describeTopic(topicLookup, topic));
      }
    } else {
      topics = [];
      for (const requested of request.topics ?? []) {
        // As Kafka: from v10 a topic id other than zero (or a null name) means a lookup by id.
        if (requested.name === null || (version >= 10 && requested.topicId !== ZERO_UUID)) {
          topics.push(topicById(topicLookup, requested.topicId));
        } else {
          // An empty name is a name, and an invalid one: INVALID_TOPIC_EXCEPTION, never an encoding failure.
          topics.push(await topicByName(topicLookup, requested.name));
        }
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: metadata
        .listBrokers()
        .map((b) => ({ nodeId: b.nodeId, ...brokerAddressFor(ctx, b), rack: b.rack })),
      clusterId: metadata.clusterId(),
      controllerId: metadata.controllerId(),
      topics,
      clusterAuthorizedOperations:
        version >= 8 && request.includeClusterAuthorizedOperations
          ? clusterAuthorizedOperations(ctx)
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
