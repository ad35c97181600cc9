// Starts one Sluice broker: metadata store, logs, coordinator and the Kafka listeners, in that order, and
// stops them in reverse on close.
import { BufferPool } from '../common/buffer-pool.js';
import type { BrokerConfig } from '../common/config.js';
import { formatHostPort, type SecurityProtocol, usesSasl, usesTls } from '../common/config-values.js';
import type { Logger } from '../common/logger.js';
import { GroupCoordinator, realScheduler } from '../coordinator/index.js';
import { TransactionCoordinator } from '../coordinator/transactions/index.js';
import { type BrokerEndpoint, EmbeddedMetadataStore } from '../metadata/index.js';
import { DEFAULT_TAIL_CACHE_BUDGET_BYTES, LogManager } from '../storage/index.js';
import type { BrokerServices } from './context.js';
import { Controller } from './controller.js';
import { createDispatcher } from './dispatcher.js';
import { brokerHandlers } from './handlers/index.js';
import { OFFSETS_TOPIC, OffsetsTopic } from './offsets-topic.js';
import { partitionCapacity, readOpenFileLimit } from './partition-capacity.js';
import { ProducerIdManager } from './producer-ids.js';
import { ReplicaManager } from './replica-manager.js';
import { RequestMemory } from './request-memory.js';
import { Authorizer } from './security/authorizer.js';
import { SaslSession, SCRAM_MECHANISMS, tlsServerOptions, UserCredentials } from './security/index.js';
import { KafkaServer } from './server.js';
import { defaultLogConfig } from './topic-settings.js';
import {
  BrokerTransactionMarkerWriter,
  TRANSACTION_STATE_TOPIC,
  TransactionStateTopic,
} from './transaction-state-topic.js';

/** A listener as bound: `port` is the one the OS chose for a port-0 listener. */
export interface BoundListener {
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  readonly host: string;
  readonly port: number;
}

export interface RunningBroker {
  /** Where the first listener is bound. */
  readonly host: string;
  readonly port: number;
  /** Every listener, in the order of `listeners`. */
  readonly listeners: readonly BoundListener[];
  close(): Promise<void>;
}

