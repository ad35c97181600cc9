import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSubscriptionTopics } from './consumer-protocol.js';
import { int16, int32, subscription } from './test-fixtures.js';

describe('parseSubscriptionTopics', () => {
  test('reads the topics of every version through the v0 prefix', () => {
    for (const version of [0, 1, 2, 3, 9]) {
      assert.deepEqual(parseSubscriptionTopics(subscription(['orders', 'Ünïcödé'], version)), [
        'orders',
        'Ünïcödé',
      ]);
    }
    assert.deepEqual(parseSubscriptionTopics(subscription([], 0, Buffer.from('user'))), []);
  });

  test('returns null for bytes that are not a subscription', () => {
    const valid = subscription(['orders']);
    assert.equal(parseSubscriptionTopics(Buffer.alloc(0)), null);
    assert.equal(parseSubscriptionTopics(Buffer.from([0xff, 0xff, 0, 0, 0, 0])), null, 'negative version');
    assert.equal(parseSubscriptionTopics(valid.subarray(0, valid.length - 1)), null, 'truncated user data');
    assert.equal(parseSubscriptionTopics(valid.subarray(0, 9)), null, 'truncated topic');
    assert.equal(parseSubscriptionTopics(Buffer.concat([int16(0), int32(1), int16(-1), int32(-1)])), null);
    assert.equal(parseSubscriptionTopics(Buffer.concat([int16(0), int32(1_000_000)])), null, 'huge count');
    assert.equal(parseSubscriptionTopics(Buffer.from('{"topics":["orders"]}')), null);
  });
});
