// CreateTopics, DeleteTopics and CreatePartitions: per-topic results from the controller.
import { effectiveTopicConfig } from '../../common/topic-config.js';
import { ErrorCode } from '../../protocol/errors.js';
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
    // As Kafka's controller: the whole request is refused when it would create too many partitions at once.
    let requested = 0;
    for (const topic of request.topics) {
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
        if (outcome.errorCode === ErrorCode.NONE) {
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
    const responses = await Promise.all(
      targets.map(async (target): Promise<DeleteTopicsResponse['responses'][number]> => {
        const byId = target.name === null;
        const topic = byId ? metadata.getTopicById(target.topicId) : metadata.getTopic(target.name!);
        if (topic === undefined) {
          return {
            name: target.name,
            topicId: target.topicId,
            errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: null,
          };
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
    let added = 0;
    for (const topic of request.topics) {
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
