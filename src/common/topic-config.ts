// Topic-level configuration: Kafka's names and validation, the broker setting each falls back to, the
// DescribeConfigs view (value, source, synonyms) and the typed settings the log and produce path use.

import { type BrokerConfig, brokerSynonyms, type ConfigEntry, getBrokerConfigDef } from './config.js';
import {
  type CleanupPolicy,
  COMPRESSION_TYPES,
  type CompressionType,
  ConfigSource,
  ConfigType,
  formatLong,
  INVALID_CONFIG,
  InvalidValueError,
  LONG_MAX_TEXT,
  parseBoolean,
  parseCleanupPolicy,
  parseEnum,
  parseEnumIgnoreCase,
  parseInt32,
  parseLong,
  TIMESTAMP_TYPES,
  type TimestampType,
} from './config-values.js';

/** Every topic config, typed. */
export interface TopicSettings {
  cleanupPolicy: CleanupPolicy;
  compressionType: CompressionType;
  retentionMs: number;
  retentionBytes: number;
  segmentBytes: number;
  segmentMs: number;
  flushMessages: number;
  flushMs: number;
  maxMessageBytes: number;
  messageTimestampType: TimestampType;
  minInsyncReplicas: number;
  fileDeleteDelayMs: number;
  indexIntervalBytes: number;
  segmentJitterMs: number;
  // Accepted, validated, stored and described as Kafka does, with no effect yet (see KAFKA_ONLY below).
  compressionGzipLevel: number;
  compressionLz4Level: number;
  compressionZstdLevel: number;
  deleteRetentionMs: number;
  followerReplicationThrottledReplicas: string;
  leaderReplicationThrottledReplicas: string;
  maxCompactionLagMs: number;
  messageDownconversionEnable: boolean;
  messageTimestampAfterMaxMs: number;
  messageTimestampBeforeMaxMs: number;
  messageTimestampDifferenceMaxMs: number;
  minCleanableDirtyRatio: number;
  minCompactionLagMs: number;
  preallocate: boolean;
  segmentIndexBytes: number;
  uncleanLeaderElectionEnable: boolean;
}

/** What the storage layer needs to run one partition log. */
export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  indexIntervalBytes: number;
  flushMessages: number;
  flushMs: number;
  retentionMs: number;
  retentionBytes: number;
  cleanupPolicy: CleanupPolicy;
  fileDeleteDelayMs: number;
  segmentJitterMs: number;
}

interface TopicConfigDef<K extends keyof TopicSettings> {
  name: string;
  key: K;
  type: ConfigType;
  /** The broker setting it falls back to (the first of its synonyms in Kafka's list). */
  brokerName: string;
  doc: string;
  parse(text: string): TopicSettings[K];
  /**
   * The broker's effective value, as this topic config's text; or, for a config whose broker setting Sluice
   * does not have, Kafka's default (shown with that broker name as its DEFAULT_CONFIG synonym).
   */
  fromBroker: ((config: BrokerConfig) => string) | { kafkaDefault: string };
}

type AnyTopicConfigDef = { [K in keyof TopicSettings]: TopicConfigDef<K> }[keyof TopicSettings];

function def<K extends keyof TopicSettings>(spec: TopicConfigDef<K>): TopicConfigDef<K> {
  return spec;
}

