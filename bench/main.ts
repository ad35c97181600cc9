// Sluice benchmark driver: starts a broker on 127.0.0.1 with a temporary data dir, runs the phases in order
// while sampling the broker's CPU and RSS, prints one table and writes the results to .bench/.
//   npm run bench [-- --quick] [-- --phase NAME ...] [-- --cpu-prof] [-- --set key=value ...]
//                 [-- --broker-node-flag=--trace-gc ...]
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteTopicsApi } from '../src/protocol/generated/index.js';
import { DELETED_SUFFIX } from '../src/storage/index.js';
import { BrokerProcess } from './broker-process.js';
import type { Phase, PhaseContext } from './phase.js';
import { appendFloorPhase } from './phases/append-floor.js';
import { catchUpPhase } from './phases/catch-up.js';
import { clientMemoryPhase } from './phases/client-memory.js';
import { clientThroughputPhases } from './phases/client-throughput.js';
import { groupJoinPhase } from './phases/group-join.js';
import { INGEST_DEFAULTS, ingestPhase } from './phases/ingest.js';
import { latencyPhase } from './phases/latency.js';
import { offsetCommitPhase } from './phases/offset-commit.js';
import { ProcessSampler, readMachineBusySeconds } from './process-sampler.js';
import { type ProfileWindow, renderProfileSummary, summariseCpuProfile } from './profile-summary.js';
import { type PhaseReport, REFERENCE_FIGURES, RSS_TARGET_MB, renderTable } from './report.js';
import { sleep } from './stats.js';
import { ApiClient, KafkaResponseError } from './wire/api-client.js';
import { KafkaConnection } from './wire/connection.js';
import {
  encodeCreateTopicsRequest,
  encodeMetadataRequest,
  parseCreateTopicsResponse,
  parseMetadataResponse,
} from './wire/requests.js';

/** Every phase, in the order they run. */
const PHASES: readonly Phase[] = [
  appendFloorPhase(),
  ingestPhase({ ...INGEST_DEFAULTS, name: 'ingest-acks1', acks: 1 }),
  ingestPhase({ ...INGEST_DEFAULTS, name: 'ingest-acksall', acks: -1 }),
  // Catch-up reads the acks=all phase's log only, so that ingest-acks1's is deleted before ingest-acksall
  // starts: both ingest phases then write into memory the kernel freed a moment before. On this VM, page
  // cache in guest memory not used lately costs a host page fault per page: dd wrote 7 GB at 422-484 MB/s
  // so, and at 2.3-3.2 GB/s right after deleting a 7 GB file. With acks=1's 7 GB still cached, acks=all
  // measured that cost (455-464 MB/s, against 701-795 MB/s after the deletion, side by side).
  catchUpPhase(['ingest-acksall']),
  latencyPhase(),
  groupJoinPhase(),
  offsetCommitPhase(),
  ...clientThroughputPhases(),
  clientMemoryPhase(),
];

/**
 * Broker settings every run starts with; `--set` given on the command line comes later and wins. Without an
 * initial rebalance delay a new group forms at once (the delay only applies to a group that is empty).
 */
const DEFAULT_BROKER_SETTINGS: readonly string[] = ['group.initial.rebalance.delay.ms=0'];

const SAMPLE_INTERVAL_MS = 250;
const SETTLE_DISK_TIMEOUT_MS = 120_000;
const BROKER_READY_TIMEOUT_MS = 20_000;
const TOPIC_READY_TIMEOUT_MS = 10_000;
const DELETE_TOPICS_VERSION = 4;
const FILE_REMOVAL_TIMEOUT_MS = 60_000;
const FILE_REMOVAL_POLL_MS = 50;
const PROFILE_TOP_FUNCTIONS = 25;

const USAGE = `usage: node dist/bench/main.js [--quick] [--phase NAME]... [--cpu-prof] [--set key=value]...
       [--broker-node-flag=FLAG]... (Node options for the broker process, e.g. --broker-node-flag=--trace-gc)
phases: ${PHASES.map((phase) => phase.name).join(', ')}`;

interface Options {
  quick: boolean;
  phases: string[];
  cpuProfile: boolean;
  settings: string[];
  brokerNodeFlags: string[];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      phase: { type: 'string', multiple: true, default: [] },
      'cpu-prof': { type: 'boolean', default: false },
      set: { type: 'string', multiple: true, default: [] },
      'broker-node-flag': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    quick: values.quick,
    phases: values.phase,
    cpuProfile: values['cpu-prof'],
    brokerNodeFlags: values['broker-node-flag'],
    settings: [...DEFAULT_BROKER_SETTINGS, ...values.set],
  };
}

/** The selected phases plus everything they need, in list order. */
function selectPhases(names: readonly string[]): Phase[] {
  if (names.length === 0) return [...PHASES];
  const selected = new Set<string>();
  const add = (name: string) => {
    const phase = PHASES.find((candidate) => candidate.name === name);
    if (phase === undefined) throw new Error(`unknown phase "${name}"\n${USAGE}`);
    for (const need of phase.needs) add(need);
    selected.add(name);
  };
  for (const name of names) add(name);
  return PHASES.filter((phase) => selected.has(phase.name));
}

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the bench');
    dir = parent;
  }
  return dir;
}

