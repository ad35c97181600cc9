// `sluice consume`: print a topic's records, one per line, as plain values or JSON objects. Reads chosen
// partitions (or all) from a chosen position, or joins a consumer group and commits what it printed.

import { type Command, InvalidArgumentError } from 'commander';
import type { Admin } from '../../client/admin.js';
import { Consumer, type ConsumerOptions } from '../../client/consumer/consumer.js';
import type { ConsumerMessage } from '../../client/consumer/message.js';
import type { IsolationLevel } from '../../client/list-offsets.js';
import {
  addClientOptions,
  type ClientFlags,
  clientOptions,
  collect,
  integerIn,
  onInterrupt,
  parseSeparator,
  parseStartPosition,
  type StartPosition,
  withAdmin,
} from '../client-options.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import {
  lookUpOffsets,
  type OffsetsByPartition,
  offsetOf,
  partitionKey,
  type TopicPartitionRef,
} from '../offsets.js';
import { type CommandIo, formatMessage, LineWriter, type MessageFormat, processIo } from '../output.js';
import { choosePartitions } from '../partitions.js';
import { clamp } from './group.js';

interface ConsumeFlags extends ClientFlags {
  topic: string;
  group?: string;
  partition?: number[];
  from?: StartPosition;
  format: MessageFormat;
  printKey?: boolean;
  keySeparator: string;
  count?: number;
  exitAtEnd?: boolean;
  isolationLevel: IsolationLevel;
}

/** How often --exit-at-end checks positions when no record arrives (a partition may have nothing to read). */
const END_CHECK_INTERVAL_MS = 100;

