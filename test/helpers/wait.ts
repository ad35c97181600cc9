// Polling for a condition in tests, bounded in time.
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves once `condition` holds; after `timeoutMs` fails with what `describeState` says. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describeState: () => string | Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describeState()}`);
    await sleep(25);
  }
}
