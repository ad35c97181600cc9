// Cluster administration: topics, partitions, configs, groups and their offsets, transactions and the
// producers partitions keep state for, SCRAM users (KIP-554) and ACLs.
//
// Errors: a request that fails as a whole rejects with its typed error (ConnectionError, AuthorizationError...).
// When individual items fail (some topics of createTopics, some groups of deleteGroups), the call rejects with a
// KafkaAggregateError whose `errors` hold one typed error per failed item (with `topic` or `groupId` set); the
// items that succeeded are done, since Kafka applies each item on its own. Per-item NOT_CONTROLLER and
// coordinator errors are retried for the affected items only. The SCRAM user calls reject with the typed error
// itself when a single user failed (its message names the user), and with a KafkaAggregateError for several;
// the ACL calls do the same per binding or filter.

import { randomBytes } from 'node:crypto';
import { ErrorCode, errorInfo } from '../protocol/errors.js';
import {
  AlterUserScramCredentialsApi,
  type AlterUserScramCredentialsRequestScramCredentialDeletion,
  type AlterUserScramCredentialsRequestScramCredentialUpsertion,
  ConsumerProtocolAssignmentCodec,
  CreateAclsApi,
  type CreateAclsRequestAclCreation,
  CreatePartitionsApi,
  CreateTopicsApi,
  DeleteAclsApi,
  DeleteGroupsApi,
  DeleteRecordsApi,
  DeleteTopicsApi,
  DescribeAclsApi,
  type DescribeAclsRequest,
  DescribeClusterApi,
  DescribeConfigsApi,
  DescribeGroupsApi,
  DescribeProducersApi,
  type DescribeProducersResponseProducerState,
  DescribeTransactionsApi,
  DescribeUserScramCredentialsApi,
  type DescribeUserScramCredentialsResponseCredentialInfo,
  IncrementalAlterConfigsApi,
  ListGroupsApi,
  ListTransactionsApi,
  OffsetCommitApi,
  OffsetFetchApi,
} from '../protocol/generated/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { ZERO_UUID } from '../protocol/primitives/uuid.js';
import { type BrokerInfo, type ClientOptions, Cluster, partitionInfo, type TopicInfo } from './cluster.js';
import type { BrokerConnection } from './connection.js';
import type { TopicPartition } from './consumer/fetcher.js';
import {
  ConfigError,
  ConnectionError,
  CoordinatorError,
  errorFromCode,
  KafkaAggregateError,
  KafkaClientError,
  RebalanceError,
  StaleMetadataError,
  throwIfError,
  UnsupportedVersionError,
} from './errors.js';
import { groupBy } from './group-by.js';
import { listOffsets, partitionKey } from './list-offsets.js';
import { type ScramHash, scramSaltedPassword as saltedPassword } from './sasl.js';

export interface NewTopic {
  topic: string;
  /** Default: the broker's num.partitions. */
  numPartitions?: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Topic config overrides, e.g. { 'cleanup.policy': 'compact' }. */
  configs?: Record<string, string>;
}

export interface CreatedTopic {
  topic: string;
  /** The all-zero id when the broker's CreateTopics version does not report ids (below v7). */
  topicId: string;
  /** -1 when the broker's CreateTopics version does not report it (below v5). */
  numPartitions: number;
  replicationFactor: number;
}

export type TopicDescription = TopicInfo;

export type ConfigResourceType = 'topic' | 'broker' | 'broker-logger' | 'group';

export interface ConfigResource {
  type: ConfigResourceType;
  /** Topic name, broker id as a string, or group id. */
  name: string;
  /** Only these keys; default all. */
  keys?: string[];
}

export type ConfigSource =
  | 'unknown'
  | 'dynamic-topic'
  | 'dynamic-broker'
  | 'dynamic-default-broker'
  | 'static-broker'
  | 'default'
  | 'dynamic-broker-logger'
  | 'client-metrics'
  | 'group';

export interface ConfigEntry {
  name: string;
  /** null for sensitive values. */
  value: string | null;
  source: ConfigSource;
  isDefault: boolean;
  readOnly: boolean;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: ConfigSource }[];
  /** Kafka's type name (e.g. 'LONG'), 'UNKNOWN' below DescribeConfigs v3. */
  type: string;
  documentation: string | null;
}

export interface ResourceConfigs {
  type: ConfigResourceType;
  name: string;
  configs: ConfigEntry[];
}

export type ConfigOperation = 'set' | 'delete' | 'append' | 'subtract';

export interface ConfigChange {
  name: string;
  /** Required except for 'delete'; for append/subtract, the list elements (comma-separated). */
  value?: string | null;
  /** Default 'set'. */
  operation?: ConfigOperation;
}

export interface ConfigAlteration {
  type: ConfigResourceType;
  name: string;
  configs: ConfigChange[];
}

export interface ClusterDescription {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
}

export interface GroupListing {
  groupId: string;
  /** 'consumer' for consumer groups, '' for groups used only to commit offsets. */
  protocolType: string;
  /** Reported from ListGroups v4 (e.g. 'Stable', 'Empty'); undefined when the broker's version lacks it. */
  state?: string;
  /** Reported from ListGroups v5 ('classic' or 'consumer'); undefined when the broker's version lacks it. */
  type?: string;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded ConsumerProtocolAssignment; null when the group is not a consumer group or the bytes are not one. */
  assignment: TopicPartitions[] | null;
}

export interface GroupDescription {
  groupId: string;
  /** Kafka's state name: 'Empty', 'Stable', 'PreparingRebalance', 'CompletingRebalance' or 'Dead'. */
  state: string;
  protocolType: string;
  /** The chosen assignor (e.g. 'range') for consumer groups. */
  protocol: string;
  members: GroupMember[];
}

export interface GroupOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

export type OffsetResetTarget =
  | 'earliest'
  | 'latest'
  | { timestamp: number }
  | { offsets: { partition: number; offset: number }[] };

