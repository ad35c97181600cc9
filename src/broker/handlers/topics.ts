// CreateTopics, DeleteTopics and CreatePartitions: per-topic results from the controller. With an authorizer
// they check what Kafka's controller checks: CREATE on the cluster or the topic (and DESCRIBE_CONFIGS to see
// the new topic's configs), DELETE on the cluster or the topic (DESCRIBE to learn whether it exists), ALTER.
import { effectiveTopicConfig } from '../../common/topic-config.js';
import { ErrorCode, errorInfo } from '../../protocol/errors.js';
import {
  CreatePartitionsApi,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  CreateTopicsApi,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  DeleteTopicsApi,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
} from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/primitives/uuid.js';
import { type ApiHandler, type RequestContext, registerHandler } from '../context.js';
import { TOO_MANY_PARTITIONS_PER_REQUEST } from '../controller.js';
import { MAX_PARTITIONS_PER_REQUEST } from '../partition-capacity.js';
import { AclOperation } from '../security/acl.js';
import { isClusterAuthorized, topicAuthorization } from './authorization.js';

type CreatableTopicResult = CreateTopicsResponse['topics'][number];

function duplicates(names: readonly (string | null)[]): Set<string | null> {
  const seen = new Set<string | null>();
  const dup = new Set<string | null>();
  for (const name of names) (seen.has(name) ? dup : seen).add(name);
  return dup;
}

function createResult(name: string, errorCode: number, errorMessage: string | null): CreatableTopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode,
    errorMessage,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  };
}

function describedConfigs(
  ctx: RequestContext,
  overrides: Record<string, string>,
): CreatableTopicResult['configs'] {
  return effectiveTopicConfig(ctx.broker.config, overrides).map((entry) => ({
    name: entry.name,
    value: entry.value,
    readOnly: entry.readOnly,
    configSource: entry.source,
    isSensitive: entry.sensitive,
  }));
}

const createTopics: ApiHandler<CreateTopicsRequest, CreateTopicsResponse> = {
  api: CreateTopicsApi,
  minVersion: 0,
  maxVersion: 7,
  async handle(ctx, request) {
    const dup = duplicates(request.topics.map((t) => t.name));
    // Null without an authorizer, and when CREATE on the cluster allows every topic.
    let mayCreate = topicAuthorization(ctx, AclOperation.CREATE);
    if (mayCreate !== null && isClusterAuthorized(ctx, AclOperation.CREATE)) mayCreate = null;
    const mayDescribeConfigs = topicAuthorization(ctx, AclOperation.DESCRIBE_CONFIGS);
    const denied = (name: string) => mayCreate !== null && !dup.has(name) && !mayCreate(name);
    // As Kafka's controller: the whole request is refused when the topics it may create would add too many
    // partitions at once.
    let requested = 0;
    for (const topic of request.topics) {
      if (denied(topic.name)) continue;
      const count = ctx.broker.controller.requestedPartitions(topic.numPartitions, topic.assignments.length);
      requested += Math.max(0, count);
    }
    if (requested > MAX_PARTITIONS_PER_REQUEST) {
      const { errorCode, errorMessage } = TOO_MANY_PARTITIONS_PER_REQUEST;
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => createResult(t.name, errorCode, errorMessage)),
      };
    }
    // All at once: the metadata store writes the topics of one request together, so a request for hundreds
    // of topics costs about what one costs.
    const results = await Promise.all(
      request.topics.map(async (topic): Promise<CreatableTopicResult> => {
        if (dup.has(topic.name)) {
          return createResult(
            topic.name,
            ErrorCode.INVALID_REQUEST,
            'Create topics request from client contains duplicate topic name.',
          );
        }
        if (denied(topic.name)) {
          return createResult(topic.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
        }
        const configs: Record<string, string | null> = {};
        for (const c of topic.configs) configs[c.name] = c.value;
        const outcome = await ctx.broker.controller.createTopic(
          {
            name: topic.name,
            numPartitions: topic.numPartitions,
            replicationFactor: topic.replicationFactor,
            assignments: new Map(topic.assignments.map((a) => [a.partitionIndex, a.brokerIds])),
            configs,
          },
          ctx.apiVersion >= 1 && request.validateOnly,
        );
        const result = createResult(topic.name, outcome.errorCode, outcome.errorMessage);
        if (
          outcome.errorCode === ErrorCode.NONE &&
          mayDescribeConfigs !== null &&
          !mayDescribeConfigs(topic.name)
        ) {
          // Created, but the principal may not see its configs: Kafka leaves them and the sizes out.
          result.topicId = outcome.topic?.topicId ?? ZERO_UUID;
          result.topicConfigErrorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          result.configs = [];
        } else if (outcome.errorCode === ErrorCode.NONE) {
          result.numPartitions = outcome.numPartitions;
          result.replicationFactor = outcome.replicationFactor;
          result.topicId = outcome.topic?.topicId ?? ZERO_UUID;
          const overrides: Record<string, string> = {};
          for (const [k, v] of Object.entries(configs)) if (v !== null) overrides[k] = v;
          result.configs = describedConfigs(ctx, overrides);
        }
        return result;
      }),
    );
    return { throttleTimeMs: 0, topics: results };
  },
  errorResponse(_ctx, request, errorCode) {
    return { throttleTimeMs: 0, topics: request.topics.map((t) => createResult(t.name, errorCode, null)) };
  },
};

