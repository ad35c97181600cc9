import assert from 'node:assert/strict';
import { type FileHandle, open, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BASE_OFFSET_OFFSET, PARTITION_LEADER_EPOCH_OFFSET, readInt64 } from '../protocol/records/layout.js';
import { readOffsetCheckpoint } from './checkpoint.js';
import { OffsetOutOfRangeError } from './errors.js';
import {
  CLEAN_SHUTDOWN_FILE,
  createStorageResources,
  PartitionLog,
  type PartitionLogOptions,
  RECOVERY_POINT_FILE,
} from './partition-log.js';
import { captureLogger, makeBatch, splitBatches, testConfig, withTempDir } from './test-support.js';

const T0 = 1_700_000_000_000;

async function readAll(log: PartitionLog, from = log.logStartOffset) {
  const result = await log.read(from, 1 << 30);
  return splitBatches(result.chunks);
}

function diskOnly(extra: PartitionLogOptions = {}): PartitionLogOptions {
  return { tailCacheBytes: 0, resources: createStorageResources({}), ...extra };
}

describe('PartitionLog append and read', () => {
  test('assigns offsets in place and reads back the same bytes', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      const first = makeBatch({ records: 3 });
      const second = makeBatch({ records: 2, fill: 7 });
      assert.deepEqual(await log.append(first, 5), { baseOffset: 0, lastOffset: 2, logStartOffset: 0 });
      assert.deepEqual(await log.append(second, 5), { baseOffset: 3, lastOffset: 4, logStartOffset: 0 });
      assert.equal(readInt64(second, BASE_OFFSET_OFFSET), 3);
      assert.equal(second.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET), 5);
      assert.equal(log.logEndOffset, 5);
      assert.equal(log.highWatermark, 5);
      const result = await log.read(0, 1 << 20);
      assert.deepEqual(Buffer.concat(result.chunks), Buffer.concat([first, second]));
      assert.equal(result.bytes, first.length + second.length);
      await log.close();
    });
  });

  test('rolls by bytes and reads across segments from disk and cache', async () => {
    await withTempDir(async (dir) => {
      for (const options of [diskOnly(), {}]) {
        const logDir = join(dir, String(options.tailCacheBytes ?? 'cached'));
        const log = await PartitionLog.open(logDir, testConfig({ segmentBytes: 2000 }), options);
        for (let i = 0; i < 40; i++) await log.append(makeBatch({ records: 2, valueBytes: 100, fill: i }), 0);
        assert.equal(log.logEndOffset, 80);
        assert.ok(log.segmentCount >= 5, `segments: ${log.segmentCount}`);
        const batches = await readAll(log);
        assert.deepEqual(
          batches.map((b) => b.baseOffset),
          Array.from({ length: 40 }, (_, i) => i * 2),
        );
        // The segment files are named by base offset and no segment exceeds segmentBytes.
        const names = (await readdir(logDir)).filter((n) => n.endsWith('.log')).sort();
        assert.equal(names[0], '00000000000000000000.log');
        assert.equal(names.length, log.segmentCount);
        for (const name of names) assert.ok((await stat(join(logDir, name))).size <= 2000);
        await log.close();
      }
    });
  });

  test('rolls by segment.ms with an injected clock', async () => {
    await withTempDir(async (dir) => {
      let now = T0;
      const log = await PartitionLog.open(dir, testConfig({ segmentMs: 1000 }), { nowMs: () => now });
      await log.append(makeBatch({ timestampMs: now }), 0);
      now += 500;
      await log.append(makeBatch({ timestampMs: now }), 0);
      assert.equal(log.segmentCount, 1);
      now += 600;
      await log.append(makeBatch({ timestampMs: now }), 0);
      assert.deepEqual(log.segmentBaseOffsets, [0, 2]);
      now += 1001;
      assert.equal(log.rollIfExpired(now), true);
      await log.flush();
      assert.deepEqual(log.segmentBaseOffsets, [0, 2, 3]);
      assert.equal((await readAll(log)).length, 3);
      await log.close();
    });
  });

  test('a fetch offset inside a batch returns that whole batch first', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), diskOnly());
      for (let i = 0; i < 4; i++) await log.append(makeBatch({ records: 5 }), 0);
      const batches = await readAll(log, 7);
      assert.deepEqual(
        batches.map((b) => [b.baseOffset, b.lastOffset]),
        [
          [5, 9],
          [10, 14],
          [15, 19],
        ],
      );
      assert.deepEqual((await log.read(20, 1000)).chunks, []);
      await assert.rejects(log.read(21, 1000), OffsetOutOfRangeError);
      await log.close();
    });
  });

  test('maxBytes returns whole batches only; minOneBatch returns an oversized first batch', async () => {
    await withTempDir(async (dir) => {
      for (const options of [diskOnly(), {}]) {
        const log = await PartitionLog.open(join(dir, String(options.tailCacheBytes)), testConfig(), options);
        const size = makeBatch({ valueBytes: 200 }).length;
        for (let i = 0; i < 5; i++) await log.append(makeBatch({ valueBytes: 200 }), 0);
        const two = await log.read(0, size * 2 + size - 1);
        assert.equal(two.bytes, size * 2);
        assert.equal(splitBatches(two.chunks).length, 2);
        assert.equal((await log.read(1, size - 1)).bytes, 0);
        const one = await log.read(1, 10, { minOneBatch: true });
        assert.deepEqual(
          splitBatches(one.chunks).map((b) => b.baseOffset),
          [1],
        );
        const bounded = await log.read(0, 1 << 20, { maxOffset: 3 });
        assert.deepEqual(
          splitBatches(bounded.chunks).map((b) => b.baseOffset),
          [0, 1, 2],
        );
        await log.close();
      }
    });
  });

  test('reads after reopen go through the offset index for every offset', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ indexIntervalBytes: 100, segmentBytes: 5000 });
      const log = await PartitionLog.open(dir, config);
      for (let i = 0; i < 60; i++) await log.append(makeBatch({ records: 1 + (i % 3), fill: i }), 0);
      const end = log.logEndOffset;
      await log.close();
      const reopened = await PartitionLog.open(dir, config, diskOnly());
      assert.equal(reopened.logEndOffset, end);
      for (let offset = 0; offset < end; offset++) {
        const [first] = splitBatches((await reopened.read(offset, 1, { minOneBatch: true })).chunks);
        assert.ok(first && first.baseOffset <= offset && offset <= first.lastOffset, `offset ${offset}`);
      }
      await reopened.close();
    });
  });

  test('readableBytesBound is at least what a read returns, within its limit, and tight in the active segment', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ indexIntervalBytes: 300, segmentBytes: 3000 });
      const log = await PartitionLog.open(dir, config);
      for (let i = 0; i < 50; i++) await log.append(makeBatch({ records: 2, valueBytes: 100, fill: i }), 0);
      const end = log.logEndOffset;
      await log.close();
      const batchBytes = makeBatch({ records: 2, valueBytes: 100 }).length;
      // Reopened, the rolled segments' indexes are not loaded yet: their bound counts whole segments.
      const reopened = await PartitionLog.open(dir, config, diskOnly());
      for (let offset = 0; offset < end; offset++) {
        const readable = (await reopened.read(offset, 1 << 30)).bytes;
        const bound = reopened.readableBytesBound(offset, 1 << 30);
        assert.ok(bound >= readable, `offset ${offset}: bound ${bound} < ${readable} read`);
        assert.equal(reopened.readableBytesBound(offset, 100), 100);
        if (offset >= (reopened.segmentBaseOffsets.at(-1) as number)) {
          assert.ok(
            bound <= readable + config.indexIntervalBytes + batchBytes,
            `offset ${offset}: bound ${bound}`,
          );
        }
      }
      assert.equal(reopened.readableBytesBound(end, 1 << 30), 0);
      await reopened.close();
    });
  });

  test('offsetForTimestamp and maxTimestampOffset use batch max timestamps', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ indexIntervalBytes: 50, segmentBytes: 1500 });
      const log = await PartitionLog.open(dir, config);
      // Batch i has records at T0 + 100 i .. T0 + 100 i + 2, offsets 3i .. 3i + 2.
      for (let i = 0; i < 30; i++) await log.append(makeBatch({ records: 3, timestampMs: T0 + 100 * i }), 0);
      await log.close();
      const reopened = await PartitionLog.open(dir, config, diskOnly());
      assert.ok(reopened.segmentCount > 2);
      assert.deepEqual(await reopened.offsetForTimestamp(0), { offset: 0, timestamp: T0 + 2 });
      assert.deepEqual(await reopened.offsetForTimestamp(T0 + 1001), { offset: 30, timestamp: T0 + 1002 });
      assert.deepEqual(await reopened.offsetForTimestamp(T0 + 1003), { offset: 33, timestamp: T0 + 1102 });
      assert.deepEqual(await reopened.offsetForTimestamp(T0 + 2902), { offset: 87, timestamp: T0 + 2902 });
      assert.equal(await reopened.offsetForTimestamp(T0 + 2903), null);
      assert.deepEqual(await reopened.maxTimestampOffset(), { offset: 89, timestamp: T0 + 2902 });
      await reopened.close();
    });
  });

  test('concurrent appends get unique increasing offsets and group commit coalesces writes and fsyncs', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig({ flushMessages: 1, segmentBytes: 64 * 1024 }));
      const producers = 20;
      const perProducer = 25;
      const results = await Promise.all(
        Array.from({ length: producers }, async (_, p) => {
          const mine = [];
          for (let i = 0; i < perProducer; i++) {
            mine.push(await log.append(makeBatch({ records: 2, fill: p, valueBytes: 50 }), 0));
          }
          return mine;
        }),
      );
      const bases = results.flat().map((r) => r.baseOffset);
      assert.equal(new Set(bases).size, producers * perProducer);
      for (const mine of results) {
        for (let i = 1; i < mine.length; i++)
          assert.ok((mine[i]?.baseOffset ?? 0) > (mine[i - 1]?.baseOffset ?? 0));
      }
      assert.equal(log.logEndOffset, producers * perProducer * 2);
      assert.equal((await readAll(log)).length, producers * perProducer);
      assert.equal(log.stats.appends, 500);
      assert.ok(log.stats.writevCalls < 100, `writev calls: ${log.stats.writevCalls}`);
      assert.ok(log.stats.fsyncCalls < 100, `fsync calls: ${log.stats.fsyncCalls}`);
      assert.ok(log.stats.fsyncCalls >= log.stats.writevCalls, 'flushMessages=1 syncs every write');
      await log.close();
    });
  });

  test('flushMessages never: appends are written without fsync', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      await Promise.all(Array.from({ length: 50 }, () => log.append(makeBatch({}), 0)));
      assert.equal(log.stats.fsyncCalls, 0);
      assert.ok(log.stats.writevCalls <= 2, `writev calls: ${log.stats.writevCalls}`);
      await log.flush();
      assert.equal(log.stats.fsyncCalls, 1);
      await log.close();
    });
  });

  test('a roll is made durable behind the appends; flush, retention and the recovery point wait for it', async () => {
    await withTempDir(async (dir) => {
      // The fsyncs of the rolled segments wait at a gate, as those of segments full of dirty pages would.
      const probe = await open(join(dir, 'probe'), 'w');
      const prototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
      await probe.close();
      const datasync = prototype.datasync;
      let openGate = () => {};
      const gate = new Promise<void>((resolve) => {
        openGate = resolve;
      });
      const rolledSegment = /\/0000000000000000000[02]\.log$/;
      prototype.datasync = async function (this: FileHandle) {
        if (rolledSegment.test(await readlink(`/proc/self/fd/${this.fd}`))) await gate;
        return datasync.call(this);
      };
      const logDir = join(dir, 'log');
      const recoveryPoint = async () => (await readOffsetCheckpoint(join(logDir, RECOVERY_POINT_FILE))) ?? 0;
      const log = await PartitionLog.open(logDir, testConfig({ segmentBytes: 600, retentionMs: 1000 }));
      try {
        for (let i = 0; i < 6; i++) await log.append(makeBatch({ valueBytes: 200, timestampMs: T0 }), 0);
        assert.deepEqual(log.segmentBaseOffsets, [0, 2, 4]);
        let flushed = false;
        const flush = log.flush().then(() => {
          flushed = true;
        });
        const retention = log.enforceRetention(T0 + 2000);
        // Appends go on meanwhile.
        await log.append(makeBatch({ valueBytes: 10, timestampMs: T0 + 2000 }), 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(flushed, false, 'flush waits for the rolled segments');
        assert.equal(await recoveryPoint(), 0);
        openGate();
        await flush;
        assert.equal(await recoveryPoint(), 7);
        // Retention counted the rolled segments once they were sealed, and deleted those past retention.ms.
        assert.ok((await retention) >= 2);
        assert.ok((log.segmentBaseOffsets[0] ?? 0) >= 4, `segments: ${log.segmentBaseOffsets}`);
      } finally {
        prototype.datasync = datasync;
        openGate();
        await log.close();
      }
    });
  });

  test('onAppend fires after data is readable', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      const seen: number[] = [];
      const readable: number[] = [];
      const stop = log.onAppend((end) => {
        seen.push(end);
        void log.read(end - 1, 1000).then((r) => readable.push(splitBatches(r.chunks).length));
      });
      await log.append(makeBatch({ records: 2 }), 0);
      stop();
      await log.append(makeBatch({}), 0);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(seen, [2]);
      assert.deepEqual(readable, [1]);
      await log.close();
    });
  });
});

