import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode } from '../errors.js';
import { decodeRecordBatches, encodeRecordBatch, type RecordInput } from './batch.js';
import { crc32c } from './crc.js';
import { RecordError } from './errors.js';
import {
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  readInt64,
} from './layout.js';
import { stampLogAppendTime, validateBatches, writeMaxTimestamps } from './validate.js';

function records(count: number, valueBytes: number, firstTimestamp = 1_700_000_000_000): RecordInput[] {
  return Array.from({ length: count }, (_, index) => ({
    key: Buffer.from(`key-${index}`),
    value: Buffer.alloc(valueBytes, index),
    headers: [{ key: 'h', value: Buffer.from([index & 0xff]) }],
    timestamp: firstTimestamp + index,
  }));
}

/** Rewrites the CRC of the batch at `position`, as a producer that built these bytes would have. */
function reseal(buf: Buffer, position = 0): Buffer {
  const end = position + 12 + buf.readInt32BE(position + 8);
  buf.writeUInt32BE(crc32c(buf, position + ATTRIBUTES_OFFSET, end), position + CRC_OFFSET);
  return buf;
}

function codeOf(run: () => unknown): number {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof RecordError, `expected a RecordError, got ${String(error)}`);
    return error.code;
  }
  assert.fail('expected a RecordError');
}

