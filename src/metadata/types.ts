// The cluster metadata model and the store contract. Reads are synchronous (the request path looks topics up
// on every request) and served from memory; writes are asynchronous and durable before they resolve, so an
// etcd-backed store can implement the same interface.

export interface PartitionRecord {
  partition: number;
  /** Broker ids; the first is the preferred leader. */
  replicas: number[];
  /** Broker id of the leader, or -1 when there is none. */
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** Bumped on every change of the partition's record. */
  partitionEpoch: number;
}

export interface TopicRecord {
  name: string;
  /** Kafka UUID text: URL-safe base64 of 16 bytes without padding (22 characters). */
  topicId: string;
  /** Ordered by partition number, numbered 0..n-1. */
  partitions: PartitionRecord[];
  /** Topic config overrides only (the effective config adds broker settings and defaults). */
  configs: Record<string, string>;
  createdAtMs: number;
  internal: boolean;
}

/** Where clients of one listener reach a broker. */
export interface BrokerEndpoint {
  /** The listener's upper-cased name, as connections report it. */
  listener: string;
  host: string;
  port: number;
}

export interface BrokerRecord {
  nodeId: number;
  /** The first listener's address: what a client is told when its listener has no endpoint here. */
  host: string;
  port: number;
  rack: string | null;
  /** One per listener, in the order of `listeners`. Records stored before listeners had names lack it. */
  endpoints?: readonly BrokerEndpoint[];
}

/** Producer ids `firstProducerId..lastProducerId`, both inclusive, handed out to nobody else. */
export interface ProducerIdBlock {
  firstProducerId: number;
  lastProducerId: number;
}

export type NewTopic = Omit<TopicRecord, 'topicId' | 'createdAtMs'>;

/** What changed. Records in events are the new (frozen) state; `previous` is the state before. */
export type MetadataEvent =
  | { type: 'topic-created'; topic: TopicRecord }
  | { type: 'topic-deleted'; topic: TopicRecord }
  | { type: 'partitions-created'; topic: TopicRecord; added: readonly PartitionRecord[] }
  | { type: 'topic-configs-altered'; topic: TopicRecord; previous: TopicRecord }
  | { type: 'partition-updated'; topic: TopicRecord; partition: PartitionRecord; previous: PartitionRecord }
  | { type: 'broker-registered'; broker: BrokerRecord };

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/**
 * One user's SCRAM credential for one mechanism, as RFC 5802 has a server keep it (never the password).
 * Binary fields are base64 so that the record is plain JSON.
 */
export interface ScramCredentialRecord {
  user: string;
  mechanism: ScramMechanismName;
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

export interface ScramCredentialKey {
  user: string;
  mechanism: ScramMechanismName;
}

/** An ACL as stored: Kafka's wire codes (see src/broker/security/acl.ts). */
export interface AclRecord {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permission: number;
}

export interface MetadataStore {
  clusterId(): string;
  controllerId(): number;
  listTopics(): readonly TopicRecord[];
  getTopic(name: string): TopicRecord | undefined;
  getTopicById(topicId: string): TopicRecord | undefined;
  /** Rejects with TopicExistsError, InvalidTopicError, InvalidPartitionsError, InvalidReplicaAssignmentError. */
  createTopic(topic: NewTopic): Promise<TopicRecord>;
  /** Rejects with UnknownTopicError. */
  deleteTopic(name: string): Promise<TopicRecord>;
  /** `added` continues the numbering. Rejects with UnknownTopicError or InvalidPartitionsError. */
  createPartitions(name: string, added: PartitionRecord[]): Promise<TopicRecord>;
  /** Replaces the whole override set. Rejects with UnknownTopicError or InvalidConfigError. */
  alterTopicConfigs(name: string, configs: Record<string, string>): Promise<TopicRecord>;
  /** Rejects with UnknownTopicError, UnknownPartitionError or StaleEpochError (epochs never go back). */
  updatePartition(name: string, partition: PartitionRecord): Promise<void>;
  /** Adds or replaces the broker with the same node id. */
  registerBroker(broker: BrokerRecord): Promise<void>;
  listBrokers(): readonly BrokerRecord[];
  /**
   * Hands out `count` consecutive producer ids no earlier call returned, also before a restart: the block is
   * durable before the promise resolves. Throws RangeError for a count that is not a positive integer;
   * rejects with ProducerIdsExhaustedError, or MetadataUnavailableError when the store is closed or failed.
   */
  allocateProducerIds(count: number): Promise<ProducerIdBlock>;
  /** SCRAM credentials managed through AlterUserScramCredentials, sorted by user then mechanism. */
  listScramCredentials(): readonly ScramCredentialRecord[];
  getScramCredential(user: string, mechanism: ScramMechanismName): ScramCredentialRecord | undefined;
  /**
   * Removes `deletions` and adds or replaces `upserts` in one durable write. The caller has validated them
   * (Kafka's rules live in the AlterUserScramCredentials handler); deleting a missing credential is a no-op.
   */
  alterScramCredentials(
    upserts: readonly ScramCredentialRecord[],
    deletions: readonly ScramCredentialKey[],
  ): Promise<void>;
  /** Every ACL; a new frozen list after each change, so that callers can cache by identity. */
  listAcls(): readonly AclRecord[];
  /** Adds `added` (an ACL already present is kept once) and removes `removed`, in one durable write. */
  alterAcls(added: readonly AclRecord[], removed: readonly AclRecord[]): Promise<void>;
  /** Listeners run after the change is durable and visible to reads. Returns an unsubscribe function. */
  onChange(listener: (event: MetadataEvent) => void): () => void;
  /** Waits for queued writes, then rejects further writes. */
  close(): Promise<void>;
}
