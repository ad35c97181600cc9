// The public Producer: a Cluster (bootstrap, metadata, pooled connections) plus the producer engine, which
// batches records per partition and sends them to partition leaders with Produce (magic-2 record batches).
import { ErrorCode } from '../../protocol/errors.js';
import { AddOffsetsToTxnApi } from '../../protocol/generated/add-offsets-to-txn.js';
import { AddPartitionsToTxnApi } from '../../protocol/generated/add-partitions-to-txn.js';
import { EndTxnApi } from '../../protocol/generated/end-txn.js';
import { InitProducerIdApi } from '../../protocol/generated/init-producer-id.js';
import { ProduceApi, type ProduceRequest, type ProduceResponse } from '../../protocol/generated/produce.js';
import { TxnOffsetCommitApi } from '../../protocol/generated/txn-offset-commit.js';
import type { RecordsPayload } from '../../protocol/primitives/writer.js';
import { CodecId, type CompressionName } from '../../protocol/records/index.js';
import { backoffDelayMs, type ClientOptions, Cluster, type TopicInfo } from '../cluster.js';
import type { BrokerConnection } from '../connection.js';
import {
  ConfigError,
  errorFromCode,
  KafkaClientError,
  StaleMetadataError,
  TransactionStateError,
} from '../errors.js';
import { groupBy } from '../group-by.js';
import type { TopicLayout } from './accumulator.js';
import { type EngineConfig, ProducerEngine } from './engine.js';
import type { Idempotence, ProducerIdentity, ProduceTarget } from './sender.js';
import {
  type ConsumerGroupMetadata,
  type TopicPartitionRef,
  TransactionManager,
  type TransactionOffset,
  type TransactionState,
  type TransactionTarget,
} from './transactions.js';
import type { Partitioner, ProducerMessage, RecordMetadata } from './types.js';

export interface ProducerOptions extends ClientOptions {
  /** -1 (all in-sync replicas, the default), 1 (leader only) or 0 (no acknowledgement: offsets are -1). */
  acks?: -1 | 0 | 1;
  /** How long a batch waits for more records before it is sent. Default 5. */
  lingerMs?: number;
  /** Bytes per batch (per partition) before it is sent without waiting for lingerMs. Default 16384. */
  batchSize?: number;
  /** Codec of every batch. Default 'none'. zstd needs a broker with Produce v7. */
  compression?: CompressionName;
  /** Bound on the bytes of all batches not yet acknowledged. Default 32 MiB. */
  bufferMemory?: number;
  /** How long send() may wait for buffer memory or topic metadata before failing. Default 60000. */
  maxBlockMs?: number;
  /** Largest Produce request, and so largest record. Default 1048576. */
  maxRequestSize?: number;
  /** Partition choice for records without an explicit partition; default: murmur2 of the key, sticky if none. */
  partitioner?: Partitioner;
  /** Retries of a batch after retriable errors. Default: unlimited, bounded by deliveryTimeoutMs. */
  retries?: number;
  /** Bound on the time from a record's send() to its success or failure. Default 120000. */
  deliveryTimeoutMs?: number;
  /**
   * Produce requests in flight per partition. Default 5 while idempotent (the broker's sequence checks keep
   * retries in order; at most 5, the batches a Kafka broker remembers per producer), else 1: a retried batch
   * can never be overtaken. Above 1 without idempotence, a retry may reorder records.
   */
  maxInFlightPerPartition?: number;
  /**
   * Idempotent producing (KIP-98): the producer gets a producer id and numbers its batches, so that the broker
   * writes a retried batch once and never out of order. Default: on when acks is -1, retries is not 0 and
   * maxInFlightPerPartition is at most 5 (as Java's producer since Kafka 3.0), and the cluster offers
   * InitProducerId; otherwise off. true requires all of these and fails sends when the cluster lacks it.
   */
  idempotent?: boolean;
  /** Ask the broker to create unknown topics (when it allows auto-creation). Default true. */
  allowAutoTopicCreation?: boolean;
  /**
   * Makes this a transactional producer (KIP-98): records are sent only inside transactions
   * (initTransactions(), then beginTransaction() ... commitTransaction() or abortTransaction()), and a
   * read_committed consumer sees a transaction's records all at once or never. Implies idempotent. A newer
   * producer with the same id fences this one.
   */
  transactionalId?: string;
  /** How long the coordinator lets a transaction stay open before aborting it. Default 60000. */
  transactionTimeoutMs?: number;
}

