// `sluice transaction list|describe|describe-producers`: transactions on their coordinators and the producers
// partitions keep state for, to find (for example) the open transaction that holds back read_committed readers.

import { type Command, InvalidArgumentError } from 'commander';
import {
  type PartitionProducers,
  TRANSACTION_STATE_NAMES,
  type TransactionDescription,
  type TransactionListing,
} from '../../client/admin.js';
import { KafkaAggregateError } from '../../client/errors.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  addClientOptions,
  type ClientFlags,
  clientOptions,
  collect,
  integerIn,
  withAdmin,
} from '../client-options.js';
import type { CliContext } from '../context.js';
import { CommandFailedError } from '../errors.js';
import { type CommandIo, formatTable, printOutput, processIo } from '../output.js';
import { choosePartitions } from '../partitions.js';

interface ListFlags extends ClientFlags {
  state?: string[];
  producerId?: number[];
  durationMs?: number;
}

interface DescribeProducersFlags extends ClientFlags {
  topic: string;
  partition?: number[];
}

/** What a value the broker did not report prints as. */
const NONE = '-';

export function registerTransactionCommand(
  program: Command,
  context: CliContext,
  io: CommandIo = processIo(),
): void {
  const transaction = program
    .command('transaction')
    .description('List and describe transactions and the producers that partitions keep state for')
    .addHelpText(
      'after',
      `
Examples:
  $ sluice transaction list
  $ sluice transaction list --state Ongoing --duration-ms 60000
  $ sluice transaction describe payments-tx
  $ sluice transaction describe-producers --topic payments --partition 0`,
    );

  addClientOptions(
    transaction
      .command('list')
      .description('List transactional ids with their producer id, state and coordinator, sorted')
      .option(
        '--state <state...>',
        `only ids in these states: ${TRANSACTION_STATE_NAMES.join(', ')}`,
        collect(parseTransactionState),
      )
      .option('--producer-id <id...>', 'only ids these producer ids hold', collect(integerIn(0)))
      .option('--duration-ms <ms>', 'only transactions open for longer than this', integerIn(0)),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice transaction list
  $ sluice transaction list --state Ongoing PrepareCommit
  $ sluice transaction list --state Ongoing --duration-ms 60000
  $ sluice transaction list --producer-id 4001`,
    )
    .action((flags: ListFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const listings = await admin.listTransactions({
          ...(flags.state === undefined ? {} : { states: flags.state }),
          ...(flags.producerId === undefined ? {} : { producerIds: flags.producerId }),
          ...(flags.durationMs === undefined ? {} : { durationMs: flags.durationMs }),
        });
        printOutput(io, formatTransactionList(listings));
      }),
    );

  addClientOptions(
    transaction
      .command('describe')
      .description('Show the state, producer, timeout, start time and partitions of transactional ids')
      .argument('<transactional-id...>', 'transactional ids'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ sluice transaction describe payments-tx\n  $ sluice transaction describe payments-tx orders-tx',
    )
    .action((transactionalIds: string[], flags: ClientFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const descriptions = await admin.describeTransactions(transactionalIds).catch((error: unknown) => {
          throw reworded(error, transactionalIds);
        });
        const nowMs = Date.now();
        printOutput(io, descriptions.map((d) => formatTransactionDescription(d, nowMs)).join('\n\n'));
      }),
    );

  addClientOptions(
    transaction
      .command('describe-producers')
      .description("Show the producers a topic's partitions keep state for, with their open transactions")
      .requiredOption('--topic <topic>', 'topic name')
      .option('--partition <n...>', 'only these partitions (default: all)', collect(integerIn(0))),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice transaction describe-producers --topic payments
  $ sluice transaction describe-producers --topic payments --partition 0 2

A partition's "Transaction start offset" is where read_committed readers stop until that transaction ends.`,
    )
    .action((flags: DescribeProducersFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const [description] = await admin.describeTopics([flags.topic]);
        const existing = description?.partitions.map((p) => p.partition) ?? [];
        const partitions = choosePartitions(flags.topic, existing, flags.partition);
        const producers = await admin.describeProducers(
          partitions.map((partition) => ({ topic: flags.topic, partition })),
        );
        printOutput(io, formatProducers(flags.topic, producers));
      }),
    );
}

