import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BROKER_CONFIG_DEFS,
  brokerConfigEntries,
  ConfigError,
  envVarName,
  loadBrokerConfig,
  renderConfigReference,
} from './config.js';
import { parseConfigFileText } from './config-file.js';
import { ConfigSource, ConfigType } from './config-values.js';

const propertiesFile = (text: string) => parseConfigFileText('/etc/sluice/server.properties', text);

describe('loadBrokerConfig defaults', () => {
  test('every documented default', () => {
    const { explicitSettings, ...config } = loadBrokerConfig();
    assert.deepEqual(config, {
      listeners: [
        {
          name: 'PLAINTEXT',
          securityProtocol: 'PLAINTEXT',
          host: '127.0.0.1',
          port: 9092,
          advertisedHost: '127.0.0.1',
          advertisedPort: 9092,
        },
      ],
      listenerSecurityProtocolMap: {
        PLAINTEXT: 'PLAINTEXT',
        SSL: 'SSL',
        SASL_PLAINTEXT: 'SASL_PLAINTEXT',
        SASL_SSL: 'SASL_SSL',
      },
      saslEnabledMechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
      saslUsers: [],
      saslServerMaxReceiveSize: 524288,
      sslKeystoreLocation: null,
      sslKeystoreType: 'PEM',
      sslKeystorePassword: null,
      sslKeyPassword: null,
      sslTruststoreLocation: null,
      sslClientAuth: 'none',
      authorizerEnabled: false,
      superUsers: [],
      allowEveryoneIfNoAclFound: false,
      nodeId: 0,
      dataDir: './data',
      autoCreateTopicsEnable: true,
      numPartitions: 1,
      defaultReplicationFactor: 1,
      logSegmentBytes: 1073741824,
      logRollMs: 604800000,
      logIndexIntervalBytes: 4096,
      logFlushIntervalMessages: Number.MAX_SAFE_INTEGER,
      logFlushIntervalMs: null,
      logRetentionMs: 604800000,
      logRetentionBytes: -1,
      logRetentionCheckIntervalMs: 300000,
      logFlushOffsetCheckpointIntervalMs: 60000,
      producerIdExpirationMs: 86400000,
      logCleanupPolicy: 'delete',
      logSegmentDeleteDelayMs: 60000,
      messageMaxBytes: 1048588,
      compressionType: 'producer',
      logMessageTimestampType: 'CreateTime',
      minInsyncReplicas: 1,
      socketRequestMaxBytes: 104857600,
      connectionsMaxIdleMs: 600000,
      maxInFlightRequestsPerConnection: 100,
      queuedMaxRequestBytes: 33554432,
      queuedMaxResponseBytes: 67108864,
      fetchMemoryBytes: 16777216,
      offsetsTopicNumPartitions: 50,
      offsetsTopicReplicationFactor: 1,
      offsetsRetentionMinutes: 10080,
      groupMinSessionTimeoutMs: 6000,
      groupMaxSessionTimeoutMs: 1800000,
      groupInitialRebalanceDelayMs: 3000,
      groupMaxSize: 2147483647,
      transactionStateLogNumPartitions: 50,
      transactionStateLogReplicationFactor: 1,
      transactionMaxTimeoutMs: 900000,
      transactionalIdExpirationMs: 604800000,
      transactionAbortTimedOutTransactionCleanupIntervalMs: 10000,
      logLevel: 'info',
      clusterId: null,
      shutdownTimeoutMs: 30000,
    });
    assert.deepEqual(explicitSettings, {});
  });

  test('setting names map one-to-one onto environment variables', () => {
    const names = BROKER_CONFIG_DEFS.map((def) => def.name);
    for (const name of names) assert.doesNotMatch(name, /_/);
    assert.equal(new Set(names.map(envVarName)).size, names.length);
    assert.equal(envVarName('log.segment.bytes'), 'SLUICE_LOG_SEGMENT_BYTES');
  });
});

