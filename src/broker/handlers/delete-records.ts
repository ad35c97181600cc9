// DeleteRecords: moves partitions' log start offsets up (kafka-delete-records.sh, kafkajs deleteTopicRecords).
// With an authorizer each topic needs DELETE, as in Kafka.
import { ErrorCode } from '../../protocol/errors.js';
import {
  DeleteRecordsApi,
  type DeleteRecordsRequest,
  type DeleteRecordsResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, registerHandler } from '../context.js';
import { AclOperation } from '../security/acl.js';
import { topicAuthorization } from './authorization.js';

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
    const mayDelete = topicAuthorization(ctx, AclOperation.DELETE);
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map(async ({ partitionIndex, offset }) => {
            if (mayDelete !== null && !mayDelete(topic.name)) {
              return answer(partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            }
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
