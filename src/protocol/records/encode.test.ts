import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  dataLength,
  headersSize,
  RecordBatchEncoder,
  type RecordData,
  type RecordHeaders,
  soloBatchSize,
} from './encode.js';
import {
  CodecId,
  type CodecIdValue,
  decodeRecordBatches,
  encodeRecordBatch,
  type RecordHeader,
} from './index.js';

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

/** An encoder over `chunkBytes`-sized chunks, enough of them for `limitBytes`. */
function encoder(limitBytes: number, chunkBytes = limitBytes): RecordBatchEncoder {
  const chunks = Array.from({ length: Math.ceil(limitBytes / chunkBytes) }, () => Buffer.alloc(chunkBytes));
  return new RecordBatchEncoder(chunks, limitBytes);
}

function build(records: Sample[], limitBytes = 64 * 1024, chunkBytes = limitBytes): RecordBatchEncoder {
  const builder = encoder(limitBytes, chunkBytes);
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

const reference = () =>
  encodeRecordBatch({
    records: samples.map((r) => ({
      key: toBuffer(r.key),
      value: toBuffer(r.value),
      headers: referenceHeaders(r.headers),
      timestamp: r.timestamp,
    })),
  });

describe('RecordBatchEncoder', () => {
  test('uncompressed output equals encodeRecordBatch byte for byte', () => {
    const actual = build(samples).sealUncompressed();
    assert.equal(actual.length, 1);
    assert.equal(Buffer.concat(actual).toString('hex'), reference().toString('hex'));
  });

  test('records cut across chunk boundaries give the same bytes', () => {
    // 100-byte chunks: the 900-byte value spans many, and most records straddle a boundary.
    const builder = build(samples, 2000, 100);
    const sealed = builder.sealUncompressed();
    assert.ok(sealed.length > 10);
    for (const view of sealed.slice(0, -1)) assert.equal(view.length, 100);
    assert.equal(Buffer.concat(sealed).toString('hex'), reference().toString('hex'));
    assert.equal(builder.sizeBytes, reference().length);
  });

  test('Buffer values cut at every point of a record give the same bytes', () => {
    // A 300-byte Buffer value with a key and headers, after a first record of every length from 1 to 460: the
    // chunk boundary falls in the record's head, its value, its headers, and on each edge between them.
    const value = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 251));
    const record: Sample = { key: 'key', value, headers: { h: Buffer.from('hv'), s: 'x' }, timestamp: 5 };
    for (let filler = 1; filler <= 460; filler++) {
      const records: Sample[] = [
        { key: null, value: Buffer.alloc(filler, 7), timestamp: 1 },
        record,
        { key: null, value: Buffer.alloc(0), timestamp: 9 },
      ];
      const expected = encodeRecordBatch({
        records: records.map((r) => ({
          key: toBuffer(r.key),
          value: toBuffer(r.value),
          headers: referenceHeaders(r.headers),
          timestamp: r.timestamp,
        })),
      });
      const sealed = build(records, 4096, 512).sealUncompressed();
      assert.equal(Buffer.concat(sealed).toString('hex'), expected.toString('hex'), `filler ${filler}`);
    }
  });

  test('header lists and custom offset deltas, as encodeRecordBatch takes them', () => {
    const builder = encoder(1024);
    const headers = [
      { key: 'a', value: Buffer.from('x') },
      { key: 'a', value: null },
    ];
    assert.equal(
      builder.tryAppend(null, -1, Buffer.from('v'), 1, headers, headersSize(headers), 10, 3),
      true,
    );
    const sealed = Buffer.concat(
      builder.sealUncompressed({ baseOffset: 7, producerId: 5, producerEpoch: 1 }),
    );
    const expected = encodeRecordBatch({
      baseOffset: 7,
      producerId: 5,
      producerEpoch: 1,
      records: [{ key: null, value: Buffer.from('v'), headers, timestamp: 10, offsetDelta: 3 }],
    });
    assert.equal(sealed.toString('hex'), expected.toString('hex'));
  });

  for (const [name, codec] of Object.entries(CodecId) as [string, CodecIdValue][]) {
    test(`${name}: decodes back to the same records`, async () => {
      const sealed = Buffer.concat(await build(samples, 2000, 128).seal(codec));
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
    const builder = encoder(one + 50);
    assert.equal(builder.tryAppend(null, -1, value, 100, undefined, 1, 1), true);
    assert.equal(builder.sizeBytes, one);
    assert.equal(builder.tryAppend(null, -1, value, 100, undefined, 1, 1), false);
    assert.equal(builder.sizeBytes, one);
    assert.equal(builder.recordCount, 1);
    assert.equal(decodeRecordBatches(Buffer.concat(builder.sealUncompressed()))[0]!.records.length, 1);
  });

  test('grows with added chunks once its limit is raised', () => {
    const value = 'v'.repeat(100);
    const one = soloBatchSize(-1, 100, 1);
    const builder = encoder(one, one);
    assert.equal(builder.tryAppend(null, -1, value, 100, undefined, 1, 1), true);
    assert.equal(builder.tryAppend(null, -1, value, 100, undefined, 1, 1), false);
    builder.raiseLimit(10_000);
    assert.equal(builder.limitBytes, one, 'no further than the chunks reach');
    builder.addChunk(Buffer.alloc(one));
    builder.raiseLimit(10_000);
    assert.equal(builder.limitBytes, 2 * one);
    assert.equal(builder.tryAppend(null, -1, value, 100, undefined, 1, 2), true);
    const [batch] = decodeRecordBatches(Buffer.concat(builder.sealUncompressed()));
    assert.deepEqual(
      batch!.records.map((r) => [r.offset, r.timestamp, r.value?.toString()]),
      [
        [0, 1, value],
        [1, 2, value],
      ],
    );
  });

  test('soloBatchSize is the exact size of a one-record batch', () => {
    const headers = { h: 'x' };
    const builder = build(
      [{ key: 'key', value: 'value', headers, timestamp: 5 }],
      soloBatchSize(3, 5, headersSize(headers)),
    );
    assert.equal(Buffer.concat(builder.sealUncompressed()).length, soloBatchSize(3, 5, headersSize(headers)));
  });
});