describe('precedence: defaults < file < env < flags', () => {
  const file = propertiesFile(
    'num.partitions=2\nlog.segment.bytes=2000\nmessage.max.bytes=3000\nnode.id=4\n',
  );
  const env = { SLUICE_LOG_SEGMENT_BYTES: '5000', SLUICE_MESSAGE_MAX_BYTES: '6000', PATH: '/usr/bin' };
  const flags = { 'message.max.bytes': '7000' };

  test('each layer overrides the ones below it', () => {
    const config = loadBrokerConfig({ file, env, flags });
    assert.equal(config.numPartitions, 2);
    assert.equal(config.logSegmentBytes, 5000);
    assert.equal(config.messageMaxBytes, 7000);
    assert.equal(config.nodeId, 4);
    assert.equal(config.logRollMs, 604800000);
    assert.deepEqual(config.explicitSettings['message.max.bytes'], {
      text: '7000',
      origin: 'flag',
      location: 'command-line setting message.max.bytes',
    });
    assert.deepEqual(config.explicitSettings['log.segment.bytes'], {
      text: '5000',
      origin: 'env',
      location: 'environment variable SLUICE_LOG_SEGMENT_BYTES',
    });
    assert.deepEqual(config.explicitSettings['num.partitions'], {
      text: '2',
      origin: 'file',
      location: 'config file /etc/sluice/server.properties line 1',
    });
  });

  test('empty environment values count as unset', () => {
    const config = loadBrokerConfig({ file, env: { SLUICE_NUM_PARTITIONS: '' } });
    assert.equal(config.numPartitions, 2);
  });

  test('unknown SLUICE_ variables warn instead of failing', () => {
    const warnings: string[] = [];
    const config = loadBrokerConfig({ env: { SLUICE_NUM_PARTITONS: '3' }, warn: (m) => warnings.push(m) });
    assert.equal(config.numPartitions, 1);
    assert.deepEqual(warnings, [
      'Ignoring environment variable SLUICE_NUM_PARTITONS: it names no broker setting',
    ]);
  });
});

describe('config files', () => {
  test('properties: comments, separators, continuation, escapes', () => {
    const file = propertiesFile(
      [
        '# Sluice',
        '! also a comment',
        '   listeners = PLAINTEXT://0.0.0.0:19092',
        'log.dirs: /var/lib/sluice\\',
        '    /data',
        'auto.create.topics.enable false',
        'cluster.id=abc\\u0044ef',
        '',
      ].join('\n'),
    );
    assert.deepEqual(file.entries, {
      listeners: 'PLAINTEXT://0.0.0.0:19092',
      'log.dirs': '/var/lib/sluice/data',
      'auto.create.topics.enable': 'false',
      'cluster.id': 'abcDef',
    });
    const warnings: string[] = [];
    const config = loadBrokerConfig({ file, warn: (m) => warnings.push(m) });
    assert.deepEqual(config.listeners, [
      {
        name: 'PLAINTEXT',
        securityProtocol: 'PLAINTEXT',
        host: '0.0.0.0',
        port: 19092,
        advertisedHost: '127.0.0.1',
        advertisedPort: 19092,
      },
    ]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /advertising 127\.0\.0\.1:19092/);
    assert.equal(config.dataDir, '/var/lib/sluice/data');
    assert.equal(config.autoCreateTopicsEnable, false);
    assert.equal(config.clusterId, 'abcDef');
  });

  test('properties line without a value is an error naming the line', () => {
    assert.throws(
      () => propertiesFile('num.partitions=3\nlog.segment.bytes\n'),
      new ConfigError(
        'Config file /etc/sluice/server.properties line 2: "log.segment.bytes" has no value (expected key=value)',
      ),
    );
  });

  test('properties key with a separator but no value is an error too', () => {
    assert.throws(() => propertiesFile('log.segment.bytes = \n'), /line 1: "log.segment.bytes" has no value/);
  });

  test('JSON: numbers, booleans, null and lists', () => {
    const file = parseConfigFileText(
      'sluice.json',
      JSON.stringify({
        'num.partitions': 6,
        'auto.create.topics.enable': false,
        'log.cleanup.policy': ['delete', 'compact'],
        'log.flush.interval.ms': null,
      }),
    );
    const config = loadBrokerConfig({ file });
    assert.equal(config.numPartitions, 6);
    assert.equal(config.autoCreateTopicsEnable, false);
    assert.equal(config.logCleanupPolicy, 'compact,delete');
    assert.equal(config.logFlushIntervalMs, null);
    assert.equal(config.explicitSettings['log.flush.interval.ms'], undefined);
  });

  test('JSON that is not an object of scalars is rejected', () => {
    assert.throws(() => parseConfigFileText('a.json', '[1]'), /must hold one JSON object/);
    assert.throws(() => parseConfigFileText('a.json', '{"x": {"y": 1}}'), /"x" must be a string/);
    assert.throws(() => parseConfigFileText('a.json', '{'), /is not valid JSON/);
  });
});

