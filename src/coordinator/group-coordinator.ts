// The classic group coordinator (Kafka's GroupCoordinator semantics) for the offsets-topic partitions this
// broker leads. Pure logic: time comes from an injected Scheduler, durability from an injected
// CoordinatorLog, and every request method returns a promise of what its response needs.
//
// Each method does all its state changes synchronously before returning; only the answer may come later
// (a JoinGroup parked until the join phase completes, a SyncGroup parked until the leader's assignment is
// stored, an OffsetCommit until its records are durable). Parked requests are callbacks on the member and
// are always answered: on completion, on removal of the member, or with NOT_COORDINATOR on unload.

import { randomUUID } from 'node:crypto';
import {
  ClassicGroup,
  ClassicGroupMember,
  type JoinCallback,
  joinError,
  type SyncCallback,
  syncError,
} from './classic-group.js';
import {
  ErrorCode,
  GroupStateError,
  groupMetadataErrorFromAppend,
  offsetCommitErrorFromAppend,
  PartitionLoadError,
} from './errors.js';
import type { ExpiredOffset, OffsetAndMetadata, PendingTransactionalOffset } from './group-offsets.js';
import { partitionFor } from './partition-for.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeRecordKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from './records.js';
import type { Scheduler, TimerHandle } from './scheduler.js';
import type {
  DeleteGroupResult,
  DescribedGroup,
  HeartbeatRequest,
  JoinGroupProtocol,
  JoinGroupRequest,
  JoinGroupResult,
  LeaveGroupResult,
  LeavingMember,
  ListGroupsFilter,
  ListGroupsResult,
  OffsetCommitEntry,
  OffsetCommitPartitionResult,
  OffsetCommitRequest,
  OffsetDeleteResult,
  OffsetFetchPartition,
  OffsetFetchResult,
  SyncGroupRequest,
  SyncGroupResult,
  TopicPartitions,
  TxnOffsetCommitRequest,
} from './types.js';

export interface CoordinatorRecord {
  key: Buffer;
  /** null is a tombstone. */
  value: Buffer | null;
}

/** A record as a partition load reads it back, with its batch's producer fields. */
export interface LoggedCoordinatorRecord extends CoordinatorRecord {
  kind?: 'record';
  /** The batch's producer id; absent or -1 for a plain (non-transactional) append. */
  producerId?: number;
  /** Written by a TxnOffsetCommit: pending until its producer's transaction marker. */
  isTransactional?: boolean;
}

/** A transaction marker (control batch) of the offsets-topic partition. */
export interface LoggedTransactionMarker {
  kind: 'marker';
  producerId: number;
  /** COMMIT (true) or ABORT (false). */
  commit: boolean;
}

/** What loadPartition replays, in log order. */
export type CoordinatorLogEntry = LoggedCoordinatorRecord | LoggedTransactionMarker;

/**
 * Durable storage of the offsets topic. `append` resolves once the records are durable by the offsets
 * topic's rules, and rejects otherwise (an `errorCode` property with a Kafka error code is translated the
 * way Kafka translates produce errors for coordinators). Appends to one partition must become durable in
 * call order: later records win on load.
 */
export interface CoordinatorLog {
  append(partition: number, records: CoordinatorRecord[]): Promise<void>;
  /**
   * Appends `records` as one transactional batch of the producer (TxnOffsetCommit): they join its ongoing
   * transaction and count once its COMMIT marker follows them. Same durability and error rules as append;
   * a stale producer epoch rejects with INVALID_PRODUCER_EPOCH.
   */
  appendTransactional(
    partition: number,
    producerId: number,
    producerEpoch: number,
    records: CoordinatorRecord[],
  ): Promise<void>;
}

/**
 * Kafka's transaction verification (KIP-890) for TxnOffsetCommit: a Kafka error code, NONE when the
 * offsets-topic partition is part of the producer's ongoing transaction at that epoch (AddOffsetsToTxn).
 */
export type TransactionalOffsetVerifier = (
  offsetsPartition: number,
  producerId: number,
  producerEpoch: number,
) => number;

export interface GroupCoordinatorConfig {
  /** offsets.topic.num.partitions: the modulus of partitionFor; every broker must use the same value. */
  offsetsTopicPartitions: number;
  /** group.min.session.timeout.ms */
  groupMinSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  groupMaxSessionTimeoutMs: number;
  /** group.max.size */
  groupMaxSize: number;
  /** group.initial.rebalance.delay.ms */
  groupInitialRebalanceDelayMs: number;
  /** offsets.retention.minutes, in milliseconds. */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes (compared with the metadata's UTF-16 length, as Kafka does). */
  offsetMetadataMaxBytes: number;
}

/** Kafka's defaults. */
export const DEFAULT_GROUP_COORDINATOR_CONFIG: Readonly<GroupCoordinatorConfig> = {
  offsetsTopicPartitions: 50,
  groupMinSessionTimeoutMs: 6_000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupMaxSize: 2_147_483_647,
  groupInitialRebalanceDelayMs: 3_000,
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
};

/**
 * How long a new member may wait in a join phase. Its session timeout cannot apply yet (it has no member id
 * to heartbeat with), and a client that gave up and retried would otherwise leave a defunct member behind.
 */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

export interface CoordinatorLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface GroupCoordinatorOptions {
  log: CoordinatorLog;
  scheduler: Scheduler;
  config?: Partial<GroupCoordinatorConfig>;
  logger?: CoordinatorLogger;
}

interface PartitionStatus {
  loading: boolean;
  /**
   * Transactions whose markers became durable while the partition was loading, applied after the replay.
   * No TxnOffsetCommit is accepted while loading, so the producer's pending offsets seen by the replay can
   * only be those of this transaction (or none, when the replay read the marker itself).
   */
  completedWhileLoading: { producerId: number; commit: boolean }[];
}

const EMPTY_BUFFER = Buffer.alloc(0);
const SILENT_LOGGER: CoordinatorLogger = { info: () => {}, warn: () => {} };

export class GroupCoordinator {
  readonly config: Readonly<GroupCoordinatorConfig>;
  private readonly log: CoordinatorLog;
  private readonly scheduler: Scheduler;
  private readonly logger: CoordinatorLogger;
  private active = false;
  private readonly partitions = new Map<number, PartitionStatus>();
  /** Groups of loaded partitions only. */
  private readonly groups = new Map<string, ClassicGroup>();
  /** Kafka's openGroupsForProducer: the groups (of loaded partitions) with pending offsets of a producer. */
  private readonly openGroupsByProducer = new Map<number, Set<string>>();
  private transactionalOffsetVerifier: TransactionalOffsetVerifier | null = null;
  private cleanupTimer: TimerHandle | null = null;

  constructor(options: GroupCoordinatorOptions) {
    this.config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...options.config };
    this.log = options.log;
    this.scheduler = options.scheduler;
    this.logger = options.logger ?? SILENT_LOGGER;
  }

  /** Starts answering requests and the periodic offset expiry. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.scheduleCleanup();
  }

  /** Unloads every partition (parked requests get NOT_COORDINATOR); later requests get COORDINATOR_NOT_AVAILABLE. */
  shutdown(): void {
    this.active = false;
    if (this.cleanupTimer !== null) this.scheduler.clearTimeout(this.cleanupTimer);
    this.cleanupTimer = null;
    for (const partition of [...this.partitions.keys()]) this.unloadPartition(partition);
  }

  partitionFor(groupId: string): number {
    return partitionFor(groupId, this.config.offsetsTopicPartitions);
  }

  /** Checks each TxnOffsetCommit against the transaction coordinator first (until set: no check). */
  setTransactionalOffsetVerifier(verifier: TransactionalOffsetVerifier): void {
    this.transactionalOffsetVerifier = verifier;
  }

  /** Partitions that are loaded or loading, with whether they are still loading. */
  ownedPartitions(): Map<number, { loading: boolean }> {
    return new Map([...this.partitions].map(([p, s]) => [p, { loading: s.loading }]));
  }

  // ---------------------------------------------------------------------------------------------------
  // Partition ownership

