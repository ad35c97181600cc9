// Client throughput, Sluice's client against kafkajs doing the same work, each in its own process:
// client-produce runs `sluice perf produce` and then bench/kafkajs-perf.ts (1 KiB records, acks=all) into two
// fresh topics; client-consume reads the topic Sluice's producer wrote, first with `sluice perf consume` and
// then with the kafkajs consumer, each in a fresh group. Both consumers read the same batches, since
// consumer cost depends on how many records each batch holds.
import { PERF_RUNTIME } from '../../src/cli/runtime.js';
import { benchScript, type ChildExit, ClientProcess } from '../child-process.js';
import { parsePerfTable } from '../perf-table.js';
import type { Metric, Phase, PhaseContext, PhaseOutcome } from '../phase.js';
import { ProcessSampler } from '../process-sampler.js';

const PARTITIONS = 8;
const RECORD_BYTES = 1024;
// A million records: at half that, start-up (JIT, first page faults, the new topic's first segments) was a
// large part of the run, and the figure moved with it (perf produce 175k rec/s at 500k records, 189k at
// 1M, 221k at 2M in one sitting; perf consume 530-560k at 500k, 630-680k at 1M).
const RECORDS = 1_000_000;
const QUICK_RECORDS = 50_000;
/** kafkajs sends: messages per send() and send() calls outstanding. */
const KAFKAJS_BATCH_RECORDS = 1_000;
const KAFKAJS_SENDS_IN_FLIGHT = 4;
/** Bound on one client process, start to exit (a slow kafkajs run of 1M records takes well under this). */
const CLIENT_TIMEOUT_MS = 300_000;
const QUICK_CLIENT_TIMEOUT_MS = 60_000;
const CPU_SAMPLE_INTERVAL_MS = 100;

const PRODUCE_TARGET_RECORDS_PER_S = 250_000;
const CONSUME_TARGET_RECORDS_PER_S = 600_000;
const RATIO_TARGET = 3;

const SLUICE_TOPIC = 'client-sluice';
const KAFKAJS_TOPIC = 'client-kafkajs';

interface ClientRun {
  recordsPerSecond: number;
  records: number;
  elapsedSeconds: number;
  /** CPU time of the whole process (start-up included), from /proc samples; misses at most the last interval. */
  cpuSeconds: number;
  details: Record<string, unknown>;
}

/** What client-produce wrote, for client-consume. */
interface Written {
  records: number;
}

export function clientThroughputPhases(): [Phase, Phase] {
  let written: Written | null = null;
  const produce: Phase = {
    name: 'client-produce',
    description: `sluice perf produce vs kafkajs (${KAFKAJS_BATCH_RECORDS}/send, ${KAFKAJS_SENDS_IN_FLIGHT} in flight), ${RECORD_BYTES} B records, acks=all, ${PARTITIONS} partitions`,
    needs: [],
    run: async (context) => {
      const outcome = await runProduce(context);
      written = { records: context.quick ? QUICK_RECORDS : RECORDS };
      return outcome;
    },
  };
  const consume: Phase = {
    name: 'client-consume',
    description: `sluice perf consume vs kafkajs eachBatch, the records sluice perf produce wrote, fresh groups`,
    needs: ['client-produce'],
    run: (context) => {
      if (written === null) throw new Error('client-consume needs client-produce to have succeeded first');
      return runConsume(context, written);
    },
  };
  return [produce, consume];
}

async function runProduce(context: PhaseContext): Promise<PhaseOutcome> {
  const records = context.quick ? QUICK_RECORDS : RECORDS;
  const timeoutMs = context.quick ? QUICK_CLIENT_TIMEOUT_MS : CLIENT_TIMEOUT_MS;
  const bootstrap = `${context.broker.host}:${context.broker.port}`;
  await context.createTopic(SLUICE_TOPIC, PARTITIONS);
  await context.createTopic(KAFKAJS_TOPIC, PARTITIONS);

  const sluice = await runMeasured('sluice perf produce', timeoutMs, [
    'bin/sluice.js',
    'perf',
    'produce',
    ...['--bootstrap', bootstrap, '--topic', SLUICE_TOPIC],
    ...['--record-size', String(RECORD_BYTES), '--count', String(records), '--no-progress'],
  ]).then((run) => fromPerfTable(run, records));
  context.log(describe('sluice producer', sluice));

  const kafkajs = await runMeasured('kafkajs producer', timeoutMs, [
    benchScript('kafkajs-perf.js'),
    'produce',
    ...['--bootstrap', bootstrap, '--topic', KAFKAJS_TOPIC, '--count', String(records)],
    ...['--record-size', String(RECORD_BYTES), '--batch-records', String(KAFKAJS_BATCH_RECORDS)],
    ...['--in-flight', String(KAFKAJS_SENDS_IN_FLIGHT)],
  ]).then((run) => fromKafkajsResult(run, records));
  context.log(describe('kafkajs producer', kafkajs));

  return compare('producer', sluice, kafkajs, PRODUCE_TARGET_RECORDS_PER_S, ['p50 ms', 'p99 ms']);
}

