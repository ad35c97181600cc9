import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupCoordinator, ManualScheduler, MemoryCoordinatorLog } from '../../coordinator/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  OffsetCommitApi,
  type OffsetCommitRequest,
  OffsetDeleteApi,
  OffsetFetchApi,
  type OffsetFetchRequest,
} from '../../protocol/generated/index.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { type FakeAuthorizer, grantsOnly } from './coordinator-acl-test-support.js';
import { callApi, dispatcherOver } from './test-support.js';

const { READ, DELETE, DESCRIBE } = AclOperation;
const { GROUP, TOPIC } = ResourceType;

/** Topics t (2 partitions) and secret (1); group g has offsets t/0 = 10 and secret/0 = 20. */
async function broker(authorizer: FakeAuthorizer) {
  const scheduler = new ManualScheduler(1_000_000);
  const log = new MemoryCoordinatorLog(() => scheduler.nowMs());
  const coordinator = new GroupCoordinator({ log, scheduler, config: { offsetsTopicPartitions: 1 } });
  coordinator.start();
  await coordinator.loadPartition(0, log.read(0));
  const topics = new Map([
    ['t', { partitions: [{}, {}] }],
    ['secret', { partitions: [{}] }],
  ]);
  const metadata = { getTopic: (name: string) => topics.get(name) };
  await coordinator.commitOffsets({
    groupId: 'g',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    offsets: [
      { topic: 't', partition: 0, offset: 10, leaderEpoch: 3, metadata: 'm' },
      { topic: 'secret', partition: 0, offset: 20, leaderEpoch: 3, metadata: null },
    ],
  });
  const dispatch = dispatcherOver({ groupCoordinator: coordinator, metadata, authorizer });
  /** Group g's committed offsets as [topic, partition, offset]. */
  const committed = async () => {
    const { topics: fetched } = await coordinator.fetchOffsets('g', null, false);
    return fetched.flatMap(({ topic, partitions }) => partitions.map((p) => [topic, p.partition, p.offset]));
  };
  return { dispatch, committed };
}

const commit = (topics: { name: string; partitions: number[] }[]): OffsetCommitRequest => ({
  groupId: 'g',
  generationIdOrMemberEpoch: -1,
  memberId: '',
  groupInstanceId: null,
  retentionTimeMs: -1n,
  topics: topics.map(({ name, partitions }) => ({
    name,
    partitions: partitions.map((partitionIndex) => ({
      partitionIndex,
      committedOffset: 99n,
      committedLeaderEpoch: -1,
      commitTimestamp: -1n,
      committedMetadata: null,
    })),
  })),
});

const committedPartition = (partitionIndex: number, committedOffset: bigint, metadata: string) => ({
  partitionIndex,
  committedOffset,
  committedLeaderEpoch: 3,
  metadata,
  errorCode: ErrorCode.NONE,
});

const failedPartition = (partitionIndex: number, errorCode: number) => ({
  partitionIndex,
  committedOffset: -1n,
  committedLeaderEpoch: -1,
  metadata: '',
  errorCode,
});

const fetchOne = (topics: OffsetFetchRequest['topics']): OffsetFetchRequest => ({
  groupId: 'g',
  topics,
  groups: [],
  requireStable: false,
});

describe('OffsetCommit with an authorizer', () => {
  test('needs READ on the group: without it every partition fails and nothing is committed', async () => {
    const { dispatch, committed } = await broker(grantsOnly([DESCRIBE, GROUP, 'g'], [READ, TOPIC, 't']));
    const response = await callApi(dispatch, OffsetCommitApi, 8, commit([{ name: 't', partitions: [0, 1] }]));
    assert.deepEqual(response, {
      throttleTimeMs: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED },
            { partitionIndex: 1, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED },
          ],
        },
      ],
    });
    assert.deepEqual(await committed(), [
      ['t', 0, 10],
      ['secret', 0, 20],
    ]);
  });

  test('needs READ per topic, checked before the topic exists; the authorized partitions commit', async () => {
    const { dispatch, committed } = await broker(
      grantsOnly([READ, GROUP, 'g'], [READ, TOPIC, 't'], [READ, TOPIC, 'gone'], [DESCRIBE, TOPIC, 'secret']),
    );
    const request = commit([
      { name: 't', partitions: [0, 5] },
      { name: 'secret', partitions: [0] },
      { name: 'hidden', partitions: [0] },
      { name: 'gone', partitions: [0] },
    ]);
    assert.deepEqual((await callApi(dispatch, OffsetCommitApi, 8, request)).topics, [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, errorCode: ErrorCode.NONE },
          { partitionIndex: 5, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
        ],
      },
      {
        name: 'secret',
        partitions: [{ partitionIndex: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }],
      },
      {
        name: 'hidden',
        partitions: [{ partitionIndex: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }],
      },
      { name: 'gone', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
    ]);
    assert.deepEqual(await committed(), [
      ['t', 0, 99],
      ['secret', 0, 20],
    ]);
  });
});

