// OffsetCommit, OffsetFetch and OffsetDelete: committed consumer offsets, kept by the GroupCoordinator.
// Offsets are int64 (bigint) on the wire and plain numbers in the coordinator.
//
// Version 0 of OffsetCommit and OffsetFetch kept offsets in ZooKeeper, a store separate from the one v1+
// use; a Kafka broker without ZooKeeper answers them UNSUPPORTED_VERSION. This broker does not advertise
// them, so the dispatcher gives the same answer.
import type { OffsetCommitEntry, OffsetFetchResult, TopicPartitions } from '../../coordinator/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  OffsetCommitApi,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  OffsetDeleteApi,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
  OffsetFetchApi,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, isAuthorized, type RequestContext, registerHandler } from '../context.js';
import { AclOperation, ResourceType } from '../security/acl.js';

type FetchedTopic = OffsetFetchResponse['topics'][number];
type FetchedGroup = OffsetFetchResponse['groups'][number];

/** Kafka checks the metadata, not the group, before committing or deleting: unknown partitions fail alone. */
function partitionExists(ctx: RequestContext, topic: string, partition: number): boolean {
  return ctx.broker.metadata.getTopic(topic)?.partitions[partition] !== undefined;
}

interface PartitionAnswer {
  partitionIndex: number;
  errorCode: number;
}

/** Whether the principal may `operation` each topic, asking the authorizer once per topic name. */
export function topicAuthorizer(ctx: RequestContext, operation: number): (topic: string) => boolean {
  const decided = new Map<string, boolean>();
  return (topic) => {
    let allowed = decided.get(topic);
    if (allowed === undefined) {
      allowed = isAuthorized(ctx, operation, ResourceType.TOPIC, topic);
      decided.set(topic, allowed);
    }
    return allowed;
  };
}

/**
 * An offset commit's answers (OffsetCommit, TxnOffsetCommit), once the group is authorized: partitions of
 * topics the principal may not READ are TOPIC_AUTHORIZATION_FAILED, every other partition
 * UNKNOWN_TOPIC_OR_PARTITION until the coordinator answers; the entries of the partitions that exist, with
 * `answers` in their order.
 */
export function planOffsetCommit<P extends { partitionIndex: number }>(
  ctx: RequestContext,
  topics: readonly { name: string; partitions: readonly P[] }[],
  entryOf: (topic: string, partition: P) => OffsetCommitEntry,
): {
  topics: { name: string; partitions: PartitionAnswer[] }[];
  offsets: OffsetCommitEntry[];
  answers: PartitionAnswer[];
} {
  const offsets: OffsetCommitEntry[] = [];
  const answers: PartitionAnswer[] = [];
  const mayRead = topicAuthorizer(ctx, AclOperation.READ);
  const answered = topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((p) => {
      if (!mayRead(topic.name)) {
        return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
      }
      const answer = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      if (partitionExists(ctx, topic.name, p.partitionIndex)) {
        offsets.push(entryOf(topic.name, p));
        answers.push(answer);
      }
      return answer;
    }),
  }));
  return { topics: answered, offsets, answers };
}

const offsetCommit: ApiHandler<OffsetCommitRequest, OffsetCommitResponse> = {
  api: OffsetCommitApi,
  minVersion: 1,
  maxVersion: 9,
  async handle(ctx, request) {
    const version = ctx.apiVersion;
    if (!isAuthorized(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return this.errorResponse(ctx, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    const { topics, offsets, answers } = planOffsetCommit(ctx, request.topics, (topic, p) => ({
      topic,
      partition: p.partitionIndex,
      offset: Number(p.committedOffset),
      leaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
      metadata: p.committedMetadata,
      commitTimestampMs: version === 1 ? Number(p.commitTimestamp) : -1,
    }));
    const response: OffsetCommitResponse = { throttleTimeMs: 0, topics };
    if (offsets.length === 0) return response;

    const results = await ctx.broker.groupCoordinator.commitOffsets({
      groupId: request.groupId,
      generationId: request.generationIdOrMemberEpoch,
      memberId: request.memberId,
      groupInstanceId: version >= 7 ? request.groupInstanceId : null,
      retentionTimeMs: version >= 2 && version <= 4 ? Number(request.retentionTimeMs) : -1,
      offsets,
      groupIdNotFoundIfMissing: version >= 9,
    });
    // The coordinator answers in the order of `offsets`.
    results.forEach((result, i) => {
      answers[i]!.errorCode = result.errorCode;
    });
    return response;
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      })),
    };
  },
};

function toTopicPartitions(
  topics: readonly { name: string; partitionIndexes: number[] }[] | null,
): TopicPartitions[] | null {
  return topics === null ? null : topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes }));
}

function fetchedTopics(result: OffsetFetchResult): FetchedTopic[] {
  return result.topics.map(({ topic, partitions }) => ({
    name: topic,
    partitions: partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: BigInt(p.offset),
      committedLeaderEpoch: p.leaderEpoch,
      metadata: p.metadata,
      errorCode: p.errorCode,
    })),
  }));
}

