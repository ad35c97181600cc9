// The runtime the broker process runs with, chosen by measurement on this project's 2-core Linux machines.
// Both are read once, when a process starts, so `sluice start` re-runs itself once with them, unless the
// caller already chose (then UV_USE_IO_URING is set and no relaunch happens; the bench and the tests start
// the broker that way, with these same values).
// - libuv's io_uring backend off: it made buffered log writes several times more expensive (1 MiB
//   FileHandle.writev: 580 MB/s and 5.1 s of system CPU per 3 GB with it, 2,400 MB/s and 1.1 s without), its
//   polling thread competed with the broker for a core, and writes throttled by the kernel stalled the loop.
// - glibc's mmap threshold fixed at its default 128 KiB: left dynamic, it rises to the size of the largest
//   block freed, after which megabyte buffers come from the brk heap, which fragments and never shrinks
//   (ingest then catch-up left 60-100 MB there, half that when fixed). Fixed lower, at 64 KiB, Node's 64 KiB
//   socket reads would be mapped and unmapped one by one: receiving cost twice the CPU.
// - V8's young generation capped (4 MB semi-spaces instead of 16): scavenges stay short and frequent, and the
//   young generation stops holding tens of megabytes the broker's RSS bound cannot afford.
import { type ChildProcess, spawn } from 'node:child_process';

// Not SLUICE_*: that prefix is the broker's configuration namespace.
const SUPERVISED = 'SUPERVISING_SLUICE_PID';
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Environment variables of the broker process; a value the caller set wins. */
export const BROKER_ENVIRONMENT: Readonly<Record<string, string>> = {
  UV_USE_IO_URING: '0',
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/** Node options of the broker process; an option the caller gave (same name) wins. */
export const BROKER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=4'];

/** `node` arguments before the script: `given` plus each broker option whose name it does not already use. */
export function brokerNodeArgs(given: readonly string[]): string[] {
  const optionName = (arg: string) => arg.split('=')[0]!.replaceAll('_', '-');
  const names = new Set(given.map(optionName));
  return [...given, ...BROKER_NODE_OPTIONS.filter((option) => !names.has(optionName(option)))];
}

export function shouldRelaunchBroker(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv[2] === 'start' && env.UV_USE_IO_URING === undefined && process.platform === 'linux';
}

/**
 * Runs the same command in a child with the broker's runtime and mirrors it: signals are forwarded, its exit
 * code or signal becomes ours. Resolves with the exit code when the child ends by itself.
 */
export function relaunchBroker(argv: readonly string[]): Promise<number> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...brokerNodeArgs(process.execArgv), ...argv.slice(1)],
    {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...BROKER_ENVIRONMENT, ...process.env, UV_USE_IO_URING: '0', [SUPERVISED]: String(process.pid) },
    },
  );
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
