// `sluice start`: load the configuration, start the broker, stop it cleanly on SIGTERM/SIGINT.

import type { Command } from 'commander';
import type { BrokerConfig } from '../../common/config.js';
import { ConfigError, loadBrokerConfig } from '../../common/config.js';
import { readConfigFile } from '../../common/config-file.js';
import { formatEndpoint } from '../../common/config-values.js';
import { createLogger, type Logger } from '../../common/logger.js';
import type { CliContext } from '../context.js';
import { installShutdownHandlers } from '../shutdown.js';

export interface StartOptions {
  listen?: string;
  dataDir?: string;
  nodeId?: string;
  config?: string;
  advertisedListener?: string;
  logLevel?: string;
  set: string[];
}

/** Dedicated flags and the broker setting each one sets. */
const FLAG_SETTINGS = [
  ['listen', '--listen', 'listeners'],
  ['dataDir', '--data-dir', 'log.dirs'],
  ['nodeId', '--node-id', 'node.id'],
  ['advertisedListener', '--advertised-listener', 'advertised.listeners'],
  ['logLevel', '--log-level', 'log.level'],
] as const;

/** Command-line settings by Kafka name. Unknown names and bad values are caught later by loadBrokerConfig. */
export function startOptionsToFlags(options: StartOptions): Record<string, string> {
  const flags: Record<string, string> = {};
  const givenBy: Record<string, string> = {};
  for (const assignment of options.set) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new ConfigError(`--set expects key=value, got "${assignment}"`);
    const name = assignment.slice(0, equals).trim();
    flags[name] = assignment.slice(equals + 1);
    givenBy[name] = `--set ${name}`;
  }
  for (const [property, flag, name] of FLAG_SETTINGS) {
    const value = options[property];
    if (value === undefined) continue;
    if (flags[name] !== undefined && flags[name] !== value) {
      throw new ConfigError(`${flag} ${value} conflicts with ${givenBy[name]}=${flags[name]}; give it once`);
    }
    flags[name] = value;
  }
  return flags;
}

/** Everything `sluice start` does before starting the broker: options, file and environment to config. */
export async function resolveStartConfig(
  options: StartOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ config: BrokerConfig; warnings: string[] }> {
  const flags = startOptionsToFlags(options);
  const file = options.config === undefined ? undefined : await readConfigFile(options.config);
  const warnings: string[] = [];
  const config = loadBrokerConfig({ flags, env, file, warn: (message) => warnings.push(message) });
  return { config, warnings };
}

const collect = (value: string, previous: string[]) => [...previous, value];

const EXAMPLES = `
Examples:
  $ sluice start
      listen on 127.0.0.1:9092, data in ./data
  $ sluice start --listen 0.0.0.0:9092 --advertised-listener broker.example.com:9092 --data-dir /var/lib/sluice
  $ sluice start --config server.properties --set log.retention.hours=24 --set num.partitions=3
  $ SLUICE_LOG_SEGMENT_BYTES=134217728 sluice start --log-level debug
  $ SLUICE_SASL_USERS=alice:alice-secret sluice start --listen SASL_PLAINTEXT://127.0.0.1:9092
      every client must log in (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512) as alice
  $ sluice start --listen SSL://0.0.0.0:9093 --set ssl.keystore.location=/etc/sluice/broker.pem
      TLS with the key and certificate chain in broker.pem
  $ sluice start --listen PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9094 \\
      --advertised-listener SASL_SSL://broker.example.com:9094 \\
      --set ssl.keystore.location=/etc/sluice/broker.pem --set sasl.users=alice:alice-secret
      two listeners: plaintext for local tools, TLS and SASL for remote clients

Precedence: built-in defaults < --config file < SLUICE_* environment variables < flags.
Environment variables are SLUICE_ + the setting name upper-cased with dots as underscores.`;

export function registerStartCommand(program: Command, context: CliContext): void {
  program
    .command('start')
    .description('Run a broker')
    .option(
      '--listen <[name://]host:port,...>',
      'addresses to accept clients on, one listener each (listeners); name PLAINTEXT (default), SSL, ' +
        'SASL_PLAINTEXT, SASL_SSL or one of listener.security.protocol.map',
    )
    .option('--data-dir <dir>', 'directory for logs and metadata (log.dirs)')
    .option('--node-id <n>', 'broker id (node.id)')
    .option('--config <file>', 'settings file: Java .properties (key=value) or .json')
    .option(
      '--advertised-listener <[name://]host:port,...>',
      'addresses given to clients, per listener name (advertised.listeners)',
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (log.level)')
    .option('--set <key=value>', 'any broker setting by its Kafka name; repeatable', collect, [])
    .addHelpText('after', EXAMPLES)
    .action(async (options: StartOptions) => {
      const { config, warnings } = await resolveStartConfig(options, context.env);
      const logger = createLogger({ level: config.logLevel, ...context.logDestinationOption() });
      for (const warning of warnings) logger.warn(warning);
      await runBroker(config, logger, context);
    });
}

async function runBroker(config: BrokerConfig, logger: Logger, context: CliContext): Promise<void> {
  logger.info(
    {
      nodeId: config.nodeId,
      listeners: config.listeners.map(
        (listener) => `${formatEndpoint(listener)} (${listener.securityProtocol})`,
      ),
      advertisedListeners: config.listeners.map((listener) =>
        formatEndpoint({ name: listener.name, host: listener.advertisedHost, port: listener.advertisedPort }),
      ),
      dataDir: config.dataDir,
    },
    'starting broker',
  );
  let broker: { close(): Promise<void> };
  try {
    broker = await context.startBroker(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'broker failed to start');
    throw new StartFailedError(error);
  }
  installShutdownHandlers({
    close: () => broker.close(),
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    process: context.process,
  });
}

/** The broker itself failed to start (port in use, unreadable data directory, ...); exit status 1. */
export class StartFailedError extends Error {
  override name = 'StartFailedError';
  constructor(cause: unknown) {
    super(`cannot start the broker: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