/** Topic configs Sluice accepts, in DescribeConfigs order (alphabetical, as Kafka lists them). */
export const TOPIC_CONFIG_DEFS: readonly AnyTopicConfigDef[] = [
  def({
    name: 'cleanup.policy',
    key: 'cleanupPolicy',
    type: ConfigType.LIST,
    brokerName: 'log.cleanup.policy',
    doc: 'delete: drop old segments by time/size; compact: keep the latest record per key; or both.',
    parse: parseCleanupPolicy,
    fromBroker: (config) => config.logCleanupPolicy,
  }),
  def({
    name: 'compression.type',
    key: 'compressionType',
    type: ConfigType.STRING,
    brokerName: 'compression.type',
    doc: 'Compression of stored batches; producer keeps what the producer sent.',
    parse: (text) => parseEnumIgnoreCase(text, COMPRESSION_TYPES),
    fromBroker: (config) => config.compressionType,
  }),
  def({
    name: 'file.delete.delay.ms',
    key: 'fileDeleteDelayMs',
    type: ConfigType.LONG,
    brokerName: 'log.segment.delete.delay.ms',
    doc: 'Wait this long before deleting the files of a removed segment.',
    parse: (text) => parseLong(text, { min: 0 }),
    fromBroker: (config) => formatLong(config.logSegmentDeleteDelayMs),
  }),
  def({
    name: 'flush.messages',
    key: 'flushMessages',
    type: ConfigType.LONG,
    brokerName: 'log.flush.interval.messages',
    doc: 'fsync the log after this many messages.',
    parse: (text) => parseLong(text, { min: 1 }),
    fromBroker: (config) => formatLong(config.logFlushIntervalMessages),
  }),
  def({
    name: 'flush.ms',
    key: 'flushMs',
    type: ConfigType.LONG,
    brokerName: 'log.flush.interval.ms',
    doc: 'fsync the log when its oldest unflushed message is this old.',
    parse: (text) => parseLong(text, { min: 0 }),
    fromBroker: (config) =>
      config.logFlushIntervalMs === null ? LONG_MAX_TEXT : formatLong(config.logFlushIntervalMs),
  }),
  def({
    name: 'index.interval.bytes',
    key: 'indexIntervalBytes',
    type: ConfigType.INT,
    brokerName: 'log.index.interval.bytes',
    doc: 'Bytes of records between two offset index entries.',
    parse: (text) => parseInt32(text, { min: 0 }),
    fromBroker: (config) => String(config.logIndexIntervalBytes),
  }),
  def({
    name: 'max.message.bytes',
    key: 'maxMessageBytes',
    type: ConfigType.INT,
    brokerName: 'message.max.bytes',
    doc: 'Largest record batch the topic accepts.',
    parse: (text) => parseInt32(text, { min: 0 }),
    fromBroker: (config) => String(config.messageMaxBytes),
  }),
  def({
    name: 'message.timestamp.type',
    key: 'messageTimestampType',
    type: ConfigType.STRING,
    brokerName: 'log.message.timestamp.type',
    doc: 'CreateTime keeps the producer timestamp; LogAppendTime stamps batches with the broker time.',
    parse: (text) => parseEnum(text, TIMESTAMP_TYPES),
    fromBroker: (config) => config.logMessageTimestampType,
  }),
  def({
    name: 'min.insync.replicas',
    key: 'minInsyncReplicas',
    type: ConfigType.INT,
    brokerName: 'min.insync.replicas',
    doc: 'Fewest in-sync replicas for an acks=all produce to succeed.',
    parse: (text) => parseInt32(text, { min: 1 }),
    fromBroker: (config) => String(config.minInsyncReplicas),
  }),
  def({
    name: 'retention.bytes',
    key: 'retentionBytes',
    type: ConfigType.LONG,
    brokerName: 'log.retention.bytes',
    doc: 'Delete oldest segments while a partition is larger than this; -1: no size limit.',
    parse: (text) => parseLong(text),
    fromBroker: (config) => formatLong(config.logRetentionBytes),
  }),
  def({
    name: 'retention.ms',
    key: 'retentionMs',
    type: ConfigType.LONG,
    brokerName: 'log.retention.ms',
    doc: 'Delete segments older than this; -1 keeps them forever.',
    parse: (text) => parseLong(text, { min: -1 }),
    fromBroker: (config) => formatLong(config.logRetentionMs),
  }),
  def({
    name: 'segment.bytes',
    key: 'segmentBytes',
    type: ConfigType.INT,
    brokerName: 'log.segment.bytes',
    doc: 'Maximum size of one log segment.',
    parse: (text) => parseInt32(text, { min: 14 }),
    fromBroker: (config) => String(config.logSegmentBytes),
  }),
  def({
    name: 'segment.ms',
    key: 'segmentMs',
    type: ConfigType.LONG,
    brokerName: 'log.roll.ms',
    doc: 'Roll a new segment after this long.',
    parse: (text) => parseLong(text, { min: 1 }),
    fromBroker: (config) => formatLong(config.logRollMs),
  }),
  def({
    name: 'segment.jitter.ms',
    key: 'segmentJitterMs',
    type: ConfigType.LONG,
    brokerName: 'log.roll.jitter.ms',
    doc: 'Roll each segment up to this much earlier than segment.ms (a random amount), so that partitions do not all roll at once.',
    parse: (text) => parseLong(text, { min: 0 }),
    fromBroker: { kafkaDefault: '0' },
  }),
  // Kafka's other topic configs: accepted (applications and frameworks set them when they create topics),
  // validated, stored and described, but they change nothing here yet: they concern compaction,
  // replication, tiered storage, preallocation or timestamp checks Sluice does not perform.
  def({
    name: 'compression.gzip.level',
    key: 'compressionGzipLevel',
    type: ConfigType.INT,
    brokerName: 'compression.gzip.level',
    doc: 'Not used by Sluice yet. gzip level when compression.type is gzip: 1-9, or -1 for the default.',
    parse: (text) => parseLevel(text, 1, 9, -1),
    fromBroker: { kafkaDefault: '-1' },
  }),
  def({
    name: 'compression.lz4.level',
    key: 'compressionLz4Level',
    type: ConfigType.INT,
    brokerName: 'compression.lz4.level',
    doc: 'Not used by Sluice yet. lz4 level when compression.type is lz4.',
    parse: (text) => parseInt32(text, { min: 1, max: 17 }),
    fromBroker: { kafkaDefault: '9' },
  }),
  def({
    name: 'compression.zstd.level',
    key: 'compressionZstdLevel',
    type: ConfigType.INT,
    brokerName: 'compression.zstd.level',
    doc: 'Not used by Sluice yet. zstd level when compression.type is zstd.',
    parse: (text) => parseInt32(text, { min: -131072, max: 22 }),
    fromBroker: { kafkaDefault: '3' },
  }),
  def({
    name: 'delete.retention.ms',
    key: 'deleteRetentionMs',
    type: ConfigType.LONG,
    brokerName: 'log.cleaner.delete.retention.ms',
    doc: 'Not used by Sluice yet (compaction). How long delete tombstones are kept.',
    parse: (text) => parseLong(text, { min: 0 }),
    fromBroker: { kafkaDefault: '86400000' },
  }),
  def({
    name: 'follower.replication.throttled.replicas',
    key: 'followerReplicationThrottledReplicas',
    type: ConfigType.LIST,
    brokerName: 'follower.replication.throttled.replicas',
    doc: 'Not used by Sluice yet (replication). Replicas throttled on the follower side: partition:broker pairs, or *.',
    parse: parseThrottledReplicas,
    fromBroker: { kafkaDefault: '' },
  }),
  def({
    name: 'leader.replication.throttled.replicas',
    key: 'leaderReplicationThrottledReplicas',
    type: ConfigType.LIST,
    brokerName: 'leader.replication.throttled.replicas',
    doc: 'Not used by Sluice yet (replication). Replicas throttled on the leader side: partition:broker pairs, or *.',
    parse: parseThrottledReplicas,
    fromBroker: { kafkaDefault: '' },
  }),
  def({
    name: 'max.compaction.lag.ms',
    key: 'maxCompactionLagMs',
    type: ConfigType.LONG,
    brokerName: 'log.cleaner.max.compaction.lag.ms',
    doc: 'Not used by Sluice yet (compaction). Longest a record stays uncompacted.',
    parse: (text) => parseLong(text, { min: 1 }),
    fromBroker: { kafkaDefault: LONG_MAX_TEXT },
  }),
  def({
    name: 'message.downconversion.enable',
    key: 'messageDownconversionEnable',
    type: ConfigType.BOOLEAN,
    brokerName: 'log.message.downconversion.enable',
    doc: 'Not used by Sluice: fetches always return record batch v2.',
    parse: parseBoolean,
    fromBroker: { kafkaDefault: 'true' },
  }),
  def({
    name: 'message.timestamp.after.max.ms',
    key: 'messageTimestampAfterMaxMs',
    type: ConfigType.LONG,
    brokerName: 'log.message.timestamp.after.max.ms',
    doc: 'Not enforced by Sluice yet. How far ahead of the broker clock a CreateTime timestamp may be.',
    parse: (text) => parseLong(text, { min: 0 }),
    fromBroker: { kafkaDefault: LONG_MAX_TEXT },
  }),
  def({
    name: 'message.timestamp.before.max.ms',
    key: 'messageTimestampBeforeMaxMs',
    type: ConfigType.LONG,
    brokerName: 'log.message.timestamp.before.max.ms',
    doc: 'Not enforced by Sluice yet. How far behind the broker clock a CreateTime timestamp may be.',
    parse: (text) => parseLong(text, { min: 0 }),
    fromBroker: { kafkaDefault: LONG_MAX_TEXT },
  }),
  def({
    name: 'message.timestamp.difference.max.ms',
    key: 'messageTimestampDifferenceMaxMs',
    type: ConfigType.LONG,
    brokerName: 'log.message.timestamp.difference.max.ms',
    doc: 'Not enforced by Sluice yet (deprecated in Kafka for the before/after pair).',
    parse: (text) => parseLong(text, { min: 0 }),
    fromBroker: { kafkaDefault: LONG_MAX_TEXT },
  }),
  def({
    name: 'min.cleanable.dirty.ratio',
    key: 'minCleanableDirtyRatio',
    type: ConfigType.DOUBLE,
    brokerName: 'log.cleaner.min.cleanable.ratio',
    doc: 'Not used by Sluice yet (compaction). Share of the log that must be uncompacted to compact it.',
    parse: parseRatio,
    fromBroker: { kafkaDefault: '0.5' },
  }),
  def({
    name: 'min.compaction.lag.ms',
    key: 'minCompactionLagMs',
    type: ConfigType.LONG,
    brokerName: 'log.cleaner.min.compaction.lag.ms',
    doc: 'Not used by Sluice yet (compaction). Shortest time a record stays uncompacted.',
    parse: (text) => parseLong(text, { min: 0 }),
    fromBroker: { kafkaDefault: '0' },
  }),
  def({
    name: 'preallocate',
    key: 'preallocate',
    type: ConfigType.BOOLEAN,
    brokerName: 'log.preallocate',
    doc: 'Not used by Sluice: segment files grow as they are written.',
    parse: parseBoolean,
    fromBroker: { kafkaDefault: 'false' },
  }),
  def({
    name: 'segment.index.bytes',
    key: 'segmentIndexBytes',
    type: ConfigType.INT,
    brokerName: 'log.index.size.max.bytes',
    doc: 'Not used by Sluice yet: its indexes have a fixed maximum entry count.',
    parse: (text) => parseInt32(text, { min: 4 }),
    fromBroker: { kafkaDefault: '10485760' },
  }),
  def({
    name: 'unclean.leader.election.enable',
    key: 'uncleanLeaderElectionEnable',
    type: ConfigType.BOOLEAN,
    brokerName: 'unclean.leader.election.enable',
    doc: 'Not used by Sluice yet (replication). Whether an out-of-sync replica may become leader.',
    parse: parseBoolean,
    fromBroker: { kafkaDefault: 'false' },
  }),
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** A compression level: within [min, max], or the codec's default marker. */
function parseLevel(text: string, min: number, max: number, defaultMarker: number): number {
  const level = parseInt32(text);
  if (level !== defaultMarker && (level < min || level > max)) {
    throw new InvalidValueError(`${defaultMarker}, or an integer from ${min} to ${max}`);
  }
  return level;
}

/** Kafka's throttled-replicas list: empty, '*', or comma-separated partition:broker pairs. */
function parseThrottledReplicas(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === '*' || /^\d+:\d+(\s*,\s*\d+:\d+)*$/.test(trimmed)) return trimmed;
  throw new InvalidValueError("'*' or a list of partition:broker pairs");
}