export interface ResetGroupOffsetsRequest {
  groupId: string;
  topic: string;
  to: OffsetResetTarget;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

export interface DeleteRecordsRequest {
  topic: string;
  /** `offset`: the new first offset of the partition; -1 deletes everything below the high watermark. */
  partitions: { partition: number; offset: number }[];
}

export interface PartitionLowWatermark {
  topic: string;
  partition: number;
  /** The partition's log start offset after the deletion. */
  lowWatermark: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number;
  /** ListOffsets latest (read_uncommitted). */
  highWatermark: number;
  /** highWatermark - committedOffset, never below 0. */
  lag: number;
}

/** Kafka's names for the states of a transactional id on its coordinator. */
export { TRANSACTION_STATES as TRANSACTION_STATE_NAMES } from '../protocol/transaction-states.js';

export interface ListTransactionsOptions {
  /** Only transactional ids in one of these states (Kafka's names, see TRANSACTION_STATE_NAMES). */
  states?: string[];
  /** Only transactional ids that these producer ids hold. */
  producerIds?: number[];
  /** Only transactions open for longer than this; needs ListTransactions v1 on every broker. */
  durationMs?: number;
}

export interface TransactionListing {
  transactionalId: string;
  producerId: number;
  /** Kafka's state name, e.g. 'Ongoing' or 'CompleteCommit'. */
  state: string;
  /** The broker coordinating the transactional id. */
  coordinatorId: number;
}

export interface TransactionDescription {
  transactionalId: string;
  /** The broker coordinating the transactional id. */
  coordinatorId: number;
  /** Kafka's state name, e.g. 'Ongoing' or 'CompleteCommit'. */
  state: string;
  producerId: number;
  producerEpoch: number;
  transactionTimeoutMs: number;
  /** When the current (or last) transaction began; null when the id has not begun one. */
  transactionStartTimeMs: number | null;
  /** The partitions in the open transaction (while it completes: those still without a marker), sorted. */
  topicPartitions: TopicPartition[];
}

export interface ActiveProducer {
  producerId: number;
  producerEpoch: number;
  /** Sequence number of the producer's last retained batch; -1 when none of the current epoch is kept. */
  lastSequence: number;
  /** Max timestamp of the producer's last batch (ms since the epoch); -1 when unknown. */
  lastTimestamp: number;
  /** The coordinator epoch of the producer's last transaction marker; null when it wrote none. */
  coordinatorEpoch: number | null;
  /** First offset of the producer's open transaction on the partition; null when none is open. */
  currentTransactionStartOffset: number | null;
}

export interface PartitionProducers {
  topic: string;
  partition: number;
  /** Producers the partition keeps state for, by producer id. */
  activeProducers: ActiveProducer[];
}

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** The iteration count of a new credential unless one is given: Kafka's default and minimum. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

/** Kafka's largest iteration count; more would also keep the client busy deriving for nothing. */
export const MAX_SCRAM_ITERATIONS = 16_384;

export interface ScramCredentialInfo {
  mechanism: ScramMechanism;
  iterations: number;
}

export interface UserScramCredentials {
  user: string;
  /** Sorted by mechanism. */
  credentials: ScramCredentialInfo[];
}

/** A user's credential for one mechanism, added or replaced. The password never leaves the client. */
export interface ScramCredentialUpsertion {
  user: string;
  mechanism: ScramMechanism;
  password: string;
  /** Default DEFAULT_SCRAM_ITERATIONS (4096); brokers accept 4096 to 16384. */
  iterations?: number;
}

export interface ScramCredentialDeletion {
  user: string;
  mechanism: ScramMechanism;
}

export interface ScramCredentialAlterations {
  upsertions?: ScramCredentialUpsertion[];
  deletions?: ScramCredentialDeletion[];
}

/** What an ACL protects. `cluster` has one resource, named CLUSTER_RESOURCE_NAME. */
export type AclResourceType =
  | 'topic'
  | 'group'
  | 'cluster'
  | 'transactional-id'
  | 'delegation-token'
  | 'user';
export type AclResourceTypeFilter = AclResourceType | 'any';

/** `literal`: the resource of exactly that name ('*' is every one); `prefixed`: every name starting with it. */
export type AclPatternType = 'literal' | 'prefixed';
/**
 * `any`: bindings of either pattern type for exactly the given name; `match`: every binding that applies to the
 * given name (its literal binding, the literal '*' and every prefixed binding that is a prefix of it).
 */
export type AclPatternTypeFilter = AclPatternType | 'any' | 'match';

export type AclOperation =
  | 'all'
  | 'read'
  | 'write'
  | 'create'
  | 'delete'
  | 'alter'
  | 'describe'
  | 'cluster-action'
  | 'describe-configs'
  | 'alter-configs'
  | 'idempotent-write'
  | 'create-tokens'
  | 'describe-tokens';
export type AclOperationFilter = AclOperation | 'any';

export type AclPermission = 'allow' | 'deny';
export type AclPermissionFilter = AclPermission | 'any';

/** The one resource name of the `cluster` resource type. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';

export const ACL_RESOURCE_TYPES: readonly AclResourceType[] = [
  'topic',
  'group',
  'cluster',
  'transactional-id',
  'delegation-token',
  'user',
];
export const ACL_PATTERN_TYPES: readonly AclPatternType[] = ['literal', 'prefixed'];
export const ACL_OPERATIONS: readonly AclOperation[] = [
  'all',
  'read',
  'write',
  'create',
  'delete',
  'alter',
  'describe',
  'cluster-action',
  'describe-configs',
  'alter-configs',
  'idempotent-write',
  'create-tokens',
  'describe-tokens',
];
export const ACL_PERMISSIONS: readonly AclPermission[] = ['allow', 'deny'];

/** One ACL: `principal` (e.g. 'User:alice', 'User:*') may, or may not, do `operation` on the resources. */
export interface AclBinding {
  resourceType: AclResourceType;
  resourceName: string;
  patternType: AclPatternType;
  principal: string;
  /** The client address it applies to; '*' for every host. */
  host: string;
  operation: AclOperation;
  permission: AclPermission;
}

/** An ACL to create; pattern type and host have defaults. */
export interface NewAclBinding extends Omit<AclBinding, 'patternType' | 'host'> {
  /** Default 'literal'. */
  patternType?: AclPatternType;
  /** Default '*' (every host). */
  host?: string;
}

/** Which ACLs to describe or delete; each field left out (or null) matches every value. */
export interface AclBindingFilter {
  resourceType?: AclResourceTypeFilter;
  resourceName?: string | null;
  /** Default 'any'. */
  patternType?: AclPatternTypeFilter;
  principal?: string | null;
  host?: string | null;
  operation?: AclOperationFilter;
  permission?: AclPermissionFilter;
}

/**
 * The broker runs without an authorizer (SECURITY_DISABLED): it keeps no ACLs to list, create or delete, and
 * checks none. Enabling one is broker configuration (authorizer.class.name). Not retriable.
 */
export class SecurityDisabledError extends KafkaClientError {
  override name = 'SecurityDisabledError';
  constructor(message = 'the broker has no authorizer, so ACLs are not enabled') {
    super({ code: ErrorCode.SECURITY_DISABLED, type: 'SECURITY_DISABLED', retriable: false, message });
  }
}

const RESOURCE_TYPE_CODES: Record<ConfigResourceType, number> = {
  topic: 2,
  broker: 4,
  'broker-logger': 8,
  group: 32,
};

const CONFIG_SOURCES: readonly ConfigSource[] = [
  'unknown',
  'dynamic-topic',
  'dynamic-broker',
  'dynamic-default-broker',
  'static-broker',
  'default',
  'dynamic-broker-logger',
  'client-metrics',
  'group',
];

const CONFIG_TYPES = [
  'UNKNOWN',
  'BOOLEAN',
  'STRING',
  'INT',
  'SHORT',
  'LONG',
  'DOUBLE',
  'LIST',
  'CLASS',
  'PASSWORD',
];

const CONFIG_OPERATION_CODES: Record<ConfigOperation, number> = { set: 0, delete: 1, append: 2, subtract: 3 };

/** Kafka's ScramMechanism type codes, as AlterUserScramCredentials and DescribeUserScramCredentials carry them. */
const SCRAM_MECHANISM_CODES: Record<ScramMechanism, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };
const SCRAM_HASHES: Record<ScramMechanism, ScramHash> = {
  'SCRAM-SHA-256': 'sha256',
  'SCRAM-SHA-512': 'sha512',
};
/** Kafka's Java admin salts each new credential with this many random bytes. */
const SCRAM_SALT_BYTES = 32;

/** Kafka's wire codes of the ACL enums (ResourceType, PatternType, AclOperation, AclPermissionType). */
const ACL_RESOURCE_TYPE_CODES: Record<AclResourceTypeFilter, number> = {
  any: 1,
  topic: 2,
  group: 3,
  cluster: 4,
  'transactional-id': 5,
  'delegation-token': 6,
  user: 7,
};
const ACL_PATTERN_TYPE_CODES: Record<AclPatternTypeFilter, number> = {
  any: 1,
  match: 2,
  literal: 3,
  prefixed: 4,
};
const ACL_OPERATION_CODES: Record<AclOperationFilter, number> = {
  any: 1,
  all: 2,
  read: 3,
  write: 4,
  create: 5,
  delete: 6,
  alter: 7,
  describe: 8,
  'cluster-action': 9,
  'describe-configs': 10,
  'alter-configs': 11,
  'idempotent-write': 12,
  'create-tokens': 13,
  'describe-tokens': 14,
};
const ACL_PERMISSION_CODES: Record<AclPermissionFilter, number> = { any: 1, deny: 2, allow: 3 };
/** Failures of an ACL request as a whole, which Create/DeleteAcls repeat in every result. */
const ACL_REQUEST_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.SECURITY_DISABLED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
]);
/** Create/Describe/DeleteAcls v0 have no pattern type field; brokers read LITERAL. */
const ACL_PATTERN_TYPE_MIN_VERSION = 1;

const NO_LEADER_EPOCH = -1;
/** OffsetFetch v0-1 cannot ask for all topics of a group. */
const OFFSET_FETCH_ALL_TOPICS_MIN_VERSION = 2;

/** Whose coordinator an item goes to: a group's or a transactional id's. */
type CoordinatorKind = 'group' | 'transaction';

/** A per-item outcome: the result, or the typed error the broker reported for that item. */
type Outcome<R> = { ok: true; value: R } | { ok: false; error: KafkaClientError };

function ok<R>(value: R): Outcome<R> {
  return { ok: true, value };
}

function failed<R>(error: KafkaClientError): Outcome<R> {
  return { ok: false, error };
}

/** Per-item errors worth another attempt: the controller or coordinator moved, or was unreachable. */
function isItemRetriable(error: KafkaClientError): boolean {
  return (
    error.retriable &&
    (error.code === ErrorCode.NOT_CONTROLLER ||
      error instanceof CoordinatorError ||
      error instanceof ConnectionError)
  );
}

function sourceName(code: number): ConfigSource {
  return CONFIG_SOURCES[code] ?? 'unknown';
}

/** Fails with UNKNOWN_TOPIC_OR_PARTITION (not retried) when an item names a partition `topic` lacks. */
function requirePartitions(topic: TopicInfo, items: readonly { partition: number }[]): void {
  for (const { partition } of items) {
    if (!topic.partitions.some((p) => p.partition === partition)) {
      throw new StaleMetadataError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `topic '${topic.name}' has no partition ${partition}`,
        { topic: topic.name, partition },
      );
    }
  }
}

/** Decodes a member's assignment: an int16 version, then a ConsumerProtocolAssignment of that version. */
export function decodeConsumerAssignment(bytes: Buffer): TopicPartitions[] | null {
  if (bytes.length === 0) return [];
  try {
    const reader = new Reader(bytes);
    const version = reader.readInt16();
    if (version < 0) return null;
    // Later versions keep the fields of earlier ones as a prefix, so read newer ones as the newest we know.
    const assignment = ConsumerProtocolAssignmentCodec.decode(
      reader,
      Math.min(version, ConsumerProtocolAssignmentCodec.maxVersion),
    );
    return assignment.assignedPartitions.map((tp) => ({ topic: tp.topic, partitions: tp.partitions }));
  } catch {
    return null;
  }
}

