// A bound on work started but not finished (records sent but not acknowledged), so that a fast input cannot
// queue without limit: callers wait for room before starting more.

export class InFlightLimit {
  private readonly max: number;
  private count = 0;
  private waiters: (() => void)[] = [];

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.count;
  }

  /** Tracks `work` until it settles; `work` must handle its own rejection. */
  add(work: Promise<void>): void {
    this.count += 1;
    void work.finally(() => {
      this.count -= 1;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
  }

  /** Resolves once fewer than `max` are in flight. */
  async roomForMore(): Promise<void> {
    while (this.count >= this.max) await this.nextSettled();
  }

  /** Resolves once nothing is in flight. */
  async allSettled(): Promise<void> {
    while (this.count > 0) await this.nextSettled();
  }

  private nextSettled(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
