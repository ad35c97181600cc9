// Topic administration on behalf of the cluster: validates requests, places replicas, and writes the result
// to the metadata store; the replica manager then opens or removes the logs. With the embedded store this
// broker is the only controller; the etcd store will elect one.
import type { BrokerConfig } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { validateTopicConfigs } from '../common/topic-config.js';
import {
  assignReplicas,
  type MetadataStore,
  type PartitionRecord,
  type TopicRecord,
  topicCollisionError,
  topicNamesCollide,
  validateTopicName,
} from '../metadata/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { MAX_PARTITIONS_PER_REQUEST } from './partition-capacity.js';
import type { ReplicaManager } from './replica-manager.js';

export interface TopicSpec {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  /** Explicit replica lists by partition index; when given, numPartitions and replicationFactor are -1. */
  assignments: ReadonlyMap<number, readonly number[]>;
  configs: Record<string, string | null>;
}

export interface AdminResult {
  errorCode: number;
  errorMessage: string | null;
}

export interface CreateTopicResult extends AdminResult {
  topic: TopicRecord | null;
  numPartitions: number;
  replicationFactor: number;
}

export type ConfigOperation = 'set' | 'delete' | 'append' | 'subtract';

export const OK: AdminResult = { errorCode: ErrorCode.NONE, errorMessage: null };

export function failure(errorCode: number, errorMessage: string): AdminResult {
  return { errorCode, errorMessage };
}

// Internal topics are created by the broker itself; clients may not create or delete them.
const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state']);

const TOO_MANY_PARTITIONS_MESSAGE = 'Excessively large number of partitions per request.';
/** Kafka's answer to a CreateTopics or CreatePartitions request over MAX_PARTITIONS_PER_REQUEST. */
export const TOO_MANY_PARTITIONS_PER_REQUEST = failure(
  ErrorCode.POLICY_VIOLATION,
  TOO_MANY_PARTITIONS_MESSAGE,
);

export interface ControllerLimits {
  /** Partitions this broker can host (partition-capacity.ts); creations past it are refused. */
  partitionCapacity?: number;
}

export class Controller {
  private readonly topicDeletionListeners: ((topic: string) => Promise<void>)[] = [];
  private readonly partitionCapacity: number;
  /** Partitions of creations under way: checked against the capacity but not in the metadata yet. */
  private reservedPartitions = 0;

  constructor(
    private readonly config: BrokerConfig,
    private readonly metadata: MetadataStore,
    private readonly replicaManager: ReplicaManager,
    private readonly logger: Logger,
    limits: ControllerLimits = {},
  ) {
    this.partitionCapacity = limits.partitionCapacity ?? Number.POSITIVE_INFINITY;
  }

  /** Partitions with a replica on this broker. */
  hostedPartitions(): number {
    let hosted = 0;
    for (const topic of this.metadata.listTopics()) {
      for (const partition of topic.partitions) {
        if (partition.replicas.includes(this.config.nodeId)) hosted++;
      }
    }
    return hosted;
  }

  /**
   * Refuses `added` more partitions on this broker when it cannot host them; else reserves them, and the
   * caller must release the reservation once they are in the metadata or given up. Without this the broker
   * would run out of file descriptors (partition-capacity.ts).
   */
  private reservePartitions(added: number): AdminResult | null {
    const total = this.hostedPartitions() + this.reservedPartitions + added;
    if (total > this.partitionCapacity) {
      return failure(
        ErrorCode.POLICY_VIOLATION,
        `This broker cannot host ${added} more partition${added === 1 ? '' : 's'}: it would hold ${total}, and ` +
          `with its open-file limit it can hold ${this.partitionCapacity} (one open file each). Raise the ` +
          'limit (ulimit -n) to host more.',
      );
    }
    this.reservedPartitions += added;
    return null;
  }

  private releasePartitions(added: number): void {
    this.reservedPartitions -= added;
  }

  /** Runs after a topic is deleted, before the deletion is acknowledged (the group coordinator drops its offsets). */
  onTopicDeleted(listener: (topic: string) => Promise<void>): void {
    this.topicDeletionListeners.push(listener);
  }

  private liveBrokerIds(): number[] {
    return this.metadata
      .listBrokers()
      .map((b) => b.nodeId)
      .sort((a, b) => a - b);
  }