export class Admin {
  readonly cluster: Cluster;

  constructor(options: ClientOptions) {
    this.cluster = new Cluster(options);
  }

  connect(): Promise<void> {
    return this.cluster.connect();
  }

  close(): Promise<void> {
    return this.cluster.close();
  }

  /** Creates topics on the controller. Rejects with KafkaAggregateError (per-topic TopicError etc.) if any fail. */
  async createTopics(
    topics: NewTopic[],
    options: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<CreatedTopic[]> {
    const results = await this.forEachItem(
      'createTopics',
      topics,
      (t) => t.topic,
      async (pending) => {
        const connection = await this.cluster.controller();
        const response = await connection.send(CreateTopicsApi, {
          topics: pending.map((t) => ({
            name: t.topic,
            numPartitions: t.numPartitions ?? -1,
            replicationFactor: t.replicationFactor ?? -1,
            assignments: [],
            configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
          })),
          timeoutMs: options.timeoutMs ?? this.cluster.requestTimeoutMs,
          validateOnly: options.validateOnly ?? false,
        });
        const outcomes = new Map<string, Outcome<CreatedTopic>>();
        for (const t of response.topics) {
          outcomes.set(
            t.name,
            t.errorCode === ErrorCode.NONE
              ? ok({
                  topic: t.name,
                  topicId: t.topicId,
                  numPartitions: t.numPartitions,
                  replicationFactor: t.replicationFactor,
                })
              : failed(errorFromCode(t.errorCode, t.errorMessage ?? undefined, { topic: t.name })),
          );
        }
        return outcomes;
      },
    );
    return topics.map((t) => results.get(t.topic)!);
  }

  /** Deletes topics on the controller. Rejects with KafkaAggregateError if any fail (e.g. unknown topic). */
  async deleteTopics(topics: string[], options: { timeoutMs?: number } = {}): Promise<void> {
    await this.forEachItem(
      'deleteTopics',
      topics,
      (name) => name,
      async (pending) => {
        const connection = await this.cluster.controller();
        const version = connection.versionFor(DeleteTopicsApi);
        const response = await connection.send(
          DeleteTopicsApi,
          {
            // v6 names topics in a struct (which may carry an id instead); earlier versions by name only.
            topics: version >= 6 ? pending.map((name) => ({ name, topicId: ZERO_UUID })) : [],
            topicNames: version >= 6 ? [] : pending,
            timeoutMs: options.timeoutMs ?? this.cluster.requestTimeoutMs,
          },
          { version },
        );
        const outcomes = new Map<string, Outcome<true>>();
        for (const r of response.responses) {
          if (r.name === null) continue;
          outcomes.set(
            r.name,
            r.errorCode === ErrorCode.NONE
              ? ok(true)
              : failed(errorFromCode(r.errorCode, r.errorMessage ?? undefined, { topic: r.name })),
          );
        }
        return outcomes;
      },
    );
    for (const name of topics) this.cluster.metadata.topics.delete(name);
  }

  /** Topic names, sorted; internal topics (e.g. __consumer_offsets) only with includeInternal. */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const metadata = await this.cluster.retry(() => this.cluster.refreshMetadata(null));
    return [...metadata.topics.values()]
      .filter((t) => options.includeInternal || !t.isInternal)
      .map((t) => t.name)
      .sort();
  }

