import assert from 'node:assert/strict';
import { readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decodeRecordBatches, encodeRecordBatch } from '../protocol/records/batch.js';
import { writeInt64 } from '../protocol/records/layout.js';
import {
  InvalidProducerEpochError,
  InvalidRecordError,
  InvalidSequenceError,
  InvalidTxnStateError,
  OutOfOrderSequenceError,
} from './errors.js';
import { PartitionLog, type TransactionMarker } from './partition-log.js';
import { ProducerStateManager } from './producer-state.js';
import { makeBatch, testConfig, withTempDir } from './test-support.js';
import { ABORTED_TXN_ENTRY_BYTES, TransactionIndex } from './txn-index.js';

const T0 = 1_700_000_000_000;
const options = { nowMs: () => T0 };

function txn(producerId: number, epoch: number, baseSequence: number, records = 2): Buffer {
  return makeBatch({ records, producerId, producerEpoch: epoch, baseSequence, transactional: true });
}

function plain(records = 1): Buffer {
  return makeBatch({ records });
}

function marker(
  producerId: number,
  producerEpoch: number,
  commit: boolean,
  coordinatorEpoch = 0,
): TransactionMarker {
  return { producerId, producerEpoch, coordinatorEpoch, commit };
}

/** Kafka's 34-byte aborted-transaction entry. */
function entryBytes(
  producerId: number,
  firstOffset: number,
  lastOffset: number,
  lastStableOffset: number,
): Buffer {
  const b = Buffer.alloc(ABORTED_TXN_ENTRY_BYTES);
  b.writeInt16BE(0, 0);
  writeInt64(b, 2, producerId);
  writeInt64(b, 10, firstOffset);
  writeInt64(b, 18, lastOffset);
  writeInt64(b, 26, lastStableOffset);
  return b;
}

async function files(dir: string, suffix: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(suffix)).sort();
}

function segmentFile(base: number, suffix: string): string {
  return `${String(base).padStart(20, '0')}${suffix}`;
}

