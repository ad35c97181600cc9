import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadBrokerConfig } from '../common/config.js';
import { partitionSettings } from './topic-settings.js';

describe('partitionSettings', () => {
  const config = loadBrokerConfig({ flags: { 'log.segment.bytes': '1048576' } });

  test('resolves overrides over the broker settings', () => {
    const settings = partitionSettings(config, { 'segment.bytes': '4096', 'max.message.bytes': '2000' });
    assert.equal(settings.log.segmentBytes, 4096);
    assert.equal(settings.maxMessageBytes, 2000);
    assert.equal(partitionSettings(config, {}).log.segmentBytes, 1_048_576);
  });

  test('one topic record gets one shared, frozen result; a replaced record gets a new one', () => {
    // The replica manager asks once per hosted partition on every metadata change.
    const overrides = Object.freeze({ 'retention.ms': '1000' });
    const first = partitionSettings(config, overrides);
    assert.equal(partitionSettings(config, overrides), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.log));
    const replaced = partitionSettings(config, Object.freeze({ 'retention.ms': '2000' }));
    assert.notEqual(replaced, first);
    assert.equal(first.log.retentionMs, 1000);
    assert.equal(replaced.log.retentionMs, 2000);
    const otherBroker = loadBrokerConfig({ flags: { 'log.segment.bytes': '2097152' } });
    assert.equal(partitionSettings(otherBroker, overrides).log.segmentBytes, 2_097_152);
  });
});
