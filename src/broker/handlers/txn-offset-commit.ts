// TxnOffsetCommit (API 28): a transactional producer commits a consumer group's offsets inside its
// transaction (sendOffsetsToTransaction). The GroupCoordinator keeps them pending until the transaction's
// marker; this handler checks the partitions against the metadata, as Kafka does, and adapts versions.
import { ErrorCode } from '../../protocol/errors.js';
import {
  TxnOffsetCommitApi,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, isAuthorized, registerHandler } from '../context.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { planOffsetCommit } from './offsets.js';

/**
 * Producers before Kafka 2.0 treat COORDINATOR_LOAD_IN_PROGRESS as fatal (KAFKA-7296); Kafka sends them
 * COORDINATOR_NOT_AVAILABLE instead below v2, which they retry after finding the coordinator again.
 */
function forVersion(errorCode: number, version: number): number {
  return version < 2 && errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    ? ErrorCode.COORDINATOR_NOT_AVAILABLE
    : errorCode;
}

const txnOffsetCommit: ApiHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = {
  api: TxnOffsetCommitApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const version = ctx.apiVersion;
    // As Kafka: WRITE on the transactional id (which implies the producer id), then READ on the group; the
    // topics are checked with the partitions.
    if (!isAuthorized(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
      return this.errorResponse(ctx, request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    }
    if (!isAuthorized(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return this.errorResponse(ctx, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    const producerId = Number(request.producerId);
    // No producer id this broker hands out is outside the safe range, so none can be in a transaction.
    if (!Number.isSafeInteger(producerId))
      return this.errorResponse(ctx, request, ErrorCode.INVALID_PRODUCER_ID_MAPPING);

    const { topics, offsets, answers } = planOffsetCommit(ctx, request.topics, (topic, p) => ({
      topic,
      partition: p.partitionIndex,
      offset: Number(p.committedOffset),
      leaderEpoch: version >= 2 ? p.committedLeaderEpoch : -1,
      metadata: p.committedMetadata,
    }));
    const response: TxnOffsetCommitResponse = { throttleTimeMs: 0, topics };
    if (offsets.length === 0) return response;

    const results = await ctx.broker.groupCoordinator.commitTransactionalOffsets({
      transactionalId: request.transactionalId,
      groupId: request.groupId,
      producerId,
      producerEpoch: request.producerEpoch,
      generationId: version >= 3 ? request.generationId : -1,
      memberId: version >= 3 ? request.memberId : '',
      groupInstanceId: version >= 3 ? request.groupInstanceId : null,
      offsets,
    });
    // The coordinator answers in the order of `offsets`.
    results.forEach((result, i) => {
      answers[i]!.errorCode = forVersion(result.errorCode, version);
    });
    return response;
  },
  errorResponse(ctx, request, errorCode) {
    const code = forVersion(errorCode, ctx.apiVersion);
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })),
      })),
    };
  },
};

export const txnOffsetCommitHandler = registerHandler(txnOffsetCommit);
