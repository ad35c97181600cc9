import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CodecId,
  type CodecIdValue,
  decodeRecordBatches,
  encodeRecordBatch,
  type RecordHeader,
} from '../../protocol/records/index.js';
import {
  dataLength,
  headersSize,
  RecordBatchBuilder,
  type RecordData,
  type RecordHeaders,
  soloBatchSize,
} from './batch-builder.js';

interface Sample {
  key: RecordData;
  value: RecordData;
  headers?: RecordHeaders;
  timestamp: number;
}

const samples: Sample[] = [
  { key: 'k1', value: 'hello', timestamp: 1_700_000_000_000 },
  { key: null, value: Buffer.from([0, 1, 2, 255]), timestamp: 1_700_000_000_005 },
  { key: Buffer.from('bin-key'), value: null, timestamp: 1_699_999_999_000 },
  {
    key: 'ünï',
    value: '日本語'.repeat(100),
    headers: { a: 'x', b: Buffer.from([7]), c: null },
    timestamp: 1_700_000_000_001,
  },
  {
    key: '',
    value: '',
    headers: { dup: ['one', Buffer.from('two')], skipped: undefined },
    timestamp: 1_700_000_000_002,
  },
];

function toBuffer(data: RecordData): Buffer | null {
  return data === null ? null : typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

function referenceHeaders(headers: RecordHeaders | undefined): RecordHeader[] {
  const list: RecordHeader[] = [];
  for (const [key, values] of Object.entries(headers ?? {})) {
    if (values === undefined) continue;
    for (const value of Array.isArray(values) ? values : [values]) list.push({ key, value: toBuffer(value) });
  }
  return list;
}

function build(records: Sample[], capacity = 64 * 1024): RecordBatchBuilder {
  const builder = new RecordBatchBuilder(capacity);
  for (const r of records) {
    const appended = builder.tryAppend(
      r.key,
      dataLength(r.key),
      r.value,
      dataLength(r.value),
      r.headers,
      headersSize(r.headers),
      r.timestamp,
    );
    assert.equal(appended, true);
  }
  return builder;
}

describe('RecordBatchBuilder', () => {
  test('uncompressed output equals encodeRecordBatch byte for byte', () => {
    const expected = encodeRecordBatch({
      records: samples.map((r) => ({
        key: toBuffer(r.key),
        value: toBuffer(r.value),
        headers: referenceHeaders(r.headers),
        timestamp: r.timestamp,
      })),
    });
    const actual = build(samples).sealUncompressed();
    assert.equal(actual.toString('hex'), expected.toString('hex'));
  });

  for (const [name, codec] of Object.entries(CodecId) as [string, CodecIdValue][]) {
    test(`${name}: decodes back to the same records`, async () => {
      const sealed = await build(samples).seal(codec);
      const [batch, ...rest] = decodeRecordBatches(sealed);
      assert.equal(rest.length, 0);
      assert.equal(batch!.codec, codec);
      assert.equal(batch!.baseTimestamp, 1_700_000_000_000);
      assert.equal(batch!.maxTimestamp, 1_700_000_000_005);
      assert.equal(batch!.lastOffsetDelta, samples.length - 1);
      assert.equal(batch!.producerId, -1);
      assert.deepEqual(
        batch!.records.map((r) => ({
          key: r.key,
          value: r.value,
          headers: r.headers,
          timestamp: r.timestamp,
        })),
        samples.map((r) => ({
          key: toBuffer(r.key),
          value: toBuffer(r.value),
          headers: referenceHeaders(r.headers),
          timestamp: r.timestamp,
        })),
      );
    });
  }

  test('refuses a record that does not fit, and writes nothing', () => {
    const value = 'v'.repeat(100);
    const one = soloBatchSize(-1, 100, 1);
    const builder = new RecordBatchBuilder(one + 50);
    assert.equal(builder.tryAppend(null, -1, value, 100, undefined, 1, 1), true);
    assert.equal(builder.sizeBytes, one);
    assert.equal(builder.tryAppend(null, -1, value, 100, undefined, 1, 1), false);
    assert.equal(builder.sizeBytes, one);
    assert.equal(builder.recordCount, 1);
    assert.equal(decodeRecordBatches(builder.sealUncompressed())[0]!.records.length, 1);
  });

  test('soloBatchSize is the exact size of a one-record batch', () => {
    const headers = { h: 'x' };
    const builder = build(
      [{ key: 'key', value: 'value', headers, timestamp: 5 }],
      soloBatchSize(3, 5, headersSize(headers)),
    );
    assert.equal(builder.sealUncompressed().length, soloBatchSize(3, 5, headersSize(headers)));
  });
});
