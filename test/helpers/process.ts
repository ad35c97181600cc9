// Runs an external client program (kcat, python3) with bounded time and captured output.
import { type ChildProcess, spawn } from 'node:child_process';

export interface ProgramResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export class ProgramMissingError extends Error {
  override name = 'ProgramMissingError';
}

/** Runs `command args`; resolves with its output (never rejects on a non-zero exit), killing it on timeout. */
export function runProgram(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<ProgramResult> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT')
        reject(new ProgramMissingError(`${command} is not installed (spawn ENOENT)`));
      else reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new Error(
            `${command} ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
        return;
      }
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {
      // The program may exit before reading all input; its exit code tells the story.
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like runProgram, but fails with the full output unless the program exits 0. */
export async function runProgramOk(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<ProgramResult> {
  const result = await runProgram(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.code ?? result.signal}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
  return result;
}

/** A long-running program whose stdout lines are collected as they arrive (see spawnLines). */
export interface LineProgram {
  child: ChildProcess;
  /** Non-empty stdout lines so far. */
  lines: string[];
  /** The last 20,000 characters of stderr. */
  stderr: () => string;
  exited: Promise<number | null>;
}

const runningLinePrograms = new Set<ChildProcess>();

/** Starts `command args` in the background, collecting its stdout lines; killLinePrograms() ends stragglers. */
export function spawnLines(command: string, args: string[], env: NodeJS.ProcessEnv = {}): LineProgram {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  runningLinePrograms.add(child);
  const lines: string[] = [];
  let pending = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts.filter((line) => line.length > 0));
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      runningLinePrograms.delete(child);
      resolve(code);
    });
  });
  return { child, lines, stderr: () => stderr, exited };
}

/** SIGKILLs every program spawnLines started that is still running (for a test file's after hook). */
export function killLinePrograms(): void {
  for (const child of runningLinePrograms) child.kill('SIGKILL');
}
