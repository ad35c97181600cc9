import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import { describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import { parseCpuTicks, parseRssBytes } from '../process-sampler.js';
import { KafkaConnection } from './connection.js';
import {
  encodeRecordBatch,
  forEachRecordValue,
  lastRecordValueOffset,
  spanOfBatches,
  updateRecordBatchCrc,
} from './record-batch.js';
import {
  encodeFetchRequest,
  encodeProduceRequest,
  parseProduceResponse,
  walkFetchResponse,
} from './requests.js';

const require = createRequire(import.meta.url);
type KafkajsEncoder = { buffer: Buffer };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (options: Record<string, unknown>) => Promise<KafkajsEncoder>;
};
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (
  options: Record<string, unknown>,
) => unknown;
const kafkajsFetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/request.js') as (
  options: Record<string, unknown>,
) => { encode: () => Promise<KafkajsEncoder> };

/** Request header v1 with client id 'sluice-bench': api key, version, correlation id, string. */
const REQUEST_HEADER_BYTES = 2 + 2 + 4 + 2 + 'sluice-bench'.length;

describe('record batches', () => {
  test('match the bytes kafkajs encodes for the same records', async () => {
    const values = [Buffer.from('first value'), Buffer.alloc(300, 7), Buffer.from('')];
    const ours = encodeRecordBatch(values, {
      timestampMs: 1_700_000_000_123,
      partitionLeaderEpoch: 0,
      producerId: -1n,
      producerEpoch: 0,
      baseSequence: 0,
    });
    const theirs = await RecordBatch({
      firstTimestamp: 1_700_000_000_123,
      maxTimestamp: 1_700_000_000_123,
      lastOffsetDelta: 2,
      records: values.map((value, offsetDelta) => KafkajsRecord({ offsetDelta, key: null, value })),
    });
    assert.deepEqual(ours, theirs.buffer);
  });

  test('updateRecordBatchCrc makes a patched value valid again', () => {
    const batch = encodeRecordBatch([Buffer.alloc(16)], { timestampMs: 5 });
    batch.writeUInt32BE(0xdeadbeef, lastRecordValueOffset(batch, 16));
    updateRecordBatchCrc(batch);
    assert.equal(batch.readUInt32BE(17), crc32c(batch.subarray(21)));
    assert.equal(batch.readUInt32BE(lastRecordValueOffset(batch, 16)), 0xdeadbeef);
  });

  test('spanOfBatches counts complete batches and ignores a cut-off tail', () => {
    const first = encodeRecordBatch([Buffer.alloc(10), Buffer.alloc(10)], { timestampMs: 0 });
    const second = encodeRecordBatch([Buffer.alloc(10)], { timestampMs: 0 });
    second.writeBigInt64BE(2n, 0);
    const third = encodeRecordBatch([Buffer.alloc(10)], { timestampMs: 0 });
    third.writeBigInt64BE(3n, 0);
    const joined = Buffer.concat([first, second, third.subarray(0, 30)]);
    assert.deepEqual(spanOfBatches(joined, 0, joined.length), {
      nextOffset: 3,
      records: 3,
      bytes: first.length + second.length,
    });
    assert.deepEqual(spanOfBatches(joined, 0, 20), { nextOffset: -1, records: 0, bytes: 0 });
  });

  test('forEachRecordValue yields every value in order', () => {
    const batch = encodeRecordBatch([Buffer.from('a'), Buffer.alloc(200, 1), Buffer.from('xyz')], {
      timestampMs: 0,
    });
    const seen: string[] = [];
    const next = forEachRecordValue(batch, 0, batch.length, (buf, start, end) => {
      seen.push(`${buf.toString('hex', start, Math.min(end, start + 3))}/${end - start}`);
    });
    assert.deepEqual(seen, ['61/1', '010101/200', '78797a/3']);
    assert.equal(next, 3);
  });
});

