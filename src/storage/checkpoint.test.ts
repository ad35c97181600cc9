import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LeaderEpochCache } from './checkpoint.js';
import { withTempDir } from './test-support.js';

async function inode(path: string): Promise<bigint> {
  return (await stat(path, { bigint: true })).ino;
}

describe('LeaderEpochCache.persist', () => {
  test('writes only when the entries differ from what the file holds', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'leader-epoch-checkpoint');
      const cache = new LeaderEpochCache(path);
      cache.assign(1, 0);
      await cache.persist();
      const written = await inode(path);
      await cache.persist();
      assert.equal(await inode(path), written);

      const loaded = await LeaderEpochCache.load(path);
      await loaded.persist();
      assert.equal(await inode(path), written, 'a loaded file is not rewritten');
      loaded.assign(3, 10);
      await loaded.persist();
      assert.notEqual(await inode(path), written);
      assert.equal(await readFile(path, 'utf8'), '0\n2\n1 0\n3 10\n');
    });
  });

  test('a partly unreadable file keeps the entries that parse; a missing file is written on persist', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'leader-epoch-checkpoint');
      await writeFile(path, '0\n2\n1 0\nnonsense\n');
      const loaded = await LeaderEpochCache.load(path);
      assert.deepEqual(loaded.all, [{ epoch: 1, startOffset: 0 }]);
      const missing = await LeaderEpochCache.load(join(dir, 'absent'));
      await missing.persist();
      assert.equal(await readFile(join(dir, 'absent'), 'utf8'), '0\n0\n', 'a missing file is written');
    });
  });

  test('overlapping persists write one at a time and leave the latest entries', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'leader-epoch-checkpoint');
      const cache = new LeaderEpochCache(path);
      const writes: Promise<void>[] = [];
      for (let epoch = 0; epoch < 20; epoch++) {
        cache.assign(epoch, epoch * 5);
        writes.push(cache.persist());
      }
      await Promise.all(writes);
      const reloaded = await LeaderEpochCache.load(path);
      assert.deepEqual(reloaded.latestEpoch, 19);
      assert.equal(reloaded.all.length, 20);
    });
  });
});
