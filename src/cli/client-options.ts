// Flags shared by the client commands (topic, produce, consume, group, transaction, perf, cluster: --bootstrap,
// the --sasl-* credentials and the --tls* settings, each with an environment variable behind it) and the parsers
// that turn flag text into values. Parsers throw commander's InvalidArgumentError, which commander reports as
// "option '--x <v>' argument 'y' is invalid. <reason>" and which exits with the usage status.

import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { Admin } from '../client/admin.js';
import { type ClientOptions, parseBrokerAddress } from '../client/cluster.js';
import { ConfigError, KafkaClientError } from '../client/errors.js';
import { SASL_MECHANISMS, type SaslMechanism, type SaslOptions } from '../client/sasl.js';
import { resolveSslOptions, type SslOptions } from '../client/tls.js';
import type { CompressionName } from '../protocol/records/layout.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';
export const BOOTSTRAP_ENV = 'SLUICE_BOOTSTRAP';
export const SASL_MECHANISM_ENV = 'SLUICE_SASL_MECHANISM';
export const SASL_USERNAME_ENV = 'SLUICE_SASL_USERNAME';
export const SASL_PASSWORD_ENV = 'SLUICE_SASL_PASSWORD';
export const TLS_ENV = 'SLUICE_TLS';
export const TLS_CA_ENV = 'SLUICE_TLS_CA';
export const TLS_CERT_ENV = 'SLUICE_TLS_CERT';
export const TLS_KEY_ENV = 'SLUICE_TLS_KEY';
/** A CLI run should say that a broker is unreachable in seconds, not after the library's 10 s default. */
const CLI_CONNECT_TIMEOUT_MS = 5_000;

