// `sluice perf produce|consume`: the load tool. produce writes fixed-size records as fast as allowed (or at
// --rate) and measures send→acknowledgement latency; consume reads and measures end-to-end latency from each
// record's timestamp. Both show a progress line on stderr and end with one table row on stdout.

import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Command } from 'commander';
import { Consumer } from '../../client/consumer/consumer.js';
import { KafkaClientError } from '../../client/errors.js';
import { Producer } from '../../client/producer/producer.js';
import type { CompressionName } from '../../protocol/records/layout.js';
import {
  type Acks,
  addClientOptions,
  type ClientFlags,
  clientOptions,
  integerIn,
  onInterrupt,
  parseAcks,
  parseCompression,
  parseStartPosition,
  positiveNumber,
  type StartPosition,
  withAdmin,
} from '../client-options.js';
import type { CliContext } from '../context.js';
import { CommandFailedError, describeFailure, UsageError } from '../errors.js';
import { LatencyHistogram } from '../histogram.js';
import { lookUpOffsets, offsetOf } from '../offsets.js';
import { type CommandIo, formatTable, plural, printOutput, processIo } from '../output.js';
import { ProgressLine, RateMeter } from '../progress.js';

interface LoadFlags extends ClientFlags {
  topic: string;
  count?: number;
  duration?: number;
  progress: boolean;
}

interface PerfProduceFlags extends LoadFlags {
  recordSize: number;
  rate?: number;
  acks?: Acks;
  batchSize: number;
  lingerMs: number;
  compression: CompressionName;
}

interface PerfConsumeFlags extends LoadFlags {
  group?: string;
  from: StartPosition;
  idleTimeoutMs: number;
}

/** Records when neither --count nor --duration is given. */
const DEFAULT_COUNT = 100_000;
/** Latencies are recorded in microseconds. */
const US_PER_MS = 1_000;
const BYTES_PER_MB = 1_000_000;
/** The producer's default buffer memory: the bound on bytes sent but not acknowledged. */
const BUFFER_MEMORY_BYTES = 32 * 1024 * 1024;
/**
 * Bound on records sent but not acknowledged, whatever their size (each holds a promise). Measured with 1 KiB
 * records: 100,000 pending gave the same records/s as 2,048 but a p50 latency of 100-200 ms instead of 15 ms,
 * all of it queueing inside the tool, and a garbage collector busy with the pending promises.
 */
const MAX_PENDING_RECORDS = 2048;
/** How often perf consume checks --duration and --idle-timeout-ms. */
const WATCHDOG_INTERVAL_MS = 100;
/** Sends made before the loop lets acknowledgements be processed. */
const SENDS_PER_TURN = 1_000;

export interface LoadResult {
  records: number;
  bytes: number;
  elapsedMs: number;
  latencyUs: LatencyHistogram;
}

