// `sluice group list|describe|reset-offsets|delete`: consumer groups, their members, committed offsets and lag.

import type { Command } from 'commander';
import type { GroupDescription, GroupOffset } from '../../client/admin.js';
import {
  addClientOptions,
  type ClientFlags,
  clientOptions,
  integerIn,
  parseTimestamp,
  withAdmin,
} from '../client-options.js';
import type { CliContext } from '../context.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { lookUpOffsets, offsetOf, partitionKey, type TopicPartitionRef } from '../offsets.js';
import { type CommandIo, formatTable, plural, printOutput, processIo } from '../output.js';

interface ResetFlags extends ClientFlags {
  topic: string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toTimestamp?: number;
  toOffset?: number;
  dryRun?: boolean;
}

export type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'timestamp'; timestamp: number }
  | { kind: 'offset'; offset: number };

export interface PartitionReset extends TopicPartitionRef {
  /** null when the group has no committed offset for the partition. */
  currentOffset: number | null;
  newOffset: number;
}

/** States in which a group has members whose commits would race a reset. */
const NO_MEMBERS_STATES = new Set(['Empty', 'Dead']);

export function registerGroupCommand(
  program: Command,
  context: CliContext,
  io: CommandIo = processIo(),
): void {
  const group = program
    .command('group')
    .description('List, describe, reset the offsets of, and delete consumer groups')
    .addHelpText(
      'after',
      `
Examples:
  $ sluice group list
  $ sluice group describe billing
  $ sluice group reset-offsets billing --topic orders --to-earliest --dry-run
  $ sluice group delete billing`,
    );

  addClientOptions(group.command('list').description('List group ids, one per line, sorted'))
    .addHelpText('after', '\nExamples:\n  $ sluice group list')
    .action((flags: ClientFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const groups = await admin.listGroups();
        if (groups.length > 0) printOutput(io, groups.map((g) => g.groupId).join('\n'));
      }),
    );

  addClientOptions(
    group
      .command('describe')
      .description('Show members and, per partition, the committed offset, log end offset and lag')
      .argument('<group>', 'group id'),
  )
    .addHelpText('after', '\nExamples:\n  $ sluice group describe billing')
    .action((groupId: string, flags: ClientFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const [description] = await admin.describeGroups([groupId]);
        const committed = await admin.listGroupOffsets(groupId);
        if (description === undefined || (description.state === 'Dead' && committed.length === 0)) {
          throw new CommandFailedError(`group '${groupId}' does not exist (GROUP_ID_NOT_FOUND)`);
        }
        const partitions = describedPartitions(description, committed);
        const logEndOffsets = await lookUpOffsets(admin.cluster, partitions, 'latest');
        printOutput(
          io,
          formatGroupDescription(
            description,
            committed,
            partitions.map((p) => ({ ...p, logEndOffset: offsetOf(logEndOffsets, p) })),
          ),
        );
      }),
    );

  addClientOptions(
    group
      .command('reset-offsets')
      .description("Move a group's committed offsets for a topic (the group must have no active members)")
      .argument('<group>', 'group id')
      .requiredOption('--topic <topic>', 'topic whose partitions are reset (all of them)')
      .option('--to-earliest', 'to the first offset still in the log')
      .option('--to-latest', 'to the log end offset (skip everything there now)')
      .option(
        '--to-timestamp <time>',
        'to the first record at or after a time: ms since the epoch or ISO 8601',
        parseTimestamp,
      )
      .option('--to-offset <n>', 'to offset n (kept within each partition’s log)', integerIn(0))
      .option('--dry-run', 'show the new offsets without committing them'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice group reset-offsets billing --topic orders --to-earliest
  $ sluice group reset-offsets billing --topic orders --to-timestamp 2024-05-01T00:00:00Z --dry-run
  $ sluice group reset-offsets billing --topic orders --to-offset 1000

Stop the group's consumers first: Kafka accepts offsets committed from outside only while a group is empty.`,
    )
    .action((groupId: string, flags: ResetFlags) => {
      const target = resetTarget(flags);
      return withAdmin(clientOptions(flags, context.env), async (admin) => {
        const [description] = await admin.describeGroups([groupId]);
        if (
          description !== undefined &&
          (description.members.length > 0 || !NO_MEMBERS_STATES.has(description.state))
        ) {
          throw new CommandFailedError(
            `group '${groupId}' has ${plural(description.members.length, 'active member')} (state ${description.state}); ` +
              'stop its consumers before resetting its offsets (NON_EMPTY_GROUP)',
          );
        }
        const [topic] = await admin.describeTopics([flags.topic]);
        const partitions = (topic?.partitions ?? []).map((p) => ({
          topic: flags.topic,
          partition: p.partition,
        }));
        const committed = await admin.listGroupOffsets(groupId, { topics: [flags.topic] });
        const resets = await planReset(admin.cluster, partitions, committed, target);
        printOutput(io, formatResetPlan(resets));
        if (flags.dryRun) {
          printOutput(io, 'Dry run: no offsets were committed.');
          return;
        }
        await admin.resetGroupOffsets({
          groupId,
          topic: flags.topic,
          to: { offsets: resets.map((r) => ({ partition: r.partition, offset: r.newOffset })) },
        });
        printOutput(io, `Committed the new offsets of group '${groupId}' for topic '${flags.topic}'.`);
      });
    });

  addClientOptions(
    group
      .command('delete')
      .description('Delete empty groups and their committed offsets')
      .argument('<group...>', 'group ids'),
  )
    .addHelpText('after', '\nExamples:\n  $ sluice group delete billing\n  $ sluice group delete old-1 old-2')
    .action((groupIds: string[], flags: ClientFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        await admin.deleteGroups(groupIds);
        printOutput(io, groupIds.map((id) => `Deleted group '${id}'`).join('\n'));
      }),
    );
}

