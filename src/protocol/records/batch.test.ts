import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode } from '../errors.js';
import {
  type DecodedRecordBatch,
  decodeRecordBatches,
  decodeRecordBatchesAsync,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  type RecordBatchInput,
  type RecordInput,
  recompressBatch,
  recompressBatchAsync,
} from './batch.js';
import { RecordError } from './errors.js';
import { ATTRIBUTES_OFFSET, type CompressionName, RECORDS_OFFSET } from './layout.js';
import { validateBatches } from './validate.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const sample: RecordInput[] = [
  {
    key: Buffer.from('k1'),
    value: Buffer.from('v1'),
    headers: [
      { key: 'trace', value: Buffer.from('abc') },
      { key: 'ü-null', value: null },
    ],
    timestamp: 1_700_000_000_500,
  },
  { key: null, value: Buffer.from('no key'), headers: [], timestamp: 1_700_000_000_000 },
  { key: Buffer.from('tombstone'), value: null, timestamp: 1_700_000_009_999 },
  { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: 1_700_000_000_001 },
];

/** The record content as plain values, for comparing a decode with the input. */
function content(batch: DecodedRecordBatch) {
  return batch.records.map((record) => ({
    key: record.key === null ? null : Buffer.from(record.key),
    value: record.value === null ? null : Buffer.from(record.value),
    headers: record.headers.map((header) => ({
      key: header.key,
      value: header.value === null ? null : Buffer.from(header.value),
    })),
    timestamp: record.timestamp,
  }));
}

function expected(records: RecordInput[]) {
  return records.map((record) => ({
    key: record.key,
    value: record.value,
    headers: (record.headers ?? []).map((header) => ({ key: header.key, value: header.value })),
    timestamp: record.timestamp,
  }));
}

