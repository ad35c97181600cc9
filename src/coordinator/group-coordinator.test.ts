import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CoordinatorRecordError, ErrorCode } from './errors.js';
import { GroupCoordinator, type GroupCoordinatorConfig } from './group-coordinator.js';
import { MemoryCoordinatorLog } from './memory-coordinator-log.js';
import { decodeGroupMetadataValue, decodeRecordKey, encodeGroupMetadataKey } from './records.js';
import { ManualScheduler } from './scheduler.js';
import { subscription } from './test-fixtures.js';
import type { JoinGroupRequest, JoinGroupResult, SyncGroupResult } from './types.js';

const START_MS = 1_000_000;

interface Context {
  scheduler: ManualScheduler;
  log: MemoryCoordinatorLog;
  coordinator: GroupCoordinator;
}

async function setup(
  config: Partial<GroupCoordinatorConfig> = {},
  log?: MemoryCoordinatorLog,
): Promise<Context> {
  const scheduler = new ManualScheduler(START_MS);
  const sharedLog = log ?? new MemoryCoordinatorLog(() => scheduler.nowMs());
  const coordinator = new GroupCoordinator({
    log: sharedLog,
    scheduler,
    config: { offsetsTopicPartitions: 1, groupInitialRebalanceDelayMs: 0, ...config },
  });
  coordinator.start();
  await coordinator.loadPartition(0, sharedLog.read(0));
  return { scheduler, log: sharedLog, coordinator };
}

/** Lets resolved appends and promise chains run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function advance(ctx: Context, ms: number): Promise<void> {
  ctx.scheduler.advance(ms);
  await flush();
}

/** Returns a reader of the promise's value once it settles, so tests can assert that it has not yet. */
function watch<T>(promise: Promise<T>): () => T | undefined {
  let settled: T | undefined;
  void promise.then((value) => {
    settled = value;
  });
  return () => settled;
}

function joinRequest(overrides: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription(['orders']) }],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: false,
    ...overrides,
  };
}

function sync(
  ctx: Context,
  join: JoinGroupResult,
  assignments: Map<string, string> = new Map(),
  groupId = 'g',
) {
  return ctx.coordinator.syncGroup({
    groupId,
    generationId: join.generationId,
    memberId: join.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [...assignments].map(([memberId, a]) => ({ memberId, assignment: Buffer.from(a) })),
  });
}

function heartbeat(
  ctx: Context,
  memberId: string,
  generationId: number,
  groupInstanceId: string | null = null,
) {
  return ctx.coordinator
    .heartbeat({ groupId: 'g', memberId, generationId, groupInstanceId })
    .then((r) => r.errorCode);
}

/** Joins `requests` together and completes the rebalance: the leader assigns `assign-<clientId>`. */
async function formGroup(ctx: Context, requests: JoinGroupRequest[]) {
  const joins = requests.map((r) => ctx.coordinator.joinGroup(r));
  await advance(ctx, 0);
  const joined = await Promise.all(joins);
  for (const j of joined) assert.equal(j.errorCode, ErrorCode.NONE);
  const leader = joined.find((j) => j.memberId === j.leader);
  assert.ok(leader, 'one member is the leader');
  const clientOf = new Map(joined.map((j, i) => [j.memberId, requests[i]!.clientId]));
  const assignments = new Map(joined.map((j) => [j.memberId, `assign-${clientOf.get(j.memberId)}`]));
  const synced = await Promise.all(joined.map((j) => sync(ctx, j, j === leader ? assignments : new Map())));
  for (const s of synced) assert.equal(s.errorCode, ErrorCode.NONE);
  return { joined, synced, leader, generationId: leader.generationId };
}

async function describeGroup(ctx: Context, groupId = 'g') {
  const [described] = await ctx.coordinator.describeGroups([groupId]);
  return described!;
}

function lastGroupRecord(log: MemoryCoordinatorLog) {
  const records = log.records(0).filter((r) => decodeRecordKey(r.key).type === 'groupMetadata');
  const last = records.at(-1);
  return last?.value ? decodeGroupMetadataValue(last.value) : null;
}

