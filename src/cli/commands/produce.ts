// `sluice produce`: one record per input line (stdin or --file), optionally split into key and value, with
// the same headers on every record. A summary goes to stderr; any failed record makes the exit status 1.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { KafkaClientError } from '../../client/errors.js';
import { Producer } from '../../client/producer/producer.js';
import type { ProducerMessage, RecordHeaders, RecordMetadata } from '../../client/producer/types.js';
import type { CompressionName } from '../../protocol/records/layout.js';
import {
  type Acks,
  addClientOptions,
  type ClientFlags,
  clientOptions,
  collect,
  integerIn,
  onInterrupt,
  parseAcks,
  parseAssignment,
  parseCompression,
  parseSeparator,
} from '../client-options.js';
import type { CliContext } from '../context.js';
import { CommandFailedError, describeFailure } from '../errors.js';
import { InFlightLimit } from '../in-flight.js';
import { type CommandIo, plural, processIo } from '../output.js';
import { choosePartitions } from '../partitions.js';

interface ProduceFlags extends ClientFlags {
  topic: string;
  file?: string;
  keySeparator?: string;
  header?: [string, string][];
  partition?: number;
  acks?: Acks;
  compression: CompressionName;
  lingerMs: number;
  batchSize: number;
}

/** Records sent but not yet acknowledged; reading pauses at this bound (the producer also bounds bytes). */
const MAX_PENDING_RECORDS = 10_000;