export async function startBroker(config: BrokerConfig, logger: Logger): Promise<RunningBroker> {
  const protocols = config.listeners.map((listener) => listener.securityProtocol);
  // TLS first: a keystore that cannot be used stops the start before any data file is opened.
  const tls = protocols.some(usesTls) ? await tlsServerOptions(config) : undefined;
  const metadata = await EmbeddedMetadataStore.open(config.dataDir, {
    nodeId: config.nodeId,
    clusterId: config.clusterId,
    logger,
  });
  const saslSessionOptions = protocols.some(usesSasl)
    ? {
        enabledMechanisms: config.saslEnabledMechanisms,
        credentials: await UserCredentials.fromUsers(config.saslUsers, {
          scramMechanisms: SCRAM_MECHANISMS.filter((mechanism) =>
            config.saslEnabledMechanisms.includes(mechanism),
          ),
          dynamic: metadata,
        }),
      }
    : null;
  // One pool for the data path: request frames become tail-cache copies and read windows become responses,
  // so memory freed by one is the next allocation of another. It keeps as many free bytes as the data path
  // holds at once: Fetch responses (fetch.memory.bytes) and the tail cache. Kept smaller, frames and chunks
  // of different sizes pushed each other off the free list: ingest reallocated one tail-cache chunk in six
  // and catch-up one read window in eight, and every megabyte allocated is external memory that V8 collects
  // with full mark-compacts (ten a second under either load).
  const bufferPool = new BufferPool(config.fetchMemoryBytes + DEFAULT_TAIL_CACHE_BUDGET_BYTES);
  const stopPoolTrimming = trimPoolWhenIdle(bufferPool);
  const logs = await LogManager.open(config.dataDir, defaultLogConfig(config), {
    logger,
    retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
    recoveryPointCheckpointIntervalMs: config.logFlushOffsetCheckpointIntervalMs,
    producerIdExpirationMs: config.producerIdExpirationMs,
    bufferPool,
  });
  const replicaManager = new ReplicaManager(config.nodeId, config, metadata, logs, logger);
  const openFileLimit = await readOpenFileLimit();
  const capacity = partitionCapacity(openFileLimit);
  const controller = new Controller(config, metadata, replicaManager, logger, {
    partitionCapacity: capacity,
  });
  const hosted = controller.hostedPartitions();
  if (hosted > capacity) {
    logger.warn(
      { partitions: hosted, openFileLimit },
      'this broker hosts more partitions than its open-file limit leaves room for: raise the limit (ulimit -n)',
    );
  }
  // Port-0 listeners get their port once bound, before the broker registers these endpoints.
  const advertised: BrokerEndpoint[] = config.listeners.map((listener) => ({
    listener: listener.name,
    host: listener.advertisedHost,
    port: listener.advertisedPort,
  }));
  const offsetsTopic = new OffsetsTopic(config, replicaManager, controller, logger);
  const groupCoordinator = new GroupCoordinator({
    log: offsetsTopic,
    scheduler: realScheduler,
    config: {
      offsetsTopicPartitions: offsetsTopic.partitionCount(
        metadata.getTopic(OFFSETS_TOPIC)?.partitions.length,
      ),
      groupMinSessionTimeoutMs: config.groupMinSessionTimeoutMs,
      groupMaxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
      groupMaxSize: config.groupMaxSize,
      groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
      offsetsRetentionMs: config.offsetsRetentionMinutes * 60_000,
    },
    logger: { info: (m) => logger.info(m), warn: (m) => logger.warn(m) },
  });
  groupCoordinator.start();
  offsetsTopic.attach(groupCoordinator);
  controller.onTopicDeleted((topic) => groupCoordinator.removeOffsetsOfTopics(new Set([topic])));
  const stopLeadershipSync = replicaManager.onSynced(() => offsetsTopic.syncLeadership());
  const producerIds = new ProducerIdManager(metadata);
  const transactionStateTopic = new TransactionStateTopic(config, replicaManager, controller, logger);
  const transactionCoordinator = new TransactionCoordinator({
    log: transactionStateTopic,
    markers: new BrokerTransactionMarkerWriter(replicaManager, groupCoordinator),
    producerIds,
    scheduler: realScheduler,
    config: {
      transactionStatePartitions: transactionStateTopic.partitionCount(
        metadata.getTopic(TRANSACTION_STATE_TOPIC)?.partitions.length,
      ),
      transactionMaxTimeoutMs: config.transactionMaxTimeoutMs,
      transactionalIdExpirationMs: config.transactionalIdExpirationMs,
      abortTimedOutTransactionCleanupIntervalMs: config.transactionAbortTimedOutTransactionCleanupIntervalMs,
    },
    logger: { info: (m) => logger.info(m), warn: (m) => logger.warn(m) },
  });
  transactionCoordinator.start();
  transactionStateTopic.attach(transactionCoordinator);
  replicaManager.setTransactionVerifier(transactionCoordinator);
  // A TxnOffsetCommit writes only for a transaction that added the group's offsets partition (AddOffsetsToTxn).
  groupCoordinator.setTransactionalOffsetVerifier((offsetsPartition, producerId, producerEpoch) =>
    transactionCoordinator.verifyTransactionalProduce(
      producerId,
      producerEpoch,
      OFFSETS_TOPIC,
      offsetsPartition,
    ),
  );
  const stopTransactionStateSync = replicaManager.onSynced(() => transactionStateTopic.syncLeadership());
  await replicaManager.syncWithMetadata();

  const services: BrokerServices = {
    nodeId: config.nodeId,
    config,
    logger,
    metadata,
    replicaManager,
    controller,
    groupCoordinator,
    offsetsTopic,
    transactionCoordinator,
    transactionStateTopic,
    producerIds,
    advertised,
    authorizer: config.authorizerEnabled
      ? new Authorizer(metadata, {
          superUsers: config.superUsers,
          allowEveryoneIfNoAclFound: config.allowEveryoneIfNoAclFound,
        })
      : null,
  };
  const handler = createDispatcher(services, brokerHandlers());
  // queued.max.request.bytes bounds the broker, not each listener.
  const requestMemory =
    config.queuedMaxRequestBytes > 0 ? new RequestMemory(config.queuedMaxRequestBytes) : undefined;
  const servers: KafkaServer[] = [];
  const bound: BoundListener[] = [];
  try {
    for (const [index, listener] of config.listeners.entries()) {
      const server = new KafkaServer({
        host: listener.host,
        port: listener.port,
        listenerName: listener.name,
        ...(usesSasl(listener.securityProtocol) &&
          saslSessionOptions !== null && {
            createSaslSession: () => new SaslSession(saslSessionOptions),
            maxUnauthenticatedRequestBytes: config.saslServerMaxReceiveSize,
          }),
        ...(usesTls(listener.securityProtocol) && tls !== undefined && { tls }),
        handler,
        logger,
        maxRequestBytes: config.socketRequestMaxBytes,
        maxInFlightRequests: config.maxInFlightRequestsPerConnection,
        maxQueuedResponseBytes: config.queuedMaxResponseBytes,
        ...(requestMemory !== undefined && { requestMemory }),
        idleTimeoutMs: config.connectionsMaxIdleMs,
        bufferPool,
      });
      const address = await server.listen();
      servers.push(server);
      bound.push({ name: listener.name, securityProtocol: listener.securityProtocol, ...address });
      // With port 0 the OS picks the port; clients must be told the real one.
      if (advertised[index]!.port === 0) advertised[index]!.port = address.port;
    }
  } catch (error) {
    // A listener that cannot bind (port in use) stops the start; the ones already bound let go of theirs.
    await Promise.all(servers.map((server) => server.close(0)));
    throw error;
  }
  const first = advertised[0]!;
  await metadata.registerBroker({
    nodeId: config.nodeId,
    host: first.host,
    port: first.port,
    rack: null,
    endpoints: advertised,
  });

  const unsubscribe = metadata.onChange(() => {
    void replicaManager.syncWithMetadata();
  });
  logs.startBackgroundTasks();

  const firstBound = bound[0]!;
  logger.info(
    {
      host: firstBound.host,
      port: firstBound.port,
      advertised: formatHostPort(first),
      securityProtocol: firstBound.securityProtocol,
      listeners: bound,
      nodeId: config.nodeId,
    },
    'Sluice broker ready',
  );

  let closing: Promise<void> | null = null;
  return {
    host: firstBound.host,
    port: firstBound.port,
    listeners: bound,
    close() {
      closing ??= (async () => {
        logger.info('shutting down');
        unsubscribe();
        // Wake long polls and parked joins/syncs (they get NOT_COORDINATOR and rejoin elsewhere or later) so
        // in-flight requests answer promptly, then drain the connections.
        replicaManager.purgatory.close();
        stopLeadershipSync();
        stopTransactionStateSync();
        stopPoolTrimming();
        // In-flight EndTxn/InitProducerId calls answer NOT_COORDINATOR; a restart completes their transactions.
        transactionCoordinator.shutdown();
        groupCoordinator.shutdown();
        await Promise.all(servers.map((server) => server.close(config.shutdownTimeoutMs)));
        await replicaManager.close();
        await logs.close();
        await metadata.close();
        logger.info('shut down cleanly');
      })();
      return closing;
    },
  };
}

/** Free buffers unused this long go back to the system. */
const POOL_IDLE_MS = 5_000;
const POOL_TRIM_INTERVAL_MS = 1_000;

/**
 * Once a burst of load has passed, the buffers it left on the pool's free list are freed: the broker's RSS
 * comes back down instead of staying at its high-water mark. Under steady load free buffers are reused within
 * milliseconds and nothing is trimmed.
 */
function trimPoolWhenIdle(pool: BufferPool): () => void {
  const timer = setInterval(() => pool.trimIdle(POOL_IDLE_MS), POOL_TRIM_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
