// A live status line on stderr at a bounded rate: redrawn in place on a terminal (4 times a second), one line
// per second otherwise (a log file gets a readable history, not a flood).

import type { Writable } from 'node:stream';

const TTY_INTERVAL_MS = 250;
const PLAIN_INTERVAL_MS = 1_000;
/** Carriage return, then "erase to end of line": redraws the line in place. */
const REDRAW = '\r';
const ERASE_LINE_END = '\x1b[K';

export class ProgressLine {
  private readonly stream: Writable & { isTTY?: boolean };
  private readonly render: () => string;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private drawn = false;

  constructor(stream: Writable & { isTTY?: boolean }, render: () => string, intervalMs?: number) {
    this.stream = stream;
    this.render = render;
    this.intervalMs = intervalMs ?? (stream.isTTY ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS);
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops drawing; on a terminal the line is erased so that what follows starts on a clean line. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.stream.isTTY && this.drawn) this.stream.write(`${REDRAW}${ERASE_LINE_END}`);
    this.drawn = false;
  }

  private draw(): void {
    const line = this.render();
    this.stream.write(this.stream.isTTY ? `${REDRAW}${line}${ERASE_LINE_END}` : `${line}\n`);
    this.drawn = true;
  }
}

/** Rate of a growing count over the time since the previous call (the first call measures from `startMs`). */
export class RateMeter {
  private lastMs: number;
  private lastCount = 0;

  constructor(startMs: number) {
    this.lastMs = startMs;
  }

  /** Per second, since the previous call. */
  rate(count: number, nowMs: number): number {
    const elapsedMs = nowMs - this.lastMs;
    const rate = elapsedMs > 0 ? ((count - this.lastCount) * 1000) / elapsedMs : 0;
    this.lastMs = nowMs;
    this.lastCount = count;
    return rate;
  }
}
