// What the group requests carry in and what their responses need, independent of any API version.
// Fields a version does not have are filled by the handler with Kafka's defaults (noted per field).

export interface JoinGroupProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupRequest {
  groupId: string;
  /** '' for a member joining for the first time. */
  memberId: string;
  /** group.instance.id (v5+); null for dynamic members. */
  groupInstanceId: string | null;
  protocolType: string;
  /** In the member's order of preference. */
  protocols: JoinGroupProtocol[];
  sessionTimeoutMs: number;
  /** v1+; -1 (v0) means "same as sessionTimeoutMs". */
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  /** true for v4+ (KIP-394): a new dynamic member first gets MEMBER_ID_REQUIRED with its id. */
  requireKnownMemberId: boolean;
  /** true for v9+: a static leader rejoining a Stable group is told to skip the assignment. */
  supportSkippingAssignment?: boolean;
  /** v8+ (KIP-800), for logs only. */
  reason?: string | null;
}

export interface JoinGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinGroupResult {
  errorCode: number;
  /** -1 with an error. */
  generationId: number;
  /** Sent in v7+. */
  protocolType: string | null;
  /** null with an error; v0-v6 send '' for null. */
  protocolName: string | null;
  /** '' when there is none. */
  leader: string;
  /** v9+. */
  skipAssignment: boolean;
  memberId: string;
  /** Every member's metadata for the selected protocol, for the leader only; empty for followers. */
  members: JoinGroupMember[];
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** v3+. */
  groupInstanceId: string | null;
  /** v5+; null (or older versions) skips the check. */
  protocolType: string | null;
  /** v5+; null (or older versions) skips the check. */
  protocolName: string | null;
  /** The leader's assignment; followers send []. */
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface SyncGroupResult {
  errorCode: number;
  /** v5+. */
  protocolType: string | null;
  /** v5+. */
  protocolName: string | null;
  assignment: Buffer;
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** v3+. */
  groupInstanceId: string | null;
}

export interface LeavingMember {
  /** '' to remove a static member by groupInstanceId alone (admin removal, v3+). */
  memberId: string;
  groupInstanceId: string | null;
  reason?: string | null;
}

export interface LeaveGroupResult {
  /** v0-v2 answer this if it is not NONE, otherwise members[0].errorCode. */
  errorCode: number;
  /** One per leaving member, in request order (empty when errorCode is set). */
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: number;
  /** v6+; -1 when unknown. */
  leaderEpoch: number;
  /** null is stored as ''. */
  metadata: string | null;
  /** v1 only; -1 or absent means "now". */
  commitTimestampMs?: number;
}

export interface OffsetCommitRequest {
  groupId: string;
  /** -1 (v0, or a "simple" consumer without group management) skips membership checks on an empty group. */
  generationId: number;
  /** '' in v0. */
  memberId: string;
  /** v7+. */
  groupInstanceId: string | null;
  /** v2-v4; -1 or absent means broker retention (offsets.retention.minutes). */
  retentionTimeMs?: number;
  offsets: OffsetCommitEntry[];
  /** true for v9+: a commit to a group that does not exist gets GROUP_ID_NOT_FOUND, not ILLEGAL_GENERATION. */
  groupIdNotFoundIfMissing?: boolean;
}

export interface TxnOffsetCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  /** v3+; -1 before (no membership checks, as for an Empty group). */
  generationId: number;
  /** v3+; '' before. */
  memberId: string;
  /** v3+; null before. */
  groupInstanceId: string | null;
  /** leaderEpoch from v2 (-1 before); commitTimestampMs is not used (the commit time is now). */
  offsets: OffsetCommitEntry[];
}

export interface OffsetCommitPartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface OffsetFetchPartition {
  partition: number;
  /** -1 when nothing is committed. */
  offset: number;
  /** -1 when unknown. */
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  /** Top-level error (v2+); v0-v1 copy it into every partition. */
  errorCode: number;
  topics: { topic: string; partitions: OffsetFetchPartition[] }[];
}

export interface OffsetDeleteResult {
  errorCode: number;
  /** Empty when errorCode is set. */
  topics: { topic: string; partitions: { partition: number; errorCode: number }[] }[];
}

export interface ListGroupsFilter {
  /** v4+; case-insensitive state names, empty = all. */
  statesFilter?: string[];
  /** v5+; case-insensitive group types ('classic', 'consumer'), empty = all. */
  typesFilter?: string[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: 'classic';
}

export interface ListGroupsResult {
  errorCode: number;
  groups: ListedGroup[];
}

export interface DescribedMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Only filled for Stable groups (empty Buffer otherwise), as in Kafka. */
  memberMetadata: Buffer;
  /** Only filled for Stable groups (empty Buffer otherwise), as in Kafka. */
  memberAssignment: Buffer;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  /** 'Dead' for an unknown group; '' with an error. */
  groupState: string;
  protocolType: string;
  /** The selected protocol for Stable groups, '' otherwise. */
  protocolData: string;
  members: DescribedMember[];
}

export interface DeleteGroupResult {
  groupId: string;
  errorCode: number;
}
