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
import { type ApiHandler, type RequestContext, registerHandler } from '../context.js';
import { OFFSETS_TOPIC } from '../offsets-topic.js';

/** The first version of AddPartitionsToTxn, AddOffsetsToTxn and EndTxn that knows PRODUCER_FENCED. */
const PRODUCER_FENCED_VERSION = 2;
/** AddPartitionsToTxn v5 (KIP-890) knows TRANSACTION_ABORTABLE; v4 says INVALID_TXN_STATE instead. */
const TRANSACTION_ABORTABLE_VERSION = 5;

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
  // One unknown partition fails the whole request: the others are reported as not attempted.
  const unknown = partitions.map(
    ({ topic, partition }) => metadata.getTopic(topic)?.partitions[partition] === undefined,
  );
  if (unknown.some(Boolean)) {
    return result(
      unknown.map((u) => (u ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED)),
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
      transactionStates: result.transactionStates.map((t) => ({
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

const describeTransactions: ApiHandler<DescribeTransactionsRequest, DescribeTransactionsResponse> = {
  api: DescribeTransactionsApi,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const { transactionCoordinator } = ctx.broker;
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((id) => {
        const described = transactionCoordinator.describeTransaction(id);
        return {
          ...described,
          transactionStartTimeMs: BigInt(described.transactionStartTimeMs),
          producerId: BigInt(described.producerId),
        };
      }),
    };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((transactionalId) => ({
        errorCode,
        transactionalId,
        transactionState: '',
        transactionTimeoutMs: 0,
        transactionStartTimeMs: 0n,
        producerId: 0n,
        producerEpoch: 0,
        topics: [],
      })),
    };
  },
};

export const addPartitionsToTxnHandler = registerHandler(addPartitionsToTxn);
export const addOffsetsToTxnHandler = registerHandler(addOffsetsToTxn);
export const endTxnHandler = registerHandler(endTxn);
export const listTransactionsHandler = registerHandler(listTransactions);
export const describeTransactionsHandler = registerHandler(describeTransactions);
