import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import fc from 'fast-check';
import { BufferPool, type PooledBuffer, sizeClassOf } from '../common/buffer-pool.js';
import {
  DecoderFailedError,
  FrameDecoder,
  FrameTooLargeError,
  FrameTooSmallError,
  NegativeFrameSizeError,
} from './frame-decoder.js';

const MAX_FRAME_BYTES = 1 << 20;

/** A request-like frame body: apiKey, apiVersion, correlationId, then `extraBytes` bytes of filler. */
function body(correlationId: number, extraBytes: number): Buffer {
  const buffer = Buffer.alloc(8 + extraBytes);
  buffer.writeInt16BE(0, 0);
  buffer.writeInt16BE(9, 2);
  buffer.writeInt32BE(correlationId, 4);
  for (let i = 8; i < buffer.length; i++) buffer[i] = (correlationId + i) & 0xff;
  return buffer;
}

function sizePrefixed(frameBody: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(frameBody.length, 0);
  return Buffer.concat([prefix, frameBody]);
}

function collectingDecoder(maxFrameBytes = MAX_FRAME_BYTES): { decoder: FrameDecoder; frames: Buffer[] } {
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder(maxFrameBytes, (frame) => {
    frames.push(Buffer.from(frame));
    return true;
  });
  return { decoder, frames };
}

function splitAt(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(stream.subarray(start, point));
    start = point;
  }
  chunks.push(stream.subarray(start));
  return chunks;
}

