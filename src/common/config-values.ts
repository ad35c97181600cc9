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

/** Kafka's four security protocols: with or without TLS, with or without SASL authentication. */
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

export function usesSasl(protocol: SecurityProtocol): boolean {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}

/** A listener address with the security protocol named by its `PROTOCOL://` prefix (PLAINTEXT without one). */
export interface ListenerAddress extends HostPort {
  securityProtocol: SecurityProtocol;
  /** Whether the text named the protocol; an advertised address without one takes the listener's. */
  protocolGiven: boolean;
}

const LISTENER_EXPECTED =
  'HOST:PORT or PROTOCOL://HOST:PORT (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL), a single address, port 0-65535';

/**
 * `HOST:PORT`, `[IPv6]:PORT`, or Kafka's listener form `PROTOCOL://HOST:PORT` (`SASL_SSL://HOST:PORT`).
 * An empty host means every interface, as in Kafka. Only one listener is supported.
 */
export function parseListenerAddress(text: string): ListenerAddress {
  const expected = LISTENER_EXPECTED;
  let rest = text.trim();
  if (rest.includes(',')) throw new InvalidValueError(`${expected}; Sluice serves one listener`);
  let securityProtocol: SecurityProtocol = 'PLAINTEXT';
  const scheme = /^([A-Za-z_][A-Za-z0-9_]*):\/\//.exec(rest);
  if (scheme) {
    const name = scheme[1]!.toUpperCase();
    if (!(SECURITY_PROTOCOLS as readonly string[]).includes(name)) {
      throw new InvalidValueError(`${expected}; unknown security protocol ${scheme[1]}`);
    }
    securityProtocol = name as SecurityProtocol;
    rest = rest.slice(scheme[0].length);
  }
  return { ...parseBareHostPort(rest, expected), securityProtocol, protocolGiven: scheme !== null };
}

function parseBareHostPort(rest: string, expected: string): HostPort {
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

/** PLAINTEXT listeners print as HOST:PORT, as they are usually given; others with their protocol. */
export function formatListenerAddress(address: HostPort & { securityProtocol: SecurityProtocol }): string {
  const hostPort = formatHostPort(address);
  return address.securityProtocol === 'PLAINTEXT' ? hostPort : `${address.securityProtocol}://${hostPort}`;
}

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** A comma-separated list of mechanism names (upper case, as Kafka spells them), at least one, no repeats. */
export function parseSaslMechanisms(text: string): SaslMechanism[] {
  const expected = `a list of ${SASL_MECHANISMS.join(', ')}`;
  const names = text.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InvalidValueError(expected);
  const mechanisms: SaslMechanism[] = [];
  for (const name of names) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(name)) {
      throw new InvalidValueError(`${expected}; ${name} is not supported`);
    }
    if (mechanisms.includes(name as SaslMechanism)) throw new InvalidValueError(`${expected}; ${name} twice`);
    mechanisms.push(name as SaslMechanism);
  }
  return mechanisms;
}

export interface SaslUser {
  name: string;
  password: string;
}

/** `NAME:PASSWORD[,NAME:PASSWORD...]`; the name ends at the first colon, so a password may contain colons. */
export function parseSaslUsers(text: string): SaslUser[] {
  const expected = 'NAME:PASSWORD[,NAME:PASSWORD...] with non-empty names and passwords';
  const users: SaslUser[] = [];
  for (const entry of text.split(',')) {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? '' : entry.slice(0, colon).trim();
    const password = colon < 0 ? '' : entry.slice(colon + 1);
    // No echo of the entry: it holds a password.
    if (name === '' || password === '') throw new InvalidValueError(expected);
    if (users.some((user) => user.name === name)) {
      throw new InvalidValueError(`${expected}; user ${name} is listed twice`);
    }
    users.push({ name, password });
  }
  return users;
}

/** Addresses that mean "every interface": a client cannot connect to them. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}
