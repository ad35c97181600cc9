import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ChunkOwner, FetchBuffer, type FetchedChunk } from './fetch-buffer.js';
import type { ConsumerMessage } from './message.js';

function owner(partition: number): ChunkOwner {
  return { topic: 't', partition, epoch: 0, position: null };
}

function chunk(state: ChunkOwner, bytes: number, count = 1): FetchedChunk {
  const messages = Array.from({ length: count }, (_, i) => ({ offset: i }) as unknown as ConsumerMessage);
  return { state, epoch: state.epoch, messages, next: 0, bytes, highWatermark: count, nextOffset: count };
}

describe('FetchBuffer', () => {
  test('reservations never exceed maxBufferedBytes, and are refused below the minimum', () => {
    let rooms = 0;
    const buffer = new FetchBuffer(1000, () => rooms++);
    assert.equal(buffer.reserve(600, 100), 600);
    assert.equal(buffer.reserve(600, 100), 400);
    assert.equal(buffer.reserve(600, 100), 0);
    assert.equal(buffer.reserved, 1000);
    buffer.cancel(400);
    assert.equal(rooms, 1);
    // 400 free: a fetch that needs at least 500 waits.
    assert.equal(buffer.reserve(600, 500), 0);
    assert.equal(buffer.reserve(600, 300), 400);
  });

  test('settled data counts until consumed; consuming frees room and wakes the fetcher', () => {
    let rooms = 0;
    const buffer = new FetchBuffer(1000, () => rooms++);
    const p0 = owner(0);
    const reserved = buffer.reserve(1000, 1);
    buffer.settle(reserved, [chunk(p0, 700), chunk(p0, 0, 0)]);
    assert.equal(buffer.bytes, 700);
    assert.equal(buffer.reserved, 0);
    assert.equal(buffer.size, 2, 'a chunk without messages stays, in order, to move the position');
    assert.equal(buffer.reserve(1000, 400), 0, 'only 300 bytes are free');
    assert.equal(buffer.reserve(1000, 300), 300);
    const roomsBefore = rooms;
    buffer.shift();
    assert.equal(buffer.bytes, 0);
    assert.equal(rooms, roomsBefore + 1);
    assert.equal(buffer.peek()?.messages.length, 0);
    buffer.shift();
    assert.equal(buffer.peek(), undefined);
  });

  test('a fetcher that keeps reserving stays within the bound while a reader drains slowly', () => {
    const max = 10_000;
    const buffer = new FetchBuffer(max, () => undefined);
    const p0 = owner(0);
    let peak = 0;
    for (let round = 0; round < 1000; round++) {
      const reserved = buffer.reserve(3_000, 1_000);
      if (reserved > 0) buffer.settle(reserved, [chunk(p0, reserved)]);
      peak = Math.max(peak, buffer.bytes + buffer.reserved);
      if (round % 3 === 0) buffer.shift();
    }
    assert.ok(peak <= max, `peak ${peak}`);
    assert.equal(peak, max);
  });

  test('discard drops matching chunks and frees their bytes; order of the rest is kept', () => {
    const buffer = new FetchBuffer(10_000, () => undefined);
    const p0 = owner(0);
    const p1 = owner(1);
    const reserved = buffer.reserve(10_000, 1);
    const a = chunk(p0, 100);
    const b = chunk(p1, 200);
    const c = chunk(p0, 300);
    const d = chunk(p1, 400);
    buffer.settle(reserved, [a, b, c, d]);
    assert.equal(
      buffer.discard((x) => x.state === p0),
      2,
    );
    assert.equal(buffer.bytes, 600);
    assert.equal(buffer.peek(), b);
    buffer.shift();
    assert.equal(buffer.peek(), d);
  });

  test('waitForData resolves on settle and on wakeReaders', async () => {
    const buffer = new FetchBuffer(1000, () => undefined);
    let woke = 0;
    const waiting = buffer.waitForData().then(() => woke++);
    await Promise.resolve();
    assert.equal(woke, 0);
    buffer.settle(buffer.reserve(100, 1), [chunk(owner(0), 50)]);
    await waiting;
    assert.equal(woke, 1);
    buffer.shift();
    const again = buffer.waitForData().then(() => woke++);
    buffer.wakeReaders();
    await again;
    assert.equal(woke, 2);
  });
});
