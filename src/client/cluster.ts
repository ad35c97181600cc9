// The client's view of a Kafka cluster: bootstrap, a metadata cache that refreshes itself, one pooled
// connection per broker, group coordinator lookups, and the retry loop every client operation runs in.

import { ErrorCode } from '../protocol/errors.js';
import {
  FindCoordinatorApi,
  MetadataApi,
  type MetadataRequest,
  type MetadataResponse,
} from '../protocol/generated/index.js';
import { ZERO_UUID } from '../protocol/primitives/uuid.js';
import { BrokerConnection, type ClientLogger, silentLogger } from './connection.js';
import {
  ClientClosedError,
  ConfigError,
  ConnectionError,
  CoordinatorError,
  errorFromCode,
  KafkaClientError,
  StaleMetadataError,
} from './errors.js';
import { type SaslOptions, validateSaslOptions } from './sasl.js';
import { resolveSslOptions, type SslOptions, type TlsSettings } from './tls.js';

export type { ClientLogger } from './connection.js';
export type { SaslMechanism, SaslOptions } from './sasl.js';
export type { PemInput, SslOptions } from './tls.js';

export interface RetryOptions {
  /** Attempts after the first. Default 5. */
  retries?: number;
  /** Delay before the first retry; doubles each time. Default 100. */
  initialBackoffMs?: number;
  /** Upper bound of one delay. Default 1000. */
  maxBackoffMs?: number;
}

export interface ClientOptions {
  /** 'host:port' or a list of them ('[::1]:9092' for IPv6). */
  bootstrap: string | string[];
  /** Default 'sluice'. */
  clientId?: string;
  /** Default 30000. */
  requestTimeoutMs?: number;
  /** Default 10000. */
  connectTimeoutMs?: number;
  retry?: RetryOptions;
  /** Metadata older than this is refreshed in the background. Default 300000. */
  metadataMaxAgeMs?: number;
  /** Default: silent. */
  logger?: ClientLogger;
  /**
   * Credentials for brokers whose listener requires SASL (SASL_PLAINTEXT, SASL_SSL). Every connection
   * authenticates before its first request; a refusal is a non-retriable SaslAuthenticationError or
   * UnsupportedSaslMechanismError. Default: no authentication.
   */
  sasl?: SaslOptions;
  /**
   * TLS, for brokers whose listener is SSL or SASL_SSL: true for the defaults (Node's root CAs, the broker's
   * certificate verified), or SslOptions (a CA, a client certificate for mutual TLS). A connection counts as up
   * after the TLS handshake; a TLS failure is a non-retriable TlsError. Checked at construction (ConfigError).
   * Default: plaintext.
   */
  ssl?: true | SslOptions;
}

export interface PartitionInfo {
  partition: number;
  /** Node id of the leader, -1 when there is none. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface TopicInfo {
  name: string;
  topicId: string;
  isInternal: boolean;
  /** Sorted by partition; index i holds partition i when the broker reported every partition. */
  partitions: PartitionInfo[];
}

/** The topic's partition `partition`, found in constant time when the broker reported every partition. */
export function partitionInfo(info: TopicInfo, partition: number): PartitionInfo | undefined {
  const atIndex = info.partitions[partition];
  if (atIndex?.partition === partition) return atIndex;
  return info.partitions.find((p) => p.partition === partition);
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: Map<number, BrokerInfo>;
  topics: Map<string, TopicInfo>;
}

export interface BrokerAddress {
  host: string;
  port: number;
}

const DEFAULTS = {
  clientId: 'sluice',
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  retries: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 1_000,
  metadataMaxAgeMs: 300_000,
};
/** Backoff delays vary by this fraction either way, so that clients failing together do not retry together. */
const BACKOFF_JITTER = 0.2;
/** FindCoordinator key types: a consumer group, or a transactional id (KIP-98). */
export type CoordinatorKeyType = 0 | 1;
const COORDINATOR_KEY_TYPE_GROUP = 0;
export const COORDINATOR_KEY_TYPE_TRANSACTION = 1;
/** Metadata v0 cannot ask for "no topics" (an empty list means all), so the client needs v1 or later. */
const METADATA_MIN_VERSION = 1;

