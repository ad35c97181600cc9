import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClassicGroup, ClassicGroupMember, type GroupState } from './classic-group.js';
import { ErrorCode, GroupStateError } from './errors.js';
import { subscription } from './test-fixtures.js';
import type { JoinGroupResult, SyncGroupResult } from './types.js';

function member(
  memberId: string,
  protocols: string[],
  groupInstanceId: string | null = null,
): ClassicGroupMember {
  return new ClassicGroupMember({
    memberId,
    groupInstanceId,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 10_000,
    sessionTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: protocols.map((name) => ({ name, metadata: subscription([`topic-of-${memberId}`]) })),
  });
}

const noop = () => {};

describe('ClassicGroup state machine', () => {
  const legal: [GroupState, GroupState][] = [
    ['Empty', 'PreparingRebalance'],
    ['PreparingRebalance', 'CompletingRebalance'],
    ['PreparingRebalance', 'Empty'],
    ['CompletingRebalance', 'Stable'],
    ['CompletingRebalance', 'PreparingRebalance'],
    ['Stable', 'PreparingRebalance'],
    ['Empty', 'Dead'],
    ['Stable', 'Dead'],
    ['Dead', 'Dead'],
  ];
  const illegal: [GroupState, GroupState][] = [
    ['Empty', 'Stable'],
    ['Empty', 'CompletingRebalance'],
    ['PreparingRebalance', 'Stable'],
    ['Stable', 'CompletingRebalance'],
    ['Stable', 'Empty'],
    ['CompletingRebalance', 'Empty'],
    ['Dead', 'Empty'],
    ['Dead', 'PreparingRebalance'],
  ];

  test('legal transitions move the state and stamp the time', () => {
    for (const [from, to] of legal) {
      const group = new ClassicGroup('g', 0, from, 1);
      group.transitionTo(to, 99);
      assert.equal(group.state, to);
      assert.equal(group.currentStateTimestampMs, 99);
    }
  });

  test('illegal transitions throw and leave the state alone', () => {
    for (const [from, to] of illegal) {
      const group = new ClassicGroup('g', 0, from, 1);
      assert.throws(() => group.transitionTo(to, 99), GroupStateError, `${from} -> ${to}`);
      assert.equal(group.state, from);
    }
  });
});

