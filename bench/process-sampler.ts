// Samples a process's CPU time and resident set size from /proc every interval, and summarises a window.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface ProcessSample {
  /** performance.now() of the bench process. */
  atMs: number;
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

export interface ResourceSummary {
  /** CPU time over wall time; 100 = one core busy. */
  cpuPercent: number;
  rssPeakMB: number;
  rssMeanMB: number;
  samples: number;
}

/** Samples kept at most: one hour at 250 ms. */
const MAX_SAMPLES = 14_400;

export class ProcessSampler {
  readonly samples: ProcessSample[] = [];
  private readonly timer: NodeJS.Timeout;
  private sampling = false;

  private constructor(
    private readonly pid: number,
    private readonly clockTicksPerSecond: number,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.sampleInBackground(), intervalMs);
  }

  static start(pid: number, intervalMs: number): ProcessSampler {
    return new ProcessSampler(pid, clockTicksPerSecond(), intervalMs);
  }

  /** Takes one sample now (for exact phase boundaries) and keeps it. */
  async sampleNow(): Promise<ProcessSample> {
    const sample = await this.read();
    this.keep(sample);
    return sample;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** CPU between the two boundary samples; RSS over every sample between them, boundaries included. */
  summarise(start: ProcessSample, end: ProcessSample): ResourceSummary {
    const inWindow = this.samples.filter((s) => s.atMs >= start.atMs && s.atMs <= end.atMs);
    const wallSeconds = (end.atMs - start.atMs) / 1000;
    const rss = inWindow.map((s) => s.rssBytes);
    return {
      cpuPercent: wallSeconds > 0 ? ((end.cpuSeconds - start.cpuSeconds) / wallSeconds) * 100 : 0,
      rssPeakMB: Math.max(...rss) / 1e6,
      rssMeanMB: rss.reduce((sum, value) => sum + value, 0) / rss.length / 1e6,
      samples: inWindow.length,
    };
  }

  private async sampleInBackground(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.keep(await this.read());
    } catch {
      // The process is gone (stopping or crashed); the driver notices that on its own.
    } finally {
      this.sampling = false;
    }
  }

  private keep(sample: ProcessSample): void {
    if (this.samples.length < MAX_SAMPLES) this.samples.push(sample);
  }

  private async read(): Promise<ProcessSample> {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${this.pid}/stat`, 'utf8'),
      readFile(`/proc/${this.pid}/status`, 'utf8'),
    ]);
    return {
      atMs: performance.now(),
      cpuSeconds: parseCpuTicks(stat) / this.clockTicksPerSecond,
      rssBytes: parseRssBytes(status),
    };
  }
}

/** utime + stime from /proc/<pid>/stat. The command name may contain spaces, so fields count from its ')'. */
export function parseCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3 of the file, utime field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}

export function parseRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** CPU time all processes on the machine spent busy (not idle or waiting for I/O), in seconds. */
export async function readMachineBusySeconds(): Promise<number> {
  const stat = await readFile('/proc/stat', 'utf8');
  const fields = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: everything but idle and iowait counts as busy.
  const busyTicks = fields.reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
  return busyTicks / clockTicksPerSecond();
}

let cachedClockTicks = 0;

function clockTicksPerSecond(): number {
  if (cachedClockTicks === 0) cachedClockTicks = readClockTicks();
  return cachedClockTicks;
}

function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}