describe('requests', () => {
  test('Fetch v11 body matches kafkajs', async () => {
    const ours = encodeFetchRequest(
      9,
      { maxWaitMs: 500, minBytes: 1, maxBytes: 1000 },
      new Map([['t', [{ partition: 3, fetchOffset: 42, partitionMaxBytes: 100 }]]]),
    );
    const theirs = await kafkajsFetchV11({
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 1000,
      isolationLevel: 0,
      topics: [{ topic: 't', partitions: [{ partition: 3, fetchOffset: '42', maxBytes: 100 }] }],
    }).encode();
    assert.deepEqual(ours.subarray(4 + REQUEST_HEADER_BYTES), theirs.buffer);
    assert.equal(ours.readInt32BE(0), ours.length - 4);
    assert.deepEqual([ours.readInt16BE(4), ours.readInt16BE(6), ours.readInt32BE(8)], [1, 11, 9]);
  });

  test('Produce v7 ends with the records bytes so they can be patched in place', () => {
    const records = encodeRecordBatch([Buffer.alloc(8)], { timestampMs: 0 });
    const frame = encodeProduceRequest(4, -1, 3000, 'topic', [{ partition: 2, records }]);
    const body = frame.subarray(4 + REQUEST_HEADER_BYTES);
    assert.equal(body.readInt16BE(0), -1); // null transactional id
    assert.equal(body.readInt16BE(2), -1); // acks
    assert.equal(body.readInt32BE(4), 3000);
    assert.equal(body.readInt32BE(8), 1); // one topic
    assert.equal(body.toString('utf8', 14, 19), 'topic');
    assert.equal(body.readInt32BE(23), 2); // partition
    assert.equal(body.readInt32BE(27), records.length);
    assert.deepEqual(frame.subarray(frame.length - records.length), records);
  });

  test('Produce v7 response: base offsets, and an error code throws', () => {
    const response = (errorCode: number) => {
      const b = Buffer.alloc(4 + 2 + 1 + 4 + 4 + 2 + 8 + 8 + 8 + 4);
      let o = b.writeInt32BE(1, 0);
      o = b.writeInt16BE(1, o);
      o += b.write('t', o);
      o = b.writeInt32BE(1, o);
      o = b.writeInt32BE(5, o);
      o = b.writeInt16BE(errorCode, o);
      b.writeBigInt64BE(1234n, o);
      return b;
    };
    assert.deepEqual(parseProduceResponse(response(0)), [{ partition: 5, baseOffset: 1234 }]);
    assert.throws(() => parseProduceResponse(response(6)), /Kafka error code 6/);
  });

  test('walkFetchResponse finds the records range of each partition', () => {
    const records = Buffer.from('RECORDS');
    const b = Buffer.alloc(4 + 2 + 4 + 4 + 2 + 1 + 4 + 4 + 2 + 8 + 8 + 8 + 4 + 4 + 4 + records.length);
    let o = b.writeInt32BE(0, 0);
    o = b.writeInt16BE(0, o);
    o = b.writeInt32BE(0, o);
    o = b.writeInt32BE(1, o);
    o = b.writeInt16BE(1, o);
    o += b.write('t', o);
    o = b.writeInt32BE(1, o);
    o = b.writeInt32BE(7, o);
    o = b.writeInt16BE(0, o);
    o = Number(b.writeBigInt64BE(99n, o));
    o = Number(b.writeBigInt64BE(99n, o));
    o = Number(b.writeBigInt64BE(0n, o));
    o = b.writeInt32BE(-1, o); // no aborted transactions
    o = b.writeInt32BE(-1, o); // preferred read replica
    o = b.writeInt32BE(records.length, o);
    records.copy(b, o);
    const seen: unknown[] = [];
    walkFetchResponse(b, (topic, partition, highWatermark, start, end) => {
      seen.push([topic, partition, highWatermark, b.toString('utf8', start, end)]);
    });
    assert.deepEqual(seen, [['t', 7, 99, 'RECORDS']]);
  });
});

describe('KafkaConnection', () => {
  test('reassembles responses split byte by byte and several per chunk, in order', async () => {
    const server = net.createServer((socket) => {
      let received = Buffer.alloc(0);
      let answered = false;
      socket.on('data', async (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (answered || received.length < 3 * 26) return;
        answered = true;
        const frames = [1, 2, 3].map((correlationId) => {
          const frame = Buffer.alloc(4 + 4 + 3);
          frame.writeInt32BE(7, 0);
          frame.writeInt32BE(correlationId, 4);
          frame.write(`r${correlationId}!`, 8);
          return frame;
        });
        const first = frames[0]!;
        for (const byte of first) {
          socket.write(Buffer.from([byte]));
          await new Promise((resolve) => setImmediate(resolve));
        }
        socket.write(Buffer.concat([frames[1]!, frames[2]!]));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const connection = await KafkaConnection.connect('127.0.0.1', port, { maxInFlight: 3 });
    try {
      const request = (correlationId: number) => {
        const frame = Buffer.alloc(26);
        frame.writeInt32BE(22, 0);
        frame.writeInt32BE(correlationId, 8);
        return connection.request(frame, (payload) => payload.toString());
      };
      assert.deepEqual(await Promise.all([request(1), request(2), request(3)]), ['r1!', 'r2!', 'r3!']);
      await assert.rejects(Promise.all([request(4), request(5), request(6), request(7)]), /in flight/);
    } finally {
      connection.close();
      server.close();
    }
  });
});

describe('process sampler parsing', () => {
  test('reads utime+stime after a command name with spaces, and VmRSS', () => {
    const stat = '123 (node my app) S 1 2 3 4 5 6 7 8 9 10 250 40 0 0 20 0 11 0 100 200';
    assert.equal(parseCpuTicks(stat), 290);
    assert.equal(parseRssBytes('Name:\tnode\nVmRSS:\t   51200 kB\nVmSwap:\t0 kB\n'), 51200 * 1024);
  });
});
