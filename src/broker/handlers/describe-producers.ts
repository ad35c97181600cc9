// DescribeProducers (KIP-664): the producers a partition keeps state for, with the start of each one's open
// transaction, so an operator can find the transaction that holds a partition's last stable offset back
// (kafka-transactions.sh describe-producers, Admin.describeProducers). With an authorizer each topic needs
// READ, as in Kafka.
import { validateTopicName } from '../../metadata/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  DescribeProducersApi,
  type DescribeProducersRequest,
  type DescribeProducersResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, type RequestContext, registerHandler } from '../context.js';
import { AclOperation } from '../security/acl.js';
import { topicAuthorization } from './authorization.js';

type PartitionResponse = DescribeProducersResponse['topics'][number]['partitions'][number];
type ProducerState = PartitionResponse['activeProducers'][number];

function failed(
  partitionIndex: number,
  errorCode: number,
  errorMessage: string | null = null,
): PartitionResponse {
  return { partitionIndex, errorCode, errorMessage, activeProducers: [] };
}

function describePartition(ctx: RequestContext, topic: string, partitionIndex: number): PartitionResponse {
  const { metadata, replicaManager } = ctx.broker;
  if (metadata.getTopic(topic)?.partitions[partitionIndex] === undefined) {
    return failed(partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }
  // Kafka answers from any replica holding the log (an admin may ask a follower), not only the leader.
  const hosted = replicaManager.get(topic, partitionIndex);
  if (hosted === undefined) return failed(partitionIndex, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const activeProducers: ProducerState[] = hosted.log
    .activeProducers()
    .map((producer) => ({
      producerId: BigInt(producer.producerId),
      producerEpoch: producer.producerEpoch,
      lastSequence: producer.lastSequence,
      lastTimestamp: BigInt(producer.lastTimestampMs),
      coordinatorEpoch: producer.coordinatorEpoch,
      currentTxnStartOffset: BigInt(producer.currentTxnStartOffset),
    }))
    .sort((a, b) => (a.producerId < b.producerId ? -1 : a.producerId > b.producerId ? 1 : 0));
  return { partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers };
}

const handler: ApiHandler<DescribeProducersRequest, DescribeProducersResponse> = {
  api: DescribeProducersApi,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const mayRead = topicAuthorization(ctx, AclOperation.READ);
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => {
        // As Kafka: a name that cannot be a topic first, then authorization, then the partitions.
        const invalidName = validateTopicName(topic.name);
        const topicError =
          invalidName !== null
            ? { code: ErrorCode.INVALID_TOPIC_EXCEPTION, message: invalidName }
            : mayRead !== null && !mayRead(topic.name)
              ? { code: ErrorCode.TOPIC_AUTHORIZATION_FAILED, message: null }
              : null;
        return {
          name: topic.name,
          partitions: topic.partitionIndexes.map((index) =>
            topicError === null
              ? describePartition(ctx, topic.name, index)
              : failed(index, topicError.code, topicError.message),
          ),
        };
      }),
    };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map((index) => failed(index, errorCode)),
      })),
    };
  },
};

export const describeProducersHandler = registerHandler(handler);
