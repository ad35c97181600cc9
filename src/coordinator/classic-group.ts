// One classic consumer group: its members, the state machine of Kafka's classic rebalance protocol, the
// protocol vote, leader election and its committed offsets. Pure bookkeeping: the coordinator decides when
// transitions happen and owns every timer; this class enforces the invariants (legal transitions, static
// member mapping, counts of members awaiting a JoinGroup answer).
//
//   Empty ──join──> PreparingRebalance ──all joined / rebalance timeout──> CompletingRebalance
//     ^                 ^      │ (no members left)                               │ leader's SyncGroup
//     └─────────────────┼──────┘                                                 v
//                       └──── join, leave, session timeout (from both) ─────── Stable
//   Dead: reachable from every state (deleted, expired, partition unloaded); final.

import { parseSubscriptionTopics } from './consumer-protocol.js';
import { ErrorCode, GroupStateError } from './errors.js';
import { GroupOffsets } from './group-offsets.js';
import type { TimerHandle } from './scheduler.js';
import type {
  DescribedMember,
  JoinGroupMember,
  JoinGroupProtocol,
  JoinGroupResult,
  SyncGroupResult,
} from './types.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

const VALID_PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export type JoinCallback = (result: JoinGroupResult) => void;
export type SyncCallback = (result: SyncGroupResult) => void;

const EMPTY_BUFFER = Buffer.alloc(0);

export function joinError(memberId: string, errorCode: number): JoinGroupResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER };
}

export interface MemberInit {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: JoinGroupProtocol[];
  assignment?: Buffer;
}

