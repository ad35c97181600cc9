// `sluice topic create|list|describe|alter|delete|delete-records`: topic administration through the Admin client.

import type { Command } from 'commander';
import type { Admin, ConfigChange, ConfigEntry, TopicDescription } from '../../client/admin.js';
import {
  addClientOptions,
  type ClientFlags,
  clientOptions,
  collect,
  integerIn,
  parseAssignment,
  withAdmin,
} from '../client-options.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { type CommandIo, formatTable, plural, printOutput, processIo } from '../output.js';
import { choosePartitions } from '../partitions.js';

interface CreateFlags extends ClientFlags {
  partitions?: number;
  replicationFactor?: number;
  config?: [string, string][];
}

interface ListFlags extends ClientFlags {
  internal?: boolean;
}

interface DeleteRecordsFlags extends ClientFlags {
  before: number | 'latest';
  partition?: number[];
}

interface AlterFlags extends ClientFlags {
  config?: [string, string][];
  deleteConfig?: string[];
  partitions?: number;
}

const MAX_PARTITIONS = 1_000_000;
const MAX_REPLICATION_FACTOR = 32_767;

export function registerTopicCommand(
  program: Command,
  context: CliContext,
  io: CommandIo = processIo(),
): void {
  const topic = program
    .command('topic')
    .description('Create, list, describe, alter and delete topics')
    .addHelpText(
      'after',
      `
Examples:
  $ sluice topic create orders --partitions 6 --config retention.ms=86400000
  $ sluice topic list
  $ sluice topic describe orders
  $ sluice topic alter orders --config cleanup.policy=compact --delete-config retention.ms
  $ sluice topic delete orders
  $ sluice topic delete-records orders --before 1000 --partition 0`,
    );

  addClientOptions(
    topic
      .command('create')
      .description('Create a topic')
      .argument('<topic>', 'topic name')
      .option(
        '--partitions <n>',
        "partition count (default: the broker's num.partitions)",
        integerIn(1, MAX_PARTITIONS),
      )
      .option(
        '--replication-factor <n>',
        "copies of each partition (default: the broker's default.replication.factor)",
        integerIn(1, MAX_REPLICATION_FACTOR),
      )
      .option('--config <key=value>', 'topic config override; repeatable', collect(parseAssignment)),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice topic create orders
  $ sluice topic create orders --partitions 12 --replication-factor 1
  $ sluice topic create compacted --config cleanup.policy=compact --config min.compaction.lag.ms=60000`,
    )
    .action((name: string, flags: CreateFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const [created] = await admin.createTopics([
          {
            topic: name,
            ...(flags.partitions === undefined ? {} : { numPartitions: flags.partitions }),
            ...(flags.replicationFactor === undefined ? {} : { replicationFactor: flags.replicationFactor }),
            configs: Object.fromEntries(flags.config ?? []),
          },
        ]);
        const details = [];
        if (created !== undefined && created.numPartitions >= 0) {
          details.push(plural(created.numPartitions, 'partition'));
          details.push(`replication factor ${created.replicationFactor}`);
        }
        printOutput(io, `Created topic '${name}'${details.length > 0 ? ` (${details.join(', ')})` : ''}`);
      }),
    );

  addClientOptions(
    topic
      .command('list')
      .description('List topic names, one per line, sorted')
      .option('--internal', 'include internal topics such as __consumer_offsets'),
  )
    .addHelpText('after', '\nExamples:\n  $ sluice topic list\n  $ sluice topic list --internal | grep -c .')
    .action((flags: ListFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const names = await admin.listTopics({ includeInternal: flags.internal === true });
        if (names.length > 0) printOutput(io, names.join('\n'));
      }),
    );

  addClientOptions(
    topic
      .command('describe')
      .description('Show partitions (leader, replicas, in-sync replicas) and non-default configs')
      .argument('<topic...>', 'topic names'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ sluice topic describe orders\n  $ sluice topic describe orders payments',
    )
    .action((names: string[], flags: ClientFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const descriptions = await admin.describeTopics(names);
        const configs = await nonDefaultConfigs(admin, names);
        printOutput(
          io,
          descriptions.map((d) => formatTopicDescription(d, configs.get(d.name) ?? [])).join('\n\n'),
        );
      }),
    );

  addClientOptions(
    topic
      .command('alter')
      .description("Change a topic's configs or raise its partition count")
      .argument('<topic>', 'topic name')
      .option('--config <key=value>', 'set a config; repeatable', collect(parseAssignment))
      .option(
        '--delete-config <key>',
        'remove an override (back to the default); repeatable',
        collect(String),
      )
      .option('--partitions <n>', 'raise the partition count to n', integerIn(1, MAX_PARTITIONS)),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice topic alter orders --config retention.ms=3600000
  $ sluice topic alter orders --delete-config retention.ms
  $ sluice topic alter orders --partitions 12`,
    )
    .action((name: string, flags: AlterFlags) => {
      const changes = configChanges(flags);
      if (changes.length === 0 && flags.partitions === undefined) {
        throw new UsageError('topic alter needs --config, --delete-config or --partitions');
      }
      return withAdmin(clientOptions(flags, context.env), async (admin) => {
        const done: string[] = [];
        if (changes.length > 0) {
          await admin.alterConfigs([{ type: 'topic', name, configs: changes }]);
          for (const change of changes) {
            done.push(
              change.operation === 'delete' ? `deleted ${change.name}` : `set ${change.name}=${change.value}`,
            );
          }
        }
        if (flags.partitions !== undefined) {
          await admin.createPartitions([{ topic: name, count: flags.partitions }]);
          done.push(`partitions raised to ${flags.partitions}`);
        }
        printOutput(io, `Altered topic '${name}': ${done.join('; ')}`);
      });
    });

  addClientOptions(
    topic.command('delete').description('Delete topics and their data').argument('<topic...>', 'topic names'),
  )
    .addHelpText('after', '\nExamples:\n  $ sluice topic delete orders\n  $ sluice topic delete old-1 old-2')
    .action((names: string[], flags: ClientFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        await admin.deleteTopics(names);
        printOutput(io, names.map((name) => `Deleted topic '${name}'`).join('\n'));
      }),
    );

  addClientOptions(
    topic
      .command('delete-records')
      .description("Delete a topic's records below an offset (moves the partitions' start offsets up)")
      .argument('<topic>', 'topic name')
      .requiredOption(
        '--before <offset>',
        "the partitions' new first offset, or 'latest' for everything written so far",
        parseRecordsCutoff,
      )
      .option('--partition <n...>', 'only these partitions (default: all)', collect(integerIn(0))),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice topic delete-records orders --before 1000 --partition 0
  $ sluice topic delete-records orders --before latest`,
    )
    .action((name: string, flags: DeleteRecordsFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const [description] = await admin.describeTopics([name]);
        const existing = description?.partitions.map((p) => p.partition) ?? [];
        const partitions = choosePartitions(name, existing, flags.partition);
        const offset = flags.before === 'latest' ? HIGH_WATERMARK : flags.before;
        const results = await admin.deleteRecords({
          topic: name,
          partitions: partitions.map((partition) => ({ partition, offset })),
        });
        printOutput(
          io,
          formatTable(
            ['PARTITION', 'START OFFSET'],
            results.map((r) => [String(r.partition), String(r.lowWatermark)]),
            [0, 1],
          ),
        );
      }),
    );
}

/** DeleteRecords' offset for "up to the high watermark". */
const HIGH_WATERMARK = -1;

/** --before: a whole number ≥ 0 or 'latest'. */
export function parseRecordsCutoff(text: string): number | 'latest' {
  return text.trim() === 'latest' ? 'latest' : integerIn(0)(text);
}

/** --config and --delete-config as IncrementalAlterConfigs changes; a key given to both is a usage error. */
export function configChanges(flags: Pick<AlterFlags, 'config' | 'deleteConfig'>): ConfigChange[] {
  const changes: ConfigChange[] = (flags.config ?? []).map(([key, value]) => ({
    name: key,
    value,
    operation: 'set',
  }));
  for (const key of flags.deleteConfig ?? []) {
    if (changes.some((c) => c.name === key)) throw new UsageError(`config '${key}' is both set and deleted`);
    changes.push({ name: key, operation: 'delete' });
  }
  return changes;
}

/** Configs of each topic that differ from the defaults: topic overrides and broker-level settings. */
async function nonDefaultConfigs(admin: Admin, topics: string[]): Promise<Map<string, ConfigEntry[]>> {
  const described = await admin.describeConfigs(topics.map((name) => ({ type: 'topic' as const, name })));
  return new Map(
    described.map((resource) => [
      resource.name,
      resource.configs
        .filter((c) => !c.isDefault)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    ]),
  );
}

/**
 * A topic as text:
 * ```
 * Topic: orders  Id: 2bWn...  Partitions: 2  Replication factor: 1
 * Configs: retention.ms=1000
 * Partition  Leader  Replicas  ISR
 *         0       1  1         1
 * ```
 */
export function formatTopicDescription(topic: TopicDescription, configs: readonly ConfigEntry[]): string {
  const replicationFactor = Math.max(0, ...topic.partitions.map((p) => p.replicas.length));
  const configText =
    configs.length === 0
      ? '(none)'
      : configs
          .map((c) => `${c.name}=${c.isSensitive || c.value === null ? '(sensitive)' : c.value}`)
          .join(', ');
  const rows = topic.partitions.map((p) => [
    String(p.partition),
    p.leader < 0 ? 'none' : String(p.leader),
    p.replicas.join(','),
    p.isr.join(','),
  ]);
  return [
    `Topic: ${topic.name}  Id: ${topic.topicId}  Partitions: ${topic.partitions.length}  Replication factor: ${replicationFactor}${topic.isInternal ? '  Internal' : ''}`,
    `Configs: ${configText}`,
    formatTable(['Partition', 'Leader', 'Replicas', 'ISR'], rows, [0, 1]),
  ].join('\n');
}