describe('OffsetFetch with an authorizer', () => {
  test('needs DESCRIBE on the group: a group error, in the partitions below v2', async () => {
    const { dispatch } = await broker(grantsOnly([READ, GROUP, 'other'], [DESCRIBE, TOPIC, 't']));
    const topics = [{ name: 't', partitionIndexes: [0] }];
    assert.deepEqual(await callApi(dispatch, OffsetFetchApi, 7, fetchOne(topics)), {
      throttleTimeMs: 0,
      topics: [],
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      groups: [],
    });
    assert.deepEqual(await callApi(dispatch, OffsetFetchApi, 1, fetchOne(topics)), {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [failedPartition(0, ErrorCode.GROUP_AUTHORIZATION_FAILED)] }],
      errorCode: ErrorCode.NONE,
      groups: [],
    });
  });

  test('named topics the principal may not DESCRIBE come last, TOPIC_AUTHORIZATION_FAILED', async () => {
    const { dispatch } = await broker(grantsOnly([DESCRIBE, GROUP, 'g'], [DESCRIBE, TOPIC, 't']));
    const response = await callApi(
      dispatch,
      OffsetFetchApi,
      7,
      fetchOne([
        { name: 'secret', partitionIndexes: [0] },
        { name: 't', partitionIndexes: [0, 1] },
      ]),
    );
    assert.deepEqual(response, {
      throttleTimeMs: 0,
      topics: [
        { name: 't', partitions: [committedPartition(0, 10n, 'm'), failedPartition(1, ErrorCode.NONE)] },
        { name: 'secret', partitions: [failedPartition(0, ErrorCode.TOPIC_AUTHORIZATION_FAILED)] },
      ],
      errorCode: ErrorCode.NONE,
      groups: [],
    });
  });

  test('an all-topics fetch leaves out the topics the principal may not DESCRIBE', async () => {
    const { dispatch } = await broker(grantsOnly([DESCRIBE, GROUP, 'g'], [DESCRIBE, TOPIC, 't']));
    assert.deepEqual((await callApi(dispatch, OffsetFetchApi, 5, fetchOne(null))).topics, [
      { name: 't', partitions: [committedPartition(0, 10n, 'm')] },
    ]);
  });

  test('v8+: each group is authorized on its own', async () => {
    const { dispatch } = await broker(
      grantsOnly([DESCRIBE, GROUP, 'g'], [DESCRIBE, TOPIC, 't'], [DESCRIBE, TOPIC, 'secret']),
    );
    const response = await callApi(dispatch, OffsetFetchApi, 8, {
      groupId: '',
      topics: [],
      requireStable: false,
      groups: [
        { groupId: 'h', memberId: null, memberEpoch: -1, topics: null },
        { groupId: 'g', memberId: null, memberEpoch: -1, topics: null },
      ],
    });
    assert.deepEqual(response.groups, [
      { groupId: 'h', topics: [], errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED },
      {
        groupId: 'g',
        topics: [
          { name: 't', partitions: [committedPartition(0, 10n, 'm')] },
          { name: 'secret', partitions: [committedPartition(0, 20n, '')] },
        ],
        errorCode: ErrorCode.NONE,
      },
    ]);
  });
});

describe('OffsetDelete with an authorizer', () => {
  const request = {
    groupId: 'g',
    topics: [
      { name: 't', partitions: [{ partitionIndex: 0 }] },
      { name: 'secret', partitions: [{ partitionIndex: 0 }] },
    ],
  };

  test('needs DELETE on the group: a top-level error and nothing deleted', async () => {
    const { dispatch, committed } = await broker(
      grantsOnly([READ, GROUP, 'g'], [READ, TOPIC, 't'], [READ, TOPIC, 'secret']),
    );
    assert.deepEqual(await callApi(dispatch, OffsetDeleteApi, 0, request), {
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      throttleTimeMs: 0,
      topics: [],
    });
    assert.deepEqual(await committed(), [
      ['t', 0, 10],
      ['secret', 0, 20],
    ]);
  });

  test('needs READ per topic: the others are deleted', async () => {
    const { dispatch, committed } = await broker(
      grantsOnly([DELETE, GROUP, 'g'], [READ, TOPIC, 't'], [DESCRIBE, TOPIC, 'secret']),
    );
    assert.deepEqual(await callApi(dispatch, OffsetDeleteApi, 0, request), {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE }] },
        {
          name: 'secret',
          partitions: [{ partitionIndex: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }],
        },
      ],
    });
    assert.deepEqual(await committed(), [['secret', 0, 20]]);
  });
});