  /** Partitions with leader, replicas and ISR, in the order asked. Unknown topics fail (KafkaAggregateError). */
  async describeTopics(topics: string[]): Promise<TopicDescription[]> {
    await this.cluster.retry(() => this.cluster.refreshMetadata(topics));
    const errors: KafkaClientError[] = [];
    const described: TopicDescription[] = [];
    for (const name of topics) {
      try {
        described.push(await this.cluster.topic(name));
      } catch (error) {
        if (!(error instanceof KafkaClientError)) throw error;
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new KafkaAggregateError('describeTopics', errors);
    return described;
  }

  /** Raises topics' partition counts to `count` (the new total). */
  async createPartitions(
    requests: { topic: string; count: number }[],
    options: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    await this.forEachItem(
      'createPartitions',
      requests,
      (r) => r.topic,
      async (pending) => {
        const connection = await this.cluster.controller();
        const response = await connection.send(CreatePartitionsApi, {
          topics: pending.map((r) => ({ name: r.topic, count: r.count, assignments: null })),
          timeoutMs: options.timeoutMs ?? this.cluster.requestTimeoutMs,
          validateOnly: options.validateOnly ?? false,
        });
        const outcomes = new Map<string, Outcome<true>>();
        for (const r of response.results) {
          outcomes.set(
            r.name,
            r.errorCode === ErrorCode.NONE
              ? ok(true)
              : failed(errorFromCode(r.errorCode, r.errorMessage ?? undefined, { topic: r.name })),
          );
        }
        return outcomes;
      },
    );
    await this.cluster.refreshMetadata(requests.map((r) => r.topic)).catch(() => undefined);
  }

  /** Configs of topics and brokers. Broker resources are asked of that broker, the rest of any broker. */
  async describeConfigs(
    resources: ConfigResource[],
    options: { includeSynonyms?: boolean; includeDocumentation?: boolean } = {},
  ): Promise<ResourceConfigs[]> {
    const results = await this.forEachItem('describeConfigs', resources, resourceKey, async (pending) => {
      const outcomes = new Map<string, Outcome<ResourceConfigs>>();
      await Promise.all(
        groupBy(pending, (r) => (r.type === 'broker' && r.name !== '' ? `broker:${r.name}` : 'any')).map(
          async ([target, batch]) => {
            const connection =
              target === 'any'
                ? await this.cluster.anyConnection()
                : await this.cluster.connection(Number(batch[0]!.name));
            const response = await connection.send(DescribeConfigsApi, {
              resources: batch.map((r) => ({
                resourceType: RESOURCE_TYPE_CODES[r.type],
                resourceName: r.name,
                configurationKeys: r.keys ?? null,
              })),
              includeSynonyms: options.includeSynonyms ?? false,
              includeDocumentation: options.includeDocumentation ?? false,
            });
            for (const [index, result] of response.results.entries()) {
              const asked = matchResource(batch, result, index);
              if (asked === undefined) continue;
              outcomes.set(
                resourceKey(asked),
                result.errorCode === ErrorCode.NONE
                  ? ok({
                      type: asked.type,
                      name: asked.name,
                      configs: result.configs.map((c) => ({
                        name: c.name,
                        value: c.value,
                        // v0 has no source, only whether the value is the default.
                        source:
                          c.configSource < 0
                            ? c.isDefault
                              ? 'default'
                              : 'unknown'
                            : sourceName(c.configSource),
                        isDefault: c.configSource < 0 ? c.isDefault : c.configSource === 5,
                        readOnly: c.readOnly,
                        isSensitive: c.isSensitive,
                        synonyms: c.synonyms.map((s) => ({
                          name: s.name,
                          value: s.value,
                          source: sourceName(s.source),
                        })),
                        type: CONFIG_TYPES[c.configType] ?? 'UNKNOWN',
                        documentation: c.documentation,
                      })),
                    })
                  : failed(
                      errorFromCode(result.errorCode, result.errorMessage ?? undefined, {
                        ...(asked.type === 'topic' ? { topic: asked.name } : {}),
                      }),
                    ),
              );
            }
          },
        ),
      );
      return outcomes;
    });
    return resources.map((r) => results.get(resourceKey(r))!);
  }

  /**
   * Incremental config changes (IncrementalAlterConfigs): each key is set, deleted (back to the default),
   * appended to or subtracted from (list configs). Broker resources go to that broker, the rest to the
   * controller.
   */
  async alterConfigs(resources: ConfigAlteration[], options: { validateOnly?: boolean } = {}): Promise<void> {
    for (const resource of resources) {
      for (const change of resource.configs) {
        const operation = change.operation ?? 'set';
        if (operation !== 'delete' && (change.value === undefined || change.value === null)) {
          throw new ConfigError(
            ErrorCode.INVALID_CONFIG,
            `config '${change.name}' needs a value for '${operation}'`,
            {
              ...(resource.type === 'topic' ? { topic: resource.name } : {}),
            },
          );
        }
      }
    }
    await this.forEachItem('alterConfigs', resources, resourceKey, async (pending) => {
      const outcomes = new Map<string, Outcome<true>>();
      await Promise.all(
        groupBy(pending, (r) =>
          r.type === 'broker' && r.name !== '' ? `broker:${r.name}` : 'controller',
        ).map(async ([target, batch]) => {
          const connection =
            target === 'controller'
              ? await this.cluster.controller()
              : await this.cluster.connection(Number(batch[0]!.name));
          const response = await connection.send(IncrementalAlterConfigsApi, {
            resources: batch.map((r) => ({
              resourceType: RESOURCE_TYPE_CODES[r.type],
              resourceName: r.name,
              configs: r.configs.map((c) => ({
                name: c.name,
                configOperation: CONFIG_OPERATION_CODES[c.operation ?? 'set'],
                value: c.value ?? null,
              })),
            })),
            validateOnly: options.validateOnly ?? false,
          });
          for (const [index, result] of response.responses.entries()) {
            const asked = matchResource(batch, result, index);
            if (asked === undefined) continue;
            outcomes.set(
              resourceKey(asked),
              result.errorCode === ErrorCode.NONE
                ? ok(true)
                : failed(
                    errorFromCode(result.errorCode, result.errorMessage ?? undefined, {
                      ...(asked.type === 'topic' ? { topic: asked.name } : {}),
                    }),
                  ),
            );
          }
        }),
      );
      return outcomes;
    });
  }

  /** Cluster id, controller and brokers (DescribeCluster where supported, else Metadata). */
  async describeCluster(): Promise<ClusterDescription> {
    return this.cluster.retry(async () => {
      const connection = await this.cluster.anyConnection();
      if (!connection.apiVersions.has(DescribeClusterApi.key)) {
        const metadata = await this.cluster.refreshMetadata([]);
        return {
          clusterId: metadata.clusterId,
          controllerId: metadata.controllerId,
          brokers: [...metadata.brokers.values()].sort((a, b) => a.nodeId - b.nodeId),
        };
      }
      const response = await connection.send(DescribeClusterApi, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
      });
      if (response.errorCode !== ErrorCode.NONE) {
        throw errorFromCode(response.errorCode, response.errorMessage ?? undefined);
      }
      return {
        clusterId: response.clusterId,
        controllerId: response.controllerId,
        brokers: response.brokers
          .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
          .sort((a, b) => a.nodeId - b.nodeId),
      };
    });
  }

  /** Groups of every broker (each coordinator knows only its own), sorted by id. */
  async listGroups(options: { states?: string[]; types?: string[] } = {}): Promise<GroupListing[]> {
    const metadata = await this.cluster.retry(() => this.cluster.refreshMetadata([]));
    const perBroker = await Promise.all(
      [...metadata.brokers.keys()].map((nodeId) =>
        this.cluster.retry(async () => {
          const connection = await this.cluster.connection(nodeId);
          const version = connection.versionFor(ListGroupsApi);
          const response = await connection.send(
            ListGroupsApi,
            { statesFilter: options.states ?? [], typesFilter: options.types ?? [] },
            { version },
          );
          if (response.errorCode !== ErrorCode.NONE) throw errorFromCode(response.errorCode);
          return response.groups.map((g) => {
            const listing: GroupListing = { groupId: g.groupId, protocolType: g.protocolType };
            if (version >= 4) listing.state = g.groupState;
            if (version >= 5) listing.type = g.groupType;
            return listing;
          });
        }),
      ),
    );
    const matches = (value: string | undefined, wanted: string[] | undefined) =>
      wanted === undefined ||
      wanted.length === 0 ||
      value === undefined ||
      wanted.some((w) => w.toLowerCase() === value.toLowerCase());
    const byId = new Map<string, GroupListing>();
    for (const listing of perBroker.flat()) {
      if (matches(listing.state, options.states) && matches(listing.type, options.types))
        byId.set(listing.groupId, listing);
    }
    return [...byId.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /** State, protocol and members (with decoded assignments) of each group, asked of its coordinator. */
  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    const results = await this.forEachItem(
      'describeGroups',
      groupIds,
      (id) => id,
      (pending) =>
        this.perCoordinator('group', pending, async (connection, batch) => {
          const response = await connection.send(DescribeGroupsApi, {
            groups: batch,
            includeAuthorizedOperations: false,
          });
          const outcomes = new Map<string, Outcome<GroupDescription>>();
          for (const g of response.groups) {
            if (g.errorCode !== ErrorCode.NONE) {
              outcomes.set(g.groupId, failed(errorFromCode(g.errorCode, undefined, { groupId: g.groupId })));
              continue;
            }
            const isConsumer = g.protocolType === 'consumer';
            outcomes.set(
              g.groupId,
              ok({
                groupId: g.groupId,
                state: g.groupState,
                protocolType: g.protocolType,
                protocol: g.protocolData,
                members: g.members.map((m) => ({
                  memberId: m.memberId,
                  groupInstanceId: m.groupInstanceId,
                  clientId: m.clientId,
                  clientHost: m.clientHost,
                  assignment: isConsumer ? decodeConsumerAssignment(m.memberAssignment) : null,
                })),
              }),
            );
          }
          return outcomes;
        }),
    );
    return groupIds.map((id) => results.get(id)!);
  }

  /** Deletes groups (they must be empty: NON_EMPTY_GROUP otherwise) with their committed offsets. */
  async deleteGroups(groupIds: string[]): Promise<void> {
    await this.forEachItem(
      'deleteGroups',
      groupIds,
      (id) => id,
      (pending) =>
        this.perCoordinator('group', pending, async (connection, batch) => {
          const response = await connection.send(DeleteGroupsApi, { groupsNames: batch });
          const outcomes = new Map<string, Outcome<true>>();
          for (const r of response.results) {
            outcomes.set(
              r.groupId,
              r.errorCode === ErrorCode.NONE
                ? ok(true)
                : failed(errorFromCode(r.errorCode, undefined, { groupId: r.groupId })),
            );
          }
          return outcomes;
        }),
    );
  }

  /** Committed offsets of a group (partitions without a commit are left out), sorted by topic and partition. */
  async listGroupOffsets(groupId: string, options: { topics?: string[] } = {}): Promise<GroupOffset[]> {
    const offsets = await this.cluster.retry(async () => {
      const connection = await this.cluster.coordinator(groupId);
      const version = connection.versionFor({
        ...OffsetFetchApi,
        minVersion: OFFSET_FETCH_ALL_TOPICS_MIN_VERSION,
      });
      const response = await connection.send(
        OffsetFetchApi,
        {
          groupId,
          topics: null,
          groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }],
          requireStable: false,
        },
        { version },
      );
      // v8+ answers per group (batched OffsetFetch); earlier versions at the top level.
      const answer = version >= 8 ? response.groups.find((g) => g.groupId === groupId) : response;
      if (answer === undefined) {
        throw new CoordinatorError(
          ErrorCode.COORDINATOR_NOT_AVAILABLE,
          'OffsetFetch did not answer for the group',
          {
            groupId,
          },
        );
      }
      if (answer.errorCode !== ErrorCode.NONE) throw errorFromCode(answer.errorCode, undefined, { groupId });
      const result: GroupOffset[] = [];
      for (const topic of answer.topics) {
        for (const p of topic.partitions) {
          if (p.errorCode !== ErrorCode.NONE) {
            throw errorFromCode(p.errorCode, undefined, {
              groupId,
              topic: topic.name,
              partition: p.partitionIndex,
            });
          }
          if (p.committedOffset < 0n) continue;
          result.push({
            topic: topic.name,
            partition: p.partitionIndex,
            offset: Number(p.committedOffset),
            metadata: p.metadata,
          });
        }
      }
      return result;
    });
    const wanted = options.topics === undefined ? null : new Set(options.topics);
    return offsets
      .filter((o) => wanted === null || wanted.has(o.topic))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /**
   * Moves a group's committed offsets for one topic (every partition, or those listed in `to.offsets`). The
   * commit is made outside any generation, which Kafka accepts only while the group is Empty: with live members
   * this rejects with a RebalanceError that says so. Returns the offsets committed.
   */
  async resetGroupOffsets(request: ResetGroupOffsetsRequest): Promise<TopicPartitionOffset[]> {
    const { groupId, topic, to } = request;
    await this.cluster.retry(() => this.cluster.refreshMetadata([topic]));
    const info = await this.cluster.topic(topic);
    const partitions = info.partitions.map((p) => p.partition);
    let targets: Map<number, bigint>;
    if (typeof to === 'object' && 'offsets' in to) {
      targets = new Map();
      requirePartitions(info, to.offsets);
      for (const { partition, offset } of to.offsets) targets.set(partition, BigInt(offset));
    } else {
      // A timestamp after the last record positions at the end, as Kafka's tools do.
      const found = await listOffsets(
        this.cluster,
        partitions.map((partition) => ({ topic, partition, spec: to })),
        'read_uncommitted',
      );
      targets = new Map(
        partitions.map((partition) => [partition, BigInt(found.get(partitionKey(topic, partition)) ?? -1)]),
      );
    }
    const sorted = [...targets].sort(([a], [b]) => a - b);
    await this.cluster.retry(async () => {
      const connection = await this.cluster.coordinator(groupId);
      const response = await connection.send(OffsetCommitApi, {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          {
            name: topic,
            partitions: sorted.map(([partition, offset]) => ({
              partitionIndex: partition,
              committedOffset: offset,
              committedLeaderEpoch: NO_LEADER_EPOCH,
              commitTimestamp: -1n,
              committedMetadata: '',
            })),
          },
        ],
      });
      const errors: KafkaClientError[] = [];
      for (const t of response.topics) {
        for (const p of t.partitions) {
          if (p.errorCode === ErrorCode.NONE) continue;
          const error = errorFromCode(p.errorCode, undefined, {
            groupId,
            topic: t.name,
            partition: p.partitionIndex,
          });
          if (error instanceof CoordinatorError) throw error;
          if (error instanceof RebalanceError) {
            throw new RebalanceError(
              p.errorCode,
              `cannot reset offsets of group '${groupId}': the broker accepts offsets committed outside a generation ` +
                `only while the group is Empty, and it answered ${error.type}; stop the group's consumers first`,
              { groupId, topic: t.name },
            );
          }
          errors.push(error);
        }
      }
      if (errors.length > 0) throw new KafkaAggregateError('resetGroupOffsets', errors);
    });
    return sorted.map(([partition, offset]) => ({ topic, partition, offset: Number(offset) }));
  }

