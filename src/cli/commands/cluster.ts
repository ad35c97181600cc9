// `sluice cluster`: cluster id, controller and brokers, with how many partitions each broker leads.

import type { Command } from 'commander';
import type { ClusterDescription } from '../../client/admin.js';
import type { TopicInfo } from '../../client/cluster.js';
import { addClientOptions, type ClientFlags, clientOptions, withAdmin } from '../client-options.js';
import type { CliContext } from '../context.js';
import { type CommandIo, formatTable, printOutput, processIo } from '../output.js';

export function registerClusterCommand(
  program: Command,
  context: CliContext,
  io: CommandIo = processIo(),
): void {
  addClientOptions(
    program.command('cluster').description('Show the cluster id, the controller and the brokers'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice cluster
  $ sluice cluster --bootstrap broker-1:9092,broker-2:9092
  $ SLUICE_BOOTSTRAP=broker-1:9092 sluice cluster`,
    )
    .action((flags: ClientFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const description = await admin.describeCluster();
        const metadata = await admin.cluster.retry(() => admin.cluster.refreshMetadata(null));
        printOutput(io, formatCluster(description, [...metadata.topics.values()]));
      }),
    );
}

/**
 * ```
 * Cluster id: 9zRk...
 * Controller: 0
 * Broker  Address          Rack  Partitions led
 *      0  127.0.0.1:9092   -                  7
 * ```
 */
export function formatCluster(description: ClusterDescription, topics: readonly TopicInfo[]): string {
  const led = new Map<number, number>();
  for (const topic of topics) {
    for (const partition of topic.partitions) led.set(partition.leader, (led.get(partition.leader) ?? 0) + 1);
  }
  const rows = description.brokers.map((b) => [
    String(b.nodeId),
    `${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}`,
    b.rack ?? '-',
    String(led.get(b.nodeId) ?? 0),
  ]);
  return [
    `Cluster id: ${description.clusterId ?? '(none)'}`,
    `Controller: ${description.controllerId < 0 ? '(none)' : description.controllerId}`,
    formatTable(['Broker', 'Address', 'Rack', 'Partitions led'], rows, [0, 3]),
  ].join('\n');
}
