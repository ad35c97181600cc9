/** Runs tasks one at a time, in the order given; a task that fails does not stop the ones after it. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => {});
    return run;
  }

  /** Resolves once every task given so far has settled. */
  settled(): Promise<void> {
    return this.tail.then(() => {});
  }
}