  /**
   * Becomes coordinator for an offsets-topic partition (on election): replays its records, later records
   * winning and null values deleting, then serves its groups. Meanwhile their requests get
   * COORDINATOR_LOAD_IN_PROGRESS. If the partition is unloaded during the replay, the replay stops and
   * nothing is kept. Stable groups come back Stable with their members, who get one session timeout to
   * heartbeat. Transactional offsets stay pending until their producer's marker: a COMMIT materializes
   * them (where no later plain commit exists), an ABORT drops them; those without a marker stay pending.
   */
  async loadPartition(partition: number, records: AsyncIterable<CoordinatorLogEntry>): Promise<void> {
    if (!this.active)
      throw new PartitionLoadError(`cannot load partition ${partition}: coordinator is not started`);
    if (this.partitions.has(partition)) {
      throw new PartitionLoadError(`partition ${partition} is already loaded or loading; unload it first`);
    }
    const status: PartitionStatus = { loading: true, completedWhileLoading: [] };
    this.partitions.set(partition, status);
    const isCurrent = () => this.partitions.get(partition) === status;

    const replay = new PartitionReplay();
    let loaded: ClassicGroup[];
    try {
      for await (const entry of records) {
        if (!isCurrent()) return;
        replay.apply(entry);
      }
      if (!isCurrent()) return;
      loaded = this.buildLoadedGroups(partition, replay);
    } catch (error) {
      if (isCurrent()) this.partitions.delete(partition);
      throw error;
    }

    for (const group of loaded) {
      if (this.groups.has(group.groupId)) {
        this.logger.warn(
          `group ${group.groupId} in partition ${partition} is already served; is the partition count right?`,
        );
        continue;
      }
      this.groups.set(group.groupId, group);
      for (const producerId of group.offsets.transactionalProducers())
        this.addOpenGroup(producerId, group.groupId);
    }
    for (const { producerId, commit } of status.completedWhileLoading)
      this.completeLoadedTransaction(partition, producerId, commit);
    status.completedWhileLoading = [];
    status.loading = false;
    for (const group of loaded) {
      if (this.groups.get(group.groupId) === group) this.onGroupLoaded(group);
    }
    this.logger.info(`loaded ${loaded.length} groups from offsets partition ${partition}`);
  }

