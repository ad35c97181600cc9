import assert from 'node:assert/strict';
import { open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PartitionLog, RECOVERY_POINT_FILE } from './partition-log.js';
import { captureLogger, makeBatch, splitBatches, testConfig, withTempDir } from './test-support.js';

const config = testConfig({ segmentBytes: 1200, indexIntervalBytes: 100 });

/** Writes batches of varying sizes; returns [baseOffset, lastOffset, sizeBytes] per batch in order. */
async function fill(dir: string, sizes: number[]): Promise<[number, number, number][]> {
  const log = await PartitionLog.open(dir, config);
  const placed: [number, number, number][] = [];
  for (const [i, valueBytes] of sizes.entries()) {
    const batch = makeBatch({ records: 1 + (i % 3), valueBytes, fill: i });
    const { baseOffset, lastOffset } = await log.append(batch, 0);
    placed.push([baseOffset, lastOffset, batch.length]);
  }
  // A crash: no clean-shutdown marker, and no recovery point either, so every segment is rescanned.
  await log.detach();
  await rm(join(dir, RECOVERY_POINT_FILE));
  return placed;
}

function segmentName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log`;
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.log')).sort();
}

/** Everything readable, batch by batch, with each batch's CRC checked. */
async function readEverything(log: PartitionLog) {
  const out = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const batches = splitBatches((await log.read(offset, 4096, { minOneBatch: true })).chunks);
    assert.ok(batches.length > 0);
    out.push(...batches);
    offset = (batches.at(-1)?.lastOffset ?? 0) + 1;
  }
  return out;
}

describe('recovery', () => {
  test('a log cut at any point reopens at the last whole batch before the cut (property)', async () => {
    await withTempDir(async (root) => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 25 }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          async (sizes, whichSegment, where) => {
            const dir = join(root, String(run++));
            const placed = await fill(dir, sizes);
            const files = await segmentFiles(dir);
            const victim = files[
              Math.min(files.length - 1, Math.floor(whichSegment * files.length))
            ] as string;
            const victimBase = Number(victim.slice(0, 20));
            const victimSize = (await stat(join(dir, victim))).size;
            const cut = Math.floor(where * victimSize);
            await truncate(join(dir, victim), cut);

            // Survivors: every batch before the victim and the victim's batches wholly before the cut. A cut
            // inside a batch is a torn tail: recovery truncates there and drops later segments. A cut exactly
            // between batches leaves nothing torn, so later segments stay (after a gap).
            let kept = 0;
            let torn = false;
            const victimEnd = placed.find(
              ([base]) => base > victimBase && files.includes(segmentName(base)),
            )?.[0];
            const expected = placed.filter(([base, , size]) => {
              if (base < victimBase) return true;
              if (victimEnd !== undefined && base >= victimEnd) return !torn;
              if (kept + size <= cut && !torn) {
                kept += size;
                return true;
              }
              torn ||= kept < cut;
              return false;
            });
            const { logger, lines } = captureLogger();
            const log = await PartitionLog.open(dir, config, { logger });
            try {
              const endOffset = (expected.at(-1)?.[1] ?? -1) + 1;
              assert.equal(log.logEndOffset, endOffset);
              assert.deepEqual(
                (await readEverything(log)).map((b) => b.baseOffset),
                expected.map(([base]) => base),
              );
              assert.equal(lines.filter((l) => l.message.includes('truncated')).length, torn ? 1 : 0);
              // The log takes appends again right after the recovered end.
              assert.equal((await log.append(makeBatch({}), 0)).baseOffset, endOffset);
            } finally {
              await log.close();
            }
          },
        ),
        { numRuns: 30, seed: 42 },
      );
    });
  });

  test('flipped bytes in the tail (crc or length) are truncated away', async () => {
    await withTempDir(async (root) => {
      for (const [name, at] of [
        ['body', -5],
        ['length', 8],
        ['magic', 16],
      ] as const) {
        const dir = join(root, name);
        const placed = await fill(dir, [50, 60, 70]);
        const files = await segmentFiles(dir);
        const path = join(dir, files.at(-1) as string);
        const bytes = await readFile(path);
        const lastSize = (placed.at(-1) as [number, number, number])[2];
        const lastStart = bytes.length - lastSize;
        const position = at < 0 ? bytes.length + at : lastStart + at;
        bytes[position] = (bytes[position] as number) ^ 0x5a;
        await writeFile(path, bytes);
        const { logger, lines } = captureLogger();
        const log = await PartitionLog.open(dir, config, { logger });
        assert.equal(log.logEndOffset, (placed[1] as [number, number, number])[1] + 1, name);
        assert.equal((await readEverything(log)).length, 2);
        assert.equal((await stat(path)).size, lastStart);
        assert.equal(lines.filter((l) => l.level === 'warn').length, 1);
        await log.close();
      }
    });
  });

  test('garbage appended after a clean shutdown is truncated too', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, config);
      for (let i = 0; i < 3; i++) await log.append(makeBatch({}), 0);
      await log.close();
      const path = join(dir, (await segmentFiles(dir)).at(-1) as string);
      const handle = await open(path, 'a');
      await handle.write(Buffer.from('not a batch at all, just garbage bytes from a torn write'));
      await handle.close();
      const reopened = await PartitionLog.open(dir, config);
      assert.equal(reopened.logEndOffset, 3);
      assert.equal((await reopened.append(makeBatch({}), 0)).baseOffset, 3);
      assert.equal((await readEverything(reopened)).length, 4);
      await reopened.close();
    });
  });

  test('deleted, garbage and wrong index files are rebuilt', async () => {
    await withTempDir(async (dir) => {
      const log = await PartitionLog.open(dir, config);
      const T0 = 1_700_000_000_000;
      for (let i = 0; i < 40; i++)
        await log.append(makeBatch({ valueBytes: 40, timestampMs: T0 + i * 10 }), 0);
      const sealedCount = log.segmentCount - 1;
      assert.ok(sealedCount >= 3);
      await log.close();
      const indexes = (await readdir(dir)).filter((n) => n.endsWith('.index')).sort();
      const timeIndexes = (await readdir(dir)).filter((n) => n.endsWith('.timeindex')).sort();
      await rm(join(dir, indexes[0] as string));
      await rm(join(dir, timeIndexes[0] as string));
      await writeFile(join(dir, indexes[1] as string), Buffer.from('garbage!garbage'));
      // Well formed but pointing at the wrong bytes: only a read can tell.
      const wrong = Buffer.alloc(8);
      wrong.writeUInt32BE(3, 0);
      wrong.writeUInt32BE(1, 4);
      await writeFile(join(dir, indexes[2] as string), wrong);

      const { logger, lines } = captureLogger();
      const reopened = await PartitionLog.open(dir, config, { logger, tailCacheBytes: 0 });
      for (let offset = 0; offset < 40; offset++) {
        const [batch] = splitBatches((await reopened.read(offset, 1, { minOneBatch: true })).chunks);
        assert.equal(batch?.baseOffset, offset);
      }
      assert.deepEqual(await reopened.offsetForTimestamp(T0 + 205), { offset: 21, timestamp: T0 + 210 });
      const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.message);
      assert.ok(warnings.includes('index files invalid, rebuilding'));
      assert.ok(warnings.includes('offset index inconsistent, rebuilding'));
      await reopened.close();
      // The rebuilt files are valid again.
      const again = captureLogger();
      const third = await PartitionLog.open(dir, config, { logger: again.logger, tailCacheBytes: 0 });
      for (let offset = 0; offset < 40; offset++) {
        assert.equal(
          splitBatches((await third.read(offset, 1, { minOneBatch: true })).chunks)[0]?.baseOffset,
          offset,
        );
      }
      assert.deepEqual(
        again.lines.filter((l) => l.level === 'warn'),
        [],
      );
      await third.close();
    });
  });
});
