// A topic's effective configuration in the form the produce path and the log use it.
import type { BrokerConfig } from '../common/config.js';
import type { CompressionType } from '../common/config-values.js';
import { effectiveTopicConfig, type LogConfig, toLogConfig, topicSettings } from '../common/topic-config.js';
import type { CodecIdValue } from '../protocol/records/index.js';

export interface PartitionSettings {
  readonly log: LogConfig;
  readonly maxMessageBytes: number;
  readonly minInsyncReplicas: number;
  /** message.timestamp.type=LogAppendTime: the broker stamps batches with its own clock. */
  readonly logAppendTime: boolean;
  /** The codec batches are stored with, or null for compression.type=producer (kept as sent). */
  readonly compressionCodec: CodecIdValue | null;
  /** cleanup.policy includes compact: every record needs a key. */
  readonly compacted: boolean;
}

const CODEC_BY_COMPRESSION_TYPE: Record<CompressionType, CodecIdValue | null> = {
  producer: null,
  uncompressed: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};

// Resolving a topic's effective configuration takes ~0.1 ms, and the replica manager asks for it for every
// hosted partition on every metadata change: with thousands of partitions each topic creation blocked the
// event loop for a quarter of a second and a batch of creations ran past client timeouts. Topic records
// (and their frozen configs objects) are replaced, never mutated, and the broker config never changes, so
// the result is kept per (broker config, overrides object) and shared by all partitions of a topic.
const settingsCache = new WeakMap<BrokerConfig, WeakMap<object, PartitionSettings>>();

/** A topic's settings; `overrides` must not be mutated afterwards (metadata store records are frozen). */
export function partitionSettings(
  config: BrokerConfig,
  overrides: Readonly<Record<string, string>>,
): PartitionSettings {
  let byOverrides = settingsCache.get(config);
  if (byOverrides === undefined) {
    byOverrides = new WeakMap();
    settingsCache.set(config, byOverrides);
  }
  const cached = byOverrides.get(overrides);
  if (cached !== undefined) return cached;
  const computed = computePartitionSettings(config, overrides);
  byOverrides.set(overrides, computed);
  return computed;
}

function computePartitionSettings(
  config: BrokerConfig,
  overrides: Readonly<Record<string, string>>,
): PartitionSettings {
  const effective = effectiveTopicConfig(config, overrides);
  const settings = topicSettings(effective);
  // Shared by every partition of the topic: frozen so that no holder can change another's settings.
  return Object.freeze({
    log: Object.freeze(toLogConfig(effective)),
    maxMessageBytes: settings.maxMessageBytes,
    minInsyncReplicas: settings.minInsyncReplicas,
    logAppendTime: settings.messageTimestampType === 'LogAppendTime',
    compressionCodec: CODEC_BY_COMPRESSION_TYPE[settings.compressionType],
    compacted: settings.cleanupPolicy !== 'delete',
  });
}

/** The log settings of a topic without overrides: what the broker's config alone gives. */
export function defaultLogConfig(config: BrokerConfig): LogConfig {
  return partitionSettings(config, {}).log;
}
