import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatProduceSummary, headersFrom, parseRecordLine } from './produce.js';

describe('produce input', () => {
  test('without a separator the line is the value', () => {
    assert.deepEqual(parseRecordLine('a:b', undefined), { value: 'a:b' });
  });

  test('the key is what precedes the first separator; a line without one has no key', () => {
    assert.deepEqual(parseRecordLine('k:v:w', ':'), { key: 'k', value: 'v:w' });
    assert.deepEqual(parseRecordLine('k::v', '::'), { key: 'k', value: 'v' });
    assert.deepEqual(parseRecordLine(':v', ':'), { key: '', value: 'v' });
    assert.deepEqual(parseRecordLine('nokey', ':'), { key: null, value: 'nokey' });
  });

  test('headers: a repeated name keeps every value in order', () => {
    assert.equal(headersFrom([]), undefined);
    assert.deepEqual(
      headersFrom([
        ['a', '1'],
        ['b', 'x'],
        ['a', '2'],
      ]),
      { a: ['1', '2'], b: 'x' },
    );
  });
});

describe('formatProduceSummary', () => {
  const partitions = new Map([
    [2, { firstOffset: 10, lastOffset: 12, count: 3 }],
    [0, { firstOffset: 5, lastOffset: 5, count: 1 }],
  ]);

  test('partitions in order with their offset ranges', () => {
    assert.equal(
      formatProduceSummary('orders', { succeeded: 4, failed: 0, partitions, firstError: null }, -1),
      "Produced 4 records to 'orders': partition 0 offset 5, partition 2 offsets 10-12",
    );
  });

  test('acks=0 reports no offsets; nothing produced says so', () => {
    assert.equal(
      formatProduceSummary('t', { succeeded: 1, failed: 0, partitions: new Map(), firstError: null }, 0),
      "Produced 1 record to 't' (acks=0: offsets not reported)",
    );
    assert.equal(
      formatProduceSummary('t', { succeeded: 0, failed: 2, partitions: new Map(), firstError: 'x' }, 1),
      "Produced 0 records to 't'",
    );
  });
});
