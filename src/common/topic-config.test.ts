import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadBrokerConfig } from './config.js';
import { ConfigSource, ConfigType, INVALID_CONFIG } from './config-values.js';
import { effectiveTopicConfig, toLogConfig, topicSettings, validateTopicConfigs } from './topic-config.js';

describe('validateTopicConfigs', () => {
  test('accepts known names with valid values, and null (remove the override)', () => {
    assert.deepEqual(
      validateTopicConfigs({
        'cleanup.policy': 'compact,delete',
        'compression.type': 'ZSTD',
        'retention.ms': '-1',
        'segment.bytes': '14',
        'message.timestamp.type': 'LogAppendTime',
        'flush.ms': '9223372036854775807',
        'min.insync.replicas': null,
      }),
      { ok: true },
    );
  });

  test('unknown name', () => {
    assert.deepEqual(validateTopicConfigs({ 'retention.msec': '1' }), {
      ok: false,
      errorCode: INVALID_CONFIG,
      message: 'Unknown topic config name: retention.msec',
    });
  });

  test('bad values', () => {
    const cases: [string, string, string][] = [
      ['segment.bytes', '13', 'expected an integer in [14, 2147483647]'],
      ['retention.ms', 'forever', 'expected a 64-bit integer at least -1'],
      ['retention.ms', '-2', 'expected a 64-bit integer at least -1'],
      ['cleanup.policy', 'remove', 'expected delete, compact, or compact,delete'],
      ['compression.type', 'brotli', 'expected one of producer, uncompressed, gzip, snappy, lz4, zstd'],
      ['message.timestamp.type', 'createtime', 'expected one of CreateTime, LogAppendTime'],
      ['min.insync.replicas', '0', 'expected an integer in [1, 2147483647]'],
      ['segment.ms', '0', 'expected a 64-bit integer at least 1'],
      ['max.message.bytes', '2147483648', 'expected an integer in [0, 2147483647]'],
    ];
    for (const [name, value, expected] of cases) {
      assert.deepEqual(validateTopicConfigs({ [name]: value }), {
        ok: false,
        errorCode: INVALID_CONFIG,
        message: `Invalid value ${value} for configuration ${name}: ${expected}`,
      });
    }
  });
});

describe('effectiveTopicConfig', () => {
  const broker = loadBrokerConfig({
    flags: { 'log.retention.hours': '1', 'log.segment.bytes': '1048576' },
  });
  const entries = new Map(
    effectiveTopicConfig(broker, { 'retention.ms': '1000', 'cleanup.policy': 'compact' }).map((e) => [
      e.name,
      e,
    ]),
  );

  test('lists every topic config, read-write and not sensitive', () => {
    assert.deepEqual(
      [...entries.keys()],
      [
        'cleanup.policy',
        'compression.type',
        'file.delete.delay.ms',
        'flush.messages',
        'flush.ms',
        'index.interval.bytes',
        'max.message.bytes',
        'message.timestamp.type',
        'min.insync.replicas',
        'retention.bytes',
        'retention.ms',
        'segment.bytes',
        'segment.ms',
      ],
    );
    for (const entry of entries.values()) {
      assert.equal(entry.readOnly, false);
      assert.equal(entry.sensitive, false);
    }
  });

  test('override: DYNAMIC_TOPIC_CONFIG, then the broker synonyms', () => {
    assert.deepEqual(entries.get('retention.ms'), {
      name: 'retention.ms',
      value: '1000',
      source: ConfigSource.DYNAMIC_TOPIC_CONFIG,
      readOnly: false,
      sensitive: false,
      type: ConfigType.LONG,
      documentation: 'Delete segments older than this; -1 keeps them forever.',
      synonyms: [
        { name: 'retention.ms', value: '1000', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
        { name: 'log.retention.hours', value: '1', source: ConfigSource.STATIC_BROKER_CONFIG },
        { name: 'log.retention.ms', value: '604800000', source: ConfigSource.DEFAULT_CONFIG },
      ],
    });
    assert.equal(entries.get('cleanup.policy')!.type, ConfigType.LIST);
  });

  test('broker setting given at start: STATIC_BROKER_CONFIG', () => {
    const segment = entries.get('segment.bytes')!;
    assert.equal(segment.value, '1048576');
    assert.equal(segment.source, ConfigSource.STATIC_BROKER_CONFIG);
    assert.deepEqual(segment.synonyms, [
      { name: 'log.segment.bytes', value: '1048576', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.segment.bytes', value: '1073741824', source: ConfigSource.DEFAULT_CONFIG },
    ]);
  });

  test('nothing set: DEFAULT_CONFIG', () => {
    const flushMs = entries.get('flush.ms')!;
    assert.equal(flushMs.value, '9223372036854775807');
    assert.equal(flushMs.source, ConfigSource.DEFAULT_CONFIG);
    assert.deepEqual(flushMs.synonyms, [
      { name: 'log.flush.interval.ms', value: '9223372036854775807', source: ConfigSource.DEFAULT_CONFIG },
    ]);
    assert.equal(entries.get('max.message.bytes')!.value, '1048588');
    assert.equal(entries.get('file.delete.delay.ms')!.value, '60000');
  });

  test('toLogConfig and topicSettings type the effective values', () => {
    const effective = [...entries.values()];
    assert.deepEqual(toLogConfig(effective), {
      segmentBytes: 1048576,
      segmentMs: 604800000,
      indexIntervalBytes: 4096,
      flushMessages: Number.MAX_SAFE_INTEGER,
      flushMs: Number.MAX_SAFE_INTEGER,
      retentionMs: 1000,
      retentionBytes: -1,
      cleanupPolicy: 'compact',
      fileDeleteDelayMs: 60000,
    });
    const settings = topicSettings(effective);
    assert.equal(settings.compressionType, 'producer');
    assert.equal(settings.messageTimestampType, 'CreateTime');
    assert.equal(settings.maxMessageBytes, 1048588);
    assert.equal(settings.minInsyncReplicas, 1);
  });

  test('broker retention from hours reaches the topic', () => {
    const effective = effectiveTopicConfig(broker, {});
    assert.equal(toLogConfig(effective).retentionMs, 3_600_000);
    assert.equal(effective.find((e) => e.name === 'retention.ms')!.source, ConfigSource.STATIC_BROKER_CONFIG);
  });
});
