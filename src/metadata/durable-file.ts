// Crash-safe file replacement: a reader sees either the old content or the new, never a mix, and once the
// promise resolves the new content survives power loss.

import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

let tempCounter = 0;

/** Suffix of temporary files; a crash can leave them behind and the owner removes them on open. */
export const TEMP_MARKER = '.tmp-';

export async function writeFileDurably(dir: string, name: string, data: Buffer | string): Promise<void> {
  const tempPath = join(dir, `${name}${TEMP_MARKER}${process.pid}-${++tempCounter}`);
  try {
    const handle = await open(tempPath, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, join(dir, name));
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** fsync a directory so that a rename or create inside it is durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
