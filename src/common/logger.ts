// The broker's logger: pino writing JSON lines to stdout (or a given stream, for tests).

import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  level?: LogLevel;
  /** Appears as `name` in every line. */
  name?: string;
  /** Defaults to stdout. */
  destination?: DestinationStream;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const settings = { level: options.level ?? 'info', name: options.name ?? 'sluice' };
  // Synchronous writes to stdout. pino's default writes asynchronously and flushes what is left when the
  // process exits; if the reader of stdout has gone (EPIPE), that flush retries forever and the broker never
  // exits. The broker logs a few lines a minute, so writing each at once costs nothing that matters, and a
  // line logged just before exiting is not lost.
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: true }));
}
