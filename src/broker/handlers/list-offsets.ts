// ListOffsets: earliest, latest, by timestamp, max timestamp (KIP-734), and the tiered-storage specials
// answered as a broker without tiered storage does. With an authorizer each topic needs DESCRIBE, as in Kafka.
import { ErrorCode } from '../../protocol/errors.js';
import {
  ListOffsetsApi,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, type RequestContext, registerHandler } from '../context.js';
import { READ_COMMITTED, type TimestampAndOffset } from '../replica-manager.js';
import { AclOperation } from '../security/acl.js';
import { topicAuthorization } from './authorization.js';

type PartitionRequest = ListOffsetsRequest['topics'][number]['partitions'][number];
type PartitionResponse = ListOffsetsResponse['topics'][number]['partitions'][number];

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;

function answer(
  partitionIndex: number,
  errorCode: number,
  offset = -1,
  timestamp = -1,
  leaderEpoch = -1,
): PartitionResponse {
  return {
    partitionIndex,
    errorCode,
    oldStyleOffsets: offset >= 0 ? [BigInt(offset)] : [],
    timestamp: BigInt(timestamp),
    offset: BigInt(offset),
    leaderEpoch,
  };
}

async function listOffset(
  ctx: RequestContext,
  topic: string,
  request: PartitionRequest,
  isolationLevel: number,
): Promise<PartitionResponse> {
  const { replicaManager } = ctx.broker;
  const index = request.partitionIndex;
  const hosted = replicaManager.get(topic, index);
  if (hosted === undefined) return answer(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  if (!replicaManager.isLeader(hosted)) return answer(index, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const epochError = replicaManager.checkLeaderEpoch(hosted, request.currentLeaderEpoch);
  if (epochError !== ErrorCode.NONE) return answer(index, epochError);
  const { log } = hosted;
  const epoch = hosted.state.leaderEpoch;
  const timestamp = Number(request.timestamp);
  // What the consumer may fetch: a record found at or after it is not answered, as Kafka's leader does.
  const lastFetchableOffset =
    isolationLevel === READ_COMMITTED ? replicaManager.lastStableOffset(hosted) : log.highWatermark;
  const found = (result: TimestampAndOffset | null) =>
    result === null || result.offset >= lastFetchableOffset
      ? answer(index, ErrorCode.NONE)
      : answer(index, ErrorCode.NONE, result.offset, result.timestamp, epoch);
  switch (timestamp) {
    case LATEST:
      return answer(index, ErrorCode.NONE, lastFetchableOffset, -1, epoch);
    case EARLIEST:
    case EARLIEST_LOCAL:
      return answer(index, ErrorCode.NONE, log.logStartOffset, -1, epoch);
    case LATEST_TIERED:
      return answer(index, ErrorCode.NONE, -1, -1, -1);
    case MAX_TIMESTAMP:
      return found(await replicaManager.maxTimestampOffset(hosted));
    default:
      if (timestamp < 0) return answer(index, ErrorCode.NONE);
      return found(await replicaManager.offsetForTimestamp(hosted, timestamp));
  }
}

const handler: ApiHandler<ListOffsetsRequest, ListOffsetsResponse> = {
  api: ListOffsetsApi,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request) {
    const isolationLevel = ctx.apiVersion >= 2 ? request.isolationLevel : 0;
    const mayDescribe = topicAuthorization(ctx, AclOperation.DESCRIBE);
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions:
          mayDescribe !== null && !mayDescribe(topic.name)
            ? topic.partitions.map((p) => answer(p.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED))
            : await Promise.all(topic.partitions.map((p) => listOffset(ctx, topic.name, p, isolationLevel))),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((p) => answer(p.partitionIndex, errorCode)),
      })),
    };
  },
};

export const listOffsetsHandler = registerHandler(handler);