describe('encodeRecordBatch / decodeRecordBatches', () => {
  for (const compression of CODECS) {
    test(`round-trips every field with ${compression}`, async () => {
      const input: RecordBatchInput = {
        records: sample,
        baseOffset: 42,
        partitionLeaderEpoch: 3,
        compression,
        producerId: 9001,
        producerEpoch: 4,
        baseSequence: 17,
        isTransactional: true,
      };
      const encoded = encodeRecordBatch(input);
      assert.deepEqual(await encodeRecordBatchAsync(input), encoded);
      assert.equal(validateBatches(encoded).recordCount, 4);
      for (const [batch] of [decodeRecordBatches(encoded), await decodeRecordBatchesAsync(encoded)]) {
        assert.ok(batch);
        assert.equal(batch.baseOffset, 42);
        assert.equal(batch.partitionLeaderEpoch, 3);
        assert.equal(batch.codec, CODECS.indexOf(compression));
        assert.equal(batch.producerId, 9001);
        assert.equal(batch.producerEpoch, 4);
        assert.equal(batch.baseSequence, 17);
        assert.equal(batch.isTransactional, true);
        assert.equal(batch.isControl, false);
        assert.equal(batch.timestampType, 'create');
        assert.equal(batch.lastOffsetDelta, 3);
        assert.equal(batch.baseTimestamp, 1_700_000_000_500);
        assert.equal(batch.maxTimestamp, 1_700_000_009_999);
        assert.equal(batch.batchLength, encoded.length - 12);
        assert.deepEqual(
          batch.records.map((record) => record.offset),
          [42, 43, 44, 45],
        );
        assert.deepEqual(content(batch), expected(sample));
      }
    });
  }

  test('defaults describe a non-idempotent CreateTime batch', () => {
    const [batch] = decodeRecordBatches(encodeRecordBatch({ records: [sample[0]!] }));
    assert.equal(batch!.baseOffset, 0);
    assert.equal(batch!.partitionLeaderEpoch, -1);
    assert.equal(batch!.producerId, -1);
    assert.equal(batch!.producerEpoch, -1);
    assert.equal(batch!.baseSequence, -1);
    assert.equal(batch!.attributes, 0);
  });

  test('a control batch sets its attribute bit', () => {
    const [batch] = decodeRecordBatches(
      encodeRecordBatch({
        records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 5]), timestamp: 1 }],
        isControl: true,
        isTransactional: true,
        producerId: 5,
      }),
    );
    assert.equal(batch!.isControl, true);
    assert.equal(batch!.attributes, 0x30);
  });

  test('an empty batch is refused', () => {
    assert.throws(() => encodeRecordBatch({ records: [] }), RangeError);
  });

  test('a partial batch at the end (Fetch response cut) is ignored', () => {
    const one = encodeRecordBatch({ records: sample, compression: 'gzip' });
    const two = encodeRecordBatch({ records: sample.slice(0, 1), baseOffset: 4 });
    const both = Buffer.concat([one, two]);
    for (const cut of [one.length, one.length + 5, one.length + 20, both.length - 1]) {
      const batches = decodeRecordBatches(both.subarray(0, cut));
      assert.deepEqual(
        batches.map((batch) => batch.baseOffset),
        [0],
        `cut at ${cut}`,
      );
    }
    assert.deepEqual(
      decodeRecordBatches(both).map((batch) => batch.baseOffset),
      [0, 4],
    );
    assert.deepEqual(decodeRecordBatches(one.subarray(0, 40)), []);
  });

  test('a damaged batch fails its CRC unless verification is off', () => {
    const damaged = encodeRecordBatch({ records: sample });
    damaged[damaged.indexOf('no key')]! ^= 1;
    assert.throws(() => decodeRecordBatches(damaged), { code: ErrorCode.CORRUPT_MESSAGE });
    const [batch] = decodeRecordBatches(damaged, { verifyCrc: false });
    assert.equal(batch!.records[1]!.value!.toString(), 'oo key');
  });

  test('property: any records round-trip with any codec', () => {
    const header = fc.record({
      key: fc.string({ maxLength: 12 }),
      value: fc.option(fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes))),
    });
    const record = fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes))),
      value: fc.option(fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes))),
      headers: fc.array(header, { maxLength: 3 }),
      timestamp: fc.integer({ min: -1, max: 2 ** 45 }),
    });
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 12 }),
        fc.constantFrom(...CODECS),
        fc.integer({ min: 0, max: 2 ** 50 }),
        (records, compression, baseOffset) => {
          const encoded = encodeRecordBatch({ records, compression, baseOffset });
          assert.equal(validateBatches(encoded).recordCount, records.length);
          const [batch] = decodeRecordBatches(encoded);
          assert.deepEqual(content(batch!), expected(records));
          assert.equal(batch!.records.at(-1)!.offset, baseOffset + records.length - 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('recompressBatch', () => {
  for (const from of CODECS) {
    for (const to of CODECS) {
      if (from === to) continue;
      test(`${from} → ${to} keeps header fields and records`, async () => {
        const original = encodeRecordBatch({
          records: sample,
          compression: from,
          baseOffset: 10,
          partitionLeaderEpoch: 2,
          producerId: 77,
          producerEpoch: 1,
          baseSequence: 5,
        });
        const recompressed = recompressBatch(original, to);
        assert.deepEqual(await recompressBatchAsync(original, to), recompressed);
        assert.equal(validateBatches(recompressed).batches[0]!.codec, CODECS.indexOf(to));
        const [before] = decodeRecordBatches(original);
        const [after] = decodeRecordBatches(recompressed);
        assert.deepEqual(
          { ...after!, records: content(after!), crc: 0, batchLength: 0, codec: 0, attributes: 0 },
          { ...before!, records: content(before!), crc: 0, batchLength: 0, codec: 0, attributes: 0 },
        );
        assert.equal(
          recompressed.readUInt16BE(ATTRIBUTES_OFFSET) & ~7,
          original.readUInt16BE(ATTRIBUTES_OFFSET) & ~7,
        );
        // Base offset, then leader epoch and magic: everything around the new batch length.
        assert.deepEqual(recompressed.subarray(0, 8), original.subarray(0, 8));
        assert.deepEqual(recompressed.subarray(12, 17), original.subarray(12, 17));
      });
    }
  }

  test('the same codec returns the batch untouched', () => {
    const batch = encodeRecordBatch({ records: sample, compression: 'zstd' });
    assert.equal(recompressBatch(batch, 'zstd'), batch);
  });

  test('refuses anything but one whole batch', () => {
    const batch = encodeRecordBatch({ records: sample });
    assert.throws(() => recompressBatch(Buffer.concat([batch, batch]), 'gzip'), RecordError);
    assert.throws(() => recompressBatch(batch.subarray(0, RECORDS_OFFSET - 1), 'gzip'), RecordError);
  });
});
