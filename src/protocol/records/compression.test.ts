import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compressFrameSync } from 'lz4-napi';
import { compressSync as rawSnappyCompress } from 'snappy';
import { ErrorCode } from '../errors.js';
import {
  codecIdOf,
  codecNameOf,
  compress,
  compressAsync,
  decompress,
  decompressAsync,
  withRepairedLz4HeaderChecksum,
  xxhash32Short,
} from './compression.js';
import { crc32, crc32c } from './crc.js';
import { InvalidRecordError, UnsupportedCompressionTypeError } from './errors.js';
import type { CompressionName } from './layout.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const XERIAL_HEADER = Buffer.from('82534e41505059000000000100000001', 'hex');

function sampleData(bytes: number): Buffer {
  const data = Buffer.alloc(bytes);
  for (let index = 0; index < bytes; index++) data[index] = (index * 31 + (index >> 7)) & 0xff;
  return data;
}

describe('checksums', () => {
  test('standard check values, also over a sub-range', () => {
    const digits = Buffer.from('xx123456789yy');
    assert.equal(crc32c(digits, 2, 11), 0xe3069283);
    assert.equal(crc32(digits, 2, 11), 0xcbf43926);
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });
});

describe('codecs', () => {
  test('names and ids', () => {
    assert.deepEqual(CODECS.map(codecIdOf), [0, 1, 2, 3, 4]);
    assert.deepEqual([0, 1, 2, 3, 4].map(codecNameOf), CODECS);
    assert.throws(() => codecIdOf(5), UnsupportedCompressionTypeError);
    assert.throws(() => codecIdOf('brotli'), { code: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE });
  });

  for (const codec of CODECS) {
    test(`${codec} round-trips, sync and async, small and multi-block`, async () => {
      for (const data of [Buffer.alloc(0), Buffer.from('a'), sampleData(200_000)]) {
        const packed = compress(codec, data);
        assert.deepEqual(decompress(codec, packed), data);
        assert.deepEqual(await decompressAsync(codec, packed), data);
        assert.deepEqual(decompress(codec, await compressAsync(codec, data)), data);
      }
    });
  }

  test('gzip, lz4 and zstd write their standard magic numbers', () => {
    const data = sampleData(100);
    assert.deepEqual(compress('gzip', data).subarray(0, 2), Buffer.from([0x1f, 0x8b]));
    assert.deepEqual(compress('lz4', data).subarray(0, 4), Buffer.from([0x04, 0x22, 0x4d, 0x18]));
    assert.deepEqual(compress('zstd', data).subarray(0, 4), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    test(`${codec}: garbage and over-limit output fail with InvalidRecordError`, async () => {
      assert.throws(
        () => decompress(codec, Buffer.from('definitely not compressed data')),
        InvalidRecordError,
      );
      const packed = compress(codec, sampleData(100_000));
      assert.throws(() => decompress(codec, packed, { maxBytes: 99_999 }), InvalidRecordError);
      await assert.rejects(decompressAsync(codec, packed, { maxBytes: 99_999 }), InvalidRecordError);
      assert.equal(decompress(codec, packed, { maxBytes: 100_000 }).length, 100_000);
    });
  }

  test('a truncated zstd frame is rejected', () => {
    const packed = compress('zstd', sampleData(10_000));
    assert.throws(() => decompress('zstd', packed.subarray(0, packed.length - 3)), InvalidRecordError);
  });
});

describe('snappy framing', () => {
  test('encodes like Java: xerial header, then [int32 length][raw block] per 32 KiB of input', () => {
    const data = sampleData(70_000);
    const packed = compress('snappy', data);
    assert.deepEqual(packed.subarray(0, 16), XERIAL_HEADER);
    const blockSizes: number[] = [];
    let offset = 16;
    const parts: Buffer[] = [];
    while (offset < packed.length) {
      const length = packed.readUInt32BE(offset);
      const block = packed.subarray(offset + 4, offset + 4 + length);
      const plain = decompress('snappy', block);
      blockSizes.push(plain.length);
      parts.push(plain);
      offset += 4 + length;
    }
    assert.equal(offset, packed.length);
    assert.deepEqual(blockSizes, [32_768, 32_768, 70_000 - 65_536]);
    assert.deepEqual(Buffer.concat(parts), data);
  });

  test('decodes a raw snappy block (sarama) and concatenated xerial streams', () => {
    const data = sampleData(5_000);
    assert.deepEqual(decompress('snappy', rawSnappyCompress(data)), data);
    const frame = (part: Buffer) => {
      const block = rawSnappyCompress(part);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(block.length);
      return Buffer.concat([XERIAL_HEADER, length, block]);
    };
    const twoStreams = Buffer.concat([frame(data.subarray(0, 1000)), frame(data.subarray(1000))]);
    assert.deepEqual(decompress('snappy', twoStreams), data);
  });

  test('a truncated xerial block is rejected', () => {
    const packed = compress('snappy', sampleData(1000));
    assert.throws(() => decompress('snappy', packed.subarray(0, packed.length - 1)), InvalidRecordError);
  });
});

describe('lz4 legacy header checksum', () => {
  test('xxhash32 matches the reference vectors and lz4-napi frame headers', () => {
    assert.equal(xxhash32Short(Buffer.alloc(0), 0, 0), 0x02cc5d05);
    assert.equal(xxhash32Short(Buffer.from('a'), 0, 1), 0x550d7456);
    assert.equal(xxhash32Short(Buffer.from('abc'), 0, 3), 0x32d153ff);
    const frame = compressFrameSync(Buffer.from('hello'));
    assert.equal((xxhash32Short(frame, 4, 6) >>> 8) & 0xff, frame[6]);
  });

  test('a magic-0 style frame (checksum over the magic too) decodes only with the repair', () => {
    const data = sampleData(3_000);
    const frame = Buffer.from(compress('lz4', data));
    frame[6] = (xxhash32Short(frame, 0, 6) >>> 8) & 0xff;
    assert.throws(() => decompress('lz4', frame), InvalidRecordError);
    assert.deepEqual(decompress('lz4', frame, { legacyLz4HeaderChecksum: true }), data);
    assert.throws(() => withRepairedLz4HeaderChecksum(Buffer.from('nope nope')), InvalidRecordError);
  });
});
