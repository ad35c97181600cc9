import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { compressSync as rawSnappyCompress } from 'snappy';
import { ErrorCode } from '../errors.js';
import { type DecodedRecordBatch, decodeRecordBatches } from './batch.js';
import { compress, xxhash32Short } from './compression.js';
import { RecordError } from './errors.js';
import { convertLegacyToBatch, isLegacyMessageSet } from './legacy.js';
import { validateBatches } from './validate.js';

interface LegacyMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp?: number;
}

function bytesField(data: Buffer | null): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(data === null ? -1 : data.length);
  return data === null ? length : Buffer.concat([length, data]);
}

/** One legacy message, built from the layout in Kafka's LegacyRecord with zlib's CRC-32. */
function legacyMessage(magic: 0 | 1, attributes: number, message: LegacyMessage, offset: number): Buffer {
  const timestamp = Buffer.alloc(magic === 1 ? 8 : 0);
  if (magic === 1) timestamp.writeBigInt64BE(BigInt(message.timestamp ?? -1));
  const body = Buffer.concat([
    Buffer.from([magic, attributes]),
    timestamp,
    bytesField(message.key),
    bytesField(message.value),
  ]);
  const head = Buffer.alloc(16);
  head.writeBigInt64BE(BigInt(offset));
  head.writeInt32BE(4 + body.length, 8);
  head.writeUInt32BE(zlib.crc32(body), 12);
  return Buffer.concat([head, body]);
}

function messageSet(magic: 0 | 1, messages: LegacyMessage[], firstOffset = 0): Buffer {
  return Buffer.concat(
    messages.map((message, index) => legacyMessage(magic, 0, message, firstOffset + index)),
  );
}

const messages: LegacyMessage[] = [
  { key: Buffer.from('k0'), value: Buffer.from('value zero'), timestamp: 1_600_000_000_000 },
  { key: null, value: Buffer.from('value one'), timestamp: 1_600_000_000_250 },
  { key: Buffer.from('k2'), value: null, timestamp: 1_600_000_000_100 },
];

function content(batch: DecodedRecordBatch) {
  return batch.records.map((record) => ({
    key: record.key?.toString() ?? null,
    value: record.value?.toString() ?? null,
    timestamp: record.timestamp,
    offset: record.offset,
    headers: record.headers.length,
  }));
}

function expected(withTimestamps: boolean) {
  return messages.map((message, index) => ({
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    timestamp: withTimestamps ? message.timestamp! : -1,
    offset: index,
    headers: 0,
  }));
}

function convertAndDecode(set: Buffer): DecodedRecordBatch {
  const batch = convertLegacyToBatch(set);
  assert.equal(validateBatches(batch).batchCount, 1);
  const [decoded] = decodeRecordBatches(batch);
  assert.equal(decoded!.producerId, -1);
  assert.equal(decoded!.timestampType, 'create');
  return decoded!;
}

