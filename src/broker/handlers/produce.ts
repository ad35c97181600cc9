// Produce: validate and append each partition's batches, answer once every append is done (acks 1/all) or
// not at all (acks 0). With acks=0 an error can only be signalled by closing the connection, as Kafka does.
// With an authorizer, as Kafka: transactional records need WRITE on their transactional id (else the whole
// request fails), and each topic needs WRITE (else its partitions fail and the others are still written).
import { ErrorCode, errorInfo } from '../../protocol/errors.js';
import { ProduceApi, type ProduceRequest, type ProduceResponse } from '../../protocol/generated/index.js';
import {
  ATTRIBUTES_OFFSET,
  CURRENT_MAGIC,
  MAGIC_OFFSET,
  TRANSACTIONAL_FLAG_MASK,
} from '../../protocol/records/layout.js';
import { type ApiHandler, isAuthorized, type RequestContext, registerHandler } from '../context.js';
import type { ProduceOutcome } from '../replica-manager.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { topicAuthorization } from './authorization.js';

type TopicResponse = ProduceResponse['responses'][number];
type PartitionResponse = TopicResponse['partitionResponses'][number];

export class AcksZeroProduceError extends Error {
  override name = 'AcksZeroProduceError';
}

function partitionResponse(index: number, outcome: ProduceOutcome): PartitionResponse {
  return {
    index,
    errorCode: outcome.errorCode,
    baseOffset: BigInt(outcome.baseOffset),
    logAppendTimeMs: BigInt(outcome.logAppendTimeMs),
    logStartOffset: BigInt(outcome.logStartOffset),
    recordErrors: [],
    errorMessage: outcome.errorMessage,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

function failedProduce(errorCode: number, errorMessage: string | null = null): ProduceOutcome {
  return { errorCode, errorMessage, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
}

const TOPIC_NOT_WRITABLE = failedProduce(ErrorCode.TOPIC_AUTHORIZATION_FAILED);

/**
 * Every partition refused with `errorCode`, except those of topics `mayWrite` denies, which report that
 * instead (Kafka checks topic authorization before anything else it finds wrong in a partition).
 */
function errorResponse(
  request: ProduceRequest,
  errorCode: number,
  mayWrite: ((topic: string) => boolean) | null = null,
  errorMessage: string | null = null,
): ProduceResponse {
  const refused = failedProduce(errorCode, errorMessage);
  return {
    responses: request.topicData.map((topic) => {
      const outcome = mayWrite === null || mayWrite(topic.name) ? refused : TOPIC_NOT_WRITABLE;
      return {
        name: topic.name,
        partitionResponses: topic.partitionData.map((p) => partitionResponse(p.index, outcome)),
      };
    }),
    throttleTimeMs: 0,
    nodeEndpoints: [],
  };
}

/** Kafka's RequestUtils.hasTransactionalRecords: whether the first batch of any partition is transactional. */
function hasTransactionalRecords(request: ProduceRequest): boolean {
  for (const topic of request.topicData) {
    for (const { records } of topic.partitionData) {
      if (
        records !== null &&
        records.length >= ATTRIBUTES_OFFSET + 2 &&
        records[MAGIC_OFFSET] === CURRENT_MAGIC &&
        (records.readInt16BE(ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG_MASK) !== 0
      ) {
        return true;
      }
    }
  }
  return false;
}

/** With an authorizer: whether the request may write the transactional records it carries, if any. */
function mayWriteTransactionally(ctx: RequestContext, request: ProduceRequest): boolean {
  if (!hasTransactionalRecords(request)) return true;
  const { transactionalId } = request;
  return (
    transactionalId !== null &&
    isAuthorized(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)
  );
}

const handler: ApiHandler<ProduceRequest, ProduceResponse> = {
  api: ProduceApi,
  minVersion: 0,
  maxVersion: 11,
  async handle(ctx, request) {
    const { replicaManager } = ctx.broker;
    const acks = request.acks;
    // Null without an authorizer: then nothing below costs more than this one check.
    const mayWrite = topicAuthorization(ctx, AclOperation.WRITE);
    if (mayWrite !== null && !mayWriteTransactionally(ctx, request)) {
      const code = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      if (acks === 0) throw new AcksZeroProduceError('transactional produce not authorized');
      return errorResponse(request, code, null, errorInfo(code).message);
    }
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      return errorResponse(request, ErrorCode.INVALID_REQUIRED_ACKS, mayWrite);
    }
    // Start every append before awaiting any, so offsets follow request order.
    const started: Promise<ProduceOutcome>[] = [];
    try {
      for (const topic of request.topicData) {
        if (mayWrite !== null && !mayWrite(topic.name)) {
          const denied = Promise.resolve(TOPIC_NOT_WRITABLE);
          for (let i = 0; i < topic.partitionData.length; i++) started.push(denied);
          continue;
        }
        for (const p of topic.partitionData) {
          started.push(
            replicaManager.appendRecords(
              topic.name,
              p.index,
              p.records,
              acks,
              ctx.apiVersion,
              request.transactionalId,
            ),
          );
        }
      }
    } catch (error) {
      // The request's frame is reused once this handler settles, so appends already started (which may be
      // writing straight from it) must finish first.
      await Promise.allSettled(started);
      throw error;
    }
    const outcomes = await Promise.all(started);
    if (acks === 0) {
      const failed = outcomes.find((o) => o.errorCode !== ErrorCode.NONE);
      if (failed !== undefined) {
        throw new AcksZeroProduceError(`acks=0 produce failed with error ${failed.errorCode}`);
      }
      return null;
    }
    let next = 0;
    return {
      responses: request.topicData.map((topic) => ({
        name: topic.name,
        partitionResponses: topic.partitionData.map((p) => partitionResponse(p.index, outcomes[next++]!)),
      })),
      throttleTimeMs: 0,
      nodeEndpoints: [],
    };
  },
  errorResponse(_ctx, request, errorCode) {
    return errorResponse(request, errorCode);
  },
};

export const produceHandler = registerHandler(handler);
