import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../errors.js';
import { clamp, formatGroupDescription, formatResetPlan, resetTarget } from './group.js';

describe('reset-offsets target', () => {
  test('exactly one target', () => {
    assert.deepEqual(resetTarget({ toEarliest: true }), { kind: 'earliest' });
    assert.deepEqual(resetTarget({ toLatest: true }), { kind: 'latest' });
    assert.deepEqual(resetTarget({ toTimestamp: 5 }), { kind: 'timestamp', timestamp: 5 });
    assert.deepEqual(resetTarget({ toOffset: 0 }), { kind: 'offset', offset: 0 });
    const message = 'give exactly one of --to-earliest, --to-latest, --to-timestamp and --to-offset';
    assert.throws(
      () => resetTarget({}),
      (e: unknown) => e instanceof UsageError && e.message === message,
    );
    assert.throws(
      () => resetTarget({ toEarliest: true, toOffset: 3 }),
      (e: unknown) => e instanceof UsageError && e.message === message,
    );
  });

  test('clamp keeps an offset within the log', () => {
    assert.equal(clamp(5, 10, 20), 10);
    assert.equal(clamp(25, 10, 20), 20);
    assert.equal(clamp(15, 10, 20), 15);
  });

  test('the plan table shows - for partitions without a commit', () => {
    assert.equal(
      formatResetPlan([
        { topic: 't', partition: 0, currentOffset: 12, newOffset: 0 },
        { topic: 't', partition: 1, currentOffset: null, newOffset: 3 },
      ]),
      [
        'Topic  Partition  Current offset  New offset',
        't              0              12           0',
        't              1               -           3',
      ].join('\n'),
    );
  });
});

describe('formatGroupDescription', () => {
  test('members, then committed offset, log end offset, lag and owner per partition', () => {
    const text = formatGroupDescription(
      {
        groupId: 'g',
        state: 'Stable',
        protocolType: 'consumer',
        protocol: 'range',
        members: [
          {
            memberId: 'm-1',
            groupInstanceId: null,
            clientId: 'c',
            clientHost: '/127.0.0.1',
            assignment: [{ topic: 't', partitions: [0, 1] }],
          },
        ],
      },
      [{ topic: 't', partition: 0, offset: 3, metadata: null }],
      [
        { topic: 't', partition: 0, logEndOffset: 5 },
        { topic: 't', partition: 1, logEndOffset: 9 },
      ],
    );
    assert.equal(
      text,
      [
        'Group: g  State: Stable  Protocol: range  Members: 1',
        'Member  Client id  Host        Assignment',
        'm-1     c          /127.0.0.1  t:0,1',
        '',
        'Topic  Partition  Committed offset  Log end offset  Lag  Member',
        't              0                 3               5    2  m-1',
        't              1                 -               9    -  m-1',
      ].join('\n'),
    );
  });

  test('an empty group without offsets says so', () => {
    const text = formatGroupDescription(
      { groupId: 'g', state: 'Empty', protocolType: 'consumer', protocol: '', members: [] },
      [],
      [],
    );
    assert.equal(
      text,
      'Group: g  State: Empty  Protocol: -  Members: 0\n\nNo committed offsets and no assigned partitions.',
    );
  });
});
