// `sluice start` relaunches itself with the broker's runtime (src/cli/runtime.ts). The relaunched
// broker must behave like the process that was started: signals reach it, its exit status is ours, and
// when we are killed with SIGKILL it dies too.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import readline from 'node:readline';
import { after, test } from 'node:test';
import { BROKER_RUNTIME, PERF_RUNTIME, runtimeNodeArgs, runtimeToRelaunch } from '../../src/cli/runtime.js';
import { makeTempDir, repoRoot } from '../helpers/broker.js';

const started: ChildProcess[] = [];
const dataDirs: string[] = [];
after(async () => {
  for (const child of started) child.kill('SIGKILL');
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Starts `sluice start` without UV_USE_IO_URING and returns the wrapper and the broker's pid. */
async function startUnsupervised(): Promise<{
  wrapper: ChildProcess;
  brokerPid: number;
  logLines: string[];
}> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.UV_USE_IO_URING;
  const dataDir = await makeTempDir('sluice-runtime-');
  dataDirs.push(dataDir);
  const wrapper = spawn(
    process.execPath,
    ['bin/sluice.js', 'start', '--listen', '127.0.0.1:0', '--data-dir', dataDir],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  started.push(wrapper);
  const lines = readline.createInterface({ input: wrapper.stdout! });
  const logLines: string[] = [];
  lines.on('line', (line) => logLines.push(line));
  const brokerPid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ready line within 20 s')), 20_000);
    lines.on('line', (line) => {
      if (!line.includes('Sluice broker ready')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { pid: number }).pid);
    });
  });
  return { wrapper, brokerPid, logLines };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) assert.fail(`process ${pid} still alive after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('the broker runs in a child with its runtime settings and SIGTERM stops both cleanly', {
  timeout: 30_000,
}, async () => {
  const { wrapper, brokerPid, logLines } = await startUnsupervised();
  assert.notEqual(brokerPid, wrapper.pid);
  // The relaunch's own environment must not look like a misspelt SLUICE_* setting.
  assert.deepEqual(
    logLines.filter((line) => line.includes('environment variable')),
    [],
  );
  const environ = (await readFile(`/proc/${brokerPid}/environ`, 'utf8')).split('\0');
  for (const [name, value] of Object.entries(BROKER_RUNTIME.env)) {
    assert.ok(environ.includes(`${name}=${value}`), `${name}=${value} in the broker's environment`);
  }
  const commandLine = (await readFile(`/proc/${brokerPid}/cmdline`, 'utf8')).split('\0');
  for (const option of BROKER_RUNTIME.nodeOptions) assert.ok(commandLine.includes(option), `${option} given`);
  const exited = new Promise<number | null>((resolve) => wrapper.on('exit', (code) => resolve(code)));
  wrapper.kill('SIGTERM');
  assert.equal(await exited, 0);
  await waitUntilGone(brokerPid, 5_000);
});

test('SIGTERM stops the broker when nothing reads its output any more', { timeout: 30_000 }, async () => {
  const { wrapper, brokerPid } = await startUnsupervised();
  // The reader goes away (a log shipper that died, `sluice start | head`): the broker's writes get EPIPE.
  wrapper.stdout!.destroy();
  const exited = new Promise<number | null>((resolve) => wrapper.on('exit', (code) => resolve(code)));
  wrapper.kill('SIGTERM');
  try {
    await waitUntilGone(brokerPid, 10_000);
  } finally {
    if (isAlive(brokerPid)) process.kill(brokerPid, 'SIGKILL');
  }
  assert.equal(await exited, 0);
});

test('kill -9 of the started process takes the broker down with it', { timeout: 30_000 }, async () => {
  const { wrapper, brokerPid } = await startUnsupervised();
  wrapper.kill('SIGKILL');
  await waitUntilGone(brokerPid, 5_000);
});

test('node options the caller gave win over the runtime defaults of the same name', () => {
  assert.deepEqual(runtimeNodeArgs(BROKER_RUNTIME, []), [...BROKER_RUNTIME.nodeOptions]);
  const others = BROKER_RUNTIME.nodeOptions.filter((option) => !option.startsWith('--max-semi-space-size'));
  assert.deepEqual(runtimeNodeArgs(BROKER_RUNTIME, ['--max-semi-space-size=16', '--inspect']), [
    '--max-semi-space-size=16',
    '--inspect',
    ...others,
  ]);
  assert.deepEqual(runtimeNodeArgs(BROKER_RUNTIME, ['--max_semi_space_size=8']), [
    '--max_semi_space_size=8',
    ...others,
  ]);
  // A flag's negation is the same option.
  assert.deepEqual(runtimeNodeArgs(BROKER_RUNTIME, ['--parallel-scavenge']), [
    '--parallel-scavenge',
    ...BROKER_RUNTIME.nodeOptions.filter((option) => option !== '--no-parallel-scavenge'),
  ]);
});

test('start and perf relaunch with their runtimes unless the caller chose; other commands never do', () => {
  const argv = (...words: string[]) => ['node', 'sluice.js', ...words];
  assert.equal(runtimeToRelaunch(argv('start'), {}), BROKER_RUNTIME);
  assert.equal(runtimeToRelaunch(argv('start'), { UV_USE_IO_URING: '1' }), null);
  assert.equal(runtimeToRelaunch(argv('perf', 'consume'), {}), PERF_RUNTIME);
  assert.equal(runtimeToRelaunch(argv('perf', 'produce'), { GLIBC_TUNABLES: 'x' }), null);
  assert.equal(runtimeToRelaunch(argv('topic', 'list'), {}), null);
  assert.equal(runtimeToRelaunch(argv('consume'), {}), null);
});
