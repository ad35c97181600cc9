import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupCoordinator, ManualScheduler, MemoryCoordinatorLog } from '../../coordinator/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  DeleteGroupsApi,
  DescribeGroupsApi,
  HeartbeatApi,
  JoinGroupApi,
  LeaveGroupApi,
  ListGroupsApi,
  SyncGroupApi,
} from '../../protocol/generated/index.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { type FakeAuthorizer, type Grant, grantsOnly } from './coordinator-acl-test-support.js';
import { callApi, dispatcherOver } from './test-support.js';

const { READ, DELETE, DESCRIBE } = AclOperation;
const { GROUP, CLUSTER } = ResourceType;
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** A loaded coordinator of one offsets partition behind the dispatcher, asking `authorizer`. */
async function broker(authorizer: FakeAuthorizer) {
  const scheduler = new ManualScheduler(1_000_000);
  const log = new MemoryCoordinatorLog(() => scheduler.nowMs());
  const coordinator = new GroupCoordinator({
    log,
    scheduler,
    config: { offsetsTopicPartitions: 1, groupInitialRebalanceDelayMs: 0 },
  });
  coordinator.start();
  await coordinator.loadPartition(0, log.read(0));
  const metadata = { getTopic: (name: string) => (name === 't' ? { partitions: [{}] } : undefined) };
  const dispatch = dispatcherOver({ groupCoordinator: coordinator, metadata, authorizer });
  return { dispatch, coordinator, scheduler };
}

type Broker = Awaited<ReturnType<typeof broker>>;

/** A Stable group `groupId` with one member, formed on the coordinator directly (no authorization). */
async function stableGroup({ coordinator, scheduler }: Broker, groupId = 'g') {
  const joining = coordinator.joinGroup({
    groupId,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('subscription') }],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: false,
  });
  scheduler.advance(0);
  const joined = await joining;
  assert.equal(joined.errorCode, ErrorCode.NONE);
  const synced = await coordinator.syncGroup({
    groupId,
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('assigned') }],
  });
  assert.equal(synced.errorCode, ErrorCode.NONE);
  return joined;
}

/** An Empty group `groupId` holding a committed offset, as a simple consumer leaves it. */
async function emptyGroup({ coordinator }: Broker, groupId: string) {
  const [committed] = await coordinator.commitOffsets({
    groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    offsets: [{ topic: 't', partition: 0, offset: 5, leaderEpoch: -1, metadata: null }],
  });
  assert.equal(committed?.errorCode, ErrorCode.NONE);
}

async function groupState({ coordinator }: Broker, groupId: string) {
  const [described] = await coordinator.describeGroups([groupId]);
  return [described?.groupState, described?.members.length];
}

const joinRequest = {
  groupId: 'g',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 30_000,
  memberId: '',
  groupInstanceId: null,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: Buffer.from('subscription') }],
  reason: null,
};

describe('group membership APIs with an authorizer', () => {
  test('JoinGroup needs READ on the group: without it GROUP_AUTHORIZATION_FAILED and no group', async () => {
    const describeOnly = await broker(grantsOnly([DESCRIBE, GROUP, 'g']));
    for (const [version, protocolName] of [
      [5, ''],
      [7, null],
    ] as const) {
      assert.deepEqual(await callApi(describeOnly.dispatch, JoinGroupApi, version, joinRequest), {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        generationId: -1,
        protocolType: null,
        protocolName,
        leader: '',
        skipAssignment: false,
        memberId: '',
        members: [],
      });
    }
    assert.deepEqual((await describeOnly.coordinator.listGroups()).groups, []);

    const reader = await broker(grantsOnly([READ, GROUP, 'g']));
    const joined = await callApi(reader.dispatch, JoinGroupApi, 5, joinRequest);
    assert.equal(joined.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(joined.memberId, /^test-/);
  });

  test('SyncGroup needs READ on the group; the v5 protocol check comes first, as in Kafka', async () => {
    const authorizer = grantsOnly();
    const b = await broker(authorizer);
    const member = await stableGroup(b);
    const sync = {
      groupId: 'g',
      generationId: member.generationId,
      memberId: member.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    };
    assert.deepEqual(await callApi(b.dispatch, SyncGroupApi, 5, sync), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      protocolType: null,
      protocolName: null,
      assignment: Buffer.alloc(0),
    });
    assert.equal(
      (await callApi(b.dispatch, SyncGroupApi, 5, { ...sync, protocolName: null })).errorCode,
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    assert.deepEqual(authorizer.asked, [['User:ANONYMOUS', '127.0.0.1', READ, GROUP, 'g']]);

    const allowed = await broker(grantsOnly([READ, GROUP, 'g']));
    const allowedMember = await stableGroup(allowed);
    const synced = await callApi(allowed.dispatch, SyncGroupApi, 5, {
      ...sync,
      generationId: allowedMember.generationId,
      memberId: allowedMember.memberId,
    });
    assert.deepEqual([synced.errorCode, synced.assignment.toString()], [ErrorCode.NONE, 'assigned']);
  });

  test('Heartbeat needs READ on the group', async () => {
    for (const [grants, errorCode] of [
      [[], ErrorCode.GROUP_AUTHORIZATION_FAILED],
      [[[READ, GROUP, 'g']], ErrorCode.NONE],
    ] as [Grant[], number][]) {
      const b = await broker(grantsOnly(...grants));
      const member = await stableGroup(b);
      const heartbeat = {
        groupId: 'g',
        generationId: member.generationId,
        memberId: member.memberId,
        groupInstanceId: null,
      };
      assert.deepEqual(await callApi(b.dispatch, HeartbeatApi, 4, heartbeat), {
        throttleTimeMs: 0,
        errorCode,
      });
    }
  });

  test('LeaveGroup needs READ on the group: without it the member stays', async () => {
    const denied = await broker(grantsOnly([DESCRIBE, GROUP, 'g']));
    const member = await stableGroup(denied);
    const leave = { groupId: 'g', memberId: member.memberId, members: [] };
    assert.deepEqual(await callApi(denied.dispatch, LeaveGroupApi, 0, leave), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      members: [],
    });
    const leaveV3 = {
      groupId: 'g',
      memberId: '',
      members: [{ memberId: member.memberId, groupInstanceId: null, reason: null }],
    };
    assert.deepEqual(await callApi(denied.dispatch, LeaveGroupApi, 3, leaveV3), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      members: [],
    });
    assert.deepEqual(await groupState(denied, 'g'), ['Stable', 1]);

    const allowed = await broker(grantsOnly([READ, GROUP, 'g']));
    const leaving = await stableGroup(allowed);
    assert.deepEqual(
      await callApi(allowed.dispatch, LeaveGroupApi, 0, { ...leave, memberId: leaving.memberId }),
      {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        members: [],
      },
    );
    assert.deepEqual(await groupState(allowed, 'g'), ['Empty', 0]);
  });
});