export function registerPerfCommand(
  program: Command,
  context: CliContext,
  io: CommandIo = processIo(),
): void {
  const perf = program
    .command('perf')
    .description('Measure throughput and latency')
    .addHelpText(
      'after',
      `
Examples:
  $ sluice perf produce --topic bench --record-size 1024 --count 1000000
  $ sluice perf consume --topic bench --count 1000000`,
    );

  const produce = perf
    .command('produce')
    .description('Write fixed-size records and measure throughput and send→ack latency')
    .requiredOption('--topic <topic>', 'topic to write to (it must exist)')
    .option('--record-size <bytes>', 'value size of each record', integerIn(0, 1024 * 1024), 100)
    .option(
      '--rate <records/s>',
      'send at most this many records per second (default: no limit)',
      positiveNumber,
    )
    .option('--acks <acks>', '0, 1 or all (the default)', parseAcks)
    .option('--batch-size <bytes>', 'bytes per batch before it is sent without waiting', integerIn(1), 16_384)
    .option('--linger-ms <ms>', 'how long a batch waits for more records', integerIn(0), 5)
    .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', parseCompression, 'none');
  addLoadOptions(produce)
    .addHelpText(
      'after',
      `
Examples:
  $ sluice perf produce --topic bench --count 100000
  $ sluice perf produce --topic bench --record-size 1000 --duration 30 --rate 50000 --acks 1
  $ sluice perf produce --topic bench --compression lz4 --batch-size 262144 --linger-ms 20

The table: records acknowledged, elapsed seconds (until the last acknowledgement), records/s, MB/s (10^6 bytes
of values per second) and send→ack latency percentiles in ms (log-linear histogram, within 1%).
With --acks 0 the broker does not answer, so latency shows only the time to hand the record to the socket.`,
    )
    .action(async (flags: PerfProduceFlags) => {
      const { result, failed, firstError } = await perfProduce(flags, context, io);
      printOutput(io, formatLoadTable(result));
      if (failed > 0) throw new CommandFailedError(`${plural(failed, 'record')} failed: ${firstError}`);
    });

  const consume = perf
    .command('consume')
    .description('Read records and measure throughput and end-to-end latency')
    .requiredOption('--topic <topic>', 'topic to read')
    .option('--group <group>', 'read as a member of this group (default: all partitions, no group)')
    .option(
      '--from <position>',
      'earliest (default) or latest; without --group also an offset or a time',
      parseStartPosition,
      {
        kind: 'earliest',
      } as StartPosition,
    )
    .option('--idle-timeout-ms <ms>', 'stop when no record arrives for this long', integerIn(1), 10_000);
  addLoadOptions(consume)
    .addHelpText(
      'after',
      `
Examples:
  $ sluice perf consume --topic bench --count 100000
  $ sluice perf consume --topic bench --from latest --duration 60      # while perf produce runs

End-to-end latency is the time from a record's timestamp (set by its producer) to its arrival here, so it
means most while a producer writes at the same time; old records show their age. Elapsed time runs from the
start of reading (after joining the group, with --group) to the last record received. The exit status is 1 if --count records did not arrive.`,
    )
    .action(async (flags: PerfConsumeFlags) => {
      const result = await perfConsume(flags, context, io);
      printOutput(io, formatLoadTable(result));
      if (flags.count !== undefined && result.records < flags.count) {
        throw new CommandFailedError(
          `only ${plural(result.records, 'record')} of ${flags.count} arrived (none for ${flags.idleTimeoutMs} ms)`,
        );
      }
    });
}

function addLoadOptions(command: Command): Command {
  return addClientOptions(
    command
      .option(
        '--count <n>',
        `number of records (default ${DEFAULT_COUNT} unless --duration is given)`,
        integerIn(1),
      )
      .option('--duration <seconds>', 'run for this long instead of a record count', positiveNumber)
      .option('--no-progress', 'no progress line on stderr'),
  );
}

/** --count or --duration (not both); neither means DEFAULT_COUNT records. */
export function loadLimits(flags: Pick<LoadFlags, 'count' | 'duration'>): {
  count?: number;
  durationMs?: number;
} {
  if (flags.count !== undefined && flags.duration !== undefined) {
    throw new UsageError('give --count or --duration, not both');
  }
  if (flags.duration !== undefined) return { durationMs: flags.duration * 1000 };
  return { count: flags.count ?? DEFAULT_COUNT };
}

