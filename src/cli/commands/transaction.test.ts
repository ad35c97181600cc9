import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  formatProducers,
  formatTransactionDescription,
  formatTransactionList,
  parseTransactionState,
} from './transaction.js';

describe('transaction list', () => {
  test('a table sorted as given, numbers on the right', () => {
    assert.equal(
      formatTransactionList([
        { transactionalId: 'a-tx', producerId: 12, state: 'Ongoing', coordinatorId: 1 },
        { transactionalId: 'payments', producerId: 3, state: 'CompleteCommit', coordinatorId: 10 },
      ]),
      [
        'Transactional id  Producer id  State           Coordinator',
        'a-tx                       12  Ongoing                   1',
        'payments                    3  CompleteCommit           10',
      ].join('\n'),
    );
  });

  test('no transactions says so', () => {
    assert.equal(formatTransactionList([]), 'No transactions.');
  });

  test('--state takes Kafka state names in any case and refuses others', () => {
    assert.equal(parseTransactionState('ongoing'), 'Ongoing');
    assert.equal(parseTransactionState(' PREPARECOMMIT '), 'PrepareCommit');
    assert.throws(
      () => parseTransactionState('open'),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        e.message ===
          'expected one of Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence',
    );
  });
});

describe('transaction describe', () => {
  test('an open transaction: start time, age and partitions grouped by topic', () => {
    assert.equal(
      formatTransactionDescription(
        {
          transactionalId: 'tx',
          coordinatorId: 1,
          state: 'Ongoing',
          producerId: 5,
          producerEpoch: 2,
          transactionTimeoutMs: 60_000,
          transactionStartTimeMs: Date.UTC(2024, 4, 1, 12),
          topicPartitions: [
            { topic: 'audit', partition: 0 },
            { topic: 'payments', partition: 0 },
            { topic: 'payments', partition: 3 },
          ],
        },
        Date.UTC(2024, 4, 1, 12) + 1500,
      ),
      [
        'Transactional id: tx  State: Ongoing  Coordinator: 1',
        'Producer id: 5  Producer epoch: 2  Transaction timeout: 60000 ms',
        'Started: 2024-05-01T12:00:00.000Z (1500 ms ago)',
        'Partitions: audit:0 payments:0,3',
      ].join('\n'),
    );
  });

  test('an id that has not begun a transaction shows - for start and partitions', () => {
    assert.equal(
      formatTransactionDescription(
        {
          transactionalId: 'idle',
          coordinatorId: 0,
          state: 'Empty',
          producerId: 0,
          producerEpoch: 0,
          transactionTimeoutMs: 1000,
          transactionStartTimeMs: null,
          topicPartitions: [],
        },
        0,
      ),
      [
        'Transactional id: idle  State: Empty  Coordinator: 0',
        'Producer id: 0  Producer epoch: 0  Transaction timeout: 1000 ms',
        'Started: -',
        'Partitions: -',
      ].join('\n'),
    );
  });
});

describe('transaction describe-producers', () => {
  test('one row per producer; unknown values print as -', () => {
    assert.equal(
      formatProducers('t', [
        {
          topic: 't',
          partition: 0,
          activeProducers: [
            {
              producerId: 7,
              producerEpoch: 1,
              lastSequence: 4,
              lastTimestamp: Date.UTC(2024, 4, 1),
              coordinatorEpoch: 0,
              currentTransactionStartOffset: 12,
            },
          ],
        },
        { topic: 't', partition: 1, activeProducers: [] },
        {
          topic: 't',
          partition: 2,
          activeProducers: [
            {
              producerId: 8,
              producerEpoch: 0,
              lastSequence: -1,
              lastTimestamp: -1,
              coordinatorEpoch: null,
              currentTransactionStartOffset: null,
            },
          ],
        },
      ]),
      [
        'Partition  Producer id  Producer epoch  Last sequence  Last timestamp            Coordinator epoch  Transaction start offset',
        '        0            7               1              4  2024-05-01T00:00:00.000Z                  0                        12',
        '        2            8               0              -  -                                         -                         -',
      ].join('\n'),
    );
  });

  test('no producers says so', () => {
    assert.equal(
      formatProducers('t', [{ topic: 't', partition: 0, activeProducers: [] }]),
      "No active producers on topic 't'.",
    );
  });
});
