import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualScheduler } from '../../coordinator/scheduler.js';
import {
  MemoryTransactionStateLog,
  TransactionCoordinator,
  type TransactionMarker,
} from '../../coordinator/transactions/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  DescribeTransactionsApi,
  EndTxnApi,
  InitProducerIdApi,
  ListTransactionsApi,
} from '../../protocol/generated/index.js';
import { advertisedVersions, callApi, dispatcherOver } from './test-support.js';

/** A broker with topic "t" (2 partitions), a loaded coordinator on one __transaction_state partition. */
async function broker() {
  const markers: { topic: string; partition: number; marker: TransactionMarker }[] = [];
  let nextProducerId = 4000;
  const coordinator = new TransactionCoordinator({
    log: new MemoryTransactionStateLog(),
    markers: {
      write(topic, partition, marker) {
        markers.push({ topic, partition, marker });
        return Promise.resolve(ErrorCode.NONE);
      },
    },
    producerIds: { nextProducerId: () => Promise.resolve(nextProducerId++) },
    scheduler: new ManualScheduler(1_000),
    config: { transactionStatePartitions: 1 },
  });
  coordinator.start();
  await coordinator.loadPartition(0, 3, (async function* () {})());
  const topics = new Map([['t', { partitions: [{}, {}] }]]);
  const services = {
    transactionCoordinator: coordinator,
    metadata: { getTopic: (name: string) => topics.get(name) },
    groupCoordinator: { partitionFor: () => 12 },
    logger: { error() {} },
  };
  return { dispatch: dispatcherOver(services), markers };
}

const init = (transactionalId: string, producerId = -1n, producerEpoch = -1) => ({
  transactionalId,
  transactionTimeoutMs: 60_000,
  producerId,
  producerEpoch,
});

const addV3 = (producerEpoch: number, topics: { name: string; partitions: number[] }[]) => ({
  transactions: [],
  v3AndBelowTransactionalId: 'tx',
  v3AndBelowProducerId: 4000n,
  v3AndBelowProducerEpoch: producerEpoch,
  v3AndBelowTopics: topics,
});