  async createTopic(spec: TopicSpec, validateOnly: boolean, internal = false): Promise<CreateTopicResult> {
    const fail = (errorCode: number, errorMessage: string): CreateTopicResult => ({
      errorCode,
      errorMessage,
      topic: null,
      numPartitions: -1,
      replicationFactor: -1,
    });
    const nameError = validateTopicName(spec.name);
    if (nameError !== null) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
    if (!internal && INTERNAL_TOPICS.has(spec.name)) {
      return fail(
        ErrorCode.INVALID_REQUEST,
        `${spec.name} is an internal topic and is created by the broker`,
      );
    }
    if (this.metadata.getTopic(spec.name) !== undefined) {
      return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${spec.name}' already exists.`);
    }
    // The store refuses it too, but validateOnly must say so without writing.
    const collidesWith = this.metadata.listTopics().find((t) => topicNamesCollide(spec.name, t.name));
    if (collidesWith !== undefined) {
      const refusal = topicCollisionError(spec.name, collidesWith.name);
      return fail(refusal.code, refusal.message);
    }
    const configCheck = validateTopicConfigs(spec.configs);
    if (!configCheck.ok) return fail(configCheck.errorCode, configCheck.message);

    let partitions: PartitionRecord[];
    try {
      partitions = this.placePartitions(spec);
    } catch (error) {
      if (error instanceof KafkaError) return fail(error.code, error.message);
      throw error;
    }
    const configs: Record<string, string> = {};
    for (const [key, value] of Object.entries(spec.configs)) if (value !== null) configs[key] = value;
    const replicationFactor = partitions[0]?.replicas.length ?? 0;
    const hostedHere = partitions.filter((p) => p.replicas.includes(this.config.nodeId)).length;
    const refusal = this.reservePartitions(hostedHere);
    if (refusal !== null) return { ...refusal, topic: null, numPartitions: -1, replicationFactor: -1 };
    let topic: TopicRecord;
    try {
      if (validateOnly) {
        return { ...OK, topic: null, numPartitions: partitions.length, replicationFactor };
      }
      try {
        topic = await this.metadata.createTopic({ name: spec.name, partitions, configs, internal });
      } catch (error) {
        // The store has the last word: a name colliding with an existing one ('.' versus '_'), or a topic
        // another request created since the checks above. Those are answers for the client, not server errors.
        if (error instanceof KafkaError) return fail(error.code, error.message);
        throw error;
      }
    } finally {
      this.releasePartitions(hostedHere);
    }
    await this.replicaManager.syncWithMetadata();
    this.logger.info({ topic: spec.name, partitions: partitions.length, replicationFactor }, 'created topic');
    return { ...OK, topic, numPartitions: partitions.length, replicationFactor };
  }

  /**
   * Partitions a topic creation asks for: as many as its explicit assignments, else numPartitions (-1: the
   * broker's num.partitions).
   */
  requestedPartitions(numPartitions: number, assignmentCount: number): number {
    if (assignmentCount > 0) return assignmentCount;
    return numPartitions === -1 ? this.config.numPartitions : numPartitions;
  }

