// The transaction coordinator's durable state lives in the internal topic __transaction_state: one partition per
// slice of the transactional ids, whose leader is those ids' coordinator. This binds the coordinator to that
// topic (appends go straight to the partition log; a partition this broker comes to lead is replayed into the
// coordinator before it serves its ids) and to the partitions it writes markers into.
import type { BrokerConfig } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { GroupCoordinator } from '../coordinator/index.js';
import type {
  TransactionCoordinator,
  TransactionMarker,
  TransactionMarkerWriter,
  TransactionStateLog,
  TransactionStateRecord,
} from '../coordinator/transactions/index.js';
import { ErrorCode } from '../protocol/errors.js';
import { encodeRecordBatch } from '../protocol/records/index.js';
import type { Controller } from './controller.js';
import { InternalTopic, replayBatches } from './internal-topic.js';
import { OFFSETS_TOPIC } from './offsets-topic.js';
import type { HostedPartition, ReplicaManager } from './replica-manager.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

// Kafka's transaction.state.log.segment.bytes.
const TRANSACTION_STATE_SEGMENT_BYTES = 104_857_600;

export class TransactionStateTopic extends InternalTopic implements TransactionStateLog {
  private coordinator: TransactionCoordinator | null = null;

  constructor(config: BrokerConfig, replicaManager: ReplicaManager, controller: Controller, logger: Logger) {
    super(
      {
        name: TRANSACTION_STATE_TOPIC,
        numPartitions: config.transactionStateLogNumPartitions,
        replicationFactor: config.transactionStateLogReplicationFactor,
        segmentBytes: TRANSACTION_STATE_SEGMENT_BYTES,
      },
      replicaManager,
      controller,
      logger,
    );
  }

  attach(coordinator: TransactionCoordinator): void {
    this.coordinator = coordinator;
  }

  async append(partition: number, records: TransactionStateRecord[]): Promise<void> {
    const hosted = this.leader(partition);
    const now = Date.now();
    const batch = encodeRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value, headers: [], timestamp: now })),
    });
    await hosted.log.append(batch, hosted.state.leaderEpoch);
  }

  /**
   * Loads the partitions this broker now leads into the coordinator, and unloads the others. The leader
   * epoch a partition is loaded under is the coordinator epoch written into markers.
   */
  syncLeadership(): void {
    const coordinator = this.coordinator;
    if (coordinator === null) return;
    this.syncPartitions({
      load: (partition, hosted) =>
        coordinator.loadPartition(partition, hosted.state.leaderEpoch, stateRecords(hosted)),
      unload: (partition) => coordinator.unloadPartition(partition),
    });
  }
}

/** Every record of the partition in log order, tombstones too. The coordinator decodes what it keeps. */
async function* stateRecords(hosted: HostedPartition): AsyncIterable<TransactionStateRecord> {
  for await (const { batch, fromOffset } of replayBatches(hosted)) {
    if (batch.isControl) continue;
    for (const record of batch.records) {
      if (record.offset >= fromOffset && record.key !== null) yield { key: record.key, value: record.value };
    }
  }
}

/**
 * Writes markers into this broker's partition logs. A marker in __consumer_offsets also settles the group
 * coordinator's pending transactional offsets of that producer (commit materialises, abort drops them).
 */
export class BrokerTransactionMarkerWriter implements TransactionMarkerWriter {
  constructor(
    private readonly replicaManager: ReplicaManager,
    private readonly groupCoordinator: GroupCoordinator,
  ) {}

  async write(topic: string, partition: number, marker: TransactionMarker): Promise<number> {
    const errorCode = await this.replicaManager.writeTransactionMarker(topic, partition, marker);
    if (errorCode === ErrorCode.NONE && topic === OFFSETS_TOPIC) {
      this.groupCoordinator.completeTransaction(partition, marker.producerId, marker.commit);
    }
    return errorCode;
  }
}
