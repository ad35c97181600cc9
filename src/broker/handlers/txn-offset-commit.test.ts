import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupCoordinator, ManualScheduler, MemoryCoordinatorLog } from '../../coordinator/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import { TxnOffsetCommitApi, type TxnOffsetCommitRequest } from '../../protocol/generated/index.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { type FakeAuthorizer, grantsOnly } from './coordinator-acl-test-support.js';
import { advertisedVersions, callApi, type Dispatch, dispatcherOver } from './test-support.js';

const PRODUCER = 7000n;

/** A broker with topic `t` (2 partitions) and a coordinator of one offsets partition, loaded unless `loading`. */
async function broker(options: { loading?: boolean; authorizer?: FakeAuthorizer } = {}) {
  const scheduler = new ManualScheduler(1_000_000);
  const log = new MemoryCoordinatorLog(() => scheduler.nowMs());
  const coordinator = new GroupCoordinator({ log, scheduler, config: { offsetsTopicPartitions: 1 } });
  coordinator.start();
  if (options.loading === true) {
    void coordinator.loadPartition(
      0,
      (async function* () {
        await new Promise<void>(() => {});
      })(),
    );
  } else {
    await coordinator.loadPartition(0, log.read(0));
  }
  const metadata = {
    getTopic: (name: string) => (name === 't' ? { partitions: [{}, {}] } : undefined),
  };
  const dispatch = dispatcherOver({
    metadata,
    groupCoordinator: coordinator,
    authorizer: options.authorizer,
  });
  return { dispatch, coordinator, log };
}

function txnOffsetCommit(dispatch: Dispatch, version: number, request: Partial<TxnOffsetCommitRequest> = {}) {
  return callApi(dispatch, TxnOffsetCommitApi, version, {
    transactionalId: 'txn',
    groupId: 'g',
    producerId: PRODUCER,
    producerEpoch: 1,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: 4, committedMetadata: 'm' },
          { partitionIndex: 5, committedOffset: 11n, committedLeaderEpoch: 4, committedMetadata: null },
        ],
      },
      {
        name: 'missing',
        partitions: [
          { partitionIndex: 0, committedOffset: 12n, committedLeaderEpoch: 4, committedMetadata: null },
        ],
      },
    ],
    ...request,
  });
}

function answer(known: number, unknown: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
  return {
    throttleTimeMs: 0,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, errorCode: known },
          { partitionIndex: 5, errorCode: unknown },
        ],
      },
      { name: 'missing', partitions: [{ partitionIndex: 0, errorCode: unknown }] },
    ],
  };
}

