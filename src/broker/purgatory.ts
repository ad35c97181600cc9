// Long-poll Fetch requests wait here for new data (Kafka's fetch purgatory). A waiter watches a set of
// partitions and wakes on the first append to any of them, on its deadline, or when the broker shuts down.
// It never holds data itself: the woken fetch reads again.

interface Waiter {
  readonly keys: readonly string[];
  readonly timer: NodeJS.Timeout;
  readonly finish: (appended: boolean) => void;
}

export class FetchPurgatory {
  private readonly waitersByKey = new Map<string, Set<Waiter>>();
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  /** Resolves true when one of `keys` was appended to, false on timeout or shutdown. */
  waitForAppend(keys: readonly string[], timeoutMs: number): Promise<boolean> {
    if (this.closed || timeoutMs <= 0 || keys.length === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let done = false;
      const finish = (appended: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(waiter.timer);
        this.remove(waiter);
        resolve(appended);
      };
      const waiter: Waiter = {
        keys,
        timer: setTimeout(() => finish(false), timeoutMs),
        finish,
      };
      this.waiters.add(waiter);
      for (const key of keys) {
        let set = this.waitersByKey.get(key);
        if (set === undefined) {
          set = new Set();
          this.waitersByKey.set(key, set);
        }
        set.add(waiter);
      }
    });
  }

  /** Called by a partition's log after appended data became readable. */
  notifyAppend(key: string): void {
    const set = this.waitersByKey.get(key);
    if (set === undefined) return;
    for (const waiter of [...set]) waiter.finish(true);
  }

  get waiting(): number {
    return this.waiters.size;
  }

  /** Completes every waiter now; new waits return at once. */
  close(): void {
    this.closed = true;
    for (const waiter of [...this.waiters]) waiter.finish(false);
  }

  private remove(waiter: Waiter): void {
    this.waiters.delete(waiter);
    for (const key of waiter.keys) {
      const set = this.waitersByKey.get(key);
      if (set === undefined) continue;
      set.delete(waiter);
      if (set.size === 0) this.waitersByKey.delete(key);
    }
  }
}