export function registerConsumeCommand(
  program: Command,
  context: CliContext,
  io: CommandIo = processIo(),
): void {
  addClientOptions(
    program
      .command('consume')
      .description("Print a topic's records, one per line")
      .requiredOption('--topic <topic>', 'topic to read')
      .option('--group <group>', 'read as a member of this consumer group and commit what was printed')
      .option('--partition <n...>', 'read only these partitions (default: all)', collect(integerIn(0)))
      .option(
        '--from <position>',
        'earliest, latest (default), an offset, @<ms since the epoch> or an ISO 8601 date; ' +
          'with --group: where to start in partitions without a committed offset (earliest or latest)',
        parseStartPosition,
      )
      .option('--format <format>', 'plain (the value) or json (one object per record)', parseFormat, 'plain')
      .option('--print-key', 'plain format: print the key, the key separator, then the value')
      .option(
        '--key-separator <sep>',
        'plain format: what goes between key and value (\\t for tab)',
        parseSeparator,
        '\t',
      )
      .option('--count <n>', 'stop after n records', integerIn(1))
      .option('--exit-at-end', 'stop once the end offsets the partitions had at start are reached')
      .option(
        '--isolation-level <level>',
        'read_uncommitted (every record, the default) or read_committed (only committed transactions; ' +
          'the end is then where the oldest open transaction begins)',
        parseIsolationLevel,
        'read_uncommitted',
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice consume --topic orders --from earliest --exit-at-end
  $ sluice consume --topic orders --partition 0 2 --from 1000 --count 10
  $ sluice consume --topic orders --from 2024-05-01T00:00:00Z --format json
  $ sluice consume --topic orders --from @1714521600000 --print-key --key-separator ' => '
  $ sluice consume --topic orders --group billing --from earliest
  $ sluice consume --topic payments --from earliest --isolation-level read_committed --exit-at-end

JSON lines hold {topic, partition, offset, timestamp, key, value, headers}; key and value are UTF-8 text or
null, headers an object (a name that repeats maps to an array). Ctrl-C stops cleanly (and commits, with --group).`,
    )
    .action(async (flags: ConsumeFlags) => {
      const options = clientOptions(flags, context.env);
      const plan = await withAdmin(options, (admin) => planConsumption(admin, flags));
      const consumer = new Consumer({ ...options, ...plan.consumerOptions });
      await consume(consumer, plan, flags, context, io);
    });
}

interface ConsumptionPlan {
  consumerOptions: Partial<ConsumerOptions>;
  /** Partitions to assign by hand with their start offsets (omitted: committed offset or reset policy); null: subscribe. */
  assignment: (TopicPartitionRef & { offset?: number })[] | null;
  /** End offsets at start, for --exit-at-end. */
  endOffsets: OffsetsByPartition | null;
}

async function planConsumption(admin: Admin, flags: ConsumeFlags): Promise<ConsumptionPlan> {
  const from = flags.from ?? { kind: 'latest' };
  if (flags.group !== undefined && from.kind !== 'earliest' && from.kind !== 'latest') {
    throw new UsageError(
      "with --group, --from takes earliest or latest (the group's committed offsets come first); " +
        'move a group with `sluice group reset-offsets`',
    );
  }
  const [topic] = await admin.describeTopics([flags.topic]);
  const existing = (topic?.partitions ?? []).map((p) => p.partition);
  const partitions = choosePartitions(flags.topic, existing, flags.partition).map((partition) => ({
    topic: flags.topic,
    partition,
  }));
  const { isolationLevel } = flags;
  const endOffsets = flags.exitAtEnd
    ? await lookUpOffsets(admin.cluster, partitions, 'latest', isolationLevel)
    : null;
  const resetPolicy = from.kind === 'earliest' ? 'earliest' : 'latest';
  if (flags.group !== undefined) {
    return {
      consumerOptions: { groupId: flags.group, autoOffsetReset: resetPolicy, isolationLevel },
      assignment: flags.partition === undefined ? null : partitions,
      endOffsets,
    };
  }
  const starts = await startOffsets(admin, partitions, from, isolationLevel);
  return {
    consumerOptions: { autoOffsetReset: resetPolicy, isolationLevel },
    assignment: partitions.map((p) => ({ ...p, offset: offsetOf(starts, p) })),
    endOffsets,
  };
}

/** Where each partition starts without a group; an offset is kept within the partition's log. */
async function startOffsets(
  admin: Admin,
  partitions: TopicPartitionRef[],
  from: StartPosition,
  isolationLevel: IsolationLevel,
): Promise<OffsetsByPartition> {
  switch (from.kind) {
    case 'earliest':
    case 'latest':
      return lookUpOffsets(admin.cluster, partitions, from.kind, isolationLevel);
    case 'timestamp':
      return lookUpOffsets(admin.cluster, partitions, { timestamp: from.timestamp }, isolationLevel);
    case 'offset': {
      const [starts, ends] = await Promise.all([
        lookUpOffsets(admin.cluster, partitions, 'earliest'),
        lookUpOffsets(admin.cluster, partitions, 'latest'),
      ]);
      return new Map(
        partitions.map((p) => [
          partitionKey(p.topic, p.partition),
          clamp(from.offset, offsetOf(starts, p), offsetOf(ends, p)),
        ]),
      );
    }
  }
}

async function consume(
  consumer: Consumer,
  plan: ConsumptionPlan,
  flags: ConsumeFlags,
  context: CliContext,
  io: CommandIo,
): Promise<void> {
  const writer = new LineWriter(io.stdout);
  const format = {
    format: flags.format,
    printKey: flags.printKey === true,
    keySeparator: flags.keySeparator,
  };
  let closing: Promise<void> | null = null;
  const stop = () => {
    closing ??= consumer.close();
  };
  const removeInterruptHandlers = onInterrupt(context, stop);
  const atEnd = plan.endOffsets === null ? null : new EndTracker(consumer, plan.endOffsets);
  const endCheck =
    atEnd === null ? null : setInterval(() => atEnd.reached() && stop(), END_CHECK_INTERVAL_MS);
  let printed = 0;
  try {
    await consumer.connect();
    if (plan.assignment === null) consumer.subscribe([flags.topic]);
    else consumer.assign(plan.assignment);
    for await (const message of consumer) {
      if (atEnd?.isPastEnd(message)) {
        if (atEnd.reached()) break;
        continue;
      }
      await writer.writeLine(formatMessage(message, format));
      printed += 1;
      if (writer.closed || printed === flags.count || atEnd?.reached()) break;
    }
  } finally {
    if (endCheck !== null) clearInterval(endCheck);
    removeInterruptHandlers();
    stop();
    await closing;
  }
}

/**
 * --exit-at-end: the end offset each partition had at start. A record at or past it is not printed; its
 * partition is moved back to the end offset and paused, so that a group commits exactly what was printed.
 */
class EndTracker {
  private readonly consumer: Consumer;
  private readonly endOffsets: OffsetsByPartition;

  constructor(consumer: Consumer, endOffsets: OffsetsByPartition) {
    this.consumer = consumer;
    this.endOffsets = endOffsets;
  }

  isPastEnd(message: ConsumerMessage): boolean {
    const end = this.endOffsets.get(partitionKey(message.topic, message.partition));
    if (end === undefined || message.offset < end) return false;
    const partition = { topic: message.topic, partition: message.partition };
    this.consumer.seek({ ...partition, offset: end });
    this.consumer.pause([partition]);
    return true;
  }

  /** True once this consumer has partitions and each one's position is at its end offset. */
  reached(): boolean {
    const assigned = this.consumer.assignment();
    if (assigned.length === 0) return false;
    return assigned.every(({ topic, partition }) => {
      const end = this.endOffsets.get(partitionKey(topic, partition));
      const position = this.consumer.position(topic, partition);
      return end !== undefined && position !== null && position >= end;
    });
  }
}

function parseIsolationLevel(text: string): IsolationLevel {
  if (text === 'read_committed' || text === 'read_uncommitted') return text;
  throw new InvalidArgumentError('expected read_committed or read_uncommitted');
}

function parseFormat(text: string): MessageFormat {
  if (text === 'plain' || text === 'json') return text;
  throw new InvalidArgumentError('expected plain or json');
}