async function perfProduce(
  flags: PerfProduceFlags,
  context: CliContext,
  io: CommandIo,
): Promise<{ result: LoadResult; failed: number; firstError: string | null }> {
  const { count, durationMs } = loadLimits(flags);
  const producer = new Producer({
    ...clientOptions(flags, context.env),
    acks: flags.acks ?? -1,
    compression: flags.compression,
    lingerMs: flags.lingerMs,
    batchSize: flags.batchSize,
    bufferMemory: BUFFER_MEMORY_BYTES,
    allowAutoTopicCreation: false,
  });
  // Letters, not random bytes: compressors then see text-like data, as in Kafka's own perf tool.
  const payload = Buffer.alloc(flags.recordSize);
  randomFillSync(payload);
  for (let i = 0; i < payload.length; i++) payload[i] = 65 + (payload[i]! % 26);
  const latencyUs = new LatencyHistogram();
  const maxPending = Math.min(
    MAX_PENDING_RECORDS,
    Math.max(SENDS_PER_TURN, Math.floor(BUFFER_MEMORY_BYTES / Math.max(1, flags.recordSize))),
  );
  let sent = 0;
  let acknowledged = 0;
  let failed = 0;
  let firstError: string | null = null;
  // Records sent but not settled. Counted in the send's own callbacks (one closure per record, for its send
  // time) rather than through a tracking promise per record: at hundreds of thousands of records a second, the
  // tool's own promises and closures would otherwise cost about as much as the producer's.
  let pending = 0;
  let wakeAt = 0;
  let wake: (() => void) | null = null;
  const settled = () => {
    pending -= 1;
    if (wake !== null && pending < wakeAt) {
      const resolve = wake;
      wake = null;
      resolve();
    }
  };
  /** Resolves once fewer than `limit` records are pending. */
  const pendingBelow = (limit: number): Promise<void> | undefined => {
    if (pending < limit) return undefined;
    wakeAt = limit;
    return new Promise<void>((resolve) => {
      wake = resolve;
    });
  };
  const onFailure = (error: unknown) => {
    failed += 1;
    firstError ??= error instanceof KafkaClientError ? describeFailure(error) : String(error);
    settled();
  };
  let stopped = false;
  const removeInterruptHandlers = onInterrupt(context, () => {
    stopped = true;
  });
  let progress: ProgressLine | null = null;
  try {
    await producer.connect();
    const topic = await producer.cluster.retry(() => producer.cluster.topic(flags.topic));
    // Connected leaders before the clock starts: the first sends should not pay for connections.
    const leaders = new Set(topic.partitions.map((p) => p.leader).filter((leader) => leader >= 0));
    await Promise.all([...leaders].map((leader) => producer.cluster.connection(leader)));
    const sendStartMs = performance.now();
    if (flags.progress) {
      const meter = new RateMeter(sendStartMs);
      progress = new ProgressLine(io.stderr, () => {
        const rate = meter.rate(acknowledged, performance.now());
        return `${acknowledged} records acknowledged (${sent} sent), ${rate.toFixed(1)} records/s, ${((rate * flags.recordSize) / BYTES_PER_MB).toFixed(2)} MB/s, p99 ${(latencyUs.percentile(99) / US_PER_MS).toFixed(2)} ms`;
      });
      progress.start();
    }
    const deadlineMs = durationMs === undefined ? Number.POSITIVE_INFINITY : sendStartMs + durationMs;
    while (!stopped && (count === undefined || sent < count)) {
      const nowMs = performance.now();
      if (nowMs >= deadlineMs) break;
      let due = count === undefined ? Number.POSITIVE_INFINITY : count - sent;
      if (flags.rate !== undefined) {
        due = Math.min(due, Math.floor(((nowMs - sendStartMs) / 1000) * flags.rate) + 1 - sent);
        if (due <= 0) {
          // Record k (from 0) is due k/rate seconds after the start.
          await sleep(Math.max(1, Math.ceil((sent / flags.rate) * 1000 - (nowMs - sendStartMs))));
          continue;
        }
      }
      const turn = Math.min(due, SENDS_PER_TURN);
      for (let i = 0; i < turn; i++) {
        const sentAtMs = performance.now();
        producer.send({ topic: flags.topic, messages: [{ value: payload }] }).then(() => {
          latencyUs.record((performance.now() - sentAtMs) * US_PER_MS);
          acknowledged += 1;
          settled();
        }, onFailure);
        pending += 1;
        sent += 1;
        if (pending >= maxPending) break;
      }
      await pendingBelow(maxPending);
      await yieldToEventLoop();
    }
    await pendingBelow(1);
    const elapsedMs = performance.now() - sendStartMs;
    return {
      result: { records: acknowledged, bytes: acknowledged * flags.recordSize, elapsedMs, latencyUs },
      failed,
      firstError,
    };
  } finally {
    progress?.stop();
    removeInterruptHandlers();
    await producer.close().catch(() => undefined);
  }
}

