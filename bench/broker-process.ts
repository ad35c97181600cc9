// Starts the broker under test as a child process, waits for its ready log line, and stops it.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { BROKER_RUNTIME, runtimeNodeArgs, supervisedEnvironment } from '../src/cli/runtime.js';

export class BrokerStartError extends Error {
  override name = 'BrokerStartError';
}

export interface BrokerProcessOptions {
  repoRoot: string;
  dataDir: string;
  /** `key=value` settings passed as `--set`. */
  settings: readonly string[];
  /** Extra flags for node itself, e.g. --cpu-prof. */
  nodeFlags: readonly string[];
  readyTimeoutMs: number;
}

const LOG_LINES_KEPT = 40;
const STOP_GRACE_MS = 15_000;

export class BrokerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly recentLines: string[],
    readonly pid: number,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(options: BrokerProcessOptions): Promise<BrokerProcess> {
    const args = [
      ...runtimeNodeArgs(BROKER_RUNTIME, options.nodeFlags),
      path.join(options.repoRoot, 'bin', 'sluice.js'),
      'start',
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      options.dataDir,
      ...options.settings.flatMap((setting) => ['--set', setting]),
    ];
    // The runtime `sluice start` would relaunch itself with (src/cli/runtime.ts), given here so that
    // it runs in this process instead, and the sampled pid is the broker's.
    // The IPC channel makes the broker die with this process, even one killed without a chance to stop it.
    const child = spawn(process.execPath, args, {
      cwd: options.repoRoot,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...BROKER_RUNTIME.env, ...process.env, ...supervisedEnvironment(process.pid) },
    });
    child.channel?.unref();
    if (child.pid === undefined) throw new BrokerStartError('the broker process did not start');
    const lines: string[] = [];
    const keep = (line: string) => {
      lines.push(line);
      if (lines.length > LOG_LINES_KEPT) lines.shift();
    };
    // Both pipes are drained for the broker's whole life so that a chatty broker never blocks on them.
    readline.createInterface({ input: child.stderr! }).on('line', keep);
    const stdout = readline.createInterface({ input: child.stdout! });
    let ready: { host: string; port: number } | null = null;
    try {
      ready = await new Promise<{ host: string; port: number }>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new BrokerStartError(`no ready line within ${options.readyTimeoutMs} ms:\n${lines.join('\n')}`),
          );
        }, options.readyTimeoutMs);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(
            new BrokerStartError(`broker exited (${code ?? signal}) before ready:\n${lines.join('\n')}`),
          );
        });
        stdout.on('line', (line) => {
          keep(line);
          const address = ready === null ? parseReadyLine(line) : null;
          if (address !== null) {
            clearTimeout(timer);
            resolve(address);
          }
        });
      });
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return new BrokerProcess(child, lines, child.pid, ready.host, ready.port);
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** The last log lines, for error reports. */
  get logTail(): string {
    return this.recentLines.join('\n');
  }

  /** SIGTERM, then SIGKILL if the broker has not exited within the grace period. Resolves with how it ended. */
  async stop(): Promise<string> {
    if (this.exited) return `already exited (${this.child.exitCode ?? this.child.signalCode})`;
    const exit = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    const [code, signal] = (await exit) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    return code !== null ? `exit code ${code}` : `signal ${signal}`;
  }

  /** For a synchronous exit path (SIGINT on the bench). */
  killNow(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

function parseReadyLine(line: string): { host: string; port: number } | null {
  if (!line.includes('Sluice broker ready')) return null;
  try {
    const record = JSON.parse(line) as { msg?: unknown; host?: unknown; port?: unknown };
    if (record.msg !== 'Sluice broker ready' || typeof record.port !== 'number') return null;
    return { host: typeof record.host === 'string' ? record.host : '127.0.0.1', port: record.port };
  } catch {
    return null;
  }
}
