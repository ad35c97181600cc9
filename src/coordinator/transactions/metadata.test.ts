import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TransactionStateError } from './errors.js';
import { isEpochExhausted, TransactionMetadata, type TransactionStateName } from './metadata.js';

function metadata(state: TransactionStateName, producerEpoch = 3): TransactionMetadata {
  return new TransactionMetadata('tx', {
    producerId: 100,
    producerEpoch,
    txnTimeoutMs: 1000,
    state,
    partitions: state === 'Ongoing' ? [{ topic: 'a', partition: 0 }] : [],
    txnStartTimestamp: state === 'Empty' ? -1 : 50,
    txnLastUpdateTimestamp: 60,
  });
}

describe('TransactionMetadata', () => {
  test('epochs 32766 and up are exhausted', () => {
    assert.deepEqual([32765, 32766, 32767].map(isEpochExhausted), [false, true, true]);
  });

  test('a prepared change blocks another until completed or abandoned', () => {
    const m = metadata('Empty');
    const added = m.prepareAddPartitions([{ topic: 'a', partition: 1 }], 70);
    assert.equal(m.pendingState, 'Ongoing');
    assert.throws(() => m.prepareAddPartitions([], 71), TransactionStateError);
    m.abandonTransition();
    assert.equal(m.state, 'Empty');
    const again = m.prepareAddPartitions([{ topic: 'a', partition: 1 }], 70);
    assert.deepEqual(again, added);
    m.completeTransition(again);
    assert.deepEqual(
      [m.state, m.pendingState, m.txnStartTimestamp, m.txnLastUpdateTimestamp],
      ['Ongoing', null, 70, 70],
    );
  });

  test('moves only along valid transitions', () => {
    assert.throws(
      () => metadata('Empty').prepareAbortOrCommit('PrepareCommit', 1),
      /PrepareCommit cannot follow Empty/,
    );
    assert.throws(() => metadata('CompleteAbort').prepareFenceProducerEpoch(), TransactionStateError);
    assert.throws(() => metadata('Ongoing').prepareDead(), TransactionStateError);
    assert.throws(
      () => metadata('Ongoing').prepareIncrementProducerEpoch(1000, null, 1),
      TransactionStateError,
    );
    assert.throws(
      () => metadata('Ongoing').prepareProducerIdRotation(200, 1000, 1, false),
      TransactionStateError,
    );
    assert.throws(
      () => metadata('Empty').removePartition({ topic: 'a', partition: 0 }),
      TransactionStateError,
    );
  });

  test('completing a transition other than the prepared one is refused', () => {
    const m = metadata('Ongoing');
    const prepared = m.prepareAbortOrCommit('PrepareCommit', 80);
    assert.throws(() => m.completeTransition({ ...prepared, state: 'PrepareAbort' }), TransactionStateError);
    assert.throws(() => m.completeTransition({ ...prepared, producerEpoch: 4 }), TransactionStateError);
    assert.throws(() => m.completeTransition({ ...prepared, partitions: [] }), TransactionStateError);
    m.completeTransition(prepared);
    assert.equal(m.state, 'PrepareCommit');
    const complete = m.prepareComplete(90);
    assert.deepEqual(
      [complete.state, complete.partitions, complete.txnStartTimestamp],
      ['CompleteCommit', [], 50],
    );
  });

  test('a fence bumps the epoch once, and not again after a failed fence write', () => {
    const m = metadata('Ongoing', 7);
    assert.equal(m.prepareFenceProducerEpoch().producerEpoch, 8);
    m.beginFencedAbort(8);
    assert.deepEqual([m.producerEpoch, m.lastProducerEpoch, m.pendingState], [8, -1, null]);
    m.hasFailedEpochFence = true;
    assert.equal(m.prepareFenceProducerEpoch().producerEpoch, 8);
    assert.throws(() => metadata('Ongoing', 32767).prepareFenceProducerEpoch(), /cannot fence epoch 32767/);
  });

  test('an epoch bump without an expected epoch forgets the last epoch', () => {
    const m = metadata('CompleteCommit', 3);
    m.lastProducerEpoch = 2;
    const bumped = m.prepareIncrementProducerEpoch(2000, null, 99);
    assert.ok('transition' in bumped);
    assert.deepEqual(
      [bumped.transition.producerEpoch, bumped.transition.lastProducerEpoch, bumped.transition.txnTimeoutMs],
      [4, -1, 2000],
    );
  });
});
