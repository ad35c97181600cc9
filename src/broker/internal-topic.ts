// What the coordinators' internal topics (__consumer_offsets, __transaction_state) have in common: created on
// first use (FindCoordinator), written straight into the partition log by its leader (no Produce path), and
// replayed into their coordinator whenever this broker comes to lead one of their partitions. Each topic's
// binding (offsets-topic.ts, transaction-state-topic.ts) extends this class with its records.
import type { Logger } from '../common/logger.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { type DecodedRecordBatch, decodeRecordBatchesAsync } from '../protocol/records/index.js';
import { releaseRead } from '../storage/index.js';
import type { Controller } from './controller.js';
import type { HostedPartition, ReplicaManager } from './replica-manager.js';

const LOAD_READ_BYTES = 1_048_576;

export interface InternalTopicSettings {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  /** Kafka's *.segment.bytes for the topic: small segments keep a future compaction pass cheap. */
  segmentBytes: number;
}

/** The coordinator an internal topic's partitions load into. */
export interface PartitionLoader {
  load(partition: number, hosted: HostedPartition): Promise<void>;
  unload(partition: number): void;
}

/** A batch read back during a replay, and the offset from which its records are new (a batch can start earlier). */
export interface ReplayedBatch {
  batch: DecodedRecordBatch;
  fromOffset: number;
}

export abstract class InternalTopic {
  /** Loaded partitions with the leadership they were loaded under. */
  private readonly loaded = new Map<number, string>();
  private creating: Promise<number> | null = null;

  constructor(
    private readonly settings: InternalTopicSettings,
    private readonly replicaManager: ReplicaManager,
    private readonly controller: Controller,
    private readonly logger: Logger,
  ) {}

  /** The partition count the coordinator's keys are spread over: the existing topic's, else the configured one. */
  partitionCount(existingPartitions: number | undefined): number {
    return existingPartitions ?? this.settings.numPartitions;
  }

  /** Creates the topic on first use (FindCoordinator), as Kafka does. Returns a Kafka error code. */
  ensureCreated(exists: boolean): Promise<number> {
    if (exists) return Promise.resolve(ErrorCode.NONE);
    const { name, numPartitions, replicationFactor, segmentBytes } = this.settings;
    this.creating ??= this.controller
      .createTopic(
        {
          name,
          numPartitions,
          replicationFactor,
          assignments: new Map(),
          configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(segmentBytes) },
        },
        false,
        true,
      )
      .then((result) => {
        if (result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) return ErrorCode.NONE;
        if (result.errorCode !== ErrorCode.NONE) {
          this.logger.warn(
            { errorCode: result.errorCode, message: result.errorMessage },
            `cannot create ${name}`,
          );
          // Kafka answers FindCoordinator this way when the internal topic cannot be created (yet).
          return ErrorCode.COORDINATOR_NOT_AVAILABLE;
        }
        return ErrorCode.NONE;
      })
      .finally(() => {
        this.creating = null;
      });
    return this.creating;
  }

  /** The partition, which this broker must lead to write it (NOT_LEADER_OR_FOLLOWER otherwise). */
  protected leader(partition: number): HostedPartition {
    const hosted = this.replicaManager.get(this.settings.name, partition);
    if (hosted === undefined || !this.replicaManager.isLeader(hosted)) {
      throw new KafkaError(
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        `not the leader of ${this.settings.name}-${partition}`,
      );
    }
    return hosted;
  }

  /**
   * Loads partitions this broker now leads and unloads the ones it no longer leads. A partition is reloaded
   * when its topic was recreated (new topic id) or its leader epoch moved.
   */
  protected syncPartitions(loader: PartitionLoader): void {
    const leading = new Map<number, HostedPartition>();
    for (const hosted of this.replicaManager.hostedPartitions()) {
      if (hosted.topic === this.settings.name && this.replicaManager.isLeader(hosted))
        leading.set(hosted.partition, hosted);
    }
    for (const [partition, tag] of this.loaded) {
      const hosted = leading.get(partition);
      if (hosted === undefined || leadershipTag(hosted) !== tag) {
        loader.unload(partition);
        this.loaded.delete(partition);
      }
    }
    for (const [partition, hosted] of leading) {
      if (this.loaded.has(partition)) continue;
      this.loaded.set(partition, leadershipTag(hosted));
      loader.load(partition, hosted).then(
        () => this.logger.debug({ topic: this.settings.name, partition }, 'loaded coordinator partition'),
        (error: unknown) => {
          this.loaded.delete(partition);
          this.logger.error(
            { err: error, topic: this.settings.name, partition },
            'loading a coordinator partition failed',
          );
        },
      );
    }
  }
}

/**
 * Every batch of the partition from its log start to its high watermark, in order. The loaders copy what
 * they keep of a record, so each read's buffers go back to the pool once its batches have been consumed.
 */
export async function* replayBatches(hosted: HostedPartition): AsyncIterable<ReplayedBatch> {
  const { log } = hosted;
  const end = log.highWatermark;
  let offset = log.logStartOffset;
  while (offset < end) {
    const read = await log.read(offset, LOAD_READ_BYTES, { maxOffset: end, minOneBatch: true });
    const { chunks } = read;
    try {
      if (chunks.length === 0) break;
      const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      for (const batch of await decodeRecordBatchesAsync(buffer)) {
        yield { batch, fromOffset: offset };
        offset = batch.baseOffset + batch.lastOffsetDelta + 1;
      }
    } finally {
      releaseRead(read);
    }
  }
}

function leadershipTag(hosted: HostedPartition): string {
  return `${hosted.topicId}/${hosted.state.leaderEpoch}`;
}
