// Produce: validate and append each partition's batches, answer once every append is done (acks 1/all) or
// not at all (acks 0). With acks=0 an error can only be signalled by closing the connection, as Kafka does.
import { ErrorCode } from '../../protocol/errors.js';
import { ProduceApi, type ProduceRequest, type ProduceResponse } from '../../protocol/generated/index.js';
import { type ApiHandler, registerHandler } from '../context.js';
import type { ProduceOutcome } from '../replica-manager.js';

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

function errorResponse(request: ProduceRequest, errorCode: number): ProduceResponse {
  return {
    responses: request.topicData.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map((p) =>
        partitionResponse(p.index, {
          errorCode,
          errorMessage: null,
          baseOffset: -1,
          logAppendTimeMs: -1,
          logStartOffset: -1,
        }),
      ),
    })),
    throttleTimeMs: 0,
    nodeEndpoints: [],
  };
}

const handler: ApiHandler<ProduceRequest, ProduceResponse> = {
  api: ProduceApi,
  minVersion: 0,
  maxVersion: 11,
  async handle(ctx, request) {
    const { replicaManager } = ctx.broker;
    const acks = request.acks;
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      return errorResponse(request, ErrorCode.INVALID_REQUIRED_ACKS);
    }
    // Start every append before awaiting any, so offsets follow request order.
    const started: Promise<ProduceOutcome>[] = [];
    try {
      for (const topic of request.topicData) {
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
