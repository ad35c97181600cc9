// The broker runs with libuv's io_uring backend turned off. On this project's Linux machines that backend
// makes buffered log writes several times more expensive (measured with 1 MiB FileHandle.writev calls: 580
// MB/s and 5.1 s of system CPU per 3 GB with it, 2,400 MB/s and 1.1 s without), its polling thread competes
// with the broker for a core, and writes throttled by the kernel stall the event loop. libuv reads
// UV_USE_IO_URING once, when the process starts, so `sluice start` re-runs itself once with it set to 0
// unless the caller already chose a value.
import { type ChildProcess, spawn } from 'node:child_process';

// Not SLUICE_*: that prefix is the broker's configuration namespace.
const SUPERVISED = 'SUPERVISING_SLUICE_PID';
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function shouldRelaunchWithoutIoUring(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv[2] === 'start' && env.UV_USE_IO_URING === undefined && process.platform === 'linux';
}

/**
 * Runs the same command in a child with UV_USE_IO_URING=0 and mirrors it: signals are forwarded, its exit
 * code or signal becomes ours. Resolves with the exit code when the child ends by itself.
 */
export function relaunchWithoutIoUring(argv: readonly string[]): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, UV_USE_IO_URING: '0', [SUPERVISED]: String(process.pid) },
  });
  for (const signal of FORWARDED_SIGNALS) {
    process.on(signal, () => child.kill(signal));
  }
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`sluice: cannot start the broker process: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      if (signal !== null) {
        // Die the same way, so whoever started us sees what happened to the broker.
        for (const s of FORWARDED_SIGNALS) process.removeAllListeners(s);
        process.kill(process.pid, signal);
        return;
      }
      resolve(code ?? 1);
    });
  });
}

/**
 * In the relaunched broker: if the supervising process dies without a signal we could forward (kill -9), the
 * IPC channel closes and the broker dies at once too, like a crash of the process that was started: no
 * orphan keeps the port and the data directory, and no graceful shutdown pretends otherwise.
 */
export function dieWithSupervisor(env: NodeJS.ProcessEnv): void {
  if (env[SUPERVISED] === undefined || process.channel === undefined) return;
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}
