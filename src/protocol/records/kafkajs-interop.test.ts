// Interop with kafkajs 2.2.4's own RecordBatch encoder and decoder (its internal modules, loaded with require).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { decodeRecordBatches, encodeRecordBatch } from './batch.js';
import { validateBatches } from './validate.js';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const decodeKafkajsBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js');
const Decoder = require('kafkajs/src/protocol/decoder.js');
const Long = require('kafkajs/src/utils/long.js');
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js');
const { Types: KafkajsCompression } = require('kafkajs/src/protocol/message/compression/index.js');

const FIRST_TIMESTAMP = 1_700_000_123_000;

const kafkajsRecords = [
  {
    key: Buffer.from('user-1'),
    value: Buffer.from('{"n":1}'),
    headers: { trace: Buffer.from('t-1') },
    delta: 0,
  },
  { key: null, value: Buffer.from('no key'), headers: {}, delta: 7 },
  { key: Buffer.from('gone'), value: null, headers: { a: Buffer.from('1'), b: Buffer.from('22') }, delta: 3 },
];

async function kafkajsBatch(compression: number, transactional: boolean): Promise<Buffer> {
  const encoder = await RecordBatch({
    compression,
    firstOffset: Long.fromValue(0),
    firstTimestamp: FIRST_TIMESTAMP,
    maxTimestamp: FIRST_TIMESTAMP + 7,
    lastOffsetDelta: kafkajsRecords.length - 1,
    transactional,
    producerId: Long.fromValue(transactional ? 4242 : -1),
    producerEpoch: transactional ? 3 : 0,
    firstSequence: transactional ? 10 : 0,
    records: kafkajsRecords.map((record, index) =>
      Record({
        offsetDelta: index,
        timestampDelta: record.delta,
        key: record.key,
        value: record.value,
        headers: record.headers,
      }),
    ),
  });
  return encoder.buffer as Buffer;
}

describe('kafkajs 2.2.4 → Sluice', () => {
  for (const [name, compression] of [
    ['none', KafkajsCompression.None],
    ['gzip', KafkajsCompression.GZIP],
  ] as const) {
    test(`decodes and validates a kafkajs ${name} batch exactly`, async () => {
      const bytes = await kafkajsBatch(compression, true);
      const summary = validateBatches(bytes);
      assert.equal(summary.recordCount, 3);
      assert.equal(summary.batches[0]!.producerId, 4242);
      assert.equal(summary.batches[0]!.isTransactional, true);
      const [batch] = decodeRecordBatches(bytes);
      assert.equal(batch!.partitionLeaderEpoch, 0);
      assert.equal(batch!.codec, compression);
      assert.equal(batch!.producerEpoch, 3);
      assert.equal(batch!.baseSequence, 10);
      assert.equal(batch!.maxTimestamp, FIRST_TIMESTAMP + 7);
      assert.deepEqual(
        batch!.records.map((record) => ({
          key: record.key?.toString() ?? null,
          value: record.value?.toString() ?? null,
          headers: record.headers.map((header) => [header.key, header.value?.toString()]),
          timestamp: record.timestamp,
          offset: record.offset,
        })),
        [
          {
            key: 'user-1',
            value: '{"n":1}',
            headers: [['trace', 't-1']],
            timestamp: FIRST_TIMESTAMP,
            offset: 0,
          },
          { key: null, value: 'no key', headers: [], timestamp: FIRST_TIMESTAMP + 7, offset: 1 },
          {
            key: 'gone',
            value: null,
            headers: [
              ['a', '1'],
              ['b', '22'],
            ],
            timestamp: FIRST_TIMESTAMP + 3,
            offset: 2,
          },
        ],
      );
    });
  }
});

describe('Sluice → kafkajs 2.2.4', () => {
  for (const compression of ['none', 'gzip'] as const) {
    test(`kafkajs decodes a Sluice ${compression} batch exactly`, async () => {
      const bytes = encodeRecordBatch({
        baseOffset: 500,
        partitionLeaderEpoch: 2,
        compression,
        producerId: 99,
        producerEpoch: 1,
        baseSequence: 0,
        records: [
          {
            key: Buffer.from('k'),
            value: Buffer.from('v'),
            headers: [{ key: 'h', value: Buffer.from('x') }],
            timestamp: FIRST_TIMESTAMP,
          },
          { key: null, value: Buffer.from('second'), timestamp: FIRST_TIMESTAMP + 50 },
          { key: Buffer.from('tomb'), value: null, timestamp: FIRST_TIMESTAMP + 10 },
        ],
      });
      // kafkajs does not check CRCs when decoding, so compare ours with its CRC-32C directly.
      assert.equal(bytes.readUInt32BE(17), kafkajsCrc32C(bytes.subarray(21)));
      const decoded = await decodeKafkajsBatch(new Decoder(bytes));
      assert.equal(decoded.firstOffset, '500');
      assert.equal(decoded.partitionLeaderEpoch, 2);
      assert.equal(decoded.lastOffsetDelta, 2);
      assert.equal(decoded.producerId, '99');
      assert.equal(decoded.maxTimestamp, String(FIRST_TIMESTAMP + 50));
      assert.deepEqual(
        decoded.records.map(
          (record: {
            key: Buffer | null;
            value: Buffer | null;
            headers: object;
            timestamp: string;
            offset: string;
          }) => ({
            key: record.key?.toString() ?? null,
            value: record.value?.toString() ?? null,
            headers: Object.fromEntries(
              Object.entries(record.headers).map(([key, value]) => [key, (value as Buffer).toString()]),
            ),
            timestamp: record.timestamp,
            offset: record.offset,
          }),
        ),
        [
          { key: 'k', value: 'v', headers: { h: 'x' }, timestamp: String(FIRST_TIMESTAMP), offset: '500' },
          { key: null, value: 'second', headers: {}, timestamp: String(FIRST_TIMESTAMP + 50), offset: '501' },
          { key: 'tomb', value: null, headers: {}, timestamp: String(FIRST_TIMESTAMP + 10), offset: '502' },
        ],
      );
    });
  }
});
