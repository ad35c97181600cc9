// Flags shared by the client commands (topic, produce, consume, group, transaction, perf, cluster: --bootstrap
// and the --sasl-* credentials, each with an environment variable behind it) and the parsers that turn flag
// text into values. Parsers throw commander's InvalidArgumentError, which commander reports as
// "option '--x <v>' argument 'y' is invalid. <reason>" and which exits with the usage status.

import { type Command, InvalidArgumentError } from 'commander';
import { Admin } from '../client/admin.js';
import { type ClientOptions, parseBrokerAddress } from '../client/cluster.js';
import { KafkaClientError } from '../client/errors.js';
import { SASL_MECHANISMS, type SaslMechanism, type SaslOptions } from '../client/sasl.js';
import type { CompressionName } from '../protocol/records/layout.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';
export const BOOTSTRAP_ENV = 'SLUICE_BOOTSTRAP';
export const SASL_MECHANISM_ENV = 'SLUICE_SASL_MECHANISM';
export const SASL_USERNAME_ENV = 'SLUICE_SASL_USERNAME';
export const SASL_PASSWORD_ENV = 'SLUICE_SASL_PASSWORD';
/** A CLI run should say that a broker is unreachable in seconds, not after the library's 10 s default. */
const CLI_CONNECT_TIMEOUT_MS = 5_000;

export interface ClientFlags {
  bootstrap?: string;
  saslMechanism?: SaslMechanism;
  saslUsername?: string;
  saslPassword?: string;
}

/** Adds --bootstrap and the SASL credentials to a command that talks to brokers. */
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
  return {
    bootstrap: bootstrap ?? DEFAULT_BOOTSTRAP,
    clientId: 'sluice-cli',
    connectTimeoutMs: CLI_CONNECT_TIMEOUT_MS,
    ...(sasl === undefined ? {} : { sasl }),
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
