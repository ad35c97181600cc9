// Group-less reading through kcat (librdkafka's simple consumer): lets durability tests read a whole topic
// without depending on the group coordinator. Only for values without '|' or newlines.
import { runProgramOk } from './process.js';

export interface KcatRecord {
  partition: number;
  offset: string;
  value: string | null;
}

/** Every record of `topic` from the beginning to the end of each partition, sorted by partition then offset. */
export async function kcatReadAll(
  bootstrap: string,
  topic: string,
  timeoutMs = 20_000,
): Promise<KcatRecord[]> {
  const { stdout } = await runProgramOk(
    'kcat',
    ['-b', bootstrap, '-m', '10', '-C', '-t', topic, '-o', 'beginning', '-e', '-Z', '-f', '%p|%o|%S|%s\\n'],
    { timeoutMs },
  );
  const records = stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [partition, offset, size, ...rest] = line.split('|');
      return {
        partition: Number(partition),
        offset: offset ?? '',
        value: size === '-1' ? null : rest.join('|'),
      };
    });
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}
