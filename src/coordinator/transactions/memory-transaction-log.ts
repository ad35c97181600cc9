// A TransactionStateLog kept in memory, for tests: appends can be held (to observe requests waiting for
// durability) or made to fail, and a partition can be read back in append order to feed loadPartition.
import { GatedAppends } from '../gated-appends.js';
import type { TransactionStateLog, TransactionStateRecord } from './coordinator.js';

export class MemoryTransactionStateLog extends GatedAppends implements TransactionStateLog {
  private readonly partitions = new Map<number, TransactionStateRecord[]>();

  append(partition: number, records: TransactionStateRecord[]): Promise<void> {
    return this.gated(() => {
      let stored = this.partitions.get(partition);
      if (stored === undefined) {
        stored = [];
        this.partitions.set(partition, stored);
      }
      stored.push(...records);
    });
  }

  records(partition: number): readonly TransactionStateRecord[] {
    return this.partitions.get(partition) ?? [];
  }

  async *read(partition: number): AsyncGenerator<TransactionStateRecord> {
    for (const record of this.records(partition)) yield record;
  }
}
