// What commands need from the outside world, passed in so that tests can run commands without a real
// broker, real signals or output on stdout.

import type { BrokerConfig } from '../common/config.js';
import type { CreateLoggerOptions, Logger } from '../common/logger.js';
import type { SignalProcess } from './shutdown.js';

export interface RunningBroker {
  close(): Promise<void>;
}

export interface CliContext {
  startBroker(config: BrokerConfig, logger: Logger): Promise<RunningBroker>;
  env: Readonly<Record<string, string | undefined>>;
  process: SignalProcess;
  /** One line to stderr. */
  printError(line: string): void;
  /** Log destination override (tests); empty means stdout. */
  logDestinationOption(): Pick<CreateLoggerOptions, 'destination'>;
}
