// Bytes of requests read and not yet answered, across all connections: Kafka's queued.max.request.bytes
// (KIP-72). A Produce frame stays in memory until its records are written, so without a shared bound every
// connection could hold max.in.flight.requests.per.connection frames of up to a megabyte or more: librdkafka
// pipelines without limit by default, and a few such producers put the broker far past its memory target.
// While the bound is reached no connection reads another request; each resumes as answers bring the total
// back under it. A request is never refused for its size alone: one may take the total over the bound, as in
// Kafka, so a request larger than the bound is still served when little else is in flight.

export class RequestMemory {
  private used = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly limitBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** True while no connection should read another request. */
  get exhausted(): boolean {
    return this.used >= this.limitBytes;
  }

  take(bytes: number): void {
    this.used += bytes;
  }

  /** Gives back what take() took; connections waiting for room are woken once there is some. */
  give(bytes: number): void {
    const wasExhausted = this.exhausted;
    this.used -= bytes;
    if (!wasExhausted || this.exhausted || this.waiting.size === 0) return;
    // A woken connection may take the room again and stop the others: each checks for itself.
    const woken = [...this.waiting];
    this.waiting.clear();
    for (const wake of woken) wake();
  }

  /** Calls `wake` once, the next time room is given back. */
  whenRoom(wake: () => void): void {
    this.waiting.add(wake);
  }

  cancel(wake: () => void): void {
    this.waiting.delete(wake);
  }
}