/** Parses 'host:port', 'host' (port 9092) or '[v6addr]:port'. */
export function parseBrokerAddress(text: string): BrokerAddress {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  const [host, portText] = bracketed
    ? [bracketed[1], bracketed[2]]
    : trimmed.includes(':')
      ? [trimmed.slice(0, trimmed.lastIndexOf(':')), trimmed.slice(trimmed.lastIndexOf(':') + 1)]
      : [trimmed, undefined];
  const port = portText === undefined ? 9092 : Number(portText);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(ErrorCode.INVALID_CONFIG, `not a broker address: '${text}'`);
  }
  return { host, port };
}

/** Exponential backoff for retry `attempt` (0-based), capped at maxMs, with ±20% jitter. */
export function backoffDelayMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** attempt);
  const jittered = base * (1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * random());
  return Math.max(0, Math.min(maxMs, Math.round(jittered)));
}

interface Sleeper {
  timer: NodeJS.Timeout;
  reject: (error: Error) => void;
}

export class Cluster {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: ClientLogger;
  private readonly sasl: SaslOptions | undefined;
  private readonly tls: TlsSettings | undefined;
  private readonly bootstrapAddresses: BrokerAddress[];
  private readonly retries: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly metadataMaxAgeMs: number;

  private cache: ClusterMetadata = {
    clusterId: null,
    controllerId: -1,
    brokers: new Map(),
    topics: new Map(),
  };
  /** Why the last refresh did not return a topic, for topic() to report precisely. */
  private readonly topicErrors = new Map<string, KafkaClientError>();
  private readonly refreshes = new Map<string, Promise<ClusterMetadata>>();
  /** Pooled connections by poolKey(nodeId, purpose). */
  private readonly pool = new Map<string, BrokerConnection>();
  private readonly poolConnecting = new Map<string, Promise<BrokerConnection>>();
  private bootstrapConnection: BrokerConnection | null = null;
  /** Coordinators by coordinatorCacheKey(keyType, key). */
  private readonly coordinators = new Map<string, number>();
  private readonly coordinatorLookups = new Map<string, Promise<number>>();
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly sleepers = new Set<Sleeper>();
  private closed = false;

  constructor(options: ClientOptions) {
    const bootstrap = Array.isArray(options.bootstrap) ? options.bootstrap : options.bootstrap.split(',');
    this.bootstrapAddresses = bootstrap.filter((entry) => entry.trim() !== '').map(parseBrokerAddress);
    if (this.bootstrapAddresses.length === 0) {
      throw new ConfigError(ErrorCode.INVALID_CONFIG, 'bootstrap lists no broker');
    }
    this.clientId = options.clientId ?? DEFAULTS.clientId;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    this.retries = options.retry?.retries ?? DEFAULTS.retries;
    this.initialBackoffMs = options.retry?.initialBackoffMs ?? DEFAULTS.initialBackoffMs;
    this.maxBackoffMs = options.retry?.maxBackoffMs ?? DEFAULTS.maxBackoffMs;
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? DEFAULTS.metadataMaxAgeMs;
    this.logger = options.logger ?? silentLogger;
    this.sasl = options.sasl === undefined ? undefined : validateSaslOptions(options.sasl);
    this.tls = options.ssl === undefined ? undefined : resolveSslOptions(options.ssl);
  }

  get metadata(): ClusterMetadata {
    return this.cache;
  }

  /** Connects to the first reachable bootstrap broker and loads the broker list (no topics). */
  async connect(): Promise<void> {
    this.assertOpen();
    if (this.bootstrapConnection?.isConnected || this.pool.size > 0) return;
    const failures: string[] = [];
    for (const address of this.bootstrapAddresses) {
      const connection = this.newConnection(address, -1);
      try {
        await connection.connect();
        this.bootstrapConnection = connection;
        await this.refreshMetadata([]);
        this.startRefreshTimer();
        return;
      } catch (error) {
        await connection.close();
        if (this.bootstrapConnection === connection) this.bootstrapConnection = null;
        if (!(error instanceof ConnectionError)) throw error;
        failures.push(error.message);
      }
    }
    throw new ConnectionError(`no bootstrap broker is reachable: ${failures.join('; ')}`);
  }

