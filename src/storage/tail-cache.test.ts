import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BufferPool } from '../common/buffer-pool.js';
import { BASE_OFFSET_OFFSET, writeInt64 } from '../protocol/records/layout.js';
import { releaseRead, TailCache, TailCacheBudget } from './tail-cache.js';
import { makeBatch, splitBatches } from './test-support.js';

function batchAt(offset: number, valueBytes = 100): Buffer {
  const batch = makeBatch({ valueBytes });
  writeInt64(batch, BASE_OFFSET_OFFSET, offset);
  return batch;
}

describe('TailCache', () => {
  test('serves the batch containing the fetch offset and stops at bounds', () => {
    const cache = new TailCache(new TailCacheBudget(1 << 20), new BufferPool(1 << 20), 1 << 20, 512, 512);
    for (let offset = 10; offset < 20; offset++) cache.add(batchAt(offset), offset).hold?.release();
    assert.equal(cache.read(9, 20, 1 << 20, false), null);
    const all = cache.read(12, 20, 1 << 20, false);
    assert.deepEqual(
      splitBatches(all?.chunks ?? []).map((b) => b.baseOffset),
      [12, 13, 14, 15, 16, 17, 18, 19],
    );
    assert.ok((all?.chunks.length ?? 0) >= 2, 'spans chunks');
    const size = batchAt(0).length;
    assert.equal(cache.read(12, 15, 1 << 20, false)?.bytes, 3 * size);
    assert.equal(cache.read(12, 20, size * 2 + 1, false)?.bytes, 2 * size);
    assert.equal(cache.read(12, 20, 1, false)?.bytes, 0);
    assert.equal(cache.read(12, 20, 1, true)?.bytes, size);
  });

  test('a read starts at the batch holding the fetch offset, whatever appends and chunks hold it', () => {
    const cache = new TailCache(new TailCacheBudget(1 << 20), new BufferPool(1 << 20), 1 << 20, 2048, 2048);
    // Appends of one to three batches of one to four records each, spanning several chunks.
    const baseOffsets: number[] = [];
    let next = 100;
    for (let append = 0; append < 40; append++) {
      const batches: Buffer[] = [];
      for (let b = 0; b < 1 + (append % 3); b++) {
        const records = 1 + ((append + b) % 4);
        const batch = makeBatch({ records, valueBytes: 50 });
        writeInt64(batch, BASE_OFFSET_OFFSET, next);
        baseOffsets.push(next);
        batches.push(batch);
        next += records;
      }
      cache.add(Buffer.concat(batches), baseOffsets.at(-batches.length) as number).hold?.release();
    }
    for (let fetchOffset = 100; fetchOffset < next; fetchOffset++) {
      const read = cache.read(fetchOffset, next, 1 << 20, false);
      const containing = baseOffsets.findLast((base) => base <= fetchOffset);
      assert.deepEqual(
        splitBatches(read?.chunks ?? []).map((b) => b.baseOffset),
        baseOffsets.filter((base) => base >= (containing as number)),
        `fetch offset ${fetchOffset}`,
      );
      if (read) releaseRead(read);
    }
  });

  test('per-log and global budgets evict the oldest chunks', () => {
    const budget = new TailCacheBudget(3 * 1024);
    const pool = new BufferPool(1 << 20);
    const a = new TailCache(budget, pool, 2 * 1024, 1024, 1024);
    const b = new TailCache(budget, pool, 2 * 1024, 1024, 1024);
    for (let offset = 0; offset < 12; offset++) a.add(batchAt(offset, 300), offset).hold?.release();
    assert.ok(a.bytes <= 2 * 1024);
    assert.ok((a.firstOffset ?? 0) > 0);
    for (let offset = 0; offset < 12; offset++) b.add(batchAt(offset, 300), offset).hold?.release();
    assert.ok(budget.usedBytes <= 3 * 1024, `used ${budget.usedBytes}`);
    assert.equal(a.bytes + b.bytes, budget.usedBytes);
    const tail = b.read(11, 12, 1 << 20, false);
    assert.deepEqual(
      splitBatches(tail?.chunks ?? []).map((x) => x.baseOffset),
      [11],
    );
    const big = batchAt(50, 5000);
    assert.deepEqual(a.add(big, 50), { data: big, hold: null }, 'too big to cache: returned as is');
    assert.equal(a.firstOffset, null);
  });

  test('chunks start small and double as they fill, so slow logs take little of the shared budget', () => {
    const budget = new TailCacheBudget(1 << 20);
    const cache = new TailCache(budget, new BufferPool(1 << 20), 1 << 20, 1024, 4096);
    cache.add(batchAt(0, 300), 0).hold?.release();
    assert.equal(budget.usedBytes, 1024, 'a first small append takes the smallest chunk');
    let offset = 1;
    const fill = (bytes: number) => {
      const before = budget.usedBytes;
      while (budget.usedBytes === before) {
        cache.add(batchAt(offset, 300), offset).hold?.release();
        offset++;
      }
      assert.equal(budget.usedBytes - before, bytes);
    };
    fill(2048);
    fill(4096);
    fill(4096);
    // The whole range stays readable across chunks of every size.
    const read = cache.read(0, offset, 1 << 20, false);
    assert.deepEqual(
      splitBatches(read?.chunks ?? []).map((x) => x.baseOffset),
      Array.from({ length: offset }, (_, i) => i),
    );
    if (read) releaseRead(read);
    cache.clear();
    cache.add(batchAt(offset, 300), offset).hold?.release();
    assert.equal(budget.usedBytes, 1024, 'emptied, the cache starts small again');
  });

  test('a chunk goes back to the pool only after eviction, its write and every read holding it', () => {
    const pool = new BufferPool(1 << 20);
    const cache = new TailCache(new TailCacheBudget(1 << 20), pool, 1 << 20, 1024, 1024);
    const appended = cache.add(batchAt(0), 0);
    const chunkMemory = appended.data.buffer;
    const read = cache.read(0, 1, 1 << 20, false);
    assert.equal(read?.holds.length, 1);
    cache.clear();
    assert.equal(pool.freeBytes, 0, 'write and read still hold it');
    appended.hold?.release();
    assert.equal(pool.freeBytes, 0, 'the read still holds it');
    releaseRead(read!);
    assert.equal(pool.freeBytes, 65_536);
    assert.equal(cache.add(batchAt(1), 1).data.buffer, chunkMemory, 'the next chunk reuses the memory');
  });
});
