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
}

interface TopicConfigDef<K extends keyof TopicSettings> {
  name: string;
  key: K;
  type: ConfigType;
  /** The broker setting it falls back to (the first of its synonyms in Kafka's list). */
  brokerName: string;
  doc: string;
  parse(text: string): TopicSettings[K];
  /** The broker's effective value, as this topic config's text. */
  fromBroker(config: BrokerConfig): string;
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
];

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
    const brokerDef = getBrokerConfigDef(topicDef.brokerName)!;
    const synonyms = brokerSynonyms(brokerConfig, brokerDef).map((synonym) =>
      synonym.name === brokerDef.name && synonym.source === ConfigSource.DEFAULT_CONFIG
        ? { ...synonym, value: brokerDefaultAsTopicText(topicDef, brokerDef) }
        : synonym,
    );
    const override = overrides[topicDef.name];
    if (override !== undefined) {
      synonyms.unshift({ name: topicDef.name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    }
    return {
      name: topicDef.name,
      value: override ?? topicDef.fromBroker(brokerConfig),
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
  };
}
