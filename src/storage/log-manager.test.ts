import assert from 'node:assert/strict';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readOffsetCheckpoint } from './checkpoint.js';
import { LogManager, parsePartitionDirName } from './log-manager.js';
import { RECOVERY_POINT_FILE } from './partition-log.js';
import { makeBatch, splitBatches, testConfig, waitUntil, withTempDir } from './test-support.js';

describe('LogManager', () => {
  test('parses partition directories from the last dash', () => {
    assert.deepEqual(parsePartitionDirName('my-topic.v2-12'), { topic: 'my-topic.v2', partition: 12 });
    assert.deepEqual(parsePartitionDirName('a-0'), { topic: 'a', partition: 0 });
    assert.equal(parsePartitionDirName('nodash'), null);
    assert.equal(parsePartitionDirName('topic-x'), null);
    assert.equal(parsePartitionDirName('-3'), null);
    assert.equal(parsePartitionDirName('t-1.abcd.deleted'), null);
  });

  test('reopens every log, including topics with dashes and dots', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig();
      const manager = await LogManager.open(dir, config);
      const names: [string, number][] = [
        ['orders', 0],
        ['orders', 1],
        ['my-topic', 3],
        ['a.b-c.d', 0],
      ];
      for (const [i, [topic, partition]] of names.entries()) {
        const log = await manager.getOrCreate(topic, partition, config);
        for (let n = 0; n <= i; n++) await log.append(makeBatch({ fill: n }), 0);
      }
      assert.equal(await manager.getOrCreate('orders', 0, config), manager.get('orders', 0));
      await mkdir(join(dir, 'not-a-partition'));
      await manager.close();

      const reopened = await LogManager.open(dir, config);
      const found = [...reopened.all()].map(([topic, partition, log]) => [
        topic,
        partition,
        log.logEndOffset,
      ]);
      found.sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]));
      assert.deepEqual(found, [
        ['a.b-c.d', 0, 4],
        ['my-topic', 3, 3],
        ['orders', 0, 1],
        ['orders', 1, 2],
      ]);
      const log = reopened.get('my-topic', 3);
      assert.equal(splitBatches((await log?.read(0, 1 << 20))?.chunks ?? []).length, 3);
      await reopened.close();
    });
  });

  test('a restart of many partitions, of which one changed, rewrites files of that one only', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig();
      const manager = await LogManager.open(dir, config);
      for (let partition = 0; partition < 40; partition++) {
        const log = await manager.getOrCreate('wide', partition, config);
        if (partition % 10 === 0) await log.append(makeBatch({ fill: partition }), 0);
      }
      await manager.close();
      const before = await fileVersions(dir);
      const reopened = await LogManager.open(dir, config, { openConcurrency: 8 });
      await reopened.get('wide', 7)?.append(makeBatch({}), 0);
      await reopened.close();
      const after = await fileVersions(dir);
      const changedDirs = new Set(
        [...new Set([...before.keys(), ...after.keys()])]
          .filter((path) => before.get(path) !== after.get(path))
          .map((path) => path.split('/')[0]),
      );
      assert.deepEqual([...changedDirs], ['wide-7']);
      const last = await LogManager.open(dir, config);
      assert.deepEqual(
        [0, 7, 10, 11].map((partition) => last.get('wide', partition)?.logEndOffset),
        [1, 1, 1, 0],
      );
      await last.close();
    });
  });

  test('deletePartition renames the directory and removes it', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig();
      const manager = await LogManager.open(dir, config);
      const log = await manager.getOrCreate('gone-topic', 0, config);
      await log.append(makeBatch({}), 0);
      await manager.getOrCreate('kept', 0, config);
      await manager.deletePartition('gone-topic', 0);
      assert.equal(manager.get('gone-topic', 0), undefined);
      await manager.close();
      assert.deepEqual(await readdir(dir), ['kept-0']);
    });
  });

  test('recovery points move with the periodic checkpoint pass, not at every roll', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ segmentBytes: 600 });
      const manager = await LogManager.open(dir, config);
      const log = await manager.getOrCreate('t', 0, config);
      const recoveryPoint = async () =>
        (await readOffsetCheckpoint(join(dir, 't-0', RECOVERY_POINT_FILE))) ?? 0;
      for (let i = 0; i < 6; i++) await log.append(makeBatch({ valueBytes: 200 }), 0);
      await waitUntil(() => log.stats.rollsPersisted === 2, 'the rolls to be made durable');
      assert.deepEqual(log.segmentBaseOffsets, [0, 2, 4]);
      assert.equal(await recoveryPoint(), 0);
      await manager.runRecoveryPointCheckpoints();
      // Up to the end of the last rolled segment: the active one was never fsynced.
      assert.equal(await recoveryPoint(), 4);
      await manager.close();
      assert.equal(await recoveryPoint(), 6);
    });
  });

  test('background passes run retention, time flushes and segment.ms rolls', async () => {
    await withTempDir(async (dir) => {
      let now = 1_700_000_000_000;
      const config = testConfig({ segmentBytes: 600, retentionMs: 1000, flushMs: 100, segmentMs: 5000 });
      const manager = await LogManager.open(dir, config, { nowMs: () => now });
      const log = await manager.getOrCreate('t', 0, config);
      for (let i = 0; i < 6; i++) await log.append(makeBatch({ valueBytes: 200, timestampMs: now }), 0);
      // Sealing the two rolled segments, behind the appends.
      await waitUntil(() => log.stats.fsyncCalls === 2, 'the rolled segments to be fsynced');
      now += 150;
      await manager.runFlushAndRoll();
      assert.equal(log.stats.fsyncCalls, 3);
      now += 2000;
      // All three segments are past retention.ms, the active one included: a new one takes its place.
      assert.equal(await manager.runRetention(), 3);
      assert.deepEqual([log.logStartOffset, log.segmentBaseOffsets], [6, [6]]);
      await log.append(makeBatch({ valueBytes: 200, timestampMs: now }), 0);
      now += 5001;
      await manager.runFlushAndRoll();
      await log.flush();
      assert.deepEqual(log.segmentBaseOffsets, [6, 7]);
      manager.startBackgroundTasks();
      await manager.close();
    });
  });
});

/** Every file under `dir` (one level of directories) with its inode, size and modification time. */
async function fileVersions(dir: string): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  for (const sub of await readdir(dir)) {
    for (const name of await readdir(join(dir, sub))) {
      const stats = await stat(join(dir, sub, name), { bigint: true });
      versions.set(`${sub}/${name}`, `${stats.ino}:${stats.size}:${stats.mtimeNs}`);
    }
  }
  return versions;
}
