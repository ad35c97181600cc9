// The process runtimes `sluice` commands run with, chosen by measurement on this project's 2-core Linux
// machines. They are read once, when a process starts, so a command that has one re-runs itself once with
// it, unless the caller already chose (its marker variable is set; the bench and the tests start the broker
// that way, with these same values).
//
// The broker (`sluice start`):
// - libuv's io_uring backend off: with it, the broker's ingest used a quarter more CPU for less throughput
//   (and an earlier 1 MiB FileHandle.writev measurement: 580 MB/s and 5.1 s of system CPU per 3 GB with it,
//   2,400 MB/s and 1.1 s without); its polling thread competes with the broker for a core.
// - glibc's mmap threshold fixed at its default 128 KiB: left dynamic, it rises to the size of the largest
//   block freed, after which megabyte buffers come from the brk heap, which fragments and never shrinks
//   (ingest then catch-up left 60-100 MB there, half that when fixed). Fixed lower, at 64 KiB, Node's 64 KiB
//   socket reads would be mapped and unmapped one by one: receiving cost twice the CPU.
// - V8's young generation capped (4 MB semi-spaces instead of 16): scavenges stay short and frequent, and the
//   young generation stops holding tens of megabytes the broker's RSS bound cannot afford.
// - V8's scavenges on the main thread only (`--no-parallel-scavenge`): on two cores, waking helper threads for
//   a 4 MB young generation cost more than they saved. At 5,000 produce requests a second (18 scavenges a
//   second), a scavenge stopped the broker for 0.27-0.32 ms at the median against 0.41-0.46 ms in parallel,
//   three runs each; ingest and catch-up throughput did not move.
// - `gc` exposed, for the minor collections that free socket read buffers early
//   (src/broker/received-garbage.ts).
// - V8's old generation allowed 32 MB before its first full collection (and never less after): the broker's
//   live heap is ~10 MB, and V8 would otherwise let the old generation grow only a megabyte or two past it
//   before the next mark-compact. Under load that settled into a mark-compact every 16 MiB received (64 per
//   GB, each 2-16 ms), which took 30-35% of the broker's CPU whenever it happened. Side by side in one bench
//   run: ingest 436/396 MB/s instead of 270/267, catch-up 1,324 MB/s instead of 1,061, `sluice perf produce`
//   205,000 records/s instead of 122,000; peak RSS 2-8 MB higher.
//
// The load tool (`sluice perf`): glibc keeps up to 128 MiB of freed memory instead of returning it. A consumer
// allocates a fresh multi-megabyte buffer per Fetch response; the garbage collector frees them in bursts,
// glibc handed the memory back, and the next responses faulted it in again (page faults were 14% of a
// consumer's samples; with this, perf consume measured 614k-633k records/s against 373k-575k without).
// Consumers in applications of their own can set the same GLIBC_TUNABLES.
import { type ChildProcess, spawn } from 'node:child_process';

// Not SLUICE_*: that prefix is the broker's configuration namespace.
const SUPERVISED = 'SUPERVISING_SLUICE_PID';

/**
 * Environment for a `sluice` child spawned with an 'ipc' channel by a process it must not outlive (the
 * relaunch below, the bench's broker): the child dies as soon as that channel closes (dieWithSupervisor).
 */
export function supervisedEnvironment(supervisorPid: number): Record<string, string> {
  return { [SUPERVISED]: String(supervisorPid) };
}
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface Runtime {
  /** Environment variables; a value the caller set wins. */
  readonly env: Readonly<Record<string, string>>;
  /** Node options; an option the caller gave (same name) wins. */
  readonly nodeOptions: readonly string[];
  /** Set in the environment means the runtime was already chosen: no relaunch. */
  readonly marker: string;
}

export const BROKER_RUNTIME: Runtime = {
  env: { UV_USE_IO_URING: '0', MALLOC_MMAP_THRESHOLD_: '131072' },
  nodeOptions: [
    '--max-semi-space-size=4',
    '--initial-old-space-size=32',
    '--no-parallel-scavenge',
    '--expose-gc',
  ],
  marker: 'UV_USE_IO_URING',
};

export const PERF_RUNTIME: Runtime = {
  env: { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728' },
  nodeOptions: [],
  marker: 'GLIBC_TUNABLES',
};

/** `node` arguments before the script: `given` plus each of the runtime's options it does not already use. */
export function runtimeNodeArgs(runtime: Runtime, given: readonly string[]): string[] {
  // `--parallel-scavenge` and `--no-parallel-scavenge` name the same option.
  const optionName = (arg: string) =>
    arg
      .split('=')[0]!
      .replaceAll('_', '-')
      .replace(/^--no-/, '--');
  const names = new Set(given.map(optionName));
  return [...given, ...runtime.nodeOptions.filter((option) => !names.has(optionName(option)))];
}

/** The runtime this command line must be relaunched with, or null to run here as it is. */
export function runtimeToRelaunch(argv: readonly string[], env: NodeJS.ProcessEnv): Runtime | null {
  if (process.platform !== 'linux') return null;
  const runtime = argv[2] === 'start' ? BROKER_RUNTIME : argv[2] === 'perf' ? PERF_RUNTIME : null;
  return runtime !== null && env[runtime.marker] === undefined ? runtime : null;
}

/**
 * Runs the same command in a child with `runtime` and mirrors it: signals are forwarded, its exit code or
 * signal becomes ours. Resolves with the exit code when the child ends by itself.
 */
export function relaunch(argv: readonly string[], runtime: Runtime): Promise<number> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...runtimeNodeArgs(runtime, process.execArgv), ...argv.slice(1)],
    {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: {
        ...runtime.env,
        ...process.env,
        [runtime.marker]: process.env[runtime.marker] ?? runtime.env[runtime.marker]!,
        ...supervisedEnvironment(process.pid),
      },
    },
  );
  for (const signal of FORWARDED_SIGNALS) {
    process.on(signal, () => child.kill(signal));
  }
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`sluice: cannot start the ${argv[2]} process: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      if (signal !== null) {
        // Die the same way, so whoever started us sees what happened to the command.
        for (const s of FORWARDED_SIGNALS) process.removeAllListeners(s);
        process.kill(process.pid, signal);
        return;
      }
      resolve(code ?? 1);
    });
  });
}

/**
 * In the relaunched process: if the supervising process dies without a signal we could forward (kill -9), the
 * IPC channel closes and this one dies at once too, like a crash of the process that was started: no orphan
 * broker keeps the port and the data directory, and no graceful shutdown pretends otherwise.
 */
export function dieWithSupervisor(env: NodeJS.ProcessEnv): void {
  if (env[SUPERVISED] === undefined || process.channel === undefined) return;
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}
