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
}

const CODEC_BY_COMPRESSION_TYPE: Record<CompressionType, CodecIdValue | null> = {
  producer: null,
  uncompressed: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};

export function partitionSettings(
  config: BrokerConfig,
  overrides: Readonly<Record<string, string>>,
): PartitionSettings {
  const effective = effectiveTopicConfig(config, overrides);
  const settings = topicSettings(effective);
  return {
    log: toLogConfig(effective),
    maxMessageBytes: settings.maxMessageBytes,
    minInsyncReplicas: settings.minInsyncReplicas,
    logAppendTime: settings.messageTimestampType === 'LogAppendTime',
    compressionCodec: CODEC_BY_COMPRESSION_TYPE[settings.compressionType],
  };
}

/** The log settings of a topic without overrides: what the broker's config alone gives. */
export function defaultLogConfig(config: BrokerConfig): LogConfig {
  return partitionSettings(config, {}).log;
}
