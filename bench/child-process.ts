// Client processes the client phases start: each runs with a time limit (killed when it runs over), its stdout
// kept in full up to a bound for the result it prints, its stderr kept as a short tail for error reports.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export class ChildProcessError extends Error {
  override name = 'ChildProcessError';
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Every stdout line (bounded by STDOUT_MAX_LINES). */
  stdoutLines: string[];
  stderrTail: string;
  elapsedMs: number;
}

const STDOUT_MAX_LINES = 1_000;
const STDERR_TAIL_LINES = 20;
/** After SIGTERM on timeout, SIGKILL if still alive. */
const KILL_GRACE_MS = 2_000;

/** A running client process. */
export class ClientProcess {
  readonly exited: Promise<ChildExit>;
  private readonly lineListeners: ((line: string) => void)[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly label: string,
    timeoutMs: number,
  ) {
    const startedMs = performance.now();
    const stdoutLines: string[] = [];
    const stderrLines: string[] = [];
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (stdoutLines.length < STDOUT_MAX_LINES) stdoutLines.push(line);
      for (const listener of this.lineListeners) listener(line);
    });
    readline.createInterface({ input: child.stderr! }).on('line', (line) => {
      stderrLines.push(line);
      if (stderrLines.length > STDERR_TAIL_LINES) stderrLines.shift();
    });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | null = null;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);
    this.exited = new Promise<ChildExit>((resolve, reject) => {
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new ChildProcessError(`${label}: ${error.message}`));
      });
      // 'close', not 'exit': by then both pipes are drained, so the last stdout line is in.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (killTimer !== null) clearTimeout(killTimer);
        const exit = {
          code,
          signal,
          stdoutLines,
          stderrTail: stderrLines.join('\n'),
          elapsedMs: performance.now() - startedMs,
        };
        if (timedOut) {
          reject(new ChildProcessError(`${label} ran over its ${timeoutMs} ms limit:\n${exit.stderrTail}`));
        } else {
          resolve(exit);
        }
      });
    });
    // A caller that stops waiting (an earlier failure) must not leave an unhandled rejection behind.
    this.exited.catch(() => undefined);
  }

  /** Starts `node <args>` in the repository root, with `env` over this process's environment. */
  static start(
    label: string,
    args: readonly string[],
    timeoutMs: number,
    env: Readonly<Record<string, string>> = {},
  ): ClientProcess {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot(),
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...env, ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    });
    if (child.pid === undefined) throw new ChildProcessError(`${label} did not start`);
    return new ClientProcess(child, child.pid, label, timeoutMs);
  }

  /** Calls `listener` with each stdout line from now on. */
  onLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }

  /** Resolves with the first stdout line that satisfies `matches`; rejects if the process ends first. */
  waitForLine(matches: (line: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      this.onLine((line) => {
        if (matches(line)) resolve(line);
      });
      this.exited.then(
        (exit) =>
          reject(
            new ChildProcessError(`${this.label} exited (${exit.code ?? exit.signal}):\n${exit.stderrTail}`),
          ),
        reject,
      );
    });
  }

  writeLine(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** For cleanup after a failure: the process must not outlive the phase. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Waits for the exit and fails unless the process ended with status 0. */
  async succeeded(): Promise<ChildExit> {
    const exit = await this.exited;
    if (exit.code !== 0) {
      throw new ChildProcessError(`${this.label} exited (${exit.code ?? exit.signal}):\n${exit.stderrTail}`);
    }
    return exit;
  }
}

let cachedRepoRoot: string | null = null;

/** The folder with package.json above this file (the bench runs from dist/bench/). */
export function repoRoot(): string {
  if (cachedRepoRoot !== null) return cachedRepoRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new ChildProcessError('package.json not found above the bench');
    dir = parent;
  }
  cachedRepoRoot = dir;
  return dir;
}

/** A compiled bench script, e.g. `kafkajs-perf.js` → dist/bench/kafkajs-perf.js. */
export function benchScript(name: string): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), name);
}

/**
 * The pid of the broker this bench started: the child of this process running `sluice.js start`. The phase
 * context carries only the broker's address, and the broker is always our direct child (see broker-process.ts).
 */
export async function findBrokerPid(): Promise<number> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // The command name may contain spaces; the parent pid is the second field after its ')'.
      const parentPid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parentPid !== process.pid) continue;
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (args.some((arg) => arg.endsWith('sluice.js')) && args.includes('start')) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  if (found.length !== 1) {
    throw new ChildProcessError(`expected one broker child process, found ${found.length}`);
  }
  return found[0]!;
}