  /** Stops being coordinator for a partition (on resignation): its groups are dropped from memory. */
  unloadPartition(partition: number): void {
    if (!this.partitions.delete(partition)) return;
    for (const [producerId, groupIds] of this.openGroupsByProducer) {
      for (const groupId of groupIds) {
        if (this.partitionFor(groupId) === partition) groupIds.delete(groupId);
      }
      if (groupIds.size === 0) this.openGroupsByProducer.delete(producerId);
    }
    for (const group of [...this.groups.values()]) {
      if (group.partition !== partition) continue;
      const members = group.allMembers();
      this.removeGroup(group);
      for (const member of members) {
        group.maybeInvokeJoinCallback(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        group.maybeInvokeSyncCallback(member, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  private buildLoadedGroups(partition: number, replay: PartitionReplay): ClassicGroup[] {
    const nowMs = this.scheduler.nowMs();
    const loaded = new Map<string, ClassicGroup>();
    for (const [groupId, value] of replay.metadataByGroup)
      loaded.set(groupId, this.restoreGroup(groupId, partition, value));
    // Offsets without group metadata: a "simple" group that only stores offsets.
    const groupFor = (groupId: string) => {
      let group = loaded.get(groupId);
      if (group === undefined) {
        group = new ClassicGroup(groupId, partition, 'Empty', nowMs);
        loaded.set(groupId, group);
      }
      return group;
    };
    for (const [groupId, topics] of replay.offsetsByGroup) {
      for (const [topic, partitions] of topics) {
        for (const [topicPartition, { value, sequence }] of partitions)
          groupFor(groupId).offsets.load(topic, topicPartition, value, sequence);
      }
    }
    for (const [producerId, offsetsByGroup] of replay.pendingByProducer) {
      for (const [groupId, topics] of offsetsByGroup) {
        for (const [topic, partitions] of topics) {
          for (const [topicPartition, { value, sequence }] of partitions)
            groupFor(groupId).offsets.loadTransactional(producerId, topic, topicPartition, value, sequence);
        }
      }
    }
    return [...loaded.values()];
  }

  private restoreGroup(groupId: string, partition: number, value: GroupMetadataValue): ClassicGroup {
    const group = new ClassicGroup(
      groupId,
      partition,
      value.members.length === 0 ? 'Empty' : 'Stable',
      value.currentStateTimestampMs,
    );
    for (const stored of value.members) {
      const member = new ClassicGroupMember({
        memberId: stored.memberId,
        groupInstanceId: stored.groupInstanceId,
        clientId: stored.clientId,
        clientHost: stored.clientHost,
        rebalanceTimeoutMs: stored.rebalanceTimeoutMs,
        sessionTimeoutMs: stored.sessionTimeoutMs,
        protocolType: value.protocolType ?? '',
        protocols: stored.protocols,
        assignment: stored.assignment,
      });
      group.add(member, null);
    }
    group.restoreGeneration(value.generationId, value.protocolType, value.protocolName, value.leaderId);
    return group;
  }

  private onGroupLoaded(group: ClassicGroup): void {
    for (const member of group.allMembers())
      this.scheduleHeartbeatExpiry(group, member, member.sessionTimeoutMs);
    if (group.size > this.config.groupMaxSize) {
      // Give the members a chance to commit before the group shrinks to its allowed size.
      this.prepareRebalance(group, `loaded group is over capacity (${this.config.groupMaxSize})`);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // JoinGroup

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResult> {
    return new Promise((resolve) => this.handleJoinGroup(request, resolve));
  }

  private handleJoinGroup(request: JoinGroupRequest, callback: JoinCallback): void {
    const statusError = this.groupStatusError(request.groupId, false);
    if (statusError !== ErrorCode.NONE) {
      callback(joinError(request.memberId, statusError));
      return;
    }
    if (
      request.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs ||
      request.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs
    ) {
      callback(joinError(request.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
      return;
    }

    const isUnknownMember = request.memberId === '';
    let group = this.groups.get(request.groupId);
    if (group === undefined) {
      // A group is created by a member that does not know it yet; a known member id means it was lost.
      if (!isUnknownMember) {
        callback(joinError(request.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
      }
      group = this.createGroup(request.groupId);
    }

    if (!this.acceptJoiningMember(group, request.memberId)) {
      if (group.has(request.memberId)) this.removeMember(group, request.memberId);
      callback(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      this.doNewMemberJoinGroup(group, request, callback);
    } else {
      this.doCurrentMemberJoinGroup(group, request, callback);
    }

    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  /**
   * group.max.size. While preparing a rebalance the members that already rejoined are counted, not the group
   * size: the size may exceed a lowered limit, and counting joiners lets the last to rejoin be turned away.
   */
  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (
          (group.has(memberId) && group.get(memberId).isAwaitingJoin) ||
          group.numAwaitingJoin < this.config.groupMaxSize
        );
      case 'CompletingRebalance':
      case 'Stable':
        return group.has(memberId) || group.size < this.config.groupMaxSize;
    }
  }

  private doNewMemberJoinGroup(group: ClassicGroup, request: JoinGroupRequest, callback: JoinCallback): void {
    const protocols = copyProtocols(request.protocols);
    if (group.is('Dead')) {
      callback(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return;
    }
    if (!group.supportsProtocols(request.protocolType, protocols)) {
      callback(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      return;
    }
    const newMemberId = `${request.groupInstanceId ?? request.clientId}-${randomUUID()}`;
    if (request.groupInstanceId !== null) {
      const oldMemberId = group.currentStaticMemberId(request.groupInstanceId);
      if (oldMemberId !== undefined) {
        this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, request, protocols, callback);
      } else {
        this.addMemberAndRebalance(group, newMemberId, request, protocols, callback);
      }
    } else if (request.requireKnownMemberId) {
      // KIP-394: hand out the id first, so a client that times out and retries cannot leave defunct members.
      const expiryTimer = this.scheduler.setTimeout(
        () => this.onPendingMemberExpired(group, newMemberId),
        request.sessionTimeoutMs,
      );
      group.addPendingMember(newMemberId, expiryTimer);
      callback(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    } else {
      this.addMemberAndRebalance(group, newMemberId, request, protocols, callback);
    }
  }

  private doCurrentMemberJoinGroup(
    group: ClassicGroup,
    request: JoinGroupRequest,
    callback: JoinCallback,
  ): void {
    const { memberId } = request;
    const protocols = copyProtocols(request.protocols);
    if (group.is('Dead')) {
      callback(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return;
    }
    if (!group.supportsProtocols(request.protocolType, protocols)) {
      callback(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      return;
    }
    if (group.isPendingMember(memberId) && request.groupInstanceId === null) {
      this.addMemberAndRebalance(group, memberId, request, protocols, callback);
      return;
    }
    const memberError = this.validateCurrentMember(group, memberId, request.groupInstanceId);
    if (memberError !== ErrorCode.NONE) {
      callback(joinError(memberId, memberError));
      return;
    }

    const member = group.get(memberId);
    const rebalanceTimeoutMs = effectiveRebalanceTimeoutMs(request);
    const rejoin = (reason: string) => {
      group.updateMember(member, protocols, rebalanceTimeoutMs, request.sessionTimeoutMs, callback);
      this.maybePrepareRebalance(group, reason);
    };
    switch (group.state) {
      case 'PreparingRebalance':
        rejoin(`member ${memberId} joined during the rebalance (${reasonOf(request)})`);
        return;
      case 'CompletingRebalance':
        // Same metadata: it probably missed the JoinGroup answer, so repeat it.
        if (member.matches(protocols)) {
          callback(this.currentGenerationJoinResult(group, memberId, group.isLeader(memberId)));
          return;
        }
        rejoin(`member ${memberId} changed its metadata while the group awaited the assignment`);
        return;
      case 'Stable':
        // The leader rejoins to make the group reassign (e.g. for a topic metadata change).
        if (group.isLeader(memberId)) {
          rejoin(`leader ${memberId} rejoined (${reasonOf(request)})`);
          return;
        }
        if (!member.matches(protocols)) {
          rejoin(`member ${memberId} changed its metadata (${reasonOf(request)})`);
          return;
        }
        callback(this.currentGenerationJoinResult(group, memberId, false));
        return;
      case 'Empty':
      case 'Dead':
        callback(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
    }
  }

  private currentGenerationJoinResult(
    group: ClassicGroup,
    memberId: string,
    withMembers: boolean,
  ): JoinGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leader ?? '',
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberAndRebalance(
    group: ClassicGroup,
    memberId: string,
    request: JoinGroupRequest,
    protocols: JoinGroupProtocol[],
    callback: JoinCallback,
  ): void {
    this.clearPendingMember(group, memberId);
    const member = new ClassicGroupMember({
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      rebalanceTimeoutMs: effectiveRebalanceTimeoutMs(request),
      sessionTimeoutMs: request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols,
    });
    member.isNew = true;
    // Joiners of a brand-new group extend the initial rebalance delay.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, callback);
    this.scheduleHeartbeatExpiry(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(group, `new member ${memberId} joined (${reasonOf(request)})`);
  }

  /**
   * A known group.instance.id came back without a member id (a restarted static member). It takes over the
   * old member's place; the old id is fenced. In a Stable group whose selected protocol would not change,
   * no rebalance happens: the new id is persisted and the member gets the current generation.
   */
  private updateStaticMemberAndRebalance(
    group: ClassicGroup,
    oldMemberId: string,
    newMemberId: string,
    request: JoinGroupRequest,
    protocols: JoinGroupProtocol[],
    callback: JoinCallback,
  ): void {
    const groupInstanceId = request.groupInstanceId!;
    const currentLeader = group.leader ?? '';
    const member = group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
    this.scheduleHeartbeatExpiry(group, member, member.sessionTimeoutMs);
    const previous = {
      protocols: member.supportedProtocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    group.updateMember(
      member,
      protocols,
      effectiveRebalanceTimeoutMs(request),
      request.sessionTimeoutMs,
      callback,
    );

    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalance(group, `static member ${groupInstanceId} changed the selected protocol`);
          return;
        }
        const assignment = new Map(group.allMembers().map((m) => [m.memberId, m.assignment]));
        void this.storeGroup(group, assignment).then((errorCode) => {
          if (group.is('Dead')) return;
          if (errorCode !== ErrorCode.NONE) {
            // Not persisted: undo, so the old member id stays valid, unless a rebalance took over meanwhile.
            if (member.awaitingJoin !== callback) return;
            group.updateMember(
              member,
              previous.protocols,
              previous.rebalanceTimeoutMs,
              previous.sessionTimeoutMs,
              null,
            );
            const restored = group.replaceStaticMember(groupInstanceId, newMemberId, oldMemberId);
            this.scheduleHeartbeatExpiry(group, restored, restored.sessionTimeoutMs);
            callback({
              ...joinError('', errorCode),
              generationId: group.generationId,
              protocolType: group.protocolType,
              protocolName: group.protocolName,
              leader: currentLeader,
            });
            return;
          }
          const isLeader = group.isLeader(newMemberId);
          if (request.supportSkippingAssignment === true) {
            // v9+: the leader learns it leads (to keep watching metadata) but must not reassign a Stable group.
            group.maybeInvokeJoinCallback(member, {
              ...this.currentGenerationJoinResult(group, newMemberId, isLeader),
              skipAssignment: isLeader,
            });
          } else {
            // Older clients would run the assignor if they saw themselves as leader, and a Stable group would
            // ignore the result; naming the previous leader id keeps them followers.
            group.maybeInvokeJoinCallback(member, {
              ...this.currentGenerationJoinResult(group, newMemberId, false),
              leader: currentLeader,
            });
          }
        });
        return;
      }
      case 'CompletingRebalance':
        // The leader may be assigning to the old member id, which would leave the new one without partitions.
        this.prepareRebalance(group, `static member ${groupInstanceId} rejoined during the sync phase`);
        return;
      case 'PreparingRebalance':
        return;
      case 'Empty':
      case 'Dead':
        throw new GroupStateError(
          `static member ${groupInstanceId} rejoined group ${group.groupId} in state ${group.state}`,
        );
    }
  }

  private onPendingMemberExpired(group: ClassicGroup, memberId: string): void {
    if (group.is('Dead') || !group.isPendingMember(memberId)) return;
    this.removePendingMemberAndUpdateGroup(group, memberId);
  }

  private removePendingMemberAndUpdateGroup(group: ClassicGroup, memberId: string): void {
    this.clearPendingMember(group, memberId);
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  private clearPendingMember(group: ClassicGroup, memberId: string): void {
    const timer = group.removePendingMember(memberId);
    if (timer !== null) this.scheduler.clearTimeout(timer);
  }

  // ---------------------------------------------------------------------------------------------------
  // Rebalance

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.canRebalance) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    // Members waiting for an assignment of the generation being abandoned must rejoin.
    if (group.is('CompletingRebalance'))
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const wasEmpty = group.is('Empty');
    group.transitionTo('PreparingRebalance', this.scheduler.nowMs());
    this.logger.info(
      `preparing to rebalance group ${group.groupId} with old generation ${group.generationId} ` +
        `(offsets partition ${group.partition}): ${reason}`,
    );
    if (wasEmpty) {
      const delayMs = this.config.groupInitialRebalanceDelayMs;
      this.scheduleInitialDelayedJoin(group, delayMs, Math.max(group.rebalanceTimeoutMs - delayMs, 0));
    } else {
      this.scheduleDelayedJoin(group, group.rebalanceTimeoutMs);
      this.tryCompleteJoin(group);
    }
  }

  private scheduleDelayedJoin(group: ClassicGroup, delayMs: number): void {
    this.clearJoinTimer(group);
    group.joinTimerIsInitialDelay = false;
    group.joinTimer = this.scheduler.setTimeout(() => {
      group.joinTimer = null;
      this.onCompleteJoin(group);
    }, delayMs);
  }

  /**
   * group.initial.rebalance.delay.ms: a group rebalancing out of Empty waits so that members starting
   * together join one generation. Each expiry that saw a new member waits once more, within the rebalance
   * timeout.
   */
  private scheduleInitialDelayedJoin(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    this.clearJoinTimer(group);
    group.joinTimerIsInitialDelay = true;
    group.joinTimer = this.scheduler.setTimeout(() => {
      group.joinTimer = null;
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        const nextDelayMs = Math.min(this.config.groupInitialRebalanceDelayMs, remainingMs);
        this.scheduleInitialDelayedJoin(group, nextDelayMs, Math.max(remainingMs - delayMs, 0));
      } else {
        this.onCompleteJoin(group);
      }
    }, delayMs);
  }

  private clearJoinTimer(group: ClassicGroup): void {
    if (group.joinTimer !== null) this.scheduler.clearTimeout(group.joinTimer);
    group.joinTimer = null;
  }

  /** The join phase ends early once everyone expected has joined (never during the initial delay). */
  private tryCompleteJoin(group: ClassicGroup): void {
    if (
      group.is('PreparingRebalance') &&
      group.joinTimer !== null &&
      !group.joinTimerIsInitialDelay &&
      group.hasAllMembersJoined
    ) {
      this.clearJoinTimer(group);
      this.onCompleteJoin(group);
    }
  }

  private onCompleteJoin(group: ClassicGroup): void {
    // Dynamic members that did not rejoin in time are gone; static ones keep their place (they may be
    // restarting) and are dropped later if they do not sync.
    for (const member of group.notYetRejoinedMembers()) {
      if (!member.isStatic) this.removeMember(group, member.memberId);
    }
    if (group.is('Dead')) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      this.logger.warn(`group ${group.groupId} could not complete its rebalance: no member rejoined`);
      this.scheduleDelayedJoin(group, group.rebalanceTimeoutMs);
      return;
    }
    group.initNextGeneration(this.scheduler.nowMs());
    if (group.is('Empty')) {
      this.logger.info(`group ${group.groupId} with generation ${group.generationId} is now empty`);
      void this.storeGroup(group, new Map()).then((errorCode) => {
        // Safe to lose: a later load revives the previous generation, whose members then time out.
        if (errorCode !== ErrorCode.NONE) {
          this.logger.warn(`could not write empty metadata of group ${group.groupId}: error ${errorCode}`);
        }
      });
      return;
    }
    this.logger.info(
      `group ${group.groupId} stabilized at generation ${group.generationId} with ${group.size} members`,
    );
    const leaderMembers = group.currentMemberMetadata();
    for (const member of group.allMembers()) {
      const isLeader = group.isLeader(member.memberId);
      group.maybeInvokeJoinCallback(member, {
        ...this.currentGenerationJoinResult(group, member.memberId, false),
        members: isLeader ? leaderMembers : [],
      });
      this.scheduleHeartbeatExpiry(group, member, member.sessionTimeoutMs);
      member.isNew = false;
      group.addPendingSyncMember(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  /** Members that got the JoinGroup answer must SyncGroup within the rebalance timeout. */
  private schedulePendingSync(group: ClassicGroup): void {
    const generationId = group.generationId;
    this.clearSyncTimer(group);
    group.syncTimer = this.scheduler.setTimeout(() => {
      group.syncTimer = null;
      this.onExpirePendingSync(group, generationId);
    }, group.rebalanceTimeoutMs);
  }

  private onExpirePendingSync(group: ClassicGroup, generationId: number): void {
    if (generationId !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.hasReceivedSyncFromAllMembers) return;
    const missing = group.allPendingSyncMembers();
    for (const memberId of missing) this.removeMember(group, memberId);
    this.prepareRebalance(group, `members ${missing.join(', ')} did not send SyncGroup in time`);
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.removePendingSyncMember(memberId);
    if (group.hasReceivedSyncFromAllMembers) this.clearSyncTimer(group);
  }

  private removeSyncExpiration(group: ClassicGroup): void {
    group.clearPendingSyncMembers();
    this.clearSyncTimer(group);
  }

  private clearSyncTimer(group: ClassicGroup): void {
    if (group.syncTimer !== null) this.scheduler.clearTimeout(group.syncTimer);
    group.syncTimer = null;
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const member of group.allMembers()) member.assignment = EMPTY_BUFFER;
    this.propagateAssignment(group, errorCode);
  }

  private setAndPropagateAssignment(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): void {
    for (const member of group.allMembers())
      member.assignment = assignment.get(member.memberId) ?? EMPTY_BUFFER;
    this.propagateAssignment(group, ErrorCode.NONE);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const member of group.allMembers()) {
      const result: SyncGroupResult =
        errorCode === ErrorCode.NONE
          ? {
              errorCode,
              protocolType: group.protocolType,
              protocolName: group.protocolName,
              assignment: member.assignment,
            }
          : syncError(errorCode);
      // A member's session may have lapsed while it waited (expiry ignores waiting members): restart it.
      if (group.maybeInvokeSyncCallback(member, result)) {
        this.scheduleHeartbeatExpiry(group, member, member.sessionTimeoutMs);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Membership

  private validateCurrentMember(
    group: ClassicGroup,
    memberId: string,
    groupInstanceId: string | null,
  ): number {
    if (groupInstanceId !== null) {
      const currentMemberId = group.currentStaticMemberId(groupInstanceId);
      if (currentMemberId === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (currentMemberId !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return group.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  private scheduleHeartbeatExpiry(group: ClassicGroup, member: ClassicGroupMember, timeoutMs: number): void {
    if (member.heartbeatTimer !== null) this.scheduler.clearTimeout(member.heartbeatTimer);
    member.heartbeatTimer = this.scheduler.setTimeout(() => {
      member.heartbeatTimer = null;
      this.onHeartbeatExpired(group, member);
    }, timeoutMs);
  }

  private onHeartbeatExpired(group: ClassicGroup, member: ClassicGroupMember): void {
    if (group.is('Dead') || !group.has(member.memberId) || group.get(member.memberId) !== member) return;
    // A member parked in a join or sync phase is alive; the phase's own timeout governs it. New members
    // are the exception: their timer is the new-member join timeout.
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
    this.logger.info(`member ${member.memberId} of group ${group.groupId} failed its session; removing it`);
    this.removeMemberAndUpdateGroup(group, member);
  }

  /** Removes a member, answering its parked requests with UNKNOWN_MEMBER_ID, and cancels its session. */
  private removeMember(group: ClassicGroup, memberId: string): void {
    if (!group.has(memberId)) return;
    const member = group.get(memberId);
    group.maybeInvokeJoinCallback(member, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    group.maybeInvokeSyncCallback(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(memberId);
    if (member.heartbeatTimer !== null) this.scheduler.clearTimeout(member.heartbeatTimer);
    member.heartbeatTimer = null;
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: ClassicGroupMember): void {
    this.removeMember(group, member.memberId);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, `member ${member.memberId} left`);
        return;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        return;
      case 'Empty':
      case 'Dead':
        return;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // SyncGroup, Heartbeat, LeaveGroup

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResult> {
    return new Promise((resolve) => this.handleSyncGroup(request, resolve));
  }

  private handleSyncGroup(request: SyncGroupRequest, callback: SyncCallback): void {
    const statusError = this.groupStatusError(request.groupId, false);
    // The rebalance state was lost with the old coordinator; REBALANCE_IN_PROGRESS makes the member rejoin
    // without rediscovering the coordinator (older clients do not expect LOAD_IN_PROGRESS here).
    if (statusError === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
      callback(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      return;
    }
    if (statusError !== ErrorCode.NONE) {
      callback(syncError(statusError));
      return;
    }
    const group = this.groups.get(request.groupId);
    if (group === undefined) {
      callback(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      return;
    }
    const validationError = this.validateSyncGroup(group, request);
    if (validationError !== ErrorCode.NONE) {
      callback(syncError(validationError));
      return;
    }

    const { memberId } = request;
    switch (group.state) {
      case 'Empty':
        callback(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
        return;
      case 'PreparingRebalance':
        callback(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        return;
      case 'CompletingRebalance': {
        group.setAwaitingSync(group.get(memberId), callback);
        this.removePendingSyncMember(group, memberId);
        if (group.isLeader(memberId)) this.storeLeaderAssignment(group, request);
        return;
      }
      case 'Stable': {
        this.removePendingSyncMember(group, memberId);
        const member = group.get(memberId);
        callback({
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
        this.scheduleHeartbeatExpiry(group, member, member.sessionTimeoutMs);
        return;
      }
      case 'Dead':
        callback(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
        return;
    }
  }

  private validateSyncGroup(group: ClassicGroup, request: SyncGroupRequest): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.validateCurrentMember(group, request.memberId, request.groupInstanceId);
    if (memberError !== ErrorCode.NONE) return memberError;
    if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (request.protocolType !== null && request.protocolType !== group.protocolType) {
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    }
    if (request.protocolName !== null && request.protocolName !== group.protocolName) {
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    }
    return ErrorCode.NONE;
  }

  /** The leader's assignment becomes the group's once it is durable; then every parked SyncGroup is answered. */
  private storeLeaderAssignment(group: ClassicGroup, request: SyncGroupRequest): void {
    const assignment = new Map<string, Buffer>();
    for (const member of group.allMembers()) assignment.set(member.memberId, EMPTY_BUFFER);
    for (const entry of request.assignments) {
      if (assignment.has(entry.memberId)) assignment.set(entry.memberId, Buffer.from(entry.assignment));
    }
    const generationId = group.generationId;
    void this.storeGroup(group, assignment).then((errorCode) => {
      // A member may have joined (or the partition moved) while the write was in flight.
      if (!group.is('CompletingRebalance') || group.generationId !== generationId) return;
      if (errorCode !== ErrorCode.NONE) {
        this.resetAndPropagateAssignmentError(group, errorCode);
        this.maybePrepareRebalance(group, `storing the assignment failed with error ${errorCode}`);
        return;
      }
      this.setAndPropagateAssignment(group, assignment);
      group.transitionTo('Stable', this.scheduler.nowMs());
    });
  }

  heartbeat(request: HeartbeatRequest): Promise<{ errorCode: number }> {
    return Promise.resolve({ errorCode: this.handleHeartbeat(request) });
  }

  private handleHeartbeat(request: HeartbeatRequest): number {
    const statusError = this.groupStatusError(request.groupId, false);
    // Nothing to check against yet; answering NONE keeps members from rejoining needlessly.
    if (statusError === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ErrorCode.NONE;
    if (statusError !== ErrorCode.NONE) return statusError;
    const group = this.groups.get(request.groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.validateCurrentMember(group, request.memberId, request.groupInstanceId);
    if (memberError !== ErrorCode.NONE) return memberError;
    if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;

    const member = group.get(request.memberId);
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        this.scheduleHeartbeatExpiry(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'CompletingRebalance':
      case 'Stable':
        this.scheduleHeartbeatExpiry(group, member, member.sessionTimeoutMs);
        return ErrorCode.NONE;
    }
  }

  /** LeaveGroup; v0-v2 pass one member with groupInstanceId null. */
  leaveGroup(groupId: string, members: LeavingMember[]): Promise<LeaveGroupResult> {
    return Promise.resolve(this.handleLeaveGroup(groupId, members));
  }

  private handleLeaveGroup(groupId: string, leaving: LeavingMember[]): LeaveGroupResult {
    const statusError = this.groupStatusError(groupId, false);
    if (statusError !== ErrorCode.NONE) return { errorCode: statusError, members: [] };
    const group = this.groups.get(groupId);
    const answer = (m: LeavingMember, errorCode: number) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode,
    });
    if (group === undefined) {
      return {
        errorCode: ErrorCode.NONE,
        members: leaving.map((m) => answer(m, ErrorCode.UNKNOWN_MEMBER_ID)),
      };
    }
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };

    const results = leaving.map((m) => {
      if (m.memberId === '') {
        // Administrative removal of a static member by its instance id alone.
        const currentMemberId =
          m.groupInstanceId !== null ? group.currentStaticMemberId(m.groupInstanceId) : undefined;
        if (currentMemberId === undefined) return answer(m, ErrorCode.UNKNOWN_MEMBER_ID);
        this.removeMemberAndUpdateGroup(group, group.get(currentMemberId));
        return answer(m, ErrorCode.NONE);
      }
      if (group.isPendingMember(m.memberId)) {
        this.removePendingMemberAndUpdateGroup(group, m.memberId);
        return answer(m, ErrorCode.NONE);
      }
      const memberError = this.validateCurrentMember(group, m.memberId, m.groupInstanceId);
      if (memberError === ErrorCode.NONE) {
        this.logger.info(`member ${m.memberId} leaves group ${groupId}: ${m.reason ?? 'no reason given'}`);
        this.removeMemberAndUpdateGroup(group, group.get(m.memberId));
      }
      return answer(m, memberError);
    });
    return { errorCode: ErrorCode.NONE, members: results };
  }

  // ---------------------------------------------------------------------------------------------------
  // Offsets

  /** OffsetCommit; answers once the commit is durable. Results follow the order of `request.offsets`. */
  async commitOffsets(request: OffsetCommitRequest): Promise<OffsetCommitPartitionResult[]> {
    const answerAll = (errorCode: number) =>
      request.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode }));
    const statusError = this.groupStatusError(request.groupId, true);
    if (statusError !== ErrorCode.NONE) return answerAll(statusError);

    let group = this.groups.get(request.groupId);
    if (group === undefined) {
      // Without group management (generation -1) a "simple" group is created just to hold offsets.
      if (request.generationId >= 0) {
        return answerAll(
          request.groupIdNotFoundIfMissing === true
            ? ErrorCode.GROUP_ID_NOT_FOUND
            : ErrorCode.ILLEGAL_GENERATION,
        );
      }
      group = this.createGroup(request.groupId);
    }
    const validationError = this.validateOffsetCommit(group, request, false);
    if (validationError !== ErrorCode.NONE) return answerAll(validationError);

    switch (group.state) {
      case 'Empty':
        return this.storeOffsets(group, request);
      case 'Stable':
      case 'PreparingRebalance': {
        // A commit proves the member alive; during PreparingRebalance it learns of the rebalance from its
        // next heartbeat, so its commit of the old generation is still accepted.
        const member = group.get(request.memberId);
        this.scheduleHeartbeatExpiry(group, member, member.sessionTimeoutMs);
        return this.storeOffsets(group, request);
      }
      case 'CompletingRebalance':
        // Valid member and generation, but partitions are about to move: let the client rejoin and retry.
        return answerAll(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Dead':
        return answerAll(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  private validateOffsetCommit(
    group: ClassicGroup,
    request: OffsetCommitRequest | TxnOffsetCommitRequest,
    isTransactional: boolean,
  ): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Admin clients and consumers without group management commit with generation -1 to an empty group.
    if (request.generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (request.generationId >= 0 || request.memberId !== '' || request.groupInstanceId !== null) {
      const memberError = this.validateCurrentMember(group, request.memberId, request.groupInstanceId);
      if (memberError !== ErrorCode.NONE) return memberError;
      return request.generationId === group.generationId ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    }
    // Only members may commit to a group that has members. TxnOffsetCommit before v3 carries no member, so
    // a transactional commit without one is accepted whatever the group.
    return isTransactional || group.is('Empty') ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /**
   * TxnOffsetCommit; answers once the transactional records are durable. The offsets stay pending per
   * producer until completeTransaction. Unlike OffsetCommit, a group that does not exist is created (as a
   * simple group) whatever the generation, and the group's state is not checked: only the member.
   * Results follow the order of `request.offsets`.
   */
  async commitTransactionalOffsets(request: TxnOffsetCommitRequest): Promise<OffsetCommitPartitionResult[]> {
    const answerAll = (errorCode: number) =>
      request.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode }));
    // Kafka accepts the empty group id for OffsetCommit only (backward compatibility), not here.
    const statusError = this.groupStatusError(request.groupId, false);
    if (statusError !== ErrorCode.NONE) return answerAll(statusError);

    const group = this.groups.get(request.groupId) ?? this.createGroup(request.groupId);
    if (this.transactionalOffsetVerifier !== null) {
      const verifyError = this.transactionalOffsetVerifier(
        group.partition,
        request.producerId,
        request.producerEpoch,
      );
      // Producers expect INVALID_PRODUCER_EPOCH from verification, as Kafka's AddPartitionsToTxnManager says.
      if (verifyError === ErrorCode.PRODUCER_FENCED) return answerAll(ErrorCode.INVALID_PRODUCER_EPOCH);
      if (verifyError !== ErrorCode.NONE)
        return answerAll(offsetCommitErrorFromAppend({ errorCode: verifyError }));
    }
    const validationError = this.validateOffsetCommit(group, request, true);
    if (validationError !== ErrorCode.NONE) return answerAll(validationError);
    return this.storeTransactionalOffsets(group, request);
  }

  private async storeTransactionalOffsets(
    group: ClassicGroup,
    request: TxnOffsetCommitRequest,
  ): Promise<OffsetCommitPartitionResult[]> {
    const { producerId } = request;
    const nowMs = this.scheduler.nowMs();
    const results: OffsetCommitPartitionResult[] = [];
    const staged: { result: OffsetCommitPartitionResult; entry: PendingTransactionalOffset }[] = [];
    const records: CoordinatorRecord[] = [];
    for (const entry of request.offsets) {
      const result = { topic: entry.topic, partition: entry.partition, errorCode: ErrorCode.NONE as number };
      results.push(result);
      const value = this.offsetValue(entry, nowMs, null, result);
      if (value === null) continue;
      staged.push({
        result,
        entry: group.offsets.stageTransactional(producerId, entry.topic, entry.partition, value),
      });
      records.push({
        key: encodeOffsetCommitKey(group.groupId, entry.topic, entry.partition),
        value: encodeOffsetCommitValue(value),
      });
    }
    if (records.length === 0) return results;
    this.addOpenGroup(producerId, group.groupId);
    try {
      await this.log.appendTransactional(group.partition, producerId, request.producerEpoch, records);
      for (const { result, entry } of staged)
        group.offsets.completeTransactional(result.topic, result.partition, entry);
    } catch (error) {
      const errorCode = offsetCommitErrorFromAppend(error);
      for (const { result, entry } of staged) {
        group.offsets.failTransactional(producerId, result.topic, result.partition, entry);
        result.errorCode = errorCode;
      }
      if (!group.offsets.hasTransactionalOffsetsOf(producerId))
        this.removeOpenGroup(producerId, group.groupId);
    }
    return results;
  }

  /**
   * The marker of `producerId`'s transaction is durable in offsets partition `offsetsPartition`: a commit
   * makes the pending offsets of every group of the partition committed (unless a plain commit written
   * after them exists), an abort drops them. A partition this coordinator does not own is ignored (its
   * next load reads the marker); one still loading applies it after the replay.
   */
  completeTransaction(offsetsPartition: number, producerId: number, commit: boolean): void {
    const status = this.partitions.get(offsetsPartition);
    if (status === undefined) return;
    if (status.loading) {
      status.completedWhileLoading.push({ producerId, commit });
      return;
    }
    this.completeLoadedTransaction(offsetsPartition, producerId, commit);
  }

  private completeLoadedTransaction(offsetsPartition: number, producerId: number, commit: boolean): void {
    const groupIds = this.openGroupsByProducer.get(producerId);
    if (groupIds === undefined) return;
    for (const groupId of groupIds) {
      if (this.partitionFor(groupId) !== offsetsPartition) continue;
      groupIds.delete(groupId);
      this.groups.get(groupId)?.offsets.completeTransaction(producerId, commit);
    }
    if (groupIds.size === 0) this.openGroupsByProducer.delete(producerId);
  }

  private addOpenGroup(producerId: number, groupId: string): void {
    let groupIds = this.openGroupsByProducer.get(producerId);
    if (groupIds === undefined) {
      groupIds = new Set();
      this.openGroupsByProducer.set(producerId, groupIds);
    }
    groupIds.add(groupId);
  }

  private removeOpenGroup(producerId: number, groupId: string): void {
    const groupIds = this.openGroupsByProducer.get(producerId);
    if (groupIds === undefined) return;
    groupIds.delete(groupId);
    if (groupIds.size === 0) this.openGroupsByProducer.delete(producerId);
  }

  /**
   * The value to store for a committed entry, or null after setting the partition's error (metadata too
   * large, or an offset a JavaScript number cannot hold exactly, which would be stored wrong).
   */
  private offsetValue(
    entry: OffsetCommitEntry,
    nowMs: number,
    expireTimestampMs: number | null,
    result: OffsetCommitPartitionResult,
  ): OffsetAndMetadata | null {
    const metadata = entry.metadata ?? '';
    if (metadata.length > this.config.offsetMetadataMaxBytes) {
      result.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
      return null;
    }
    if (!Number.isSafeInteger(entry.offset)) {
      result.errorCode = ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
      return null;
    }
    const commitTimestampMs = entry.commitTimestampMs ?? -1;
    return {
      offset: entry.offset,
      leaderEpoch: entry.leaderEpoch,
      metadata,
      commitTimestampMs: commitTimestampMs === -1 ? nowMs : commitTimestampMs,
      expireTimestampMs,
    };
  }

  private async storeOffsets(
    group: ClassicGroup,
    request: OffsetCommitRequest,
  ): Promise<OffsetCommitPartitionResult[]> {
    const nowMs = this.scheduler.nowMs();
    const retentionTimeMs = request.retentionTimeMs ?? -1;
    const expireTimestampMs = retentionTimeMs === -1 ? null : nowMs + retentionTimeMs;
    const results: OffsetCommitPartitionResult[] = [];
    const staged: { result: OffsetCommitPartitionResult; sequence: number; value: OffsetAndMetadata }[] = [];
    const records: CoordinatorRecord[] = [];
    for (const entry of request.offsets) {
      const result = { topic: entry.topic, partition: entry.partition, errorCode: ErrorCode.NONE as number };
      results.push(result);
      const value = this.offsetValue(entry, nowMs, expireTimestampMs, result);
      if (value === null) continue;
      staged.push({ result, sequence: group.offsets.stage(entry.topic, entry.partition), value });
      records.push({
        key: encodeOffsetCommitKey(group.groupId, entry.topic, entry.partition),
        value: encodeOffsetCommitValue(value),
      });
    }
    if (records.length === 0) return results;
    try {
      await this.log.append(group.partition, records);
      for (const { result, sequence, value } of staged) {
        group.offsets.complete(result.topic, result.partition, sequence, value);
      }
    } catch (error) {
      const errorCode = offsetCommitErrorFromAppend(error);
      for (const { result } of staged) {
        group.offsets.fail(result.topic, result.partition);
        result.errorCode = errorCode;
      }
    }
    return results;
  }

  /**
   * OffsetFetch for one group; `topics` null means every committed offset (v2+). Offsets are returned
   * whatever the group state, since simple consumers store offsets without membership. With requireStable
   * (v7+), a partition whose commit is still being written gets UNSTABLE_OFFSET_COMMIT.
   */
  fetchOffsets(
    groupId: string,
    topics: TopicPartitions[] | null,
    requireStable: boolean,
  ): Promise<OffsetFetchResult> {
    return Promise.resolve(this.handleFetchOffsets(groupId, topics, requireStable));
  }

  private handleFetchOffsets(
    groupId: string,
    topics: TopicPartitions[] | null,
    requireStable: boolean,
  ): OffsetFetchResult {
    const statusError = this.groupStatusError(groupId, true);
    if (statusError !== ErrorCode.NONE) return { errorCode: statusError, topics: [] };
    const group = this.groups.get(groupId);
    const partitionResult = (topic: string, partition: number): OffsetFetchPartition => {
      if (requireStable && group?.offsets.hasPending(topic, partition)) {
        return { ...noOffset(partition), errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT };
      }
      const committed = group?.offsets.get(topic, partition);
      if (committed === undefined) return noOffset(partition);
      return {
        partition,
        offset: committed.offset,
        leaderEpoch: committed.leaderEpoch,
        metadata: committed.metadata,
        errorCode: ErrorCode.NONE,
      };
    };
    if (topics !== null) {
      return {
        errorCode: ErrorCode.NONE,
        topics: topics.map(({ topic, partitions }) => ({
          topic,
          partitions: partitions.map((p) => partitionResult(topic, p)),
        })),
      };
    }
    if (group === undefined) return { errorCode: ErrorCode.NONE, topics: [] };
    return {
      errorCode: ErrorCode.NONE,
      topics: [...group.offsets.topics()].map(([topic, partitions]) => ({
        topic,
        partitions: [...partitions.keys()].map((p) => partitionResult(topic, p)),
      })),
    };
  }

  /**
   * OffsetDelete. An Empty group loses any offsets; a group with members only those of topics it does not
   * subscribe to (consumer protocol; others get NON_EMPTY_GROUP).
   */
  async deleteOffsets(groupId: string, topics: TopicPartitions[]): Promise<OffsetDeleteResult> {
    const statusError = this.groupStatusError(groupId, false);
    if (statusError !== ErrorCode.NONE) return { errorCode: statusError, topics: [] };
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead'))
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    if (!group.is('Empty') && !group.isConsumerGroup)
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };

    const records: CoordinatorRecord[] = [];
    const result: OffsetDeleteResult = { errorCode: ErrorCode.NONE, topics: [] };
    for (const { topic, partitions } of topics) {
      const subscribed = !group.is('Empty') && group.isSubscribedToTopic(topic);
      result.topics.push({
        topic,
        partitions: partitions.map((partition) => ({
          partition,
          errorCode: subscribed ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE,
        })),
      });
      if (subscribed) continue;
      for (const partition of partitions) {
        group.offsets.remove(topic, partition);
        // Written even if nothing is committed in memory: a retry after a failed append must still
        // delete what an earlier commit left in the log.
        records.push({ key: encodeOffsetCommitKey(groupId, topic, partition), value: null });
      }
    }
    records.push(...this.removeGroupIfUnused(group));
    if (records.length === 0) return result;
    try {
      await this.log.append(group.partition, records);
      return result;
    } catch (error) {
      return { errorCode: offsetCommitErrorFromAppend(error), topics: [] };
    }
  }

  /**
   * Kafka's onPartitionsDeleted: the committed offsets of deleted topics are dropped from every group, so a
   * topic recreated under the same name does not inherit them. Best effort: a lost tombstone leaves an
   * offset that expires with the group.
   */
  async removeOffsetsOfTopics(topics: ReadonlySet<string>): Promise<void> {
    const byPartition = new Map<number, CoordinatorRecord[]>();
    for (const group of [...this.groups.values()]) {
      const records = group.offsets.removeTopics(topics).map((o) => offsetTombstone(group.groupId, o));
      if (records.length === 0) continue;
      records.push(...this.removeGroupIfUnused(group));
      const list = byPartition.get(group.partition) ?? [];
      list.push(...records);
      byPartition.set(group.partition, list);
    }
    await Promise.all(
      [...byPartition].map(([partition, records]) =>
        this.log.append(partition, records).catch((error: unknown) => {
          this.logger.warn(`could not write offset tombstones for deleted topics: ${String(error)}`);
        }),
      ),
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Group administration

  /** ListGroups over the loaded partitions; LOAD_IN_PROGRESS (with the groups known so far) while any loads. */
  listGroups(filter: ListGroupsFilter = {}): Promise<ListGroupsResult> {
    if (!this.active) return Promise.resolve({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] });
    const loading = [...this.partitions.values()].some((s) => s.loading);
    const states = new Set((filter.statesFilter ?? []).map((s) => s.toLowerCase()));
    const types = new Set((filter.typesFilter ?? []).map((t) => t.toLowerCase()));
    const groups =
      types.size > 0 && !types.has('classic')
        ? []
        : [...this.groups.values()]
            .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
            .map((g) => ({
              groupId: g.groupId,
              protocolType: g.protocolType ?? '',
              groupState: g.state as string,
              groupType: 'classic' as const,
            }));
    return Promise.resolve({
      errorCode: loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE,
      groups,
    });
  }

  describeGroups(groupIds: string[]): Promise<DescribedGroup[]> {
    return Promise.resolve(
      groupIds.map((groupId): DescribedGroup => {
        const statusError = this.groupStatusError(groupId, true);
        const none = { groupId, protocolType: '', protocolData: '', members: [] };
        if (statusError !== ErrorCode.NONE) return { ...none, errorCode: statusError, groupState: '' };
        const group = this.groups.get(groupId);
        if (group === undefined) return { ...none, errorCode: ErrorCode.NONE, groupState: 'Dead' };
        return {
          errorCode: ErrorCode.NONE,
          groupId,
          groupState: group.state,
          protocolType: group.protocolType ?? '',
          protocolData: group.is('Stable') ? (group.protocolName ?? '') : '',
          members: group.describeMembers(),
        };
      }),
    );
  }

  /** DeleteGroups: only Empty groups, with all their offsets. Duplicate ids are answered once. */
  async deleteGroups(groupIds: string[]): Promise<DeleteGroupResult[]> {
    const results = new Map<string, number>();
    const appends: Promise<void>[] = [];
    for (const groupId of groupIds) {
      if (results.has(groupId)) continue;
      const statusError = this.groupStatusError(groupId, true);
      const group = this.groups.get(groupId);
      if (statusError !== ErrorCode.NONE) {
        results.set(groupId, statusError);
      } else if (group === undefined || group.is('Dead')) {
        results.set(groupId, ErrorCode.GROUP_ID_NOT_FOUND);
      } else if (!group.is('Empty')) {
        results.set(groupId, ErrorCode.NON_EMPTY_GROUP);
      } else {
        results.set(groupId, ErrorCode.NONE);
        const records = group.offsets.removeAll().map((o) => offsetTombstone(groupId, o));
        this.removeGroup(group);
        records.push(...groupTombstone(group));
        if (records.length === 0) continue;
        appends.push(
          this.log.append(group.partition, records).catch((error: unknown) => {
            results.set(groupId, offsetCommitErrorFromAppend(error));
          }),
        );
      }
    }
    await Promise.all(appends);
    return [...results].map(([groupId, errorCode]) => ({ groupId, errorCode }));
  }

  /**
   * Offset expiry (offsets.retention.minutes), run every offsets.retention.check.interval.ms and callable
   * directly. Expired offsets get tombstones; groups left Empty without offsets are removed. Returns the
   * number of offsets removed.
   */
  async cleanupExpiredOffsets(): Promise<number> {
    const nowMs = this.scheduler.nowMs();
    let removedCount = 0;
    const appends: Promise<void>[] = [];
    for (const group of [...this.groups.values()]) {
      const expired = this.removeExpiredOffsets(group, nowMs);
      removedCount += expired.length;
      const records = expired.map((o) => offsetTombstone(group.groupId, o));
      records.push(...this.removeGroupIfUnused(group));
      if (records.length === 0) continue;
      // A lost tombstone is harmless: the next run after a reload expires the offset again.
      appends.push(
        this.log.append(group.partition, records).catch((error: unknown) => {
          this.logger.warn(`could not write tombstones for group ${group.groupId}: ${String(error)}`);
        }),
      );
    }
    await Promise.all(appends);
    return removedCount;
  }

  /**
   * KIP-211: offsets of an Empty group expire retention after the group became empty; a Stable consumer
   * group's offsets of topics it no longer subscribes to expire retention after their commit; a simple
   * group's offsets expire retention after their commit. Other groups keep their offsets.
   */
  private removeExpiredOffsets(group: ClassicGroup, nowMs: number): ExpiredOffset[] {
    const retentionMs = this.config.offsetsRetentionMs;
    const byCommitTime = (o: OffsetAndMetadata) => o.commitTimestampMs;
    if (group.protocolType !== null && group.is('Empty')) {
      return group.offsets.removeExpired(nowMs, retentionMs, () => group.currentStateTimestampMs, new Set());
    }
    const subscribedTopics = group.knownSubscribedTopics;
    if (group.isConsumerGroup && subscribedTopics !== null && group.is('Stable')) {
      return group.offsets.removeExpired(nowMs, retentionMs, byCommitTime, subscribedTopics);
    }
    if (group.protocolType === null)
      return group.offsets.removeExpired(nowMs, retentionMs, byCommitTime, new Set());
    return [];
  }

  /** Fixed rate: a run's removals happen synchronously, only its tombstone appends may overlap the next. */
  private scheduleCleanup(): void {
    this.cleanupTimer = this.scheduler.setTimeout(() => {
      this.scheduleCleanup();
      this.cleanupExpiredOffsets().catch((error: unknown) =>
        this.logger.warn(`offset expiry failed: ${String(error)}`),
      );
    }, this.config.offsetsRetentionCheckIntervalMs);
  }

  // ---------------------------------------------------------------------------------------------------
  // Helpers

  /**
   * Kafka's validateGroupStatus. Offset and admin APIs accept the empty group id for backward compatibility;
   * membership APIs do not.
   */
  private groupStatusError(groupId: string, allowEmptyGroupId: boolean): number {
    if (!allowEmptyGroupId && groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const status = this.partitions.get(this.partitionFor(groupId));
    if (status === undefined) return ErrorCode.NOT_COORDINATOR;
    if (status.loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  private createGroup(groupId: string): ClassicGroup {
    const group = new ClassicGroup(groupId, this.partitionFor(groupId), 'Empty', this.scheduler.nowMs());
    this.groups.set(groupId, group);
    return group;
  }

  /** Marks the group Dead, cancels all its timers and forgets it. */
  private removeGroup(group: ClassicGroup): void {
    group.transitionTo('Dead', this.scheduler.nowMs());
    this.clearJoinTimer(group);
    this.clearSyncTimer(group);
    for (const timer of group.pendingMemberTimers()) this.scheduler.clearTimeout(timer);
    for (const member of group.allMembers()) {
      if (member.heartbeatTimer !== null) this.scheduler.clearTimeout(member.heartbeatTimer);
      member.heartbeatTimer = null;
    }
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  /** An Empty group without offsets is removed; returns the tombstone for its metadata record. */
  private removeGroupIfUnused(group: ClassicGroup): CoordinatorRecord[] {
    if (!group.is('Empty') || group.offsets.hasOffsets) return [];
    this.removeGroup(group);
    return groupTombstone(group);
  }

  /** Writes the group's generation, members and the given assignment; resolves to a Kafka error code. */
  private storeGroup(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): Promise<number> {
    const value = encodeGroupMetadataValue({
      protocolType: group.protocolType,
      generationId: group.generationId,
      protocolName: group.protocolName,
      leaderId: group.leader,
      currentStateTimestampMs: group.currentStateTimestampMs,
      members: group.allMembers().map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        protocols: m.supportedProtocols,
        assignment: assignment.get(m.memberId) ?? EMPTY_BUFFER,
      })),
    });
    return this.log.append(group.partition, [{ key: encodeGroupMetadataKey(group.groupId), value }]).then(
      () => ErrorCode.NONE,
      (error: unknown) => groupMetadataErrorFromAppend(error),
    );
  }
}

function reasonOf(request: JoinGroupRequest): string {
  return `client reason: ${request.reason ?? 'not provided'}`;
}

/** An offset read back at load, with its record's position in the partition (later positions win). */
interface ReplayedOffset {
  value: OffsetAndMetadata;
  sequence: number;
}

type ReplayedOffsets = Map<string, Map<string, Map<number, ReplayedOffset>>>;

/**
 * The state of one partition being replayed, record by record in log order: later records win, a null value
 * deletes. Transactional offsets wait per producer for its marker; a plain tombstone (OffsetDelete, group
 * deletion) also drops the partition's pending transactional offsets, as the removal did in memory.
 */
class PartitionReplay {
  readonly metadataByGroup = new Map<string, GroupMetadataValue>();
  readonly offsetsByGroup: ReplayedOffsets = new Map();
  /** Transactional offsets whose marker has not been read (yet), by producer id. */
  readonly pendingByProducer = new Map<number, ReplayedOffsets>();
  private position = 0;

  apply(entry: CoordinatorLogEntry): void {
    if (entry.kind === 'marker') {
      this.applyMarker(entry);
      return;
    }
    const key = decodeRecordKey(entry.key);
    if (key.type === 'groupMetadata') {
      if (entry.value === null) this.metadataByGroup.delete(key.groupId);
      else this.metadataByGroup.set(key.groupId, decodeGroupMetadataValue(entry.value));
      return;
    }
    const { groupId, topic, partition } = key;
    if (entry.isTransactional === true) {
      const producerId = entry.producerId ?? -1;
      let pending = this.pendingByProducer.get(producerId);
      if (pending === undefined) {
        pending = new Map();
        this.pendingByProducer.set(producerId, pending);
      }
      if (entry.value === null) pending.get(groupId)?.get(topic)?.delete(partition);
      else setOffset(pending, groupId, topic, partition, this.replayed(entry.value));
      return;
    }
    if (entry.value === null) {
      this.offsetsByGroup.get(groupId)?.get(topic)?.delete(partition);
      for (const pending of this.pendingByProducer.values())
        pending.get(groupId)?.get(topic)?.delete(partition);
      return;
    }
    setOffset(this.offsetsByGroup, groupId, topic, partition, this.replayed(entry.value));
  }

  private replayed(value: Buffer): ReplayedOffset {
    return { value: decodeOffsetCommitValue(value), sequence: ++this.position };
  }

  private applyMarker(marker: LoggedTransactionMarker): void {
    const pending = this.pendingByProducer.get(marker.producerId);
    if (pending === undefined) return;
    this.pendingByProducer.delete(marker.producerId);
    if (!marker.commit) return;
    for (const [groupId, topics] of pending) {
      for (const [topic, partitions] of topics) {
        for (const [partition, offset] of partitions) {
          const current = this.offsetsByGroup.get(groupId)?.get(topic)?.get(partition);
          if (current === undefined || current.sequence < offset.sequence)
            setOffset(this.offsetsByGroup, groupId, topic, partition, offset);
        }
      }
    }
  }
}

function setOffset(
  offsets: ReplayedOffsets,
  groupId: string,
  topic: string,
  partition: number,
  offset: ReplayedOffset,
): void {
  let topics = offsets.get(groupId);
  if (topics === undefined) {
    topics = new Map();
    offsets.set(groupId, topics);
  }
  let partitions = topics.get(topic);
  if (partitions === undefined) {
    partitions = new Map();
    topics.set(topic, partitions);
  }
  partitions.set(partition, offset);
}

/** v0 requests have no rebalance timeout; Kafka then uses the session timeout. */
function effectiveRebalanceTimeoutMs(request: JoinGroupRequest): number {
  return request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs;
}

/**
 * Copies protocol metadata out of the request frame (members keep it for their lifetime, and a frame must
 * not stay pinned) and drops repeated protocol names, which would skew the per-protocol member counts.
 */
function copyProtocols(protocols: readonly JoinGroupProtocol[]): JoinGroupProtocol[] {
  const seen = new Set<string>();
  const copies: JoinGroupProtocol[] = [];
  for (const { name, metadata } of protocols) {
    if (seen.has(name)) continue;
    seen.add(name);
    copies.push({ name, metadata: Buffer.from(metadata) });
  }
  return copies;
}

function noOffset(partition: number): OffsetFetchPartition {
  return { partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE };
}

/** A group's metadata record exists only once it completed a rebalance (simple groups never write one). */
function groupTombstone(group: ClassicGroup): CoordinatorRecord[] {
  return group.generationId > 0 ? [{ key: encodeGroupMetadataKey(group.groupId), value: null }] : [];
}

function offsetTombstone(groupId: string, { topic, partition }: ExpiredOffset): CoordinatorRecord {
  return { key: encodeOffsetCommitKey(groupId, topic, partition), value: null };
}
