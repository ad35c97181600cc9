import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FetchPurgatory } from './purgatory.js';

/** Resolves to 'pending' if `promise` has not settled after the current macrotask. */
async function settled<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(resolve, 'pending'))]);
}

describe('FetchPurgatory', () => {
  test('an append to a watched partition wakes the waiter; others do not', async () => {
    const purgatory = new FetchPurgatory();
    const waiting = purgatory.waitForAppend(['a-0', 'a-1'], 10_000);
    purgatory.notifyAppend('b-0');
    assert.equal(await settled(waiting), 'pending');
    purgatory.notifyAppend('a-1');
    assert.equal(await waiting, true);
    assert.equal(purgatory.waiting, 0);
  });

  test('the deadline answers false', async () => {
    const purgatory = new FetchPurgatory();
    assert.equal(await purgatory.waitForAppend(['a-0'], 5), false);
    assert.equal(purgatory.waiting, 0);
  });

  test('an append while the fetch was reading wakes it at once instead of at the deadline', async () => {
    const purgatory = new FetchPurgatory();
    const readFrom = purgatory.appendSequence;
    purgatory.notifyAppend('b-0');
    // Nothing it watches since: it waits.
    const unrelated = purgatory.waitForAppend(['a-0'], 10_000, readFrom);
    assert.equal(await settled(unrelated), 'pending');
    purgatory.notifyAppend('a-0');
    assert.equal(await unrelated, true);
    // Appended after `since`, before the wait began.
    const since = purgatory.appendSequence;
    purgatory.notifyAppend('a-0');
    assert.equal(await settled(purgatory.waitForAppend(['a-0'], 10_000, since)), true);
    // Appended before `since`: not news.
    const later = purgatory.waitForAppend(['a-0'], 10_000, purgatory.appendSequence);
    assert.equal(await settled(later), 'pending');
    purgatory.close();
    assert.equal(await later, false);
  });

  test('after close every wait answers false at once', async () => {
    const purgatory = new FetchPurgatory();
    purgatory.close();
    assert.equal(await settled(purgatory.waitForAppend(['a-0'], 10_000)), false);
  });
});
