/** Per-log settings, named after Kafka's topic configs (segment.bytes, flush.messages, retention.ms, ...). */
export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  segmentJitterMs?: number;
  indexIntervalBytes: number;
  /** Entries per segment index (Kafka's segment.index.bytes / entry size); a full index rolls the segment. */
  maxIndexEntries?: number;
  /** fsync once this many messages are unflushed; 1 = every append before it is acknowledged. */
  flushMessages: number;
  /** fsync at least this often (run by LogManager's background task). */
  flushMs: number;
  /** -1 = unlimited. */
  retentionMs: number;
  /** -1 = unlimited. */
  retentionBytes: number;
  cleanupPolicy: string;
  fileDeleteDelayMs: number;
}

export const DEFAULT_MAX_INDEX_ENTRIES = 65_536;
/** Positions in the offset index are u32, and Kafka caps segment.bytes at Int32.MAX_VALUE. */
export const MAX_SEGMENT_BYTES = 0x7fff_ffff;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentJitterMs: 0,
  indexIntervalBytes: 4096,
  maxIndexEntries: DEFAULT_MAX_INDEX_ENTRIES,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  fileDeleteDelayMs: 60_000,
};

/** Throws a RangeError naming the first setting the log cannot work with. */
export function validateLogConfig(config: LogConfig): void {
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new RangeError(`invalid log config: ${what}`);
  };
  check(Number.isSafeInteger(config.segmentBytes) && config.segmentBytes >= 14, 'segmentBytes');
  check(config.segmentBytes <= MAX_SEGMENT_BYTES, 'segmentBytes above 2^31-1');
  check(config.segmentMs > 0, 'segmentMs');
  check((config.segmentJitterMs ?? 0) >= 0, 'segmentJitterMs');
  check(
    Number.isSafeInteger(config.indexIntervalBytes) && config.indexIntervalBytes >= 0,
    'indexIntervalBytes',
  );
  check(Number.isSafeInteger(config.maxIndexEntries ?? DEFAULT_MAX_INDEX_ENTRIES), 'maxIndexEntries');
  check((config.maxIndexEntries ?? DEFAULT_MAX_INDEX_ENTRIES) >= 1, 'maxIndexEntries');
  check(Number.isSafeInteger(config.flushMessages) && config.flushMessages >= 1, 'flushMessages');
  check(config.flushMs >= 0, 'flushMs');
  check(config.retentionMs >= -1, 'retentionMs');
  check(config.retentionBytes >= -1, 'retentionBytes');
  check(config.fileDeleteDelayMs >= 0, 'fileDeleteDelayMs');
}

/** Kafka's cleanup.policy is a list: `delete`, `compact` or `compact,delete`. */
export function deletesByRetention(config: LogConfig): boolean {
  return config.cleanupPolicy
    .split(',')
    .map((policy) => policy.trim())
    .includes('delete');
}