  /**
   * Deletes the records of partitions below the given offsets (Kafka's DeleteRecords), asking each partition's
   * leader. Offsets below a partition's current start change nothing. Rejects with KafkaAggregateError when
   * some partitions fail (an offset past the high watermark, a compacted topic); the others are done.
   */
  async deleteRecords(
    request: DeleteRecordsRequest,
    options: { timeoutMs?: number } = {},
  ): Promise<PartitionLowWatermark[]> {
    const { topic } = request;
    await this.cluster.retry(() => this.cluster.refreshMetadata([topic]));
    requirePartitions(await this.cluster.topic(topic), request.partitions);
    return this.cluster.retry(async () => {
      const lowWatermarks = new Map<number, number>();
      const errors: KafkaClientError[] = [];
      await this.perLeader(
        topic,
        request.partitions,
        ({ partition }) => partition,
        async (connection, partitions) => {
          const response = await connection.send(DeleteRecordsApi, {
            topics: [
              {
                name: topic,
                partitions: partitions.map(({ partition, offset }) => ({
                  partitionIndex: partition,
                  offset: BigInt(offset),
                })),
              },
            ],
            timeoutMs: options.timeoutMs ?? this.cluster.requestTimeoutMs,
          });
          for (const t of response.topics) {
            for (const p of t.partitions) {
              if (p.errorCode === ErrorCode.NONE) lowWatermarks.set(p.partitionIndex, Number(p.lowWatermark));
              else errors.push(errorFromCode(p.errorCode, undefined, { topic, partition: p.partitionIndex }));
            }
          }
        },
      );
      // A moved leader is repaired by the retry; deleting again up to the same offsets changes nothing.
      const retriable = errors.find((e) => e.retriable);
      if (retriable !== undefined) throw retriable;
      if (errors.length > 0) throw new KafkaAggregateError('deleteRecords', errors);
      return request.partitions.map(({ partition }) => ({
        topic,
        partition,
        lowWatermark: lowWatermarks.get(partition) ?? -1,
      }));
    });
  }

  /** Per partition with a committed offset: committed offset, high watermark and their difference. */
  async lag(groupId: string): Promise<PartitionLag[]> {
    const committed = await this.listGroupOffsets(groupId);
    const byTopic = groupBy(committed, (o) => o.topic);
    const lags: PartitionLag[] = [];
    for (const [topic, offsets] of byTopic) {
      const highWatermarks = await listOffsets(
        this.cluster,
        offsets.map(({ partition }) => ({ topic, partition, spec: 'latest' as const })),
        'read_uncommitted',
      );
      for (const o of offsets) {
        const highWatermark = highWatermarks.get(partitionKey(topic, o.partition)) ?? -1;
        lags.push({
          topic,
          partition: o.partition,
          committedOffset: o.offset,
          highWatermark,
          lag: Math.max(0, highWatermark - o.offset),
        });
      }
    }
    return lags;
  }

  /**
   * Transactional ids of every broker (each transaction coordinator knows only its own), sorted by id. States
   * the brokers do not know match nothing, as in Kafka.
   */
  async listTransactions(options: ListTransactionsOptions = {}): Promise<TransactionListing[]> {
    const metadata = await this.cluster.retry(() => this.cluster.refreshMetadata([]));
    const durationMs = options.durationMs ?? -1;
    const perBroker = await Promise.all(
      [...metadata.brokers.keys()].map((nodeId) =>
        this.cluster.retry(async () => {
          const connection = await this.cluster.connection(nodeId);
          // Only v1 filters by duration: asking v0 would silently list every transaction.
          const version = connection.versionFor(
            durationMs >= 0 ? { ...ListTransactionsApi, minVersion: 1 } : ListTransactionsApi,
          );
          const response = await connection.send(
            ListTransactionsApi,
            {
              stateFilters: options.states ?? [],
              producerIdFilters: (options.producerIds ?? []).map(BigInt),
              durationFilter: BigInt(durationMs),
            },
            { version },
          );
          if (response.errorCode !== ErrorCode.NONE) throw errorFromCode(response.errorCode);
          return response.transactionStates.map(
            (t): TransactionListing => ({
              transactionalId: t.transactionalId,
              producerId: Number(t.producerId),
              state: t.transactionState,
              coordinatorId: nodeId,
            }),
          );
        }),
      ),
    );
    return perBroker
      .flat()
      .sort((a, b) =>
        a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0,
      );
  }