  /** Closes every connection and timer; pending retries fail with ClientClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.reject(new ClientClosedError());
    }
    this.sleepers.clear();
    const connections = [...this.pool.values()];
    if (this.bootstrapConnection !== null) connections.push(this.bootstrapConnection);
    this.pool.clear();
    this.bootstrapConnection = null;
    await Promise.all(connections.map((connection) => connection.close()));
  }

  /**
   * Fetches metadata and merges it into the cache. `topics`: undefined = the topics already cached, null = all
   * topics, [] = brokers only. Concurrent calls for the same topics share one request.
   */
  refreshMetadata(
    topics?: string[] | null,
    options: { allowAutoTopicCreation?: boolean } = {},
  ): Promise<ClusterMetadata> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    const requested = topics === undefined ? [...this.cache.topics.keys()] : topics;
    const autoCreate = options.allowAutoTopicCreation ?? false;
    const key = `${autoCreate}:${requested === null ? '*' : [...requested].sort().join('\u0000')}`;
    let refresh = this.refreshes.get(key);
    if (refresh === undefined) {
      refresh = this.fetchMetadata(requested, autoCreate).finally(() => this.refreshes.delete(key));
      this.refreshes.set(key, refresh);
    }
    return refresh;
  }

  /** Cached or fetched; throws the broker's error for the topic (UNKNOWN_TOPIC_OR_PARTITION if absent). */
  async topic(name: string): Promise<TopicInfo> {
    const cached = this.cache.topics.get(name);
    if (cached !== undefined) return cached;
    await this.refreshMetadata([name]);
    const fetched = this.cache.topics.get(name);
    if (fetched !== undefined) return fetched;
    throw (
      this.topicErrors.get(name) ??
      new StaleMetadataError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${name}' does not exist`, {
        topic: name,
      })
    );
  }

  async leaderConnection(topic: string, partition: number): Promise<BrokerConnection> {
    const info = await this.topic(topic);
    const found = partitionInfo(info, partition);
    if (found === undefined) {
      throw new StaleMetadataError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `topic '${topic}' has no partition ${partition}`,
        { topic, partition },
      );
    }
    if (found.leader < 0) {
      throw new StaleMetadataError(ErrorCode.LEADER_NOT_AVAILABLE, undefined, { topic, partition });
    }
    return this.connection(found.leader);
  }

  /**
   * The pooled connection to a broker, (re)connected if needed. Group requests go over a connection of their
   * own ('coordinator'): a broker handles one connection's requests one at a time, so a heartbeat must not
   * wait behind a long-polling Fetch, nor a Fetch behind a JoinGroup that lasts the whole rebalance (the Java
   * client and librdkafka do the same).
   */
  connection(nodeId: number, purpose: ConnectionPurpose = 'data'): Promise<BrokerConnection> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    const key = poolKey(nodeId, purpose);
    const existing = this.pool.get(key);
    const broker = this.cache.brokers.get(nodeId);
    if (existing?.isConnected && (broker === undefined || sameAddress(existing, broker))) {
      return Promise.resolve(existing);
    }
    let connecting = this.poolConnecting.get(key);
    if (connecting === undefined) {
      connecting = this.openPooled(nodeId, key).finally(() => this.poolConnecting.delete(key));
      this.poolConnecting.set(key, connecting);
    }
    return connecting;
  }

  /** The least-loaded connected broker, else the first known broker that accepts a connection. */
  async anyConnection(): Promise<BrokerConnection> {
    this.assertOpen();
    let best: BrokerConnection | null = null;
    for (const connection of this.pool.values()) {
      if (connection.isConnected && (best === null || connection.inFlightCount < best.inFlightCount)) {
        best = connection;
      }
    }
    if (best !== null) return best;
    if (this.bootstrapConnection?.isConnected) return this.bootstrapConnection;
    const failures: string[] = [];
    for (const nodeId of shuffled([...this.cache.brokers.keys()])) {
      try {
        return await this.connection(nodeId);
      } catch (error) {
        if (!(error instanceof ConnectionError)) throw error;
        failures.push(error.message);
      }
    }
    for (const address of this.bootstrapAddresses) {
      const connection = this.newConnection(address, -1);
      try {
        await connection.connect();
        const previous = this.bootstrapConnection;
        this.bootstrapConnection = connection;
        if (previous !== null) void previous.close();
        return connection;
      } catch (error) {
        await connection.close();
        if (!(error instanceof ConnectionError)) throw error;
        failures.push(error.message);
      }
    }
    throw new ConnectionError(`no broker is reachable: ${failures.join('; ')}`);
  }

  /** The controller (CreateTopics, DeleteTopics, CreatePartitions and config changes go there). */
  async controller(): Promise<BrokerConnection> {
    if (this.cache.controllerId < 0) await this.refreshMetadata();
    const controllerId = this.cache.controllerId;
    if (controllerId < 0) {
      throw new StaleMetadataError(ErrorCode.NOT_CONTROLLER, 'the cluster metadata names no controller');
    }
    return this.connection(controllerId);
  }

  /** The group's coordinator, found with FindCoordinator and cached until invalidateCoordinator(). */
  coordinator(groupId: string): Promise<BrokerConnection> {
    return this.coordinatorOf(COORDINATOR_KEY_TYPE_GROUP, groupId);
  }

  invalidateCoordinator(groupId: string): void {
    this.coordinators.delete(coordinatorCacheKey(COORDINATOR_KEY_TYPE_GROUP, groupId));
  }

  /** The transaction coordinator of a transactional id, cached until invalidateTransactionCoordinator(). */
  transactionCoordinator(transactionalId: string): Promise<BrokerConnection> {
    return this.coordinatorOf(COORDINATOR_KEY_TYPE_TRANSACTION, transactionalId);
  }

  invalidateTransactionCoordinator(transactionalId: string): void {
    this.coordinators.delete(coordinatorCacheKey(COORDINATOR_KEY_TYPE_TRANSACTION, transactionalId));
  }

  private async coordinatorOf(keyType: CoordinatorKeyType, key: string): Promise<BrokerConnection> {
    const cacheKey = coordinatorCacheKey(keyType, key);
    let nodeId = this.coordinators.get(cacheKey);
    if (nodeId === undefined) {
      let lookup = this.coordinatorLookups.get(cacheKey);
      if (lookup === undefined) {
        lookup = this.findCoordinator(keyType, key).finally(() => this.coordinatorLookups.delete(cacheKey));
        this.coordinatorLookups.set(cacheKey, lookup);
      }
      nodeId = await lookup;
    }
    try {
      return await this.connection(nodeId, 'coordinator');
    } catch (error) {
      this.coordinators.delete(cacheKey);
      throw error;
    }
  }

  /**
   * Runs `operation` until it succeeds, retrying retriable KafkaClientErrors up to `retries` times with
   * exponential backoff and jitter. Before each retry it repairs what the error points at: metadata for
   * StaleMetadataError and ConnectionError, the coordinator for CoordinatorError. Operations should resolve
   * their connections inside `operation`, so that each attempt uses the repaired view.
   */
  async retry<T>(operation: (attempt: number) => Promise<T>, options: { retries?: number } = {}): Promise<T> {
    const retries = options.retries ?? this.retries;
    for (let attempt = 0; ; attempt++) {
      this.assertOpen();
      try {
        return await operation(attempt);
      } catch (error) {
        if (!(error instanceof KafkaClientError) || !error.retriable || attempt >= retries || this.closed) {
          throw error;
        }
        const delayMs = backoffDelayMs(attempt, this.initialBackoffMs, this.maxBackoffMs);
        this.logger.debug('retrying', {
          attempt: attempt + 1,
          delayMs,
          type: error.type,
          message: error.message,
        });
        await this.sleep(delayMs);
        await this.repair(error);
      }
    }
  }

  private async repair(error: KafkaClientError): Promise<void> {
    if (error instanceof CoordinatorError) {
      if (error.groupId !== undefined) this.invalidateCoordinator(error.groupId);
      else this.coordinators.clear();
      return;
    }
    if (error instanceof ConnectionError) this.coordinators.clear();
    if (error instanceof StaleMetadataError || error instanceof ConnectionError) {
      const topics =
        error.topic === undefined ? undefined : [...new Set([...this.cache.topics.keys(), error.topic])];
      try {
        await this.refreshMetadata(topics);
      } catch (refreshError) {
        // The next attempt reports what is still wrong; a failed repair must not end the retries early.
        this.logger.debug('metadata refresh before retry failed', {
          message: (refreshError as Error).message,
        });
      }
    }
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, delayMs),
        reject,
      };
      this.sleepers.add(sleeper);
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }

  private newConnection(address: BrokerAddress, nodeId: number): BrokerConnection {
    return new BrokerConnection({
      host: address.host,
      port: address.port,
      nodeId,
      clientId: this.clientId,
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      logger: this.logger,
      sasl: this.sasl,
      tls: this.tls,
    });
  }

  private async openPooled(nodeId: number, key: string): Promise<BrokerConnection> {
    let broker = this.cache.brokers.get(nodeId);
    if (broker === undefined) {
      await this.refreshMetadata();
      broker = this.cache.brokers.get(nodeId);
      if (broker === undefined) throw new ConnectionError(`broker ${nodeId} is not in the cluster metadata`);
    }
    let connection = this.pool.get(key);
    if (connection === undefined || !sameAddress(connection, broker)) {
      // The broker moved (or is new): its old connection, if any, points at the wrong address.
      if (connection !== undefined) void connection.close();
      connection = this.newConnection(broker, nodeId);
      this.pool.set(key, connection);
    }
    await connection.connect();
    if (this.closed) {
      await connection.close();
      throw new ClientClosedError();
    }
    // With a pooled connection up, the bootstrap connection has done its job.
    const bootstrap = this.bootstrapConnection;
    if (bootstrap !== null && bootstrap.inFlightCount === 0) {
      this.bootstrapConnection = null;
      void bootstrap.close();
    }
    return connection;
  }

  private startRefreshTimer(): void {
    if (this.refreshTimer !== null) return;
    this.refreshTimer = setInterval(() => {
      this.refreshMetadata().catch((error: unknown) => {
        this.logger.warn('periodic metadata refresh failed', { message: (error as Error).message });
      });
    }, this.metadataMaxAgeMs);
    // A client with nothing else to do must not keep the process alive.
    this.refreshTimer.unref();
  }

  private async fetchMetadata(
    topics: string[] | null,
    allowAutoTopicCreation: boolean,
  ): Promise<ClusterMetadata> {
    const connection = await this.anyConnection();
    const version = connection.versionFor({ ...MetadataApi, minVersion: METADATA_MIN_VERSION });
    const request: MetadataRequest = {
      topics: topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name })),
      allowAutoTopicCreation,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    };
    const response = await connection.send(MetadataApi, request, { version });
    this.applyMetadata(response, topics);
    return this.cache;
  }

  private applyMetadata(response: MetadataResponse, requested: string[] | null): void {
    const brokers = new Map<number, BrokerInfo>();
    for (const b of response.brokers)
      brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    const topics = requested === null ? new Map<string, TopicInfo>() : new Map(this.cache.topics);
    for (const t of response.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== ErrorCode.NONE) {
        topics.delete(t.name);
        this.topicErrors.set(t.name, errorFromCode(t.errorCode, undefined, { topic: t.name }));
        continue;
      }
      this.topicErrors.delete(t.name);
      const partitions = t.partitions
        .map((p) => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
        }))
        .sort((a, b) => a.partition - b.partition);
      topics.set(t.name, { name: t.name, topicId: t.topicId, isInternal: t.isInternal, partitions });
    }
    this.cache = { clusterId: response.clusterId, controllerId: response.controllerId, brokers, topics };
  }

  private async findCoordinator(keyType: CoordinatorKeyType, key: string): Promise<number> {
    const connection = await this.anyConnection();
    // Key type 1 (transactions) needs FindCoordinator v1.
    const version = connection.versionFor(
      keyType === COORDINATOR_KEY_TYPE_GROUP ? FindCoordinatorApi : { ...FindCoordinatorApi, minVersion: 1 },
    );
    const response = await connection.send(
      FindCoordinatorApi,
      { key, keyType, coordinatorKeys: [key] },
      { version },
    );
    // Errors name the group; a transactional id's coordinator errors carry none (repair then forgets all).
    const context = keyType === COORDINATOR_KEY_TYPE_GROUP ? { groupId: key } : {};
    // v4+ answers per key (KIP-699); earlier versions answer at the top level.
    const answer = version >= 4 ? response.coordinators.find((c) => c.key === key) : response;
    if (answer === undefined) {
      throw new CoordinatorError(
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        `FindCoordinator did not answer for '${key}'`,
        context,
      );
    }
    if (answer.errorCode !== ErrorCode.NONE) {
      throw errorFromCode(answer.errorCode, answer.errorMessage ?? undefined, context);
    }
    if (!this.cache.brokers.has(answer.nodeId)) {
      this.cache.brokers.set(answer.nodeId, {
        nodeId: answer.nodeId,
        host: answer.host,
        port: answer.port,
        rack: null,
      });
    }
    this.coordinators.set(coordinatorCacheKey(keyType, key), answer.nodeId);
    return answer.nodeId;
  }
}

/** What a pooled connection carries: partition data (produce, fetch, offsets) or one group's requests. */
export type ConnectionPurpose = 'data' | 'coordinator';

function coordinatorCacheKey(keyType: CoordinatorKeyType, key: string): string {
  return `${keyType}:${key}`;
}

function poolKey(nodeId: number, purpose: ConnectionPurpose): string {
  return `${purpose}:${nodeId}`;
}

function sameAddress(connection: BrokerConnection, broker: BrokerAddress): boolean {
  return connection.host === broker.host && connection.port === broker.port;
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
