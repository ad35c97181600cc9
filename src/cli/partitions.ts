// Which partitions of a topic a command works on, from its --partition flags.
import { CommandFailedError } from './errors.js';
import { plural } from './output.js';

/**
 * The partitions named (once each), or all the topic has when none are; in order. A named partition the
 * topic lacks is what the broker says, not a usage mistake: the command fails (exit status 1).
 */
export function choosePartitions(
  topic: string,
  existing: readonly number[],
  named: readonly number[] | undefined,
): number[] {
  for (const partition of named ?? []) {
    if (!existing.includes(partition)) {
      throw new CommandFailedError(
        `topic '${topic}' has no partition ${partition} (it has ${plural(existing.length, 'partition')})`,
      );
    }
  }
  return [...new Set(named ?? existing)].sort((a, b) => a - b);
}