export interface ClientFlags {
  bootstrap?: string;
  saslMechanism?: SaslMechanism;
  saslUsername?: string;
  saslPassword?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Adds --bootstrap, the SASL credentials and the TLS settings to a command that talks to brokers. */
export function addClientOptions(command: Command): Command {
  return command
    .option(
      '--bootstrap <host:port,...>',
      `brokers to start from (default: $${BOOTSTRAP_ENV} or ${DEFAULT_BOOTSTRAP})`,
      parseBootstrap,
    )
    .option(
      '--sasl-mechanism <mechanism>',
      `authenticate with SASL: ${SASL_MECHANISMS.join(', ')} (default: $${SASL_MECHANISM_ENV}, else none)`,
      parseSaslMechanism,
    )
    .option('--sasl-username <name>', `SASL user name (default: $${SASL_USERNAME_ENV})`, parseSaslUsername)
    .option(
      '--sasl-password <password>',
      `SASL password (default: $${SASL_PASSWORD_ENV}, which other users cannot see in the process list)`,
    )
    .option(
      '--tls',
      `connect with TLS (SSL and SASL_SSL listeners), verifying the brokers' certificates against the ` +
        `system CAs or --tls-ca (default: $${TLS_ENV}=true|false, else on when a --tls-* file is given)`,
    )
    .option(
      '--tls-ca <file>',
      `PEM file of the CA certificates that signed the brokers' certificates; implies --tls ` +
        `(default: $${TLS_CA_ENV})`,
      parseFilePath,
    )
    .option(
      '--tls-cert <file>',
      `PEM file of the client certificate, for brokers that require one (mutual TLS); needs --tls-key; ` +
        `implies --tls (default: $${TLS_CERT_ENV})`,
      parseFilePath,
    )
    .option(
      '--tls-key <file>',
      `PEM file of the unencrypted private key of --tls-cert; implies --tls (default: $${TLS_KEY_ENV})`,
      parseFilePath,
    );
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Client options from the flags, each falling back to its environment variable: --bootstrap, else
 * SLUICE_BOOTSTRAP, else 127.0.0.1:9092; SASL only when a mechanism is given, and then with both credentials.
 */
export function clientOptions(flags: ClientFlags, env: Environment): ClientOptions {
  let bootstrap = flags.bootstrap;
  if (bootstrap === undefined) {
    const fromEnv = env[BOOTSTRAP_ENV]?.trim();
    if (fromEnv) {
      try {
        bootstrap = parseBootstrap(fromEnv);
      } catch (error) {
        throw new UsageError(`${BOOTSTRAP_ENV}=${fromEnv} is invalid: ${(error as Error).message}`);
      }
    }
  }
  const sasl = saslOptions(flags, env);
  const ssl = tlsOptions(flags, env);
  return {
    bootstrap: bootstrap ?? DEFAULT_BOOTSTRAP,
    clientId: 'sluice-cli',
    connectTimeoutMs: CLI_CONNECT_TIMEOUT_MS,
    ...(sasl === undefined ? {} : { sasl }),
    ...(ssl === undefined ? {} : { ssl }),
  };
}

/** An empty variable counts as unset, as for SLUICE_BOOTSTRAP. */
function fromEnv(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function saslOptions(flags: ClientFlags, env: Environment): SaslOptions | undefined {
  let mechanism = flags.saslMechanism;
  const mechanismText = fromEnv(env, SASL_MECHANISM_ENV);
  if (mechanism === undefined && mechanismText !== undefined) {
    try {
      mechanism = parseSaslMechanism(mechanismText);
    } catch (error) {
      throw new UsageError(`${SASL_MECHANISM_ENV}=${mechanismText} is invalid: ${(error as Error).message}`);
    }
  }
  const username = flags.saslUsername ?? fromEnv(env, SASL_USERNAME_ENV);
  const password = flags.saslPassword ?? fromEnv(env, SASL_PASSWORD_ENV);
  if (mechanism === undefined) {
    if (username === undefined && password === undefined) return undefined;
    throw new UsageError(
      `a SASL user name or password needs a mechanism: --sasl-mechanism or $${SASL_MECHANISM_ENV} ` +
        `(${SASL_MECHANISMS.join(', ')})`,
    );
  }
  if (username === undefined || password === undefined) {
    const missing = [
      ...(username === undefined ? [`--sasl-username (or $${SASL_USERNAME_ENV})`] : []),
      ...(password === undefined ? [`--sasl-password (or $${SASL_PASSWORD_ENV})`] : []),
    ];
    throw new UsageError(`SASL mechanism ${mechanism} needs ${missing.join(' and ')}`);
  }
  return { mechanism, username, password };
}

/** A TLS file setting and where it came from ('--tls-ca' or '$SLUICE_TLS_CA'), for messages. */
interface TlsFile {
  path: string;
  source: string;
}

function tlsFile(
  flag: string,
  flagValue: string | undefined,
  env: Environment,
  name: string,
): TlsFile | undefined {
  if (flagValue !== undefined) return { path: flagValue, source: flag };
  const path = fromEnv(env, name);
  return path === undefined ? undefined : { path, source: `$${name}` };
}

/**
 * TLS from the flags and SLUICE_TLS*: on with --tls or any --tls-* file flag; otherwise $SLUICE_TLS decides when
 * set (false turns TLS off even with SLUICE_TLS_* files set), else any SLUICE_TLS_* file turns it on. Each file
 * falls back to its variable. The files are read and checked here, when the command runs, so that a wrong path
 * or a file that is not PEM is a usage error naming its flag.
 */
function tlsOptions(flags: ClientFlags, env: Environment): true | SslOptions | undefined {
  const ca = tlsFile('--tls-ca', flags.tlsCa, env, TLS_CA_ENV);
  const cert = tlsFile('--tls-cert', flags.tlsCert, env, TLS_CERT_ENV);
  const key = tlsFile('--tls-key', flags.tlsKey, env, TLS_KEY_ENV);
  let enabled: boolean;
  if (
    flags.tls === true ||
    flags.tlsCa !== undefined ||
    flags.tlsCert !== undefined ||
    flags.tlsKey !== undefined
  ) {
    enabled = true;
  } else {
    const switchText = fromEnv(env, TLS_ENV);
    enabled =
      switchText === undefined
        ? [ca, cert, key].some((file) => file !== undefined)
        : parseTlsSwitch(switchText);
  }
  if (!enabled) return undefined;
  if (cert !== undefined && key === undefined) {
    throw new UsageError(
      `${cert.source} needs --tls-key (or $${TLS_KEY_ENV}): the client certificate's private key`,
    );
  }
  if (key !== undefined && cert === undefined) {
    throw new UsageError(`${key.source} needs --tls-cert (or $${TLS_CERT_ENV}): the client certificate`);
  }
  if (ca === undefined && cert === undefined) return true;
  const ssl: SslOptions = {};
  if (ca !== undefined) {
    ssl.ca = readPemFile(ca);
    checkTlsSetting({ ca: ssl.ca }, `${ca.source} ${ca.path}`);
  }
  if (cert !== undefined && key !== undefined) {
    ssl.cert = readPemFile(cert);
    ssl.key = readPemFile(key);
    checkTlsSetting(
      { cert: ssl.cert, key: ssl.key },
      `${cert.source} ${cert.path} with ${key.source} ${key.path}`,
    );
  }
  return ssl;
}

function parseTlsSwitch(text: string): boolean {
  switch (text.trim().toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      throw new UsageError(`${TLS_ENV}=${text} is invalid: expected true, false, 1 or 0`);
  }
}

/** Read once at command start, before any connection: sync is simplest and blocks nothing else. */
function readPemFile(file: TlsFile): Buffer {
  let contents: Buffer;
  try {
    contents = readFileSync(file.path);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : message;
    throw new UsageError(`${file.source} ${file.path} cannot be read: ${reason}`);
  }
  if (!contents.includes('-----BEGIN ')) {
    throw new UsageError(`${file.source} ${file.path} is not a PEM file (no '-----BEGIN ...' line)`);
  }
  return contents;
}

function checkTlsSetting(ssl: SslOptions, subject: string): void {
  try {
    resolveSslOptions(ssl);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageError(
      `${subject} cannot be used: ${error.message.replace(/^ssl: (cert and key cannot be used: )?/, '')}`,
    );
  }
}

/** A --tls-* file path: non-empty; whether it can be read is checked when the command runs. */
function parseFilePath(text: string): string {
  if (text === '') throw new InvalidArgumentError('expected a file path');
  return text;
}

/** --sasl-mechanism: our names, case-insensitive ('SCRAM-SHA-256', as Kafka writes it, works too). */
export function parseSaslMechanism(text: string): SaslMechanism {
  const name = text.trim().toLowerCase();
  const found = SASL_MECHANISMS.find((mechanism) => mechanism === name);
  if (found === undefined) throw new InvalidArgumentError(`expected one of ${SASL_MECHANISMS.join(', ')}`);
  return found;
}

function parseSaslUsername(text: string): string {
  if (text === '') throw new InvalidArgumentError('expected a non-empty name');
  return text;
}

/** 'host:port[,host:port...]', checked here so that a typo is a usage error rather than a connection failure. */
export function parseBootstrap(text: string): string {
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === ''))
    throw new InvalidArgumentError('expected host:port[,host:port...]');
  for (const entry of entries) {
    try {
      parseBrokerAddress(entry);
    } catch (error) {
      if (!(error instanceof KafkaClientError)) throw error;
      throw new InvalidArgumentError(`'${entry}' is not host:port`);
    }
  }
  return entries.join(',');
}

/** A parser for whole numbers in [min, max]. */
export function integerIn(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const trimmed = text.trim();
    const value = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `expected a whole number ≥ ${min}`
          : `expected a whole number from ${min} to ${max}`,
      );
    }
    return value;
  };
}