const deleteTopics: ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse> = {
  api: DeleteTopicsApi,
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, request) {
    const { metadata, controller } = ctx.broker;
    const targets =
      ctx.apiVersion >= 6
        ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
        : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    // Null without an authorizer, and when DELETE on the cluster allows (and shows) every topic.
    let mayDelete = topicAuthorization(ctx, AclOperation.DELETE);
    if (mayDelete !== null && isClusterAuthorized(ctx, AclOperation.DELETE)) mayDelete = null;
    const mayDescribe = mayDelete === null ? null : topicAuthorization(ctx, AclOperation.DESCRIBE);
    const unauthorized = (name: string | null, topicId: string) => ({
      name,
      topicId,
      errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      errorMessage: errorInfo(ErrorCode.TOPIC_AUTHORIZATION_FAILED).message,
    });
    const responses = await Promise.all(
      targets.map(async (target): Promise<DeleteTopicsResponse['responses'][number]> => {
        const byId = target.name === null;
        // As Kafka's controller: whether a named topic exists is only told to who may describe it.
        if (!byId && mayDescribe !== null && !mayDescribe(target.name!)) {
          return unauthorized(target.name, ZERO_UUID);
        }
        const topic = byId ? metadata.getTopicById(target.topicId) : metadata.getTopic(target.name!);
        if (topic === undefined) {
          return {
            name: target.name,
            topicId: target.topicId,
            errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: null,
          };
        }
        if (mayDelete !== null && !mayDelete(topic.name)) {
          // A topic id is no secret, its name is: told only to who may describe the topic.
          return byId
            ? unauthorized(mayDescribe!(topic.name) ? topic.name : null, target.topicId)
            : unauthorized(topic.name, ZERO_UUID);
        }
        const outcome = await controller.deleteTopic(topic.name);
        return {
          name: topic.name,
          topicId: topic.topicId,
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
        };
      }),
    );
    return { throttleTimeMs: 0, responses };
  },
  errorResponse(ctx, request, errorCode) {
    const names = ctx.apiVersion >= 6 ? request.topics.map((t) => t.name) : request.topicNames;
    return {
      throttleTimeMs: 0,
      responses: names.map((name) => ({ name, topicId: ZERO_UUID, errorCode, errorMessage: null })),
    };
  },
};

const createPartitions: ApiHandler<CreatePartitionsRequest, CreatePartitionsResponse> = {
  api: CreatePartitionsApi,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const dup = duplicates(request.topics.map((t) => t.name));
    const mayAlter = topicAuthorization(ctx, AclOperation.ALTER);
    const denied = (name: string) => mayAlter !== null && !dup.has(name) && !mayAlter(name);
    let added = 0;
    for (const topic of request.topics) {
      if (denied(topic.name)) continue;
      const current = ctx.broker.metadata.getTopic(topic.name)?.partitions.length;
      if (current !== undefined) added += Math.max(0, topic.count - current);
    }
    if (added > MAX_PARTITIONS_PER_REQUEST) {
      const { errorCode, errorMessage } = TOO_MANY_PARTITIONS_PER_REQUEST;
      return {
        throttleTimeMs: 0,
        results: request.topics.map((t) => ({ name: t.name, errorCode, errorMessage })),
      };
    }
    const results: CreatePartitionsResponse['results'] = [];
    for (const topic of request.topics) {
      if (dup.has(topic.name)) {
        results.push({
          name: topic.name,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: 'Duplicate topic in request.',
        });
        continue;
      }
      if (denied(topic.name)) {
        results.push({
          name: topic.name,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: null,
        });
        continue;
      }
      const outcome = await ctx.broker.controller.createPartitions(
        topic.name,
        topic.count,
        topic.assignments === null ? null : topic.assignments.map((a) => a.brokerIds),
        request.validateOnly,
      );
      results.push({ name: topic.name, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage });
    }
    return { throttleTimeMs: 0, results };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: request.topics.map((t) => ({ name: t.name, errorCode, errorMessage: null })),
    };
  },
};

export const createTopicsHandler = registerHandler(createTopics);
export const deleteTopicsHandler = registerHandler(deleteTopics);
export const createPartitionsHandler = registerHandler(createPartitions);