  /**
   * State, producer, timeout, start time and partitions of each transactional id, asked of its transaction
   * coordinator. Rejects with KafkaAggregateError when some ids fail (TRANSACTIONAL_ID_NOT_FOUND for an id no
   * producer has initialized); each error's message names its transactional id.
   */
  async describeTransactions(transactionalIds: string[]): Promise<TransactionDescription[]> {
    const results = await this.forEachItem(
      'describeTransactions',
      transactionalIds,
      (id) => id,
      (pending) =>
        this.perCoordinator('transaction', pending, async (connection, batch) => {
          const response = await connection.send(DescribeTransactionsApi, { transactionalIds: batch });
          const outcomes = new Map<string, Outcome<TransactionDescription>>();
          for (const t of response.transactionStates) {
            if (t.errorCode !== ErrorCode.NONE) {
              outcomes.set(t.transactionalId, failed(transactionalIdError(t.errorCode, t.transactionalId)));
              continue;
            }
            outcomes.set(
              t.transactionalId,
              ok({
                transactionalId: t.transactionalId,
                coordinatorId: connection.nodeId,
                state: t.transactionState,
                producerId: Number(t.producerId),
                producerEpoch: t.producerEpoch,
                transactionTimeoutMs: t.transactionTimeoutMs,
                transactionStartTimeMs:
                  t.transactionStartTimeMs < 0n ? null : Number(t.transactionStartTimeMs),
                topicPartitions: t.topics
                  .flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })))
                  .sort(byTopicPartition),
              }),
            );
          }
          return outcomes;
        }),
    );
    return transactionalIds.map((id) => results.get(id)!);
  }

  /**
   * The producers each partition keeps state for (Kafka's DescribeProducers), asked of the partition's leader;
   * results in the order asked. Rejects with KafkaAggregateError when some partitions fail (unknown topic or
   * partition), naming each.
   */
  async describeProducers(partitions: TopicPartition[]): Promise<PartitionProducers[]> {
    if (partitions.length === 0) return [];
    const topics = [...new Set(partitions.map((p) => p.topic))];
    await this.cluster.retry(() => this.cluster.refreshMetadata(topics));
    const errors: KafkaClientError[] = [];
    const known: TopicPartition[] = [];
    for (const [topic, items] of groupBy(partitions, (p) => p.topic)) {
      try {
        requirePartitions(await this.cluster.topic(topic), items);
        known.push(...items);
      } catch (error) {
        if (!(error instanceof KafkaClientError)) throw error;
        errors.push(error);
      }
    }
    const producers = await this.cluster.retry(async () => {
      const found = new Map<string, ActiveProducer[]>();
      const refused: KafkaClientError[] = [];
      await Promise.all(
        groupBy(known, (p) => p.topic).map(([topic, items]) =>
          this.perLeader(
            topic,
            items,
            ({ partition }) => partition,
            async (connection, batch) => {
              const response = await connection.send(DescribeProducersApi, {
                topics: [{ name: topic, partitionIndexes: [...new Set(batch.map((p) => p.partition))] }],
              });
              for (const t of response.topics) {
                for (const p of t.partitions) {
                  if (p.errorCode === ErrorCode.NONE) {
                    found.set(partitionKey(t.name, p.partitionIndex), p.activeProducers.map(activeProducer));
                  } else {
                    refused.push(
                      errorFromCode(p.errorCode, p.errorMessage ?? undefined, {
                        topic: t.name,
                        partition: p.partitionIndex,
                      }),
                    );
                  }
                }
              }
            },
          ),
        ),
      );
      // A moved leader is repaired by the retry, which asks every partition again.
      const retriable = refused.find((e) => e.retriable);
      if (retriable !== undefined) throw retriable;
      errors.push(...refused);
      return found;
    });
    if (errors.length > 0) throw new KafkaAggregateError('describeProducers', errors);
    return partitions.map(({ topic, partition }) => ({
      topic,
      partition,
      activeProducers: producers.get(partitionKey(topic, partition)) ?? [],
    }));
  }

  /**
   * The SCRAM credentials (mechanism and iteration count, never secrets) of the named users, or of every user
   * when none are named, sorted by user. A failed user rejects with its typed error, whose message names the
   * user (ConfigError: RESOURCE_NOT_FOUND for a user without credentials, DUPLICATE_RESOURCE for a user named
   * twice); several failed users reject with a KafkaAggregateError holding one error each.
   */
  async describeUserScramCredentials(users: string[] = []): Promise<UserScramCredentials[]> {
    const describe = async (names: string[] | null) => {
      const connection = await this.cluster.anyConnection();
      const response = await connection.send(DescribeUserScramCredentialsApi, {
        users: names === null ? null : names.map((name) => ({ name })),
      });
      throwIfError(response.errorCode, response.errorMessage);
      const outcomes = new Map<string, Outcome<UserScramCredentials>>();
      for (const r of response.results) {
        outcomes.set(
          r.user,
          r.errorCode === ErrorCode.NONE
            ? ok({ user: r.user, credentials: scramCredentialInfos(r.credentialInfos) })
            : failed(userError(r.user, r.errorCode, r.errorMessage)),
        );
      }
      return outcomes;
    };
    let described: Map<string, UserScramCredentials>;
    if (users.length === 0) {
      const outcomes = await this.cluster.retry(() => describe(null));
      described = new Map();
      const errors: KafkaClientError[] = [];
      for (const [user, outcome] of outcomes) {
        if (outcome.ok) described.set(user, outcome.value);
        else errors.push(outcome.error);
      }
      if (errors.length > 0) throw oneOrAggregate('describeUserScramCredentials', errors);
    } else {
      described = await this.forEachItem(
        'describeUserScramCredentials',
        users,
        (user) => user,
        describe,
      ).catch((error: unknown) => {
        throw oneOrAggregate('describeUserScramCredentials', perItemErrors(error));
      });
    }
    return [...described.values()].sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  }

  /**
   * Adds, replaces and deletes SCRAM credentials. As Kafka's Java admin does, the client salts each new
   * credential (32 random bytes) and sends only the salted password. Each user's changes are applied or
   * refused together, independently of other users'. A failed user rejects with its typed error, whose message
   * names the user and carries the broker's (UNACCEPTABLE_CREDENTIAL for a user of the broker's sasl.users or
   * an iteration count out of range, RESOURCE_NOT_FOUND for deleting a credential that does not exist,
   * DUPLICATE_RESOURCE for a mechanism changed twice); several failed users reject with a KafkaAggregateError.
   */
  async alterUserScramCredentials(alterations: ScramCredentialAlterations): Promise<void> {
    const upsertions = alterations.upsertions ?? [];
    const deletions = alterations.deletions ?? [];
    const users = [...new Set([...upsertions, ...deletions].map((change) => change.user))];
    if (users.length === 0) return;
    // Salted once, so that a retry sends the same credentials.
    const prepared = await Promise.all(
      users.map(async (user): Promise<[string, Outcome<UserScramChanges>]> => {
        try {
          return [
            user,
            ok({
              deletions: deletions
                .filter((d) => d.user === user)
                .map((d) => ({ name: user, mechanism: scramMechanismCode(user, d.mechanism) })),
              upsertions: await Promise.all(upsertions.filter((u) => u.user === user).map(saltedUpsertion)),
            }),
          ];
        } catch (error) {
          if (!(error instanceof KafkaClientError)) throw error;
          return [user, failed(error)];
        }
      }),
    );
    const errors: KafkaClientError[] = [];
    const changes = new Map<string, UserScramChanges>();
    for (const [user, outcome] of prepared) {
      if (outcome.ok) changes.set(user, outcome.value);
      else errors.push(outcome.error);
    }
    if (changes.size > 0) {
      await this.forEachItem(
        'alterUserScramCredentials',
        [...changes.keys()],
        (user) => user,
        async (pending) => {
          const connection = await this.cluster.anyConnection();
          const mine = pending.map((user) => changes.get(user)!);
          const response = await connection.send(AlterUserScramCredentialsApi, {
            deletions: mine.flatMap((c) => c.deletions),
            upsertions: mine.flatMap((c) => c.upsertions),
          });
          const outcomes = new Map<string, Outcome<true>>();
          for (const r of response.results) {
            outcomes.set(
              r.user,
              r.errorCode === ErrorCode.NONE
                ? ok(true)
                : failed(userError(r.user, r.errorCode, r.errorMessage)),
            );
          }
          return outcomes;
        },
      ).catch((error: unknown) => {
        errors.push(...perItemErrors(error));
      });
    }
    if (errors.length > 0) throw oneOrAggregate('alterUserScramCredentials', errors);
  }

  /**
   * Creates ACLs (an ACL that exists already stays as it is). A binding the broker refuses rejects with its
   * typed error, whose message names the binding and carries the broker's reason (ConfigError INVALID_REQUEST
   * for a principal without a type, a cluster resource not named CLUSTER_RESOURCE_NAME, ...); several reject
   * with a KafkaAggregateError, and the others are created. A broker without an authorizer rejects with
   * SecurityDisabledError, a principal without ALTER on the cluster with AuthorizationError, both once.
   */
  async createAcls(bindings: NewAclBinding[]): Promise<void> {
    const errors: KafkaClientError[] = [];
    const creations: { binding: NewAclBinding; wire: CreateAclsRequestAclCreation }[] = [];
    for (const binding of bindings) {
      try {
        creations.push({ binding, wire: aclBindingToWire(binding) });
      } catch (error) {
        if (!(error instanceof KafkaClientError)) throw error;
        errors.push(aclBindingError(binding, error.code, error.message));
      }
    }
    if (creations.length > 0) {
      const wires = creations.map((c) => c.wire);
      const response = await this.cluster.retry(async () => {
        const connection = await this.cluster.anyConnection();
        requireAclPatternTypes(
          connection,
          CreateAclsApi,
          wires.map((w) => w.resourcePatternType),
        );
        return connection.send(CreateAclsApi, { creations: wires });
      });
      const requestError = response.results.find((r) => ACL_REQUEST_ERRORS.has(r.errorCode));
      if (requestError !== undefined)
        throw aclRequestError(requestError.errorCode, requestError.errorMessage);
      creations.forEach(({ binding }, i) => {
        const result = response.results[i];
        if (result === undefined) errors.push(missingAclResult(aclBindingText(binding)));
        else if (result.errorCode !== ErrorCode.NONE) {
          errors.push(aclBindingError(binding, result.errorCode, result.errorMessage));
        }
      });
    }
    if (errors.length > 0) throw oneOrAggregate('createAcls', errors);
  }

  /**
   * The ACLs `filter` selects (every ACL by default), one binding each, sorted by resource type, resource
   * name, pattern type, principal, host, operation and permission (the enums in Kafka's code order). Bindings
   * with a value this client does not know (from a newer broker) are left out. Rejects with
   * SecurityDisabledError when the broker has no authorizer, AuthorizationError without DESCRIBE on the
   * cluster, ConfigError for a filter the broker refuses.
   */
  async describeAcls(filter: AclBindingFilter = {}): Promise<AclBinding[]> {
    const wire = aclFilterToWire(filter);
    const response = await this.cluster.retry(async () => {
      const connection = await this.cluster.anyConnection();
      requireAclPatternTypes(connection, DescribeAclsApi, [wire.patternTypeFilter]);
      return connection.send(DescribeAclsApi, wire);
    });
    if (response.errorCode !== ErrorCode.NONE) {
      throw aclRequestError(response.errorCode, response.errorMessage);
    }
    const bindings: AclBinding[] = [];
    for (const resource of response.resources) {
      for (const acl of resource.acls) {
        const binding = aclBindingFromWire({ ...resource, ...acl });
        if (binding !== null) bindings.push(binding);
      }
    }
    return bindings.sort(compareAclBindings);
  }

  /**
   * Deletes the ACLs each filter selects and returns them (each once, however many filters selected it), sorted
   * as describeAcls sorts. A filter the broker refuses rejects with its typed error naming the filter, several
   * with a KafkaAggregateError; the other filters' ACLs are deleted. SecurityDisabledError and
   * AuthorizationError as for createAcls.
   */
  async deleteAcls(filters: AclBindingFilter[]): Promise<AclBinding[]> {
    if (filters.length === 0) return [];
    const wires = filters.map(aclFilterToWire);
    const response = await this.cluster.retry(async () => {
      const connection = await this.cluster.anyConnection();
      requireAclPatternTypes(
        connection,
        DeleteAclsApi,
        wires.map((w) => w.patternTypeFilter),
      );
      return connection.send(DeleteAclsApi, { filters: wires });
    });
    const requestError = response.filterResults.find((r) => ACL_REQUEST_ERRORS.has(r.errorCode));
    if (requestError !== undefined) throw aclRequestError(requestError.errorCode, requestError.errorMessage);
    const errors: KafkaClientError[] = [];
    const deleted = new Map<string, AclBinding>();
    filters.forEach((filter, i) => {
      const result = response.filterResults[i];
      if (result === undefined) {
        errors.push(missingAclResult(aclFilterText(filter)));
        return;
      }
      if (result.errorCode !== ErrorCode.NONE) {
        errors.push(
          errorFromCode(
            result.errorCode,
            `${aclFilterText(filter)}: ${result.errorMessage ?? errorInfo(result.errorCode).message}`,
          ),
        );
        return;
      }
      for (const acl of result.matchingAcls) {
        const binding = aclBindingFromWire(acl);
        if (acl.errorCode !== ErrorCode.NONE) {
          const text = binding === null ? `an ACL on '${acl.resourceName}'` : aclBindingText(binding);
          errors.push(
            errorFromCode(acl.errorCode, `${text}: ${acl.errorMessage ?? errorInfo(acl.errorCode).message}`),
          );
        } else if (binding !== null) {
          deleted.set(aclBindingKey(binding), binding);
        }
      }
    });
    if (errors.length > 0) throw oneOrAggregate('deleteAcls', errors);
    return [...deleted.values()].sort(compareAclBindings);
  }

  /**
   * Runs `send` once per leader of the partitions `items` name in `topic`, concurrently, with that leader's
   * connection and its items. A partition without a leader fails the whole call with LEADER_NOT_AVAILABLE,
   * which the caller's retry repairs.
   */
  private async perLeader<T>(
    topic: string,
    items: readonly T[],
    partitionOf: (item: T) => number,
    send: (connection: BrokerConnection, items: T[]) => Promise<void>,
  ): Promise<void> {
    const info = await this.cluster.topic(topic);
    const byLeader = groupBy(items, (item) => partitionInfo(info, partitionOf(item))?.leader ?? -1);
    await Promise.all(
      byLeader.map(async ([leader, batch]) => {
        if (leader < 0) throw new StaleMetadataError(ErrorCode.LEADER_NOT_AVAILABLE, undefined, { topic });
        await send(await this.cluster.connection(leader), batch);
      }),
    );
  }

  /**
   * Splits group ids or transactional ids by their coordinator and runs `send` per coordinator; lookup
   * failures become per-item errors, and coordinators that failed are forgotten so that a retry looks again.
   */
  private async perCoordinator<R>(
    kind: CoordinatorKind,
    keys: string[],
    send: (connection: BrokerConnection, batch: string[]) => Promise<Map<string, Outcome<R>>>,
  ): Promise<Map<string, Outcome<R>>> {
    const outcomes = new Map<string, Outcome<R>>();
    const byCoordinator = new Map<BrokerConnection, string[]>();
    await Promise.all(
      keys.map(async (key) => {
        try {
          const connection =
            kind === 'group'
              ? await this.cluster.coordinator(key)
              : await this.cluster.transactionCoordinator(key);
          const batch = byCoordinator.get(connection) ?? [];
          batch.push(key);
          byCoordinator.set(connection, batch);
        } catch (error) {
          if (!(error instanceof KafkaClientError)) throw error;
          outcomes.set(key, failed(error));
        }
      }),
    );
    await Promise.all(
      [...byCoordinator].map(async ([connection, batch]) => {
        try {
          for (const [key, outcome] of await send(connection, batch)) outcomes.set(key, outcome);
        } catch (error) {
          if (!(error instanceof KafkaClientError)) throw error;
          for (const key of batch) outcomes.set(key, failed(error));
        }
      }),
    );
    for (const [key, outcome] of outcomes) {
      if (
        outcome.ok ||
        !(outcome.error instanceof CoordinatorError || outcome.error instanceof ConnectionError)
      )
        continue;
      if (kind === 'group') this.cluster.invalidateCoordinator(key);
      else this.cluster.invalidateTransactionCoordinator(key);
    }
    return outcomes;
  }

  /**
   * Runs a multi-item request until every item has an outcome, re-sending only the items whose error says the
   * controller or coordinator moved (bounded by the cluster's retries). Rejects with KafkaAggregateError when
   * any item failed; otherwise returns the results by key.
   */
  private async forEachItem<I, R>(
    operation: string,
    items: readonly I[],
    keyOf: (item: I) => string,
    attempt: (pending: I[]) => Promise<Map<string, Outcome<R>>>,
  ): Promise<Map<string, R>> {
    const results = new Map<string, R>();
    const errors = new Map<string, KafkaClientError>();
    let pending = [...items];
    const retriedError = new Set<KafkaClientError>();
    try {
      await this.cluster.retry(async () => {
        const outcomes = await attempt(pending);
        const again: I[] = [];
        for (const item of pending) {
          const key = keyOf(item);
          const outcome = outcomes.get(key);
          if (outcome === undefined) {
            errors.set(
              key,
              new KafkaClientError({
                code: ErrorCode.UNKNOWN_SERVER_ERROR,
                type: 'MISSING_RESULT',
                retriable: false,
                message: `the broker's response has no result for '${key}'`,
              }),
            );
          } else if (outcome.ok) {
            results.set(key, outcome.value);
            errors.delete(key);
          } else {
            errors.set(key, outcome.error);
            if (isItemRetriable(outcome.error)) again.push(item);
          }
        }
        pending = again;
        const first = again[0];
        if (first !== undefined) {
          const error = errors.get(keyOf(first))!;
          retriedError.add(error);
          throw error;
        }
      });
    } catch (error) {
      // Retries used up on per-item errors: those are reported with the rest below.
      if (!(error instanceof KafkaClientError) || !retriedError.has(error)) throw error;
    }
    if (errors.size > 0) throw new KafkaAggregateError(operation, [...errors.values()]);
    return results;
  }
}