describe('group administration APIs with an authorizer', () => {
  test('DescribeGroups: DESCRIBE per group; denied groups first; authorized operations from the ACLs', async () => {
    const b = await broker(
      grantsOnly([DESCRIBE, GROUP, 'g'], [READ, GROUP, 'g'], [DESCRIBE, GROUP, 'other']),
    );
    await stableGroup(b, 'g');
    const response = await callApi(b.dispatch, DescribeGroupsApi, 5, {
      groups: ['other', 'g', 'secret'],
      includeAuthorizedOperations: true,
    });
    assert.deepEqual(
      response.groups.map((g) => [
        g.groupId,
        g.errorCode,
        g.groupState,
        g.protocolData,
        g.members.length,
        g.authorizedOperations,
      ]),
      [
        ['secret', ErrorCode.GROUP_AUTHORIZATION_FAILED, '', '', 0, AUTHORIZED_OPERATIONS_OMITTED],
        ['other', ErrorCode.NONE, 'Dead', '', 0, 1 << DESCRIBE],
        ['g', ErrorCode.NONE, 'Stable', 'range', 1, (1 << READ) | (1 << DESCRIBE)],
      ],
    );
    assert.deepEqual(response.groups[0], {
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      groupId: 'secret',
      groupState: '',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    });
    const unrequested = await callApi(b.dispatch, DescribeGroupsApi, 5, {
      groups: ['g'],
      includeAuthorizedOperations: false,
    });
    assert.equal(unrequested.groups[0]?.authorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
  });

  test('ListGroups: DESCRIBE on the cluster lists every group, otherwise only describable ones', async () => {
    const cluster = await broker(grantsOnly([DESCRIBE, CLUSTER, CLUSTER_RESOURCE_NAME]));
    await emptyGroup(cluster, 'g1');
    await emptyGroup(cluster, 'g2');
    const all = await callApi(cluster.dispatch, ListGroupsApi, 4, { statesFilter: [], typesFilter: [] });
    assert.deepEqual(
      all.groups.map((g) => g.groupId),
      ['g1', 'g2'],
    );

    const perGroup = await broker(grantsOnly([DESCRIBE, GROUP, 'g2']));
    await emptyGroup(perGroup, 'g1');
    await emptyGroup(perGroup, 'g2');
    assert.deepEqual(
      await callApi(perGroup.dispatch, ListGroupsApi, 5, { statesFilter: [], typesFilter: [] }),
      {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        groups: [{ groupId: 'g2', protocolType: '', groupState: 'Empty', groupType: 'classic' }],
      },
    );
  });

  test('DeleteGroups: DELETE per group; denied groups stay and follow the deleted ones, each once', async () => {
    const b = await broker(grantsOnly([DELETE, GROUP, 'g1'], [DESCRIBE, GROUP, 'g2']));
    await emptyGroup(b, 'g1');
    await emptyGroup(b, 'g2');
    assert.deepEqual(await callApi(b.dispatch, DeleteGroupsApi, 2, { groupsNames: ['g2', 'g1', 'g2'] }), {
      throttleTimeMs: 0,
      results: [
        { groupId: 'g1', errorCode: ErrorCode.NONE },
        { groupId: 'g2', errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED },
      ],
    });
    assert.deepEqual(
      (await b.coordinator.listGroups()).groups.map((g) => g.groupId),
      ['g2'],
    );
  });
});