/** v0-v1 have no top-level error: it goes into every requested partition, with no offset. */
function partitionErrors(
  topics: readonly { name: string; partitionIndexes: number[] }[] | null,
  errorCode: number,
): FetchedTopic[] {
  return (topics ?? []).map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex) => ({
      partitionIndex,
      committedOffset: -1n,
      committedLeaderEpoch: -1,
      metadata: '',
      errorCode,
    })),
  }));
}

interface GroupOffsets {
  errorCode: number;
  topics: FetchedTopic[];
}

/**
 * One group's committed offsets as the principal may see them (Kafka's fetchOffsetsForGroup and
 * fetchAllOffsetsForGroup): DESCRIBE on the group, else GROUP_AUTHORIZATION_FAILED alone. Topics it may not
 * DESCRIBE are left out of an all-topics fetch; named ones come last, TOPIC_AUTHORIZATION_FAILED.
 */
async function fetchGroupOffsets(
  ctx: RequestContext,
  groupId: string,
  topics: readonly { name: string; partitionIndexes: number[] }[] | null,
  requireStable: boolean,
): Promise<GroupOffsets> {
  if (!isAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
    return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
  }
  const coordinator = ctx.broker.groupCoordinator;
  const mayDescribe = topicAuthorizer(ctx, AclOperation.DESCRIBE);
  if (topics === null) {
    const result = await coordinator.fetchOffsets(groupId, null, requireStable);
    if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, topics: [] };
    return { errorCode: ErrorCode.NONE, topics: fetchedTopics(result).filter((t) => mayDescribe(t.name)) };
  }
  const authorized = topics.filter((t) => mayDescribe(t.name));
  const result = await coordinator.fetchOffsets(groupId, toTopicPartitions(authorized), requireStable);
  if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, topics: [] };
  const denied = topics.filter((t) => !mayDescribe(t.name));
  return {
    errorCode: ErrorCode.NONE,
    topics: fetchedTopics(result).concat(partitionErrors(denied, ErrorCode.TOPIC_AUTHORIZATION_FAILED)),
  };
}

const offsetFetch: ApiHandler<OffsetFetchRequest, OffsetFetchResponse> = {
  api: OffsetFetchApi,
  minVersion: 1,
  maxVersion: 9,
  async handle(ctx, request) {
    const version = ctx.apiVersion;
    const requireStable = version >= 7 && request.requireStable;
    if (version >= 8) {
      // KIP-709: several groups at once, each answered on its own. v9's member id and epoch only matter
      // to consumer-protocol (KIP-848) groups, which this coordinator does not host.
      const groups = await Promise.all(
        request.groups.map(
          async (group): Promise<FetchedGroup> => ({
            groupId: group.groupId,
            ...(await fetchGroupOffsets(ctx, group.groupId, group.topics, requireStable)),
          }),
        ),
      );
      return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE, groups };
    }
    const result = await fetchGroupOffsets(ctx, request.groupId, request.topics, requireStable);
    if (version < 2 && result.errorCode !== ErrorCode.NONE) {
      return this.errorResponse(ctx, request, result.errorCode);
    }
    return { throttleTimeMs: 0, topics: result.topics, errorCode: result.errorCode, groups: [] };
  },
  errorResponse(ctx, request, errorCode) {
    if (ctx.apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        topics: [],
        errorCode: ErrorCode.NONE,
        groups: request.groups.map((g) => ({ groupId: g.groupId, topics: [], errorCode })),
      };
    }
    return {
      throttleTimeMs: 0,
      topics: ctx.apiVersion < 2 ? partitionErrors(request.topics, errorCode) : [],
      errorCode,
      groups: [],
    };
  },
};

const offsetDelete: ApiHandler<OffsetDeleteRequest, OffsetDeleteResponse> = {
  api: OffsetDeleteApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    if (!isAuthorized(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) {
      return this.errorResponse(ctx, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    const mayRead = topicAuthorizer(ctx, AclOperation.READ);
    const known: TopicPartitions[] = [];
    for (const topic of request.topics) {
      if (!mayRead(topic.name)) continue;
      const partitions = topic.partitions
        .map((p) => p.partitionIndex)
        .filter((p) => partitionExists(ctx, topic.name, p));
      if (partitions.length > 0) known.push({ topic: topic.name, partitions });
    }
    const result = await ctx.broker.groupCoordinator.deleteOffsets(request.groupId, known);
    if (result.errorCode !== ErrorCode.NONE) return this.errorResponse(ctx, request, result.errorCode);

    const errorByPartition = new Map<string, number>();
    for (const { topic, partitions } of result.topics) {
      for (const { partition, errorCode } of partitions)
        errorByPartition.set(`${partition}:${topic}`, errorCode);
    }
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map(({ partitionIndex }) => ({
          partitionIndex,
          errorCode: !mayRead(topic.name)
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : (errorByPartition.get(`${partitionIndex}:${topic.name}`) ??
              ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        })),
      })),
    };
  },
  errorResponse(_ctx, _request, errorCode) {
    // As Kafka: a group-level failure is the top-level error alone.
    return { errorCode, throttleTimeMs: 0, topics: [] };
  },
};

export const offsetCommitHandler = registerHandler(offsetCommit);
export const offsetFetchHandler = registerHandler(offsetFetch);
export const offsetDeleteHandler = registerHandler(offsetDelete);