describe('transactions in PartitionLog', () => {
  test('a commit moves the LSO from the first offset of the transaction to the high watermark', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      await log.append(plain(), 0);
      assert.equal(log.lastStableOffset, 1);
      assert.deepEqual(await log.append(txn(1, 0, 0), 0), {
        baseOffset: 1,
        lastOffset: 2,
        logStartOffset: 0,
      });
      assert.equal(log.lastStableOffset, 1);
      await log.append(txn(1, 0, 2, 3), 0);
      assert.equal(log.highWatermark, 6);
      assert.equal(log.lastStableOffset, 1);
      const pending = log.appendTransactionMarker(marker(1, 0, true, 7), 0);
      // Placed but not yet written: the transaction still bounds the LSO.
      assert.equal(log.lastStableOffset, 1);
      assert.deepEqual(await pending, { baseOffset: 6, lastOffset: 6, logStartOffset: 0 });
      assert.equal(log.highWatermark, 7);
      assert.equal(log.lastStableOffset, 7);
      assert.deepEqual(await log.abortedTransactions(0, 7), []);
      const [markerBatch] = decodeRecordBatches((await log.read(6, 1 << 20)).chunks[0] as Buffer);
      assert.equal(markerBatch?.attributes, 0x30);
      assert.equal(markerBatch?.producerId, 1);
      assert.equal(markerBatch?.baseSequence, -1);
      assert.deepEqual(markerBatch?.records[0]?.key, Buffer.from([0, 0, 0, 1]));
      assert.deepEqual(markerBatch?.records[0]?.value, Buffer.from([0, 0, 0, 0, 0, 7]));
      assert.deepEqual(log.activeProducers(), [
        {
          producerId: 1,
          producerEpoch: 0,
          lastSequence: 4,
          lastTimestampMs: T0,
          coordinatorEpoch: 7,
          currentTxnStartOffset: -1,
        },
      ]);
      // The producer's next transaction continues its sequences.
      await log.append(txn(1, 0, 5), 0);
      assert.equal(log.lastStableOffset, 7);
      assert.equal(log.activeProducers()[0]?.currentTxnStartOffset, 7);
      await log.close();
    });
  });

  test('an abort adds an entry with exact offsets; abortedTransactions honours its range bounds', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      await log.append(plain(), 0); // 0
      await log.append(txn(1, 0, 0), 0); // 1-2
      await log.append(plain(), 0); // 3
      await log.append(txn(1, 0, 2), 0); // 4-5
      assert.equal((await log.appendTransactionMarker(marker(1, 0, false), 0)).baseOffset, 6);
      await log.append(plain(), 0); // 7
      assert.equal(log.lastStableOffset, 8);
      const aborted = [{ producerId: 1, firstOffset: 1 }];
      assert.deepEqual(await log.abortedTransactions(0, 1), []);
      assert.deepEqual(await log.abortedTransactions(0, 2), aborted);
      assert.deepEqual(await log.abortedTransactions(6, 8), aborted);
      assert.deepEqual(await log.abortedTransactions(7, 8), []);
      assert.deepEqual(await log.abortedTransactions(3, 3), []);
      await log.close();
      assert.deepEqual(await readFile(join(dir, segmentFile(0, '.txnindex'))), entryBytes(1, 1, 6, 7));
    });
  });

  test('records deleted below an ongoing transaction: the LSO is the log start until the transaction ends', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      await log.append(txn(1, 0, 0, 3), 0); // 0-2, ongoing
      await log.append(plain(2), 0); // 3-4
      assert.equal(log.lastStableOffset, 0);
      assert.equal(await log.deleteRecordsBefore(2), 2);
      assert.equal(log.lastStableOffset, 2);
      await log.append(txn(1, 0, 3), 0); // 5-6
      assert.equal(log.lastStableOffset, 2);
      assert.equal((await log.appendTransactionMarker(marker(1, 0, false), 0)).baseOffset, 7);
      assert.equal(log.lastStableOffset, 8);
      assert.deepEqual(await log.abortedTransactions(2, 8), [{ producerId: 1, firstOffset: 0 }]);
      await log.close();
    });
  });

  test('a producer writes nothing outside its open transaction until the marker, as in Kafka', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      await log.append(txn(1, 0, 0), 0); // 0-1, open
      const outside = makeBatch({ records: 1, producerId: 1, producerEpoch: 0, baseSequence: 2 });
      await assert.rejects(log.append(outside, 0), InvalidTxnStateError);
      assert.equal(log.logEndOffset, 2);
      await log.appendTransactionMarker(marker(1, 0, true), 0); // 2
      const after = makeBatch({ records: 1, producerId: 1, producerEpoch: 0, baseSequence: 2 });
      assert.equal((await log.append(after, 0)).baseOffset, 3);
      await log.close();
    });
  });

  test('interleaved producers: the LSO is the oldest ongoing first offset', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      await log.append(txn(1, 0, 0), 0); // 0-1
      await log.append(txn(2, 0, 0), 0); // 2-3
      assert.equal(log.lastStableOffset, 0);
      await log.appendTransactionMarker(marker(2, 0, false), 0); // 4
      assert.equal(log.lastStableOffset, 0);
      await log.append(txn(1, 0, 2), 0); // 5-6
      await log.append(txn(2, 0, 2), 0); // 7-8: producer 2's next transaction
      await log.appendTransactionMarker(marker(1, 0, true), 0); // 9
      assert.equal(log.lastStableOffset, 7);
      await log.appendTransactionMarker(marker(2, 0, false), 0); // 10
      assert.equal(log.lastStableOffset, 11);
      assert.deepEqual(await log.abortedTransactions(0, 11), [
        { producerId: 2, firstOffset: 2 },
        { producerId: 2, firstOffset: 7 },
      ]);
      assert.deepEqual(await log.abortedTransactions(5, 11), [{ producerId: 2, firstOffset: 7 }]);
      await log.close();
      // The first abort's LSO is producer 1's open transaction; the second's is past its marker.
      assert.deepEqual(
        await readFile(join(dir, segmentFile(0, '.txnindex'))),
        Buffer.concat([entryBytes(2, 2, 4, 0), entryBytes(2, 7, 10, 11)]),
      );
    });
  });

  test('markers: an older epoch is fenced, a newer one becomes the epoch and resets sequences', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      await log.append(txn(1, 1, 0), 0); // 0-1
      await assert.rejects(log.appendTransactionMarker(marker(1, 0, false), 0), InvalidProducerEpochError);
      assert.equal(log.logEndOffset, 2);
      assert.equal(log.lastStableOffset, 0);
      await log.appendTransactionMarker(marker(1, 2, false), 0); // 2
      assert.equal(log.lastStableOffset, 3);
      assert.deepEqual(await log.abortedTransactions(0, 3), [{ producerId: 1, firstOffset: 0 }]);
      await assert.rejects(log.append(txn(1, 2, 2), 0), OutOfOrderSequenceError);
      await assert.rejects(log.append(txn(1, 1, 2), 0), InvalidProducerEpochError);
      assert.equal((await log.append(txn(1, 2, 0), 0)).baseOffset, 3);
      assert.equal(log.lastStableOffset, 3);
      assert.equal(log.activeProducers()[0]?.producerEpoch, 2);
      await log.close();
    });
  });

  test('coordinator batches skip sequences but join the transaction and check the epoch', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      await log.append(plain(), 0);
      assert.equal((await log.append(txn(5, 3, -1, 1), 0, 'coordinator')).baseOffset, 1);
      assert.equal(log.lastStableOffset, 1);
      assert.equal((await log.append(txn(5, 3, -1, 1), 0, 'coordinator')).baseOffset, 2);
      assert.equal(log.lastStableOffset, 1);
      await assert.rejects(log.append(txn(5, 3, -1, 1), 0), InvalidSequenceError);
      await assert.rejects(log.append(txn(5, 2, -1, 1), 0, 'coordinator'), InvalidProducerEpochError);
      await log.appendTransactionMarker(marker(5, 3, true), 0);
      assert.equal(log.lastStableOffset, 4);
      assert.equal(log.activeProducers()[0]?.lastSequence, -1);
      const control = encodeRecordBatch({
        records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]), timestamp: T0 }],
        producerId: 5,
        producerEpoch: 3,
        baseSequence: -1,
        isTransactional: true,
        isControl: true,
      });
      await assert.rejects(log.append(control, 0), InvalidRecordError);
      await assert.rejects(log.append(control, 0, 'coordinator'), InvalidRecordError);
      assert.equal(log.logEndOffset, 4);
      await log.close();
    });
  });

  test('a marker without an ongoing transaction is written and adds nothing', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      const ends: number[] = [];
      log.onAppend((end) => ends.push(end));
      assert.equal((await log.appendTransactionMarker(marker(9, 1, false), 0)).baseOffset, 0);
      assert.deepEqual(ends, [1]);
      await log.appendTransactionMarker(marker(9, 1, true), 0);
      assert.equal(log.lastStableOffset, 2);
      // The shared answer of a log without aborted transactions: no read, no new array.
      assert.equal(log.abortedTransactions(0, 2), log.abortedTransactions(1, 2));
      assert.deepEqual(await log.abortedTransactions(0, 2), []);
      await assert.rejects(log.appendTransactionMarker(marker(9, 0, true), 0), InvalidProducerEpochError);
      await log.close();
      assert.deepEqual(await files(dir, '.txnindex'), []);
    });
  });

  test('a transaction spanning a roll: the entry goes in the marker segment and survives restarts', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ segmentBytes: 300 });
      const log = await PartitionLog.open(dir, config, options);
      await log.append(txn(1, 0, 0), 0); // 0-1
      for (let i = 0; i < 6; i++) await log.append(plain(), 0); // 2-7
      assert.ok(log.segmentCount >= 2, `segments: ${log.segmentCount}`);
      const markerOffset = (await log.appendTransactionMarker(marker(1, 0, false), 0)).baseOffset;
      assert.equal(markerOffset, 8);
      await log.append(txn(2, 0, 0), 0); // 9-10: still ongoing
      for (let i = 0; i < 6; i++) await log.append(plain(), 0); // 11-16
      const bases = log.segmentBaseOffsets;
      const markerSegment = bases.filter((base) => base <= markerOffset).at(-1) as number;
      assert.notEqual(markerSegment, 0);
      // Sealed: its index is a file that a rebuild rewrites at once.
      assert.notEqual(markerSegment, bases.at(-1));
      const expected = { lso: 9, aborted: [{ producerId: 1, firstOffset: 0 }] };
      assert.equal(log.lastStableOffset, expected.lso);
      assert.deepEqual(await log.abortedTransactions(0, 9), expected.aborted);
      await log.close();
      assert.deepEqual(await files(dir, '.txnindex'), [segmentFile(markerSegment, '.txnindex')]);
      assert.deepEqual(
        await readFile(join(dir, segmentFile(markerSegment, '.txnindex'))),
        entryBytes(1, 0, 8, 9),
      );
      // Clean restart: from the snapshot at the end; the sealed segment's entry is read from its file.
      let reopened = await PartitionLog.open(dir, config, options);
      assert.equal(reopened.lastStableOffset, expected.lso);
      assert.deepEqual(await reopened.abortedTransactions(1, 9), expected.aborted);
      await reopened.flush();
      await reopened.detach();
      // Crash without the snapshot at the end: replays from the roll snapshots.
      reopened = await PartitionLog.open(dir, config, options);
      assert.equal(reopened.lastStableOffset, expected.lso);
      assert.deepEqual(await reopened.abortedTransactions(0, 17), expected.aborted);
      await reopened.detach();
      // Crash with every snapshot gone: replays the whole log and rebuilds the index.
      for (const name of await files(dir, '.snapshot')) await rm(join(dir, name));
      await rm(join(dir, segmentFile(markerSegment, '.txnindex')));
      reopened = await PartitionLog.open(dir, config, options);
      assert.equal(reopened.lastStableOffset, expected.lso);
      assert.deepEqual(await reopened.abortedTransactions(0, 17), expected.aborted);
      assert.deepEqual(
        await readFile(join(dir, segmentFile(markerSegment, '.txnindex'))),
        entryBytes(1, 0, 8, 9),
      );
      await reopened.appendTransactionMarker(marker(2, 0, true), 0);
      assert.equal(reopened.lastStableOffset, 18);
      await reopened.close();
    });
  });

  test('a crash that cuts the abort marker off the log makes the transaction ongoing again', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      await log.append(txn(1, 0, 0), 0); // 0-1
      await log.append(txn(3, 0, 0), 0); // 2-3
      await log.appendTransactionMarker(marker(3, 0, false), 0); // 4
      await log.append(plain(), 0); // 5
      await log.appendTransactionMarker(marker(1, 0, false), 0); // 6
      assert.equal(log.lastStableOffset, 7);
      await log.flush();
      await log.detach();
      const logPath = join(dir, segmentFile(0, '.log'));
      assert.equal(
        (await readFile(join(dir, segmentFile(0, '.txnindex')))).length,
        2 * ABORTED_TXN_ENTRY_BYTES,
      );
      const size = (await readFile(logPath)).length;
      await truncate(logPath, size - 5); // inside the last marker
      const reopened = await PartitionLog.open(dir, testConfig(), options);
      assert.equal(reopened.logEndOffset, 6);
      assert.equal(reopened.lastStableOffset, 0);
      assert.deepEqual(await reopened.abortedTransactions(0, 6), [{ producerId: 3, firstOffset: 2 }]);
      await reopened.appendTransactionMarker(marker(1, 0, true), 0); // 6
      assert.equal(reopened.lastStableOffset, 7);
      await reopened.close();
      assert.deepEqual(await readFile(join(dir, segmentFile(0, '.txnindex'))), entryBytes(3, 2, 4, 0));
    });
  });

  test('replay reads a marker whole where its header ends a read window', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig({ segmentBytes: 4 * 1024 * 1024 }), options);
      const first = txn(1, 0, 0, 1);
      await log.append(first, 0); // 0
      // The marker starts 64 bytes before the replay's 1 MiB window ends: its header fits, its record not.
      const filler = makeBatch({ valueBytes: 1024 * 1024 - 64 - first.length - 72 });
      await log.append(filler, 0); // 1
      assert.equal(first.length + filler.length, 1024 * 1024 - 64);
      await log.appendTransactionMarker(marker(1, 0, false), 0); // 2
      await log.flush();
      await log.detach();
      for (const name of await files(dir, '.snapshot')) await rm(join(dir, name));
      await rm(join(dir, segmentFile(0, '.txnindex')));
      const reopened = await PartitionLog.open(dir, testConfig({ segmentBytes: 4 * 1024 * 1024 }), options);
      assert.equal(reopened.lastStableOffset, 3);
      assert.deepEqual(await reopened.abortedTransactions(0, 3), [{ producerId: 1, firstOffset: 0 }]);
      await reopened.close();
    });
  });

  test('truncating before a marker reopens its transaction and drops its entry', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig(), options);
      await log.append(txn(1, 0, 0), 0); // 0-1
      await log.appendTransactionMarker(marker(1, 0, false), 0); // 2
      await log.append(plain(), 0); // 3
      assert.equal(log.lastStableOffset, 4);
      await log.close();
      const reopened = await PartitionLog.open(dir, testConfig(), options);
      await reopened.truncateTo(2);
      assert.equal(reopened.logEndOffset, 2);
      assert.equal(reopened.lastStableOffset, 0);
      assert.deepEqual(await reopened.abortedTransactions(0, 2), []);
      await reopened.appendTransactionMarker(marker(1, 0, true), 0);
      assert.equal(reopened.lastStableOffset, 3);
      await reopened.close();
      assert.deepEqual(await readFile(join(dir, segmentFile(0, '.txnindex'))), Buffer.alloc(0));
      const again = await PartitionLog.open(dir, testConfig(), options);
      assert.deepEqual(await again.abortedTransactions(0, 3), []);
      assert.equal(again.lastStableOffset, 3);
      await again.close();
    });
  });

  test('retention and DeleteRecords delete a segment together with its transaction index', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ segmentBytes: 300 });
      const log = await PartitionLog.open(dir, config, options);
      await log.append(txn(1, 0, 0), 0); // 0-1
      await log.appendTransactionMarker(marker(1, 0, false), 0); // 2
      for (let i = 0; i < 12; i++) await log.append(plain(), 0);
      await log.append(txn(2, 0, 0), 0);
      await log.appendTransactionMarker(marker(2, 0, false), 0);
      const bases = log.segmentBaseOffsets;
      assert.ok(bases.length >= 3, `segments: ${bases}`);
      await log.flush();
      await log.close();
      const reopened = await PartitionLog.open(dir, config, options);
      const last = bases.at(-1) as number;
      assert.deepEqual(await files(dir, '.txnindex'), [
        segmentFile(0, '.txnindex'),
        segmentFile(last, '.txnindex'),
      ]);
      await reopened.deleteRecordsBefore(bases[1] as number);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(await files(dir, '.txnindex'), [segmentFile(last, '.txnindex')]);
      assert.equal((await reopened.abortedTransactions(bases[1] as number, reopened.logEndOffset)).length, 1);
      reopened.updateConfig({ ...config, retentionBytes: 0 });
      await reopened.enforceRetention(T0);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(await files(dir, '.txnindex'), []);
      assert.equal(
        reopened.abortedTransactions(reopened.logStartOffset, reopened.logEndOffset + 1),
        reopened.abortedTransactions(0, 1),
      );
      await reopened.close();
    });
  });
});

