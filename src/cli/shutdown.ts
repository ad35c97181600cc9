// Graceful shutdown on SIGTERM/SIGINT: close once, exit 0 when done; exit 1 if closing fails or takes longer
// than the timeout; a second signal exits at once.

import type { Logger } from '../common/logger.js';

/** The parts of `process` shutdown needs, so tests can pass a fake. */
export interface SignalProcess {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface ShutdownOptions {
  close: () => Promise<void>;
  logger: Logger;
  timeoutMs: number;
  signals?: readonly NodeJS.Signals[];
  process?: SignalProcess;
}

/** Installs the handlers; returns a function that removes them. */
export function installShutdownHandlers(options: ShutdownOptions): () => void {
  const target = options.process ?? process;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const { logger } = options;
  let shuttingDown = false;

  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      target.exit(1);
      return;
    }
    shuttingDown = true;
    logger.info({ signal, timeoutMs: options.timeoutMs }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs }, 'shutdown did not finish in time; exiting');
      target.exit(1);
    }, options.timeoutMs);
    let closing: Promise<void>;
    try {
      closing = options.close();
    } catch (error) {
      closing = Promise.reject(error);
    }
    closing.then(
      () => {
        clearTimeout(timer);
        logger.info('stopped');
        target.exit(0);
      },
      (error: unknown) => {
        clearTimeout(timer);
        logger.error({ err: error }, 'shutdown failed');
        target.exit(1);
      },
    );
  };

  for (const signal of signals) target.on(signal, onSignal);
  return () => {
    for (const signal of signals) target.removeListener(signal, onSignal);
  };
}
