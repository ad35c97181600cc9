// Partition assignors for the classic group protocol. The group leader runs the assignor the coordinator chose
// (the JoinGroup protocol name) over every member's subscription; names follow Java's (`partition.assignment.
// strategy`) so mixed groups with Java and librdkafka members agree on one, and kafkajs's round-robin is offered
// under kafkajs's own name, 'RoundRobinAssigner'.
//
// Member order follows Java's rule: members with a group instance id (static members) first, ordered by it,
// then the others by member id. Range and round-robin results therefore match Java's for the same input.

/** Partitions of each topic; partition lists are sorted ascending. */
export type TopicPartitionsMap = Map<string, number[]>;

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** What the leader knows of one member: its decoded ConsumerProtocolSubscription. */
export interface MemberSubscription {
  memberId: string;
  groupInstanceId: string | null;
  topics: string[];
  /** Partitions the member holds right now (subscription v1+; empty for eager members). */
  ownedPartitions: TopicPartitions[];
  /** Generation in which the member got ownedPartitions (subscription v2+), or -1. */
  generationId: number;
  userData: Buffer | null;
}

/**
 * `eager`: every member gives up all its partitions before joining. `cooperative` (KIP-429): members keep
 * their partitions through the rebalance; a partition that moves is first revoked by its owner and handed
 * over in a follow-up rebalance.
 */
export type RebalanceProtocol = 'eager' | 'cooperative';

export interface PartitionAssignor {
  /** The JoinGroup protocol name. */
  readonly name: string;
  readonly rebalanceProtocol: RebalanceProtocol;
  /**
   * Version of ConsumerProtocolSubscription this assignor's members advertise. kafkajs's assigner writes v0
   * with empty user data, so its alias does too and its metadata bytes equal kafkajs's.
   */
  readonly subscriptionVersion: number;
  /** Returns an entry for every member (possibly empty), partition lists sorted ascending. */
  assign(
    members: readonly MemberSubscription[],
    partitionCounts: ReadonlyMap<string, number>,
  ): Map<string, TopicPartitionsMap>;
}

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky' | 'RoundRobinAssigner';

function compareMembers(a: MemberSubscription, b: MemberSubscription): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) {
    return compareStrings(a.groupInstanceId, b.groupInstanceId);
  }
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function emptyAssignment(members: readonly MemberSubscription[]): Map<string, TopicPartitionsMap> {
  const result = new Map<string, TopicPartitionsMap>();
  for (const member of members) result.set(member.memberId, new Map());
  return result;
}

function addPartition(assignment: TopicPartitionsMap, topic: string, partition: number): void {
  const list = assignment.get(topic);
  if (list === undefined) assignment.set(topic, [partition]);
  else list.push(partition);
}

function sortAssignment(result: Map<string, TopicPartitionsMap>): Map<string, TopicPartitionsMap> {
  for (const assignment of result.values()) {
    for (const partitions of assignment.values()) partitions.sort((a, b) => a - b);
  }
  return result;
}

/** Every subscribed topic that exists, sorted by name. */
function subscribedTopics(
  members: readonly MemberSubscription[],
  partitionCounts: ReadonlyMap<string, number>,
): string[] {
  const topics = new Set<string>();
  for (const member of members) {
    for (const topic of member.topics) if (partitionCounts.has(topic)) topics.add(topic);
  }
  return [...topics].sort(compareStrings);
}

/**
 * Java's RangeAssignor: per topic, the subscribed members in order each take a contiguous range; the first
 * (partitions % members) members take one extra.
 */
export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  subscriptionVersion: 3,
  assign(members, partitionCounts) {
    const result = emptyAssignment(members);
    const sorted = [...members].sort(compareMembers);
    for (const topic of subscribedTopics(members, partitionCounts)) {
      const consumers = sorted.filter((member) => member.topics.includes(topic));
      const partitionCount = partitionCounts.get(topic)!;
      const perMember = Math.floor(partitionCount / consumers.length);
      const withExtra = partitionCount % consumers.length;
      let next = 0;
      consumers.forEach((member, index) => {
        const count = perMember + (index < withExtra ? 1 : 0);
        const assignment = result.get(member.memberId)!;
        for (let i = 0; i < count; i++) addPartition(assignment, topic, next++);
      });
    }
    return sortAssignment(result);
  },
};