async function runConsume(context: PhaseContext, written: Written): Promise<PhaseOutcome> {
  const timeoutMs = context.quick ? QUICK_CLIENT_TIMEOUT_MS : CLIENT_TIMEOUT_MS;
  const bootstrap = `${context.broker.host}:${context.broker.port}`;
  const records = String(written.records);
  const runId = Date.now();

  const sluice = await runMeasured('sluice perf consume', timeoutMs, [
    'bin/sluice.js',
    'perf',
    'consume',
    ...['--bootstrap', bootstrap, '--topic', SLUICE_TOPIC, '--group', `bench-sluice-${runId}`],
    ...['--count', records, '--no-progress'],
  ]).then((run) => fromPerfTable(run, written.records));
  context.log(describe('sluice consumer', sluice));

  const kafkajs = await runMeasured('kafkajs consumer', timeoutMs, [
    benchScript('kafkajs-perf.js'),
    'consume',
    ...['--bootstrap', bootstrap, '--topic', SLUICE_TOPIC, '--group', `bench-kafkajs-${runId}`],
    ...['--count', records],
  ]).then((run) => fromKafkajsResult(run, written.records));
  context.log(describe('kafkajs consumer', kafkajs));

  return compare('consumer', sluice, kafkajs, CONSUME_TARGET_RECORDS_PER_S, []);
}

/** Runs one client process while sampling its CPU time. */
async function runMeasured(
  label: string,
  timeoutMs: number,
  args: string[],
): Promise<{ exit: ChildExit; cpuSeconds: number }> {
  // Both clients get the runtime `sluice perf` would relaunch itself with (src/cli/runtime.ts): the same
  // conditions for kafkajs, and no relaunch, so the sampled pid is the one doing the work.
  const client = ClientProcess.start(label, args, timeoutMs, PERF_RUNTIME.env);
  const sampler = ProcessSampler.start(client.pid, CPU_SAMPLE_INTERVAL_MS);
  try {
    const exit = await client.succeeded();
    return { exit, cpuSeconds: sampler.samples.at(-1)?.cpuSeconds ?? 0 };
  } finally {
    sampler.stop();
    client.kill();
  }
}

function fromPerfTable(run: { exit: ChildExit; cpuSeconds: number }, expected: number): ClientRun {
  const figures = parsePerfTable(run.exit.stdoutLines);
  if (figures.records !== expected) {
    throw new Error(`sluice perf reported ${figures.records} records, expected ${expected}`);
  }
  return {
    recordsPerSecond: figures.recordsPerSecond,
    records: figures.records,
    elapsedSeconds: figures.elapsedSeconds,
    cpuSeconds: run.cpuSeconds,
    details: { megabytesPerSecond: figures.megabytesPerSecond, latencyMs: figures.latencyMs },
  };
}

function fromKafkajsResult(run: { exit: ChildExit; cpuSeconds: number }, expected: number): ClientRun {
  const line = run.exit.stdoutLines.findLast((candidate) => candidate.startsWith('{'));
  if (line === undefined) throw new Error(`no result line from kafkajs:\n${run.exit.stderrTail}`);
  const result = JSON.parse(line) as { records: number; bytes: number; elapsedMs: number };
  if (result.records !== expected) {
    throw new Error(`kafkajs reported ${result.records} records, expected ${expected}`);
  }
  const elapsedSeconds = result.elapsedMs / 1000;
  return {
    recordsPerSecond: result.records / elapsedSeconds,
    records: result.records,
    elapsedSeconds,
    cpuSeconds: run.cpuSeconds,
    details: { ...result, megabytesPerSecond: result.bytes / 1e6 / elapsedSeconds },
  };
}

function describe(label: string, run: ClientRun): string {
  return `${label}: ${run.records} records in ${run.elapsedSeconds.toFixed(2)} s = ${run.recordsPerSecond.toFixed(0)} records/s; process CPU ${run.cpuSeconds.toFixed(1)} s`;
}

/** `latencyColumns`: columns of the sluice perf table shown as metrics (the producer's send→ack latency). */
function compare(
  role: 'producer' | 'consumer',
  sluice: ClientRun,
  kafkajs: ClientRun,
  targetRecordsPerSecond: number,
  latencyColumns: readonly string[],
): PhaseOutcome {
  const latencyMs = (sluice.details.latencyMs ?? {}) as Record<string, number>;
  const latencyMetrics: Metric[] = latencyColumns.flatMap((column) => {
    const value = latencyMs[column];
    return value === undefined
      ? []
      : [{ name: `sluice ${role} ack ${column.replace(' ms', '')}`, value, unit: 'ms' }];
  });
  return {
    metrics: [
      {
        name: `sluice ${role}`,
        value: sluice.recordsPerSecond,
        unit: 'rec/s',
        target: { comparison: 'atLeast', value: targetRecordsPerSecond },
      },
      { name: `kafkajs ${role}`, value: kafkajs.recordsPerSecond, unit: 'rec/s' },
      {
        name: 'sluice / kafkajs',
        value: sluice.recordsPerSecond / kafkajs.recordsPerSecond,
        unit: 'x',
        target: { comparison: 'atLeast', value: RATIO_TARGET },
      },
      ...latencyMetrics,
    ],
    details: { recordBytes: RECORD_BYTES, partitions: PARTITIONS, sluice, kafkajs },
  };
}