export class ClassicGroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  supportedProtocols: JoinGroupProtocol[];
  assignment: Buffer;
  /** The parked JoinGroup of this member, answered when the join phase completes. */
  awaitingJoin: JoinCallback | null = null;
  /** The parked SyncGroup of this member, answered when the leader's assignment is stored. */
  awaitingSync: SyncCallback | null = null;
  /** Joined but not yet part of a generation: its session is bounded by the new-member join timeout. */
  isNew = false;
  /** Session (or new-member) expiry; owned by the coordinator. */
  heartbeatTimer: TimerHandle | null = null;

  constructor(init: MemberInit) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.supportedProtocols = init.protocols;
    this.assignment = init.assignment ?? EMPTY_BUFFER;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  metadata(protocolName: string): Buffer {
    const protocol = this.supportedProtocols.find((p) => p.name === protocolName);
    if (protocol === undefined) {
      throw new GroupStateError(`member ${this.memberId} does not support protocol ${protocolName}`);
    }
    return protocol.metadata;
  }

  /** Same protocols, same order, byte-identical metadata: a rejoin with this changes nothing. */
  matches(protocols: readonly JoinGroupProtocol[]): boolean {
    if (protocols.length !== this.supportedProtocols.length) return false;
    return protocols.every((p, i) => {
      const own = this.supportedProtocols[i]!;
      return p.name === own.name && p.metadata.equals(own.metadata);
    });
  }

  /** The member's most preferred protocol among those every member supports. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.supportedProtocols.find((p) => candidates.has(p.name));
    if (choice === undefined) {
      throw new GroupStateError(`member ${this.memberId} supports none of the candidate protocols`);
    }
    return choice.name;
  }
}

export class ClassicGroup {
  readonly groupId: string;
  /** The offsets-topic partition this group was created on or loaded from. */
  readonly partition: number;
  private currentState: GroupState;
  /** When the group entered its current state (KIP-211: retention of an Empty group counts from here). */
  currentStateTimestampMs: number;
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  private leaderId: string | null = null;
  readonly offsets = new GroupOffsets();

  private readonly members = new Map<string, ClassicGroupMember>();
  /** group.instance.id -> current member id. */
  private readonly staticMembers = new Map<string, string>();
  /** KIP-394 member ids handed out with MEMBER_ID_REQUIRED, not yet joined; value: expiry timer. */
  private readonly pendingMembers = new Map<string, TimerHandle | null>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  private readonly pendingSyncMembers = new Set<string>();
  private numMembersAwaitingJoin = 0;
  private readonly supportedProtocolCounts = new Map<string, number>();
  /** Topics the members subscribe to (consumer protocol only); null when unknown. */
  private subscribedTopics: ReadonlySet<string> | null = null;
  /** A member joined during the initial rebalance delay, which then extends once more. */
  newMemberAdded = false;

  /** Completion of the join phase (rebalance timeout or initial delay); owned by the coordinator. */
  joinTimer: TimerHandle | null = null;
  /** Whether joinTimer is the initial delay, which only completes when it fires. */
  joinTimerIsInitialDelay = false;
  /** Expiry of the sync phase; owned by the coordinator. */
  syncTimer: TimerHandle | null = null;

  constructor(groupId: string, partition: number, initialState: GroupState, nowMs: number) {
    this.groupId = groupId;
    this.partition = partition;
    this.currentState = initialState;
    this.currentStateTimestampMs = nowMs;
  }

  get state(): GroupState {
    return this.currentState;
  }

  is(state: GroupState): boolean {
    return this.currentState === state;
  }

  transitionTo(target: GroupState, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[target].includes(this.currentState)) {
      throw new GroupStateError(
        `group ${this.groupId} cannot move from ${this.currentState} to ${target} ` +
          `(allowed from ${VALID_PREVIOUS_STATES[target].join(', ')})`,
      );
    }
    this.currentState = target;
    this.currentStateTimestampMs = nowMs;
  }

  /** Kafka's canRebalance: the states PreparingRebalance may be entered from. */
  get canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.currentState);
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): ClassicGroupMember {
    const member = this.members.get(memberId);
    if (member === undefined) throw new GroupStateError(`group ${this.groupId} has no member ${memberId}`);
    return member;
  }

  get size(): number {
    return this.members.size;
  }

  /** Members in the order they were added (so the leader fallback is the longest-standing member). */
  allMembers(): ClassicGroupMember[] {
    return [...this.members.values()];
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  get leader(): string | null {
    return this.leaderId;
  }

  get isConsumerGroup(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE;
  }

  get numAwaitingJoin(): number {
    return this.numMembersAwaitingJoin;
  }

  /** The longest rebalance timeout of any member: how long a join phase may wait. */
  get rebalanceTimeoutMs(): number {
    let timeoutMs = 0;
    for (const member of this.members.values()) timeoutMs = Math.max(timeoutMs, member.rebalanceTimeoutMs);
    return timeoutMs;
  }

  add(member: ClassicGroupMember, callback: JoinCallback | null): void {
    if (this.members.has(member.memberId)) {
      throw new GroupStateError(`member ${member.memberId} is already in group ${this.groupId}`);
    }
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new GroupStateError(
          `static member ${member.groupInstanceId} is already in group ${this.groupId}; replace it instead`,
        );
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (
      this.protocolType !== member.protocolType ||
      !this.supportsProtocols(member.protocolType, member.supportedProtocols)
    ) {
      throw new GroupStateError(
        `member ${member.memberId} does not fit the protocols of group ${this.groupId}`,
      );
    }
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member.supportedProtocols, 1);
    member.awaitingJoin = callback;
    if (callback !== null) this.numMembersAwaitingJoin++;
    this.pendingMembers.delete(member.memberId);
  }

  /**
   * Removes a member. Its parked requests must have been answered (or are answered by the caller with the
   * returned member); the leader passes to the longest-standing remaining member.
   */
  remove(memberId: string): ClassicGroupMember | undefined {
    const member = this.members.get(memberId);
    if (member !== undefined) {
      this.members.delete(memberId);
      this.countProtocols(member.supportedProtocols, -1);
      if (member.isAwaitingJoin) this.numMembersAwaitingJoin--;
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      const first = this.members.keys().next();
      this.leaderId = first.done ? null : first.value;
    }
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  /**
   * Keeps the leader if it rejoined, otherwise makes any rejoined member leader. False when there is no
   * leader (empty group) or nobody rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    if (this.get(this.leaderId).isAwaitingJoin) return true;
    for (const member of this.members.values()) {
      if (member.isAwaitingJoin) {
        this.leaderId = member.memberId;
        return true;
      }
    }
    return false;
  }

  /**
   * Static membership: the same group.instance.id came back with a new member id. The member keeps its
   * place, protocols and assignment under the new id; requests parked under the old id are fenced.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicGroupMember {
    const member = this.members.get(oldMemberId);
    if (member === undefined || member.groupInstanceId !== groupInstanceId) {
      throw new GroupStateError(
        `group ${this.groupId} has no static member ${groupInstanceId} as ${oldMemberId}`,
      );
    }
    this.maybeInvokeJoinCallback(member, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    this.maybeInvokeSyncCallback(member, syncError(ErrorCode.FENCED_INSTANCE_ID));
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  currentStaticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  addPendingMember(memberId: string, expiryTimer: TimerHandle | null): void {
    if (this.members.has(memberId)) {
      throw new GroupStateError(`pending member ${memberId} is already a member of group ${this.groupId}`);
    }
    this.pendingMembers.set(memberId, expiryTimer);
  }

  /** Forgets a pending member; returns its expiry timer for the caller to cancel. */
  removePendingMember(memberId: string): TimerHandle | null {
    const timer = this.pendingMembers.get(memberId) ?? null;
    this.pendingMembers.delete(memberId);
    return timer;
  }

  pendingMemberTimers(): TimerHandle[] {
    return [...this.pendingMembers.values()].filter((t) => t !== null);
  }

  addPendingSyncMember(memberId: string): void {
    if (!this.members.has(memberId)) {
      throw new GroupStateError(
        `pending sync for ${memberId}, which is not a member of group ${this.groupId}`,
      );
    }
    this.pendingSyncMembers.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.delete(memberId);
  }

  get hasReceivedSyncFromAllMembers(): boolean {
    return this.pendingSyncMembers.size === 0;
  }

  allPendingSyncMembers(): string[] {
    return [...this.pendingSyncMembers];
  }

  clearPendingSyncMembers(): void {
    this.pendingSyncMembers.clear();
  }

  /** Members that have not sent JoinGroup in the current join phase. */
  notYetRejoinedMembers(): ClassicGroupMember[] {
    return this.allMembers().filter((m) => !m.isAwaitingJoin);
  }

  /** The join phase can complete early: every member rejoined and no KIP-394 member is still expected. */
  get hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingMembers.size === 0;
  }

  /**
   * Whether a member with these protocols may join: an Empty group takes any non-empty protocol type and
   * list; otherwise the type must match and one protocol must be supported by every current member.
   */
  supportsProtocols(memberProtocolType: string, memberProtocols: readonly JoinGroupProtocol[]): boolean {
    if (this.is('Empty')) return memberProtocolType !== '' && memberProtocols.length > 0;
    return (
      this.protocolType === memberProtocolType &&
      memberProtocols.some((p) => (this.supportedProtocolCounts.get(p.name) ?? 0) === this.members.size)
    );
  }

  /**
   * The protocol for the next generation: among the protocols every member supports, each member votes for
   * its most preferred one and the most votes win. Kafka leaves ties to hash order; here the leader's
   * preference decides, so the choice is deterministic.
   */
  selectProtocol(): string {
    if (this.members.size === 0)
      throw new GroupStateError(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = new Set<string>();
    for (const [name, count] of this.supportedProtocolCounts) {
      if (count === this.members.size) candidates.add(name);
    }
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const choice = member.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    const tieBreaker =
      (this.leaderId !== null ? this.members.get(this.leaderId) : undefined) ?? this.allMembers()[0]!;
    let best: string | undefined;
    let bestVotes = 0;
    for (const { name } of tieBreaker.supportedProtocols) {
      const count = votes.get(name) ?? 0;
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best!;
  }

  /**
   * Replaces a member's protocols and timeouts, and its parked JoinGroup. A JoinGroup parked earlier by the
   * same member is superseded: the client gave up on it (Kafka drops it; we answer it so nothing dangles).
   */
  updateMember(
    member: ClassicGroupMember,
    protocols: JoinGroupProtocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    callback: JoinCallback | null,
  ): void {
    this.countProtocols(member.supportedProtocols, -1);
    this.countProtocols(protocols, 1);
    member.supportedProtocols = protocols;
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    const superseded = member.awaitingJoin;
    if (callback !== null && superseded === null) this.numMembersAwaitingJoin++;
    else if (callback === null && superseded !== null) this.numMembersAwaitingJoin--;
    member.awaitingJoin = callback;
    if (superseded !== null && callback !== null)
      superseded(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
  }

  /** Parks a member's SyncGroup, answering an earlier parked one (superseded, see updateMember). */
  setAwaitingSync(member: ClassicGroupMember, callback: SyncCallback): void {
    const superseded = member.awaitingSync;
    member.awaitingSync = callback;
    superseded?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
  }

  maybeInvokeJoinCallback(member: ClassicGroupMember, result: JoinGroupResult): boolean {
    const callback = member.awaitingJoin;
    if (callback === null) return false;
    member.awaitingJoin = null;
    this.numMembersAwaitingJoin--;
    callback(result);
    return true;
  }

  maybeInvokeSyncCallback(member: ClassicGroupMember, result: SyncGroupResult): boolean {
    const callback = member.awaitingSync;
    if (callback === null) return false;
    member.awaitingSync = null;
    callback(result);
    return true;
  }

  /** Starts the next generation: CompletingRebalance with a selected protocol, or Empty without members. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', nowMs);
    }
    this.pendingSyncMembers.clear();
  }

  /** Restores the generation read from the offsets topic (load time only). */
  restoreGeneration(
    generationId: number,
    protocolType: string | null,
    protocolName: string | null,
    leaderId: string | null,
  ): void {
    this.generationId = generationId;
    this.protocolType = protocolType;
    this.protocolName = protocolName;
    if (leaderId !== null && this.members.has(leaderId)) this.leaderId = leaderId;
    this.subscribedTopics = this.computeSubscribedTopics();
  }

  /** What the leader needs to compute the assignment: each member's metadata for the selected protocol. */
  currentMemberMetadata(): JoinGroupMember[] {
    if (this.is('Dead') || this.is('PreparingRebalance') || this.protocolName === null) {
      throw new GroupStateError(`no member metadata for group ${this.groupId} in state ${this.currentState}`);
    }
    const protocolName = this.protocolName;
    return this.allMembers().map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(protocolName),
    }));
  }

  /**
   * Whether the group consumes the topic. Unknown subscriptions (metadata that does not parse) count as
   * subscribed, so offsets are kept rather than lost.
   */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null || this.subscribedTopics.has(topic);
  }

  get knownSubscribedTopics(): ReadonlySet<string> | null {
    return this.subscribedTopics;
  }

  describeMembers(): DescribedMember[] {
    const stableProtocol = this.is('Stable') ? this.protocolName : null;
    return this.allMembers().map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberMetadata: stableProtocol !== null ? m.metadata(stableProtocol) : EMPTY_BUFFER,
      memberAssignment: stableProtocol !== null ? m.assignment : EMPTY_BUFFER,
    }));
  }

  private computeSubscribedTopics(): ReadonlySet<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const member of this.members.values()) {
      const memberTopics = parseSubscriptionTopics(member.metadata(this.protocolName));
      if (memberTopics === null) return null;
      for (const topic of memberTopics) topics.add(topic);
    }
    return topics;
  }

  private countProtocols(protocols: readonly JoinGroupProtocol[], delta: 1 | -1): void {
    for (const { name } of protocols) {
      const count = (this.supportedProtocolCounts.get(name) ?? 0) + delta;
      if (count === 0) this.supportedProtocolCounts.delete(name);
      else this.supportedProtocolCounts.set(name, count);
    }
  }
}