describe('transaction APIs', () => {
  test('are advertised: AddPartitionsToTxn 0-5, AddOffsetsToTxn 0-4, EndTxn 0-4, ListTransactions 0-1, DescribeTransactions 0', async () => {
    const { dispatch } = await broker();
    assert.deepEqual(await advertisedVersions(dispatch, [24, 25, 26, 65, 66]), [
      [24, 0, 5],
      [25, 0, 4],
      [26, 0, 4],
      [65, 0, 0],
      [66, 0, 1],
    ]);
  });

  test('InitProducerId with a transactional id: PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH before', async () => {
    const { dispatch } = await broker();
    assert.deepEqual(await callApi(dispatch, InitProducerIdApi, 4, init('tx')), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      producerId: 4000n,
      producerEpoch: 0,
    });
    assert.equal((await callApi(dispatch, InitProducerIdApi, 1, init('tx'))).producerEpoch, 1);
    const stale = init('tx', 4000n, 0);
    assert.equal((await callApi(dispatch, InitProducerIdApi, 4, stale)).errorCode, ErrorCode.PRODUCER_FENCED);
    assert.equal(
      (await callApi(dispatch, InitProducerIdApi, 3, stale)).errorCode,
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    assert.equal(
      (await callApi(dispatch, InitProducerIdApi, 5, { ...init('tx'), transactionTimeoutMs: 900_001 }))
        .errorCode,
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
    );
  });

  test('AddPartitionsToTxn v0-3: per-partition results; an unknown partition fails the request', async () => {
    const { dispatch } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    assert.deepEqual(
      await callApi(
        dispatch,
        AddPartitionsToTxnApi,
        3,
        addV3(0, [
          { name: 't', partitions: [0, 5] },
          { name: 'x', partitions: [0] },
        ]),
      ),
      {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        resultsByTransaction: [],
        resultsByTopicV3AndBelow: [
          {
            name: 't',
            resultsByPartition: [
              { partitionIndex: 0, partitionErrorCode: ErrorCode.OPERATION_NOT_ATTEMPTED },
              { partitionIndex: 5, partitionErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
            ],
          },
          {
            name: 'x',
            resultsByPartition: [
              { partitionIndex: 0, partitionErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
            ],
          },
        ],
      },
    );
    const added = await callApi(
      dispatch,
      AddPartitionsToTxnApi,
      0,
      addV3(0, [{ name: 't', partitions: [0, 1] }]),
    );
    assert.deepEqual(added.resultsByTopicV3AndBelow, [
      {
        name: 't',
        resultsByPartition: [
          { partitionIndex: 0, partitionErrorCode: ErrorCode.NONE },
          { partitionIndex: 1, partitionErrorCode: ErrorCode.NONE },
        ],
      },
    ]);
    const fenced = (version: number) =>
      callApi(dispatch, AddPartitionsToTxnApi, version, addV3(7, [{ name: 't', partitions: [0] }])).then(
        (r) => r.resultsByTopicV3AndBelow[0]?.resultsByPartition[0]?.partitionErrorCode,
      );
    assert.equal(await fenced(1), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(await fenced(2), ErrorCode.PRODUCER_FENCED);
  });

  test('AddPartitionsToTxn v4+ verifyOnly: TRANSACTION_ABORTABLE at v5, INVALID_TXN_STATE at v4', async () => {
    const { dispatch } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    await callApi(dispatch, AddPartitionsToTxnApi, 3, addV3(0, [{ name: 't', partitions: [0] }]));
    const verify = (version: number) =>
      callApi(dispatch, AddPartitionsToTxnApi, version, {
        transactions: [
          {
            transactionalId: 'tx',
            producerId: 4000n,
            producerEpoch: 0,
            verifyOnly: true,
            topics: [{ name: 't', partitions: [0, 1] }],
          },
        ],
        v3AndBelowTransactionalId: '',
        v3AndBelowProducerId: 0n,
        v3AndBelowProducerEpoch: 0,
        v3AndBelowTopics: [],
      });
    const codes = (r: Awaited<ReturnType<typeof verify>>) =>
      r.resultsByTransaction[0]?.topicResults[0]?.resultsByPartition.map((p) => p.partitionErrorCode);
    assert.deepEqual(codes(await verify(5)), [ErrorCode.NONE, ErrorCode.TRANSACTION_ABORTABLE]);
    assert.deepEqual(codes(await verify(4)), [ErrorCode.NONE, ErrorCode.INVALID_TXN_STATE]);
  });

  test('AddOffsetsToTxn adds the group offsets partition; EndTxn writes markers; List and Describe show the state', async () => {
    const { dispatch, markers } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    const addOffsets = { transactionalId: 'tx', producerId: 4000n, producerEpoch: 0, groupId: 'g' };
    assert.deepEqual(await callApi(dispatch, AddOffsetsToTxnApi, 3, addOffsets), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
    });
    assert.equal(
      (await callApi(dispatch, AddOffsetsToTxnApi, 1, { ...addOffsets, producerEpoch: 9 })).errorCode,
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    const described = await callApi(dispatch, DescribeTransactionsApi, 0, {
      transactionalIds: ['tx', 'nope'],
    });
    assert.deepEqual(
      described.transactionStates.map((s) => [s.errorCode, s.transactionState, s.producerId, s.topics]),
      [
        [ErrorCode.NONE, 'Ongoing', 4000n, [{ topic: '__consumer_offsets', partitions: [12] }]],
        [ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, '', 0n, []],
      ],
    );
    const listed = await callApi(dispatch, ListTransactionsApi, 1, {
      stateFilters: ['Ongoing'],
      producerIdFilters: [],
      durationFilter: -1n,
    });
    assert.deepEqual(listed.transactionStates, [
      { transactionalId: 'tx', producerId: 4000n, transactionState: 'Ongoing' },
    ]);
    const end = { transactionalId: 'tx', producerId: 4000n, producerEpoch: 0, committed: true };
    assert.deepEqual(await callApi(dispatch, EndTxnApi, 4, end), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
    });
    assert.deepEqual(markers, [
      {
        topic: '__consumer_offsets',
        partition: 12,
        marker: { producerId: 4000, producerEpoch: 0, coordinatorEpoch: 3, commit: true },
      },
    ]);
    assert.equal(
      (await callApi(dispatch, EndTxnApi, 1, { ...end, producerEpoch: 5 })).errorCode,
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    assert.equal(
      (await callApi(dispatch, EndTxnApi, 2, { ...end, producerEpoch: 5 })).errorCode,
      ErrorCode.PRODUCER_FENCED,
    );
    assert.equal(
      (await callApi(dispatch, EndTxnApi, 0, { ...end, committed: false })).errorCode,
      ErrorCode.INVALID_TXN_STATE,
    );
  });
});
