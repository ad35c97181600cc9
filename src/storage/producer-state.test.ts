import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InvalidProducerEpochError, InvalidSequenceError, OutOfOrderSequenceError } from './errors.js';
import { PartitionLog } from './partition-log.js';
import { lastSequenceOf, ProducerStateManager, snapshotFileName } from './producer-state.js';
import { makeBatch, splitBatches, testConfig, withTempDir } from './test-support.js';

const NOW = 1_700_000_000_000;

/** A batch of `records` records from producer `producerId` at `epoch`, sequences from `baseSequence`. */
function batch(producerId: number, epoch: number, baseSequence: number, records = 2): Buffer {
  return makeBatch({ records, producerId, producerEpoch: epoch, baseSequence });
}

/** Checks `b`, then (when new) gives it offsets from `offset` and records it, as the log does. */
function append(state: ProducerStateManager, b: Buffer, offset: number) {
  const duplicate = state.check(b);
  if (duplicate !== null) return duplicate;
  b.writeBigInt64BE(BigInt(offset), 0);
  state.apply(b, 0, NOW);
  return null;
}

describe('ProducerStateManager', () => {
  test('accepts a producer it does not know at any sequence, then only the next one', () => {
    const state = new ProducerStateManager();
    assert.equal(append(state, batch(7, 0, 40), 0), null);
    assert.equal(append(state, batch(7, 0, 42), 2), null);
    assert.throws(() => state.check(batch(7, 0, 45)), OutOfOrderSequenceError);
    assert.throws(() => state.check(batch(7, 0, 43)), OutOfOrderSequenceError);
    assert.equal(state.check(batch(7, 0, 44)), null);
  });

  test('a retry of one of the last five batches is a duplicate with the original offsets', () => {
    const state = new ProducerStateManager();
    for (let i = 0; i < 6; i++) assert.equal(append(state, batch(1, 0, i * 2), 100 + i * 2), null);
    // Batches 1..5 are retained; batch 0 (sequences 0-1) has been forgotten.
    assert.deepEqual(state.check(batch(1, 0, 2)), { baseOffset: 102, lastOffset: 103 });
    assert.deepEqual(state.check(batch(1, 0, 10)), { baseOffset: 110, lastOffset: 111 });
    assert.throws(() => state.check(batch(1, 0, 0)), OutOfOrderSequenceError);
    // Same first sequence, different length: not the same batch.
    assert.throws(() => state.check(batch(1, 0, 10, 3)), OutOfOrderSequenceError);
  });

  test('fences an older epoch; a newer epoch must start at sequence 0', () => {
    const state = new ProducerStateManager();
    append(state, batch(3, 2, 0), 0);
    assert.throws(() => state.check(batch(3, 1, 2)), InvalidProducerEpochError);
    assert.throws(() => state.check(batch(3, 3, 5)), OutOfOrderSequenceError);
    assert.equal(append(state, batch(3, 3, 0), 2), null);
    // The new epoch's batches replaced the old one's: its sequence 0 is no longer a duplicate of epoch 2.
    assert.deepEqual(state.check(batch(3, 3, 0)), { baseOffset: 2, lastOffset: 3 });
    assert.throws(() => state.check(batch(3, 2, 0)), InvalidProducerEpochError);
  });

  test('sequences wrap from 2^31-1 to 0', () => {
    assert.equal(lastSequenceOf(0x7fff_fffe, 1), 0x7fff_ffff);
    assert.equal(lastSequenceOf(0x7fff_ffff, 1), 0);
    assert.equal(lastSequenceOf(0x7fff_fffe, 3), 1);
    const state = new ProducerStateManager();
    append(state, batch(9, 0, 0x7fff_fffe), 0);
    assert.equal(append(state, batch(9, 0, 0), 2), null);
  });

  test('checks several batches of one producer in one append against each other', () => {
    const state = new ProducerStateManager();
    append(state, batch(5, 0, 0), 0);
    assert.equal(state.check(Buffer.concat([batch(5, 0, 2), batch(5, 0, 4)])), null);
    assert.throws(
      () => state.check(Buffer.concat([batch(5, 0, 2), batch(5, 0, 5)])),
      OutOfOrderSequenceError,
    );
  });

  test('refuses an idempotent batch without a sequence and ignores batches without a producer id', () => {
    const state = new ProducerStateManager();
    assert.throws(() => state.check(batch(4, 0, -1)), InvalidSequenceError);
    assert.equal(state.check(makeBatch({ records: 3 })), null);
    state.apply(makeBatch({ records: 3 }), 0, NOW);
    assert.equal(state.producerCount, 0);
  });

  test('a snapshot restores the state; a snapshot cut short is refused', () => {
    const state = new ProducerStateManager();
    for (let i = 0; i < 3; i++) append(state, batch(11, 1, i * 2), i * 2);
    append(state, batch(12, 0, 0), 6);
    const text = state.snapshotText();
    const restored = new ProducerStateManager();
    restored.loadSnapshot(text);
    assert.equal(restored.snapshotText(), text);
    assert.deepEqual(restored.check(batch(11, 1, 2)), { baseOffset: 2, lastOffset: 3 });
    assert.equal(restored.check(batch(11, 1, 6)), null);
    const cut = text.slice(0, text.lastIndexOf('end'));
    assert.throws(() => restored.loadSnapshot(cut), /no end line/);
    assert.equal(restored.producerCount, 0);
    assert.throws(() => restored.loadSnapshot('garbage\nend\n'), /no snapshot header/);
  });

  test('forgets producers idle for the expiration time', () => {
    const state = new ProducerStateManager();
    append(state, batch(1, 0, 0), 0);
    assert.equal(state.expire(NOW + 999, 1000), 0);
    assert.equal(state.expire(NOW + 1000, 1000), 1);
    assert.equal(state.check(batch(1, 0, 50)), null);
  });
});