function roundRobin(
  members: readonly MemberSubscription[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicPartitionsMap> {
  const result = emptyAssignment(members);
  const sorted = [...members].sort(compareMembers);
  if (sorted.length === 0) return result;
  // One cursor circles the members; a partition goes to the next member (from the cursor) subscribed to it.
  let cursor = 0;
  for (const topic of subscribedTopics(members, partitionCounts)) {
    const partitionCount = partitionCounts.get(topic)!;
    for (let partition = 0; partition < partitionCount; partition++) {
      for (let step = 0; step < sorted.length; step++) {
        const member = sorted[(cursor + step) % sorted.length]!;
        if (!member.topics.includes(topic)) continue;
        addPartition(result.get(member.memberId)!, topic, partition);
        cursor = (cursor + step + 1) % sorted.length;
        break;
      }
    }
  }
  return sortAssignment(result);
}

/** Java's RoundRobinAssigner: all topic-partitions in (topic, partition) order dealt out to members in turn. */
export const roundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  subscriptionVersion: 3,
  assign: roundRobin,
};

/**
 * The same round-robin under kafkajs's protocol name, so a group mixing this client and kafkajs consumers
 * (which only offer 'RoundRobinAssigner') has a protocol in common.
 */
export const kafkajsRoundRobinAssignor: PartitionAssignor = {
  name: 'RoundRobinAssigner',
  rebalanceProtocol: 'eager',
  subscriptionVersion: 0,
  assign: roundRobin,
};

interface PartitionSlot {
  topic: string;
  partition: number;
}

/**
 * KIP-429 cooperative sticky assignment: a balanced assignment that keeps as many owned partitions as possible
 * where they are; partitions that would change owner are left out of this round, so the owner revokes them
 * and rejoins, and the next round hands them to their new member.
 */
export const cooperativeStickyAssignor: PartitionAssignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  subscriptionVersion: 3,
  assign(members, partitionCounts) {
    const sorted = [...members].sort(compareMembers);
    const topics = subscribedTopics(members, partitionCounts);
    const slots: PartitionSlot[] = [];
    const slotIndex = new Map<string, number>();
    for (const topic of topics) {
      const count = partitionCounts.get(topic)!;
      for (let partition = 0; partition < count; partition++) {
        slotIndex.set(slotKey(topic, partition), slots.length);
        slots.push({ topic, partition });
      }
    }
    const subscribed = sorted.map((member) => new Set(member.topics));
    const eligible = (memberIndex: number, slot: number) => subscribed[memberIndex]!.has(slots[slot]!.topic);

    // Previous owner of each partition: the claim with the highest generation wins; ties go to member order.
    const owner = new Int32Array(slots.length).fill(-1);
    const ownerGeneration = new Int32Array(slots.length).fill(-2);
    sorted.forEach((member, memberIndex) => {
      for (const { topic, partitions } of member.ownedPartitions) {
        if (!subscribed[memberIndex]!.has(topic)) continue;
        for (const partition of partitions) {
          const slot = slotIndex.get(slotKey(topic, partition));
          if (slot === undefined || member.generationId <= ownerGeneration[slot]!) continue;
          owner[slot] = memberIndex;
          ownerGeneration[slot] = member.generationId;
        }
      }
    });

    const held: Set<number>[] = sorted.map(() => new Set<number>());
    for (let slot = 0; slot < slots.length; slot++) {
      if (owner[slot]! >= 0) held[owner[slot]!]!.add(slot);
    }
    for (let slot = 0; slot < slots.length; slot++) {
      if (owner[slot]! >= 0) continue;
      let best = -1;
      for (let m = 0; m < sorted.length; m++) {
        if (eligible(m, slot) && (best < 0 || held[m]!.size < held[best]!.size)) best = m;
      }
      if (best >= 0) held[best]!.add(slot);
    }
    const ownedBy = (memberIndex: number, slot: number) => owner[slot] === memberIndex;
    balance(held, eligible, ownedBy, slots.length * Math.max(1, sorted.length));

    const result = emptyAssignment(members);
    sorted.forEach((member, memberIndex) => {
      const assignment = result.get(member.memberId)!;
      for (const slot of held[memberIndex]!) {
        // Moving from a live owner: that owner revokes it first; it is assigned in the next rebalance.
        if (owner[slot]! >= 0 && owner[slot] !== memberIndex) continue;
        addPartition(assignment, slots[slot]!.topic, slots[slot]!.partition);
      }
    });
    return sortAssignment(result);
  },
};

function slotKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Moves partitions from the most to the least loaded members until no eligible move narrows a gap of more
 * than one. A donor gives away partitions it did not own before the rebalance first (moving those costs no
 * revocation), then its highest-numbered one, so the result is deterministic. `maxMoves` bounds the work.
 */
function balance(
  held: Set<number>[],
  eligible: (memberIndex: number, slot: number) => boolean,
  ownedBy: (memberIndex: number, slot: number) => boolean,
  maxMoves: number,
): void {
  const order = held.map((_, index) => index);
  for (let moves = 0; moves < maxMoves; moves++) {
    order.sort((a, b) => held[b]!.size - held[a]!.size || a - b);
    let moved = false;
    for (let i = 0; i < order.length && !moved; i++) {
      const donor = order[i]!;
      for (let j = order.length - 1; j > i && !moved; j--) {
        const receiver = order[j]!;
        if (held[donor]!.size - held[receiver]!.size <= 1) continue;
        let candidate = -1;
        let candidateOwned = true;
        for (const slot of held[donor]!) {
          if (!eligible(receiver, slot)) continue;
          const owned = ownedBy(donor, slot);
          if (candidate < 0 || (candidateOwned && !owned) || (owned === candidateOwned && slot > candidate)) {
            candidate = slot;
            candidateOwned = owned;
          }
        }
        if (candidate < 0) continue;
        held[donor]!.delete(candidate);
        held[receiver]!.add(candidate);
        moved = true;
      }
    }
    if (!moved) return;
  }
}

export const builtInAssignors: Readonly<Record<AssignorName, PartitionAssignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
  RoundRobinAssigner: kafkajsRoundRobinAssignor,
};

/**
 * The rebalance protocol a member must follow: cooperative only if every assignor it offers is (Java's rule),
 * since the coordinator may pick any of them and an eager assignor hands partitions over at once.
 */
export function rebalanceProtocolOf(assignors: readonly PartitionAssignor[]): RebalanceProtocol {
  return assignors.length > 0 && assignors.every((a) => a.rebalanceProtocol === 'cooperative')
    ? 'cooperative'
    : 'eager';
}

/** Flattens a topic map to the sorted list form used on the wire. */
export function toTopicPartitionsList(assignment: TopicPartitionsMap): TopicPartitions[] {
  return [...assignment.entries()]
    .filter(([, partitions]) => partitions.length > 0)
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
}