/** A parser for positive decimal numbers (rates, durations). */
export function positiveNumber(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(value > 0) || !Number.isFinite(value)) throw new InvalidArgumentError('expected a number > 0');
  return value;
}

/** Collects a repeatable option into a list. */
export function collect<T>(parse: (text: string) => T): (text: string, previous: T[] | undefined) => T[] {
  return (text, previous) => [...(previous ?? []), parse(text)];
}

/** 'key=value' (the value may contain '='; it may be empty). */
export function parseAssignment(text: string): [string, string] {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError('expected key=value');
  return [text.slice(0, equals), text.slice(equals + 1)];
}

export type Acks = -1 | 0 | 1;

/** --acks: 0 (no answer), 1 (leader) or all (every in-sync replica; -1 accepted too). */
export function parseAcks(text: string): Acks {
  switch (text.trim().toLowerCase()) {
    case '0':
      return 0;
    case '1':
      return 1;
    case 'all':
    case '-1':
      return -1;
    default:
      throw new InvalidArgumentError('expected 0, 1 or all');
  }
}

const COMPRESSIONS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function parseCompression(text: string): CompressionName {
  const name = text.trim().toLowerCase();
  const found = COMPRESSIONS.find((c) => c === name);
  if (found === undefined) throw new InvalidArgumentError(`expected one of ${COMPRESSIONS.join(', ')}`);
  return found;
}

