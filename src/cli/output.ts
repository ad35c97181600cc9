// Output of the client commands: aligned tables, consumed records as text or JSON lines, and a line writer
// that respects stdout's backpressure and stops quietly when the reader goes away (`sluice consume | head`).

import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { ConsumerMessage } from '../client/consumer/message.js';

/** The streams a client command reads and writes; the process's own unless a test passes others. */
export interface CommandIo {
  stdin: Readable;
  stdout: Writable;
  /** Progress lines rewrite themselves in place only when this is a terminal. */
  stderr: Writable & { isTTY?: boolean };
}

export function processIo(): CommandIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/** "1 record", "2 records". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Writes text plus a newline to stdout. */
export function printOutput(io: CommandIo, text: string): void {
  io.stdout.write(`${text}\n`);
}

/**
 * Columns padded to their widest cell, two spaces apart, no trailing spaces. `rightAligned` lists the
 * columns (by index) whose cells line up on the right, for numbers.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: readonly number[] = [],
): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? '';
        return rightAligned.includes(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export type MessageFormat = 'plain' | 'json';

export interface MessageFormatOptions {
  format: MessageFormat;
  /** plain only: print the key, then keySeparator, then the value. */
  printKey: boolean;
  keySeparator: string;
}

/** What a null key or value prints as in plain output (Kafka's console consumer does the same). */
const PLAIN_NULL = 'null';

/**
 * One consumed record as one line (without the newline). plain: the value as UTF-8 (optionally preceded by the
 * key); json: {topic, partition, offset, timestamp, key, value, headers} with key and value as UTF-8 strings or
 * null, and headers as an object (a header name that repeats maps to an array of its values).
 */
export function formatMessage(message: ConsumerMessage, options: MessageFormatOptions): string {
  if (options.format === 'plain') {
    const value = message.value === null ? PLAIN_NULL : message.value.toString('utf8');
    if (!options.printKey) return value;
    const key = message.key === null ? PLAIN_NULL : message.key.toString('utf8');
    return `${key}${options.keySeparator}${value}`;
  }
  const headers: Record<string, string | null | (string | null)[]> = {};
  for (const header of message.headers) {
    const value = header.value === null ? null : header.value.toString('utf8');
    const previous = headers[header.key];
    if (previous === undefined) headers[header.key] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else headers[header.key] = [previous, value];
  }
  return JSON.stringify({
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value === null ? null : message.value.toString('utf8'),
    headers,
  });
}

/** Writes lines to a stream, waiting for 'drain' when it is full; `closed` turns true if the reader left (EPIPE). */
export class LineWriter {
  private readonly stream: Writable;
  private broken = false;

  constructor(stream: Writable) {
    this.stream = stream;
    // Without a listener an EPIPE would be an uncaught exception; a closed pipe just means "stop printing".
    stream.on('error', () => {
      this.broken = true;
    });
  }

  get closed(): boolean {
    return this.broken || this.stream.destroyed;
  }

  /** Resolves at once unless the stream's buffer is full. */
  async writeLine(line: string): Promise<void> {
    if (this.closed) return;
    if (this.stream.write(`${line}\n`)) return;
    const abort = new AbortController();
    try {
      await Promise.race([
        once(this.stream, 'drain', { signal: abort.signal }),
        once(this.stream, 'close', { signal: abort.signal }),
      ]);
    } catch {
      // 'error' (seen by the constructor's listener) or the abort below.
    } finally {
      abort.abort();
    }
  }
}
