// How many partitions this broker can host. Each partition keeps its active segment open, so partitions use
// up the process's open-file limit; past it the broker can no longer accept connections or open logs, and a
// restart fails on the same logs. One CreateTopics of 200,000 partitions did exactly that: the data
// directory no longer started. So creations that would cross the limit are refused with a readable error,
// keeping a share of the descriptors for connections, segment reads and the broker's own files.
import { readFile } from 'node:fs/promises';

/**
 * Kafka's controller refuses a request that would create more partitions than this at once
 * (POLICY_VIOLATION, "Excessively large number of partitions per request.", KAFKA-17870).
 */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;

/** Descriptors kept for everything but partitions: a quarter of the limit, and never fewer than this. */
const MIN_RESERVED_FILES = 256;

/** The soft open-file limit of this process, or Infinity when it is unlimited or cannot be read. */
export async function readOpenFileLimit(limitsPath = '/proc/self/limits'): Promise<number> {
  let text: string;
  try {
    text = await readFile(limitsPath, 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
  return parseOpenFileLimit(text);
}

/** The soft "Max open files" limit from the text of /proc/<pid>/limits (Infinity if absent or unlimited). */
export function parseOpenFileLimit(limitsText: string): number {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limitsText);
  if (match === null || match[1] === 'unlimited') return Number.POSITIVE_INFINITY;
  return Number(match[1]);
}

/** Partitions a broker with this open-file limit can host, one descriptor each, after the reserve. */
export function partitionCapacity(openFileLimit: number): number {
  if (!Number.isFinite(openFileLimit)) return Number.POSITIVE_INFINITY;
  const reserved = Math.max(MIN_RESERVED_FILES, Math.ceil(openFileLimit / 4));
  return Math.max(0, openFileLimit - reserved);
}
