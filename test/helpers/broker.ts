// Starts real Sluice broker processes for integration tests. Each broker is a child process running
// bin/sluice.js on an ephemeral port; the helper waits for its "ready" log line, keeps a bounded copy of its
// output for failure messages, and makes sure no process or temp dir outlives the test file.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROKER_RUNTIME, runtimeNodeArgs, supervisedEnvironment } from '../../src/cli/runtime.js';

export interface StartBrokerOptions {
  /** Data directory to use; when omitted a temp dir is created and removed by dispose(). */
  dataDir?: string;
  /** Extra command-line arguments, e.g. ['--set', 'num.partitions=3']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

const defaultReadyTimeoutMs = 20_000;
const stopTimeoutMs = 10_000;
const logLimitChars = 512 * 1024;
const readyMessage = 'Sluice broker ready';

/** The repository root: the nearest ancestor holding bin/sluice.js (works from test/ and from dist/test/). */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'bin', 'sluice.js')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no bin/sluice.js above ${start}`);
    dir = parent;
  }
}

export class BrokerStartError extends Error {
  override name = 'BrokerStartError';
}

const liveBrokers = new Set<Broker>();

/** A broker process plus its data dir. restart() replaces the process but keeps the handle and the data. */
export class Broker {
  host = '';
  port = 0;
  process!: ChildProcess;
  readonly dataDir: string;
  private readonly ownsDataDir: boolean;
  private readonly args: string[];
  private readonly env: NodeJS.ProcessEnv | undefined;
  private readonly readyTimeoutMs: number;
  private output = '';
  private exitPromise: Promise<number> = Promise.resolve(0);
  private running = false;

  constructor(dataDir: string, ownsDataDir: boolean, options: StartBrokerOptions) {
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.args = options.args ?? [];
    this.env = options.env;
    this.readyTimeoutMs = options.readyTimeoutMs ?? defaultReadyTimeoutMs;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Everything the broker processes of this handle wrote (stdout and stderr), possibly trimmed at the front. */
  logs(): string {
    return this.output;
  }

  async launch(extraArgs: string[] = []): Promise<void> {
    const argv = [
      ...runtimeNodeArgs(BROKER_RUNTIME, []),
      join(repoRoot, 'bin', 'sluice.js'),
      'start',
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      this.dataDir,
      ...this.args,
      ...extraArgs,
    ];
    this.appendLog(`--- launching: node ${argv.join(' ')}\n`);
    const child = spawn(process.execPath, argv, {
      cwd: repoRoot,
      // With the broker's runtime environment given, `sluice start` does not relaunch itself
      // (src/cli/runtime.ts), so this process is the broker and kill -9 hits it directly. The IPC channel
      // makes it die with the test process, should that be killed before it can stop its brokers.
      env: { ...BROKER_RUNTIME.env, ...process.env, ...this.env, ...supervisedEnvironment(process.pid) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.channel?.unref();
    this.process = child;
    this.running = true;
    liveBrokers.add(this);
    this.exitPromise = new Promise<number>((resolve) => {
      child.once('close', (code, signal) => {
        this.running = false;
        liveBrokers.delete(this);
        const exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
        this.appendLog(`--- exited: code=${code} signal=${signal}\n`);
        resolve(exitCode);
      });
    });

    const ready = new Promise<{ host: string; port: number }>((resolve, reject) => {
      let pending = '';
      const timer = setTimeout(() => {
        reject(
          new BrokerStartError(`broker not ready within ${this.readyTimeoutMs} ms; output:\n${this.output}`),
        );
      }, this.readyTimeoutMs);
      const onStdout = (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          const address = parseReadyLine(line);
          if (address) {
            clearTimeout(timer);
            child.stdout?.off('data', onStdout);
            resolve(address);
            return;
          }
          newline = pending.indexOf('\n');
        }
      };
      child.stdout?.on('data', onStdout);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new BrokerStartError(`cannot spawn broker: ${err.message}`));
      });
      void this.exitPromise.then((code) => {
        clearTimeout(timer);
        reject(
          new BrokerStartError(`broker exited with ${code} before it was ready; output:\n${this.output}`),
        );
      });
    });
    child.stdout?.on('data', (chunk: Buffer) => this.appendLog(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => this.appendLog(chunk.toString('utf8')));
    try {
      const address = await ready;
      this.host = address.host;
      this.port = address.port;
    } catch (err) {
      await this.kill9();
      throw err;
    }
  }

  /** SIGTERM and wait for exit; returns the exit code (128 + signal number if killed by a signal). */
  async stop(): Promise<number> {
    if (!this.running) return this.exitPromise;
    this.process.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(resolve, stopTimeoutMs, 'timeout').unref(),
    );
    const result = await Promise.race([this.exitPromise, timeout]);
    if (result === 'timeout') {
      await this.kill9();
      throw new Error(`broker did not exit within ${stopTimeoutMs} ms of SIGTERM; output:\n${this.output}`);
    }
    return result;
  }

  async kill9(): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGKILL');
    await this.exitPromise;
  }

  /** Stops the running process (gracefully) if any, then starts a new one on the same data dir. */
  async restart(extraArgs: string[] = []): Promise<this> {
    if (this.running) await this.stop();
    await this.launch(extraArgs);
    return this;
  }

  /** Kills the process if still running and removes the data dir if this helper created it. */
  async dispose(): Promise<void> {
    await this.kill9();
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  private appendLog(text: string): void {
    this.output += text;
    if (this.output.length > logLimitChars) this.output = this.output.slice(-logLimitChars);
  }
}

function parseReadyLine(line: string): { host: string; port: number } | undefined {
  if (!line.includes(readyMessage)) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; host?: unknown; port?: unknown };
    if (entry.msg === readyMessage && typeof entry.port === 'number') {
      return { host: typeof entry.host === 'string' ? entry.host : '127.0.0.1', port: entry.port };
    }
  } catch {
    // Not a JSON line: keep waiting for the real one.
  }
  return undefined;
}

const allBrokers = new Set<Broker>();

/** Starts a broker and waits until it serves. Call disposeAllBrokers() in an `after` hook. */
export async function startBroker(options: StartBrokerOptions = {}): Promise<Broker> {
  const dataDir = options.dataDir ?? (await makeTempDir('sluice-test-'));
  const broker = new Broker(dataDir, options.dataDir === undefined, options);
  allBrokers.add(broker);
  await broker.launch();
  return broker;
}

/**
 * A loopback port nobody listens on right now, for a broker started with `--listen 127.0.0.1:<port>` that must
 * come back on the same address after a restart, as a real deployment does.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from the probe server');
  return address.port;
}

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Kills every broker this process started and removes the temp dirs the helper created. */
export async function disposeAllBrokers(): Promise<void> {
  const brokers = [...allBrokers];
  allBrokers.clear();
  await Promise.all(brokers.map((broker) => broker.dispose()));
}

// Last resort when a test file dies without running its hooks: never leave broker processes behind.
process.once('exit', () => {
  for (const broker of liveBrokers) broker.process.kill('SIGKILL');
});
