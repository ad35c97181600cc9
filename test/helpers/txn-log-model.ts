// What a read_committed reader must see, derived from a partition's raw log (records and markers as readLog returns
// them): the records of committed transactions and of non-transactional producers, in log order, and the aborted
// transactions (producer id, first offset) a read_committed Fetch from the log start must report.
import type { DecodedRecordBatch } from '../../src/protocol/records/index.js';
import type { AbortedTransactionEntry, LogEntry } from './transactions.js';

function isCommitMarker(batch: DecodedRecordBatch): boolean {
  return batch.records[0]?.key?.readInt16BE(2) === 1;
}

/** [offset, value] of every record a read_committed consumer must deliver; open transactions count as undecided. */
export function committedEntries(batches: DecodedRecordBatch[]): LogEntry[] {
  const entries: LogEntry[] = [];
  const pending = new Map<number, LogEntry[]>();
  for (const batch of batches) {
    if (batch.isControl) {
      const records = pending.get(batch.producerId) ?? [];
      pending.delete(batch.producerId);
      if (isCommitMarker(batch)) entries.push(...records);
      continue;
    }
    const values = batch.records.map((r): LogEntry => [r.offset, r.value?.toString() ?? '<null>']);
    if (!batch.isTransactional) {
      entries.push(...values);
      continue;
    }
    const records = pending.get(batch.producerId) ?? [];
    records.push(...values);
    pending.set(batch.producerId, records);
  }
  return entries.sort((a, b) => a[0] - b[0]);
}

export interface AbortedRange extends AbortedTransactionEntry {
  /** Offset of the ABORT marker. */
  lastOffset: number;
}

/** Every aborted transaction of the log: producer, first offset and marker offset, ordered by first offset. */
export function abortedTransactionsOf(batches: DecodedRecordBatch[]): AbortedRange[] {
  const aborted: AbortedRange[] = [];
  const firstOffsets = new Map<number, number>();
  for (const batch of batches) {
    if (batch.isControl) {
      const firstOffset = firstOffsets.get(batch.producerId);
      firstOffsets.delete(batch.producerId);
      if (!isCommitMarker(batch) && firstOffset !== undefined) {
        aborted.push({ producerId: batch.producerId, firstOffset, lastOffset: batch.baseOffset });
      }
    } else if (batch.isTransactional && !firstOffsets.has(batch.producerId)) {
      firstOffsets.set(batch.producerId, batch.baseOffset);
    }
  }
  return aborted.sort((a, b) => a.firstOffset - b.firstOffset);
}

/** The aborted transactions a read_committed Fetch answering [fetchOffset, upperBoundOffset) must list. */
export function overlapping(
  aborted: AbortedRange[],
  fetchOffset: number,
  upperBoundOffset: number,
): AbortedTransactionEntry[] {
  return aborted
    .filter((t) => t.lastOffset >= fetchOffset && t.firstOffset < upperBoundOffset)
    .map(({ producerId, firstOffset }) => ({ producerId, firstOffset }));
}