/**
 * A point in time as milliseconds since the epoch: a whole number of milliseconds, or an ISO 8601 date
 * ('2024-05-01', '2024-05-01T12:00:00Z'; a date-time without a zone is local time, as in JavaScript).
 */
export function parseTimestamp(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const value = Number(trimmed);
    if (Number.isSafeInteger(value)) return value;
  } else if (
    /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)
  ) {
    const value = Date.parse(trimmed);
    if (!Number.isNaN(value)) return value;
  }
  throw new InvalidArgumentError('expected milliseconds since the epoch or an ISO 8601 date');
}

export type StartPosition =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: number }
  | { kind: 'timestamp'; timestamp: number };

/** --from: earliest, latest, an offset, @<ms since the epoch>, or an ISO 8601 date. */
export function parseStartPosition(text: string): StartPosition {
  const trimmed = text.trim();
  if (trimmed === 'earliest' || trimmed === 'beginning') return { kind: 'earliest' };
  if (trimmed === 'latest' || trimmed === 'end') return { kind: 'latest' };
  if (/^\d+$/.test(trimmed)) return { kind: 'offset', offset: integerIn(0)(trimmed) };
  try {
    return {
      kind: 'timestamp',
      timestamp: parseTimestamp(trimmed.startsWith('@') ? trimmed.slice(1) : trimmed),
    };
  } catch {
    throw new InvalidArgumentError(
      'expected earliest, latest, an offset, @<ms since the epoch> or an ISO 8601 date',
    );
  }
}

/** --key-separator and the like: a non-empty string; '\t' and '\n' written as escapes are understood. */
export function parseSeparator(text: string): string {
  const separator = text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  if (separator === '') throw new InvalidArgumentError('expected a non-empty separator');
  return separator;
}

/** Runs `work` with a connected Admin and closes it afterwards, whatever happens. */
export async function withAdmin<T>(options: ClientOptions, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(options);
  try {
    await admin.connect();
    return await work(admin);
  } finally {
    await admin.close();
  }
}

/** Exit status after a second Ctrl-C, as shells report a process ended by SIGINT. */
const INTERRUPTED_EXIT_STATUS = 130;

/**
 * Calls `stop` on the first SIGINT or SIGTERM (the command then finishes cleanly: flush, commit, summary) and
 * exits at once on the second. Returns the function that removes the handlers.
 */
export function onInterrupt(context: CliContext, stop: () => void): () => void {
  let interrupted = false;
  const handler = () => {
    if (interrupted) {
      context.process.exit(INTERRUPTED_EXIT_STATUS);
      return;
    }
    interrupted = true;
    stop();
  };
  context.process.on('SIGINT', handler);
  context.process.on('SIGTERM', handler);
  return () => {
    context.process.removeListener('SIGINT', handler);
    context.process.removeListener('SIGTERM', handler);
  };
}