describe('JoinGroup / SyncGroup', () => {
  test('members join, the leader assigns and every member gets its assignment', async () => {
    const ctx = await setup();
    const requests = ['c0', 'c1', 'c2'].map((clientId) =>
      joinRequest({
        clientId,
        protocols: [{ name: 'range', metadata: subscription([`topic-${clientId}`]) }],
      }),
    );
    const { joined, synced, leader } = await formGroup(ctx, requests);

    assert.equal(leader.memberId, joined[0]!.memberId, 'the first member to join leads');
    assert.match(leader.memberId, /^c0-[0-9a-f-]{36}$/);
    for (const j of joined) {
      assert.equal(j.generationId, 1);
      assert.equal(j.protocolType, 'consumer');
      assert.equal(j.protocolName, 'range');
      assert.equal(j.leader, leader.memberId);
    }
    assert.deepEqual(
      leader.members.map((m) => [m.memberId, m.metadata]),
      joined.map((j, i) => [j.memberId, subscription([`topic-c${i}`])]),
    );
    assert.deepEqual(joined[1]!.members, []);
    assert.deepEqual(
      synced.map((s: SyncGroupResult) => s.assignment.toString()),
      ['assign-c0', 'assign-c1', 'assign-c2'],
    );
    assert.equal(synced[2]!.protocolName, 'range');

    const described = await describeGroup(ctx);
    assert.equal(described.groupState, 'Stable');
    assert.equal(described.protocolData, 'range');
    assert.deepEqual(
      described.members.map((m) => m.memberAssignment.toString()),
      ['assign-c0', 'assign-c1', 'assign-c2'],
    );
    const stored = lastGroupRecord(ctx.log);
    assert.equal(stored?.generationId, 1);
    assert.equal(stored?.leaderId, leader.memberId);
    assert.deepEqual(
      stored?.members.map((m) => m.assignment.toString()),
      ['assign-c0', 'assign-c1', 'assign-c2'],
    );

    // A follower rejoining with unchanged metadata gets the current generation without a rebalance.
    const again = await ctx.coordinator.joinGroup(
      joinRequest({ memberId: joined[1]!.memberId, protocols: requests[1]!.protocols }),
    );
    assert.equal(again.errorCode, ErrorCode.NONE);
    assert.equal(again.generationId, 1);
    assert.equal((await describeGroup(ctx)).groupState, 'Stable');
  });

  test('a follower SyncGroup waits for the leader assignment to be durable', async () => {
    const ctx = await setup();
    const joins = [ctx.coordinator.joinGroup(joinRequest()), ctx.coordinator.joinGroup(joinRequest())];
    await advance(ctx, 0);
    const [leader, follower] = await Promise.all(joins);
    const followerSync = watch(sync(ctx, follower!));
    await flush();
    assert.equal(followerSync(), undefined);
    ctx.log.holdAppends();
    const leaderSync = watch(sync(ctx, leader!, new Map([[follower!.memberId, 'f']])));
    await flush();
    assert.equal(followerSync(), undefined, 'not before the assignment is durable');
    assert.equal((await describeGroup(ctx)).groupState, 'CompletingRebalance');
    ctx.log.releaseAppends();
    await flush();
    assert.equal(followerSync()?.assignment.toString(), 'f');
    assert.equal(leaderSync()?.assignment.length, 0, 'members the leader left out get an empty assignment');
    assert.equal((await describeGroup(ctx)).groupState, 'Stable');
  });

  test('a failed assignment write fails the SyncGroups and restarts the rebalance', async () => {
    const ctx = await setup();
    const joins = [ctx.coordinator.joinGroup(joinRequest()), ctx.coordinator.joinGroup(joinRequest())];
    await advance(ctx, 0);
    const [leader, follower] = await Promise.all(joins);
    const followerSync = watch(sync(ctx, follower!));
    ctx.log.failNextAppend(
      Object.assign(new Error('not leader'), { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }),
    );
    const leaderSync = await sync(ctx, leader!, new Map([[follower!.memberId, 'f']]));
    await flush();
    assert.equal(leaderSync.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(followerSync()?.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal((await describeGroup(ctx)).groupState, 'PreparingRebalance');
  });

  test('initial rebalance delay: a new group waits, and waits again while members keep arriving', async () => {
    const ctx = await setup({ groupInitialRebalanceDelayMs: 3000 });
    const first = watch(ctx.coordinator.joinGroup(joinRequest({ clientId: 'a' })));
    await advance(ctx, 1000);
    const second = watch(ctx.coordinator.joinGroup(joinRequest({ clientId: 'b' })));
    await advance(ctx, 1999);
    assert.equal(first(), undefined);
    await advance(ctx, 1);
    assert.equal(first(), undefined, 'a member joined during the first delay, so it is extended');
    await advance(ctx, 2999);
    assert.equal(first(), undefined);
    await advance(ctx, 1);
    assert.equal(first()?.generationId, 1);
    assert.equal(second()?.generationId, 1);
    assert.equal(first()?.members.length, 2);
  });

  test('KIP-394: a new member first gets MEMBER_ID_REQUIRED with its id, then joins with it', async () => {
    const ctx = await setup();
    const first = await ctx.coordinator.joinGroup(
      joinRequest({ clientId: 'kafkajs', requireKnownMemberId: true }),
    );
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(first.memberId, /^kafkajs-/);
    assert.equal(first.generationId, -1);
    assert.deepEqual((await describeGroup(ctx)).members, [], 'a pending member is not a member yet');

    const second = watch(
      ctx.coordinator.joinGroup(joinRequest({ memberId: first.memberId, requireKnownMemberId: true })),
    );
    await advance(ctx, 0);
    assert.equal(second()?.errorCode, ErrorCode.NONE);
    assert.equal(second()?.memberId, first.memberId);
    assert.equal(second()?.leader, first.memberId);
    assert.equal(second()?.generationId, 1);
  });

  test('KIP-394: a member id that is not used within the session timeout expires', async () => {
    const ctx = await setup();
    const first = await ctx.coordinator.joinGroup(
      joinRequest({ requireKnownMemberId: true, sessionTimeoutMs: 10_000 }),
    );
    await advance(ctx, 10_000);
    const late = await ctx.coordinator.joinGroup(
      joinRequest({ memberId: first.memberId, requireKnownMemberId: true }),
    );
    assert.equal(late.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('protocol selection: the protocol all support with the most first-choice votes', async () => {
    const ctx = await setup();
    const meta = (tag: string) => Buffer.from(tag);
    const protocols = (names: string[], who: string) =>
      names.map((name) => ({ name, metadata: meta(`${who}:${name}`) }));
    const { leader } = await formGroup(ctx, [
      joinRequest({ clientId: 'a', protocols: protocols(['roundrobin', 'sticky', 'range'], 'a') }),
      joinRequest({ clientId: 'b', protocols: protocols(['sticky', 'range'], 'b') }),
      joinRequest({ clientId: 'c', protocols: protocols(['range', 'sticky'], 'c') }),
      joinRequest({ clientId: 'd', protocols: protocols(['sticky'], 'd') }),
    ]);
    assert.equal(leader.protocolName, 'sticky');
    assert.deepEqual(
      leader.members.map((m) => m.metadata.toString()),
      ['a:sticky', 'b:sticky', 'c:sticky', 'd:sticky'],
    );
  });

  test('inconsistent protocols are rejected', async () => {
    const ctx = await setup();
    const empty = await ctx.coordinator.joinGroup(joinRequest({ protocolType: '' }));
    assert.equal(empty.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    await formGroup(ctx, [joinRequest()]);
    const otherType = await ctx.coordinator.joinGroup(joinRequest({ protocolType: 'connect' }));
    assert.equal(otherType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal(otherType.memberId, '');
    const noCommon = await ctx.coordinator.joinGroup(
      joinRequest({ protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] }),
    );
    assert.equal(noCommon.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  test('session timeout outside the broker limits is rejected', async () => {
    const ctx = await setup();
    const low = await ctx.coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 5999 }));
    const high = await ctx.coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 1_800_001 }));
    assert.equal(low.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal(high.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  });

  test('group.max.size turns away members beyond the limit', async () => {
    const ctx = await setup({ groupMaxSize: 2 });
    await formGroup(ctx, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
    const third = await ctx.coordinator.joinGroup(joinRequest({ clientId: 'c' }));
    assert.equal(third.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    assert.equal(third.memberId, '');
    assert.equal((await describeGroup(ctx)).members.length, 2);
    assert.equal((await describeGroup(ctx)).groupState, 'Stable');
  });

  test('a new member joining during CompletingRebalance restarts the rebalance', async () => {
    const ctx = await setup();
    const joins = [
      ctx.coordinator.joinGroup(joinRequest({ clientId: 'a' })),
      ctx.coordinator.joinGroup(joinRequest({ clientId: 'b' })),
    ];
    await advance(ctx, 0);
    const [a, b] = await Promise.all(joins);
    const bSync = watch(sync(ctx, b!));
    await flush();
    const c = watch(ctx.coordinator.joinGroup(joinRequest({ clientId: 'c' })));
    await flush();
    assert.equal(bSync()?.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal((await sync(ctx, a!)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(await heartbeat(ctx, a!.memberId, 1), ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoins = [a!, b!].map((j) => ctx.coordinator.joinGroup(joinRequest({ memberId: j.memberId })));
    await flush();
    const [a2, b2] = await Promise.all(rejoins);
    assert.equal(a2!.generationId, 2);
    assert.equal(b2!.generationId, 2);
    assert.equal(c()?.generationId, 2);
    assert.equal(a2!.members.length, 3);
  });

  test('the leader rejoining a Stable group triggers a rebalance', async () => {
    const ctx = await setup();
    const { joined, leader } = await formGroup(ctx, [
      joinRequest({ clientId: 'a' }),
      joinRequest({ clientId: 'b' }),
    ]);
    const leaderJoin = watch(ctx.coordinator.joinGroup(joinRequest({ memberId: leader.memberId })));
    await flush();
    assert.equal(leaderJoin(), undefined, 'waits for the other member');
    assert.equal(await heartbeat(ctx, joined[1]!.memberId, 1), ErrorCode.REBALANCE_IN_PROGRESS);
    await ctx.coordinator.joinGroup(joinRequest({ memberId: joined[1]!.memberId }));
    await flush();
    assert.equal(leaderJoin()?.generationId, 2);
  });

  test('members that do not rejoin within the rebalance timeout are removed; the leader moves', async () => {
    const ctx = await setup();
    const request = (clientId: string) =>
      joinRequest({ clientId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 20_000 });
    const { joined, leader } = await formGroup(ctx, [request('a'), request('b')]);
    const b = joined[1]!;
    assert.equal(leader.memberId, joined[0]!.memberId);
    const c = watch(ctx.coordinator.joinGroup(request('c')));
    const bRejoin = watch(
      ctx.coordinator.joinGroup(joinRequest({ memberId: b.memberId, rebalanceTimeoutMs: 20_000 })),
    );
    // The leader only heartbeats: alive, but never rejoins.
    for (let elapsed = 0; elapsed < 18_000; elapsed += 6_000) {
      await advance(ctx, 6_000);
      assert.equal(await heartbeat(ctx, leader.memberId, 1), ErrorCode.REBALANCE_IN_PROGRESS);
    }
    assert.equal(c(), undefined);
    await advance(ctx, 2_000);
    assert.equal(bRejoin()?.generationId, 2);
    assert.equal(bRejoin()?.leader, b.memberId, 'a member that rejoined becomes leader');
    assert.equal(bRejoin()?.members.length, 2);
    assert.equal(c()?.leader, b.memberId);
    assert.equal(await heartbeat(ctx, leader.memberId, 2), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('a member that never sends SyncGroup is removed after the rebalance timeout', async () => {
    const ctx = await setup();
    const request = (clientId: string) =>
      joinRequest({ clientId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 15_000 });
    const joins = [ctx.coordinator.joinGroup(request('a')), ctx.coordinator.joinGroup(request('b'))];
    await advance(ctx, 0);
    const [a, b] = await Promise.all(joins);
    const aSync = await sync(ctx, a!, new Map([[a!.memberId, 'x']]));
    assert.equal(aSync.assignment.toString(), 'x');
    await advance(ctx, 9_000);
    assert.equal(await heartbeat(ctx, a!.memberId, 1), ErrorCode.NONE);
    await advance(ctx, 5_999);
    assert.equal(await heartbeat(ctx, a!.memberId, 1), ErrorCode.NONE);
    assert.equal(await heartbeat(ctx, b!.memberId, 1), ErrorCode.NONE, 'b is alive, it just never synced');
    await advance(ctx, 1);
    assert.equal(await heartbeat(ctx, a!.memberId, 1), ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(await heartbeat(ctx, b!.memberId, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('Heartbeat, session timeouts and LeaveGroup', () => {
  test('a silent member expires after its session timeout and the group rebalances without it', async () => {
    const ctx = await setup();
    const { joined } = await formGroup(ctx, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
    const [a, b] = joined;
    await advance(ctx, 4_000);
    assert.equal(await heartbeat(ctx, a!.memberId, 1), ErrorCode.NONE);
    await advance(ctx, 4_000);
    assert.equal(await heartbeat(ctx, a!.memberId, 1), ErrorCode.NONE);
    await advance(ctx, 1_999);
    assert.equal((await describeGroup(ctx)).members.length, 2);
    await advance(ctx, 1);
    assert.equal((await describeGroup(ctx)).groupState, 'PreparingRebalance');
    assert.equal(await heartbeat(ctx, a!.memberId, 1), ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(await heartbeat(ctx, b!.memberId, 1), ErrorCode.UNKNOWN_MEMBER_ID);
    const rejoin = await ctx.coordinator.joinGroup(joinRequest({ memberId: a!.memberId }));
    assert.equal(rejoin.generationId, 2);
    assert.deepEqual(
      rejoin.members.map((m) => m.memberId),
      [a!.memberId],
    );
  });

  test('heartbeat errors: unknown member, illegal generation, invalid group id', async () => {
    const ctx = await setup();
    const { leader } = await formGroup(ctx, [joinRequest()]);
    assert.equal(await heartbeat(ctx, leader.memberId, 1), ErrorCode.NONE);
    assert.equal(await heartbeat(ctx, leader.memberId, 2), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await heartbeat(ctx, 'nobody', 1), ErrorCode.UNKNOWN_MEMBER_ID);
    const noGroup = await ctx.coordinator.heartbeat({
      groupId: 'other',
      memberId: 'm',
      generationId: 1,
      groupInstanceId: null,
    });
    assert.equal(noGroup.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const invalid = await ctx.coordinator.heartbeat({
      groupId: '',
      memberId: 'm',
      generationId: 1,
      groupInstanceId: null,
    });
    assert.equal(invalid.errorCode, ErrorCode.INVALID_GROUP_ID);
  });

  test('sync errors: unknown member, illegal generation, inconsistent protocol', async () => {
    const ctx = await setup();
    const { leader } = await formGroup(ctx, [joinRequest()]);
    const base = {
      groupId: 'g',
      memberId: leader.memberId,
      generationId: 1,
      groupInstanceId: null,
      assignments: [],
    };
    const call = (o: object) =>
      ctx.coordinator.syncGroup({ ...base, protocolType: null, protocolName: null, ...o });
    assert.equal((await call({})).errorCode, ErrorCode.NONE);
    assert.equal((await call({ generationId: 0 })).errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal((await call({ memberId: 'x' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await call({ protocolType: 'connect' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal((await call({ protocolName: 'sticky' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const ok = await call({ protocolType: 'consumer', protocolName: 'range' });
    assert.deepEqual([ok.errorCode, ok.protocolType, ok.protocolName], [ErrorCode.NONE, 'consumer', 'range']);
  });

  test('LeaveGroup of one member triggers a rebalance', async () => {
    const ctx = await setup();
    const { joined } = await formGroup(
      ctx,
      ['a', 'b', 'c'].map((clientId) => joinRequest({ clientId })),
    );
    const left = await ctx.coordinator.leaveGroup('g', [
      { memberId: joined[1]!.memberId, groupInstanceId: null },
    ]);
    assert.deepEqual(left, {
      errorCode: ErrorCode.NONE,
      members: [{ memberId: joined[1]!.memberId, groupInstanceId: null, errorCode: ErrorCode.NONE }],
    });
    assert.equal((await describeGroup(ctx)).groupState, 'PreparingRebalance');
    const rejoins = [joined[0]!, joined[2]!].map((j) =>
      ctx.coordinator.joinGroup(joinRequest({ memberId: j.memberId })),
    );
    const [a2] = await Promise.all(rejoins);
    assert.equal(a2!.generationId, 2);
    assert.deepEqual(
      a2!.members.map((m) => m.memberId),
      [joined[0]!.memberId, joined[2]!.memberId],
    );
  });

  test('batched LeaveGroup (v3+) answers per member; the last leaving empties the group', async () => {
    const ctx = await setup();
    const { joined } = await formGroup(ctx, [
      joinRequest({ clientId: 'a' }),
      joinRequest({ clientId: 'b', groupInstanceId: 'instance-b' }),
    ]);
    const result = await ctx.coordinator.leaveGroup('g', [
      { memberId: joined[0]!.memberId, groupInstanceId: null, reason: 'shutting down' },
      { memberId: 'ghost', groupInstanceId: null },
      { memberId: joined[1]!.memberId, groupInstanceId: 'wrong-instance' },
      { memberId: '', groupInstanceId: 'instance-b' },
    ]);
    assert.deepEqual(
      result.members.map((m) => m.errorCode),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.NONE],
    );
    assert.equal((await describeGroup(ctx)).groupState, 'Empty');
    const stored = lastGroupRecord(ctx.log);
    assert.deepEqual([stored?.generationId, stored?.members.length, stored?.protocolName], [2, 0, null]);
  });
});

describe('static membership', () => {
  const staticRequest = (instance: string, overrides: Partial<JoinGroupRequest> = {}) =>
    joinRequest({ clientId: instance, groupInstanceId: instance, sessionTimeoutMs: 30_000, ...overrides });

  test('a restarted static member replaces its old id without a rebalance; the old id is fenced', async () => {
    const ctx = await setup();
    const { joined, leader } = await formGroup(ctx, [staticRequest('i-a'), staticRequest('i-b')]);
    const oldB = joined[1]!;
    const appendsBefore = ctx.log.appendCount;

    const restarted = await ctx.coordinator.joinGroup(staticRequest('i-b'));
    assert.equal(restarted.errorCode, ErrorCode.NONE);
    assert.notEqual(restarted.memberId, oldB.memberId);
    assert.match(restarted.memberId, /^i-b-/);
    assert.equal(restarted.generationId, 1, 'same generation: no rebalance');
    assert.equal(restarted.leader, leader.memberId);
    assert.equal(ctx.log.appendCount, appendsBefore + 1, 'the new member id was persisted');
    assert.equal((await describeGroup(ctx)).groupState, 'Stable');
    assert.equal(await heartbeat(ctx, leader.memberId, 1, 'i-a'), ErrorCode.NONE);

    assert.equal(await heartbeat(ctx, oldB.memberId, 1, 'i-b'), ErrorCode.FENCED_INSTANCE_ID);
    const fencedJoin = await ctx.coordinator.joinGroup(staticRequest('i-b', { memberId: oldB.memberId }));
    assert.equal(fencedJoin.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const fencedSync = await ctx.coordinator.syncGroup({
      groupId: 'g',
      generationId: 1,
      memberId: oldB.memberId,
      groupInstanceId: 'i-b',
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(fencedSync.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const fencedCommit = await ctx.coordinator.commitOffsets({
      groupId: 'g',
      generationId: 1,
      memberId: oldB.memberId,
      groupInstanceId: 'i-b',
      offsets: [{ topic: 'orders', partition: 0, offset: 5, leaderEpoch: -1, metadata: null }],
    });
    assert.equal(fencedCommit[0]?.errorCode, ErrorCode.FENCED_INSTANCE_ID);

    const newSync = await ctx.coordinator.syncGroup({
      groupId: 'g',
      generationId: 1,
      memberId: restarted.memberId,
      groupInstanceId: 'i-b',
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    });
    assert.equal(
      newSync.assignment.toString(),
      'assign-i-b',
      'keeps the assignment of its previous incarnation',
    );
  });

  test('a restarted static leader: v9 is told to skip the assignment, older versions see the old leader id', async () => {
    const ctx = await setup();
    const { leader } = await formGroup(ctx, [staticRequest('i-a'), staticRequest('i-b')]);
    const v9 = await ctx.coordinator.joinGroup(staticRequest('i-a', { supportSkippingAssignment: true }));
    assert.equal(v9.skipAssignment, true);
    assert.equal(v9.leader, v9.memberId);
    assert.equal(v9.members.length, 2);
    const older = await ctx.coordinator.joinGroup(staticRequest('i-a'));
    assert.equal(older.skipAssignment, false);
    assert.equal(older.leader, v9.memberId, 'the leader id before this restart');
    assert.notEqual(older.leader, older.memberId);
    assert.deepEqual(older.members, []);
    assert.notEqual(leader.memberId, v9.memberId);
  });

  test('a static member rejoining with a protocol change that alters the selection rebalances', async () => {
    const ctx = await setup();
    await formGroup(ctx, [staticRequest('i-a')]);
    const changed = watch(
      ctx.coordinator.joinGroup(
        staticRequest('i-a', {
          protocols: [
            { name: 'sticky', metadata: subscription(['orders']) },
            { name: 'range', metadata: subscription(['orders']) },
          ],
        }),
      ),
    );
    await flush();
    assert.equal(changed()?.generationId, 2);
    assert.equal(changed()?.protocolName, 'sticky');
  });

  test('a static member that does not rejoin stays through the join phase', async () => {
    const ctx = await setup();
    const request = (instance: string) => staticRequest(instance, { rebalanceTimeoutMs: 10_000 });
    const { joined } = await formGroup(ctx, [request('i-a'), request('i-b')]);
    const aRejoin = watch(
      ctx.coordinator.joinGroup(joinRequest({ ...request('i-a'), memberId: joined[0]!.memberId })),
    );
    await advance(ctx, 10_000);
    assert.equal(aRejoin()?.generationId, 2);
    assert.deepEqual(
      aRejoin()?.members.map((m) => m.groupInstanceId),
      ['i-a', 'i-b'],
    );
  });
});

describe('offsets', () => {
  const commit = (
    ctx: Context,
    o: object,
    offsets: [string, number, number][],
    metadata: string | null = 'm',
  ) =>
    ctx.coordinator.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: offsets.map(([topic, partition, offset]) => ({
        topic,
        partition,
        offset,
        leaderEpoch: 3,
        metadata,
      })),
      ...o,
    });

  test('offsets of deleted topics are dropped from every group, durably', async () => {
    const ctx = await setup();
    await commit(ctx, {}, [
      ['orders', 0, 42],
      ['audit', 0, 1],
    ]);
    await ctx.coordinator.removeOffsetsOfTopics(new Set(['orders']));
    const fetched = await ctx.coordinator.fetchOffsets('g', null, false);
    assert.deepEqual(
      fetched.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.offset])]),
      [['audit', [[0, 1]]]],
    );
    const reloaded = await setup({}, ctx.log);
    const afterReload = await reloaded.coordinator.fetchOffsets('g', null, false);
    assert.deepEqual(
      afterReload.topics.map((t) => t.topic),
      ['audit'],
    );
  });

  test('simple commits (generation -1) create a group that only stores offsets; fetch returns them', async () => {
    const ctx = await setup();
    const result = await commit(ctx, {}, [
      ['orders', 0, 42],
      ['orders', 1, 7],
      ['audit', 0, 1],
    ]);
    assert.deepEqual(
      result.map((r) => r.errorCode),
      [0, 0, 0],
    );
    const fetched = await ctx.coordinator.fetchOffsets('g', [{ topic: 'orders', partitions: [0, 2] }], false);
    assert.deepEqual(fetched, {
      errorCode: ErrorCode.NONE,
      topics: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, offset: 42, leaderEpoch: 3, metadata: 'm', errorCode: 0 },
            { partition: 2, offset: -1, leaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
      ],
    });
    const all = await ctx.coordinator.fetchOffsets('g', null, true);
    assert.deepEqual(
      all.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.offset])]),
      [
        [
          'orders',
          [
            [0, 42],
            [1, 7],
          ],
        ],
        ['audit', [[0, 1]]],
      ],
    );
    const unknownGroup = await ctx.coordinator.fetchOffsets(
      'nope',
      [{ topic: 'orders', partitions: [0] }],
      false,
    );
    assert.equal(unknownGroup.topics[0]?.partitions[0]?.offset, -1);
    assert.deepEqual((await ctx.coordinator.fetchOffsets('nope', null, false)).topics, []);
    assert.equal((await describeGroup(ctx)).groupState, 'Empty');
    // The empty group id is allowed for offset APIs (backward compatibility), but not for membership.
    assert.equal((await commit(ctx, { groupId: '' }, [['t', 0, 1]]))[0]?.errorCode, ErrorCode.NONE);
  });

  test('member commits: generation and membership are checked; CompletingRebalance answers REBALANCE_IN_PROGRESS', async () => {
    const ctx = await setup();
    const joins = [ctx.coordinator.joinGroup(joinRequest()), ctx.coordinator.joinGroup(joinRequest())];
    await advance(ctx, 0);
    const [a, b] = await Promise.all(joins);
    const asMember = (memberId: string, generationId: number) => ({ memberId, generationId });
    assert.equal(
      (await commit(ctx, asMember(a!.memberId, 1), [['t', 0, 1]]))[0]?.errorCode,
      ErrorCode.REBALANCE_IN_PROGRESS,
    );
    await sync(ctx, a!, new Map());
    await sync(ctx, b!);
    assert.equal((await commit(ctx, asMember(a!.memberId, 1), [['t', 0, 1]]))[0]?.errorCode, ErrorCode.NONE);
    assert.equal(
      (await commit(ctx, asMember(a!.memberId, 2), [['t', 0, 1]]))[0]?.errorCode,
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal(
      (await commit(ctx, asMember('ghost', 1), [['t', 0, 1]]))[0]?.errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal(
      (await commit(ctx, {}, [['t', 0, 1]]))[0]?.errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
      'simple commit to a live group',
    );
    const missing = { groupId: 'missing', memberId: 'm', generationId: 3 };
    assert.equal((await commit(ctx, missing, [['t', 0, 1]]))[0]?.errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal(
      (await commit(ctx, { ...missing, groupIdNotFoundIfMissing: true }, [['t', 0, 1]]))[0]?.errorCode,
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
  });

  test('a commit is acknowledged only once durable; requireStable fetches see UNSTABLE_OFFSET_COMMIT meanwhile', async () => {
    const ctx = await setup();
    await commit(ctx, {}, [['t', 0, 1]]);
    ctx.log.holdAppends();
    const pending = watch(commit(ctx, {}, [['t', 0, 2]]));
    await flush();
    assert.equal(pending(), undefined);
    const unstable = await ctx.coordinator.fetchOffsets('g', [{ topic: 't', partitions: [0] }], true);
    assert.equal(unstable.topics[0]?.partitions[0]?.errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT);
    assert.equal(unstable.topics[0]?.partitions[0]?.offset, -1);
    const relaxed = await ctx.coordinator.fetchOffsets('g', [{ topic: 't', partitions: [0] }], false);
    assert.equal(relaxed.topics[0]?.partitions[0]?.offset, 1, 'the last durable offset');
    ctx.log.releaseAppends();
    await flush();
    assert.equal(pending()?.[0]?.errorCode, ErrorCode.NONE);
    const stable = await ctx.coordinator.fetchOffsets('g', [{ topic: 't', partitions: [0] }], true);
    assert.equal(stable.topics[0]?.partitions[0]?.offset, 2);
  });

  test('failed appends and oversized metadata are reported per partition', async () => {
    const ctx = await setup({ offsetMetadataMaxBytes: 4 });
    const result = await commit(ctx, {}, [['t', 0, 1]], 'too long');
    assert.equal(result[0]?.errorCode, ErrorCode.OFFSET_METADATA_TOO_LARGE);
    ctx.log.failNextAppend(
      Object.assign(new Error('too big'), { errorCode: ErrorCode.RECORD_LIST_TOO_LARGE }),
    );
    assert.equal(
      (await commit(ctx, {}, [['t', 0, 1]], 'ok'))[0]?.errorCode,
      ErrorCode.INVALID_COMMIT_OFFSET_SIZE,
    );
    ctx.log.failNextAppend(new Error('disk on fire'));
    assert.equal(
      (await commit(ctx, {}, [['t', 0, 1]], 'ok'))[0]?.errorCode,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    const fetched = await ctx.coordinator.fetchOffsets('g', [{ topic: 't', partitions: [0] }], true);
    assert.deepEqual(fetched.topics[0]?.partitions[0], {
      partition: 0,
      offset: -1,
      leaderEpoch: -1,
      metadata: '',
      errorCode: 0,
    });
  });

  test('OffsetDelete: any offset of an Empty group, only unsubscribed topics of a live consumer group', async () => {
    const ctx = await setup();
    await commit(ctx, {}, [
      ['orders', 0, 1],
      ['old-topic', 0, 2],
    ]);
    const fromEmpty = await ctx.coordinator.deleteOffsets('g', [{ topic: 'orders', partitions: [0, 5] }]);
    assert.deepEqual(fromEmpty, {
      errorCode: ErrorCode.NONE,
      topics: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 5, errorCode: 0 },
          ],
        },
      ],
    });
    assert.equal(
      (await ctx.coordinator.fetchOffsets('g', [{ topic: 'orders', partitions: [0] }], false)).topics[0]
        ?.partitions[0]?.offset,
      -1,
    );

    await formGroup(ctx, [
      joinRequest({ protocols: [{ name: 'range', metadata: subscription(['orders']) }] }),
    ]);
    const fromLive = await ctx.coordinator.deleteOffsets('g', [
      { topic: 'orders', partitions: [0] },
      { topic: 'old-topic', partitions: [0] },
    ]);
    assert.deepEqual(
      fromLive.topics.map((t) => [t.topic, t.partitions[0]?.errorCode]),
      [
        ['orders', ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
        ['old-topic', ErrorCode.NONE],
      ],
    );
    assert.deepEqual((await ctx.coordinator.fetchOffsets('g', null, false)).topics, []);
    assert.equal((await ctx.coordinator.deleteOffsets('nope', [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  test('OffsetDelete on a live group of another protocol type is NON_EMPTY_GROUP', async () => {
    const ctx = await setup();
    const join = watch(ctx.coordinator.joinGroup(joinRequest({ protocolType: 'connect' })));
    await advance(ctx, 0);
    assert.equal(join()?.errorCode, ErrorCode.NONE);
    const result = await ctx.coordinator.deleteOffsets('g', [{ topic: 'orders', partitions: [0] }]);
    assert.deepEqual(result, { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] });
  });
});

describe('group administration', () => {
  test('DeleteGroups removes only Empty groups, with tombstones for the group and its offsets', async () => {
    const ctx = await setup();
    const liveJoin = watch(ctx.coordinator.joinGroup(joinRequest({ groupId: 'busy' })));
    await advance(ctx, 0);
    assert.equal(liveJoin()?.errorCode, ErrorCode.NONE);
    // 'emptied' completes a generation, then its member leaves, so it has group metadata and offsets.
    const emptiedJoin = watch(ctx.coordinator.joinGroup(joinRequest({ groupId: 'emptied' })));
    await advance(ctx, 0);
    await ctx.coordinator
      .commitOffsets({
        groupId: 'emptied',
        generationId: 1,
        memberId: emptiedJoin()!.memberId,
        groupInstanceId: null,
        offsets: [{ topic: 'orders', partition: 0, offset: 9, leaderEpoch: -1, metadata: null }],
      })
      .then((r) => assert.equal(r[0]?.errorCode, ErrorCode.REBALANCE_IN_PROGRESS));
    await sync(ctx, emptiedJoin()!, new Map(), 'emptied');
    await ctx.coordinator.commitOffsets({
      groupId: 'emptied',
      generationId: 1,
      memberId: emptiedJoin()!.memberId,
      groupInstanceId: null,
      offsets: [{ topic: 'orders', partition: 0, offset: 9, leaderEpoch: -1, metadata: null }],
    });
    await ctx.coordinator.leaveGroup('emptied', [
      { memberId: emptiedJoin()!.memberId, groupInstanceId: null },
    ]);
    assert.equal((await describeGroup(ctx, 'emptied')).groupState, 'Empty');

    const before = ctx.log.records(0).length;
    const results = await ctx.coordinator.deleteGroups(['busy', 'emptied', 'unknown', 'emptied']);
    assert.deepEqual(results, [
      { groupId: 'busy', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'emptied', errorCode: ErrorCode.NONE },
      { groupId: 'unknown', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    const tombstones = ctx.log.records(0).slice(before);
    assert.deepEqual(
      tombstones.map((r) => [decodeRecordKey(r.key), r.value]),
      [
        [{ type: 'offsetCommit', groupId: 'emptied', topic: 'orders', partition: 0 }, null],
        [{ type: 'groupMetadata', groupId: 'emptied' }, null],
      ],
    );
    assert.equal((await describeGroup(ctx, 'emptied')).groupState, 'Dead');
    assert.equal(
      (await ctx.coordinator.fetchOffsets('emptied', [{ topic: 'orders', partitions: [0] }], false)).topics[0]
        ?.partitions[0]?.offset,
      -1,
    );
  });

  test('ListGroups filters by state and type; DescribeGroups reports unknown groups as Dead', async () => {
    const ctx = await setup();
    await formGroup(ctx, [joinRequest({ groupId: 'g' })]);
    await ctx.coordinator.commitOffsets({
      groupId: 'simple',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }],
    });
    const all = await ctx.coordinator.listGroups();
    assert.deepEqual(all, {
      errorCode: ErrorCode.NONE,
      groups: [
        { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
        { groupId: 'simple', protocolType: '', groupState: 'Empty', groupType: 'classic' },
      ],
    });
    assert.deepEqual(
      (await ctx.coordinator.listGroups({ statesFilter: ['empty'] })).groups.map((g) => g.groupId),
      ['simple'],
    );
    assert.deepEqual((await ctx.coordinator.listGroups({ typesFilter: ['consumer'] })).groups, []);
    assert.equal((await ctx.coordinator.listGroups({ typesFilter: ['Classic'] })).groups.length, 2);
    const [unknown] = await ctx.coordinator.describeGroups(['unknown']);
    assert.deepEqual(unknown, {
      errorCode: ErrorCode.NONE,
      groupId: 'unknown',
      groupState: 'Dead',
      protocolType: '',
      protocolData: '',
      members: [],
    });
  });
});

describe('offset retention', () => {
  const retentionMs = 60_000;

  test('offsets of an Empty group expire retention after it became empty; then the group goes away', async () => {
    const ctx = await setup({ offsetsRetentionMs: retentionMs, offsetsRetentionCheckIntervalMs: 3_600_000 });
    const { leader } = await formGroup(ctx, [joinRequest({ sessionTimeoutMs: 120_000 })]);
    await ctx.coordinator.commitOffsets({
      groupId: 'g',
      generationId: 1,
      memberId: leader.memberId,
      groupInstanceId: null,
      offsets: [{ topic: 'orders', partition: 0, offset: 5, leaderEpoch: -1, metadata: null }],
    });
    await advance(ctx, 50_000);
    // Still Stable and subscribed to 'orders': nothing expires even past the retention.
    await advance(ctx, 20_000);
    assert.equal(await heartbeat(ctx, leader.memberId, 1), ErrorCode.NONE);
    assert.equal(await ctx.coordinator.cleanupExpiredOffsets(), 0);

    await ctx.coordinator.leaveGroup('g', [{ memberId: leader.memberId, groupInstanceId: null }]);
    assert.equal((await describeGroup(ctx)).groupState, 'Empty');
    await advance(ctx, retentionMs - 1);
    assert.equal(
      await ctx.coordinator.cleanupExpiredOffsets(),
      0,
      'counted from when the group became empty',
    );
    await advance(ctx, 1);
    const before = ctx.log.records(0).length;
    assert.equal(await ctx.coordinator.cleanupExpiredOffsets(), 1);
    assert.deepEqual(
      ctx.log
        .records(0)
        .slice(before)
        .map((r) => [decodeRecordKey(r.key).type, r.value]),
      [
        ['offsetCommit', null],
        ['groupMetadata', null],
      ],
    );
    assert.equal((await describeGroup(ctx)).groupState, 'Dead');
    assert.deepEqual((await ctx.coordinator.listGroups()).groups, []);
  });

  test('a simple group expires by commit time, run by the periodic check', async () => {
    const ctx = await setup({ offsetsRetentionMs: retentionMs, offsetsRetentionCheckIntervalMs: 10_000 });
    const commitAt = (partition: number) =>
      ctx.coordinator.commitOffsets({
        groupId: 's',
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        offsets: [{ topic: 't', partition, offset: 1, leaderEpoch: -1, metadata: null }],
      });
    await commitAt(0);
    await advance(ctx, 30_000);
    await commitAt(1);
    await advance(ctx, 30_000);
    const left = await ctx.coordinator.fetchOffsets('s', null, false);
    assert.deepEqual(
      left.topics[0]?.partitions.map((p) => p.partition),
      [1],
    );
    await advance(ctx, 30_000);
    assert.deepEqual((await ctx.coordinator.fetchOffsets('s', null, false)).topics, []);
    assert.equal((await describeGroup(ctx, 's')).groupState, 'Dead');
    // A simple group never wrote group metadata, so no group tombstone either.
    assert.equal(ctx.log.records(0).filter((r) => decodeRecordKey(r.key).type === 'groupMetadata').length, 0);
  });

  test('a Stable consumer group loses offsets of topics it no longer subscribes to', async () => {
    const ctx = await setup({ offsetsRetentionMs: retentionMs, offsetsRetentionCheckIntervalMs: 3_600_000 });
    const { leader } = await formGroup(ctx, [joinRequest({ sessionTimeoutMs: 120_000 })]);
    await ctx.coordinator.commitOffsets({
      groupId: 'g',
      generationId: 1,
      memberId: leader.memberId,
      groupInstanceId: null,
      offsets: [
        { topic: 'orders', partition: 0, offset: 5, leaderEpoch: -1, metadata: null },
        { topic: 'gone', partition: 0, offset: 5, leaderEpoch: -1, metadata: null },
      ],
    });
    await advance(ctx, retentionMs);
    assert.equal(await ctx.coordinator.cleanupExpiredOffsets(), 1);
    assert.deepEqual(
      (await ctx.coordinator.fetchOffsets('g', null, false)).topics.map((t) => t.topic),
      ['orders'],
    );
  });
});

describe('persistence and partition loading', () => {
  test('replaying the log restores Stable groups, static members and offsets exactly', async () => {
    const first = await setup();
    const { joined, leader } = await formGroup(first, [
      joinRequest({ clientId: 'a', groupInstanceId: 'i-a', sessionTimeoutMs: 30_000 }),
      joinRequest({ clientId: 'b', sessionTimeoutMs: 30_000 }),
    ]);
    await first.coordinator.commitOffsets({
      groupId: 'g',
      generationId: 1,
      memberId: leader.memberId,
      groupInstanceId: 'i-a',
      offsets: [
        { topic: 'orders', partition: 0, offset: 10, leaderEpoch: 2, metadata: 'x' },
        { topic: 'orders', partition: 1, offset: 20, leaderEpoch: 2, metadata: null },
      ],
    });
    await first.coordinator.commitOffsets({
      groupId: 'g',
      generationId: 1,
      memberId: leader.memberId,
      groupInstanceId: 'i-a',
      offsets: [{ topic: 'orders', partition: 0, offset: 11, leaderEpoch: 3, metadata: 'y' }],
    });
    await first.coordinator.commitOffsets({
      groupId: 'simple',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [{ topic: 'audit', partition: 4, offset: 99, leaderEpoch: -1, metadata: null }],
    });

    const second = await setup({}, first.log);
    assert.deepEqual(
      await second.coordinator.describeGroups(['g', 'simple']),
      await first.coordinator.describeGroups(['g', 'simple']),
    );
    assert.deepEqual(
      await second.coordinator.fetchOffsets('g', null, true),
      await first.coordinator.fetchOffsets('g', null, true),
    );
    assert.deepEqual((await second.coordinator.fetchOffsets('g', null, true)).topics[0]?.partitions[0], {
      partition: 0,
      offset: 11,
      leaderEpoch: 3,
      metadata: 'y',
      errorCode: 0,
    });
    assert.deepEqual(
      await second.coordinator.fetchOffsets('simple', null, false),
      await first.coordinator.fetchOffsets('simple', null, false),
    );
    assert.deepEqual(await second.coordinator.listGroups(), await first.coordinator.listGroups());

    // Members carry on without a rebalance: same ids, same generation, assignments kept.
    assert.equal(await heartbeat(second, joined[1]!.memberId, 1), ErrorCode.NONE);
    const followerJoin = await second.coordinator.joinGroup(
      joinRequest({ memberId: joined[1]!.memberId, sessionTimeoutMs: 30_000 }),
    );
    assert.deepEqual([followerJoin.errorCode, followerJoin.generationId], [ErrorCode.NONE, 1]);
    const restartedStatic = await second.coordinator.joinGroup(
      joinRequest({ clientId: 'a', groupInstanceId: 'i-a', sessionTimeoutMs: 30_000 }),
    );
    assert.deepEqual([restartedStatic.errorCode, restartedStatic.generationId], [ErrorCode.NONE, 1]);
    const restartedSync = await second.coordinator.syncGroup({
      groupId: 'g',
      generationId: 1,
      memberId: restartedStatic.memberId,
      groupInstanceId: 'i-a',
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(restartedSync.assignment.toString(), 'assign-a');
    assert.equal((await describeGroup(second)).groupState, 'Stable');

    // Loaded members still have to heartbeat within their session; these two stop now.
    await advance(second, 29_999);
    assert.equal((await describeGroup(second)).groupState, 'Stable');
    await advance(second, 1);
    assert.equal((await describeGroup(second)).groupState, 'Empty');
  });

  test('requests for a loading partition get COORDINATOR_LOAD_IN_PROGRESS (heartbeat NONE, sync REBALANCE_IN_PROGRESS)', async () => {
    const scheduler = new ManualScheduler(START_MS);
    const log = new MemoryCoordinatorLog(() => scheduler.nowMs());
    const coordinator = new GroupCoordinator({ log, scheduler, config: { offsetsTopicPartitions: 1 } });
    coordinator.start();
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slowRecords() {
      await gate;
      yield* log.read(0);
    }
    const loading = coordinator.loadPartition(0, slowRecords());
    const member = { groupId: 'g', memberId: 'm', generationId: 1, groupInstanceId: null };
    assert.equal(
      (await coordinator.joinGroup(joinRequest())).errorCode,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    assert.equal((await coordinator.heartbeat(member)).errorCode, ErrorCode.NONE);
    const syncResult = await coordinator.syncGroup({
      ...member,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(syncResult.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    const commitResult = await coordinator.commitOffsets({
      ...member,
      offsets: [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }],
    });
    assert.equal(commitResult[0]?.errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal(
      (await coordinator.fetchOffsets('g', null, false)).errorCode,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    assert.equal(
      (await coordinator.describeGroups(['g']))[0]?.errorCode,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    assert.equal((await coordinator.listGroups()).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal((await coordinator.leaveGroup('g', [])).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal(
      (await coordinator.deleteGroups(['g']))[0]?.errorCode,
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    release();
    await loading;
    assert.equal((await coordinator.fetchOffsets('g', null, false)).errorCode, ErrorCode.NONE);
    assert.equal((await coordinator.listGroups()).errorCode, ErrorCode.NONE);
  });

  test('a corrupt record fails the load and leaves the partition unowned', async () => {
    const scheduler = new ManualScheduler(START_MS);
    const log = new MemoryCoordinatorLog(() => scheduler.nowMs());
    await log.append(0, [{ key: encodeGroupMetadataKey('g'), value: Buffer.from([7]) }]);
    const coordinator = new GroupCoordinator({ log, scheduler, config: { offsetsTopicPartitions: 1 } });
    coordinator.start();
    await assert.rejects(coordinator.loadPartition(0, log.read(0)), CoordinatorRecordError);
    assert.equal((await coordinator.fetchOffsets('g', null, false)).errorCode, ErrorCode.NOT_COORDINATOR);
    await assert.rejects(coordinator.loadPartition(0, log.read(0)), /unknown group metadata value version 7/);
  });

  test('groups of partitions not loaded here get NOT_COORDINATOR; unloading answers parked joins', async () => {
    const scheduler = new ManualScheduler(START_MS);
    const log = new MemoryCoordinatorLog(() => scheduler.nowMs());
    const coordinator = new GroupCoordinator({
      log,
      scheduler,
      config: { offsetsTopicPartitions: 50, groupInitialRebalanceDelayMs: 3000 },
    });
    assert.equal(
      (await coordinator.joinGroup(joinRequest({ groupId: 'hello' }))).errorCode,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      'not started',
    );
    coordinator.start();
    // partitionFor('hello', 50) = 22, partitionFor('my-group', 50) = 12.
    await coordinator.loadPartition(22, log.read(22));
    assert.equal(
      (await coordinator.joinGroup(joinRequest({ groupId: 'my-group' }))).errorCode,
      ErrorCode.NOT_COORDINATOR,
    );
    const parked = watch(coordinator.joinGroup(joinRequest({ groupId: 'hello' })));
    await flush();
    assert.equal(parked(), undefined, 'in the initial rebalance delay');
    coordinator.unloadPartition(22);
    await flush();
    assert.equal(parked()?.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(scheduler.pendingTimers, 1, 'only the offset expiry timer is left');
    coordinator.shutdown();
    assert.equal(scheduler.pendingTimers, 0);
  });
});
