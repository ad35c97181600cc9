// A member of a classic consumer group: JoinGroup (with the KIP-394 member-id round), SyncGroup where the
// leader runs the chosen assignor, Heartbeat in the background, rejoin when the coordinator says the
// generation moved on, LeaveGroup on close. One loop drives it all, so group state changes one step at a time.
//
// Eager members give up every partition before they join; cooperative ones (KIP-429) keep theirs, give up only
// what the new assignment takes away, and then rejoin once so that those partitions can be handed over.
import { ErrorCode } from '../../protocol/errors.js';
import { HeartbeatApi } from '../../protocol/generated/heartbeat.js';
import { JoinGroupApi, type JoinGroupResponse } from '../../protocol/generated/join-group.js';
import { LeaveGroupApi } from '../../protocol/generated/leave-group.js';
import { SyncGroupApi, type SyncGroupRequest } from '../../protocol/generated/sync-group.js';
import type { Cluster } from '../cluster.js';
import { backoffDelayMs } from '../cluster.js';
import type { ClientLogger } from '../connection.js';
import {
  AuthorizationError,
  ClientClosedError,
  ConnectionError,
  CoordinatorError,
  errorFromCode,
  GroupError,
  KafkaClientError,
  RebalanceError,
  RequestTimeoutError,
} from '../errors.js';
import {
  type MemberSubscription,
  type PartitionAssignor,
  type RebalanceProtocol,
  rebalanceProtocolOf,
  type TopicPartitionsMap,
  toTopicPartitionsList,
} from './assignors.js';
import type { TopicPartition } from './fetcher.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from './protocol.js';

const JOIN_GROUP_MAX_VERSION = 9;
const SYNC_GROUP_MAX_VERSION = 5;
const HEARTBEAT_MAX_VERSION = 4;
const LEAVE_GROUP_MAX_VERSION = 5;
/** JoinGroup waits for the whole rebalance; give the response this much beyond the rebalance timeout. */
const JOIN_RESPONSE_SLACK_MS = 5_000;
/** A join answered MEMBER_ID_REQUIRED is repeated at once with the id; more rounds than this is a bug. */
const MAX_MEMBER_ID_ROUNDS = 3;
const NO_GENERATION = -1;

export interface RevokeInfo {
  /** True when the partitions were lost (the member fell out of the group): committing them would fail. */
  lost: boolean;
}

export interface MembershipOptions {
  cluster: Cluster;
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  assignors: readonly PartitionAssignor[];
  initialBackoffMs: number;
  maxBackoffMs: number;
  logger: ClientLogger;
  /** The topics to subscribe to now (regex subscriptions are matched against fresh metadata here). */
  subscribedTopics(): Promise<string[]>;
  onAssigned(partitions: TopicPartition[]): Promise<void>;
  onRevoked(partitions: TopicPartition[], info: RevokeInfo): Promise<void>;
  /** A condition rejoining cannot fix (fenced static member, inconsistent protocol, authorization). */
  onFatal(error: Error): void;
}

export class GroupMembership {
  memberId = '';
  generationId = NO_GENERATION;
  protocolName: string | null = null;
  readonly rebalanceProtocol: RebalanceProtocol;
  private owned: TopicPartitionsMap = new Map();
  private rejoinNeeded = true;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stableWaiters: Array<() => void> = [];
  private rejoinReason = 'joining';

  constructor(private readonly options: MembershipOptions) {
    if (options.assignors.length === 0) throw new RangeError('a group member needs at least one assignor');
    this.rebalanceProtocol = rebalanceProtocolOf(options.assignors);
  }

  get groupId(): string {
    return this.options.groupId;
  }

  get groupInstanceId(): string | null {
    return this.options.groupInstanceId;
  }

  /** The partitions the group gave this member. */
  get assignment(): TopicPartition[] {
    return toTopicPartitionsList(this.owned).flatMap(({ topic, partitions }) =>
      partitions.map((partition) => ({ topic, partition })),
    );
  }

