// A CoordinatorLog kept in memory, for tests and single-process runs without a real offsets topic. Appends
// can be held (to observe requests waiting for durability) or made to fail, and a partition can be read
// back in append order to feed GroupCoordinator.loadPartition.

import type { CoordinatorLog, CoordinatorRecord } from './group-coordinator.js';

export interface StoredCoordinatorRecord extends CoordinatorRecord {
  timestamp: number;
}

export class MemoryCoordinatorLog implements CoordinatorLog {
  private readonly partitions = new Map<number, StoredCoordinatorRecord[]>();
  private readonly failures: unknown[] = [];
  private held: (() => void)[] | null = null;
  appendCount = 0;

  constructor(private readonly nowMs: () => number = Date.now) {}

  append(partition: number, records: CoordinatorRecord[]): Promise<void> {
    this.appendCount++;
    if (this.failures.length > 0) return Promise.reject(this.failures.shift());
    const write = () => {
      let stored = this.partitions.get(partition);
      if (stored === undefined) {
        stored = [];
        this.partitions.set(partition, stored);
      }
      const timestamp = this.nowMs();
      for (const { key, value } of records) stored.push({ key, value, timestamp });
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

  records(partition: number): readonly StoredCoordinatorRecord[] {
    return this.partitions.get(partition) ?? [];
  }

  async *read(partition: number): AsyncGenerator<StoredCoordinatorRecord> {
    for (const record of this.records(partition)) yield record;
  }
}
