// Which partitions of a topic a command works on, from its --partition flags.
import { plural } from './output.js';

/**
 * The partitions named (once each), or all the topic has when none are; in order. A named partition the
 * topic lacks fails with `fail(message)`: the command decides whether that is a usage mistake.
 */
export function choosePartitions(
  topic: string,
  existing: readonly number[],
  named: readonly number[] | undefined,
  fail: new (message: string) => Error,
): number[] {
  for (const partition of named ?? []) {
    if (!existing.includes(partition)) {
      throw new fail(
        `topic '${topic}' has no partition ${partition} (it has ${plural(existing.length, 'partition')})`,
      );
    }
  }
  return [...new Set(named ?? existing)].sort((a, b) => a - b);
}
