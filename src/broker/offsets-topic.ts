// The group coordinator's durable state lives in the internal topic __consumer_offsets: one partition per
// slice of the groups (partitionFor), whose leader is those groups' coordinator. This binds the coordinator
// to that topic: appends go straight to the partition log (no Produce path), and when this broker becomes a
// partition's leader it replays the partition into the coordinator before serving its groups.
import type { BrokerConfig } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { CoordinatorLog, CoordinatorRecord, GroupCoordinator } from '../coordinator/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { decodeRecordBatchesAsync, encodeRecordBatch } from '../protocol/records/index.js';
import { releaseRead } from '../storage/index.js';
import type { Controller } from './controller.js';
import type { HostedPartition, ReplicaManager } from './replica-manager.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

// Kafka's offsets.topic.segment.bytes: small segments keep a future compaction pass cheap.
const OFFSETS_SEGMENT_BYTES = 104_857_600;
const LOAD_READ_BYTES = 1_048_576;

export class OffsetsTopic implements CoordinatorLog {
  private coordinator: GroupCoordinator | null = null;
  private readonly loaded = new Map<number, string>();
  private creating: Promise<number> | null = null;

  constructor(
    private readonly config: BrokerConfig,
    private readonly replicaManager: ReplicaManager,
    private readonly controller: Controller,
    private readonly logger: Logger,
  ) {}

  /** The partition count groups are spread over: the existing topic's, else the configured one. */
  partitionCount(existingPartitions: number | undefined): number {
    return existingPartitions ?? this.config.offsetsTopicNumPartitions;
  }

  attach(coordinator: GroupCoordinator): void {
    this.coordinator = coordinator;
  }

  /** Creates the topic on first use (FindCoordinator), as Kafka does. Returns a Kafka error code. */
  ensureCreated(exists: boolean): Promise<number> {
    if (exists) return Promise.resolve(ErrorCode.NONE);
    this.creating ??= this.controller
      .createTopic(
        {
          name: OFFSETS_TOPIC,
          numPartitions: this.config.offsetsTopicNumPartitions,
          replicationFactor: this.config.offsetsTopicReplicationFactor,
          assignments: new Map(),
          configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(OFFSETS_SEGMENT_BYTES) },
        },
        false,
        true,
      )
      .then((result) => {
        if (result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) return ErrorCode.NONE;
        if (result.errorCode !== ErrorCode.NONE) {
          this.logger.warn(
            { errorCode: result.errorCode, message: result.errorMessage },
            'cannot create __consumer_offsets',
          );
          // Kafka answers FindCoordinator this way when the offsets topic cannot be created (yet).
          return ErrorCode.COORDINATOR_NOT_AVAILABLE;
        }
        return ErrorCode.NONE;
      })
      .finally(() => {
        this.creating = null;
      });
    return this.creating;
  }

  async append(partition: number, records: CoordinatorRecord[]): Promise<void> {
    const hosted = this.replicaManager.get(OFFSETS_TOPIC, partition);
    if (hosted === undefined || !this.replicaManager.isLeader(hosted)) {
      throw new KafkaError(
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        `not the leader of ${OFFSETS_TOPIC}-${partition}`,
      );
    }
    const now = Date.now();
    const batch = encodeRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value, headers: [], timestamp: now })),
    });
    await hosted.log.append(batch, hosted.state.leaderEpoch);
  }

  /**
   * Loads partitions this broker now leads and unloads the ones it no longer leads. A partition is reloaded
   * when its topic was recreated (new topic id) or its leader epoch moved.
   */
  syncLeadership(): void {
    const coordinator = this.coordinator;
    if (coordinator === null) return;
    const leading = new Map<number, HostedPartition>();
    for (const hosted of this.replicaManager.hostedPartitions()) {
      if (hosted.topic === OFFSETS_TOPIC && this.replicaManager.isLeader(hosted))
        leading.set(hosted.partition, hosted);
    }
    for (const [partition, tag] of this.loaded) {
      const hosted = leading.get(partition);
      if (hosted === undefined || leadershipTag(hosted) !== tag) {
        coordinator.unloadPartition(partition);
        this.loaded.delete(partition);
      }
    }
    for (const [partition, hosted] of leading) {
      if (this.loaded.has(partition)) continue;
      this.loaded.set(partition, leadershipTag(hosted));
      coordinator.loadPartition(partition, this.records(hosted)).then(
        () => this.logger.debug({ partition }, 'loaded offsets partition'),
        (error: unknown) => {
          this.loaded.delete(partition);
          this.logger.error({ err: error, partition }, 'loading an offsets partition failed');
        },
      );
    }
  }

  /** Every record of the partition from its log start to its high watermark, in order. */
  private async *records(hosted: HostedPartition): AsyncIterable<CoordinatorRecord> {
    const { log } = hosted;
    const end = log.highWatermark;
    let offset = log.logStartOffset;
    while (offset < end) {
      const read = await log.read(offset, LOAD_READ_BYTES, { maxOffset: end, minOneBatch: true });
      const { chunks } = read;
      // The coordinator copies what it keeps of a record (coordinator/records.ts), so the read's buffers go
      // back to the pool once its records have been consumed.
      try {
        if (chunks.length === 0) break;
        const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        for (const batch of await decodeRecordBatchesAsync(buffer)) {
          for (const record of batch.records) {
            if (record.offset >= offset && !batch.isControl && record.key !== null) {
              yield { key: record.key, value: record.value };
            }
          }
          offset = batch.baseOffset + batch.lastOffsetDelta + 1;
        }
      } finally {
        releaseRead(read);
      }
    }
  }
}

function leadershipTag(hosted: HostedPartition): string {
  return `${hosted.topicId}/${hosted.state.leaderEpoch}`;
}
