// A byte budget shared by requests that hold record data in memory until their response is written (Fetch).
// A request takes what is free, up to what it wants, so under pressure responses shrink instead of the
// broker growing; when nothing is free it waits for a release, bounded by its own deadline.

interface Waiter {
  readonly want: number;
  readonly grant: (bytes: number) => void;
}

export class MemoryBudget {
  private available: number;
  private readonly waiters: Waiter[] = [];

  constructor(readonly capacityBytes: number) {
    this.available = capacityBytes;
  }

  get availableBytes(): number {
    return this.available;
  }

  /**
   * Grants between 1 and `want` bytes (at most the capacity): at once if any is free, else when a release
   * frees some, or 0 if `timeoutMs` passes first. Every granted byte must be released exactly once.
   */
  acquire(want: number, timeoutMs: number): Promise<number> {
    const wanted = Math.max(1, Math.min(want, this.capacityBytes));
    if (this.available > 0 && this.waiters.length === 0) return Promise.resolve(this.take(wanted));
    if (timeoutMs <= 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        want: wanted,
        grant: (bytes) => {
          clearTimeout(timer);
          resolve(bytes);
        },
      };
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve(0);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  release(bytes: number): void {
    this.available += bytes;
    while (this.available > 0 && this.waiters.length > 0) {
      const waiter = this.waiters.shift()!;
      waiter.grant(this.take(waiter.want));
    }
  }

  private take(want: number): number {
    const granted = Math.min(want, this.available);
    this.available -= granted;
    return granted;
  }
}
