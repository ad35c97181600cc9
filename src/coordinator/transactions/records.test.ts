import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TransactionRecordError } from './errors.js';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  type TransactionLogValue,
} from './records.js';

/** Hex bytes; `#` starts a comment that runs to the end of the line. */
const hex = (text: string) => Buffer.from(text.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');

const ONGOING: TransactionLogValue = {
  producerId: 1000,
  producerEpoch: 5,
  transactionTimeoutMs: 60_000,
  state: 'Ongoing',
  partitions: [
    { topic: 'a', partition: 0 },
    { topic: 'b', partition: 7 },
    { topic: 'a', partition: 2 },
  ],
  lastUpdateTimestampMs: 1_700_000_000_123,
  startTimestampMs: 1_700_000_000_000,
};

// Written out by hand from Kafka's TransactionLogValue schema (see records.ts).
const ONGOING_V0 = hex(`
  0000                 # version 0
  00000000000003e8     # producerId 1000
  0005                 # producerEpoch 5
  0000ea60             # transactionTimeoutMs 60000
  01                   # status Ongoing
  00000002             # 2 topics (grouped, first-seen order)
  0001 61 00000002 00000000 00000002  # "a": [0, 2]
  0001 62 00000001 00000007           # "b": [7]
  0000018bcfe5687b     # lastUpdate 1700000000123
  0000018bcfe56800     # start 1700000000000
`);

const ONGOING_V1 = hex(`
  0001
  00000000000003e8
  0005
  0000ea60
  01
  03                   # compact array: 2 topics
  02 61 03 00000000 00000002 00      # "a": [0, 2], no tagged fields
  02 62 02 00000007 00               # "b": [7]
  0000018bcfe5687b
  0000018bcfe56800
  00                   # no tagged fields
`);

describe('TransactionLogKey', () => {
  test('v0: int16 version then an int16-length string', () => {
    const key = encodeTransactionLogKey('tx');
    assert.deepEqual(key, hex('0000 0002 7478'));
    assert.equal(decodeTransactionLogKey(key), 'tx');
    assert.equal(decodeTransactionLogKey(encodeTransactionLogKey('ünï')), 'ünï');
  });

  test('an unknown key version is skipped (null), a truncated key is an error', () => {
    assert.equal(decodeTransactionLogKey(hex('0001 0002 7478')), null);
    assert.throws(() => decodeTransactionLogKey(hex('0000 0005 7478')), TransactionRecordError);
    assert.throws(() => decodeTransactionLogKey(hex('0000 0002 747800')), TransactionRecordError);
  });
});

describe('TransactionLogValue', () => {
  test('v0 encodes to the hand-checked bytes and decodes back (partitions grouped by topic)', () => {
    assert.deepEqual(encodeTransactionLogValue(ONGOING), ONGOING_V0);
    assert.deepEqual(decodeTransactionLogValue(ONGOING_V0), {
      ...ONGOING,
      partitions: [
        { topic: 'a', partition: 0 },
        { topic: 'a', partition: 2 },
        { topic: 'b', partition: 7 },
      ],
    });
  });

  test('v1 (flexible) encodes to the hand-checked bytes and decodes back', () => {
    assert.deepEqual(encodeTransactionLogValue(ONGOING, 1), ONGOING_V1);
    assert.deepEqual(decodeTransactionLogValue(ONGOING_V1), decodeTransactionLogValue(ONGOING_V0));
  });

  test('Empty stores a null partition list', () => {
    const empty: TransactionLogValue = {
      producerId: 3,
      producerEpoch: 0,
      transactionTimeoutMs: 10_000,
      state: 'Empty',
      partitions: [],
      lastUpdateTimestampMs: 20,
      startTimestampMs: -1,
    };
    const v0 = encodeTransactionLogValue(empty);
    assert.deepEqual(
      v0,
      hex('0000 0000000000000003 0000 00002710 00 ffffffff 0000000000000014 ffffffffffffffff'),
    );
    assert.deepEqual(decodeTransactionLogValue(v0), empty);
    const v1 = encodeTransactionLogValue(empty, 1);
    assert.deepEqual(
      v1,
      hex('0001 0000000000000003 0000 00002710 00 00 0000000000000014 ffffffffffffffff 00'),
    );
    assert.deepEqual(decodeTransactionLogValue(v1), empty);
  });

  test('every state round-trips through its status byte', () => {
    const states = [
      'Empty',
      'Ongoing',
      'PrepareCommit',
      'PrepareAbort',
      'CompleteCommit',
      'CompleteAbort',
      'Dead',
      'PrepareEpochFence',
    ] as const;
    states.forEach((state, id) => {
      const encoded = encodeTransactionLogValue({ ...ONGOING, state });
      assert.equal(encoded[16], id, state);
      assert.equal(decodeTransactionLogValue(encoded).state, state);
    });
  });

  test('unknown versions and statuses, truncation and trailing bytes are errors', () => {
    const v2 = Buffer.from(ONGOING_V0);
    v2.writeInt16BE(2, 0);
    assert.throws(() => decodeTransactionLogValue(v2), /unknown transaction log value version 2/);
    const status9 = Buffer.from(ONGOING_V0);
    status9[16] = 9;
    assert.throws(() => decodeTransactionLogValue(status9), /unknown transaction status 9/);
    assert.throws(() => decodeTransactionLogValue(ONGOING_V0.subarray(0, 40)), TransactionRecordError);
    assert.throws(
      () => decodeTransactionLogValue(Buffer.concat([ONGOING_V0, hex('00')])),
      /1 trailing bytes/,
    );
  });
});