  /** True while the member holds a generation and no rejoin is pending. */
  get isStable(): boolean {
    return !this.rejoinNeeded && this.generationId !== NO_GENERATION;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves when the member has completed a rebalance (or is stopping). */
  waitForStable(): Promise<void> {
    if (this.isStable || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.stableWaiters.push(resolve));
  }

  requestRejoin(reason: string): void {
    if (this.rejoinNeeded) return;
    this.options.logger.info('group rejoin requested', { groupId: this.groupId, reason });
    this.rejoinReason = reason;
    this.rejoinNeeded = true;
    this.wake?.();
  }

  /**
   * Stops heartbeating and leaves the group. The caller revokes (and commits) the owned partitions first.
   * Static members do not send LeaveGroup: their session timeout lets them restart without a rebalance.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wake?.();
    this.releaseStableWaiters();
    if (this.memberId !== '' && this.options.groupInstanceId === null) {
      try {
        await this.leaveGroup();
      } catch (error) {
        this.options.logger.warn('LeaveGroup failed', {
          groupId: this.groupId,
          message: (error as Error).message,
        });
      }
    }
    this.owned = new Map();
  }

  /** Partitions currently owned, for the caller to revoke at close. */
  ownedPartitions(): TopicPartition[] {
    return this.assignment;
  }

  private releaseStableWaiters(): void {
    const waiters = this.stableWaiters;
    this.stableWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        if (this.rejoinNeeded) {
          await this.rebalance();
        } else {
          await this.sleep(this.options.heartbeatIntervalMs);
          if (this.stopping || this.rejoinNeeded) continue;
          await this.heartbeat();
        }
        failures = 0;
      } catch (error) {
        if (this.stopping || error instanceof ClientClosedError) break;
        if (!(await this.handleError(error))) break;
        await this.sleep(
          backoffDelayMs(failures++, this.options.initialBackoffMs, this.options.maxBackoffMs),
        );
      }
    }
    this.releaseStableWaiters();
  }

  /** Reacts to a failed group request; returns false when the member cannot go on. */
  private async handleError(error: unknown): Promise<boolean> {
    const message = (error as Error).message;
    if (error instanceof RebalanceError) {
      if (error.code === ErrorCode.FENCED_INSTANCE_ID) return this.fatal(error);
      if (error.code === ErrorCode.UNKNOWN_MEMBER_ID || error.code === ErrorCode.ILLEGAL_GENERATION) {
        // The group moved on without us: our partitions may already belong to someone else.
        if (error.code === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
        this.generationId = NO_GENERATION;
        await this.loseAll();
      }
      this.options.logger.info('rejoining group', { groupId: this.groupId, reason: error.type });
      this.rejoinReason = error.type;
      this.rejoinNeeded = true;
      return true;
    }
    if (
      error instanceof CoordinatorError ||
      error instanceof ConnectionError ||
      error instanceof RequestTimeoutError
    ) {
      this.options.cluster.invalidateCoordinator(this.groupId);
      this.options.logger.warn('group coordinator unavailable', { groupId: this.groupId, message });
      return true;
    }
    if (error instanceof GroupError || error instanceof AuthorizationError) return this.fatal(error);
    if (error instanceof KafkaClientError && !error.retriable) return this.fatal(error);
    this.options.logger.warn('group request failed', { groupId: this.groupId, message });
    return true;
  }

  private fatal(error: Error): false {
    this.options.logger.error('group membership failed', { groupId: this.groupId, message: error.message });
    this.options.onFatal(error);
    return false;
  }

  private async loseAll(): Promise<void> {
    const lost = this.assignment;
    this.owned = new Map();
    if (lost.length > 0) await this.options.onRevoked(lost, { lost: true });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wake === done) self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private async rebalance(): Promise<void> {
    if (this.rebalanceProtocol === 'eager' && this.owned.size > 0) {
      const revoked = this.assignment;
      this.owned = new Map();
      await this.options.onRevoked(revoked, { lost: false });
    }
    const topics = await this.options.subscribedTopics();
    const join = await this.joinGroup(topics);
    if (this.stopping) return;
    const assignments = join.leader === join.memberId && !join.skipAssignment ? await this.assign(join) : [];
    const assigned = await this.syncGroup(join, assignments);
    if (this.stopping) return;
    this.rejoinNeeded = false;
    await this.applyAssignment(assigned);
    if (!this.rejoinNeeded) this.releaseStableWaiters();
  }

  private async joinGroup(topics: string[]): Promise<JoinGroupResponse> {
    const { cluster, groupId, groupInstanceId } = this.options;
    const cooperative = this.rebalanceProtocol === 'cooperative';
    const owned = cooperative ? toTopicPartitionsList(this.owned) : [];
    const protocols = this.options.assignors.map((assignor) => ({
      name: assignor.name,
      metadata: encodeSubscription({
        version: assignor.subscriptionVersion,
        topics,
        // kafkajs writes empty (not null) user data; its alias keeps the bytes identical.
        userData: assignor.subscriptionVersion === 0 ? Buffer.alloc(0) : null,
        ownedPartitions: owned,
        generationId: cooperative ? this.generationId : NO_GENERATION,
        rackId: null,
      }),
    }));
    for (let round = 0; round < MAX_MEMBER_ID_ROUNDS; round++) {
      const coordinator = await cluster.coordinator(groupId);
      const version = coordinator.versionFor(JoinGroupApi, JOIN_GROUP_MAX_VERSION);
      const response = await coordinator.send(
        JoinGroupApi,
        {
          groupId,
          sessionTimeoutMs: this.options.sessionTimeoutMs,
          rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocols,
          reason: this.rejoinReason,
        },
        {
          version,
          timeoutMs: Math.max(
            cluster.requestTimeoutMs,
            this.options.rebalanceTimeoutMs + JOIN_RESPONSE_SLACK_MS,
          ),
        },
      );
      if (response.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        // KIP-394: the coordinator hands out the id on a first join and expects it back.
        this.memberId = response.memberId;
        continue;
      }
      if (response.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
      if (response.errorCode !== ErrorCode.NONE)
        throw errorFromCode(response.errorCode, undefined, { groupId });
      this.memberId = response.memberId;
      this.generationId = response.generationId;
      this.protocolName = response.protocolName;
      this.options.logger.info('joined group', {
        groupId,
        memberId: response.memberId,
        generationId: response.generationId,
        protocol: response.protocolName,
        leader: response.leader === response.memberId,
      });
      return response;
    }
    throw errorFromCode(ErrorCode.MEMBER_ID_REQUIRED, 'the coordinator kept asking for a member id', {
      groupId,
    });
  }

  /** The leader's part: run the chosen assignor over every member's subscription. */
  private async assign(join: JoinGroupResponse): Promise<SyncGroupRequest['assignments']> {
    const assignor = this.options.assignors.find((a) => a.name === join.protocolName);
    if (assignor === undefined) {
      throw errorFromCode(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        `the group chose unknown assignor '${join.protocolName}'`,
        {
          groupId: this.groupId,
        },
      );
    }
    const members: MemberSubscription[] = [];
    let assignmentVersion = 3;
    for (const member of join.members) {
      const subscription = decodeSubscription(member.metadata);
      assignmentVersion = Math.min(assignmentVersion, subscription.version);
      members.push({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        topics: subscription.topics,
        ownedPartitions: subscription.ownedPartitions,
        generationId: subscription.generationId,
        userData: subscription.userData,
      });
    }
    const topics = [...new Set(members.flatMap((m) => m.topics))];
    const metadata = await this.options.cluster.refreshMetadata(topics);
    const partitionCounts = new Map<string, number>();
    for (const topic of topics) {
      const info = metadata.topics.get(topic);
      if (info !== undefined && info.partitions.length > 0)
        partitionCounts.set(topic, info.partitions.length);
    }
    const result = assignor.assign(members, partitionCounts);
    this.options.logger.debug('computed group assignment', {
      groupId: this.groupId,
      assignor: assignor.name,
    });
    return members.map((member) => ({
      memberId: member.memberId,
      assignment: encodeAssignment({
        version: assignmentVersion,
        assignedPartitions: toTopicPartitionsList(result.get(member.memberId) ?? new Map()),
        userData: assignmentVersion === 0 ? Buffer.alloc(0) : null,
      }),
    }));
  }

  private async syncGroup(
    join: JoinGroupResponse,
    assignments: SyncGroupRequest['assignments'],
  ): Promise<TopicPartitionsMap> {
    const { cluster, groupId, groupInstanceId } = this.options;
    const coordinator = await cluster.coordinator(groupId);
    const version = coordinator.versionFor(SyncGroupApi, SYNC_GROUP_MAX_VERSION);
    const response = await coordinator.send(
      SyncGroupApi,
      {
        groupId,
        generationId: join.generationId,
        memberId: join.memberId,
        groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: join.protocolName,
        assignments,
      },
      {
        version,
        timeoutMs: Math.max(
          cluster.requestTimeoutMs,
          this.options.rebalanceTimeoutMs + JOIN_RESPONSE_SLACK_MS,
        ),
      },
    );
    if (response.errorCode !== ErrorCode.NONE)
      throw errorFromCode(response.errorCode, undefined, { groupId });
    const assignment: TopicPartitionsMap = new Map();
    for (const { topic, partitions } of decodeAssignment(response.assignment).assignedPartitions) {
      assignment.set(
        topic,
        [...new Set([...(assignment.get(topic) ?? []), ...partitions])].sort((a, b) => a - b),
      );
    }
    return assignment;
  }

  private async applyAssignment(assigned: TopicPartitionsMap): Promise<void> {
    const revoked = difference(this.owned, assigned);
    const added = difference(assigned, this.owned);
    if (revoked.length > 0) {
      this.owned = assigned;
      await this.options.onRevoked(revoked, { lost: false });
      // KIP-429: what we gave up goes to its new owner in a follow-up rebalance.
      if (this.rebalanceProtocol === 'cooperative') this.requestRejoin('partitions revoked');
    }
    this.owned = assigned;
    this.options.logger.info('group assignment', {
      groupId: this.groupId,
      generationId: this.generationId,
      added: added.length,
      revoked: revoked.length,
      total: this.assignment.length,
    });
    if (added.length > 0) await this.options.onAssigned(added);
  }

  private async heartbeat(): Promise<void> {
    const { cluster, groupId, groupInstanceId } = this.options;
    const coordinator = await cluster.coordinator(groupId);
    const version = coordinator.versionFor(HeartbeatApi, HEARTBEAT_MAX_VERSION);
    const response = await coordinator.send(
      HeartbeatApi,
      { groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId },
      { version, timeoutMs: Math.max(this.options.heartbeatIntervalMs, this.options.sessionTimeoutMs) },
    );
    if (response.errorCode !== ErrorCode.NONE)
      throw errorFromCode(response.errorCode, undefined, { groupId });
  }

  private async leaveGroup(): Promise<void> {
    const { cluster, groupId, groupInstanceId } = this.options;
    const coordinator = await cluster.coordinator(groupId);
    const version = coordinator.versionFor(LeaveGroupApi, LEAVE_GROUP_MAX_VERSION);
    const response = await coordinator.send(
      LeaveGroupApi,
      {
        groupId,
        memberId: this.memberId,
        members: [{ memberId: this.memberId, groupInstanceId, reason: 'the consumer is closing' }],
      },
      { version },
    );
    this.memberId = '';
    this.generationId = NO_GENERATION;
    const code =
      response.errorCode !== ErrorCode.NONE ? response.errorCode : (response.members[0]?.errorCode ?? 0);
    if (code !== ErrorCode.NONE && code !== ErrorCode.UNKNOWN_MEMBER_ID) {
      throw errorFromCode(code, undefined, { groupId });
    }
  }
}

/** Partitions in `a` that are not in `b`. */
function difference(a: TopicPartitionsMap, b: TopicPartitionsMap): TopicPartition[] {
  const result: TopicPartition[] = [];
  for (const [topic, partitions] of a) {
    const other = new Set(b.get(topic) ?? []);
    for (const partition of partitions) if (!other.has(partition)) result.push({ topic, partition });
  }
  return result;
}
