// DeleteRecords: moves partitions' log start offsets up (kafka-delete-records.sh, kafkajs deleteTopicRecords).
import { ErrorCode } from '../../protocol/errors.js';
import {
  DeleteRecordsApi,
  type DeleteRecordsRequest,
  type DeleteRecordsResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, registerHandler } from '../context.js';

type PartitionResult = DeleteRecordsResponse['topics'][number]['partitions'][number];

function answer(partitionIndex: number, errorCode: number, lowWatermark = -1): PartitionResult {
  return { partitionIndex, errorCode, lowWatermark: BigInt(lowWatermark) };
}

const handler: ApiHandler<DeleteRecordsRequest, DeleteRecordsResponse> = {
  api: DeleteRecordsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const { replicaManager } = ctx.broker;
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map(async ({ partitionIndex, offset }) => {
            const hosted = replicaManager.get(topic.name, partitionIndex);
            if (hosted === undefined) return answer(partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            const { errorCode, lowWatermark } = await replicaManager.deleteRecords(hosted, Number(offset));
            return answer(partitionIndex, errorCode, lowWatermark);
          }),
        ),
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

export const deleteRecordsHandler = registerHandler(handler);
