import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BufferFullError } from '../errors.js';
import { MemoryPool } from './memory-pool.js';

describe('MemoryPool', () => {
  test('tryReserve respects the bound', () => {
    const pool = new MemoryPool(100);
    assert.equal(pool.tryReserve(60), true);
    assert.equal(pool.tryReserve(50), false);
    assert.equal(pool.tryReserve(40), true);
    assert.equal(pool.availableBytes, 0);
    pool.release(60);
    assert.equal(pool.availableBytes, 60);
  });

  test('waiters are served in order as memory is released', async () => {
    const pool = new MemoryPool(100);
    assert.equal(pool.tryReserve(100), true);
    const order: string[] = [];
    const first = pool.reserve(70, Date.now() + 5_000).then(() => order.push('first'));
    const second = pool.reserve(20, Date.now() + 5_000).then(() => order.push('second'));
    // A newcomer does not jump the queue even though 20 bytes would fit after the first release.
    assert.equal(pool.waitingCount, 2);
    pool.release(30);
    assert.equal(pool.tryReserve(20), false);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, []);
    pool.release(70);
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first', 'second']);
    assert.equal(pool.availableBytes, 10);
  });

  test('rejects with BufferFullError at the deadline, then serves the next waiter', async () => {
    const pool = new MemoryPool(100);
    assert.equal(pool.tryReserve(90), true);
    const startedMs = Date.now();
    const big = pool.reserve(50, startedMs + 80);
    const small = pool.reserve(10, startedMs + 5_000);
    await assert.rejects(big, BufferFullError);
    assert.ok(Date.now() - startedMs >= 75);
    await small;
    assert.equal(pool.availableBytes, 0);
  });

  test('chunks come back for reuse, never more than the pool holds', () => {
    const pool = new MemoryPool(300, 100);
    assert.equal(pool.chunksFor(150), 2);
    assert.equal(pool.bytesOf(2), 200);
    assert.equal(pool.tryReserve(pool.bytesOf(3)), true);
    const chunks = [pool.takeChunk(), pool.takeChunk(), pool.takeChunk()];
    assert.deepEqual(
      chunks.map((chunk) => chunk.length),
      [100, 100, 100],
    );
    pool.recycle(chunks);
    pool.release(300);
    assert.equal(pool.freeChunkCount, 3);
    // A stray extra chunk is not kept: kept chunks stay within the pool's bytes.
    pool.recycle([Buffer.alloc(100)]);
    assert.equal(pool.freeChunkCount, 3);
    assert.equal(pool.tryReserve(100), true);
    assert.equal(pool.takeChunk(), chunks[2]);
    assert.equal(pool.freeChunkCount, 2);
  });

  test('rejectWaiters fails everyone waiting', async () => {
    const pool = new MemoryPool(10);
    assert.equal(pool.tryReserve(10), true);
    const waiting = pool.reserve(5, Date.now() + 5_000);
    pool.rejectWaiters(new Error('closed'));
    await assert.rejects(waiting, /closed/);
  });
});
