// What the in-memory coordinator logs (memory-coordinator-log.ts, transactions/memory-transaction-log.ts)
// offer tests besides storing records: an append can be made to fail, or held unwritten until released, to
// observe a coordinator waiting for durability.

export abstract class GatedAppends {
  appendCount = 0;
  private readonly failures: unknown[] = [];
  private held: (() => void)[] | null = null;

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

  /** Counts an append and runs `write` now, once appends are released, or never when a failure is queued. */
  protected gated(write: () => void): Promise<void> {
    this.appendCount++;
    if (this.failures.length > 0) return Promise.reject(this.failures.shift());
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
}
