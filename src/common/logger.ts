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
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