describe('FrameDecoder', () => {
  test('many frames in one chunk come out as subarrays of that chunk, without copying', () => {
    const bodies = [body(1, 0), body(2, 17), body(3, 300)];
    const chunk = Buffer.concat(bodies.map(sizePrefixed));
    const seen: Buffer[] = [];
    const decoder = new FrameDecoder(MAX_FRAME_BYTES, (frame) => {
      seen.push(frame);
      return true;
    });
    decoder.push(chunk);
    assert.deepEqual(seen, bodies);
    assert.deepEqual(
      seen.map((frame) => frame.buffer === chunk.buffer),
      [true, true, true],
    );
    assert.deepEqual(
      seen.map((frame) => frame.byteOffset - chunk.byteOffset),
      [4, 4 + 8 + 4, 4 + 8 + 4 + 25 + 4],
    );
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('one byte at a time yields the same frames', () => {
    const bodies = [body(7, 0), body(8, 1), body(9, 5000)];
    const stream = Buffer.concat(bodies.map(sizePrefixed));
    const { decoder, frames } = collectingDecoder();
    const framesAfterByte: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      decoder.push(stream.subarray(i, i + 1));
      framesAfterByte.push(frames.length);
    }
    // Each frame is delivered on its very last byte, not earlier or later.
    const ends = [12, 12 + 13, 12 + 13 + 5012];
    assert.deepEqual(
      ends.map((end) => [framesAfterByte[end - 2], framesAfterByte[end - 1]]),
      [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
    );
    assert.deepEqual(frames, bodies);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('a frame spanning chunks is assembled in one buffer of exactly its size', () => {
    const frameBody = body(42, 100_000);
    const stream = sizePrefixed(frameBody);
    const seen: Buffer[] = [];
    const decoder = new FrameDecoder(MAX_FRAME_BYTES, (frame) => {
      seen.push(frame);
      return true;
    });
    decoder.push(stream.subarray(0, 2));
    decoder.push(stream.subarray(2, 4 + 1000));
    assert.equal(decoder.bufferedBytes, 1000);
    decoder.push(stream.subarray(4 + 1000, 70_000));
    decoder.push(stream.subarray(70_000));
    assert.equal(seen.length, 1);
    const frame = seen[0]!;
    assert.deepEqual(frame, frameBody);
    // Larger than Buffer's pool, so the backing store is this frame alone: exactly its size.
    assert.equal(frame.buffer.byteLength, frameBody.length);
    assert.equal(frame.byteOffset, 0);
  });

  test('with a pool, a large spanning frame is assembled in a pooled buffer the sink then owns', () => {
    const pool = new BufferPool(1 << 20);
    const holds: (PooledBuffer | null)[] = [];
    const frames: Buffer[] = [];
    const decoder = new FrameDecoder(
      MAX_FRAME_BYTES,
      (frame, hold) => {
        frames.push(Buffer.from(frame));
        holds.push(hold);
        return true;
      },
      pool,
    );
    const large = body(1, 100_000);
    const small = body(2, 1_000);
    const stream = Buffer.concat([sizePrefixed(large), sizePrefixed(small), sizePrefixed(small)]);
    decoder.push(stream.subarray(0, 50_000));
    decoder.push(stream.subarray(50_000, 100_020));
    decoder.push(stream.subarray(100_020));
    assert.deepEqual(frames, [large, small, small]);
    assert.equal(holds[0]?.buffer.length, sizeClassOf(large.length));
    assert.equal(holds[1], null, 'a small spanning frame is not pooled');
    assert.equal(holds[2], null, 'a frame inside one chunk is a subarray, not pooled');
    holds[0]?.release();
    assert.equal(pool.freeBytes, sizeClassOf(large.length));
  });

  test('chunks it owns and copied out entirely are freed once the turn is over, and no others', async () => {
    /** A chunk as a socket read gives it: its own memory, not a slice of a shared buffer. */
    const owned = (bytes: Buffer) => {
      const chunk = Buffer.allocUnsafeSlow(bytes.length);
      bytes.copy(chunk);
      return chunk;
    };
    const large = body(1, 100_000);
    const small = body(2, 10);
    const stream = Buffer.concat([sizePrefixed(large), sizePrefixed(small)]);
    const frames: Buffer[] = [];
    const decoder = new FrameDecoder(
      MAX_FRAME_BYTES,
      (frame) => {
        frames.push(frame);
        return true;
      },
      new BufferPool(1 << 20),
      true,
    );
    const copied = [owned(stream.subarray(0, 60_000)), owned(stream.subarray(60_000, 100_000))];
    const viewed = owned(stream.subarray(100_000));
    const sliced = Buffer.from(stream.subarray(0, 30_000)).subarray(0, 20_000);
    assert.deepEqual(
      [...copied, viewed].map((chunk) => decoder.push(chunk)),
      [true, true, false],
      'push says which chunks the decoder frees',
    );
    assert.equal(copied[0]?.length, 60_000, 'nothing is freed before the turn is over');
    await nextTurn();
    assert.deepEqual(
      copied.map((chunk) => chunk.length),
      [0, 0],
      'chunks whose bytes all went into a spanning frame are freed',
    );
    assert.deepEqual(frames, [large, small], 'the frames keep their bytes');
    assert.equal(viewed.length, stream.length - 100_000, 'a chunk a frame is a subarray of is kept');

    const notOwning = new FrameDecoder(MAX_FRAME_BYTES, () => true, null);
    const chunk = owned(sizePrefixed(large).subarray(0, 50_000));
    assert.equal(notOwning.push(chunk), false);
    assert.equal(new FrameDecoder(MAX_FRAME_BYTES, () => true, null, true).push(sliced), false);
    await nextTurn();
    assert.equal(chunk.length, 50_000, 'a decoder not given its chunks frees none');
    assert.equal(sliced.length, 20_000, 'a slice of a larger buffer is never freed');
  });

  test('discarding a half-received pooled frame gives its buffer back', () => {
    const pool = new BufferPool(1 << 20);
    const decoder = new FrameDecoder(MAX_FRAME_BYTES, () => true, pool);
    decoder.push(sizePrefixed(body(1, 100_000)).subarray(0, 30_000));
    assert.equal(pool.freeBytes, 0);
    decoder.discard();
    assert.equal(pool.freeBytes, sizeClassOf(100_008));
  });

  test('frame sizes at the limits are accepted', () => {
    const { decoder, frames } = collectingDecoder(64);
    decoder.push(sizePrefixed(body(1, 0)));
    decoder.push(sizePrefixed(body(2, 56)));
    assert.deepEqual(
      frames.map((frame) => frame.length),
      [8, 64],
    );
  });

  test('random chunk splits always give back the frames that were sent', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (extraSizes, cuts) => {
          const bodies = extraSizes.map((extraBytes, index) => body(index, extraBytes));
          const stream = Buffer.concat(bodies.map(sizePrefixed));
          const { decoder, frames } = collectingDecoder();
          for (const chunk of splitAt(stream, cuts)) decoder.push(chunk);
          assert.deepEqual(frames, bodies);
          assert.equal(decoder.bufferedBytes, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('random stops and resumes keep every frame, in order, exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
        (extraSizes, cuts, continueAfter) => {
          const bodies = extraSizes.map((extraBytes, index) => body(index, extraBytes));
          const stream = Buffer.concat(bodies.map(sizePrefixed));
          const frames: Buffer[] = [];
          const decoder = new FrameDecoder(MAX_FRAME_BYTES, (frame) => {
            frames.push(Buffer.from(frame));
            return continueAfter[frames.length % continueAfter.length]!;
          });
          for (const chunk of splitAt(stream, cuts)) {
            decoder.push(chunk);
            // The consumer resumes only sometimes between chunks; input pushed while stopped is held.
            if (decoder.isStopped && frames.length % 2 === 0) decoder.resume();
          }
          let resumes = 0;
          while (decoder.isStopped) {
            decoder.resume();
            assert.ok(++resumes <= bodies.length, 'resume must make progress');
          }
          assert.deepEqual(frames, bodies);
          assert.equal(decoder.bufferedBytes, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a stop holds the rest of the chunk and chunks pushed later until resume', () => {
    const bodies = [body(1, 0), body(2, 3), body(3, 0), body(4, 9)];
    const stream = Buffer.concat(bodies.map(sizePrefixed));
    const frames: Buffer[] = [];
    let allow = 1;
    const decoder = new FrameDecoder(MAX_FRAME_BYTES, (frame) => {
      frames.push(Buffer.from(frame));
      return --allow > 0;
    });
    const firstChunkEnd = 12 + 15 + 6; // frames 1 and 2, plus 6 bytes of frame 3
    decoder.push(stream.subarray(0, firstChunkEnd));
    assert.deepEqual(frames, [bodies[0]]);
    assert.equal(decoder.isStopped, true);
    assert.equal(decoder.bufferedBytes, firstChunkEnd - 12);
    decoder.push(stream.subarray(firstChunkEnd));
    assert.deepEqual(frames, [bodies[0]]);
    assert.equal(decoder.bufferedBytes, stream.length - 12);
    allow = 2;
    assert.equal(decoder.resume(), false);
    assert.deepEqual(frames, bodies.slice(0, 3));
    allow = 10;
    assert.equal(decoder.resume(), true);
    assert.deepEqual(frames, bodies);
    assert.equal(decoder.isStopped, false);
    assert.equal(decoder.bufferedBytes, 0);
  });

  describe('bad size prefixes fail cleanly', () => {
    const maxFrameBytes = 1000;
    const cases: Array<{ name: string; size: number; error: new (...args: never[]) => Error }> = [
      { name: 'size -1', size: -1, error: NegativeFrameSizeError },
      { name: 'size -2^31', size: -0x80000000, error: NegativeFrameSizeError },
      { name: 'size 0', size: 0, error: FrameTooSmallError },
      { name: 'size 1', size: 1, error: FrameTooSmallError },
      { name: 'size 7', size: 7, error: FrameTooSmallError },
      { name: 'one byte over the maximum', size: maxFrameBytes + 1, error: FrameTooLargeError },
      { name: 'size 2^31-1', size: 0x7fffffff, error: FrameTooLargeError },
      { name: 'HTTP text', size: Buffer.from('GET ').readInt32BE(0), error: FrameTooLargeError },
      {
        name: 'TLS ClientHello',
        size: Buffer.from([0x16, 0x03, 0x01, 0x02]).readInt32BE(0),
        error: FrameTooLargeError,
      },
    ];
    for (const { name, size, error } of cases) {
      for (const byteAtATime of [false, true]) {
        test(`${name}${byteAtATime ? ', one byte at a time' : ''}`, () => {
          const good = sizePrefixed(body(1, 2));
          const bad = Buffer.alloc(4 + 16);
          bad.writeInt32BE(size, 0);
          const stream = Buffer.concat([good, bad]);
          const { decoder, frames } = collectingDecoder(maxFrameBytes);
          const chunks = byteAtATime
            ? Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1))
            : [stream];
          let thrown: unknown;
          let chunkIndex = 0;
          for (; chunkIndex < chunks.length; chunkIndex++) {
            try {
              decoder.push(chunks[chunkIndex]!);
            } catch (caught) {
              thrown = caught;
              break;
            }
          }
          assert.ok(thrown instanceof error, `expected ${error.name}, got ${String(thrown)}`);
          // Rejected as soon as the prefix is complete, before any of the body is buffered.
          if (byteAtATime) assert.equal(chunkIndex, good.length + 3);
          assert.deepEqual(frames, [body(1, 2)]);
          assert.equal(decoder.bufferedBytes, 0);
          assert.throws(() => decoder.push(Buffer.alloc(8)), DecoderFailedError);
          assert.throws(() => decoder.resume(), DecoderFailedError);
          assert.deepEqual(frames, [body(1, 2)]);
        });
      }
    }
  });
});
