// Bounded concurrency for batches of small asynchronous jobs (opening thousands of logs, for example).

/**
 * Runs `job` for every item, at most `limit` at a time, starting them in order; rejects with the first
 * failure (jobs already started run on).
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  job: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await job(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}