async function perfConsume(flags: PerfConsumeFlags, context: CliContext, io: CommandIo): Promise<LoadResult> {
  const { count, durationMs } = loadLimits(flags);
  const options = clientOptions(flags, context.env);
  if (flags.group !== undefined && flags.from.kind !== 'earliest' && flags.from.kind !== 'latest') {
    throw new UsageError('with --group, --from takes earliest or latest');
  }
  const from = flags.from;
  const assignment =
    flags.group !== undefined
      ? null
      : await withAdmin(options, async (admin) => {
          const [topic] = await admin.describeTopics([flags.topic]);
          const partitions = (topic?.partitions ?? []).map((p) => ({
            topic: flags.topic,
            partition: p.partition,
          }));
          const starts = await lookUpOffsets(
            admin.cluster,
            partitions,
            from.kind === 'timestamp'
              ? { timestamp: from.timestamp }
              : from.kind === 'latest'
                ? 'latest'
                : 'earliest',
          );
          return partitions.map((p) => ({
            ...p,
            offset: from.kind === 'offset' ? Math.max(from.offset, offsetOf(starts, p)) : offsetOf(starts, p),
          }));
        });
  const consumer = new Consumer({
    ...options,
    autoOffsetReset: from.kind === 'latest' ? 'latest' : 'earliest',
    ...(flags.group === undefined ? {} : { groupId: flags.group }),
  });
  const latencyUs = new LatencyHistogram();
  let records = 0;
  let bytes = 0;
  let startedAtMs: number | null = null;
  let receivedAtMs: number | null = null;
  let closing: Promise<void> | null = null;
  const stop = () => {
    closing ??= consumer.close();
  };
  const removeInterruptHandlers = onInterrupt(context, stop);
  const recordMeter = new RateMeter(performance.now());
  const byteMeter = new RateMeter(performance.now());
  const progress = new ProgressLine(io.stderr, () => {
    const nowMs = performance.now();
    const rate = recordMeter.rate(records, nowMs);
    const megabytesPerSecond = byteMeter.rate(bytes, nowMs) / BYTES_PER_MB;
    return `${records} records received, ${rate.toFixed(1)} records/s, ${megabytesPerSecond.toFixed(2)} MB/s, p99 ${(latencyUs.percentile(99) / US_PER_MS).toFixed(2)} ms`;
  });
  const createdAtMs = performance.now();
  const watchdog = setInterval(() => {
    const nowMs = performance.now();
    if (nowMs - (receivedAtMs ?? startedAtMs ?? createdAtMs) >= flags.idleTimeoutMs) stop();
    if (durationMs !== undefined && startedAtMs !== null && nowMs - startedAtMs >= durationMs) stop();
  }, WATCHDOG_INTERVAL_MS);
  try {
    await consumer.connect();
    if (assignment === null) {
      consumer.subscribe([flags.topic]);
      // Joining the group is not part of the measurement.
      await consumer.waitForAssignment();
    } else {
      consumer.assign(assignment);
    }
    startedAtMs = performance.now();
    if (flags.progress) progress.start();
    await consumer.run({
      eachBatch: (batch) => {
        const arrivedMs = Date.now();
        receivedAtMs = performance.now();
        for (const message of batch.messages) {
          if (count !== undefined && records >= count) break;
          records += 1;
          bytes += (message.value?.length ?? 0) + (message.key?.length ?? 0);
          latencyUs.record((arrivedMs - message.timestamp) * US_PER_MS);
        }
        if (count !== undefined && records >= count) stop();
      },
    });
  } finally {
    clearInterval(watchdog);
    progress.stop();
    removeInterruptHandlers();
    stop();
    await closing;
  }
  const elapsedMs = startedAtMs === null || receivedAtMs === null ? 0 : receivedAtMs - startedAtMs;
  return { records, bytes, elapsedMs, latencyUs };
}

const TABLE_PERCENTILES: readonly [string, number][] = [
  ['p50 ms', 50],
  ['p95 ms', 95],
  ['p99 ms', 99],
  ['p99.9 ms', 99.9],
];

/**
 * The final table: one header row and one row of figures.
 * ```
 * Records  Elapsed s  Records/s  MB/s  Avg ms  p50 ms  p95 ms  p99 ms  p99.9 ms  Max ms
 *   10000      0.412    24271.8  2.43    1.21    1.05    2.51    3.12      4.01    5.20
 * ```
 */
export function formatLoadTable(result: LoadResult): string {
  const seconds = result.elapsedMs / 1000;
  const perSecond = (value: number) => (seconds > 0 ? value / seconds : 0);
  const ms = (us: number) => (us / US_PER_MS).toFixed(2);
  const header = [
    'Records',
    'Elapsed s',
    'Records/s',
    'MB/s',
    'Avg ms',
    ...TABLE_PERCENTILES.map(([name]) => name),
    'Max ms',
  ];
  const row = [
    String(result.records),
    seconds.toFixed(3),
    perSecond(result.records).toFixed(1),
    (perSecond(result.bytes) / BYTES_PER_MB).toFixed(2),
    ms(result.latencyUs.mean),
    ...TABLE_PERCENTILES.map(([, p]) => ms(result.latencyUs.percentile(p))),
    ms(result.latencyUs.max),
  ];
  return formatTable(
    header,
    [row],
    header.map((_, column) => column),
  );
}