export function registerProduceCommand(
  program: Command,
  context: CliContext,
  io: CommandIo = processIo(),
): void {
  addClientOptions(
    program
      .command('produce')
      .description('Write one record per line of stdin (or a file) to a topic')
      .requiredOption('--topic <topic>', 'topic to write to')
      .option('--file <path>', 'read lines from this file instead of stdin')
      .option(
        '--key-separator <sep>',
        'split each line at the first <sep> into key and value (a line without it has no key); \\t for tab',
        parseSeparator,
      )
      .option('--header <key=value>', 'header added to every record; repeatable', collect(parseAssignment))
      .option(
        '--partition <n>',
        'write every record to this partition (default: by key, or spread)',
        integerIn(0),
      )
      .option('--acks <acks>', '0 (no answer), 1 (leader) or all (in-sync replicas; the default)', parseAcks)
      .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', parseCompression, 'none')
      .option('--linger-ms <ms>', 'how long a batch waits for more records', integerIn(0), 5)
      .option(
        '--batch-size <bytes>',
        'bytes per batch before it is sent without waiting',
        integerIn(1),
        16_384,
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ echo 'hello' | sluice produce --topic greetings
  $ printf 'user-1:login\\nuser-2:logout\\n' | sluice produce --topic events --key-separator :
  $ sluice produce --topic events --file events.txt --header source=import --compression zstd --acks all

A topic that does not exist is created if the broker allows it (auto.create.topics.enable).
A summary (records written, partitions and offsets) goes to stderr. The exit status is 1 if any record failed.`,
    )
    .action(async (flags: ProduceFlags) => {
      const producer = new Producer({
        ...clientOptions(flags, context.env),
        acks: flags.acks ?? -1,
        compression: flags.compression,
        lingerMs: flags.lingerMs,
        batchSize: flags.batchSize,
      });
      try {
        await producer.connect();
        // Like Kafka's console producer: a missing topic is created when the broker allows auto-creation.
        const topic = await producer.cluster.retry(async () => {
          await producer.cluster.refreshMetadata([flags.topic], { allowAutoTopicCreation: true });
          return producer.cluster.topic(flags.topic);
        });
        if (flags.partition !== undefined) {
          const existing = topic.partitions.map((p) => p.partition);
          choosePartitions(flags.topic, existing, [flags.partition]);
        }
        // Connect to the leaders before reading input, so the first records do not wait for connections.
        const leaders = new Set(topic.partitions.map((p) => p.leader).filter((leader) => leader >= 0));
        await Promise.all([...leaders].map((leader) => producer.cluster.connection(leader)));
        const input = flags.file === undefined ? io.stdin : createReadStream(flags.file);
        const summary = await produceLines(producer, input, flags, context);
        io.stderr.write(`${formatProduceSummary(flags.topic, summary, flags.acks ?? -1)}\n`);
        if (summary.failed > 0) {
          throw new CommandFailedError(
            `${summary.failed} of ${plural(summary.failed + summary.succeeded, 'record')} failed: ${summary.firstError}`,
          );
        }
      } finally {
        await producer.close().catch(() => undefined);
      }
    });
}

export interface PartitionRange {
  firstOffset: number;
  lastOffset: number;
  count: number;
}

export interface ProduceSummary {
  succeeded: number;
  failed: number;
  /** Offsets written, by partition (empty with acks=0). */
  partitions: Map<number, PartitionRange>;
  firstError: string | null;
}

async function produceLines(
  producer: Producer,
  input: Readable,
  flags: ProduceFlags,
  context: CliContext,
): Promise<ProduceSummary> {
  const summary: ProduceSummary = { succeeded: 0, failed: 0, partitions: new Map(), firstError: null };
  const headers = headersFrom(flags.header ?? []);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const stopReading = onInterrupt(context, () => lines.close());
  const readFailure = new Promise<never>((_, reject) => {
    input.once('error', (error) =>
      reject(new CommandFailedError(`cannot read ${flags.file ?? 'stdin'}: ${error.message}`)),
    );
  });
  readFailure.catch(() => undefined);
  const inFlight = new InFlightLimit(MAX_PENDING_RECORDS);
  try {
    const reading = (async () => {
      for await (const line of lines) {
        const message: ProducerMessage = parseRecordLine(line, flags.keySeparator);
        if (headers !== undefined) message.headers = headers;
        if (flags.partition !== undefined) message.partition = flags.partition;
        inFlight.add(
          producer.send({ topic: flags.topic, messages: [message] }).then(
            (results) => recordResults(summary, results),
            (error: unknown) => {
              summary.failed += 1;
              summary.firstError ??=
                error instanceof KafkaClientError ? describeFailure(error) : String(error);
            },
          ),
        );
        await inFlight.roomForMore();
      }
    })();
    await Promise.race([reading, readFailure]);
    await inFlight.allSettled();
  } finally {
    stopReading();
  }
  return summary;
}

function recordResults(summary: ProduceSummary, results: readonly RecordMetadata[]): void {
  for (const result of results) {
    summary.succeeded += 1;
    if (result.offset < 0) continue;
    const range = summary.partitions.get(result.partition);
    if (range === undefined) {
      summary.partitions.set(result.partition, {
        firstOffset: result.offset,
        lastOffset: result.offset,
        count: 1,
      });
    } else {
      range.firstOffset = Math.min(range.firstOffset, result.offset);
      range.lastOffset = Math.max(range.lastOffset, result.offset);
      range.count += 1;
    }
  }
}

/** A line as a record: with a separator, the key is what precedes its first occurrence. */
export function parseRecordLine(line: string, keySeparator: string | undefined): ProducerMessage {
  if (keySeparator === undefined) return { value: line };
  const at = line.indexOf(keySeparator);
  if (at < 0) return { key: null, value: line };
  return { key: line.slice(0, at), value: line.slice(at + keySeparator.length) };
}

/** --header assignments as record headers; a name given twice gets both values, in order. */
export function headersFrom(assignments: readonly [string, string][]): RecordHeaders | undefined {
  if (assignments.length === 0) return undefined;
  const headers: Record<string, string[]> = {};
  for (const [key, value] of assignments) {
    const values = headers[key] ?? [];
    values.push(value);
    headers[key] = values;
  }
  return Object.fromEntries(
    Object.entries(headers).map(([key, values]) => [key, values.length === 1 ? values[0] : values]),
  );
}

/**
 * One line: "Produced 3 records to 'orders': partition 0 offsets 4-5, partition 2 offset 0". Partitions are
 * listed in order; with acks=0 the broker does not report offsets.
 */
export function formatProduceSummary(topic: string, summary: ProduceSummary, acks: Acks): string {
  const head = `Produced ${plural(summary.succeeded, 'record')} to '${topic}'`;
  if (summary.succeeded === 0) return head;
  if (acks === 0) return `${head} (acks=0: offsets not reported)`;
  const ranges = [...summary.partitions]
    .sort(([a], [b]) => a - b)
    .map(([partition, range]) =>
      range.firstOffset === range.lastOffset
        ? `partition ${partition} offset ${range.firstOffset}`
        : `partition ${partition} offsets ${range.firstOffset}-${range.lastOffset}`,
    );
  return `${head}: ${ranges.join(', ')}`;
}