describe('PartitionLog retention, truncation and epochs', () => {
  test('retention by time deletes old sealed segments and persists the log start offset', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ segmentBytes: 600, retentionMs: 10_000 });
      const log = await PartitionLog.open(dir, config);
      for (let i = 0; i < 10; i++)
        await log.append(makeBatch({ valueBytes: 200, timestampMs: T0 + i * 1000 }), 0);
      const segmentsBefore = log.segmentCount;
      assert.equal(segmentsBefore, 5);
      // Segments hold [0,1] [2,3] [4,5] [6,7] [8,9]; at T0 + 13_500 the first two are older than 10 s.
      assert.equal(await log.enforceRetention(T0 + 13_500), 2);
      assert.equal(log.logStartOffset, 4);
      await assert.rejects(log.read(3, 1000), OffsetOutOfRangeError);
      assert.equal(splitBatches((await log.read(4, 1 << 20)).chunks).length, 6);
      // Everything older, the active segment included (as in Kafka): a new empty segment takes its place.
      assert.equal(await log.enforceRetention(T0 + 1e9), 3);
      assert.deepEqual(log.segmentBaseOffsets, [10]);
      assert.deepEqual([log.logStartOffset, log.logEndOffset], [10, 10]);
      assert.equal(await log.enforceRetention(T0 + 1e9), 0);
      assert.equal(
        (await log.append(makeBatch({ valueBytes: 200, timestampMs: T0 + 1e9 }), 0)).baseOffset,
        10,
      );
      await log.close();
      const reopened = await PartitionLog.open(dir, config);
      assert.deepEqual([reopened.logStartOffset, reopened.logEndOffset], [10, 11]);
      assert.equal(splitBatches((await reopened.read(10, 1 << 20)).chunks).length, 1);
      await reopened.close();
    });
  });

  test('retention.bytes 0 empties the log, the active segment included', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig({ segmentBytes: 600, retentionBytes: 0 }));
      for (let i = 0; i < 3; i++) await log.append(makeBatch({ valueBytes: 200 }), 0);
      assert.equal(await log.enforceRetention(T0), 2);
      assert.deepEqual([log.segmentBaseOffsets, log.logStartOffset, log.logEndOffset], [[3], 3, 3]);
      await log.close();
    });
  });

  test('retention by size keeps at most retention.bytes', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ segmentBytes: 600, retentionBytes: 1000 });
      const log = await PartitionLog.open(dir, config);
      for (let i = 0; i < 10; i++) await log.append(makeBatch({ valueBytes: 200 }), 0);
      const segmentBytes = log.sizeBytes / 5;
      assert.equal(await log.enforceRetention(T0), 3);
      assert.equal(log.sizeBytes, 2 * segmentBytes);
      assert.equal(log.logStartOffset, 6);
      await log.close();
      const reopened = await PartitionLog.open(dir, config);
      assert.equal(reopened.logStartOffset, 6);
      await reopened.close();
    });
  });

  test('compact-only policy does not delete by time or size', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(
        dir,
        testConfig({ segmentBytes: 600, retentionBytes: 0, retentionMs: 0, cleanupPolicy: 'compact' }),
      );
      for (let i = 0; i < 6; i++) await log.append(makeBatch({ valueBytes: 200 }), 0);
      assert.equal(await log.enforceRetention(T0 * 2), 0);
      await log.close();
    });
  });

  test('deleteRecordsBefore moves the log start offset and deletes whole segments below it', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig({ segmentBytes: 600 }));
      for (let i = 0; i < 10; i++) await log.append(makeBatch({ valueBytes: 200 }), 0);
      assert.equal(await log.deleteRecordsBefore(5), 5);
      assert.equal(log.logStartOffset, 5);
      assert.deepEqual(log.segmentBaseOffsets, [4, 6, 8]);
      await assert.rejects(log.read(4, 1000), OffsetOutOfRangeError);
      // The batch holding the start offset is served whole.
      assert.equal(splitBatches((await log.read(5, 1 << 20)).chunks)[0]?.baseOffset, 5);
      assert.equal(await log.deleteRecordsBefore(3), 5);
      await assert.rejects(log.deleteRecordsBefore(11), OffsetOutOfRangeError);
      await log.close();
    });
  });

  test('truncateTo drops whole batches at and after the offset, across segments', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ segmentBytes: 800 });
      const log = await PartitionLog.open(dir, config, diskOnly());
      for (let i = 0; i < 10; i++)
        await log.append(makeBatch({ records: 2, valueBytes: 100 }), i < 5 ? 1 : 2);
      assert.equal(log.leaderEpochStartOffset(1).endOffset, 10);
      await log.truncateTo(7); // inside batch [6,7]
      assert.equal(log.logEndOffset, 6);
      assert.equal(log.highWatermark, 6);
      assert.equal(log.latestLeaderEpoch, 1);
      assert.deepEqual(log.leaderEpochStartOffset(1), { epoch: 1, endOffset: 6 });
      assert.deepEqual(
        (await readAll(log)).map((b) => b.baseOffset),
        [0, 2, 4],
      );
      const appended = await log.append(makeBatch({ records: 2 }), 3);
      assert.equal(appended.baseOffset, 6);
      await log.truncateTo(0);
      assert.equal(log.logEndOffset, 0);
      assert.deepEqual(log.segmentBaseOffsets, [0]);
      await log.append(makeBatch({}), 4);
      await log.close();
      const reopened = await PartitionLog.open(dir, config);
      assert.equal(reopened.logEndOffset, 1);
      assert.deepEqual(reopened.leaderEpochStartOffset(4), { epoch: 4, endOffset: 1 });
      await reopened.close();
    });
  });

  test('leader epoch cache answers OffsetForLeaderEpoch and survives reopen', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      await log.append(makeBatch({ records: 3 }), 2);
      await log.append(makeBatch({ records: 3 }), 2);
      await log.append(makeBatch({ records: 4 }), 5);
      await assert.rejects(log.append(makeBatch({}), 4), { errorCode: 74 });
      assert.deepEqual(log.leaderEpochStartOffset(5), { epoch: 5, endOffset: 10 });
      assert.deepEqual(log.leaderEpochStartOffset(3), { epoch: 2, endOffset: 6 });
      assert.deepEqual(log.leaderEpochStartOffset(1), { epoch: 1, endOffset: 0 });
      assert.deepEqual(log.leaderEpochStartOffset(6), { epoch: -1, endOffset: -1 });
      await log.close();
      const reopened = await PartitionLog.open(dir, testConfig());
      assert.deepEqual(reopened.leaderEpochStartOffset(2), { epoch: 2, endOffset: 6 });
      await reopened.close();
    });
  });

  test('reopen keeps the clean-shutdown marker until the first change, which removes it first', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      await log.append(makeBatch({}), 0);
      await log.close();
      assert.ok((await readdir(dir)).includes(CLEAN_SHUTDOWN_FILE));
      const reopened = await PartitionLog.open(dir, testConfig());
      await assert.rejects(
        reopened.read(0, 10).then(() => reopened.append(Buffer.alloc(5), 0)),
        { errorCode: 2 },
      );
      assert.ok((await readdir(dir)).includes(CLEAN_SHUTDOWN_FILE), 'a refused append changes nothing');
      await reopened.append(makeBatch({ records: 2 }), 0);
      assert.ok(!(await readdir(dir)).includes(CLEAN_SHUTDOWN_FILE));
      await reopened.detach(); // a crash: the next open must recover
      const { logger, lines } = captureLogger();
      const recovered = await PartitionLog.open(dir, testConfig(), { logger });
      assert.equal(recovered.logEndOffset, 3);
      assert.deepEqual(lines, []);
      await recovered.close();
      assert.ok((await readdir(dir)).includes(CLEAN_SHUTDOWN_FILE));
    });
  });

  test('an unclean open rescans every segment after the recovery point and rebuilds epochs', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ segmentBytes: 600 });
      const log = await PartitionLog.open(dir, config);
      for (let i = 0; i < 8; i++) await log.append(makeBatch({ valueBytes: 200 }), i < 4 ? 0 : 3);
      await log.detach(); // no clean-shutdown marker
      const { rm } = await import('node:fs/promises');
      await rm(join(dir, 'recovery-point-checkpoint'));
      await rm(join(dir, 'leader-epoch-checkpoint'));
      const { logger, lines } = captureLogger();
      const reopened = await PartitionLog.open(dir, config, { logger });
      assert.equal(reopened.logEndOffset, 8);
      assert.deepEqual(lines, []);
      assert.deepEqual(reopened.leaderEpochStartOffset(0), { epoch: 0, endOffset: 4 });
      assert.equal((await readAll(reopened)).length, 8);
      await reopened.close();
    });
  });
});

