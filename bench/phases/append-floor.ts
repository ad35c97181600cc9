// The ingest phases' machine floor: this process appending 1 MiB writes to a fresh file next to the broker's
// data, for as long as an ingest phase runs. On the VMs this project runs on, page-cache appends into memory
// the kernel has not used lately cost far more than rewrites (0.4-2.4 GB/s measured for the same loop), so
// the broker's ingest figure needs this one from the same run beside it.
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Phase, PhaseContext, PhaseOutcome } from '../phase.js';

const WRITE_BYTES = 1024 * 1024;
const DURATION_MS = { full: 10_000, quick: 2_000 };
/** Bounds disk use, like the ingest phases' own cap. */
const MAX_FILE_BYTES = 8e9;

export function appendFloorPhase(): Phase {
  return {
    name: 'append-floor',
    description: `machine floor for ingest: 1 MiB FileHandle.writev appends to a fresh file in ${os.tmpdir()}`,
    needs: [],
    run: runAppendFloor,
  };
}

async function runAppendFloor(context: PhaseContext): Promise<PhaseOutcome> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-append-'));
  const durationMs = context.quick ? DURATION_MS.quick : DURATION_MS.full;
  const buffer = Buffer.alloc(WRITE_BYTES, 0x5a);
  let written = 0;
  const startMs = performance.now();
  try {
    const file = await open(path.join(dir, 'append.log'), 'w');
    try {
      while (performance.now() - startMs < durationMs && written < MAX_FILE_BYTES) {
        await file.writev([buffer], written);
        written += WRITE_BYTES;
      }
    } finally {
      await file.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const elapsedSeconds = (performance.now() - startMs) / 1000;
  context.log(`append-floor: ${(written / 1e9).toFixed(2)} GB in ${elapsedSeconds.toFixed(1)} s`);
  return {
    metrics: [{ name: 'machine floor: file append', value: written / 1e6 / elapsedSeconds, unit: 'MB/s' }],
    details: { writeBytes: WRITE_BYTES, written, elapsedSeconds },
  };
}
