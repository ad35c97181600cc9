// The transactional producer's APIs, answered by the transaction coordinator: AddPartitionsToTxn (v4+ also
// the batched, verify-only form brokers use), AddOffsetsToTxn, EndTxn, and the admin views ListTransactions
// and DescribeTransactions. Handlers translate between the wire and the coordinator, including the error
// codes older versions know (PRODUCER_FENCED arrived in v2 of the first three).

import type { TopicPartition } from '../../coordinator/transactions/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  AddOffsetsToTxnApi,
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
  AddPartitionsToTxnApi,
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnRequestAddPartitionsToTxnTopic,
  type AddPartitionsToTxnResponse,
  type AddPartitionsToTxnResponseAddPartitionsToTxnResult,
  type AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
  DescribeTransactionsApi,
  type DescribeTransactionsRequest,
  type DescribeTransactionsResponse,
  EndTxnApi,
  type EndTxnRequest,
  type EndTxnResponse,
  ListTransactionsApi,
  type ListTransactionsRequest,
  type ListTransactionsResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, isAuthorized, type RequestContext, registerHandler } from '../context.js';
import { OFFSETS_TOPIC } from '../offsets-topic.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { TRANSACTION_STATE_TOPIC } from '../transaction-state-topic.js';
import { topicAuthorizer } from './offsets.js';

/** The first version of AddPartitionsToTxn, AddOffsetsToTxn and EndTxn that knows PRODUCER_FENCED. */
const PRODUCER_FENCED_VERSION = 2;
/** AddPartitionsToTxn v5 (KIP-890) knows TRANSACTION_ABORTABLE; v4 says INVALID_TXN_STATE instead. */
const TRANSACTION_ABORTABLE_VERSION = 5;
/** AddPartitionsToTxn v4+ (batched transactions) is sent by brokers, v0-v3 by producers. */
const BROKER_ADD_PARTITIONS_VERSION = 4;
/** A producer may not add these to a transaction, whatever its ACLs (Kafka's Topic.isInternal). */
const INTERNAL_TOPICS: ReadonlySet<string> = new Set([OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC]);

function mayWriteTransaction(ctx: RequestContext, transactionalId: string): boolean {
  return isAuthorized(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId);
}

function clientErrorCode(errorCode: number, version: number): number {
  if (errorCode === ErrorCode.PRODUCER_FENCED && version < PRODUCER_FENCED_VERSION) {
    return ErrorCode.INVALID_PRODUCER_EPOCH;
  }
  return errorCode;
}

interface TransactionToAdd {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  verifyOnly: boolean;
  topics: AddPartitionsToTxnRequestAddPartitionsToTxnTopic[];
}

/** Partitions in request order, a partition named twice only once. */
function partitionsOf(topics: readonly AddPartitionsToTxnRequestAddPartitionsToTxnTopic[]): TopicPartition[] {
  const seen = new Set<string>();
  const partitions: TopicPartition[] = [];
  for (const { name, partitions: indexes } of topics) {
    for (const partition of indexes) {
      const key = `${name}\u0000${partition}`;
      if (seen.has(key)) continue;
      seen.add(key);
      partitions.push({ topic: name, partition });
    }
  }
  return partitions;
}

function resultsByTopic(
  partitions: readonly TopicPartition[],
  errorCodes: readonly number[],
): AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult[] {
  const byTopic = new Map<string, AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult>();
  partitions.forEach(({ topic, partition }, i) => {
    let result = byTopic.get(topic);
    if (result === undefined) {
      result = { name: topic, resultsByPartition: [] };
      byTopic.set(topic, result);
    }
    result.resultsByPartition.push({ partitionIndex: partition, partitionErrorCode: errorCodes[i]! });
  });
  return [...byTopic.values()];
}