/** Every file in `dir` with its inode, size and modification time: a rewrite changes one of them. */
async function fileVersions(dir: string): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    const stats = await stat(join(dir, name), { bigint: true });
    versions.set(name, `${stats.ino}:${stats.size}:${stats.mtimeNs}`);
  }
  return versions;
}

describe('PartitionLog open and close of unchanged logs', () => {
  const config = testConfig({ segmentBytes: 600 });

  async function writeSomeAndClose(dir: string): Promise<void> {
    const log = await PartitionLog.open(dir, config);
    for (let i = 0; i < 8; i++) await log.append(makeBatch({ valueBytes: 200, timestampMs: T0 + i }), 1);
    await log.deleteRecordsBefore(3);
    await log.close();
  }

  test('a log nothing changed in since a clean open is opened and closed without writing a file', async () => {
    await withTempDir(async (dir) => {
      await writeSomeAndClose(dir);
      const before = await fileVersions(dir);
      assert.ok(before.has(CLEAN_SHUTDOWN_FILE));
      const log = await PartitionLog.open(dir, config);
      assert.equal(log.logStartOffset, 3);
      assert.equal(log.logEndOffset, 8);
      assert.deepEqual(
        (await readAll(log)).map((b) => b.baseOffset),
        [3, 4, 5, 6, 7],
      );
      assert.deepEqual(await log.offsetForTimestamp(T0 + 5), { offset: 5, timestamp: T0 + 5 });
      await log.flush();
      await log.close();
      assert.deepEqual(await fileVersions(dir), before);
    });
  });

  test('a never-written log leaves only its empty segment, with nothing to write at close or reopen', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, config);
      await log.close();
      const before = await fileVersions(dir);
      assert.deepEqual([...before.keys()], ['00000000000000000000.log']);
      const reopened = await PartitionLog.open(dir, config);
      assert.equal(reopened.logEndOffset, 0);
      await reopened.close();
      assert.deepEqual(await fileVersions(dir), before);
      const written = await PartitionLog.open(dir, config);
      await written.append(makeBatch({ records: 2 }), 0);
      await written.close();
      const last = await PartitionLog.open(dir, config);
      assert.equal(last.logEndOffset, 2);
      assert.equal(last.latestLeaderEpoch, 0);
      await last.close();
    });
  });

  test('DeleteRecords, retention and truncation after a clean open remove the marker before changing', async () => {
    const changes: [string, (log: PartitionLog) => Promise<unknown>, number, number][] = [
      ['deleteRecordsBefore', (log) => log.deleteRecordsBefore(5), 5, 8],
      ['enforceRetention', (log) => log.enforceRetention(T0 + 1_000_000), 8, 8],
      ['truncateTo', (log) => log.truncateTo(4), 3, 4],
    ];
    for (const [name, change, startOffset, endOffset] of changes) {
      await withTempDir(async (dir) => {
        const retained = testConfig({ segmentBytes: 600, retentionMs: 1000 });
        await writeSomeAndClose(dir);
        const log = await PartitionLog.open(dir, retained);
        await change(log);
        assert.ok(!(await readdir(dir)).includes(CLEAN_SHUTDOWN_FILE), name);
        await log.detach(); // a crash right after the change
        const recovered = await PartitionLog.open(dir, retained);
        assert.deepEqual([recovered.logStartOffset, recovered.logEndOffset], [startOffset, endOffset], name);
        await recovered.close();
      });
    }
  });

  test('a torn tail found by a clean open is cut and the marker removed before the cut', async () => {
    await withTempDir(async (dir) => {
      await writeSomeAndClose(dir);
      const active = (await readdir(dir))
        .filter((name) => name.endsWith('.log'))
        .sort()
        .at(-1) as string;
      const { size } = await stat(join(dir, active));
      const { appendFile } = await import('node:fs/promises');
      await appendFile(join(dir, active), Buffer.alloc(30, 0xab));
      const { logger, lines } = captureLogger();
      const log = await PartitionLog.open(dir, config, { logger });
      assert.equal(log.logEndOffset, 8);
      assert.equal((await stat(join(dir, active))).size, size);
      assert.deepEqual(
        lines.map((line) => line.message),
        ['log recovery truncated an invalid tail'],
      );
      assert.ok(!(await readdir(dir)).includes(CLEAN_SHUTDOWN_FILE));
      await log.close();
      assert.ok((await readdir(dir)).includes(CLEAN_SHUTDOWN_FILE));
    });
  });

  test('an unclean open of a flushed log rewrites no checkpoint; its close writes the marker and a producer snapshot', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, config);
      for (let i = 0; i < 8; i++) await log.append(makeBatch({ valueBytes: 200 }), 1);
      await log.flush();
      await log.detach(); // a crash after the flush
      const before = await fileVersions(dir);
      const reopened = await PartitionLog.open(dir, config);
      assert.equal(reopened.logEndOffset, 8);
      const after = await fileVersions(dir);
      for (const name of ['recovery-point-checkpoint', 'leader-epoch-checkpoint']) {
        assert.equal(after.get(name), before.get(name), name);
      }
      await reopened.close();
      const closed = await fileVersions(dir);
      const rewritten = [...closed.keys()].filter((name) => closed.get(name) !== after.get(name));
      // The open replayed the batches after the last roll's snapshot; the snapshot at the end spares the next.
      assert.deepEqual(rewritten.sort(), ['00000000000000000008.snapshot', CLEAN_SHUTDOWN_FILE]);
    });
  });
});
