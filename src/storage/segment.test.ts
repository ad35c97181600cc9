import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { LogSegment } from './segment.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-segment-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('index files are replaced whole: a write that fails leaves the previous files as they were', async () => {
  const segment = new LogSegment(dir, 0, 0);
  const indexes = segment.resetIndexes(1024);
  indexes.offsetIndex.append(0, 0);
  indexes.timeIndex.maybeAppend(1_700_000_000_000, 0);
  await segment.writeIndexFiles(indexes);
  const before = await readFile(segment.timeIndexPath);
  assert.ok(before.length > 0);
  assert.deepEqual((await readdir(dir)).sort(), [
    '00000000000000000000.index',
    '00000000000000000000.timeindex',
  ]);

  // The temporary file cannot be created: the write fails before touching the real file.
  await mkdir(`${segment.timeIndexPath}.tmp`);
  indexes.timeIndex.maybeAppend(1_700_000_000_500, 1);
  await assert.rejects(segment.writeIndexFiles(indexes));
  assert.deepEqual(await readFile(segment.timeIndexPath), before);

  await rm(`${segment.timeIndexPath}.tmp`, { recursive: true });
  await writeFile(`${segment.offsetIndexPath}.tmp`, 'left by a crash');
  await segment.writeIndexFiles(indexes);
  assert.notDeepEqual(await readFile(segment.timeIndexPath), before);
  assert.deepEqual((await readdir(dir)).sort(), [
    '00000000000000000000.index',
    '00000000000000000000.timeindex',
  ]);
});
