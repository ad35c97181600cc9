// Micro-benchmark of the partition log (not a test): `node --import tsx src/storage/bench-append.ts`.
// Sequential appends of 1 MiB buffers with flush.messages = never and = 1, then sequential reads from disk.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBatchHeader } from './batch.js';
import { createStorageResources, PartitionLog } from './partition-log.js';
import { makeBatch, testConfig } from './test-support.js';

const MIB = 1024 * 1024;

function nextOffsetAfter(chunks: Buffer[]): number {
  let next = 0;
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length; ) {
      const header = readBatchHeader(chunk, at);
      next = header.lastOffset + 1;
      at += header.sizeBytes;
    }
  }
  return next;
}

async function appendRun(label: string, flushMessages: number, count: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  try {
    const config = testConfig({ segmentBytes: 256 * MIB, indexIntervalBytes: 4096, flushMessages });
    const log = await PartitionLog.open(dir, config, { resources: createStorageResources({}) });
    const batch = makeBatch({ records: 16, valueBytes: MIB / 16 - 16 });
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await log.append(batch, 0);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const appendMBps = (count * batch.length) / 1e6 / seconds;
    await log.close();

    let readLine = '';
    if (flushMessages !== 1) {
      const reader = await PartitionLog.open(dir, config, {
        tailCacheBytes: 0,
        resources: createStorageResources({}),
      });
      const readStarted = process.hrtime.bigint();
      let offset = 0;
      let bytes = 0;
      while (offset < reader.logEndOffset) {
        const result = await reader.read(offset, MIB, { minOneBatch: true });
        bytes += result.bytes;
        offset = nextOffsetAfter(result.chunks);
      }
      const readSeconds = Number(process.hrtime.bigint() - readStarted) / 1e9;
      readLine = `, sequential read (page cache, 1 MiB fetches): ${(bytes / 1e6 / readSeconds).toFixed(0)} MB/s`;
      await reader.close();
    }
    return `${label}: ${count} x ${(batch.length / MIB).toFixed(2)} MiB appends: ${appendMBps.toFixed(0)} MB/s${readLine}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(await appendRun('flush.messages=never', Number.MAX_SAFE_INTEGER, 512));
console.log(await appendRun('flush.messages=1', 1, 128));
console.log(`peak RSS ${(process.memoryUsage().rss / MIB).toFixed(0)} MiB`);