/**
 * Writes back what earlier phases left dirty in the page cache before the next phase starts: the kernel
 * throttles writers while it flushes gigabytes, so an ingest phase's leftovers would be measured as the next
 * phase's latency (the latency phase beside a 6 GB dd: e2e p50 334 ms, against 0.6 ms without; the echo
 * floor, which writes nothing, did not move).
 */
async function settleDisk(log: (message: string) => void): Promise<void> {
  const startMs = performance.now();
  const child = spawn('sync', [], { stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), SETTLE_DISK_TIMEOUT_MS);
  await new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  clearTimeout(timer);
  const elapsedMs = performance.now() - startMs;
  if (elapsedMs >= 100)
    log(`page cache written back before the next phase in ${(elapsedMs / 1000).toFixed(1)} s`);
}

function hrtimeMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const options = parseOptions();
  const phases = selectPhases(options.phases);
  const repoRoot = findRepoRoot();
  const resultsDir = path.join(repoRoot, '.bench');
  const profileDir = path.join(resultsDir, 'profiles', `${Date.now()}`);
  await mkdir(resultsDir, { recursive: true });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-'));
  let broker: BrokerProcess | null = null;
  const onInterrupt = () => {
    broker?.killNow();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);

  const reports: PhaseReport[] = [];
  const windows = new Map<string, ProfileWindow>();
  let sampler: ProcessSampler | null = null;
  let control: KafkaConnection | null = null;
  let stopped = 'never started';
  try {
    broker = await BrokerProcess.start({
      repoRoot,
      dataDir,
      settings: options.settings,
      nodeFlags: [
        ...(options.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
        ...options.brokerNodeFlags,
      ],
      readyTimeoutMs: BROKER_READY_TIMEOUT_MS,
    });
    const address = { host: broker.host, port: broker.port };
    log(`broker pid ${broker.pid} ready on ${address.host}:${address.port}, data dir ${dataDir}`);
    sampler = ProcessSampler.start(broker.pid, SAMPLE_INTERVAL_MS);
    control = await KafkaConnection.connect(address.host, address.port);
    const context = createContext(address, options.quick, control);
    const topics = new PhaseTopics(context, new ApiClient(control), dataDir);

    for (const [index, phase] of phases.entries()) {
      // A phase's topics go once no phase still to run reads them: each phase then starts from a page cache
      // holding no earlier phase's gigabytes (deleting a partition's files frees their cached pages).
      await topics.deleteUnneeded(phases.slice(index).flatMap((later) => later.needs));
      await settleDisk(log);
      topics.phase = phase.name;
      log(`phase ${phase.name}: ${phase.description}`);
      const startSample = await sampler.sampleNow();
      const startCpu = process.cpuUsage();
      const startMachineSeconds = await readMachineBusySeconds();
      const startMicros = hrtimeMicros();
      const report: PhaseReport = {
        name: phase.name,
        description: phase.description,
        metrics: [],
        broker: null,
        clientCpuPercent: 0,
        otherCpuPercent: 0,
        elapsedSeconds: 0,
      };
      try {
        const outcome = await phase.run(context);
        report.metrics = outcome.metrics;
        if (outcome.details !== undefined) report.details = outcome.details;
      } catch (error) {
        report.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        log(`phase ${phase.name} failed: ${report.error}`);
      }
      const endMicros = hrtimeMicros();
      const cpu = process.cpuUsage(startCpu);
      report.elapsedSeconds = (endMicros - startMicros) / 1e6;
      report.clientCpuPercent = ((cpu.user + cpu.system) / (endMicros - startMicros)) * 100;
      const machinePercent =
        (((await readMachineBusySeconds()) - startMachineSeconds) / report.elapsedSeconds) * 100;
      windows.set(phase.name, { startMicros, endMicros });
      if (!broker.exited) report.broker = sampler.summarise(startSample, await sampler.sampleNow());
      report.otherCpuPercent = Math.max(
        0,
        machinePercent - report.clientCpuPercent - (report.broker?.cpuPercent ?? 0),
      );
      reports.push(report);
      if (broker.exited) {
        log(`the broker exited during ${phase.name}; last log lines:\n${broker.logTail}`);
        break;
      }
    }
  } catch (error) {
    log(`bench aborted: ${error instanceof Error ? error.message : String(error)}`);
    reports.push({
      name: 'setup',
      description: 'broker start and control connection',
      metrics: [],
      broker: null,
      clientCpuPercent: 0,
      otherCpuPercent: 0,
      elapsedSeconds: 0,
      error: error instanceof Error ? error.message : String(error),
    });
  } finally {
    control?.close();
    sampler?.stop();
    if (broker !== null) stopped = await broker.stop();
    await rm(dataDir, { recursive: true, force: true });
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
  log(`broker stopped (${stopped}); data dir removed`);

  console.log(`\nSluice bench${options.quick ? ' (--quick: short smoke run, not comparable)' : ''}\n`);
  console.log(renderTable(reports));
  const profiles = options.cpuProfile ? await printProfiles(profileDir, windows) : [];

  const resultsFile = path.join(resultsDir, `results-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const results = {
    startedAt: startedAt.toISOString(),
    quick: options.quick,
    node: process.version,
    cpus: os.cpus().length,
    brokerSettings: options.settings,
    brokerStop: stopped,
    targets: { ingestMBps: 500, catchUpMBps: 1000, latencyP99Ms: 1, rssMB: RSS_TARGET_MB },
    references: REFERENCE_FIGURES,
    phases: reports,
    brokerSamples: sampler?.samples ?? [],
    profiles,
  };
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(repoRoot, resultsFile)}`);
  return reports.some((report) => report.error !== undefined) ? 1 : 0;
}

/** The topics each phase created, so that they can be deleted when no later phase needs them. */
class PhaseTopics {
  phase = '';
  private readonly created = new Map<string, string[]>();

  constructor(
    private readonly context: PhaseContext,
    private readonly client: ApiClient,
    private readonly dataDir: string,
  ) {
    const createTopic = context.createTopic;
    context.createTopic = async (topic, partitions) => {
      await createTopic(topic, partitions);
      const list = this.created.get(this.phase) ?? [];
      list.push(topic);
      this.created.set(this.phase, list);
    };
  }

  async deleteUnneeded(neededPhases: readonly string[]): Promise<void> {
    const doomed: string[] = [];
    for (const [phase, topics] of this.created) {
      if (neededPhases.includes(phase)) continue;
      doomed.push(...topics);
      this.created.delete(phase);
    }
    if (doomed.length === 0) return;
    const response = await this.client.call(DeleteTopicsApi, DELETE_TOPICS_VERSION, {
      topicNames: doomed,
      topics: [],
      timeoutMs: TOPIC_READY_TIMEOUT_MS,
    });
    for (const result of response.responses) {
      if (result.errorCode !== 0)
        throw new KafkaResponseError(`DeleteTopics ${result.name}`, result.errorCode);
    }
    this.context.ingested = this.context.ingested.filter((ingested) => !doomed.includes(ingested.topic));
    await this.filesRemoved();
  }

  /**
   * The broker removes a deleted partition's files in the background; the next phase starts once they are
   * gone, so that it neither shares the machine with the removal nor writes before their memory is free.
   */
  private async filesRemoved(): Promise<void> {
    const deadline = performance.now() + FILE_REMOVAL_TIMEOUT_MS;
    while ((await readdir(this.dataDir)).some((name) => name.endsWith(DELETED_SUFFIX))) {
      if (performance.now() > deadline) throw new Error(`deleted topics' files still in ${this.dataDir}`);
      await sleep(FILE_REMOVAL_POLL_MS);
    }
  }
}

function createContext(address: { host: string; port: number }, quick: boolean, control: KafkaConnection) {
  let correlationId = 0;
  const context: PhaseContext = {
    broker: address,
    quick,
    ingested: [],
    connect: (connectOptions = {}) => KafkaConnection.connect(address.host, address.port, connectOptions),
    createTopic: async (topic, partitions) => {
      await control.request(
        encodeCreateTopicsRequest(++correlationId, topic, partitions, TOPIC_READY_TIMEOUT_MS),
        parseCreateTopicsResponse,
      );
      const deadline = performance.now() + TOPIC_READY_TIMEOUT_MS;
      for (;;) {
        const [metadata] = await control.request(
          encodeMetadataRequest(++correlationId, [topic]),
          parseMetadataResponse,
        );
        const leaders = metadata === undefined ? [] : [...metadata.leaders.values()];
        if (metadata?.errorCode === 0 && leaders.length === partitions && leaders.every((id) => id >= 0))
          return;
        if (performance.now() > deadline) throw new Error(`topic ${topic} has no leaders after creation`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    log,
  };
  return context;
}

async function printProfiles(profileDir: string, windows: ReadonlyMap<string, ProfileWindow>) {
  const files = (await readdir(profileDir).catch(() => [] as string[])).filter((f) =>
    f.endsWith('.cpuprofile'),
  );
  const summaries = [];
  for (const file of files) {
    const profilePath = path.join(profileDir, file);
    console.log(`\nbroker CPU profile: ${profilePath}`);
    for (const [phase, window] of windows) {
      const summary = await summariseCpuProfile(profilePath, window, PROFILE_TOP_FUNCTIONS);
      console.log(renderProfileSummary(`phase ${phase}`, summary));
      summaries.push({ file: profilePath, phase, ...summary });
    }
  }
  if (files.length === 0)
    console.log(`\nno CPU profile written to ${profileDir} (did the broker exit cleanly?)`);
  return summaries;
}

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 23)}] ${message}`);
}

process.exitCode = await main();
