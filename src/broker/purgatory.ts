// Long-poll Fetch requests wait here for new data (Kafka's fetch purgatory). A waiter watches a set of
// partitions and wakes on the first append to any of them, on its deadline, or when the broker shuts down.
// It never holds data itself: the woken fetch reads again.
//
// Appends are numbered, so that a fetch can wait for appends since it started reading: one that landed while
// its reads were in flight (file reads, memory waits) wakes it at once instead of being missed until the
// deadline.

interface Waiter {
  readonly keys: readonly string[];
  readonly timer: NodeJS.Timeout;
  readonly finish: (appended: boolean) => void;
}

export class FetchPurgatory {
  private readonly waitersByKey = new Map<string, Set<Waiter>>();
  private readonly waiters = new Set<Waiter>();
  /** Number of the latest append to each partition that had one. */
  private readonly lastAppendByKey = new Map<string, number>();
  private appends = 0;
  private closed = false;

  /** The number of the latest append so far: what `waitForAppend` counts from. */
  get appendSequence(): number {
    return this.appends;
  }

  /**
   * Resolves true when one of `keys` was appended to after append number `since` (at once if that already
   * happened), false on timeout or shutdown.
   */
  waitForAppend(keys: readonly string[], timeoutMs: number, since = this.appends): Promise<boolean> {
    if (this.closed || timeoutMs <= 0 || keys.length === 0) return Promise.resolve(false);
    if (since < this.appends) {
      for (const key of keys) {
        if ((this.lastAppendByKey.get(key) ?? 0) > since) return Promise.resolve(true);
      }
    }
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
    this.lastAppendByKey.set(key, ++this.appends);
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
