import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import { missingTopicErrorCode } from './metadata.js';

test('a missing topic with a legal name is UNKNOWN_TOPIC_OR_PARTITION', () => {
  for (const name of ['orders', 'a.b_c-1', 'x'.repeat(249)]) {
    assert.equal(missingTopicErrorCode(name), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name);
  }
});

test('a missing topic with an illegal name is INVALID_TOPIC_EXCEPTION', () => {
  for (const name of ['bad/name', '..', '.', 'with space', 'x'.repeat(250), 'ümlaut']) {
    assert.equal(missingTopicErrorCode(name), ErrorCode.INVALID_TOPIC_EXCEPTION, name);
  }
});
