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
  type AddPartitionsToTxnResponse,
  DescribeTransactionsApi,
  EndTxnApi,
  InitProducerIdApi,
  ListTransactionsApi,
} from '../../protocol/generated/index.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { type FakeAuthorizer, grantsOnly } from './coordinator-acl-test-support.js';
import { advertisedVersions, callApi, type Dispatch, dispatcherOver } from './test-support.js';

/**
 * A broker with topics "t" (2 partitions) and "w" (1), a loaded coordinator on one __transaction_state
 * partition. `dispatch` has no authorizer; `as(authorizer)` is a dispatcher over the same state with one.
 */
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
  const topics = new Map([
    ['t', { partitions: [{}, {}] }],
    ['w', { partitions: [{}] }],
  ]);
  const services = {
    transactionCoordinator: coordinator,
    metadata: { getTopic: (name: string) => topics.get(name) },
    groupCoordinator: { partitionFor: () => 12 },
    logger: { error() {} },
  };
  return {
    dispatch: dispatcherOver(services),
    as: (authorizer: FakeAuthorizer) => dispatcherOver({ ...services, authorizer }),
    markers,
  };
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

const { READ, WRITE, DESCRIBE, CLUSTER_ACTION } = AclOperation;
const { TOPIC, GROUP, TRANSACTIONAL_ID, CLUSTER } = ResourceType;

/** Transaction `id`'s state and partitions as an unrestricted DescribeTransactions shows them. */
async function stateOf(dispatch: Dispatch, id: string) {
  const { transactionStates } = await callApi(dispatch, DescribeTransactionsApi, 0, {
    transactionalIds: [id],
  });
  return transactionStates.map((s) => [s.transactionState, s.topics]);
}

const v3Codes = (response: {
  resultsByTopicV3AndBelow: AddPartitionsToTxnResponse['resultsByTopicV3AndBelow'];
}) =>
  response.resultsByTopicV3AndBelow.flatMap((t) =>
    t.resultsByPartition.map((p) => [t.name, p.partitionIndex, p.partitionErrorCode]),
  );