  private placePartitions(spec: TopicSpec): PartitionRecord[] {
    const brokers = this.liveBrokerIds();
    if (spec.assignments.size > 0 && (spec.numPartitions !== -1 || spec.replicationFactor !== -1)) {
      throw new KafkaError(
        ErrorCode.INVALID_REQUEST,
        'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
      );
    }
    const numPartitions = this.requestedPartitions(spec.numPartitions, spec.assignments.size);
    // Before placing them: two billion partition records would not fit in memory.
    if (numPartitions > MAX_PARTITIONS_PER_REQUEST) {
      throw new KafkaError(ErrorCode.POLICY_VIOLATION, TOO_MANY_PARTITIONS_MESSAGE);
    }
    if (spec.assignments.size > 0) return this.explicitPartitions(spec.assignments, 0, brokers);
    const replicationFactor =
      spec.replicationFactor === -1 ? this.config.defaultReplicationFactor : spec.replicationFactor;
    if (numPartitions <= 0) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
    }
    if (replicationFactor <= 0) {
      throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
    }
    return assignReplicas(brokers, numPartitions, replicationFactor).map((replicas, partition) =>
      newPartition(partition, replicas),
    );
  }

  private explicitPartitions(
    assignments: ReadonlyMap<number, readonly number[]>,
    firstIndex: number,
    brokers: readonly number[],
  ): PartitionRecord[] {
    const partitions: PartitionRecord[] = [];
    const size = [...assignments.values()][0]?.length ?? 0;
    for (let i = 0; i < assignments.size; i++) {
      const replicas = assignments.get(firstIndex + i);
      if (replicas === undefined) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          'Partitions must be numbered consecutively from 0.',
        );
      }
      if (replicas.length === 0 || replicas.length !== size) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          'All partitions must have the same number of replicas.',
        );
      }
      if (new Set(replicas).size !== replicas.length) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Duplicate brokers in the assignment ${replicas.join(',')}.`,
        );
      }
      const unknown = replicas.find((id) => !brokers.includes(id));
      if (unknown !== undefined) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Broker ${unknown} is not a registered broker.`,
        );
      }
      partitions.push(newPartition(firstIndex + i, [...replicas]));
    }
    return partitions;
  }

  /** Kafka creates unknown topics on Metadata requests when auto.create.topics.enable is on. */
  async autoCreateTopic(name: string): Promise<AdminResult> {
    const result = await this.createTopic(
      { name, numPartitions: -1, replicationFactor: -1, assignments: new Map(), configs: {} },
      false,
    );
    // Another request may have created it a moment ago.
    if (result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) return OK;
    return result;
  }

  async deleteTopic(name: string): Promise<AdminResult> {
    if (this.metadata.getTopic(name) === undefined) {
      return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    }
    if (INTERNAL_TOPICS.has(name)) {
      return failure(ErrorCode.INVALID_REQUEST, `${name} is an internal topic and cannot be deleted`);
    }
    try {
      await this.metadata.deleteTopic(name);
    } catch (error) {
      // Deleted meanwhile by another request (or the same name twice in one): an answer, not a fault.
      if (error instanceof KafkaError) return failure(error.code, error.message);
      throw error;
    }
    await this.replicaManager.syncWithMetadata();
    for (const listener of this.topicDeletionListeners) await listener(name);
    this.logger.info({ topic: name }, 'deleted topic');
    return OK;
  }

  async createPartitions(
    name: string,
    count: number,
    assignments: readonly (readonly number[])[] | null,
    validateOnly: boolean,
  ): Promise<AdminResult> {
    const topic = this.metadata.getTopic(name);
    if (topic === undefined) {
      return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
    }
    const current = topic.partitions.length;
    if (count < current) {
      return failure(
        ErrorCode.INVALID_PARTITIONS,
        `Topic currently has ${current} partitions, which is higher than the requested ${count}.`,
      );
    }
    if (count === current) {
      return failure(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
    }
    const added = count - current;
    if (added > MAX_PARTITIONS_PER_REQUEST) return TOO_MANY_PARTITIONS_PER_REQUEST;
    let partitions: PartitionRecord[];
    try {
      const brokers = this.liveBrokerIds();
      if (assignments !== null) {
        if (assignments.length !== added) {
          return failure(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Increasing the number of partitions by ${added} but ${assignments.length} assignments provided.`,
          );
        }
        partitions = this.explicitPartitions(
          new Map(assignments.map((replicas, i) => [current + i, replicas])),
          current,
          brokers,
        );
      } else {
        const replicationFactor = topic.partitions[0]?.replicas.length ?? 1;
        partitions = assignReplicas(brokers, added, replicationFactor, current).map((replicas, i) =>
          newPartition(current + i, replicas),
        );
      }
    } catch (error) {
      if (error instanceof KafkaError) return failure(error.code, error.message);
      throw error;
    }
    const hostedHere = partitions.filter((p) => p.replicas.includes(this.config.nodeId)).length;
    const refusal = this.reservePartitions(hostedHere);
    if (refusal !== null) return refusal;
    try {
      if (validateOnly) return OK;
      await this.metadata.createPartitions(name, partitions);
    } finally {
      this.releasePartitions(hostedHere);
    }
    await this.replicaManager.syncWithMetadata();
    this.logger.info({ topic: name, partitions: count }, 'added partitions');
    return OK;
  }

  /** Replaces the topic's whole override set (the legacy AlterConfigs semantics). */
  async replaceTopicConfigs(
    name: string,
    configs: Record<string, string | null>,
    validateOnly: boolean,
  ): Promise<AdminResult> {
    const topic = this.metadata.getTopic(name);
    if (topic === undefined)
      return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${name} does not exist.`);
    return this.writeTopicConfigs(name, configs, validateOnly);
  }

  /** Applies set/delete/append/subtract operations to the topic's overrides (IncrementalAlterConfigs). */
  async alterTopicConfigs(
    name: string,
    operations: readonly { name: string; operation: ConfigOperation; value: string | null }[],
    validateOnly: boolean,
  ): Promise<AdminResult> {
    const topic = this.metadata.getTopic(name);
    if (topic === undefined)
      return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${name} does not exist.`);
    const next: Record<string, string | null> = { ...topic.configs };
    for (const op of operations) {
      switch (op.operation) {
        case 'set':
          next[op.name] = op.value;
          break;
        case 'delete':
          delete next[op.name];
          break;
        case 'append':
        case 'subtract': {
          if (op.name !== 'cleanup.policy') {
            return failure(
              ErrorCode.INVALID_CONFIG,
              `Config ${op.name} is not a list; ${op.operation.toUpperCase()} needs a list config.`,
            );
          }
          const items = new Set(
            (next[op.name] ?? this.config.logCleanupPolicy).split(',').filter((s) => s !== ''),
          );
          for (const item of (op.value ?? '').split(',').filter((s) => s !== '')) {
            if (op.operation === 'append') items.add(item);
            else items.delete(item);
          }
          next[op.name] = [...items].join(',');
          break;
        }
      }
    }
    return this.writeTopicConfigs(name, next, validateOnly);
  }

  private async writeTopicConfigs(
    name: string,
    configs: Record<string, string | null>,
    validateOnly: boolean,
  ): Promise<AdminResult> {
    const check = validateTopicConfigs(configs);
    if (!check.ok) return failure(check.errorCode, check.message);
    if (validateOnly) return OK;
    const overrides: Record<string, string> = {};
    for (const [key, value] of Object.entries(configs)) if (value !== null) overrides[key] = value;
    await this.metadata.alterTopicConfigs(name, overrides);
    await this.replicaManager.syncWithMetadata();
    this.logger.info({ topic: name, configs: overrides }, 'altered topic configs');
    return OK;
  }
}

function newPartition(partition: number, replicas: number[]): PartitionRecord {
  return {
    partition,
    replicas,
    leader: replicas[0] ?? -1,
    leaderEpoch: 0,
    isr: [...replicas],
    partitionEpoch: 0,
  };
}
