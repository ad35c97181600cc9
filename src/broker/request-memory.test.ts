import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestMemory } from './request-memory.js';

test('waiters are woken once, when room is given back after the limit was reached', () => {
  const memory = new RequestMemory(100);
  const woken: string[] = [];
  const a = () => woken.push('a');
  const b = () => woken.push('b');
  memory.take(60);
  assert.equal(memory.exhausted, false);
  memory.take(60);
  assert.equal(memory.exhausted, true);
  memory.whenRoom(a);
  memory.whenRoom(a);
  memory.whenRoom(b);
  memory.cancel(b);
  memory.give(10);
  assert.deepEqual(woken, [], 'still at the limit');
  memory.give(50);
  assert.deepEqual(woken, ['a']);
  assert.equal(memory.usedBytes, 60);
  memory.take(50);
  memory.give(50);
  assert.deepEqual(woken, ['a'], 'a waiter is woken once');
});