describe('ClassicGroup members', () => {
  test('protocol selection: most votes among protocols every member supports', () => {
    const group = new ClassicGroup('g', 0, 'Empty', 0);
    group.add(member('a', ['roundrobin', 'range', 'sticky']), noop);
    group.transitionTo('PreparingRebalance', 0);
    group.add(member('b', ['range', 'sticky']), noop);
    group.add(member('c', ['sticky', 'range']), noop);
    // Candidates: range, sticky. Votes: a -> range, b -> range, c -> sticky.
    assert.equal(group.selectProtocol(), 'range');
    group.add(member('d', ['sticky']), noop);
    // Only sticky is common now.
    assert.equal(group.selectProtocol(), 'sticky');
  });

  test('protocol selection tie goes to the leader preference', () => {
    const group = new ClassicGroup('g', 0, 'Empty', 0);
    group.add(member('leader', ['sticky', 'range']), noop);
    group.transitionTo('PreparingRebalance', 0);
    group.add(member('b', ['range', 'sticky']), noop);
    assert.equal(group.selectProtocol(), 'sticky');
  });

  test('supportsProtocols requires a protocol common to all members and the same type', () => {
    const group = new ClassicGroup('g', 0, 'Empty', 0);
    const p = (name: string) => ({ name, metadata: Buffer.alloc(0) });
    assert.equal(group.supportsProtocols('', [p('range')]), false);
    assert.equal(group.supportsProtocols('consumer', []), false);
    group.add(member('a', ['range', 'sticky']), noop);
    group.transitionTo('PreparingRebalance', 0);
    assert.equal(group.supportsProtocols('consumer', [p('roundrobin')]), false);
    assert.equal(group.supportsProtocols('consumer', [p('roundrobin'), p('sticky')]), true);
    assert.equal(group.supportsProtocols('connect', [p('range')]), false);
    assert.throws(() => group.add(member('b', ['roundrobin']), noop), GroupStateError);
  });

  test('the first member leads; the leader role passes on removal', () => {
    const group = new ClassicGroup('g', 0, 'Empty', 0);
    group.add(member('a', ['range']), null);
    group.add(member('b', ['range']), null);
    group.add(member('c', ['range']), null);
    assert.equal(group.leader, 'a');
    group.remove('a');
    assert.equal(group.leader, 'b');
    group.remove('c');
    group.remove('b');
    assert.equal(group.leader, null);
  });

  test('maybeElectNewJoinedLeader prefers the leader, else any member that rejoined', () => {
    const group = new ClassicGroup('g', 0, 'Empty', 0);
    group.add(member('a', ['range']), null);
    group.add(member('b', ['range']), null);
    group.add(member('c', ['range']), null);
    assert.equal(group.maybeElectNewJoinedLeader(), false, 'nobody rejoined');
    group.updateMember(group.get('c'), group.get('c').supportedProtocols, 1, 1, noop);
    assert.equal(group.maybeElectNewJoinedLeader(), true);
    assert.equal(group.leader, 'c');
    assert.equal(group.numAwaitingJoin, 1);
  });

  test('hasAllMembersJoined counts awaiting members and pending (KIP-394) ids', () => {
    const group = new ClassicGroup('g', 0, 'Empty', 0);
    group.add(member('a', ['range']), noop);
    assert.equal(group.hasAllMembersJoined, true);
    group.addPendingMember('pending', null);
    assert.equal(group.hasAllMembersJoined, false);
    group.add(member('pending', ['range']), noop);
    assert.equal(group.isPendingMember('pending'), false);
    assert.equal(group.hasAllMembersJoined, true);
    group.add(member('idle', ['range']), null);
    assert.equal(group.hasAllMembersJoined, false);
  });

  test('replaceStaticMember keeps the member under a new id and fences the old requests', () => {
    const group = new ClassicGroup('g', 0, 'Empty', 0);
    const joins: JoinGroupResult[] = [];
    const syncs: SyncGroupResult[] = [];
    group.add(member('old', ['range'], 'instance-1'), (r) => joins.push(r));
    group.get('old').awaitingSync = (r) => syncs.push(r);
    group.addPendingSyncMember('old');
    const replaced = group.replaceStaticMember('instance-1', 'old', 'new');
    assert.equal(replaced.memberId, 'new');
    assert.equal(group.has('old'), false);
    assert.equal(group.leader, 'new');
    assert.equal(group.currentStaticMemberId('instance-1'), 'new');
    assert.deepEqual(group.allPendingSyncMembers(), ['new']);
    assert.equal(joins[0]?.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(joins[0]?.memberId, 'old');
    assert.equal(syncs[0]?.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(group.numAwaitingJoin, 0);
    assert.throws(() => group.add(member('other', ['range'], 'instance-1'), null), GroupStateError);
  });

  test('a superseded parked JoinGroup is answered, the new one waits', () => {
    const group = new ClassicGroup('g', 0, 'Empty', 0);
    const first: JoinGroupResult[] = [];
    group.add(member('a', ['range']), (r) => first.push(r));
    group.updateMember(group.get('a'), group.get('a').supportedProtocols, 1, 1, noop);
    assert.equal(first[0]?.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(group.numAwaitingJoin, 1);
  });

  test('subscribed topics come from the selected protocol of every member', () => {
    const group = new ClassicGroup('g', 0, 'Empty', 0);
    group.add(member('a', ['range']), noop);
    group.transitionTo('PreparingRebalance', 0);
    group.add(member('b', ['range']), noop);
    assert.equal(group.isSubscribedToTopic('anything'), true, 'unknown before a generation');
    group.initNextGeneration(5);
    assert.equal(group.state, 'CompletingRebalance');
    assert.equal(group.generationId, 1);
    assert.equal(group.protocolName, 'range');
    assert.deepEqual([...(group.knownSubscribedTopics ?? [])], ['topic-of-a', 'topic-of-b']);
    assert.equal(group.isSubscribedToTopic('topic-of-b'), true);
    assert.equal(group.isSubscribedToTopic('other'), false);
  });
});