/** Records for one topic. */
export interface ProducerRecord {
  topic: string;
  messages: ProducerMessage[];
}

const DEFAULTS = {
  acks: -1,
  lingerMs: 5,
  batchSize: 16_384,
  bufferMemory: 32 * 1024 * 1024,
  maxBlockMs: 60_000,
  maxRequestSize: 1_048_576,
  deliveryTimeoutMs: 120_000,
  maxInFlightIdempotent: 5,
  maxInFlightPerPartition: 1,
  requestTimeoutMs: 30_000,
  initialBackoffMs: 100,
  maxBackoffMs: 1_000,
  transactionTimeoutMs: 60_000,
};
/** AddPartitionsToTxn v4+ is the brokers' batched form (KIP-890); clients send v3 at most. */
const ADD_PARTITIONS_CLIENT_MAX_VERSION = 3;
/** InitProducerId v3 carries the current producer id and epoch, to bump the epoch (KIP-360). */
const INIT_PRODUCER_ID_BUMP_MIN_VERSION = 3;
/** Record batches (magic 2) need Produce v3; zstd batches need v7. */
const PRODUCE_MIN_VERSION = 3;
const PRODUCE_ZSTD_MIN_VERSION = 7;

function invalid(message: string): ConfigError {
  return new ConfigError(ErrorCode.INVALID_CONFIG, message);
}

function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw invalid(`${name} must be an integer ≥ ${min}, not ${value}`);
  return value;
}

function resolveConfig(options: ProducerOptions): EngineConfig {
  const acks = options.acks ?? DEFAULTS.acks;
  if (acks !== -1 && acks !== 0 && acks !== 1) throw invalid(`acks must be -1, 0 or 1, not ${String(acks)}`);
  const compression = options.compression ?? 'none';
  if (!Object.hasOwn(CodecId, compression)) throw invalid(`unknown compression '${String(compression)}'`);
  const lingerMs = checkInteger('lingerMs', options.lingerMs ?? DEFAULTS.lingerMs, 0);
  const batchSize = checkInteger('batchSize', options.batchSize ?? DEFAULTS.batchSize, 1);
  const bufferMemory = checkInteger('bufferMemory', options.bufferMemory ?? DEFAULTS.bufferMemory, 1);
  if (bufferMemory < batchSize)
    throw invalid(`bufferMemory (${bufferMemory}) is smaller than batchSize (${batchSize})`);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  const minDeliveryTimeoutMs = lingerMs + requestTimeoutMs;
  const deliveryTimeoutMs = checkInteger(
    'deliveryTimeoutMs',
    options.deliveryTimeoutMs ?? Math.max(DEFAULTS.deliveryTimeoutMs, minDeliveryTimeoutMs),
    1,
  );
  if (deliveryTimeoutMs < minDeliveryTimeoutMs) {
    throw invalid(
      `deliveryTimeoutMs (${deliveryTimeoutMs}) must be ≥ lingerMs + requestTimeoutMs (${minDeliveryTimeoutMs})`,
    );
  }
  const retries = checkInteger('retries', options.retries ?? Number.MAX_SAFE_INTEGER, 0);
  const explicitInFlight =
    options.maxInFlightPerPartition === undefined
      ? undefined
      : checkInteger('maxInFlightPerPartition', options.maxInFlightPerPartition, 1);
  const transactionalId = options.transactionalId ?? null;
  if (transactionalId === '') throw invalid('transactionalId must not be empty');
  if (transactionalId !== null && options.idempotent === false) {
    throw invalid('a transactional producer is idempotent: transactionalId conflicts with idempotent: false');
  }
  const idempotence = resolveIdempotence(
    transactionalId === null ? options.idempotent : true,
    acks,
    retries,
    explicitInFlight,
  );
  return {
    acks,
    ackTimeoutMs: requestTimeoutMs,
    lingerMs,
    batchSize,
    codec: CodecId[compression],
    bufferMemory,
    maxBlockMs: checkInteger('maxBlockMs', options.maxBlockMs ?? DEFAULTS.maxBlockMs, 0),
    maxRequestSize: checkInteger('maxRequestSize', options.maxRequestSize ?? DEFAULTS.maxRequestSize, 1),
    partitioner: options.partitioner,
    retries,
    initialBackoffMs: options.retry?.initialBackoffMs ?? DEFAULTS.initialBackoffMs,
    maxBackoffMs: options.retry?.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
    deliveryTimeoutMs,
    maxInFlightPerPartition:
      explicitInFlight ??
      (idempotence === 'off' ? DEFAULTS.maxInFlightPerPartition : DEFAULTS.maxInFlightIdempotent),
    maxInFlightWithoutIdempotence: explicitInFlight ?? DEFAULTS.maxInFlightPerPartition,
    idempotence,
    transactionalId,
  };
}