describe('errors name the key', () => {
  test('unknown key in the file, with a suggestion', () => {
    assert.throws(
      () => loadBrokerConfig({ file: propertiesFile('# x\nlog.segment.byte=100\n') }),
      new ConfigError(
        'Unknown broker setting "log.segment.byte" in config file /etc/sluice/server.properties line 2 ' +
          '(did you mean log.segment.bytes?)',
      ),
    );
  });

  test('unknown key in flags', () => {
    assert.throws(
      () => loadBrokerConfig({ flags: { 'no.such.thing': '1' } }),
      new ConfigError('Unknown broker setting "no.such.thing" in command-line setting no.such.thing'),
    );
  });

  test('bad values say what was expected and where they came from', () => {
    assert.throws(
      () => loadBrokerConfig({ env: { SLUICE_LOG_SEGMENT_BYTES: '10' } }),
      new ConfigError(
        'Invalid value "10" for log.segment.bytes (environment variable SLUICE_LOG_SEGMENT_BYTES): ' +
          'expected an integer in [14, 2147483647]',
      ),
    );
    assert.throws(
      () => loadBrokerConfig({ flags: { 'auto.create.topics.enable': 'yes' } }),
      new ConfigError(
        'Invalid value "yes" for auto.create.topics.enable (command-line setting auto.create.topics.enable): ' +
          'expected true or false',
      ),
    );
    assert.throws(
      () => loadBrokerConfig({ flags: { 'num.partitions': '1.5' } }),
      /Invalid value "1\.5" for num\.partitions .*expected an integer in \[1, 2147483647\]/,
    );
    assert.throws(
      () => loadBrokerConfig({ flags: { 'compression.type': 'brotli' } }),
      /expected one of producer, uncompressed, gzip, snappy, lz4, zstd/,
    );
    assert.throws(() => loadBrokerConfig({ flags: { listeners: 'localhost' } }), /expected HOST:PORT/);
    assert.throws(
      () => loadBrokerConfig({ flags: { listeners: 'SSL://h:1' } }),
      /ssl\.keystore\.location is not set: a TLS listener needs the broker's key and certificate/,
    );
    assert.throws(
      () => loadBrokerConfig({ flags: { listeners: 'SASL_SSL://h:1', 'ssl.keystore.location': '/k.pem' } }),
      /sasl\.users is not set/,
    );
    assert.throws(
      () => loadBrokerConfig({ flags: { 'ssl.keystore.type': 'JKS' } }),
      /expected one of PEM, PKCS12/,
    );
    assert.throws(
      () => loadBrokerConfig({ flags: { listeners: 'FOO://h:1' } }),
      /No security protocol for listener FOO of listeners \(command-line setting listeners\)/,
    );
    assert.throws(() => loadBrokerConfig({ flags: { 'log.dirs': '/a,/b' } }), /single log dir/);
  });

  test('a bad value is an error even when a higher layer overrides it', () => {
    assert.throws(
      () =>
        loadBrokerConfig({ file: propertiesFile('num.partitions=zero\n'), flags: { 'num.partitions': '2' } }),
      /Invalid value "zero" for num\.partitions \(config file .* line 1\)/,
    );
  });

  test('advertised.listeners must be reachable', () => {
    assert.throws(
      () => loadBrokerConfig({ flags: { 'advertised.listeners': '0.0.0.0:9092' } }),
      /clients cannot connect to a wildcard address/,
    );
    assert.throws(
      () => loadBrokerConfig({ flags: { 'advertised.listeners': 'h:0' } }),
      /expected a port in \[1, 65535\]/,
    );
  });

  test('session timeout bounds must be ordered', () => {
    assert.throws(
      () =>
        loadBrokerConfig({
          flags: { 'group.min.session.timeout.ms': '9000', 'group.max.session.timeout.ms': '8000' },
        }),
      /group\.min\.session\.timeout\.ms \(9000\) must not exceed group\.max\.session\.timeout\.ms \(8000\)/,
    );
  });
});