describe('transaction APIs with an authorizer', () => {
  test('AddPartitionsToTxn v0-3 needs WRITE on the transactional id: every partition fails, none is added', async () => {
    const { dispatch, as } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    const denied = as(grantsOnly([DESCRIBE, TRANSACTIONAL_ID, 'tx'], [WRITE, TOPIC, 't']));
    const response = await callApi(
      denied,
      AddPartitionsToTxnApi,
      3,
      addV3(0, [{ name: 't', partitions: [0, 1] }]),
    );
    assert.deepEqual(v3Codes(response), [
      ['t', 0, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
      ['t', 1, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
    ]);
    assert.deepEqual(await stateOf(dispatch, 'tx'), [['Empty', []]]);
  });

  test('AddPartitionsToTxn v0-3 needs WRITE per topic, before it exists; internal topics never; others not attempted', async () => {
    const { dispatch, as } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    const writer = as(
      grantsOnly(
        [WRITE, TRANSACTIONAL_ID, 'tx'],
        [WRITE, TOPIC, 't'],
        [WRITE, TOPIC, 'gone'],
        [WRITE, TOPIC, '__consumer_offsets'],
        [DESCRIBE, TOPIC, 'w'],
      ),
    );
    const mixed = addV3(0, [
      { name: 't', partitions: [0] },
      { name: 'w', partitions: [0] },
      { name: 'hidden', partitions: [0] },
      { name: 'gone', partitions: [0] },
      { name: '__consumer_offsets', partitions: [0] },
    ]);
    assert.deepEqual(v3Codes(await callApi(writer, AddPartitionsToTxnApi, 3, mixed)), [
      ['t', 0, ErrorCode.OPERATION_NOT_ATTEMPTED],
      ['w', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ['hidden', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ['gone', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['__consumer_offsets', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    assert.deepEqual(await stateOf(dispatch, 'tx'), [['Empty', []]]);
    const added = await callApi(writer, AddPartitionsToTxnApi, 3, addV3(0, [{ name: 't', partitions: [0] }]));
    assert.deepEqual(v3Codes(added), [['t', 0, ErrorCode.NONE]]);
    assert.deepEqual(await stateOf(dispatch, 'tx'), [['Ongoing', [{ topic: 't', partitions: [0] }]]]);
  });

  test('AddPartitionsToTxn v0-3 refuses internal topics even without an authorizer, as Kafka', async () => {
    const { dispatch } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    const request = addV3(0, [{ name: '__transaction_state', partitions: [0] }]);
    assert.deepEqual(v3Codes(await callApi(dispatch, AddPartitionsToTxnApi, 3, request)), [
      ['__transaction_state', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
  });

  test('AddPartitionsToTxn v4+ (from brokers) needs CLUSTER_ACTION on the cluster, nothing else', async () => {
    const { dispatch, as } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    await callApi(dispatch, AddPartitionsToTxnApi, 3, addV3(0, [{ name: 't', partitions: [0] }]));
    const verify = {
      transactions: [
        {
          transactionalId: 'tx',
          producerId: 4000n,
          producerEpoch: 0,
          verifyOnly: true,
          topics: [{ name: 't', partitions: [0] }],
        },
      ],
      v3AndBelowTransactionalId: '',
      v3AndBelowProducerId: 0n,
      v3AndBelowProducerEpoch: 0,
      v3AndBelowTopics: [],
    };
    const denied = as(grantsOnly([WRITE, TRANSACTIONAL_ID, 'tx'], [WRITE, TOPIC, 't']));
    assert.deepEqual(await callApi(denied, AddPartitionsToTxnApi, 5, verify), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      resultsByTransaction: [],
      resultsByTopicV3AndBelow: [],
    });
    const broker2 = as(grantsOnly([CLUSTER_ACTION, CLUSTER, CLUSTER_RESOURCE_NAME]));
    const verified = await callApi(broker2, AddPartitionsToTxnApi, 5, verify);
    assert.deepEqual(verified.resultsByTransaction, [
      {
        transactionalId: 'tx',
        topicResults: [
          { name: 't', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: ErrorCode.NONE }] },
        ],
      },
    ]);
  });

  test('AddOffsetsToTxn needs WRITE on the transactional id, then READ on the group', async () => {
    const { dispatch, as } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    const request = { transactionalId: 'tx', producerId: 4000n, producerEpoch: 0, groupId: 'g' };
    for (const [authorizer, errorCode] of [
      [
        grantsOnly([DESCRIBE, TRANSACTIONAL_ID, 'tx'], [READ, GROUP, 'g']),
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      ],
      [
        grantsOnly([WRITE, TRANSACTIONAL_ID, 'tx'], [DESCRIBE, GROUP, 'g']),
        ErrorCode.GROUP_AUTHORIZATION_FAILED,
      ],
    ] as const) {
      assert.deepEqual(await callApi(as(authorizer), AddOffsetsToTxnApi, 3, request), {
        throttleTimeMs: 0,
        errorCode,
      });
    }
    assert.deepEqual(await stateOf(dispatch, 'tx'), [['Empty', []]]);
    const allowed = as(grantsOnly([WRITE, TRANSACTIONAL_ID, 'tx'], [READ, GROUP, 'g']));
    assert.equal((await callApi(allowed, AddOffsetsToTxnApi, 3, request)).errorCode, ErrorCode.NONE);
    assert.deepEqual(await stateOf(dispatch, 'tx'), [
      ['Ongoing', [{ topic: '__consumer_offsets', partitions: [12] }]],
    ]);
  });

  test('EndTxn needs WRITE on the transactional id: without it the transaction stays open', async () => {
    const { dispatch, as, markers } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    await callApi(dispatch, AddPartitionsToTxnApi, 3, addV3(0, [{ name: 't', partitions: [0] }]));
    const end = { transactionalId: 'tx', producerId: 4000n, producerEpoch: 0, committed: true };
    const denied = as(grantsOnly([DESCRIBE, TRANSACTIONAL_ID, 'tx']));
    assert.deepEqual(await callApi(denied, EndTxnApi, 4, end), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    });
    assert.deepEqual(markers, []);
    assert.deepEqual(await stateOf(dispatch, 'tx'), [['Ongoing', [{ topic: 't', partitions: [0] }]]]);
    const allowed = as(grantsOnly([WRITE, TRANSACTIONAL_ID, 'tx']));
    assert.equal((await callApi(allowed, EndTxnApi, 4, end)).errorCode, ErrorCode.NONE);
    assert.equal(markers.length, 1);
  });

  test('ListTransactions lists only the transactional ids the principal may DESCRIBE', async () => {
    const { dispatch, as } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    await callApi(dispatch, InitProducerIdApi, 4, init('tx2'));
    const listed = await callApi(
      as(grantsOnly([DESCRIBE, TRANSACTIONAL_ID, 'tx2'])),
      ListTransactionsApi,
      1,
      {
        stateFilters: [],
        producerIdFilters: [],
        durationFilter: -1n,
      },
    );
    assert.deepEqual(listed, {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      unknownStateFilters: [],
      transactionStates: [{ transactionalId: 'tx2', producerId: 4001n, transactionState: 'Empty' }],
    });
  });

  test('DescribeTransactions: DESCRIBE per transactional id; only describable topics are shown', async () => {
    const { dispatch, as } = await broker();
    await callApi(dispatch, InitProducerIdApi, 4, init('tx'));
    await callApi(
      dispatch,
      AddPartitionsToTxnApi,
      3,
      addV3(0, [
        { name: 't', partitions: [1] },
        { name: 'w', partitions: [0] },
      ]),
    );
    const reader = as(grantsOnly([DESCRIBE, TRANSACTIONAL_ID, 'tx'], [DESCRIBE, TOPIC, 't']));
    const described = await callApi(reader, DescribeTransactionsApi, 0, {
      transactionalIds: ['secret', 'tx'],
    });
    assert.deepEqual(described.transactionStates[0], {
      errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      transactionalId: 'secret',
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: 0n,
      producerId: 0n,
      producerEpoch: 0,
      topics: [],
    });
    assert.deepEqual(
      described.transactionStates
        .slice(1)
        .map((s) => [s.errorCode, s.transactionState, s.producerId, s.topics]),
      [[ErrorCode.NONE, 'Ongoing', 4000n, [{ topic: 't', partitions: [1] }]]],
    );
  });
});