/** A number from 0 to 1. */
function parseRatio(text: string): number {
  const trimmed = text.trim();
  const value = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(value >= 0 && value <= 1)) throw new InvalidValueError('a number from 0 to 1');
  return value;
}

const TOPIC_DEFS_BY_NAME = new Map<string, AnyTopicConfigDef>(TOPIC_CONFIG_DEFS.map((d) => [d.name, d]));

export type TopicConfigValidation = { ok: true } | { ok: false; errorCode: number; message: string };

/**
 * Checks names and values from CreateTopics/AlterConfigs. A null value means "remove the override" and is
 * always acceptable for a known name.
 */
export function validateTopicConfigs(
  entries: Readonly<Record<string, string | null>>,
): TopicConfigValidation {
  for (const [name, text] of Object.entries(entries)) {
    const found = TOPIC_DEFS_BY_NAME.get(name);
    if (!found) {
      return { ok: false, errorCode: INVALID_CONFIG, message: `Unknown topic config name: ${name}` };
    }
    if (text === null) continue;
    try {
      found.parse(text);
    } catch (error) {
      if (!(error instanceof InvalidValueError)) throw error;
      return {
        ok: false,
        errorCode: INVALID_CONFIG,
        message: `Invalid value ${text} for configuration ${name}: ${error.message}`,
      };
    }
  }
  return { ok: true };
}