/** The asked resource a result answers: by type and name, else by position (Kafka keeps the order). */
function matchResource<T extends { type: ConfigResourceType; name: string }>(
  batch: readonly T[],
  result: { resourceType: number; resourceName: string },
  index: number,
): T | undefined {
  return (
    batch.find(
      (r) => RESOURCE_TYPE_CODES[r.type] === result.resourceType && r.name === result.resourceName,
    ) ?? batch[index]
  );
}

function resourceKey(resource: { type: ConfigResourceType; name: string }): string {
  return `${resource.type}:${resource.name}`;
}

/** A per-item error of DescribeTransactions, naming its transactional id. */
function transactionalIdError(code: number, transactionalId: string): KafkaClientError {
  return errorFromCode(code, `transactional id '${transactionalId}': ${errorInfo(code).message}`, {
    transactionalId,
  });
}

function activeProducer(state: DescribeProducersResponseProducerState): ActiveProducer {
  return {
    producerId: Number(state.producerId),
    producerEpoch: state.producerEpoch,
    lastSequence: state.lastSequence,
    lastTimestamp: Number(state.lastTimestamp),
    coordinatorEpoch: state.coordinatorEpoch < 0 ? null : state.coordinatorEpoch,
    currentTransactionStartOffset:
      state.currentTxnStartOffset < 0n ? null : Number(state.currentTxnStartOffset),
  };
}

function byTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1;
}

/** One user's part of an AlterUserScramCredentials request, salted and ready to send. */
interface UserScramChanges {
  deletions: AlterUserScramCredentialsRequestScramCredentialDeletion[];
  upsertions: AlterUserScramCredentialsRequestScramCredentialUpsertion[];
}

/** SCRAM's SaltedPassword for `mechanism`, which the broker turns into the stored and server keys it keeps. */
export function scramSaltedPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  return saltedPassword(SCRAM_HASHES[mechanism], password, salt, iterations);
}

async function saltedUpsertion(
  upsertion: ScramCredentialUpsertion,
): Promise<AlterUserScramCredentialsRequestScramCredentialUpsertion> {
  const { user, mechanism, password } = upsertion;
  const code = scramMechanismCode(user, mechanism);
  const iterations = upsertion.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  // Brokers want at least 4096 and say so; the upper bound keeps the derivation here bounded.
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS) {
    throw userError(
      user,
      ErrorCode.UNACCEPTABLE_CREDENTIAL,
      `Iterations must be a whole number from ${DEFAULT_SCRAM_ITERATIONS} to ${MAX_SCRAM_ITERATIONS}, not ${iterations}`,
    );
  }
  const salt = randomBytes(SCRAM_SALT_BYTES);
  return {
    name: user,
    mechanism: code,
    iterations,
    salt,
    saltedPassword: await scramSaltedPassword(mechanism, password, salt, iterations),
  };
}

function scramMechanismCode(user: string, mechanism: ScramMechanism): number {
  if (!Object.hasOwn(SCRAM_MECHANISM_CODES, mechanism)) {
    throw userError(
      user,
      ErrorCode.UNSUPPORTED_SASL_MECHANISM,
      `Unknown SCRAM mechanism '${String(mechanism)}'; expected ${SCRAM_MECHANISMS.join(' or ')}`,
    );
  }
  return SCRAM_MECHANISM_CODES[mechanism];
}