describe('legacy message sets', () => {
  test('isLegacyMessageSet looks at the magic byte', () => {
    assert.equal(isLegacyMessageSet(messageSet(0, messages)), true);
    assert.equal(isLegacyMessageSet(messageSet(1, messages)), true);
    assert.equal(isLegacyMessageSet(Buffer.alloc(10)), false);
    const v2 = Buffer.alloc(61);
    v2[16] = 2;
    assert.equal(isLegacyMessageSet(v2), false);
  });

  test('magic 0 converts with no timestamps', () => {
    const decoded = convertAndDecode(messageSet(0, messages, 1000));
    assert.equal(decoded.codec, 0);
    assert.deepEqual(content(decoded), expected(false));
  });

  test('magic 1 converts with its timestamps', () => {
    const decoded = convertAndDecode(messageSet(1, messages));
    assert.deepEqual(content(decoded), expected(true));
    assert.equal(decoded.maxTimestamp, 1_600_000_000_250);
  });

  test('a gzip wrapper (magic 1, relative inner offsets) keeps gzip by default', () => {
    const wrapper = legacyMessage(
      1,
      1,
      { key: null, value: zlib.gzipSync(messageSet(1, messages)), timestamp: 1_600_000_000_250 },
      2,
    );
    const decoded = convertAndDecode(wrapper);
    assert.equal(decoded.codec, 1);
    assert.deepEqual(content(decoded), expected(true));
    const uncompressed = decodeRecordBatches(convertLegacyToBatch(wrapper, { compression: 'none' }))[0]!;
    assert.equal(uncompressed.codec, 0);
    assert.deepEqual(content(uncompressed), expected(true));
  });

  test('a gzip wrapper with LogAppendTime gives every record the wrapper timestamp', () => {
    const wrapper = legacyMessage(
      1,
      1 | 0x08,
      { key: null, value: zlib.gzipSync(messageSet(1, messages)), timestamp: 7 },
      2,
    );
    assert.deepEqual(
      content(convertAndDecode(wrapper)).map((record) => record.timestamp),
      [7, 7, 7],
    );
  });

  test('magic 0 wrappers: gzip, raw snappy (sarama), xerial snappy and lz4 with the old header checksum', () => {
    const inner = messageSet(0, messages);
    const lz4 = Buffer.from(compress('lz4', inner));
    lz4[6] = (xxhash32Short(lz4, 0, 6) >>> 8) & 0xff;
    const cases: Array<[number, Buffer, string]> = [
      [1, zlib.gzipSync(inner), 'gzip'],
      [2, rawSnappyCompress(inner), 'raw snappy'],
      [2, compress('snappy', inner), 'xerial snappy'],
      [3, lz4, 'lz4'],
    ];
    for (const [codec, value, name] of cases) {
      const decoded = convertAndDecode(legacyMessage(0, codec, { key: null, value }, 0));
      assert.equal(decoded.codec, codec, name);
      assert.deepEqual(content(decoded), expected(false), name);
    }
  });

  test('several wrappers and plain messages merge into one batch in order', () => {
    const set = Buffer.concat([
      legacyMessage(0, 0, messages[0]!, 0),
      legacyMessage(0, 1, { key: null, value: zlib.gzipSync(messageSet(0, messages.slice(1))) }, 2),
    ]);
    assert.deepEqual(content(convertAndDecode(set)), expected(false));
  });

  test('damage, truncation and bad structure fail with Kafka codes', () => {
    const set = messageSet(1, messages);
    const flipped = Buffer.from(set);
    flipped[30]! ^= 1;
    const codeOf = (buf: Buffer) => {
      try {
        convertLegacyToBatch(buf);
      } catch (error) {
        assert.ok(error instanceof RecordError);
        return error.code;
      }
      return 0;
    };
    assert.equal(codeOf(flipped), ErrorCode.CORRUPT_MESSAGE);
    assert.equal(codeOf(set.subarray(0, set.length - 1)), ErrorCode.CORRUPT_MESSAGE);
    assert.equal(codeOf(set.subarray(0, 5)), ErrorCode.CORRUPT_MESSAGE);
    assert.equal(codeOf(Buffer.alloc(0)), ErrorCode.INVALID_RECORD);
    const nested = legacyMessage(
      0,
      1,
      { key: null, value: zlib.gzipSync(legacyMessage(0, 1, { key: null, value: zlib.gzipSync(set) }, 0)) },
      0,
    );
    assert.equal(codeOf(nested), ErrorCode.INVALID_RECORD);
    assert.equal(
      codeOf(legacyMessage(0, 1, { key: null, value: Buffer.from('not gzip') }, 0)),
      ErrorCode.INVALID_RECORD,
    );
    assert.equal(codeOf(legacyMessage(0, 1, { key: null, value: null }, 0)), ErrorCode.INVALID_RECORD);
    assert.equal(
      codeOf(legacyMessage(0, 4, { key: null, value: Buffer.from('x') }, 0)),
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
    );
  });
});