export function isTopicConfigName(name: string): boolean {
  return TOPIC_DEFS_BY_NAME.has(name);
}

export { brokerConfigEntries, type ConfigEntry } from './config.js';

/**
 * Every topic config with its effective value: the topic override (DYNAMIC_TOPIC_CONFIG), else the broker
 * setting given at start (STATIC_BROKER_CONFIG), else the built-in default (DEFAULT_CONFIG). Overrides must
 * have passed validateTopicConfigs.
 */
export function effectiveTopicConfig(
  brokerConfig: BrokerConfig,
  overrides: Readonly<Record<string, string>>,
): ConfigEntry[] {
  return TOPIC_CONFIG_DEFS.map((topicDef) => {
    const fallback = topicDef.fromBroker;
    let synonyms: ConfigEntry['synonyms'];
    let value: string;
    if (typeof fallback === 'function') {
      const brokerDef = getBrokerConfigDef(topicDef.brokerName)!;
      synonyms = brokerSynonyms(brokerConfig, brokerDef).map((synonym) =>
        synonym.name === brokerDef.name && synonym.source === ConfigSource.DEFAULT_CONFIG
          ? { ...synonym, value: brokerDefaultAsTopicText(topicDef, brokerDef) }
          : synonym,
      );
      value = fallback(brokerConfig);
    } else {
      synonyms = [
        { name: topicDef.brokerName, value: fallback.kafkaDefault, source: ConfigSource.DEFAULT_CONFIG },
      ];
      value = fallback.kafkaDefault;
    }
    const override = overrides[topicDef.name];
    if (override !== undefined) {
      synonyms.unshift({ name: topicDef.name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    }
    return {
      name: topicDef.name,
      value: override ?? value,
      source: synonyms[0]!.source,
      readOnly: false,
      sensitive: false,
      type: topicDef.type,
      documentation: topicDef.doc,
      synonyms,
    };
  });
}

/** The built-in default in topic form (flush.ms shows Long.MAX_VALUE where the broker default is unset). */
function brokerDefaultAsTopicText(topicDef: AnyTopicConfigDef, brokerDef: { defaultText: string | null }) {
  if (brokerDef.defaultText === null && topicDef.name === 'flush.ms') return LONG_MAX_TEXT;
  return brokerDef.defaultText;
}

/** Typed values of an effective config (from effectiveTopicConfig). */
export function topicSettings(effective: readonly ConfigEntry[]): TopicSettings {
  const settings: Record<string, unknown> = {};
  for (const topicDef of TOPIC_CONFIG_DEFS) {
    const entry = effective.find((candidate) => candidate.name === topicDef.name);
    if (entry?.value == null) throw new Error(`effective topic config lacks ${topicDef.name}`);
    settings[topicDef.key] = topicDef.parse(entry.value);
  }
  return settings as unknown as TopicSettings;
}

/** The storage-facing subset of a topic's effective config. */
export function toLogConfig(effective: readonly ConfigEntry[]): LogConfig {
  const settings = topicSettings(effective);
  return {
    segmentBytes: settings.segmentBytes,
    segmentMs: settings.segmentMs,
    indexIntervalBytes: settings.indexIntervalBytes,
    flushMessages: settings.flushMessages,
    flushMs: settings.flushMs,
    retentionMs: settings.retentionMs,
    retentionBytes: settings.retentionBytes,
    cleanupPolicy: settings.cleanupPolicy,
    fileDeleteDelayMs: settings.fileDeleteDelayMs,
    segmentJitterMs: settings.segmentJitterMs,
  };
}
