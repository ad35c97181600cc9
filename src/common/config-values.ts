// Value parsers shared by broker and topic configuration, plus the enums Kafka's DescribeConfigs reports.
// Every parser takes the text form a user wrote (properties file, environment, flag or CreateTopics request)
// and either returns the typed value or throws InvalidValueError saying what was expected; the caller adds
// the key and where the text came from.

/** DescribeConfigs v3+ `ConfigType`. */
export const ConfigType = {
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;
export type ConfigType = (typeof ConfigType)[keyof typeof ConfigType];

/** DescribeConfigs v1+ `ConfigSource` (and synonym source). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;
export type ConfigSource = (typeof ConfigSource)[keyof typeof ConfigSource];

/** Kafka error code for a config name or value the broker does not accept. */
export const INVALID_CONFIG = 40;

export const INT32_MAX = 2147483647;
export const INT32_MIN = -2147483648;
export const INT16_MAX = 32767;

/** Java's Long.MAX_VALUE as text; longs at or above 2^53 are held as Number.MAX_SAFE_INTEGER. */
export const LONG_MAX_TEXT = '9223372036854775807';
const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

/** A text value that does not parse or is out of range; `expected` finishes the sentence "expected …". */
export class InvalidValueError extends Error {
  override name = 'InvalidValueError';
  constructor(readonly expected: string) {
    super(`expected ${expected}`);
  }
}

export interface IntRange {
  min?: number;
  max?: number;
}

function describeRange(kind: string, range: IntRange): string {
  if (range.min !== undefined && range.max !== undefined) return `${kind} in [${range.min}, ${range.max}]`;
  if (range.min !== undefined) return `${kind} at least ${range.min}`;
  if (range.max !== undefined) return `${kind} at most ${range.max}`;
  return kind;
}

const INTEGER_TEXT = /^[+-]?\d+$/;

export function parseBoolean(text: string): boolean {
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new InvalidValueError('true or false');
}

/** A 32-bit signed integer (Kafka INT), optionally narrowed. */
export function parseInt32(text: string, range: IntRange = {}): number {
  return parseBoundedInteger(text, 'an integer', INT32_MIN, INT32_MAX, range);
}

/** A 16-bit signed integer (Kafka SHORT), optionally narrowed. */
export function parseInt16(text: string, range: IntRange = {}): number {
  return parseBoundedInteger(text, 'an integer', -32768, INT16_MAX, range);
}

function parseBoundedInteger(text: string, kind: string, lo: number, hi: number, range: IntRange): number {
  const min = range.min ?? lo;
  const max = range.max ?? hi;
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (!INTEGER_TEXT.test(trimmed) || value < min || value > max) {
    throw new InvalidValueError(describeRange(kind, { min, max }));
  }
  return value;
}

/**
 * A 64-bit signed integer (Kafka LONG). Values Java accepts but JavaScript cannot hold exactly are clamped to
 * ±Number.MAX_SAFE_INTEGER: they only ever mean "practically unlimited" (Long.MAX_VALUE defaults).
 */
export function parseLong(text: string, range: IntRange = {}): number {
  const trimmed = text.trim();
  const expected = describeRange('a 64-bit integer', range);
  if (!INTEGER_TEXT.test(trimmed)) throw new InvalidValueError(expected);
  const big = BigInt(trimmed);
  if (big > LONG_MAX || big < LONG_MIN) throw new InvalidValueError(expected);
  let value: number;
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) value = Number.MAX_SAFE_INTEGER;
  else if (big < BigInt(-Number.MAX_SAFE_INTEGER)) value = -Number.MAX_SAFE_INTEGER;
  else value = Number(big);
  if ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max)) {
    throw new InvalidValueError(expected);
  }
  return value;
}

/** Text form of a long as Kafka would show it: the clamped maximum goes back to Long.MAX_VALUE. */
export function formatLong(value: number): string {
  return value >= Number.MAX_SAFE_INTEGER ? LONG_MAX_TEXT : String(value);
}

export function parseEnum<const T extends string>(text: string, allowed: readonly T[]): T {
  const trimmed = text.trim();
  const found = allowed.find((candidate) => candidate === trimmed);
  if (found === undefined) throw new InvalidValueError(`one of ${allowed.join(', ')}`);
  return found;
}

/** Same as parseEnum but ignores letter case (Kafka accepts `GZIP` for compression.type). */
export function parseEnumIgnoreCase<const T extends string>(text: string, allowed: readonly T[]): T {
  const lower = text.trim().toLowerCase();
  const found = allowed.find((candidate) => candidate.toLowerCase() === lower);
  if (found === undefined) throw new InvalidValueError(`one of ${allowed.join(', ')}`);
  return found;
}

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/** Kafka's cleanup.policy list: `delete`, `compact`, or both in either order (stored as "compact,delete"). */
export function parseCleanupPolicy(text: string): CleanupPolicy {
  const parts = new Set(
    text
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .filter((part) => part.length > 0),
  );
  const expected = 'delete, compact, or compact,delete';
  if (parts.size === 0) throw new InvalidValueError(expected);
  for (const part of parts)
    if (part !== 'delete' && part !== 'compact') throw new InvalidValueError(expected);
  if (parts.size === 2) return 'compact,delete';
  return parts.has('compact') ? 'compact' : 'delete';
}

export const COMPRESSION_TYPES = ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionType = (typeof COMPRESSION_TYPES)[number];

export const TIMESTAMP_TYPES = ['CreateTime', 'LogAppendTime'] as const;
export type TimestampType = (typeof TIMESTAMP_TYPES)[number];

export interface HostPort {
  host: string;
  port: number;
}

/**
 * `HOST:PORT`, `[IPv6]:PORT`, or Kafka's listener form `PLAINTEXT://HOST:PORT`. An empty host means every
 * interface, as in Kafka. Only one listener is supported.
 */
export function parseHostPort(text: string): HostPort {
  const expected = 'HOST:PORT (or PLAINTEXT://HOST:PORT), a single address, port 0-65535';
  let rest = text.trim();
  if (rest.includes(',')) throw new InvalidValueError(`${expected}; Sluice serves one listener`);
  const scheme = /^([A-Za-z_][A-Za-z0-9_]*):\/\//.exec(rest);
  if (scheme) {
    if (scheme[1]!.toUpperCase() !== 'PLAINTEXT') {
      throw new InvalidValueError(`${expected}; only the PLAINTEXT security protocol is supported`);
    }
    rest = rest.slice(scheme[0].length);
  }
  let host: string;
  let portText: string;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(rest);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) throw new InvalidValueError(expected);
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.includes(':')) throw new InvalidValueError(`${expected}; write IPv6 hosts as [ADDRESS]:PORT`);
  }
  if (!/^\d{1,5}$/.test(portText)) throw new InvalidValueError(expected);
  const port = Number(portText);
  if (port > 65535) throw new InvalidValueError(expected);
  if (host !== '' && !/^[A-Za-z0-9._:-]+$/.test(host)) throw new InvalidValueError(expected);
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Addresses that mean "every interface": a client cannot connect to them. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}
