import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BufferPool, BufferReleasedError, sizeClassOf } from './buffer-pool.js';

describe('sizeClassOf', () => {
  test('rounds up to quarter steps of the power of two below, with a 64 KiB floor', () => {
    assert.equal(sizeClassOf(1), 65_536);
    assert.equal(sizeClassOf(65_536), 65_536);
    assert.equal(sizeClassOf(65_537), 81_920);
    assert.equal(sizeClassOf(1_048_576), 1_048_576);
    assert.equal(sizeClassOf(1_048_577), 1_310_720);
    assert.equal(sizeClassOf(1_500_000), 1_572_864);
    assert.equal(sizeClassOf(2_000_000), 2_097_152);
  });

  test('never less than asked and never more than 25% over above the floor', () => {
    for (let bytes = 65_537; bytes < 40_000_000; bytes = Math.ceil(bytes * 1.071)) {
      const capacity = sizeClassOf(bytes);
      assert.ok(capacity >= bytes, `${capacity} < ${bytes}`);
      assert.ok(capacity <= bytes * 1.25, `${capacity} is more than 25% over ${bytes}`);
    }
  });
});

describe('BufferPool', () => {
  test('a released buffer is handed out again for the same size class', () => {
    const pool = new BufferPool(1 << 20);
    const first = pool.acquire(100_000);
    const bytes = first.buffer;
    first.release();
    assert.equal(pool.freeBytes, sizeClassOf(100_000));
    const second = pool.acquire(110_000);
    assert.equal(second.buffer, bytes);
    assert.equal(pool.freeBytes, 0);
    assert.deepEqual(pool.stats, { reused: 1, allocated: 1, dropped: 0 });
  });

  test('the buffer returns only when the last reference is released', () => {
    const pool = new BufferPool(1 << 20);
    const held = pool.acquire(70_000);
    held.retain();
    held.release();
    assert.equal(pool.freeBytes, 0);
    assert.notEqual(pool.acquire(70_000).buffer, held.buffer);
    held.release();
    assert.equal(pool.acquire(70_000).buffer, held.buffer);
  });

  test('a stale handle cannot release or retain a buffer that has a new owner', () => {
    const pool = new BufferPool(1 << 20);
    const stale = pool.acquire(70_000);
    stale.release();
    const owner = pool.acquire(70_000);
    assert.equal(owner.buffer, stale.buffer);
    assert.throws(() => stale.release(), BufferReleasedError);
    assert.throws(() => stale.retain(), BufferReleasedError);
    assert.equal(owner.references, 1);
  });

  test('free lists are bounded: the least recently released buffers go first, whatever their size', () => {
    const pool = new BufferPool(2 * sizeClassOf(100_000) + 1);
    const a = pool.acquire(100_000);
    const b = pool.acquire(100_000);
    const c = pool.acquire(70_000);
    a.release();
    b.release();
    c.release();
    assert.equal(pool.freeBytes, sizeClassOf(100_000) + sizeClassOf(70_000));
    assert.equal(pool.stats.dropped, 1);
    assert.equal(pool.acquire(70_000).buffer, c.buffer);
    assert.equal(pool.acquire(100_000).buffer, b.buffer, 'a, released first, was let go');
    assert.equal(a.buffer.length, 0, 'the buffer let go was freed at once (its memory detached)');
  });

  test('trimIdle lets go of free buffers released at least idleMs ago, oldest first', () => {
    const pool = new BufferPool(8 << 20);
    const early = pool.acquire(100_000);
    const late = pool.acquire(1 << 20);
    pool.recycle(early, 1_000);
    pool.recycle(late, 4_000);
    assert.equal(pool.freeBytes, sizeClassOf(100_000) + (1 << 20));
    assert.equal(pool.trimIdle(5_000, 5_999), 0);
    assert.equal(pool.trimIdle(5_000, 6_000), sizeClassOf(100_000));
    assert.equal(pool.freeBytes, 1 << 20);
    assert.equal(
      pool.acquire(100_000).buffer === early.buffer,
      false,
      'the trimmed buffer is not handed out',
    );
    assert.equal(early.buffer.length, 0, 'freed at once, not left to a full garbage collection');
    assert.equal(pool.trimIdle(5_000, 9_000), 1 << 20);
    assert.equal(pool.freeBytes, 0);
    assert.equal(pool.stats.dropped, 2);
  });

  test('requests above the pooled maximum get one-off buffers of exactly that size', () => {
    const pool = new BufferPool(1 << 30, 1 << 20);
    const big = pool.acquire((1 << 20) + 1);
    assert.equal(big.buffer.length, (1 << 20) + 1);
    big.release();
    assert.equal(pool.freeBytes, 0);
  });
});
