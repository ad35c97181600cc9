// Consumer-group rebalance time. Ten members, each on its own connection, form a classic group (JoinGroup with
// the KIP-394 member-id round, SyncGroup with the leader's assignment) and heartbeat every
// HEARTBEAT_INTERVAL_MS. Then rounds alternate: an 11th member joins, or the longest-standing member leaves
// (sometimes the leader). Each round is timed from the new member's first JoinGroup (or the LeaveGroup) being
// sent until every member holds its SyncGroup answer for the new generation, i.e. the group is Stable again.
// The existing members learn of the rebalance from a heartbeat answered REBALANCE_IN_PROGRESS, so a round
// includes up to one heartbeat interval of detection; "last rejoin -> Stable" leaves that out.
import { ErrorCode } from '../../src/protocol/errors.js';
import { ConsumerProtocolAssignmentCodec } from '../../src/protocol/generated/consumer-protocol-assignment.js';
import { ConsumerProtocolSubscriptionCodec } from '../../src/protocol/generated/consumer-protocol-subscription.js';
import {
  HeartbeatApi,
  JoinGroupApi,
  type JoinGroupResponse,
  LeaveGroupApi,
  SyncGroupApi,
} from '../../src/protocol/generated/index.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import type { Phase, PhaseContext, PhaseOutcome } from '../phase.js';
import { percentile, sleep } from '../stats.js';
import { ApiClient, findGroupCoordinator, KafkaResponseError } from '../wire/api-client.js';

const GROUP_ID = 'bench-group-join';
const GROUP_SIZE = 10;
/** Even rounds add a member, odd rounds remove one, so the group is back at GROUP_SIZE every other round. */
const ROUNDS = { full: 20, quick: 4 };
const HEARTBEAT_INTERVAL_MS = 50;
const SESSION_TIMEOUT_MS = 10_000;
const REBALANCE_TIMEOUT_MS = 10_000;
const COORDINATOR_TIMEOUT_MS = 10_000;
const FORMATION_TIMEOUT_MS = 20_000;
const ROUND_TIMEOUT_MS = 15_000;
/** Bounds the end-of-phase LeaveGroups; a broker that does not answer them fails the phase's cleanup only. */
const LEAVE_TIMEOUT_MS = 5_000;
/**
 * Join/sync attempts for one rebalance. The first formation takes several: with no initial delay, members
 * that arrive while a generation completes start the next one.
 */
const MAX_JOIN_ATTEMPTS = 20;
/** How often the round checks whether the group is Stable; the figures come from response times, not this. */
const POLL_INTERVAL_MS = 2;
const VERSIONS = { joinGroup: 9, syncGroup: 5, heartbeat: 4, leaveGroup: 5 };
const PROTOCOL_TYPE = 'consumer';
const PROTOCOL_NAME = 'range';
/** Only named in the subscription and the assignment: the coordinator never looks the topic up. */
const SUBSCRIBED_TOPIC = 'bench-group-join';

export function groupJoinPhase(): Phase {
  return {
    name: 'group-join',
    description:
      `classic group of ${GROUP_SIZE} members, one joins or leaves per round, time until Stable again; ` +
      `heartbeat every ${HEARTBEAT_INTERVAL_MS} ms, rounds start spread over the heartbeat cycle (so they ` +
      `include 0-${HEARTBEAT_INTERVAL_MS} ms of detection)`,
    needs: [],
    run: runGroupJoin,
  };
}

interface RoundTiming {
  kind: 'join' | 'leave';
  generationId: number;
  members: number;
  /** Trigger sent -> every member has its SyncGroup answer. */
  totalMs: number;
  /** Trigger sent -> the last member sent its JoinGroup for the new generation (detection and rejoin). */
  lastRejoinMs: number;
  /** The last member's JoinGroup sent -> every member has its SyncGroup answer: the coordinator's share. */
  lastRejoinToStableMs: number;
}