async function addPartitions(
  ctx: RequestContext,
  transaction: TransactionToAdd,
): Promise<AddPartitionsToTxnResponseAddPartitionsToTxnResult> {
  const { metadata, transactionCoordinator } = ctx.broker;
  const partitions = partitionsOf(transaction.topics);
  const result = (errorCodes: number[]) => ({
    transactionalId: transaction.transactionalId,
    topicResults: resultsByTopic(partitions, errorCodes),
  });
  // A producer's request (v0-v3) needs WRITE on the transactional id and on each topic; a broker's (v4+)
  // was authorized as a whole.
  const fromProducer = ctx.apiVersion < BROKER_ADD_PARTITIONS_VERSION;
  if (fromProducer && !mayWriteTransaction(ctx, transaction.transactionalId)) {
    return result(partitions.map(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
  }
  const mayWrite = topicAuthorizer(ctx, AclOperation.WRITE);
  const failures = partitions.map(({ topic, partition }) => {
    if (fromProducer && (INTERNAL_TOPICS.has(topic) || !mayWrite(topic))) {
      return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    }
    return metadata.getTopic(topic)?.partitions[partition] === undefined
      ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      : ErrorCode.NONE;
  });
  // One failed partition fails the whole request: the others are reported as not attempted.
  if (failures.some((code) => code !== ErrorCode.NONE)) {
    return result(
      failures.map((code) => (code === ErrorCode.NONE ? ErrorCode.OPERATION_NOT_ATTEMPTED : code)),
    );
  }
  const producerId = Number(transaction.producerId);
  if (transaction.verifyOnly) {
    const codes = transactionCoordinator.verifyPartitions(
      transaction.transactionalId,
      producerId,
      transaction.producerEpoch,
      partitions,
    );
    return result(
      codes.map((code) =>
        code === ErrorCode.TRANSACTION_ABORTABLE && ctx.apiVersion < TRANSACTION_ABORTABLE_VERSION
          ? ErrorCode.INVALID_TXN_STATE
          : code,
      ),
    );
  }
  const errorCode = await transactionCoordinator.addPartitions(
    transaction.transactionalId,
    producerId,
    transaction.producerEpoch,
    partitions,
  );
  const code = clientErrorCode(errorCode, ctx.apiVersion);
  return result(partitions.map(() => code));
}

const addPartitionsToTxn: ApiHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = {
  api: AddPartitionsToTxnApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    if (ctx.apiVersion < 4) {
      const result = await addPartitions(ctx, {
        transactionalId: request.v3AndBelowTransactionalId,
        producerId: request.v3AndBelowProducerId,
        producerEpoch: request.v3AndBelowProducerEpoch,
        verifyOnly: false,
        topics: request.v3AndBelowTopics,
      });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        resultsByTransaction: [],
        resultsByTopicV3AndBelow: result.topicResults,
      };
    }
    if (!isAuthorized(ctx, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
      return this.errorResponse(ctx, request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    const results = await Promise.all(
      request.transactions.map((transaction) => addPartitions(ctx, transaction)),
    );
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      resultsByTransaction: results,
      resultsByTopicV3AndBelow: [],
    };
  },
  errorResponse(ctx, request, errorCode) {
    if (ctx.apiVersion < 4) {
      const partitions = partitionsOf(request.v3AndBelowTopics);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        resultsByTransaction: [],
        resultsByTopicV3AndBelow: resultsByTopic(
          partitions,
          partitions.map(() => errorCode),
        ),
      };
    }
    return { throttleTimeMs: 0, errorCode, resultsByTransaction: [], resultsByTopicV3AndBelow: [] };
  },
};

const addOffsetsToTxn: ApiHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = {
  api: AddOffsetsToTxnApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const { groupCoordinator, transactionCoordinator } = ctx.broker;
    if (!mayWriteTransaction(ctx, request.transactionalId)) {
      return this.errorResponse(ctx, request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    }
    if (!isAuthorized(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return this.errorResponse(ctx, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    // The group's offsets partition joins the transaction: its marker settles the TxnOffsetCommits.
    const errorCode = await transactionCoordinator.addPartitions(
      request.transactionalId,
      Number(request.producerId),
      request.producerEpoch,
      [{ topic: OFFSETS_TOPIC, partition: groupCoordinator.partitionFor(request.groupId) }],
    );
    return { throttleTimeMs: 0, errorCode: clientErrorCode(errorCode, ctx.apiVersion) };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode };
  },
};

const endTxn: ApiHandler<EndTxnRequest, EndTxnResponse> = {
  api: EndTxnApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    if (!mayWriteTransaction(ctx, request.transactionalId)) {
      return this.errorResponse(ctx, request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    }
    const errorCode = await ctx.broker.transactionCoordinator.endTxn(
      request.transactionalId,
      Number(request.producerId),
      request.producerEpoch,
      request.committed,
    );
    return { throttleTimeMs: 0, errorCode: clientErrorCode(errorCode, ctx.apiVersion) };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode };
  },
};

const listTransactions: ApiHandler<ListTransactionsRequest, ListTransactionsResponse> = {
  api: ListTransactionsApi,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    const result = ctx.broker.transactionCoordinator.listTransactions({
      states: request.stateFilters,
      producerIds: request.producerIdFilters.map(Number),
      durationMs: ctx.apiVersion >= 1 ? Number(request.durationFilter) : -1,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      unknownStateFilters: result.unknownStateFilters,
      // Only the transactional ids the principal may describe.
      transactionStates: result.transactionStates
        .filter((t) =>
          isAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, t.transactionalId),
        )
        .map((t) => ({
          transactionalId: t.transactionalId,
          producerId: BigInt(t.producerId),
          transactionState: t.transactionState,
        })),
    };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode, unknownStateFilters: [], transactionStates: [] };
  },
};

function failedDescription(
  transactionalId: string,
  errorCode: number,
): DescribeTransactionsResponse['transactionStates'][number] {
  return {
    errorCode,
    transactionalId,
    transactionState: '',
    transactionTimeoutMs: 0,
    transactionStartTimeMs: 0n,
    producerId: 0n,
    producerEpoch: 0,
    topics: [],
  };
}

const describeTransactions: ApiHandler<DescribeTransactionsRequest, DescribeTransactionsResponse> = {
  api: DescribeTransactionsApi,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const { transactionCoordinator } = ctx.broker;
    const mayDescribeTopic = topicAuthorizer(ctx, AclOperation.DESCRIBE);
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((id) => {
        if (!isAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, id)) {
          return failedDescription(id, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        }
        const described = transactionCoordinator.describeTransaction(id);
        return {
          ...described,
          transactionStartTimeMs: BigInt(described.transactionStartTimeMs),
          producerId: BigInt(described.producerId),
          // Only the partitions of topics the principal may describe.
          topics: described.topics.filter((t) => mayDescribeTopic(t.topic)),
        };
      }),
    };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((id) => failedDescription(id, errorCode)),
    };
  },
};

export const addPartitionsToTxnHandler = registerHandler(addPartitionsToTxn);
export const addOffsetsToTxnHandler = registerHandler(addOffsetsToTxn);
export const endTxnHandler = registerHandler(endTxn);
export const listTransactionsHandler = registerHandler(listTransactions);
export const describeTransactionsHandler = registerHandler(describeTransactions);