describe('addresses', () => {
  test('listener forms', () => {
    const at = (listeners: string) => {
      const c = loadBrokerConfig({ flags: { listeners }, warn: () => {} });
      assert.equal(c.listeners.length, 1);
      const [listener] = c.listeners;
      return [listener!.host, listener!.port, listener!.advertisedHost, listener!.advertisedPort];
    };
    assert.deepEqual(at('localhost:0'), ['localhost', 0, 'localhost', 0]);
    assert.deepEqual(at('PLAINTEXT://:9093'), ['0.0.0.0', 9093, '127.0.0.1', 9093]);
    assert.deepEqual(at('[::1]:9094'), ['::1', 9094, '::1', 9094]);
  });

  test('an explicit advertised listener is kept', () => {
    const config = loadBrokerConfig({
      flags: { listeners: '0.0.0.0:9092', 'advertised.listeners': 'broker.example.com:19092' },
    });
    assert.equal(config.listeners[0]!.advertisedHost, 'broker.example.com');
    assert.equal(config.listeners[0]!.advertisedPort, 19092);
  });
});

describe('several listeners', () => {
  const keystore = { 'ssl.keystore.location': '/etc/sluice/broker.pem', 'sasl.users': 'alice:alice-secret' };
  const twoListeners = {
    listeners: 'INTERNAL://127.0.0.1:9092,EXTERNAL://0.0.0.0:9094',
    'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL',
    ...keystore,
  };

  test('names map to security protocols; each listener advertises its own address by default', () => {
    const warnings: string[] = [];
    const config = loadBrokerConfig({ flags: twoListeners, warn: (m) => warnings.push(m) });
    assert.deepEqual(config.listeners, [
      {
        name: 'INTERNAL',
        securityProtocol: 'PLAINTEXT',
        host: '127.0.0.1',
        port: 9092,
        advertisedHost: '127.0.0.1',
        advertisedPort: 9092,
      },
      {
        name: 'EXTERNAL',
        securityProtocol: 'SASL_SSL',
        host: '0.0.0.0',
        port: 9094,
        advertisedHost: '127.0.0.1',
        advertisedPort: 9094,
      },
    ]);
    assert.deepEqual(config.listenerSecurityProtocolMap, { INTERNAL: 'PLAINTEXT', EXTERNAL: 'SASL_SSL' });
    assert.deepEqual(warnings, [
      'listener EXTERNAL://0.0.0.0:9094, which clients cannot connect to; advertising 127.0.0.1:9094. Set ' +
        'advertised.listeners to the address clients should use.',
    ]);
  });

  test('a bare address is the PLAINTEXT listener; names and protocols ignore case', () => {
    const summary = (flags: Record<string, string>) =>
      loadBrokerConfig({ flags: { ...keystore, ...flags } }).listeners.map(
        (l) => `${l.name}=${l.securityProtocol}@${l.host}:${l.port}`,
      );
    assert.deepEqual(summary({ listeners: '127.0.0.1:9092,sasl_plaintext://127.0.0.1:9093' }), [
      'PLAINTEXT=PLAINTEXT@127.0.0.1:9092',
      'SASL_PLAINTEXT=SASL_PLAINTEXT@127.0.0.1:9093',
    ]);
    assert.deepEqual(
      summary({
        listeners: 'internal://h:1, Replication://h:2 ,',
        'listener.security.protocol.map': 'Internal:ssl,REPLICATION:Sasl_Plaintext',
      }),
      ['INTERNAL=SSL@h:1', 'REPLICATION=SASL_PLAINTEXT@h:2'],
    );
    assert.deepEqual(summary({ listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0' }), [
      'PLAINTEXT=PLAINTEXT@127.0.0.1:0',
      'SSL=SSL@127.0.0.1:0',
    ]);
  });

  test('names are distinct, ports too unless 0, and every name needs a security protocol', () => {
    const refused = (flags: Record<string, string>, message: RegExp | ConfigError) =>
      assert.throws(() => loadBrokerConfig({ flags: { ...keystore, ...flags } }), message);
    refused({ listeners: 'a://h:1,A://h:2' }, /expected HOST:PORT .*; listener A is named twice$/);
    refused({ listeners: 'h:1,h:2' }, /listener PLAINTEXT is named twice \(HOST:PORT alone is PLAINTEXT\)$/);
    refused(
      { listeners: 'PLAINTEXT://a:9092,SSL://b:9092' },
      /listeners PLAINTEXT and SSL both use port 9092$/,
    );
    refused({ listeners: 'in-side://h:1' }, /a listener name is letters, digits and _, not "in-side"/);
    refused(
      { listeners: 'INTERNAL://h:1,EXTERNAL://h:2', 'listener.security.protocol.map': 'INTERNAL:PLAINTEXT' },
      new ConfigError(
        'No security protocol for listener EXTERNAL of listeners (command-line setting listeners): ' +
          'listener.security.protocol.map (command-line setting listener.security.protocol.map) is ' +
          'INTERNAL:PLAINTEXT; add EXTERNAL:PROTOCOL with PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL',
      ),
    );
    refused(
      { 'listener.security.protocol.map': 'PLAINTEXT:TLS' },
      /listener\.security\.protocol\.map .*: expected NAME:PROTOCOL.*; unknown security protocol TLS$/,
    );
    refused({ 'listener.security.protocol.map': 'A:SSL,a:PLAINTEXT' }, /; A is mapped twice$/);
    refused({ 'listener.security.protocol.map': 'PLAINTEXT' }, /; "PLAINTEXT" is not NAME:PROTOCOL$/);
  });

  test('advertised.listeners names the listeners it changes', () => {
    const config = loadBrokerConfig({
      flags: { ...twoListeners, 'advertised.listeners': 'external://broker.example.com:19094' },
      warn: () => assert.fail('nothing to warn about'),
    });
    assert.deepEqual(
      config.listeners.map((l) => [l.name, l.advertisedHost, l.advertisedPort]),
      [
        ['INTERNAL', '127.0.0.1', 9092],
        ['EXTERNAL', 'broker.example.com', 19094],
      ],
    );
    const single = loadBrokerConfig({
      flags: {
        listeners: 'INTERNAL://0.0.0.0:9092',
        'listener.security.protocol.map': 'INTERNAL:PLAINTEXT',
        'advertised.listeners': 'h:19092',
      },
    });
    assert.deepEqual(
      [single.listeners[0]!.advertisedHost, single.listeners[0]!.advertisedPort],
      ['h', 19092],
    );
  });

  test('advertised.listeners: each entry valid, named after a listener, bare only with one listener', () => {
    const refused = (advertised: string, message: RegExp | ConfigError) =>
      assert.throws(
        () =>
          loadBrokerConfig({
            flags: { ...twoListeners, 'advertised.listeners': advertised },
            warn: () => {},
          }),
        message,
      );
    refused(
      'broker.example.com:9094',
      new ConfigError(
        'Invalid value "broker.example.com:9094" for advertised.listeners (command-line setting ' +
          'advertised.listeners): with several listeners (INTERNAL, EXTERNAL) each advertised address needs ' +
          'its listener name (NAME://)',
      ),
    );
    refused(
      'PLAINTEXT://h:9092',
      new ConfigError(
        'Invalid value "PLAINTEXT://h:9092" for advertised.listeners (command-line setting ' +
          'advertised.listeners): PLAINTEXT is not a listener name; listeners defines INTERNAL, EXTERNAL',
      ),
    );
    refused('INTERNAL://h:9092,EXTERNAL://0.0.0.0:9094', /"EXTERNAL:\/\/0\.0\.0\.0:9094".*wildcard address/);
    refused('INTERNAL://h:0', /"INTERNAL:\/\/h:0" .*expected a port in \[1, 65535\]/);
    refused('INTERNAL://h:1,internal://h:2', /listener INTERNAL is named twice$/);
    refused('INTERNAL://h:1,h:2', /with several addresses each needs its listener name \(NAME:\/\/\)$/);
  });

  test('TLS and SASL settings are required by every listener that uses them', () => {
    const flags = {
      listeners: 'INTERNAL://h:1,EXTERNAL://h:2',
      'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL',
    };
    assert.throws(
      () => loadBrokerConfig({ flags: { ...flags, 'sasl.users': 'a:b' } }),
      new ConfigError(
        'listener EXTERNAL (EXTERNAL://h:2) is SASL_SSL, but ssl.keystore.location is not set: a TLS listener ' +
          "needs the broker's key and certificate",
      ),
    );
    assert.throws(
      () => loadBrokerConfig({ flags: { ...flags, 'ssl.keystore.location': '/k.pem' } }),
      /listener EXTERNAL \(EXTERNAL:\/\/h:2\) is SASL_SSL, but sasl\.users is not set: nobody could log in/,
    );
    // A plaintext-only broker needs neither.
    assert.equal(
      loadBrokerConfig({
        flags: { listeners: 'INTERNAL://h:1', 'listener.security.protocol.map': 'INTERNAL:PLAINTEXT' },
      }).listeners[0]!.securityProtocol,
      'PLAINTEXT',
    );
  });

  test('DescribeConfigs shows every listener, the effective advertised addresses and the map', () => {
    const config = loadBrokerConfig({
      flags: { ...twoListeners, 'advertised.listeners': 'EXTERNAL://broker.example.com:19094' },
    });
    const entries = new Map(brokerConfigEntries(config).map((e) => [e.name, e]));
    assert.equal(entries.get('listeners')!.value, 'INTERNAL://127.0.0.1:9092,EXTERNAL://0.0.0.0:9094');
    const advertised = entries.get('advertised.listeners')!;
    assert.equal(advertised.value, 'INTERNAL://127.0.0.1:9092,EXTERNAL://broker.example.com:19094');
    assert.deepEqual(advertised.synonyms, [
      {
        name: 'advertised.listeners',
        value: 'EXTERNAL://broker.example.com:19094',
        source: ConfigSource.STATIC_BROKER_CONFIG,
      },
      {
        name: 'advertised.listeners',
        value: 'INTERNAL://127.0.0.1:9092,EXTERNAL://broker.example.com:19094',
        source: ConfigSource.DEFAULT_CONFIG,
      },
    ]);
    assert.deepEqual(entries.get('listener.security.protocol.map'), {
      name: 'listener.security.protocol.map',
      value: 'INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL',
      source: ConfigSource.STATIC_BROKER_CONFIG,
      readOnly: true,
      sensitive: false,
      type: ConfigType.STRING,
      documentation: entries.get('listener.security.protocol.map')!.documentation,
      synonyms: [
        {
          name: 'listener.security.protocol.map',
          value: 'INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL',
          source: ConfigSource.STATIC_BROKER_CONFIG,
        },
        {
          name: 'listener.security.protocol.map',
          value: 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
          source: ConfigSource.DEFAULT_CONFIG,
        },
      ],
    });
    // The described values are valid settings that give the same listeners back.
    const again = loadBrokerConfig({
      flags: {
        ...keystore,
        listeners: entries.get('listeners')!.value!,
        'advertised.listeners': advertised.value!,
        'listener.security.protocol.map': entries.get('listener.security.protocol.map')!.value!,
      },
      warn: () => {},
    });
    assert.deepEqual(again.listeners, config.listeners);
  });

  test('DescribeConfigs of one listener: a PLAINTEXT one stays bare, another keeps its name', () => {
    const describedAs = (flags: Record<string, string>, name: string) =>
      brokerConfigEntries(loadBrokerConfig({ flags, warn: () => {} })).find((e) => e.name === name)!.value;
    assert.equal(describedAs({ listeners: 'PLAINTEXT://0.0.0.0:19092' }, 'listeners'), '0.0.0.0:19092');
    assert.equal(
      describedAs({ listeners: 'PLAINTEXT://0.0.0.0:19092' }, 'advertised.listeners'),
      '127.0.0.1:19092',
    );
    assert.equal(
      describedAs(
        { listeners: 'client://h:1', 'listener.security.protocol.map': 'CLIENT:PLAINTEXT' },
        'listeners',
      ),
      'CLIENT://h:1',
    );
    assert.equal(
      describedAs({}, 'listener.security.protocol.map'),
      'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    );
  });

  test('the map comes from the environment like any setting', () => {
    const config = loadBrokerConfig({
      env: { SLUICE_LISTENERS: 'A://h:1', SLUICE_LISTENER_SECURITY_PROTOCOL_MAP: 'A:PLAINTEXT' },
    });
    assert.deepEqual(
      config.listeners.map((l) => [l.name, l.securityProtocol]),
      [['A', 'PLAINTEXT']],
    );
  });
});

describe('SASL', () => {
  const users = 'alice:alice-secret,bob:pa:ss';

  test('a SASL_PLAINTEXT listener with its users and mechanisms', () => {
    const config = loadBrokerConfig({
      flags: { listeners: 'sasl_plaintext://127.0.0.1:9093', 'sasl.users': users },
    });
    assert.equal(config.listeners[0]!.securityProtocol, 'SASL_PLAINTEXT');
    assert.deepEqual([config.listeners[0]!.host, config.listeners[0]!.port], ['127.0.0.1', 9093]);
    assert.deepEqual(config.saslUsers, [
      { name: 'alice', password: 'alice-secret' },
      { name: 'bob', password: 'pa:ss' },
    ]);
    assert.deepEqual(config.saslEnabledMechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
    const plaintext = loadBrokerConfig({});
    assert.equal(plaintext.listeners[0]!.securityProtocol, 'PLAINTEXT');
    assert.deepEqual(plaintext.saslUsers, []);
    assert.deepEqual(
      loadBrokerConfig({ env: { SLUICE_SASL_ENABLED_MECHANISMS: 'SCRAM-SHA-512, PLAIN' } })
        .saslEnabledMechanisms,
      ['SCRAM-SHA-512', 'PLAIN'],
    );
  });

  test('a SASL listener needs users; bad values are refused without echoing passwords', () => {
    assert.throws(
      () => loadBrokerConfig({ flags: { listeners: 'SASL_PLAINTEXT://127.0.0.1:9093' } }),
      /sasl\.users is not set: nobody could log in/,
    );
    assert.throws(
      () => loadBrokerConfig({ env: { SLUICE_SASL_USERS: 'alice:s3cret,bob' } }),
      new ConfigError(
        'Invalid value for sasl.users (environment variable SLUICE_SASL_USERS): expected ' +
          'NAME:PASSWORD[,NAME:PASSWORD...] with non-empty names and passwords',
      ),
    );
    assert.throws(() => loadBrokerConfig({ flags: { 'sasl.users': 'a:1,a:2' } }), /user a is listed twice/);
    assert.throws(
      () => loadBrokerConfig({ flags: { 'sasl.enabled.mechanisms': 'PLAIN,GSSAPI' } }),
      /GSSAPI is not supported/,
    );
    assert.throws(
      () =>
        loadBrokerConfig({
          flags: {
            listeners: 'SASL_PLAINTEXT://0.0.0.0:9093',
            'advertised.listeners': 'PLAINTEXT://h:9093',
            'sasl.users': users,
          },
        }),
      /PLAINTEXT is not a listener name; listeners defines SASL_PLAINTEXT/,
    );
  });

  test('SASL_SSL and SSL listeners take their keystore and client authentication settings', () => {
    const config = loadBrokerConfig({
      flags: {
        listeners: 'SASL_SSL://127.0.0.1:9094',
        'sasl.users': users,
        'ssl.keystore.location': '/etc/sluice/broker.p12',
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.password': 'store-pw',
        'ssl.truststore.location': '/etc/sluice/ca.pem',
        'ssl.client.auth': 'required',
      },
    });
    assert.equal(config.listeners[0]!.securityProtocol, 'SASL_SSL');
    assert.equal(config.sslKeystoreType, 'PKCS12');
    assert.equal(config.sslKeystorePassword, 'store-pw');
    assert.equal(config.sslClientAuth, 'required');
    const entries = new Map(brokerConfigEntries(config).map((e) => [e.name, e]));
    assert.equal(entries.get('ssl.keystore.password')!.value, null);
    assert.equal(entries.get('ssl.keystore.password')!.sensitive, true);
    assert.equal(entries.get('ssl.keystore.location')!.value, '/etc/sluice/broker.p12');
    assert.equal(
      loadBrokerConfig({
        flags: { listeners: 'ssl://:9093', 'ssl.keystore.location': '/k.pem' },
        warn: () => {},
      }).listeners[0]!.securityProtocol,
      'SSL',
    );
  });

  test('DescribeConfigs shows where sasl.users comes from, never its value', () => {
    const config = loadBrokerConfig({
      flags: { listeners: 'SASL_PLAINTEXT://127.0.0.1:9093', 'sasl.users': users },
      warn: () => {},
    });
    const entries = new Map(brokerConfigEntries(config).map((e) => [e.name, e]));
    const entry = entries.get('sasl.users')!;
    assert.equal(entry.value, null);
    assert.equal(entry.sensitive, true);
    assert.equal(entry.type, ConfigType.PASSWORD);
    assert.deepEqual(entry.synonyms, [
      { name: 'sasl.users', value: null, source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'sasl.users', value: null, source: ConfigSource.DEFAULT_CONFIG },
    ]);
    assert.equal(entries.get('listeners')!.value, 'SASL_PLAINTEXT://127.0.0.1:9093');
    assert.equal(entries.get('advertised.listeners')!.value, 'SASL_PLAINTEXT://127.0.0.1:9093');
  });
});

describe('retention and roll synonyms', () => {
  test('hours and minutes convert to ms', () => {
    assert.equal(loadBrokerConfig({ flags: { 'log.retention.hours': '2' } }).logRetentionMs, 7_200_000);
    assert.equal(loadBrokerConfig({ flags: { 'log.retention.minutes': '3' } }).logRetentionMs, 180_000);
    assert.equal(loadBrokerConfig({ flags: { 'log.retention.hours': '-1' } }).logRetentionMs, -1);
    assert.equal(loadBrokerConfig({ flags: { 'log.roll.hours': '1' } }).logRollMs, 3_600_000);
  });

  test('within one layer ms beats minutes beats hours', () => {
    const file = propertiesFile('log.retention.hours=1\nlog.retention.minutes=5\n');
    assert.equal(loadBrokerConfig({ file }).logRetentionMs, 300_000);
    const withMs = propertiesFile('log.retention.hours=1\nlog.retention.minutes=5\nlog.retention.ms=1234\n');
    assert.equal(loadBrokerConfig({ file: withMs }).logRetentionMs, 1234);
  });

  test('a higher layer wins even with a coarser unit', () => {
    const file = propertiesFile('log.retention.ms=1234\n');
    assert.equal(
      loadBrokerConfig({ file, env: { SLUICE_LOG_RETENTION_HOURS: '1' } }).logRetentionMs,
      3_600_000,
    );
  });
});

describe('brokerConfigEntries', () => {
  test('values, sources and synonyms', () => {
    const config = loadBrokerConfig({
      flags: { 'log.retention.hours': '2', 'num.partitions': '3' },
      env: { SLUICE_LOG_RETENTION_MS: '5000' },
    });
    const entries = new Map(brokerConfigEntries(config).map((e) => [e.name, e]));
    assert.equal(entries.size, BROKER_CONFIG_DEFS.length);
    assert.deepEqual(entries.get('num.partitions'), {
      name: 'num.partitions',
      value: '3',
      source: ConfigSource.STATIC_BROKER_CONFIG,
      readOnly: true,
      sensitive: false,
      type: ConfigType.INT,
      documentation: 'Partition count of auto-created topics.',
      synonyms: [
        { name: 'num.partitions', value: '3', source: ConfigSource.STATIC_BROKER_CONFIG },
        { name: 'num.partitions', value: '1', source: ConfigSource.DEFAULT_CONFIG },
      ],
    });
    const retention = entries.get('log.retention.ms')!;
    assert.equal(retention.value, '7200000');
    assert.equal(retention.source, ConfigSource.STATIC_BROKER_CONFIG);
    assert.equal(retention.type, ConfigType.LONG);
    assert.deepEqual(retention.synonyms, [
      { name: 'log.retention.hours', value: '2', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.retention.ms', value: '5000', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.retention.ms', value: '604800000', source: ConfigSource.DEFAULT_CONFIG },
    ]);
    const segment = entries.get('log.segment.bytes')!;
    assert.equal(segment.value, '1073741824');
    assert.equal(segment.source, ConfigSource.DEFAULT_CONFIG);
    assert.equal(entries.get('log.flush.interval.messages')!.value, '9223372036854775807');
    assert.equal(entries.get('log.flush.interval.ms')!.value, null);
    assert.equal(entries.get('listeners')!.value, '127.0.0.1:9092');
  });
});

test('renderConfigReference: one row per setting', () => {
  const table = renderConfigReference().split('\n');
  assert.equal(table[0], '| Setting | Type | Default | Valid values | Environment variable | Description |');
  assert.equal(table.length, BROKER_CONFIG_DEFS.length + 2);
  assert.equal(
    table.find((row) => row.startsWith('| `log.segment.bytes`')),
    '| `log.segment.bytes` | int | `1073741824` | [14, 2147483647] | `SLUICE_LOG_SEGMENT_BYTES` | Maximum size of one log segment. |',
  );
});
