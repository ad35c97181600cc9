import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBudget } from './memory-budget.js';

test('grants what is free up to the wish, never more than the capacity', async () => {
  const budget = new MemoryBudget(100);
  assert.equal(await budget.acquire(60, 0), 60);
  assert.equal(await budget.acquire(60, 0), 40);
  assert.equal(budget.availableBytes, 0);
  assert.equal(await budget.acquire(10, 0), 0);
  budget.release(100);
  assert.equal(await budget.acquire(500, 0), 100);
});

test('a waiter is served by the next release, in arrival order', async () => {
  const budget = new MemoryBudget(10);
  assert.equal(await budget.acquire(10, 0), 10);
  const first = budget.acquire(8, 1_000);
  const second = budget.acquire(8, 1_000);
  budget.release(6);
  assert.equal(await first, 6);
  budget.release(4);
  assert.equal(await second, 4);
  assert.equal(budget.availableBytes, 0);
});

test('a waiter gives up with 0 at its deadline and does not take later releases', async () => {
  const budget = new MemoryBudget(10);
  await budget.acquire(10, 0);
  assert.equal(await budget.acquire(5, 10), 0);
  budget.release(10);
  assert.equal(budget.availableBytes, 10);
});