describe('ProducerStateManager transactions', () => {
  test('snapshots carry ongoing transactions; version 1 snapshots still load', () => {
    const state = new ProducerStateManager();
    const first = txn(4, 0, 0);
    writeInt64(first, 0, 10);
    state.apply(first, 0, T0);
    const second = txn(6, 2, 0);
    writeInt64(second, 0, 12);
    state.apply(second, 0, T0);
    state.onHighWatermarkUpdated(14);
    assert.equal(state.firstUnstableOffset, 10);
    const restored = new ProducerStateManager();
    restored.loadSnapshot(state.snapshotText());
    assert.equal(restored.firstUnstableOffset, 10);
    assert.equal(restored.snapshotText(), state.snapshotText());
    assert.deepEqual(
      restored.activeProducers().map((p) => [p.producerId, p.currentTxnStartOffset]),
      [
        [4, 10],
        [6, 12],
      ],
    );
    const old = new ProducerStateManager();
    old.loadSnapshot(['sluice-producer-snapshot 1 1', '7 0 123 0:1:0:1', 'end', ''].join('\n'));
    assert.equal(old.firstUnstableOffset, -1);
    assert.deepEqual(old.check(makeBatch({ records: 2, producerId: 7 })), { baseOffset: 0, lastOffset: 1 });
    assert.deepEqual(old.activeProducers(), [
      {
        producerId: 7,
        producerEpoch: 0,
        lastSequence: 1,
        lastTimestampMs: -1,
        coordinatorEpoch: -1,
        currentTxnStartOffset: -1,
      },
    ]);
    assert.throws(() => old.loadSnapshot('sluice-producer-snapshot 3 0\nend\n'), /snapshot version/);
  });

  test('producers with an ongoing transaction do not expire', () => {
    const state = new ProducerStateManager();
    state.apply(txn(4, 0, 0), 0, T0);
    state.apply(makeBatch({ producerId: 5 }), 0, T0);
    assert.equal(state.expire(T0 + 10_000, 1000), 1);
    assert.equal(state.producerCount, 1);
  });
});

describe('TransactionIndex', () => {
  test('collects overlapping entries, stops once an entry LSO reaches the bound, truncates by marker offset', () => {
    const index = new TransactionIndex();
    index.append({ producerId: 1, firstOffset: 0, lastOffset: 5, lastStableOffset: 3 });
    index.append({ producerId: 2, firstOffset: 3, lastOffset: 8, lastStableOffset: 9 });
    index.append({ producerId: 3, firstOffset: 2, lastOffset: 12, lastStableOffset: 13 });
    const out: { producerId: number; firstOffset: number }[] = [];
    assert.equal(index.collect(6, 9, out), true);
    assert.deepEqual(out, [{ producerId: 2, firstOffset: 3 }]);
    assert.equal(index.collect(0, 100, []), false);
    assert.equal(TransactionIndex.problem(index.bytes), null);
    assert.match(TransactionIndex.problem(index.bytes.subarray(1)) ?? '', /not whole entries/);
    assert.equal(index.truncateTo(8), true);
    assert.equal(index.entries, 1);
    assert.deepEqual(index.entry(0), { producerId: 1, firstOffset: 0, lastOffset: 5, lastStableOffset: 3 });
    assert.equal(index.truncateTo(8), false);
  });
});