/** Kafka's rules (KAFKA-13673): asked for, conflicting settings are an error; by default they turn it off. */
function resolveIdempotence(
  idempotent: boolean | undefined,
  acks: number,
  retries: number,
  maxInFlight: number | undefined,
): Idempotence {
  if (idempotent === false) return 'off';
  const conflict =
    acks !== -1
      ? `acks ${acks} (it needs -1)`
      : retries === 0
        ? 'retries 0'
        : maxInFlight !== undefined && maxInFlight > DEFAULTS.maxInFlightIdempotent
          ? `maxInFlightPerPartition ${maxInFlight} (at most ${DEFAULTS.maxInFlightIdempotent})`
          : null;
  if (conflict === null) return idempotent === true ? 'required' : 'preferred';
  if (idempotent === true) throw invalid(`idempotent: true conflicts with ${conflict}`);
  return 'off';
}

/** The engine's view of a Cluster: cached layouts, metadata loads and Produce requests to leaders. */
class ClusterTarget implements ProduceTarget {
  private readonly cluster: Cluster;
  private readonly acks: number;
  private readonly minVersion: number;
  private readonly allowAutoTopicCreation: boolean;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly layouts = new Map<string, { info: TopicInfo; layout: TopicLayout }>();
  /** The last layout returned, with the metadata it came from: sends to one topic skip the map lookup. */
  private lastInfo: TopicInfo | null = null;
  private lastLayout: TopicLayout | null = null;
  private readonly versions = new WeakMap<BrokerConnection, number>();

  constructor(cluster: Cluster, config: EngineConfig, allowAutoTopicCreation: boolean) {
    this.cluster = cluster;
    this.acks = config.acks;
    this.minVersion = config.codec === CodecId.zstd ? PRODUCE_ZSTD_MIN_VERSION : PRODUCE_MIN_VERSION;
    this.allowAutoTopicCreation = allowAutoTopicCreation;
    this.initialBackoffMs = config.initialBackoffMs;
    this.maxBackoffMs = config.maxBackoffMs;
  }

  topicLayout(topic: string): TopicLayout | undefined {
    const info = this.cluster.metadata.topics.get(topic);
    if (info === undefined) return undefined;
    if (info === this.lastInfo) return this.lastLayout!;
    const cached = this.layouts.get(topic);
    if (cached !== undefined && cached.info === info) {
      this.lastInfo = info;
      this.lastLayout = cached.layout;
      return cached.layout;
    }
    let partitionCount = 0;
    for (const p of info.partitions) partitionCount = Math.max(partitionCount, p.partition + 1);
    const leaders = new Array<number>(partitionCount).fill(-1);
    for (const p of info.partitions) leaders[p.partition] = p.leader;
    const layout: TopicLayout = { partitionCount, leaders };
    this.layouts.set(topic, { info, layout });
    this.lastInfo = info;
    this.lastLayout = layout;
    return layout;
  }