/** --state: one of Kafka's state names, in any letter case. */
export function parseTransactionState(text: string): string {
  const wanted = text.trim().toLowerCase();
  const found = TRANSACTION_STATE_NAMES.find((name) => name.toLowerCase() === wanted);
  if (found === undefined) {
    throw new InvalidArgumentError(`expected one of ${TRANSACTION_STATE_NAMES.join(', ')}`);
  }
  return found;
}

/** An unknown transactional id says so the way an unknown topic or group does; other failures pass through. */
function reworded(error: unknown, transactionalIds: readonly string[]): unknown {
  if (!(error instanceof KafkaAggregateError)) return error;
  const missing = transactionalIds.filter((id) =>
    error.errors.some((e) => e.code === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND && e.transactionalId === id),
  );
  if (missing.length !== error.errors.length) return error;
  return new CommandFailedError(
    missing.map((id) => `transactional id '${id}' does not exist (TRANSACTIONAL_ID_NOT_FOUND)`).join('; '),
  );
}

/**
 * ```
 * Transactional id  Producer id  State           Coordinator
 * payments-tx                 0  Ongoing                   1
 * ```
 */
export function formatTransactionList(listings: readonly TransactionListing[]): string {
  if (listings.length === 0) return 'No transactions.';
  return formatTable(
    ['Transactional id', 'Producer id', 'State', 'Coordinator'],
    listings.map((t) => [t.transactionalId, String(t.producerId), t.state, String(t.coordinatorId)]),
    [1, 3],
  );
}

/**
 * One transactional id; `nowMs` gives the age of the transaction:
 * ```
 * Transactional id: payments-tx  State: Ongoing  Coordinator: 1
 * Producer id: 0  Producer epoch: 0  Transaction timeout: 60000 ms
 * Started: 2024-05-01T12:00:00.000Z (1500 ms ago)
 * Partitions: payments:0,1 audit:0
 * ```
 */
export function formatTransactionDescription(description: TransactionDescription, nowMs: number): string {
  const started =
    description.transactionStartTimeMs === null
      ? NONE
      : `${new Date(description.transactionStartTimeMs).toISOString()} (${Math.max(0, nowMs - description.transactionStartTimeMs)} ms ago)`;
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of description.topicPartitions) {
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  }
  const partitions = [...byTopic].map(([topic, indexes]) => `${topic}:${indexes.join(',')}`).join(' ');
  return [
    `Transactional id: ${description.transactionalId}  State: ${description.state}  Coordinator: ${description.coordinatorId}`,
    `Producer id: ${description.producerId}  Producer epoch: ${description.producerEpoch}  Transaction timeout: ${description.transactionTimeoutMs} ms`,
    `Started: ${started}`,
    `Partitions: ${partitions === '' ? NONE : partitions}`,
  ].join('\n');
}

/**
 * One row per producer of each partition:
 * ```
 * Partition  Producer id  Producer epoch  Last sequence  Last timestamp            Coordinator epoch  Transaction start offset
 *         0            0               0              1  2024-05-01T12:00:00.000Z                  -                         4
 * ```
 */
export function formatProducers(topic: string, partitions: readonly PartitionProducers[]): string {
  const rows = partitions.flatMap((p) =>
    p.activeProducers.map((producer) => [
      String(p.partition),
      String(producer.producerId),
      String(producer.producerEpoch),
      producer.lastSequence < 0 ? NONE : String(producer.lastSequence),
      producer.lastTimestamp < 0 ? NONE : new Date(producer.lastTimestamp).toISOString(),
      producer.coordinatorEpoch === null ? NONE : String(producer.coordinatorEpoch),
      producer.currentTransactionStartOffset === null ? NONE : String(producer.currentTransactionStartOffset),
    ]),
  );
  if (rows.length === 0) return `No active producers on topic '${topic}'.`;
  return formatTable(
    [
      'Partition',
      'Producer id',
      'Producer epoch',
      'Last sequence',
      'Last timestamp',
      'Coordinator epoch',
      'Transaction start offset',
    ],
    rows,
    [0, 1, 2, 3, 5, 6],
  );
}
