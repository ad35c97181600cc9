// Time for the coordinator comes through this interface so that tests move a fake clock instead of waiting.

export type TimerHandle = unknown;

export interface Scheduler {
  nowMs(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Wall-clock time and Node timers. Timers are unref'd: pending group timeouts never keep the process alive. */
export const realScheduler: Scheduler = {
  nowMs: () => Date.now(),
  setTimeout(fn, delayMs) {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

interface ManualTimer {
  readonly id: number;
  readonly dueMs: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to. advance() fires due timers in deadline order (ties in the order
 * they were set), with nowMs() equal to each timer's deadline while it runs, like a real clock would be.
 */
export class ManualScheduler implements Scheduler {
  private currentMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer: ManualTimer = { id: this.nextId++, dueMs: this.currentMs + Math.max(0, delayMs), fn };
    this.timers.set(timer.id, timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves the clock forward by `ms`, running every timer that falls due on the way (including new ones). */
  advance(ms: number): void {
    const targetMs = this.currentMs + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.dueMs > targetMs) continue;
        if (
          next === undefined ||
          timer.dueMs < next.dueMs ||
          (timer.dueMs === next.dueMs && timer.id < next.id)
        ) {
          next = timer;
        }
      }
      if (next === undefined) break;
      this.timers.delete(next.id);
      this.currentMs = next.dueMs;
      next.fn();
    }
    this.currentMs = targetMs;
  }
}