  async loadTopic(topic: string, deadlineMs: number): Promise<TopicLayout> {
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.cluster.refreshMetadata([topic], { allowAutoTopicCreation: this.allowAutoTopicCreation });
        const layout = this.topicLayout(topic);
        if (layout !== undefined && layout.partitionCount > 0) return layout;
        // Absent: topic() reports the broker's reason (LEADER_NOT_AVAILABLE while being created, ...).
        await this.cluster.topic(topic);
      } catch (error) {
        if (!(error instanceof KafkaClientError) || !error.retriable) throw error;
        lastError = error;
      }
      const layout = this.topicLayout(topic);
      if (layout !== undefined && layout.partitionCount > 0) return layout;
      const delayMs = backoffDelayMs(attempt, this.initialBackoffMs, this.maxBackoffMs);
      if (Date.now() + delayMs >= deadlineMs) {
        throw new StaleMetadataError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `no metadata for topic '${topic}' within maxBlockMs${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
          { topic, cause: lastError },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  async refreshMetadata(topics: readonly string[]): Promise<void> {
    await this.cluster.refreshMetadata([...topics]);
  }

  async initProducerId(): Promise<ProducerIdentity | null> {
    const connection = await this.cluster.anyConnection();
    if (!connection.apiVersions.has(InitProducerIdApi.key)) return null;
    const response = await connection.send(InitProducerIdApi, {
      transactionalId: null,
      transactionTimeoutMs: -1,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (response.errorCode !== ErrorCode.NONE) throw errorFromCode(response.errorCode);
    return { producerId: Number(response.producerId), producerEpoch: response.producerEpoch };
  }

  async produce(nodeId: number, request: ProduceRequest<RecordsPayload>): Promise<ProduceResponse | null> {
    const connection = await this.cluster.connection(nodeId);
    let version = this.versions.get(connection);
    if (version === undefined) {
      version = connection.versionFor({ ...ProduceApi, minVersion: this.minVersion });
      this.versions.set(connection, version);
    }
    if (this.acks === 0) {
      await connection.send(ProduceApi, request, { version, expectResponse: false });
      return null;
    }
    return connection.send(ProduceApi, request, { version });
  }
}

/** The transaction coordinator's and the groups' coordinators' requests, over a Cluster. */
class ClusterTransactionTarget implements TransactionTarget {
  constructor(private readonly cluster: Cluster) {}

  async initProducerId(
    transactionalId: string,
    transactionTimeoutMs: number,
    current: ProducerIdentity | null,
  ): Promise<{ errorCode: number; identity: ProducerIdentity }> {
    const connection = await this.cluster.transactionCoordinator(transactionalId);
    const version = connection.versionFor(InitProducerIdApi);
    // Before v3 the coordinator cannot bump a given epoch; asking afresh fences the old one just as well.
    const bump = current !== null && version >= INIT_PRODUCER_ID_BUMP_MIN_VERSION;
    const response = await connection.send(
      InitProducerIdApi,
      {
        transactionalId,
        transactionTimeoutMs,
        producerId: bump ? BigInt(current.producerId) : -1n,
        producerEpoch: bump ? current.producerEpoch : -1,
      },
      { version },
    );
    return {
      errorCode: response.errorCode,
      identity: { producerId: Number(response.producerId), producerEpoch: response.producerEpoch },
    };
  }

  async addPartitions(
    transactionalId: string,
    identity: ProducerIdentity,
    partitions: readonly TopicPartitionRef[],
  ): Promise<number[]> {
    const connection = await this.cluster.transactionCoordinator(transactionalId);
    const version = connection.versionFor(AddPartitionsToTxnApi, ADD_PARTITIONS_CLIENT_MAX_VERSION);
    const response = await connection.send(
      AddPartitionsToTxnApi,
      {
        transactions: [],
        v3AndBelowTransactionalId: transactionalId,
        v3AndBelowProducerId: BigInt(identity.producerId),
        v3AndBelowProducerEpoch: identity.producerEpoch,
        v3AndBelowTopics: groupBy(partitions, (p) => p.topic).map(([name, entries]) => ({
          name,
          partitions: entries.map((p) => p.partition),
        })),
      },
      { version },
    );
    const codes = new Map<string, number>();
    for (const topic of response.resultsByTopicV3AndBelow) {
      for (const p of topic.resultsByPartition)
        codes.set(`${topic.name}:${p.partitionIndex}`, p.partitionErrorCode);
    }
    // A partition the answer leaves out was not added.
    return partitions.map((p) => codes.get(`${p.topic}:${p.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR);
  }