async function runGroupJoin(context: PhaseContext): Promise<PhaseOutcome> {
  const rounds = context.quick ? ROUNDS.quick : ROUNDS.full;
  const opened: GroupMember[] = [];
  const members: GroupMember[] = [];
  const open = async (index: number) => {
    const member = new GroupMember(new ApiClient(await context.connect({ maxInFlight: 4 })), index);
    opened.push(member);
    return member;
  };
  let completed = false;
  try {
    const first = await open(0);
    const coordinator = await findGroupCoordinator(first.client, GROUP_ID, COORDINATOR_TIMEOUT_MS);
    if (coordinator.port !== context.broker.port) {
      throw new Error(
        `group coordinator is ${coordinator.host}:${coordinator.port}, not the broker under test`,
      );
    }
    members.push(first);
    for (let index = 1; index < GROUP_SIZE; index++) members.push(await open(index));

    const formationStartMs = performance.now();
    for (const member of members) member.start();
    let generationId = await waitUntilStable(members, -1, FORMATION_TIMEOUT_MS);
    const formationMs = Math.max(...members.map((member) => member.syncedAtMs)) - formationStartMs;
    context.log(
      `group-join: ${GROUP_SIZE} members Stable at generation ${generationId} after ${formationMs.toFixed(0)} ms`,
    );

    const timings: RoundTiming[] = [];
    const roundsOfKind = { join: Math.ceil(rounds / 2), leave: Math.floor(rounds / 2) };
    let stableMs = Math.max(...members.map((member) => member.syncedAtMs));
    let nextIndex = GROUP_SIZE;
    for (let round = 0; round < rounds; round++) {
      const kind = round % 2 === 0 ? 'join' : 'leave';
      let leaver: GroupMember | undefined;
      let joiner: GroupMember | undefined;
      if (kind === 'join') joiner = await open(nextIndex++);
      else {
        leaver = members.shift()!;
        await leaver.stop();
      }
      // The members heartbeat in step (each restarts its cycle at its SyncGroup answer), so the detection
      // part of a round depends on where in that cycle the round starts: the rounds of each kind start at
      // points spread evenly over it, a few cycles after the group became Stable.
      const cycleOffsetMs = ((Math.floor(round / 2) + 0.5) / roundsOfKind[kind]) * HEARTBEAT_INTERVAL_MS;
      let triggerAtMs = stableMs + 2 * HEARTBEAT_INTERVAL_MS + cycleOffsetMs;
      while (triggerAtMs < performance.now()) triggerAtMs += HEARTBEAT_INTERVAL_MS;
      await sleep(triggerAtMs - performance.now());
      const triggerMs = performance.now();
      if (joiner !== undefined) {
        members.push(joiner);
        joiner.start();
      } else if (leaver !== undefined) {
        await leaver.leave();
        leaver.close();
      }
      generationId = await waitUntilStable(members, generationId, ROUND_TIMEOUT_MS);
      stableMs = Math.max(...members.map((member) => member.syncedAtMs));
      const lastRejoinSentMs = Math.max(...members.map((member) => member.joinSentAtMs));
      timings.push({
        kind,
        generationId,
        members: members.length,
        totalMs: stableMs - triggerMs,
        lastRejoinMs: lastRejoinSentMs - triggerMs,
        lastRejoinToStableMs: stableMs - lastRejoinSentMs,
      });
    }
    completed = true;

    const joins = sortedValues(timings.filter((t) => t.kind === 'join').map((t) => t.totalMs));
    const leaves = sortedValues(timings.filter((t) => t.kind === 'leave').map((t) => t.totalMs));
    const coordinatorShare = sortedValues(timings.map((t) => t.lastRejoinToStableMs));
    const heartbeat = `hb ${HEARTBEAT_INTERVAL_MS} ms`;
    const metrics = [
      { name: `join->Stable p50 (${heartbeat})`, value: percentile(joins, 0.5), unit: 'ms' },
      { name: `join->Stable max (${heartbeat})`, value: joins[joins.length - 1]!, unit: 'ms' },
    ];
    if (leaves.length > 0) {
      metrics.push(
        { name: `leave->Stable p50 (${heartbeat})`, value: percentile(leaves, 0.5), unit: 'ms' },
        { name: `leave->Stable max (${heartbeat})`, value: leaves[leaves.length - 1]!, unit: 'ms' },
      );
    }
    metrics.push({ name: 'last rejoin->Stable p50', value: percentile(coordinatorShare, 0.5), unit: 'ms' });
    return {
      metrics,
      details: {
        groupSize: GROUP_SIZE,
        heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
        versions: VERSIONS,
        formationMs,
        rounds: timings,
      },
    };
  } finally {
    await closeAll(opened, completed ? members : []);
  }
}

