// Test-only: a broker data path over real logs (ReplicaManager on a LogManager in a temporary directory)
// with a fixed in-memory metadata store, driven through the dispatcher as test-support.ts does, plus the
// batches transactional producers write.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBrokerConfig } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import type { TransactionVerifier } from '../../coordinator/transactions/index.js';
import type { MetadataStore, PartitionRecord, TopicRecord } from '../../metadata/index.js';
import { crc32c } from '../../protocol/records/crc.js';
import { ATTRIBUTES_OFFSET, CRC_OFFSET, TRANSACTIONAL_FLAG_MASK } from '../../protocol/records/layout.js';
import { LogManager } from '../../storage/index.js';
import { makeBatch } from '../../storage/test-support.js';
import { ReplicaManager } from '../replica-manager.js';
import { defaultLogConfig } from '../topic-settings.js';
import { type Dispatch, dispatcherOver } from './test-support.js';

export const NODE_ID = 1;
const OTHER_NODE_ID = 2;

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Where the partitions live: led here (default), followed here with another leader, or elsewhere only. */
  placement?: 'leader' | 'follower' | 'elsewhere';
}

export interface DataPathBroker {
  dispatch: Dispatch;
  replicaManager: ReplicaManager;
  /** Entries the broker logged at error level. */
  errors: { fields: unknown; message: string }[];
  close(): Promise<void>;
}

function partitionRecord(partition: number, placement: TopicSpec['placement']): PartitionRecord {
  const replicas =
    placement === 'elsewhere'
      ? [OTHER_NODE_ID]
      : placement === 'follower'
        ? [OTHER_NODE_ID, NODE_ID]
        : [NODE_ID];
  return {
    partition,
    replicas,
    leader: replicas[0]!,
    leaderEpoch: 0,
    isr: replicas,
    partitionEpoch: 0,
  };
}

/** `services` are added to the broker's (an authorizer, say). */
export async function startDataPath(
  topics: readonly TopicSpec[],
  services: object = {},
): Promise<DataPathBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-data-path-'));
  const config = { ...loadBrokerConfig(), nodeId: NODE_ID, dataDir };
  const records: TopicRecord[] = topics.map((spec, i) => ({
    name: spec.name,
    topicId: `${'A'.repeat(20)}${String(i).padStart(2, '0')}`,
    partitions: Array.from({ length: spec.partitions }, (_, p) => partitionRecord(p, spec.placement)),
    configs: {},
    createdAtMs: 0,
    internal: false,
  }));
  const metadata = {
    listTopics: () => records,
    getTopic: (name: string) => records.find((t) => t.name === name),
    getTopicById: (topicId: string) => records.find((t) => t.topicId === topicId),
  };
  const errors: DataPathBroker['errors'] = [];
  const ignore = () => {};
  const logger = {
    error: (fields: unknown, message: string) => errors.push({ fields, message }),
    warn: ignore,
    info: ignore,
    debug: ignore,
    trace: ignore,
  };
  const logs = await LogManager.open(dataDir, defaultLogConfig(config), {});
  const replicaManager = new ReplicaManager(
    NODE_ID,
    config,
    metadata as unknown as MetadataStore,
    logs,
    logger as unknown as Logger,
  );
  await replicaManager.syncWithMetadata();
  const dispatch = dispatcherOver({ nodeId: NODE_ID, config, metadata, replicaManager, logger, ...services });
  return {
    dispatch,
    replicaManager,
    errors,
    async close() {
      await replicaManager.close();
      await logs.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A verifier answering `code` (changeable) for everything, recording what it was asked. */
export function recordingVerifier(
  code: number,
): TransactionVerifier & { code: number; asked: [number, number, string, number][] } {
  const verifier = {
    code,
    asked: [] as [number, number, string, number][],
    verifyTransactionalProduce(producerId: number, producerEpoch: number, topic: string, partition: number) {
      verifier.asked.push([producerId, producerEpoch, topic, partition]);
      return verifier.code;
    },
  };
  return verifier;
}

/** `batch` with the attribute `bits` set and its CRC made right again. */
export function withAttributes(batch: Buffer, bits: number): Buffer {
  batch.writeInt16BE(batch.readInt16BE(ATTRIBUTES_OFFSET) | bits, ATTRIBUTES_OFFSET);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return batch;
}

/** A batch as a transactional producer writes it: makeBatch's idempotent batch with the transactional flag. */
export function transactionalBatch(options: Parameters<typeof makeBatch>[0]): Buffer {
  return withAttributes(makeBatch(options), TRANSACTIONAL_FLAG_MASK);
}
