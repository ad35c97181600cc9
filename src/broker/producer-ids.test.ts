import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProducerIdBlock } from '../metadata/index.js';
import { PRODUCER_ID_BLOCK_SIZE, type ProducerIdAllocator, ProducerIdManager } from './producer-ids.js';

/** Hands out consecutive blocks, each only when the test releases it, and records the counts asked for. */
class FakeAllocator implements ProducerIdAllocator {
  readonly requests: number[] = [];
  readonly #pending: {
    count: number;
    resolve: (block: ProducerIdBlock) => void;
    reject: (e: Error) => void;
  }[] = [];
  #next: number;
  constructor(firstProducerId = 0) {
    this.#next = firstProducerId;
  }

  allocateProducerIds(count: number): Promise<ProducerIdBlock> {
    this.requests.push(count);
    return new Promise((resolve, reject) => this.#pending.push({ count, resolve, reject }));
  }

  get pending(): number {
    return this.#pending.length;
  }

  grant(): void {
    const request = this.#pending.shift();
    assert.ok(request, 'no allocation is pending');
    const firstProducerId = this.#next;
    this.#next += request.count;
    request.resolve({ firstProducerId, lastProducerId: this.#next - 1 });
  }

  fail(error: Error): void {
    const request = this.#pending.shift();
    assert.ok(request, 'no allocation is pending');
    request.reject(error);
  }
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('ids come one by one from a block of 1000, the next block fetched only when it is used up', async () => {
  assert.equal(PRODUCER_ID_BLOCK_SIZE, 1000);
  const allocator = new FakeAllocator(5000);
  const manager = new ProducerIdManager(allocator);
  const first = manager.nextProducerId();
  await settle();
  allocator.grant();
  assert.equal(await first, 5000);
  for (let expected = 5001; expected <= 5999; expected++)
    assert.equal(await manager.nextProducerId(), expected);
  assert.deepEqual(allocator.requests, [1000]);

  const next = manager.nextProducerId();
  await settle();
  assert.deepEqual(allocator.requests, [1000, 1000]);
  allocator.grant();
  assert.equal(await next, 6000);
});

test('callers arriving while a block is fetched share that one fetch and get distinct ids', async () => {
  const allocator = new FakeAllocator();
  const manager = new ProducerIdManager(allocator, 3);
  const waiting = Array.from({ length: 5 }, () => manager.nextProducerId());
  await settle();
  assert.equal(allocator.pending, 1);
  allocator.grant();
  await settle();
  // Three ids for five callers: the two left over started exactly one more fetch.
  assert.equal(allocator.pending, 1);
  allocator.grant();
  assert.deepEqual(await Promise.all(waiting), [0, 1, 2, 3, 4]);
  assert.deepEqual(allocator.requests, [3, 3]);
});

test('a failed fetch rejects every caller waiting on it; the next call fetches again', async () => {
  const allocator = new FakeAllocator(10);
  const manager = new ProducerIdManager(allocator, 2);
  const waiting = [manager.nextProducerId(), manager.nextProducerId()];
  await settle();
  allocator.fail(new Error('store closed'));
  for (const result of await Promise.allSettled(waiting)) {
    assert.equal(result.status, 'rejected');
    assert.equal((result.reason as Error).message, 'store closed');
  }
  const retried = manager.nextProducerId();
  await settle();
  allocator.grant();
  assert.equal(await retried, 10);
  assert.deepEqual(allocator.requests, [2, 2]);
});

test('an empty block from the store is an error, not an endless fetch loop', async () => {
  const manager = new ProducerIdManager({
    allocateProducerIds: () => Promise.resolve({ firstProducerId: 7, lastProducerId: 6 }),
  });
  await assert.rejects(manager.nextProducerId(), {
    name: 'RangeError',
    message: 'producer id block 7..6 from the store is empty',
  });
});
