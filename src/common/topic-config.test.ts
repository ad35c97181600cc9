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
        'compression.gzip.level',
        'compression.lz4.level',
        'compression.type',
        'compression.zstd.level',
        'delete.retention.ms',
        'file.delete.delay.ms',
        'flush.messages',
        'flush.ms',
        'follower.replication.throttled.replicas',
        'index.interval.bytes',
        'leader.replication.throttled.replicas',
        'max.compaction.lag.ms',
        'max.message.bytes',
        'message.downconversion.enable',
        'message.timestamp.after.max.ms',
        'message.timestamp.before.max.ms',
        'message.timestamp.difference.max.ms',
        'message.timestamp.type',
        'min.cleanable.dirty.ratio',
        'min.compaction.lag.ms',
        'min.insync.replicas',
        'preallocate',
        'retention.bytes',
        'retention.ms',
        'segment.bytes',
        'segment.index.bytes',
        'segment.jitter.ms',
        'segment.ms',
        'unclean.leader.election.enable',
      ],
    );
    for (const entry of entries.values()) {
      assert.equal(entry.readOnly, false);
      assert.equal(entry.sensitive, false);
    }
  });

  test("Kafka's configs without a Sluice broker setting show Kafka's default under the broker name", () => {
    const ratio = entries.get('min.cleanable.dirty.ratio')!;
    assert.equal(ratio.value, '0.5');
    assert.equal(ratio.source, ConfigSource.DEFAULT_CONFIG);
    assert.deepEqual(ratio.synonyms, [
      { name: 'log.cleaner.min.cleanable.ratio', value: '0.5', source: ConfigSource.DEFAULT_CONFIG },
    ]);
    const overridden = effectiveTopicConfig(broker, { 'min.compaction.lag.ms': '60000' });
    const lag = overridden.find((e) => e.name === 'min.compaction.lag.ms')!;
    assert.equal(lag.value, '60000');
    assert.equal(lag.source, ConfigSource.DYNAMIC_TOPIC_CONFIG);
    assert.deepEqual(
      lag.synonyms.map((s) => s.name),
      ['min.compaction.lag.ms', 'log.cleaner.min.compaction.lag.ms'],
    );
  });

  test("Kafka's other topic configs are validated by their type and range", () => {
    for (const [name, value] of [
      ['min.compaction.lag.ms', '60000'],
      ['delete.retention.ms', '0'],
      ['min.cleanable.dirty.ratio', '0.01'],
      ['segment.jitter.ms', '1000'],
      ['preallocate', 'TRUE'],
      ['compression.gzip.level', '-1'],
      ['compression.zstd.level', '-5'],
      ['leader.replication.throttled.replicas', '0:1, 1:2'],
      ['follower.replication.throttled.replicas', '*'],
      ['message.timestamp.before.max.ms', '9223372036854775807'],
    ]) {
      assert.deepEqual(validateTopicConfigs({ [name!]: value! }), { ok: true }, `${name}=${value}`);
    }
    for (const [name, value] of [
      ['min.compaction.lag.ms', '-1'],
      ['min.cleanable.dirty.ratio', '1.5'],
      ['preallocate', 'yes'],
      ['compression.gzip.level', '0'],
      ['compression.lz4.level', '18'],
      ['leader.replication.throttled.replicas', 'all'],
      ['segment.index.bytes', '3'],
    ]) {
      const result = validateTopicConfigs({ [name!]: value! });
      assert.equal(result.ok, false, `${name}=${value}`);
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
      segmentJitterMs: 0,
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