  async addOffsets(transactionalId: string, identity: ProducerIdentity, groupId: string): Promise<number> {
    const connection = await this.cluster.transactionCoordinator(transactionalId);
    const response = await connection.send(AddOffsetsToTxnApi, {
      transactionalId,
      producerId: BigInt(identity.producerId),
      producerEpoch: identity.producerEpoch,
      groupId,
    });
    return response.errorCode;
  }

  async commitOffsets(
    transactionalId: string,
    identity: ProducerIdentity,
    group: ConsumerGroupMetadata,
    offsets: readonly TransactionOffset[],
  ): Promise<number[]> {
    const connection = await this.cluster.coordinator(group.groupId);
    const response = await connection.send(TxnOffsetCommitApi, {
      transactionalId,
      groupId: group.groupId,
      producerId: BigInt(identity.producerId),
      producerEpoch: identity.producerEpoch,
      generationId: group.generationId ?? -1,
      memberId: group.memberId ?? '',
      groupInstanceId: group.groupInstanceId ?? null,
      topics: groupBy(offsets, (o) => o.topic).map(([name, entries]) => ({
        name,
        partitions: entries.map((o) => ({
          partitionIndex: o.partition,
          committedOffset: BigInt(o.offset),
          committedLeaderEpoch: o.leaderEpoch ?? -1,
          committedMetadata: o.metadata ?? null,
        })),
      })),
    });
    const codes: number[] = [];
    for (const topic of response.topics) {
      for (const p of topic.partitions) codes.push(p.errorCode);
    }
    return codes.length === 0 ? [ErrorCode.UNKNOWN_SERVER_ERROR] : codes;
  }

  async endTransaction(
    transactionalId: string,
    identity: ProducerIdentity,
    commit: boolean,
  ): Promise<number> {
    const connection = await this.cluster.transactionCoordinator(transactionalId);
    const response = await connection.send(EndTxnApi, {
      transactionalId,
      producerId: BigInt(identity.producerId),
      producerEpoch: identity.producerEpoch,
      committed: commit,
    });
    return response.errorCode;
  }

  invalidateCoordinator(kind: 'transaction' | 'group', key: string): void {
    if (kind === 'transaction') this.cluster.invalidateTransactionCoordinator(key);
    else this.cluster.invalidateCoordinator(key);
  }
}

/**
 * Produces records to Kafka topics. Records are batched per partition (lingerMs, batchSize) within a bounded
 * buffer (bufferMemory); send() resolves once its records are acknowledged.
 *
 * ```ts
 * const producer = new Producer({ bootstrap: '127.0.0.1:9092', compression: 'lz4' });
 * await producer.connect();
 * const [meta] = await producer.send({ topic: 't', messages: [{ key: 'k', value: 'v' }] });
 * await producer.close();
 * ```
 */
export class Producer {
  readonly cluster: Cluster;
  private readonly engine: ProducerEngine;
  private readonly transactions: TransactionManager | null = null;

