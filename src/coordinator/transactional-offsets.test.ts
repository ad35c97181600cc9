import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from './errors.js';
import { GroupCoordinator } from './group-coordinator.js';
import { MemoryCoordinatorLog } from './memory-coordinator-log.js';
import { decodeRecordKey } from './records.js';
import { ManualScheduler } from './scheduler.js';
import { subscription } from './test-fixtures.js';
import type { OffsetCommitEntry, TxnOffsetCommitRequest } from './types.js';

const START_MS = 1_000_000;
const PRODUCER = 4000;
const OTHER_PRODUCER = 4001;

interface Context {
  scheduler: ManualScheduler;
  log: MemoryCoordinatorLog;
  coordinator: GroupCoordinator;
}

function newCoordinator(log: MemoryCoordinatorLog, scheduler: ManualScheduler): GroupCoordinator {
  const coordinator = new GroupCoordinator({
    log,
    scheduler,
    config: { offsetsTopicPartitions: 1, groupInitialRebalanceDelayMs: 0 },
  });
  coordinator.start();
  return coordinator;
}

async function setup(): Promise<Context> {
  const scheduler = new ManualScheduler(START_MS);
  const log = new MemoryCoordinatorLog(() => scheduler.nowMs());
  const coordinator = newCoordinator(log, scheduler);
  await coordinator.loadPartition(0, log.read(0));
  return { scheduler, log, coordinator };
}