describe('PartitionLog with idempotent producers', () => {
  test('answers a retried batch with its offsets and writes it once', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      assert.equal((await log.append(batch(1, 0, 0, 3), 0)).baseOffset, 0);
      assert.equal((await log.append(makeBatch({ records: 2 }), 0)).baseOffset, 3);
      assert.deepEqual(await log.append(batch(1, 0, 0, 3), 0), {
        baseOffset: 0,
        lastOffset: 2,
        logStartOffset: 0,
      });
      await assert.rejects(log.append(batch(1, 0, 5), 0), OutOfOrderSequenceError);
      assert.equal((await log.append(batch(1, 0, 3), 0)).baseOffset, 5);
      assert.equal(log.logEndOffset, 7);
      const read = await log.read(0, 1 << 20);
      assert.deepEqual(
        splitBatches(read.chunks).map((b) => b.baseOffset),
        [0, 3, 5],
      );
      await log.close();
    });
  });

  test('a retry queued behind its original is answered once the original is written', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      const [first, retry] = await Promise.all([
        log.append(batch(2, 0, 0), 0),
        log.append(batch(2, 0, 0), 0),
      ]);
      assert.deepEqual(first, retry);
      assert.equal(log.logEndOffset, 2);
      await log.close();
    });
  });

  test('recognises duplicates after a clean restart, from the snapshot written at close', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      await log.append(batch(1, 0, 0), 0);
      await log.append(batch(1, 0, 2), 0);
      await log.close();
      assert.ok((await readdir(dir)).includes(snapshotFileName(4)));
      const reopened = await PartitionLog.open(dir, testConfig());
      assert.equal((await reopened.append(batch(1, 0, 2), 0)).baseOffset, 2);
      assert.equal(reopened.logEndOffset, 4);
      await assert.rejects(reopened.append(batch(1, 0, 6), 0), OutOfOrderSequenceError);
      await reopened.close();
    });
  });

  test('after a crash, replays the batches written since the newest snapshot', async () => {
    await withTempDir(async (dir) => {
      // Small segments: the rolls leave snapshots, and the crash leaves batches after the newest one.
      const config = testConfig({ segmentBytes: 400 });
      const log = await PartitionLog.open(dir, config);
      for (let i = 0; i < 12; i++) await log.append(batch(1, 0, i * 2), 0);
      await log.append(batch(2, 4, 100), 0);
      await log.flush();
      await log.detach(); // a crash: no snapshot at the log end
      const snapshots = (await readdir(dir)).filter((name) => name.endsWith('.snapshot'));
      assert.ok(snapshots.length >= 1 && snapshots.length <= 2, `snapshots kept: ${snapshots}`);
      assert.ok(!snapshots.includes(snapshotFileName(26)));
      const reopened = await PartitionLog.open(dir, config);
      assert.equal((await reopened.append(batch(1, 0, 22), 0)).baseOffset, 22);
      assert.equal((await reopened.append(batch(2, 4, 100), 0)).baseOffset, 24);
      assert.equal((await reopened.append(batch(1, 0, 24), 0)).baseOffset, 26);
      await assert.rejects(reopened.append(batch(2, 3, 0), 0), InvalidProducerEpochError);
      await reopened.close();
    });
  });

  test('an unreadable snapshot is dropped and the state replayed from the log start', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      await log.append(batch(1, 0, 0), 0);
      await log.close();
      const path = join(dir, snapshotFileName(2));
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.slice(0, 10));
      const reopened = await PartitionLog.open(dir, testConfig());
      assert.equal((await reopened.append(batch(1, 0, 0), 0)).baseOffset, 0);
      assert.equal(reopened.logEndOffset, 2);
      await reopened.close();
      assert.notEqual(await readFile(path, 'utf8'), text.slice(0, 10));
    });
  });

  test('truncation rebuilds the state from what the log still holds', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, testConfig());
      await log.append(batch(1, 0, 0), 0);
      await log.append(batch(1, 0, 2), 0);
      await log.truncateTo(2);
      // The batch at sequences 2-3 is gone: its resend is new, not a duplicate.
      assert.equal((await log.append(batch(1, 0, 2), 0)).baseOffset, 2);
      assert.equal(log.logEndOffset, 4);
      await log.close();
    });
  });
});