  constructor(options: ProducerOptions) {
    const config = resolveConfig(options);
    this.cluster = new Cluster(options);
    this.engine = new ProducerEngine(
      config,
      new ClusterTarget(this.cluster, config, options.allowAutoTopicCreation ?? true),
    );
    if (config.transactionalId !== null) {
      const transactions = new TransactionManager(
        {
          transactionalId: config.transactionalId,
          transactionTimeoutMs: checkInteger(
            'transactionTimeoutMs',
            options.transactionTimeoutMs ?? DEFAULTS.transactionTimeoutMs,
            1,
          ),
          operationTimeoutMs: config.maxBlockMs,
          initialBackoffMs: config.initialBackoffMs,
          maxBackoffMs: config.maxBackoffMs,
        },
        this.engine,
        new ClusterTransactionTarget(this.cluster),
      );
      this.engine.enableTransactions(transactions, () => transactions.sendRefusal());
      this.transactions = transactions;
    }
  }

  /** A transactional producer's state ('uninitialized' before initTransactions()); null for the others. */
  get transactionState(): TransactionState | null {
    return this.transactions?.state ?? null;
  }

  /**
   * Registers the transactional id with its coordinator and takes its producer id and a new epoch, fencing
   * every older producer with the same id; a transaction they left open is aborted first. Once per producer.
   */
  initTransactions(): Promise<void> {
    return this.transactional('initTransactions()').initTransactions();
  }

  /** Starts a transaction: send() is allowed until commitTransaction() or abortTransaction(). */
  beginTransaction(): void {
    this.transactional('beginTransaction()').beginTransaction();
  }

  /**
   * Commits consumer offsets as part of the transaction (consume-transform-produce exactly once): the group
   * sees them when the transaction commits and never if it aborts. Pass Consumer.groupMetadata() so that a
   * member rebalanced away cannot commit.
   */
  sendOffsetsToTransaction(
    offsets: readonly TransactionOffset[],
    group: ConsumerGroupMetadata | string,
  ): Promise<void> {
    return this.transactional('sendOffsetsToTransaction()').sendOffsets(
      offsets,
      typeof group === 'string' ? { groupId: group } : group,
    );
  }

  /**
   * Sends every record of the transaction, then commits it. If a record failed, the transaction cannot
   * commit: this rejects with that error and abortTransaction() must follow.
   */
  commitTransaction(): Promise<void> {
    return this.transactional('commitTransaction()').commitTransaction();
  }

  /** Fails the transaction's records not yet sent (TransactionAbortedError) and aborts the transaction. */
  abortTransaction(): Promise<void> {
    return this.transactional('abortTransaction()').abortTransaction();
  }

  private transactional(operation: string): TransactionManager {
    if (this.transactions === null) {
      throw new TransactionStateError(`${operation} needs a transactional producer (set transactionalId)`);
    }
    return this.transactions;
  }

  /** Connects to the cluster (bootstrap and broker list). */
  connect(): Promise<void> {
    return this.cluster.connect();
  }

  /**
   * Queues the messages and resolves with one RecordMetadata per message, in order, once all are acknowledged.
   * Rejects with the first error of any of its records (records in other batches may still have been written),
   * with BufferFullError when buffer memory stays full for maxBlockMs, and with ClientClosedError after close().
   */
  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.engine.send(record.topic, record.messages);
  }

  /** send() for several topics at once; the results are concatenated in the order given. */
  async sendBatch(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    const results = await Promise.all(
      records.map((record) => this.engine.send(record.topic, record.messages)),
    );
    return results.flat();
  }

  /** Sends everything queued now, without waiting for lingerMs, and waits until it has completed. */
  flush(): Promise<void> {
    return this.engine.flush();
  }

  /** Flushes, then closes the connections. Later sends fail with ClientClosedError. */
  async close(): Promise<void> {
    await this.engine.close();
    await this.cluster.close();
  }
}