/** Mechanisms this client does not know (a newer broker's) are left out: they could not be used or altered. */
function scramCredentialInfos(
  infos: readonly DescribeUserScramCredentialsResponseCredentialInfo[],
): ScramCredentialInfo[] {
  const known: ScramCredentialInfo[] = [];
  for (const info of infos) {
    const mechanism = SCRAM_MECHANISMS.find((m) => SCRAM_MECHANISM_CODES[m] === info.mechanism);
    if (mechanism !== undefined) known.push({ mechanism, iterations: info.iterations });
  }
  return known.sort((a, b) => (a.mechanism < b.mechanism ? -1 : a.mechanism > b.mechanism ? 1 : 0));
}

/** A per-user error, naming the user (errors have no user field) before the broker's message. */
function userError(user: string, code: number, message: string | null): KafkaClientError {
  return errorFromCode(code, `user '${user}': ${message ?? errorInfo(code).message}`);
}

/** The per-item errors of forEachItem's KafkaAggregateError; anything else (a whole-request failure) is rethrown. */
function perItemErrors(error: unknown): readonly KafkaClientError[] {
  if (error instanceof KafkaAggregateError) return error.errors;
  throw error;
}

/** One failed user rejects with its own typed error; several with a KafkaAggregateError. */
function oneOrAggregate(operation: string, errors: readonly KafkaClientError[]): KafkaClientError {
  return errors.length === 1 ? errors[0]! : new KafkaAggregateError(operation, errors);
}

/** The wire form of a binding to create; an unknown name fails with ConfigError INVALID_REQUEST. */
export function aclBindingToWire(binding: NewAclBinding): CreateAclsRequestAclCreation {
  return {
    resourceType: aclCode(ACL_RESOURCE_TYPE_CODES, ACL_RESOURCE_TYPES, binding.resourceType, 'resource type'),
    resourceName: binding.resourceName,
    resourcePatternType: aclCode(
      ACL_PATTERN_TYPE_CODES,
      ACL_PATTERN_TYPES,
      binding.patternType ?? 'literal',
      'pattern type',
    ),
    principal: binding.principal,
    host: binding.host ?? '*',
    operation: aclCode(ACL_OPERATION_CODES, ACL_OPERATIONS, binding.operation, 'operation'),
    permissionType: aclCode(ACL_PERMISSION_CODES, ACL_PERMISSIONS, binding.permission, 'permission'),
  };
}

/** The wire form of a filter (DescribeAcls' request, one DeleteAcls filter); unknown names fail as above. */
export function aclFilterToWire(filter: AclBindingFilter): DescribeAclsRequest {
  return {
    resourceTypeFilter: aclCode(
      ACL_RESOURCE_TYPE_CODES,
      ['any', ...ACL_RESOURCE_TYPES],
      filter.resourceType ?? 'any',
      'resource type',
    ),
    resourceNameFilter: filter.resourceName ?? null,
    patternTypeFilter: aclCode(
      ACL_PATTERN_TYPE_CODES,
      ['any', 'match', ...ACL_PATTERN_TYPES],
      filter.patternType ?? 'any',
      'pattern type',
    ),
    principalFilter: filter.principal ?? null,
    hostFilter: filter.host ?? null,
    operation: aclCode(
      ACL_OPERATION_CODES,
      ['any', ...ACL_OPERATIONS],
      filter.operation ?? 'any',
      'operation',
    ),
    permissionType: aclCode(
      ACL_PERMISSION_CODES,
      ['any', ...ACL_PERMISSIONS],
      filter.permission ?? 'any',
      'permission',
    ),
  };
}

/** A binding as DescribeAcls and DeleteAcls return it; null when a code is not one of a concrete binding. */
export function aclBindingFromWire(wire: {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}): AclBinding | null {
  const resourceType = ACL_RESOURCE_TYPES.find((t) => ACL_RESOURCE_TYPE_CODES[t] === wire.resourceType);
  const patternType = ACL_PATTERN_TYPES.find((t) => ACL_PATTERN_TYPE_CODES[t] === wire.patternType);
  const operation = ACL_OPERATIONS.find((o) => ACL_OPERATION_CODES[o] === wire.operation);
  const permission = ACL_PERMISSIONS.find((p) => ACL_PERMISSION_CODES[p] === wire.permissionType);
  if (
    resourceType === undefined ||
    patternType === undefined ||
    operation === undefined ||
    permission === undefined
  ) {
    return null;
  }
  return {
    resourceType,
    resourceName: wire.resourceName,
    patternType,
    principal: wire.principal,
    host: wire.host,
    operation,
    permission,
  };
}

function aclCode<N extends string>(
  codes: Record<N, number>,
  names: readonly N[],
  name: N,
  what: string,
): number {
  if (!names.includes(name)) {
    throw new ConfigError(
      ErrorCode.INVALID_REQUEST,
      `Unknown ${what} '${String(name)}'; expected one of ${names.join(', ')}`,
    );
  }
  return codes[name];
}

/** v0 of the ACL APIs cannot carry a pattern type: refuse rather than let the broker read LITERAL. */
function requireAclPatternTypes(
  connection: BrokerConnection,
  api: { key: number; name: string; minVersion: number; maxVersion: number },
  patternTypes: readonly number[],
): void {
  if (connection.versionFor(api) >= ACL_PATTERN_TYPE_MIN_VERSION) return;
  const readAsLiteral = new Set([ACL_PATTERN_TYPE_CODES.literal, ACL_PATTERN_TYPE_CODES.any]);
  if (patternTypes.every((code) => readAsLiteral.has(code))) return;
  throw new UnsupportedVersionError(
    `the broker's ${api.name} (version 0) supports literal resource patterns only`,
  );
}

function aclRequestError(code: number, message: string | null): KafkaClientError {
  if (code === ErrorCode.SECURITY_DISABLED) return new SecurityDisabledError();
  return errorFromCode(code, message ?? undefined);
}

/** "ACL allow User:alice read on literal topic 'orders' from host *" */
function aclBindingText(binding: NewAclBinding): string {
  return (
    `ACL ${String(binding.permission)} ${binding.principal} ${String(binding.operation)} on ` +
    `${String(binding.patternType ?? 'literal')} ${String(binding.resourceType)} '${binding.resourceName}' ` +
    `from host ${binding.host ?? '*'}`
  );
}

/** "ACL filter (topic, name 'orders', pattern match)"; "ACL filter (every ACL)" when it selects everything. */
function aclFilterText(filter: AclBindingFilter): string {
  const parts: string[] = [];
  if (filter.resourceType !== undefined && filter.resourceType !== 'any') parts.push(filter.resourceType);
  if (filter.resourceName != null) parts.push(`name '${filter.resourceName}'`);
  if (filter.patternType !== undefined && filter.patternType !== 'any')
    parts.push(`pattern ${filter.patternType}`);
  if (filter.principal != null) parts.push(`principal ${filter.principal}`);
  if (filter.host != null) parts.push(`host ${filter.host}`);
  if (filter.operation !== undefined && filter.operation !== 'any')
    parts.push(`operation ${filter.operation}`);
  if (filter.permission !== undefined && filter.permission !== 'any') parts.push(filter.permission);
  return `ACL filter (${parts.length === 0 ? 'every ACL' : parts.join(', ')})`;
}

/** A per-binding error: the binding first (errors have no field for it), then the broker's reason. */
function aclBindingError(binding: NewAclBinding, code: number, message: string | null): KafkaClientError {
  return errorFromCode(code, `${aclBindingText(binding)}: ${message ?? errorInfo(code).message}`);
}

function missingAclResult(subject: string): KafkaClientError {
  return new KafkaClientError({
    code: ErrorCode.UNKNOWN_SERVER_ERROR,
    type: 'MISSING_RESULT',
    retriable: false,
    message: `the broker's response has no result for ${subject}`,
  });
}

function aclBindingKey(b: AclBinding): string {
  return [b.resourceType, b.resourceName, b.patternType, b.principal, b.host, b.operation, b.permission].join(
    '\u0000',
  );
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Resource type, name, pattern type, principal, host, operation, permission; enums by Kafka's codes. */
export function compareAclBindings(a: AclBinding, b: AclBinding): number {
  return (
    ACL_RESOURCE_TYPE_CODES[a.resourceType] - ACL_RESOURCE_TYPE_CODES[b.resourceType] ||
    compareStrings(a.resourceName, b.resourceName) ||
    ACL_PATTERN_TYPE_CODES[a.patternType] - ACL_PATTERN_TYPE_CODES[b.patternType] ||
    compareStrings(a.principal, b.principal) ||
    compareStrings(a.host, b.host) ||
    ACL_OPERATION_CODES[a.operation] - ACL_OPERATION_CODES[b.operation] ||
    ACL_PERMISSION_CODES[a.permission] - ACL_PERMISSION_CODES[b.permission]
  );
}
