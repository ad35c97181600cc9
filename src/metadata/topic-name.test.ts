import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import { InvalidTopicError } from './errors.js';
import { checkTopicName, hasCollisionChars, topicNamesCollide, validateTopicName } from './topic-name.js';

test('legal names', () => {
  for (const name of ['a', 'orders.v1', 'my_topic-2', '__consumer_offsets', 'x'.repeat(249), '...']) {
    assert.equal(validateTopicName(name), null, name);
  }
});

test('illegal names', () => {
  assert.equal(validateTopicName(''), "Topic name is illegal, it can't be empty.");
  assert.equal(validateTopicName('.'), 'Topic name cannot be "." or "..".');
  assert.equal(validateTopicName('..'), 'Topic name cannot be "." or "..".');
  assert.match(validateTopicName('x'.repeat(250))!, /can't be longer than 249 characters/);
  for (const name of ['a b', 'a/b', 'ä', 'a:b', 'a*']) {
    assert.match(validateTopicName(name)!, /contains a character other than ASCII alphanumerics/, name);
  }
});

test('checkTopicName throws INVALID_TOPIC_EXCEPTION', () => {
  assert.throws(
    () => checkTopicName('a b'),
    (error: unknown) =>
      error instanceof InvalidTopicError && error.code === ErrorCode.INVALID_TOPIC_EXCEPTION,
  );
  checkTopicName('fine');
});

test('collisions between . and _', () => {
  assert.equal(topicNamesCollide('a.b', 'a_b'), true);
  assert.equal(topicNamesCollide('a.b', 'a.b'), false);
  assert.equal(topicNamesCollide('a.b', 'a-b'), false);
  assert.equal(hasCollisionChars('a.b'), true);
  assert.equal(hasCollisionChars('a_b'), true);
  assert.equal(hasCollisionChars('a-b'), false);
});