/**
 * After a successful run the members stop heartbeating first (so that no one rejoins because another left),
 * then leave, so the group does not linger until its session timeouts. After a failure the connections are
 * closed at once, which also ends any request still waiting on the broker.
 */
async function closeAll(opened: readonly GroupMember[], stillInGroup: readonly GroupMember[]): Promise<void> {
  if (stillInGroup.length > 0) {
    await Promise.all(opened.map((member) => member.stop()));
    await Promise.race([Promise.all(stillInGroup.map((member) => member.leave())), sleep(LEAVE_TIMEOUT_MS)]);
  }
  for (const member of opened) member.close();
  await Promise.all(opened.map((member) => member.stop()));
}

/**
 * Resolves with the generation once every member holds a SyncGroup answer for the same generation, newer
 * than `previousGenerationId`, and that generation's leader saw exactly these members.
 */
async function waitUntilStable(
  members: readonly GroupMember[],
  previousGenerationId: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    for (const member of members) if (member.failure !== null) throw member.failure;
    const generationId = members[0]!.syncedGenerationId;
    if (
      generationId > previousGenerationId &&
      members.every((member) => member.syncedGenerationId === generationId)
    ) {
      const leader = members.find((member) => member.isLeader);
      if (leader === undefined) throw new Error(`generation ${generationId} has no leader among the members`);
      if (leader.membersSeen !== members.length) {
        throw new Error(
          `generation ${generationId}: the leader saw ${leader.membersSeen} members, expected ${members.length}`,
        );
      }
      return generationId;
    }
    if (performance.now() > deadline) {
      const generations = members.map((member) => member.syncedGenerationId).join(',');
      throw new Error(`group not Stable within ${timeoutMs} ms (synced generations: ${generations})`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/** One dynamic group member driven by the bench: join, sync, then heartbeat until stopped. */
class GroupMember {
  memberId = '';
  generationId = -1;
  /** The generation this member last got a SyncGroup answer for, and when (performance.now() ms). */
  syncedGenerationId = -1;
  syncedAtMs = 0;
  /** When this member sent the JoinGroup its current generation answered. */
  joinSentAtMs = 0;
  isLeader = false;
  /** How many members the JoinGroup answer listed (only the leader's lists any). */
  membersSeen = 0;
  failure: unknown = null;
  private running = false;
  private life: Promise<void> = Promise.resolve();

  constructor(
    readonly client: ApiClient,
    readonly index: number,
  ) {}

  /** Joins, then heartbeats until stop(); rejoins whenever a heartbeat says a rebalance is in progress. */
  start(): void {
    this.running = true;
    this.life = this.live().catch((error: unknown) => {
      this.failure = error;
    });
  }

  /** Ends the heartbeat loop after the request in flight, if any. */
  async stop(): Promise<void> {
    this.running = false;
    await this.life;
  }

  async leave(): Promise<void> {
    const response = await this.client.call(LeaveGroupApi, VERSIONS.leaveGroup, {
      groupId: GROUP_ID,
      memberId: '',
      members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'bench round' }],
    });
    const errorCode = response.errorCode || (response.members[0]?.errorCode ?? ErrorCode.NONE);
    if (errorCode !== ErrorCode.NONE)
      throw new KafkaResponseError(`member ${this.index} LeaveGroup`, errorCode);
  }

  close(): void {
    this.client.close();
  }

  private async live(): Promise<void> {
    await this.joinAndSync();
    while (this.running) {
      await sleep(HEARTBEAT_INTERVAL_MS);
      if (!this.running) return;
      const { errorCode } = await this.client.call(HeartbeatApi, VERSIONS.heartbeat, {
        groupId: GROUP_ID,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
      });
      if (errorCode === ErrorCode.REBALANCE_IN_PROGRESS) await this.joinAndSync();
      else if (errorCode !== ErrorCode.NONE) {
        throw new KafkaResponseError(`member ${this.index} Heartbeat`, errorCode);
      }
    }
  }

  private async joinAndSync(): Promise<void> {
    for (let attempt = 0; attempt < MAX_JOIN_ATTEMPTS; attempt++) {
      const joined = await this.client.callTimed(JoinGroupApi, VERSIONS.joinGroup, {
        groupId: GROUP_ID,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: PROTOCOL_TYPE,
        protocols: [{ name: PROTOCOL_NAME, metadata: SUBSCRIPTION }],
        reason: null,
      });
      const join = joined.response;
      // KIP-394: the first JoinGroup only hands out the member id to join with.
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED && this.memberId === '') {
        this.memberId = join.memberId;
        continue;
      }
      if (join.errorCode !== ErrorCode.NONE) {
        throw new KafkaResponseError(`member ${this.index} JoinGroup`, join.errorCode);
      }
      this.memberId = join.memberId;
      this.generationId = join.generationId;
      this.joinSentAtMs = joined.sentAtMs;
      this.isLeader = join.leader === join.memberId;
      this.membersSeen = join.members.length;
      const sync = await this.client.callTimed(SyncGroupApi, VERSIONS.syncGroup, {
        groupId: GROUP_ID,
        generationId: join.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: PROTOCOL_TYPE,
        protocolName: PROTOCOL_NAME,
        assignments: this.isLeader ? assign(join.members) : [],
      });
      // Another member joined or left while this generation was completing: its rebalance has begun.
      if (sync.response.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (sync.response.errorCode !== ErrorCode.NONE) {
        throw new KafkaResponseError(`member ${this.index} SyncGroup`, sync.response.errorCode);
      }
      if (sync.response.assignment.length === 0) {
        throw new Error(`member ${this.index} got an empty assignment for generation ${join.generationId}`);
      }
      this.syncedGenerationId = join.generationId;
      this.syncedAtMs = sync.receivedAtMs;
      return;
    }
    throw new Error(
      `member ${this.index} did not get through a rebalance in ${MAX_JOIN_ATTEMPTS} JoinGroups`,
    );
  }
}

/** A trivial assignment: partition i of the subscribed topic to the i-th member in member-id order. */
function assign(members: JoinGroupResponse['members']) {
  return [...members]
    .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
    .map((member, partition) => ({ memberId: member.memberId, assignment: encodeAssignment(partition) }));
}

// Consumer-protocol structures carry an int16 version before the fields; the generated codecs write only the
// fields.
const CONSUMER_PROTOCOL_VERSION = 0;

const SUBSCRIPTION = (() => {
  const writer = new Writer(64);
  writer.writeInt16(CONSUMER_PROTOCOL_VERSION);
  ConsumerProtocolSubscriptionCodec.encode(
    writer,
    { topics: [SUBSCRIBED_TOPIC], userData: null, ownedPartitions: [], generationId: -1, rackId: null },
    CONSUMER_PROTOCOL_VERSION,
  );
  return writer.toBuffer();
})();

function encodeAssignment(partition: number): Buffer {
  const writer = new Writer(64);
  writer.writeInt16(CONSUMER_PROTOCOL_VERSION);
  ConsumerProtocolAssignmentCodec.encode(
    writer,
    { assignedPartitions: [{ topic: SUBSCRIBED_TOPIC, partitions: [partition] }], userData: null },
    CONSUMER_PROTOCOL_VERSION,
  );
  return writer.toBuffer();
}

function sortedValues(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/** Nearest-rank percentile of an ascending array. */