/** A second coordinator that replays the first one's log: the state after a restart. */
async function restart(ctx: Context): Promise<Context> {
  ctx.coordinator.shutdown();
  const coordinator = newCoordinator(ctx.log, ctx.scheduler);
  await coordinator.loadPartition(0, ctx.log.read(0));
  return { ...ctx, coordinator };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function entry(topic: string, partition: number, offset: number, metadata = ''): OffsetCommitEntry {
  return { topic, partition, offset, leaderEpoch: 2, metadata };
}

function txnCommit(
  ctx: Context,
  offsets: OffsetCommitEntry[],
  overrides: Partial<TxnOffsetCommitRequest> = {},
) {
  return ctx.coordinator.commitTransactionalOffsets({
    transactionalId: 'txn',
    groupId: 'g',
    producerId: PRODUCER,
    producerEpoch: 0,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    offsets,
    ...overrides,
  });
}

function plainCommit(ctx: Context, offsets: OffsetCommitEntry[], groupId = 'g') {
  return ctx.coordinator.commitOffsets({
    groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    offsets,
  });
}

/** The marker is durable, then the transaction coordinator tells the group coordinator. */
function endTransaction(ctx: Context, commit: boolean, producerId = PRODUCER): void {
  ctx.log.writeMarker(0, producerId, commit);
  ctx.coordinator.completeTransaction(0, producerId, commit);
}

/** partition → [offset, errorCode] of one topic. */
async function fetch(
  ctx: Context,
  topic: string,
  partitions: number[],
  requireStable: boolean,
  groupId = 'g',
) {
  const result = await ctx.coordinator.fetchOffsets(groupId, [{ topic, partitions }], requireStable);
  assert.equal(result.errorCode, ErrorCode.NONE);
  return result.topics[0]!.partitions.map((p) => [p.offset, p.errorCode]);
}

function errorCodes(results: { errorCode: number }[]): number[] {
  return results.map((r) => r.errorCode);
}

describe('TxnOffsetCommit', () => {
  test('offsets stay pending until the COMMIT marker, then become the committed offsets', async () => {
    const ctx = await setup();
    const results = await txnCommit(ctx, [entry('t', 0, 10, 'm'), entry('t', 1, 20)]);
    assert.deepEqual(results, [
      { topic: 't', partition: 0, errorCode: ErrorCode.NONE },
      { topic: 't', partition: 1, errorCode: ErrorCode.NONE },
    ]);
    const [record] = ctx.log.records(0);
    assert.equal(record?.isTransactional, true);
    assert.equal(record?.producerId, PRODUCER);
    assert.deepEqual(await fetch(ctx, 't', [0, 1], false), [
      [-1, ErrorCode.NONE],
      [-1, ErrorCode.NONE],
    ]);
    assert.deepEqual(await fetch(ctx, 't', [0, 1], true), [
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
    ]);

    endTransaction(ctx, true);
    assert.deepEqual(await fetch(ctx, 't', [0, 1], true), [
      [10, ErrorCode.NONE],
      [20, ErrorCode.NONE],
    ]);
    const all = await ctx.coordinator.fetchOffsets('g', null, true);
    assert.deepEqual(all.topics[0]!.partitions[0], {
      partition: 0,
      offset: 10,
      leaderEpoch: 2,
      metadata: 'm',
      errorCode: ErrorCode.NONE,
    });
  });

  test('the ABORT marker drops them; the group is removed by the next cleanup', async () => {
    const ctx = await setup();
    await plainCommit(ctx, [entry('t', 0, 5)]);
    await txnCommit(ctx, [entry('t', 0, 10), entry('t', 1, 20)]);
    endTransaction(ctx, false);
    assert.deepEqual(await fetch(ctx, 't', [0, 1], true), [
      [5, ErrorCode.NONE],
      [-1, ErrorCode.NONE],
    ]);

    await txnCommit(ctx, [entry('t', 0, 30)], { groupId: 'only-txn' });
    assert.equal(await ctx.coordinator.cleanupExpiredOffsets(), 0);
    assert.equal((await ctx.coordinator.describeGroups(['only-txn']))[0]!.groupState, 'Empty');
    endTransaction(ctx, false);
    await ctx.coordinator.cleanupExpiredOffsets();
    assert.equal((await ctx.coordinator.describeGroups(['only-txn']))[0]!.groupState, 'Dead');
  });

  test('a marker completes only its producer, in every group of the partition', async () => {
    const ctx = await setup();
    await txnCommit(ctx, [entry('t', 0, 10)]);
    await txnCommit(ctx, [entry('t', 0, 11)], { groupId: 'g2' });
    await txnCommit(ctx, [entry('t', 1, 99)], { producerId: OTHER_PRODUCER });
    endTransaction(ctx, true);
    assert.deepEqual(await fetch(ctx, 't', [0, 1], true), [
      [10, ErrorCode.NONE],
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
    ]);
    assert.deepEqual(await fetch(ctx, 't', [0], true, 'g2'), [[11, ErrorCode.NONE]]);
    endTransaction(ctx, true, OTHER_PRODUCER);
    assert.deepEqual(await fetch(ctx, 't', [1], true), [[99, ErrorCode.NONE]]);
  });

  test('ordering with plain commits: the later record in the log wins (Kafka completePendingTxnOffsetCommit)', async () => {
    const ctx = await setup();
    // Plain commit, then a transactional one: the transactional offset wins at COMMIT.
    await plainCommit(ctx, [entry('t', 0, 5)]);
    await txnCommit(ctx, [entry('t', 0, 10), entry('t', 1, 10)]);
    // A plain commit after the transactional record keeps its offset when the COMMIT comes.
    await plainCommit(ctx, [entry('t', 1, 7)]);
    endTransaction(ctx, true);
    assert.deepEqual(await fetch(ctx, 't', [0, 1], true), [
      [10, ErrorCode.NONE],
      [7, ErrorCode.NONE],
    ]);

    const restarted = await restart(ctx);
    assert.deepEqual(await fetch(restarted, 't', [0, 1], true), [
      [10, ErrorCode.NONE],
      [7, ErrorCode.NONE],
    ]);
  });

  test('a newer transactional commit of the same partition replaces the pending one', async () => {
    const ctx = await setup();
    await txnCommit(ctx, [entry('t', 0, 10)]);
    await txnCommit(ctx, [entry('t', 0, 12)]);
    endTransaction(ctx, true);
    assert.deepEqual(await fetch(ctx, 't', [0], true), [[12, ErrorCode.NONE]]);
  });

  test('a failed append is reported and leaves nothing pending', async () => {
    const ctx = await setup();
    ctx.log.failNextAppend({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    assert.deepEqual(errorCodes(await txnCommit(ctx, [entry('t', 0, 10)])), [
      ErrorCode.INVALID_PRODUCER_EPOCH,
    ]);
    ctx.log.failNextAppend({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
    assert.deepEqual(errorCodes(await txnCommit(ctx, [entry('t', 0, 10)])), [ErrorCode.NOT_COORDINATOR]);
    assert.deepEqual(await fetch(ctx, 't', [0], true), [[-1, ErrorCode.NONE]]);
    endTransaction(ctx, true);
    assert.deepEqual(await fetch(ctx, 't', [0], true), [[-1, ErrorCode.NONE]]);
  });

  test('a marker that arrives while the append is in flight is applied once the record lands', async () => {
    const ctx = await setup();
    ctx.log.holdAppends();
    const committing = txnCommit(ctx, [entry('t', 0, 10)]);
    assert.deepEqual(await fetch(ctx, 't', [0], true), [[-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]]);
    ctx.coordinator.completeTransaction(0, PRODUCER, true);
    ctx.log.releaseAppends();
    assert.deepEqual(errorCodes(await committing), [ErrorCode.NONE]);
    assert.deepEqual(await fetch(ctx, 't', [0], true), [[10, ErrorCode.NONE]]);
  });

  test('oversized metadata and unsafe offsets fail per partition; the rest is committed', async () => {
    const ctx = await setup();
    const results = await txnCommit(ctx, [
      entry('t', 0, 10, 'x'.repeat(4097)),
      entry('t', 1, 2 ** 53),
      entry('t', 2, 30),
    ]);
    assert.deepEqual(errorCodes(results), [
      ErrorCode.OFFSET_METADATA_TOO_LARGE,
      ErrorCode.INVALID_COMMIT_OFFSET_SIZE,
      ErrorCode.NONE,
    ]);
    assert.equal(ctx.log.records(0).length, 1);
  });

  test('group status errors: empty group id, not coordinator, loading', async () => {
    const ctx = await setup();
    assert.deepEqual(errorCodes(await txnCommit(ctx, [entry('t', 0, 1)], { groupId: '' })), [
      ErrorCode.INVALID_GROUP_ID,
    ]);
    const scheduler = new ManualScheduler(START_MS);
    const log = new MemoryCoordinatorLog(() => scheduler.nowMs());
    const coordinator = new GroupCoordinator({ log, scheduler, config: { offsetsTopicPartitions: 2 } });
    coordinator.start();
    const other = { ...ctx, coordinator, log };
    assert.deepEqual(errorCodes(await txnCommit(other, [entry('t', 0, 1)])), [ErrorCode.NOT_COORDINATOR]);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const partition = coordinator.partitionFor('g');
    async function* slow() {
      await gate;
      yield* log.read(partition);
    }
    const loading = coordinator.loadPartition(partition, slow());
    assert.deepEqual(errorCodes(await txnCommit(other, [entry('t', 0, 1)])), [
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ]);
    release();
    await loading;
  });

  test('the verifier is asked first; PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH', async () => {
    const ctx = await setup();
    const asked: number[][] = [];
    let answer: number = ErrorCode.INVALID_TXN_STATE;
    ctx.coordinator.setTransactionalOffsetVerifier((partition, producerId, producerEpoch) => {
      asked.push([partition, producerId, producerEpoch]);
      return answer;
    });
    assert.deepEqual(errorCodes(await txnCommit(ctx, [entry('t', 0, 1)], { producerEpoch: 3 })), [
      ErrorCode.INVALID_TXN_STATE,
    ]);
    answer = ErrorCode.PRODUCER_FENCED;
    assert.deepEqual(errorCodes(await txnCommit(ctx, [entry('t', 0, 1)])), [
      ErrorCode.INVALID_PRODUCER_EPOCH,
    ]);
    answer = ErrorCode.NONE;
    assert.deepEqual(errorCodes(await txnCommit(ctx, [entry('t', 0, 1)])), [ErrorCode.NONE]);
    assert.deepEqual(asked, [
      [0, PRODUCER, 3],
      [0, PRODUCER, 0],
      [0, PRODUCER, 0],
    ]);
    assert.equal(ctx.log.records(0).length, 1);
  });
});

describe('TxnOffsetCommit v3+ member validation', () => {
  async function stableGroup(ctx: Context, groupInstanceId: string | null = null) {
    const joining = ctx.coordinator.joinGroup({
      groupId: 'g',
      memberId: '',
      groupInstanceId,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription(['t']) }],
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      clientId: 'client',
      clientHost: '/127.0.0.1',
      requireKnownMemberId: false,
    });
    ctx.scheduler.advance(0);
    const join = await joining;
    assert.equal(join.errorCode, ErrorCode.NONE);
    const synced = await ctx.coordinator.syncGroup({
      groupId: 'g',
      generationId: join.generationId,
      memberId: join.memberId,
      groupInstanceId,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: join.memberId, assignment: Buffer.from('a') }],
    });
    assert.equal(synced.errorCode, ErrorCode.NONE);
    return join;
  }

  test('unknown member, illegal generation; the current member and generation commit', async () => {
    const ctx = await setup();
    const join = await stableGroup(ctx);
    const one = [entry('t', 0, 10)];
    assert.deepEqual(
      errorCodes(await txnCommit(ctx, one, { generationId: join.generationId, memberId: 'nobody' })),
      [ErrorCode.UNKNOWN_MEMBER_ID],
    );
    assert.deepEqual(
      errorCodes(await txnCommit(ctx, one, { generationId: join.generationId + 1, memberId: join.memberId })),
      [ErrorCode.ILLEGAL_GENERATION],
    );
    assert.deepEqual(
      errorCodes(await txnCommit(ctx, one, { generationId: join.generationId, memberId: join.memberId })),
      [ErrorCode.NONE],
    );
    // v0-v2 carry no member: accepted even though the group has members (a plain commit would not be).
    assert.deepEqual(errorCodes(await txnCommit(ctx, one)), [ErrorCode.NONE]);
    assert.deepEqual(errorCodes(await plainCommit(ctx, one)), [ErrorCode.UNKNOWN_MEMBER_ID]);
    assert.equal(ctx.log.records(0).filter((r) => r.isTransactional).length, 2);
  });

  test('a static member with another member id is fenced; an unknown instance id is an unknown member', async () => {
    const ctx = await setup();
    const join = await stableGroup(ctx, 'instance-1');
    const one = [entry('t', 0, 10)];
    const asMember = { generationId: join.generationId, memberId: join.memberId };
    assert.deepEqual(
      errorCodes(
        await txnCommit(ctx, one, { ...asMember, memberId: 'old-id', groupInstanceId: 'instance-1' }),
      ),
      [ErrorCode.FENCED_INSTANCE_ID],
    );
    assert.deepEqual(errorCodes(await txnCommit(ctx, one, { ...asMember, groupInstanceId: 'instance-2' })), [
      ErrorCode.UNKNOWN_MEMBER_ID,
    ]);
    assert.deepEqual(errorCodes(await txnCommit(ctx, one, { ...asMember, groupInstanceId: 'instance-1' })), [
      ErrorCode.NONE,
    ]);
  });

  test('a group that does not exist is created as a simple group, whatever the generation', async () => {
    const ctx = await setup();
    assert.deepEqual(errorCodes(await txnCommit(ctx, [entry('t', 0, 10)], { groupId: 'new' })), [
      ErrorCode.NONE,
    ]);
    const [described] = await ctx.coordinator.describeGroups(['new']);
    assert.equal(described!.groupState, 'Empty');
    assert.equal(described!.protocolType, '');
    // With a generation, the member check fails on the (now existing) empty group.
    assert.deepEqual(
      errorCodes(
        await txnCommit(ctx, [entry('t', 0, 10)], { groupId: 'new2', generationId: 1, memberId: 'm' }),
      ),
      [ErrorCode.UNKNOWN_MEMBER_ID],
    );
  });
});

describe('transactional offsets and group administration', () => {
  test('a group with only pending transactional offsets is not removed as unused', async () => {
    const ctx = await setup();
    await txnCommit(ctx, [entry('t', 0, 10)]);
    ctx.scheduler.advance(8 * 24 * 60 * 60 * 1000);
    await flush();
    assert.equal((await ctx.coordinator.describeGroups(['g']))[0]!.groupState, 'Empty');
    endTransaction(ctx, true);
    assert.deepEqual(await fetch(ctx, 't', [0], true), [[10, ErrorCode.NONE]]);
  });

  test('expiry keeps a committed offset while a transactional one is pending for it', async () => {
    const ctx = await setup();
    await plainCommit(ctx, [entry('t', 0, 5), entry('t', 1, 6)]);
    await txnCommit(ctx, [entry('t', 0, 10)]);
    // The periodic expiry runs along the way.
    ctx.scheduler.advance(8 * 24 * 60 * 60 * 1000);
    await flush();
    assert.deepEqual(await fetch(ctx, 't', [0, 1], false), [
      [5, ErrorCode.NONE],
      [-1, ErrorCode.NONE],
    ]);
  });

  test('OffsetDelete drops the pending transactional offset with the committed one, also after a restart', async () => {
    const ctx = await setup();
    await plainCommit(ctx, [entry('t', 0, 5)]);
    await txnCommit(ctx, [entry('t', 0, 10), entry('t', 1, 11)]);
    const deleted = await ctx.coordinator.deleteOffsets('g', [{ topic: 't', partitions: [0] }]);
    assert.equal(deleted.errorCode, ErrorCode.NONE);
    assert.deepEqual(await fetch(ctx, 't', [0, 1], true), [
      [-1, ErrorCode.NONE],
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
    ]);
    const restarted = await restart(ctx);
    assert.deepEqual(await fetch(restarted, 't', [0, 1], true), [
      [-1, ErrorCode.NONE],
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
    ]);
    endTransaction(restarted, true);
    assert.deepEqual(await fetch(restarted, 't', [0, 1], true), [
      [-1, ErrorCode.NONE],
      [11, ErrorCode.NONE],
    ]);
  });

  test('DeleteGroups deletes an Empty group with pending offsets, with tombstones that keep them deleted', async () => {
    const ctx = await setup();
    await txnCommit(ctx, [entry('t', 0, 10)]);
    assert.deepEqual(await ctx.coordinator.deleteGroups(['g']), [
      { groupId: 'g', errorCode: ErrorCode.NONE },
    ]);
    const tombstones = ctx.log.records(0).filter((r) => r.value === null);
    assert.deepEqual(
      tombstones.map((r) => decodeRecordKey(r.key)),
      [{ type: 'offsetCommit', groupId: 'g', topic: 't', partition: 0 }],
    );
    endTransaction(ctx, true);
    assert.deepEqual(await fetch(ctx, 't', [0], true), [[-1, ErrorCode.NONE]]);
    const restarted = await restart(ctx);
    assert.deepEqual(await fetch(restarted, 't', [0], true), [[-1, ErrorCode.NONE]]);
    assert.equal((await restarted.coordinator.describeGroups(['g']))[0]!.groupState, 'Dead');
  });

  test('deleting a topic drops its pending transactional offsets', async () => {
    const ctx = await setup();
    await txnCommit(ctx, [entry('gone', 0, 10), entry('t', 0, 11)]);
    await ctx.coordinator.removeOffsetsOfTopics(new Set(['gone']));
    endTransaction(ctx, true);
    assert.deepEqual(await fetch(ctx, 'gone', [0], true), [[-1, ErrorCode.NONE]]);
    assert.deepEqual(await fetch(ctx, 't', [0], true), [[11, ErrorCode.NONE]]);
    const restarted = await restart(ctx);
    assert.deepEqual(await fetch(restarted, 'gone', [0], true), [[-1, ErrorCode.NONE]]);
    assert.deepEqual(await fetch(restarted, 't', [0], true), [[11, ErrorCode.NONE]]);
  });
});

describe('loading transactional offsets', () => {
  test('replay: committed, aborted and still-open transactions come back as they were', async () => {
    const ctx = await setup();
    await plainCommit(ctx, [entry('t', 0, 1), entry('t', 1, 1), entry('t', 2, 1)]);
    await txnCommit(ctx, [entry('t', 0, 10)]);
    endTransaction(ctx, true);
    await txnCommit(ctx, [entry('t', 1, 20)], { producerId: OTHER_PRODUCER });
    endTransaction(ctx, false, OTHER_PRODUCER);
    await txnCommit(ctx, [entry('t', 2, 30)]);
    await txnCommit(ctx, [entry('t', 0, 40)], { groupId: 'simple', producerId: OTHER_PRODUCER });
    const before = await fetch(ctx, 't', [0, 1, 2], true);
    assert.deepEqual(before, [
      [10, ErrorCode.NONE],
      [1, ErrorCode.NONE],
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
    ]);

    const restarted = await restart(ctx);
    assert.deepEqual(await fetch(restarted, 't', [0, 1, 2], true), before);
    assert.deepEqual(await fetch(restarted, 't', [0], true, 'simple'), [
      [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
    ]);
    assert.deepEqual(await fetch(restarted, 't', [2], false), [[1, ErrorCode.NONE]]);

    // The open transactions end after the restart: their markers reach the reloaded coordinator.
    endTransaction(restarted, true);
    endTransaction(restarted, false, OTHER_PRODUCER);
    assert.deepEqual(await fetch(restarted, 't', [2], true), [[30, ErrorCode.NONE]]);
    assert.deepEqual(await fetch(restarted, 't', [0], true, 'simple'), [[-1, ErrorCode.NONE]]);
    const again = await restart(restarted);
    assert.deepEqual(await fetch(again, 't', [0, 1, 2], true), [
      [10, ErrorCode.NONE],
      [1, ErrorCode.NONE],
      [30, ErrorCode.NONE],
    ]);
    assert.deepEqual(await fetch(again, 't', [0], true, 'simple'), [[-1, ErrorCode.NONE]]);
  });

  test('a transactional offset pending at load loses to a plain commit written after it', async () => {
    const ctx = await setup();
    await txnCommit(ctx, [entry('t', 0, 10)]);
    await plainCommit(ctx, [entry('t', 0, 7)]);
    const restarted = await restart(ctx);
    await plainCommit(restarted, [entry('t', 1, 8)]);
    endTransaction(restarted, true);
    assert.deepEqual(await fetch(restarted, 't', [0, 1], true), [
      [7, ErrorCode.NONE],
      [8, ErrorCode.NONE],
    ]);
  });

  test('a transactional offset pending at load wins over a plain commit written before it', async () => {
    const ctx = await setup();
    await plainCommit(ctx, [entry('t', 0, 7)]);
    await txnCommit(ctx, [entry('t', 0, 10)]);
    const restarted = await restart(ctx);
    endTransaction(restarted, true);
    assert.deepEqual(await fetch(restarted, 't', [0], true), [[10, ErrorCode.NONE]]);
  });

  test('a marker completed while the partition loads is applied after the replay', async () => {
    const ctx = await setup();
    await txnCommit(ctx, [entry('t', 0, 10)]);
    ctx.coordinator.shutdown();
    const coordinator = newCoordinator(ctx.log, ctx.scheduler);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const log = ctx.log;
    async function* slow() {
      yield* log.read(0);
      await gate;
    }
    const loading = coordinator.loadPartition(0, slow());
    await flush();
    const reloaded = { ...ctx, coordinator };
    // The marker is written after the replay read the log: only the completion carries it.
    endTransaction(reloaded, true);
    release();
    await loading;
    assert.deepEqual(await fetch(reloaded, 't', [0], true), [[10, ErrorCode.NONE]]);
  });

  test('a completion for a partition this coordinator does not own is ignored', async () => {
    const ctx = await setup();
    await txnCommit(ctx, [entry('t', 0, 10)]);
    ctx.coordinator.completeTransaction(7, PRODUCER, true);
    assert.deepEqual(await fetch(ctx, 't', [0], true), [[-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]]);
  });
});
