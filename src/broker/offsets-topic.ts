// The group coordinator's durable state lives in the internal topic __consumer_offsets: one partition per
// slice of the groups (partitionFor), whose leader is those groups' coordinator. This binds the coordinator
// to that topic: appends go straight to the partition log (no Produce path), and when this broker becomes a
// partition's leader it replays the partition into the coordinator before serving its groups.
// TxnOffsetCommit records are transactional batches of the committing producer; the transaction coordinator
// writes their markers into the same partitions, and the replay reads both back in log order.
import type { BrokerConfig } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type {
  CoordinatorLog,
  CoordinatorLogEntry,
  CoordinatorRecord,
  GroupCoordinator,
} from '../coordinator/index.js';
import { encodeRecordBatch } from '../protocol/records/index.js';
import type { Controller } from './controller.js';
import { InternalTopic, replayBatches } from './internal-topic.js';
import type { HostedPartition, ReplicaManager } from './replica-manager.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

// Kafka's offsets.topic.segment.bytes.
const OFFSETS_SEGMENT_BYTES = 104_857_600;
// Control record keys: int16 version, int16 type (Kafka's ControlRecordType).
const CONTROL_KEY_BYTES = 4;
const CONTROL_TYPE_ABORT = 0;
const CONTROL_TYPE_COMMIT = 1;

export class OffsetsTopic extends InternalTopic implements CoordinatorLog {
  private coordinator: GroupCoordinator | null = null;

  constructor(config: BrokerConfig, replicaManager: ReplicaManager, controller: Controller, logger: Logger) {
    super(
      {
        name: OFFSETS_TOPIC,
        numPartitions: config.offsetsTopicNumPartitions,
        replicationFactor: config.offsetsTopicReplicationFactor,
        segmentBytes: OFFSETS_SEGMENT_BYTES,
      },
      replicaManager,
      controller,
      logger,
    );
  }

  attach(coordinator: GroupCoordinator): void {
    this.coordinator = coordinator;
  }

  async append(partition: number, records: CoordinatorRecord[]): Promise<void> {
    const hosted = this.leader(partition);
    const batch = encodeRecordBatch({ records: batchRecords(records) });
    await hosted.log.append(batch, hosted.state.leaderEpoch);
  }

  async appendTransactional(
    partition: number,
    producerId: number,
    producerEpoch: number,
    records: CoordinatorRecord[],
  ): Promise<void> {
    const hosted = this.leader(partition);
    // No sequence: the coordinator's batches are not deduplicated (Kafka writes them the same way).
    const batch = encodeRecordBatch({
      records: batchRecords(records),
      producerId,
      producerEpoch,
      baseSequence: -1,
      isTransactional: true,
    });
    await hosted.log.append(batch, hosted.state.leaderEpoch, 'coordinator');
  }

  /** Loads the partitions this broker now leads into the coordinator, and unloads the others. */
  syncLeadership(): void {
    const coordinator = this.coordinator;
    if (coordinator === null) return;
    this.syncPartitions({
      load: (partition, hosted) => coordinator.loadPartition(partition, entries(hosted)),
      unload: (partition) => coordinator.unloadPartition(partition),
    });
  }
}

/**
 * Every record of the partition in log order, with its batch's producer id and transactional flag, and the
 * COMMIT/ABORT markers between them. The coordinator copies what it keeps of a record (coordinator/records.ts).
 */
async function* entries(hosted: HostedPartition): AsyncIterable<CoordinatorLogEntry> {
  for await (const { batch, fromOffset } of replayBatches(hosted)) {
    const { producerId, isTransactional } = batch;
    if (batch.isControl) {
      const marker = batch.records[0];
      const type = markerType(marker?.key ?? null);
      if (marker !== undefined && marker.offset >= fromOffset && type !== null) {
        yield { kind: 'marker', producerId, commit: type === CONTROL_TYPE_COMMIT };
      }
      continue;
    }
    for (const record of batch.records) {
      if (record.offset >= fromOffset && record.key !== null) {
        yield { key: record.key, value: record.value, producerId, isTransactional };
      }
    }
  }
}

function batchRecords(records: CoordinatorRecord[]) {
  const now = Date.now();
  return records.map((r) => ({ key: r.key, value: r.value, headers: [], timestamp: now }));
}

/** COMMIT or ABORT of a control record key; null for other control records (none are written here). */
function markerType(key: Buffer | null): number | null {
  if (key === null || key.length < CONTROL_KEY_BYTES) return null;
  const type = key.readInt16BE(2);
  return type === CONTROL_TYPE_ABORT || type === CONTROL_TYPE_COMMIT ? type : null;
}