describe('TxnOffsetCommit handler', () => {
  test('is advertised at versions 0-4', async () => {
    const { dispatch } = await broker();
    assert.deepEqual(await advertisedVersions(dispatch, [28]), [[28, 0, 4]]);
  });

  for (const version of [0, 1, 2, 3, 4]) {
    test(`v${version}: known partitions are stored pending in the producer's transaction, others are unknown`, async () => {
      const { dispatch, coordinator, log } = await broker();
      assert.deepEqual(await txnOffsetCommit(dispatch, version), answer(ErrorCode.NONE));
      const [record] = log.records(0);
      assert.equal(log.records(0).length, 1);
      assert.equal(record?.isTransactional, true);
      assert.equal(record?.producerId, Number(PRODUCER));
      assert.equal(record?.producerEpoch, 1);
      coordinator.completeTransaction(0, Number(PRODUCER), true);
      const fetched = await coordinator.fetchOffsets('g', [{ topic: 't', partitions: [0] }], true);
      assert.deepEqual(fetched.topics[0]?.partitions[0], {
        partition: 0,
        offset: 10,
        leaderEpoch: version >= 2 ? 4 : -1,
        metadata: 'm',
        errorCode: ErrorCode.NONE,
      });
    });
  }

  test('v3+ carries the member: an unknown one is refused; older versions send none', async () => {
    const { dispatch } = await broker();
    const asMember = { generationId: 1, memberId: 'someone' };
    assert.deepEqual(await txnOffsetCommit(dispatch, 3, asMember), answer(ErrorCode.UNKNOWN_MEMBER_ID));
    assert.deepEqual(await txnOffsetCommit(dispatch, 2, asMember), answer(ErrorCode.NONE));
  });

  test('a loading coordinator: COORDINATOR_NOT_AVAILABLE below v2, COORDINATOR_LOAD_IN_PROGRESS from v2', async () => {
    const { dispatch } = await broker({ loading: true });
    assert.deepEqual(await txnOffsetCommit(dispatch, 1), answer(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    assert.deepEqual(await txnOffsetCommit(dispatch, 2), answer(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS));
  });

  test('a group this broker does not coordinate gets NOT_COORDINATOR', async () => {
    const scheduler = new ManualScheduler(0);
    const coordinator = new GroupCoordinator({ log: new MemoryCoordinatorLog(), scheduler });
    coordinator.start();
    const metadata = { getTopic: () => ({ partitions: [{}] }) };
    const dispatch = dispatcherOver({ metadata, groupCoordinator: coordinator });
    const response = await txnOffsetCommit(dispatch, 3, {
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    assert.deepEqual(response.topics, [
      { name: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NOT_COORDINATOR }] },
    ]);
  });

  test('a producer id outside the safe integer range cannot be in a transaction', async () => {
    const { dispatch, log } = await broker();
    const response = await txnOffsetCommit(dispatch, 3, { producerId: 2n ** 60n });
    assert.deepEqual(
      response,
      answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING, ErrorCode.INVALID_PRODUCER_ID_MAPPING),
    );
    assert.equal(log.records(0).length, 0);
  });
});

describe('TxnOffsetCommit with an authorizer', () => {
  const { READ, WRITE, DESCRIBE } = AclOperation;
  const { TOPIC, GROUP, TRANSACTIONAL_ID } = ResourceType;
  const denied = (errorCode: number) => answer(errorCode, errorCode);

  test('needs WRITE on the transactional id, checked first: every partition fails, nothing is written', async () => {
    const authorizer = grantsOnly(
      [DESCRIBE, TRANSACTIONAL_ID, 'txn'],
      [READ, GROUP, 'g'],
      [READ, TOPIC, 't'],
    );
    const { dispatch, log } = await broker({ authorizer });
    assert.deepEqual(
      await txnOffsetCommit(dispatch, 3),
      denied(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
    );
    assert.deepEqual(
      await txnOffsetCommit(dispatch, 3, { producerId: 2n ** 60n }),
      denied(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
    );
    assert.equal(log.records(0).length, 0);
  });

  test('needs READ on the group: every partition fails, nothing is written', async () => {
    const authorizer = grantsOnly(
      [WRITE, TRANSACTIONAL_ID, 'txn'],
      [DESCRIBE, GROUP, 'g'],
      [READ, TOPIC, 't'],
    );
    const { dispatch, log } = await broker({ authorizer });
    assert.deepEqual(await txnOffsetCommit(dispatch, 1), denied(ErrorCode.GROUP_AUTHORIZATION_FAILED));
    assert.equal(log.records(0).length, 0);
  });

  test('needs READ per topic, before it exists: the authorized partitions are committed', async () => {
    const authorizer = grantsOnly([WRITE, TRANSACTIONAL_ID, 'txn'], [READ, GROUP, 'g'], [READ, TOPIC, 't']);
    const { dispatch, log } = await broker({ authorizer });
    assert.deepEqual(await txnOffsetCommit(dispatch, 3), {
      throttleTimeMs: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, errorCode: ErrorCode.NONE },
            { partitionIndex: 5, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
          ],
        },
        {
          name: 'missing',
          partitions: [{ partitionIndex: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }],
        },
      ],
    });
    assert.equal(log.records(0).length, 1);
  });
});