describe('validateBatches', () => {
  const first = encodeRecordBatch({
    records: records(3, 10),
    producerId: 7,
    producerEpoch: 1,
    baseSequence: 0,
  });
  const second = encodeRecordBatch({ records: records(2, 5, 1_800_000_000_000), compression: 'gzip' });

  test('summarises a valid multi-batch buffer', () => {
    const summary = validateBatches(Buffer.concat([first, second]), { maxBatchBytes: 1024 });
    assert.equal(summary.batchCount, 2);
    assert.equal(summary.recordCount, 5);
    assert.equal(summary.firstTimestamp, 1_700_000_000_000);
    assert.equal(summary.maxTimestamp, 1_800_000_000_001);
    assert.deepEqual(summary.batches[0], {
      position: 0,
      length: first.length,
      lastOffsetDelta: 2,
      recordCount: 3,
      baseTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_002,
      maxTimestampStale: false,
      codec: 0,
      producerId: 7,
      producerEpoch: 1,
      baseSequence: 0,
      isTransactional: false,
      isControl: false,
    });
    assert.equal(summary.batches[1]!.position, first.length);
    assert.equal(summary.batches[1]!.codec, 1);
    assert.equal(summary.batches[1]!.producerId, -1);
  });

  test('an empty buffer has no batches', () => {
    assert.deepEqual(validateBatches(Buffer.alloc(0)), {
      batchCount: 0,
      recordCount: 0,
      firstTimestamp: -1,
      maxTimestamp: -1,
      batches: [],
    });
  });

  test('a flipped byte under the CRC is CORRUPT_MESSAGE', () => {
    const damaged = Buffer.from(first);
    damaged[RECORDS_OFFSET + 3]! ^= 0x01;
    assert.equal(
      codeOf(() => validateBatches(damaged)),
      ErrorCode.CORRUPT_MESSAGE,
    );
    const badCrc = Buffer.from(first);
    badCrc[CRC_OFFSET]! ^= 0x80;
    assert.equal(
      codeOf(() => validateBatches(badCrc)),
      ErrorCode.CORRUPT_MESSAGE,
    );
  });

  test('a truncated batch is CORRUPT_MESSAGE, at any cut', () => {
    const both = Buffer.concat([first, second]);
    for (const cut of [1, 11, 12, 30, first.length - 1, first.length + 5, both.length - 1]) {
      assert.equal(
        codeOf(() => validateBatches(both.subarray(0, cut))),
        ErrorCode.CORRUPT_MESSAGE,
        `cut ${cut}`,
      );
    }
  });

  test('a wrong magic is INVALID_RECORD', () => {
    const legacy = Buffer.from(first);
    legacy[16] = 1;
    assert.equal(
      codeOf(() => validateBatches(legacy)),
      ErrorCode.INVALID_RECORD,
    );
  });

  test('a record count that disagrees with the last offset delta is INVALID_RECORD', () => {
    const wrongDelta = Buffer.from(first);
    wrongDelta.writeInt32BE(5, LAST_OFFSET_DELTA_OFFSET);
    assert.equal(
      codeOf(() => validateBatches(reseal(wrongDelta))),
      ErrorCode.INVALID_RECORD,
    );
    const wrongCount = Buffer.from(first);
    wrongCount.writeInt32BE(2, RECORD_COUNT_OFFSET);
    wrongCount.writeInt32BE(1, LAST_OFFSET_DELTA_OFFSET);
    assert.equal(
      codeOf(() => validateBatches(reseal(wrongCount))),
      ErrorCode.INVALID_RECORD,
    );
    const noRecords = Buffer.from(first);
    noRecords.writeInt32BE(0, RECORD_COUNT_OFFSET);
    noRecords.writeInt32BE(-1, LAST_OFFSET_DELTA_OFFSET);
    assert.equal(
      codeOf(() => validateBatches(reseal(noRecords))),
      ErrorCode.INVALID_RECORD,
    );
  });

  test('records that do not fill the batch exactly are INVALID_RECORD', () => {
    const grown = Buffer.concat([first, Buffer.from([0])]);
    grown.writeInt32BE(grown.length - 12, 8);
    assert.equal(
      codeOf(() => validateBatches(reseal(grown))),
      ErrorCode.INVALID_RECORD,
    );
    // The first record's length varint claims one byte more than its fields take.
    const longRecord = Buffer.from(first);
    longRecord[RECORDS_OFFSET]! += 2;
    assert.equal(
      codeOf(() => validateBatches(reseal(longRecord))),
      ErrorCode.INVALID_RECORD,
    );
  });

  test('an unknown codec is UNSUPPORTED_COMPRESSION_TYPE', () => {
    const unknown = Buffer.from(second);
    unknown.writeUInt16BE((unknown.readUInt16BE(ATTRIBUTES_OFFSET) & ~7) | 5, ATTRIBUTES_OFFSET);
    assert.equal(
      codeOf(() => validateBatches(reseal(unknown))),
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
    );
  });

  test('a batch over maxBatchBytes is MESSAGE_TOO_LARGE; a set over maxTotalBytes is RECORD_LIST_TOO_LARGE', () => {
    assert.equal(
      codeOf(() => validateBatches(first, { maxBatchBytes: first.length - 1 })),
      ErrorCode.MESSAGE_TOO_LARGE,
    );
    assert.equal(validateBatches(first, { maxBatchBytes: first.length }).batchCount, 1);
    assert.equal(
      codeOf(() => validateBatches(first, { maxTotalBytes: first.length - 1 })),
      ErrorCode.RECORD_LIST_TOO_LARGE,
    );
    // Over both: the batch check comes first, as in Kafka.
    assert.equal(
      codeOf(() =>
        validateBatches(first, { maxBatchBytes: first.length - 1, maxTotalBytes: first.length - 1 }),
      ),
      ErrorCode.MESSAGE_TOO_LARGE,
    );
  });

  for (const compression of ['none', 'zstd'] as const) {
    test(`requireKeys (a compacted topic): a ${compression} batch with a keyless record is INVALID_RECORD, an empty key is fine`, () => {
      const keyed = records(3, 10);
      const withKeys = encodeRecordBatch({ records: keyed, compression });
      assert.equal(validateBatches(withKeys, { requireKeys: true }).recordCount, 3);
      const emptyKey = encodeRecordBatch({ records: [{ ...keyed[0]!, key: Buffer.alloc(0) }], compression });
      assert.equal(validateBatches(emptyKey, { requireKeys: true }).recordCount, 1);
      const keyless = encodeRecordBatch({
        records: [keyed[0]!, { ...keyed[1]!, key: null }, keyed[2]!],
        compression,
      });
      assert.equal(validateBatches(keyless).recordCount, 3);
      assert.equal(
        codeOf(() => validateBatches(Buffer.concat([withKeys, keyless]), { requireKeys: true })),
        ErrorCode.INVALID_RECORD,
      );
      assert.throws(
        () => validateBatches(keyless, { requireKeys: true }),
        /without key \(record 1 of batch at byte 0\)/,
      );
    });
  }

  test('producer fields must be consistent', () => {
    const transactionalWithoutProducer = encodeRecordBatch({ records: records(1, 1), isTransactional: true });
    assert.equal(
      codeOf(() => validateBatches(transactionalWithoutProducer)),
      ErrorCode.INVALID_RECORD,
    );
    const producerWithoutSequence = encodeRecordBatch({
      records: records(1, 1),
      producerId: 3,
      baseSequence: -1,
    });
    assert.equal(
      codeOf(() => validateBatches(producerWithoutSequence)),
      ErrorCode.INVALID_RECORD,
    );
  });

  test('random bytes only ever fail with a RecordError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        try {
          validateBatches(Buffer.from(bytes));
        } catch (error) {
          return error instanceof RecordError;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  test('mutated valid batches (CRC resealed) only ever fail with a RecordError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const mutated = Buffer.from(first);
          for (const [at, byte] of edits)
            mutated[RECORDS_OFFSET + (at % (mutated.length - RECORDS_OFFSET))] = byte;
          try {
            validateBatches(reseal(mutated));
          } catch (error) {
            return error instanceof RecordError;
          }
          return true;
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('stampLogAppendTime', () => {
  test('LogAppendTime sets the attribute and MaxTimestamp and reseals the CRC', () => {
    const batch = encodeRecordBatch({ records: records(2, 4), compression: 'snappy' });
    stampLogAppendTime(batch, 1_900_000_000_000);
    assert.equal(validateBatches(batch).maxTimestamp, 1_900_000_000_000);
    assert.equal(readInt64(batch, MAX_TIMESTAMP_OFFSET), 1_900_000_000_000);
    const [decoded] = decodeRecordBatches(batch);
    assert.equal(decoded!.timestampType, 'logAppend');
    assert.deepEqual(
      decoded!.records.map((record) => record.timestamp),
      [1_900_000_000_000, 1_900_000_000_000],
    );
  });
});

describe('writeMaxTimestamps', () => {
  const base = 1_700_000_000_000;
  const shuffled: RecordInput[] = [5, 0, 9, 2].map((delta, index) => ({
    key: null,
    value: Buffer.from(`v${index}`),
    timestamp: base + delta,
  }));

  for (const compression of ['none', 'gzip', 'lz4'] as const) {
    test(`a ${compression} batch whose producer left MaxTimestamp at -1 gets its largest record timestamp`, () => {
      // sarama 1.22.1 never fills MaxTimestamp in.
      const batch = encodeRecordBatch({ records: shuffled, compression });
      batch.writeBigInt64BE(-1n, MAX_TIMESTAMP_OFFSET);
      reseal(batch);
      const summary = validateBatches(batch);
      assert.equal(summary.maxTimestamp, base + 9);
      assert.equal(summary.batches[0]!.maxTimestampStale, true);
      writeMaxTimestamps(batch, summary);
      assert.equal(readInt64(batch, MAX_TIMESTAMP_OFFSET), base + 9);
      // The CRC was resealed: the batch validates, and nothing is left to correct.
      assert.equal(validateBatches(batch).batches[0]!.maxTimestampStale, false);
      assert.deepEqual(
        decodeRecordBatches(batch)[0]!.records.map((record) => record.timestamp),
        [5, 0, 9, 2].map((delta) => base + delta),
      );
    });
  }

  test('an uncompressed batch whose MaxTimestamp is a smaller record timestamp is corrected too', () => {
    const batch = encodeRecordBatch({ records: shuffled });
    batch.writeBigInt64BE(BigInt(base + 5), MAX_TIMESTAMP_OFFSET);
    reseal(batch);
    const summary = validateBatches(batch);
    writeMaxTimestamps(batch, summary);
    assert.equal(readInt64(batch, MAX_TIMESTAMP_OFFSET), base + 9);
  });

  test('a batch with the right MaxTimestamp is left as it is', () => {
    const batch = encodeRecordBatch({ records: shuffled, compression: 'gzip' });
    const before = Buffer.from(batch);
    writeMaxTimestamps(batch, validateBatches(batch));
    assert.deepEqual(batch, before);
  });
});
