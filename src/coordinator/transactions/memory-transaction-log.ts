// A TransactionStateLog kept in memory, for tests: appends can be held (to observe requests waiting for
// durability) or made to fail, and a partition can be read back in append order to feed loadPartition.
import type { TransactionStateLog, TransactionStateRecord } from './coordinator.js';

export class MemoryTransactionStateLog implements TransactionStateLog {
  private readonly partitions = new Map<number, TransactionStateRecord[]>();
  private readonly failures: unknown[] = [];
  private held: (() => void)[] | null = null;
  appendCount = 0;

  append(partition: number, records: TransactionStateRecord[]): Promise<void> {
    this.appendCount++;
    if (this.failures.length > 0) return Promise.reject(this.failures.shift());
    const write = () => {
      let stored = this.partitions.get(partition);
      if (stored === undefined) {
        stored = [];
        this.partitions.set(partition, stored);
      }
      stored.push(...records);
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

  /** The next append rejects with `error` (an object with `code` or `errorCode` carries a Kafka error code). */
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

  records(partition: number): readonly TransactionStateRecord[] {
    return this.partitions.get(partition) ?? [];
  }

  async *read(partition: number): AsyncGenerator<TransactionStateRecord> {
    for (const record of this.records(partition)) yield record;
  }
}
