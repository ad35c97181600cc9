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

/** The listener name a `listeners` entry without a `NAME://` prefix gets, as in Kafka. */
export const DEFAULT_LISTENER_NAME = 'PLAINTEXT';

/** One entry of `listeners` or `advertised.listeners`: an address and the upper-cased name before `://`. */
export interface ListenerEndpoint extends HostPort {
  name: string;
}

/** An `advertised.listeners` entry; `name` is null for a bare HOST:PORT (it stands for the only listener). */
export interface AdvertisedEndpoint extends HostPort {
  name: string | null;
}

const LISTENER_LIST_EXPECTED = 'HOST:PORT or NAME://HOST:PORT, several separated by commas, port 0-65535';
const LISTENER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A comma-separated list of `[NAME://]HOST:PORT` (`[IPv6]:PORT` too). Names are upper-cased, as Kafka
 * normalises them; an empty host means every interface. Empty entries are skipped, as Kafka skips them.
 */
function parseEndpointList(text: string, expected: string): AdvertisedEndpoint[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new InvalidValueError(expected);
  const endpoints: AdvertisedEndpoint[] = [];
  for (const entry of entries) {
    let rest = entry;
    let name: string | null = null;
    const scheme = /^([^:/]*):\/\//.exec(rest);
    if (scheme) {
      if (!LISTENER_NAME.test(scheme[1]!)) {
        throw new InvalidValueError(
          `${expected}; a listener name is letters, digits and _, not "${scheme[1]}"`,
        );
      }
      name = scheme[1]!.toUpperCase();
      rest = rest.slice(scheme[0].length);
    }
    const endpoint = { name, ...parseBareHostPort(rest, expected) };
    if (name !== null && endpoints.some((other) => other.name === name)) {
      throw new InvalidValueError(`${expected}; listener ${name} is named twice`);
    }
    endpoints.push(endpoint);
  }
  return endpoints;
}

/**
 * Kafka's `listeners`: `[NAME://]HOST:PORT[,...]`, a bare address being the PLAINTEXT listener. Names are
 * unique (ignoring case) and no two listeners share a port other than 0.
 */
export function parseListeners(text: string): ListenerEndpoint[] {
  const expected = LISTENER_LIST_EXPECTED;
  const listeners: ListenerEndpoint[] = [];
  for (const endpoint of parseEndpointList(text, expected)) {
    const name = endpoint.name ?? DEFAULT_LISTENER_NAME;
    if (listeners.some((other) => other.name === name)) {
      throw new InvalidValueError(
        `${expected}; listener ${name} is named twice (HOST:PORT alone is ${name})`,
      );
    }
    const samePort = listeners.find((other) => endpoint.port !== 0 && other.port === endpoint.port);
    if (samePort !== undefined) {
      throw new InvalidValueError(
        `${expected}; listeners ${samePort.name} and ${name} both use port ${endpoint.port}`,
      );
    }
    listeners.push({ name, host: endpoint.host, port: endpoint.port });
  }
  return listeners;
}

/**
 * Kafka's `advertised.listeners`: `NAME://HOST:PORT[,...]`, or one bare HOST:PORT for the only listener.
 * Which names exist is checked against `listeners` by the caller.
 */
export function parseAdvertisedListeners(text: string): AdvertisedEndpoint[] {
  const expected = LISTENER_LIST_EXPECTED;
  const endpoints = parseEndpointList(text, expected);
  if (endpoints.length > 1 && endpoints.some((endpoint) => endpoint.name === null)) {
    throw new InvalidValueError(`${expected}; with several addresses each needs its listener name (NAME://)`);
  }
  return endpoints;
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

/** One entry as Kafka writes it: `NAME://HOST:PORT`, or HOST:PORT alone when the name is unknown. */
export function formatEndpoint(endpoint: AdvertisedEndpoint): string {
  const hostPort = formatHostPort(endpoint);
  return endpoint.name === null ? hostPort : `${endpoint.name}://${hostPort}`;
}

/**
 * A listener list as text. A lone PLAINTEXT listener prints as HOST:PORT, the way it is usually given;
 * otherwise every entry carries its name, so that the text parses back as either setting.
 */
export function formatListenerList(endpoints: readonly AdvertisedEndpoint[]): string {
  const only = endpoints.length === 1 ? endpoints[0]! : undefined;
  if (only !== undefined && (only.name === null || only.name === DEFAULT_LISTENER_NAME)) {
    return formatHostPort(only);
  }
  return endpoints.map(formatEndpoint).join(',');
}

/** Kafka's default `listener.security.protocol.map`: every security protocol is also a listener name. */
export const DEFAULT_LISTENER_SECURITY_PROTOCOL_MAP =
  'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL';

/** `NAME:PROTOCOL[,...]`: listener names (upper-cased, each once) to security protocols (any case). */
export function parseListenerSecurityProtocolMap(text: string): Record<string, SecurityProtocol> {
  const expected = `NAME:PROTOCOL[,NAME:PROTOCOL...] with PROTOCOL one of ${SECURITY_PROTOCOLS.join(', ')}`;
  const map: Record<string, SecurityProtocol> = {};
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new InvalidValueError(expected);
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? '' : entry.slice(0, colon).trim();
    const protocolText = colon < 0 ? '' : entry.slice(colon + 1).trim();
    if (!LISTENER_NAME.test(name))
      throw new InvalidValueError(`${expected}; "${entry}" is not NAME:PROTOCOL`);
    const protocol = SECURITY_PROTOCOLS.find((candidate) => candidate === protocolText.toUpperCase());
    if (protocol === undefined)
      throw new InvalidValueError(`${expected}; unknown security protocol ${protocolText}`);
    const upperName = name.toUpperCase();
    if (Object.hasOwn(map, upperName))
      throw new InvalidValueError(`${expected}; ${upperName} is mapped twice`);
    map[upperName] = protocol;
  }
  return map;
}

export function formatListenerSecurityProtocolMap(map: Readonly<Record<string, SecurityProtocol>>): string {
  return Object.entries(map)
    .map(([name, protocol]) => `${name}:${protocol}`)
    .join(',');
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
