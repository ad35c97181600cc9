// A CoordinatorLog kept in memory, for tests and single-process runs without a real offsets topic. Appends
// can be held (to observe requests waiting for durability) or made to fail, and a partition can be read
// back in append order (transaction markers included) to feed GroupCoordinator.loadPartition.

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

export class MemoryCoordinatorLog implements CoordinatorLog {
  private readonly partitions = new Map<number, StoredEntry[]>();
  private readonly failures: unknown[] = [];
  private held: (() => void)[] | null = null;
  appendCount = 0;

  constructor(private readonly nowMs: () => number = Date.now) {}

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

  /** The next append rejects with `error` (an object with `errorCode` carries a Kafka error code). */
  failNextAppend(error: unknown): void {
    this.failures.push(error);
  }

  /** Appends stay pending (and unwritten) until releaseAppends. */
  holdAppends(): void {
    this.held ??= [];
  }

  /** Completes held appends in call order and stops holding. */
  releaseAppends(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const complete of held) complete();
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
    this.appendCount++;
    if (this.failures.length > 0) return Promise.reject(this.failures.shift());
    const write = () => {
      const stored = this.entries(partition);
      const timestamp = this.nowMs();
      for (const { key, value } of records) {
        stored.push({ kind: 'record', key, value, timestamp, producerId, producerEpoch, isTransactional });
      }
    };
    const held = this.held;
    if (held === null) {
      write();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      held.push(() => {
        write();
        resolve();
      });
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