/** Exactly one of --to-earliest, --to-latest, --to-timestamp and --to-offset. */
export function resetTarget(flags: Omit<ResetFlags, 'topic'>): ResetTarget {
  const targets: ResetTarget[] = [];
  if (flags.toEarliest) targets.push({ kind: 'earliest' });
  if (flags.toLatest) targets.push({ kind: 'latest' });
  if (flags.toTimestamp !== undefined) targets.push({ kind: 'timestamp', timestamp: flags.toTimestamp });
  if (flags.toOffset !== undefined) targets.push({ kind: 'offset', offset: flags.toOffset });
  const [target] = targets;
  if (target === undefined || targets.length > 1) {
    throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-timestamp and --to-offset');
  }
  return target;
}

/** The new offset of each partition; --to-offset is kept within [log start, log end] as Kafka's tool does. */
async function planReset(
  cluster: Parameters<typeof lookUpOffsets>[0],
  partitions: TopicPartitionRef[],
  committed: readonly GroupOffset[],
  target: ResetTarget,
): Promise<PartitionReset[]> {
  let newOffsets: (p: TopicPartitionRef) => number;
  if (target.kind === 'offset') {
    const [starts, ends] = await Promise.all([
      lookUpOffsets(cluster, partitions, 'earliest'),
      lookUpOffsets(cluster, partitions, 'latest'),
    ]);
    newOffsets = (p) => clamp(target.offset, offsetOf(starts, p), offsetOf(ends, p));
  } else {
    const found = await lookUpOffsets(
      cluster,
      partitions,
      target.kind === 'timestamp' ? { timestamp: target.timestamp } : target.kind,
    );
    newOffsets = (p) => offsetOf(found, p);
  }
  const current = new Map(committed.map((c) => [partitionKey(c.topic, c.partition), c.offset]));
  return partitions.map((p) => ({
    ...p,
    currentOffset: current.get(partitionKey(p.topic, p.partition)) ?? null,
    newOffset: newOffsets(p),
  }));
}

export function clamp(value: number, lowest: number, highest: number): number {
  return Math.min(highest, Math.max(lowest, value));
}

export function formatResetPlan(resets: readonly PartitionReset[]): string {
  return formatTable(
    ['Topic', 'Partition', 'Current offset', 'New offset'],
    resets.map((r) => [
      r.topic,
      String(r.partition),
      r.currentOffset === null ? '-' : String(r.currentOffset),
      String(r.newOffset),
    ]),
    [1, 2, 3],
  );
}

/** Partitions with a committed offset or assigned to a member, sorted by topic and partition. */
function describedPartitions(
  description: GroupDescription,
  committed: readonly GroupOffset[],
): TopicPartitionRef[] {
  const seen = new Map<string, TopicPartitionRef>();
  for (const { topic, partition } of committed)
    seen.set(partitionKey(topic, partition), { topic, partition });
  for (const member of description.members) {
    for (const { topic, partitions } of member.assignment ?? []) {
      for (const partition of partitions) seen.set(partitionKey(topic, partition), { topic, partition });
    }
  }
  return [...seen.values()].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
}

/**
 * A group as text: a summary line, the members (if any), then one row per partition:
 * ```
 * Group: billing  State: Stable  Protocol: range  Members: 1
 * Member         Client id  Host        Assignment
 * sluice-cli-1…  sluice     /127.0.0.1  orders:0,1
 *
 * Topic   Partition  Committed offset  Log end offset  Lag  Member
 * orders          0                 3               5    2  sluice-cli-1…
 * ```
 */
export function formatGroupDescription(
  description: GroupDescription,
  committed: readonly GroupOffset[],
  partitions: readonly (TopicPartitionRef & { logEndOffset: number })[],
): string {
  const committedOffsets = new Map(committed.map((c) => [partitionKey(c.topic, c.partition), c.offset]));
  const owners = new Map<string, string>();
  for (const member of description.members) {
    for (const { topic, partitions: owned } of member.assignment ?? []) {
      for (const partition of owned) owners.set(partitionKey(topic, partition), member.memberId);
    }
  }
  const protocol = description.protocol === '' ? '-' : description.protocol;
  const lines = [
    `Group: ${description.groupId}  State: ${description.state}  Protocol: ${protocol}  Members: ${description.members.length}`,
  ];
  if (description.members.length > 0) {
    lines.push(
      formatTable(
        ['Member', 'Client id', 'Host', 'Assignment'],
        description.members.map((m) => [
          m.memberId,
          m.clientId,
          m.clientHost,
          (m.assignment ?? []).map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') || '-',
        ]),
      ),
    );
  }
  lines.push('');
  if (partitions.length === 0) {
    lines.push('No committed offsets and no assigned partitions.');
  } else {
    lines.push(
      formatTable(
        ['Topic', 'Partition', 'Committed offset', 'Log end offset', 'Lag', 'Member'],
        partitions.map((p) => {
          const key = partitionKey(p.topic, p.partition);
          const offset = committedOffsets.get(key);
          return [
            p.topic,
            String(p.partition),
            offset === undefined ? '-' : String(offset),
            String(p.logEndOffset),
            offset === undefined ? '-' : String(Math.max(0, p.logEndOffset - offset)),
            owners.get(key) ?? '-',
          ];
        }),
        [1, 2, 3, 4],
      ),
    );
  }
  return lines.join('\n');
}
