// A CoordinatorLog kept in memory, for tests and single-process runs without a real offsets topic. Appends
// can be held (to observe requests waiting for durability) or made to fail, and a partition can be read
// back in append order (transaction markers included) to feed GroupCoordinator.loadPartition.

import { GatedAppends } from './gated-appends.js';
import type {
  CoordinatorLog,
  CoordinatorLogEntry,
  CoordinatorRecord,
  LoggedTransactionMarker,
} from './group-coordinator.js';

export interface StoredCoordinatorRecord extends CoordinatorRecord {
  kind: 'record';
  timestamp: number;
  /** -1 for a plain append. */
  producerId: number;
  producerEpoch: number;
  isTransactional: boolean;
}

type StoredEntry = StoredCoordinatorRecord | LoggedTransactionMarker;

export class MemoryCoordinatorLog extends GatedAppends implements CoordinatorLog {
  private readonly partitions = new Map<number, StoredEntry[]>();

  constructor(private readonly nowMs: () => number = Date.now) {
    super();
  }

  append(partition: number, records: CoordinatorRecord[]): Promise<void> {
    return this.write(partition, records, -1, -1, false);
  }

  appendTransactional(
    partition: number,
    producerId: number,
    producerEpoch: number,
    records: CoordinatorRecord[],
  ): Promise<void> {
    return this.write(partition, records, producerId, producerEpoch, true);
  }

  /** Writes a transaction marker, as the transaction coordinator does once a transaction ends. */
  writeMarker(partition: number, producerId: number, commit: boolean): void {
    this.entries(partition).push({ kind: 'marker', producerId, commit });
  }

  /** The data records of a partition (markers left out), in append order. */
  records(partition: number): StoredCoordinatorRecord[] {
    return (this.partitions.get(partition) ?? []).filter((e) => e.kind === 'record');
  }

  async *read(partition: number): AsyncGenerator<CoordinatorLogEntry> {
    for (const entry of this.partitions.get(partition) ?? []) yield entry;
  }

  private write(
    partition: number,
    records: CoordinatorRecord[],
    producerId: number,
    producerEpoch: number,
    isTransactional: boolean,
  ): Promise<void> {
    return this.gated(() => {
      const stored = this.entries(partition);
      const timestamp = this.nowMs();
      for (const { key, value } of records) {
        stored.push({ kind: 'record', key, value, timestamp, producerId, producerEpoch, isTransactional });
      }
    });
  }

  private entries(partition: number): StoredEntry[] {
    let stored = this.partitions.get(partition);
    if (stored === undefined) {
      stored = [];
      this.partitions.set(partition, stored);
    }
    return stored;
  }
}
