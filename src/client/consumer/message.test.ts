import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeRecordBatch, type RecordInput } from '../../protocol/records/batch.js';
import { type DecodePartitionOptions, decodePartitionRecords, nextFetchOffset } from './message.js';

const options: DecodePartitionOptions = {
  topic: 't',
  partition: 2,
  fetchOffset: 0,
  verifyCrc: true,
  abortedTransactions: null,
  maxDecompressedBytes: 1 << 20,
};

function records(count: number, from = 0): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: i % 2 === 0 ? Buffer.from(`k${from + i}`) : null,
    value: i === 1 ? null : Buffer.from(`v${from + i}`),
    headers:
      i % 3 === 0
        ? [
            { key: 'h', value: Buffer.from(`x${i}`) },
            { key: 'n', value: null },
          ]
        : [],
    timestamp: 1_000 + i,
  }));
}

function plain(messages: Awaited<ReturnType<typeof decodePartitionRecords>>['messages']) {
  return messages.map((m) => ({
    partition: m.partition,
    offset: m.offset,
    key: m.key?.toString() ?? null,
    value: m.value?.toString() ?? null,
    headers: m.headers.map((h) => [h.key, h.value?.toString() ?? null]),
    timestamp: m.timestamp,
  }));
}

describe('decodePartitionRecords', () => {
  test('decodes keys, values, headers and timestamps of plain and compressed batches', async () => {
    const buf = Buffer.concat([
      encodeRecordBatch({ baseOffset: 0, records: records(3) }),
      encodeRecordBatch({ baseOffset: 3, records: records(2, 3), compression: 'gzip' }),
    ]);
    const decoded = await decodePartitionRecords(buf, options);
    assert.equal(decoded.nextOffset, 5);
    assert.deepEqual(plain(decoded.messages), [
      {
        partition: 2,
        offset: 0,
        key: 'k0',
        value: 'v0',
        headers: [
          ['h', 'x0'],
          ['n', null],
        ],
        timestamp: 1000,
      },
      { partition: 2, offset: 1, key: null, value: null, headers: [], timestamp: 1001 },
      { partition: 2, offset: 2, key: 'k2', value: 'v2', headers: [], timestamp: 1002 },
      {
        partition: 2,
        offset: 3,
        key: 'k3',
        value: 'v3',
        headers: [
          ['h', 'x0'],
          ['n', null],
        ],
        timestamp: 1000,
      },
      { partition: 2, offset: 4, key: null, value: null, headers: [], timestamp: 1001 },
    ]);
  });

  test('skips records below the fetch offset, control batches and a partial trailing batch', async () => {
    const whole = encodeRecordBatch({ baseOffset: 10, records: records(4, 10) });
    const control = encodeRecordBatch({
      baseOffset: 14,
      isControl: true,
      isTransactional: true,
      producerId: 9,
      records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]), timestamp: 5 }],
    });
    const partial = encodeRecordBatch({ baseOffset: 15, records: records(3, 15) });
    const buf = Buffer.concat([whole, control, partial.subarray(0, partial.length - 5)]);
    const decoded = await decodePartitionRecords(buf, { ...options, fetchOffset: 12 });
    assert.deepEqual(
      decoded.messages.map((m) => m.offset),
      [12, 13],
    );
    assert.equal(decoded.nextOffset, 15);
    assert.equal(nextFetchOffset(buf, 12), 15);
  });

  test('read_committed drops aborted transactional batches', async () => {
    const txn = (baseOffset: number, producerId: number) =>
      encodeRecordBatch({ baseOffset, isTransactional: true, producerId, records: records(2, baseOffset) });
    const abortMarker = encodeRecordBatch({
      baseOffset: 4,
      isControl: true,
      isTransactional: true,
      producerId: 7,
      records: [{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]), timestamp: 5 }],
    });
    const buf = Buffer.concat([txn(0, 7), txn(2, 8), abortMarker, txn(5, 7)]);
    const decoded = await decodePartitionRecords(buf, {
      ...options,
      abortedTransactions: [{ producerId: 7, firstOffset: 0 }],
    });
    assert.deepEqual(
      decoded.messages.map((m) => m.offset),
      [2, 3, 5, 6],
    );
    const uncommitted = await decodePartitionRecords(buf, options);
    assert.deepEqual(
      uncommitted.messages.map((m) => m.offset),
      [0, 1, 2, 3, 5, 6],
    );
  });

  test('records inside a larger buffer (a Fetch frame) give Buffer views of exactly their bytes', async () => {
    const batch = encodeRecordBatch({ baseOffset: 0, records: records(4) });
    const frame = Buffer.alloc(batch.length + 200, 0xee);
    batch.copy(frame, 137);
    const section = frame.subarray(137, 137 + batch.length);
    const decoded = await decodePartitionRecords(section, options);
    const first = decoded.messages[0]!;
    assert.ok(Buffer.isBuffer(first.key) && Buffer.isBuffer(first.value));
    assert.equal(first.value!.buffer, frame.buffer);
    assert.deepEqual(
      plain(decoded.messages),
      plain((await decodePartitionRecords(Buffer.from(batch), options)).messages),
    );
    assert.deepEqual(
      decoded.messages.map((m) => [m.key?.toString() ?? null, m.value?.toString() ?? null, m.headers.length]),
      [
        ['k0', 'v0', 2],
        [null, null, 0],
        ['k2', 'v2', 0],
        [null, 'v3', 2],
      ],
    );
    assert.deepEqual(
      first.headers.map((h) => [h.key, h.value?.toString() ?? null]),
      [
        ['h', 'x0'],
        ['n', null],
      ],
    );
  });

  test('a corrupted batch fails its CRC check with CORRUPT_MESSAGE', async () => {
    const buf = encodeRecordBatch({ baseOffset: 0, records: records(2) });
    buf[buf.length - 3]! ^= 0xff;
    await assert.rejects(decodePartitionRecords(buf, options), {
      name: 'RecordError',
      type: 'CORRUPT_MESSAGE',
    });
  });

  test('timestamp deltas of one and several varint bytes, negative ones included', async () => {
    const timestamps = [5_000, 5_001, 4_990, 5_000 + 2 ** 40, 5_063, 5_064];
    const buf = encodeRecordBatch({
      baseOffset: 0,
      records: timestamps.map((timestamp) => ({ key: null, value: Buffer.from('v'), timestamp })),
    });
    const decoded = await decodePartitionRecords(buf, { ...options, verifyCrc: false });
    assert.deepEqual(
      decoded.messages.map((m) => m.timestamp),
      timestamps,
    );
  });

  test('a record with bytes after its header count is CORRUPT_MESSAGE, CRC checks off', async () => {
    // One record: length 7 | attributes | timestamp delta | offset delta | key null | value 'v' (2) | headers 0.
    const buf = encodeRecordBatch({
      baseOffset: 0,
      records: [{ key: null, value: Buffer.from('v'), timestamp: 1 }],
    });
    const lengthAt = 61;
    assert.equal(buf[lengthAt], 7 << 1);
    // Claim one more body byte and supply it: the header count is then no longer the record's last byte.
    const grown = Buffer.concat([buf, Buffer.from([0])]);
    grown[lengthAt] = 8 << 1;
    grown.writeInt32BE(grown.length - 12, 8);
    await assert.rejects(decodePartitionRecords(grown, { ...options, verifyCrc: false }), {
      name: 'RecordError',
      type: 'CORRUPT_MESSAGE',
    });
  });
});
