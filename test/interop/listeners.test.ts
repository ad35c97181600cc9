// Several listeners on one broker process, as Kafka serves them: a PLAINTEXT and a SASL_PLAINTEXT listener
// side by side, each telling its clients (Metadata, FindCoordinator, DescribeCluster) its own address, so
// that kcat and kafkajs stay on the listener they bootstrapped from. Data written on one listener is read
// exactly on the other, the SASL listener still refuses clients that do not log in, and a single bare
// listener behaves as it always did.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { MetadataApi } from '../../src/protocol/generated/metadata.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka, readAll } from '../helpers/kafka.js';
import { ProgramMissingError, runProgramOk } from '../helpers/process.js';
import { RawSaslConnection } from '../helpers/sasl-wire.js';

const testTimeoutMs = 40_000;
const alice = { username: 'alice', password: 'alice-secret' };
const kcatSasl = [
  '-X',
  'security.protocol=SASL_PLAINTEXT',
  '-X',
  'sasl.mechanisms=SCRAM-SHA-256',
  '-X',
  `sasl.username=${alice.username}`,
  '-X',
  `sasl.password=${alice.password}`,
];

interface ReadyListener {
  name: string;
  securityProtocol: string;
  host: string;
  port: number;
}

/** The `listeners` of the broker's "Sluice broker ready" line, with the line's own host and port. */
function readyLine(broker: Broker): { host: string; port: number; listeners: ReadyListener[] } {
  const line = broker
    .logs()
    .split('\n')
    .find((text) => text.includes('"msg":"Sluice broker ready"'));
  assert.ok(line, `no ready line in:\n${broker.logs()}`);
  return JSON.parse(line) as { host: string; port: number; listeners: ReadyListener[] };
}

async function kcatBrokers(port: number, security: string[] = []): Promise<{ id: number; name: string }[]> {
  const { stdout } = await runProgramOk(
    'kcat',
    ['-b', `127.0.0.1:${port}`, '-m', '10', ...security, '-L', '-J'],
    {
      timeoutMs: 25_000,
    },
  ).catch((err: unknown) => {
    if (err instanceof ProgramMissingError) throw new Error('kcat is not installed (Debian package kcat)');
    throw err;
  });
  return (JSON.parse(stdout) as { brokers: { id: number; name: string }[] }).brokers;
}

/** Whether anything accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('a PLAINTEXT and a SASL_PLAINTEXT listener on one broker', { timeout: 180_000 }, () => {
  let broker: Broker;
  let plainPort: number;
  let saslPort: number;
  let plain: Kafka;
  let sasl: Kafka;
  let plainAdmin: Admin;
  let saslAdmin: Admin;

  before(async () => {
    broker = await startBroker({
      args: [
        '--listen',
        'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
        '--set',
        `sasl.users=${alice.username}:${alice.password}`,
      ],
    });
    const ready = readyLine(broker);
    plainPort = ready.listeners[0]!.port;
    saslPort = ready.listeners[1]!.port;
    plain = createKafka(`127.0.0.1:${plainPort}`);
    sasl = createKafka(`127.0.0.1:${saslPort}`, { sasl: { mechanism: 'scram-sha-256', ...alice } });
    plainAdmin = plain.admin();
    saslAdmin = sasl.admin();
    await Promise.all([plainAdmin.connect(), saslAdmin.connect()]);
  });

  after(async () => {
    await plainAdmin?.disconnect().catch(() => {});
    await saslAdmin?.disconnect().catch(() => {});
    await disposeAllBrokers();
  });

  test('the ready line names both listeners and keeps the first one as host and port', {
    timeout: testTimeoutMs,
  }, () => {
    const ready = readyLine(broker);
    assert.deepEqual(ready.listeners, [
      { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: plainPort },
      { name: 'SASL_PLAINTEXT', securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: saslPort },
    ]);
    assert.deepEqual([ready.host, ready.port], ['127.0.0.1', plainPort]);
    assert.equal(broker.port, plainPort);
    assert.notEqual(plainPort, saslPort);
  });

  test('kcat -L over each listener reports the broker at that listener’s own port', {
    timeout: testTimeoutMs,
  }, async () => {
    const [overPlain, overSasl] = await Promise.all([
      kcatBrokers(plainPort),
      kcatBrokers(saslPort, kcatSasl),
    ]);
    assert.deepEqual(
      overPlain.map((b) => b.name),
      [`127.0.0.1:${plainPort}`],
    );
    assert.deepEqual(
      overSasl.map((b) => b.name),
      [`127.0.0.1:${saslPort}`],
    );
    assert.equal(overPlain[0]!.id, overSasl[0]!.id);
  });

  test('DescribeCluster answers each client with its own listener’s address', {
    timeout: testTimeoutMs,
  }, async () => {
    const [overPlain, overSasl] = await Promise.all([
      plainAdmin.describeCluster(),
      saslAdmin.describeCluster(),
    ]);
    assert.deepEqual(
      overPlain.brokers.map((b) => [b.host, b.port]),
      [['127.0.0.1', plainPort]],
    );
    assert.deepEqual(
      overSasl.brokers.map((b) => [b.host, b.port]),
      [['127.0.0.1', saslPort]],
    );
  });

  test('kafkajs produces on the PLAINTEXT listener and a group consumes exactly that on the SASL one', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'listeners-cross';
    assert.equal(await plainAdmin.createTopics({ topics: [{ topic, numPartitions: 2 }] }), true);
    const producer = plain.producer();
    await producer.connect();
    try {
      const messages = Array.from({ length: 40 }, (_, i) => ({
        key: `k${i}`,
        value: `v${i}`,
        partition: i % 2,
      }));
      await producer.send({ topic, messages });
    } finally {
      await producer.disconnect();
    }
    // A consumer group: FindCoordinator and the fetches must all lead to the SASL port, where kafkajs logs in.
    const read = await readAll(sasl, topic);
    const seen = read.map((m) => [m.partition, Number(m.offset), m.key, m.value]);
    seen.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
    const expected: [number, number, string, string][] = [];
    for (const partition of [0, 1]) {
      for (let i = partition, offset = 0; i < 40; i += 2, offset++) {
        expected.push([partition, offset, `k${i}`, `v${i}`]);
      }
    }
    assert.deepEqual(seen, expected);
  });

  test('a plaintext request to the SASL port is refused; the PLAINTEXT port answers it', {
    timeout: testTimeoutMs,
  }, async () => {
    const request = {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    };
    const onSasl = await RawSaslConnection.open(saslPort);
    try {
      assert.equal((await onSasl.send(MetadataApi, 12, request)).kind, 'closed');
    } finally {
      onSasl.close();
    }
    const onPlain = await RawSaslConnection.open(plainPort);
    try {
      const answer = await onPlain.call(MetadataApi, 12, request);
      assert.deepEqual(
        answer.brokers.map((b) => [b.host, b.port]),
        [['127.0.0.1', plainPort]],
      );
    } finally {
      onPlain.close();
    }
  });

  test('DescribeConfigs shows both listeners and the protocol map', { timeout: testTimeoutMs }, async () => {
    const nodeId = (await plainAdmin.describeCluster()).brokers[0]!.nodeId;
    const { resources } = await plainAdmin.describeConfigs({
      resources: [
        {
          type: 4,
          name: String(nodeId),
          configNames: ['listeners', 'advertised.listeners', 'listener.security.protocol.map'],
        },
      ],
      includeSynonyms: false,
    });
    const values = Object.fromEntries(resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    assert.deepEqual(values, {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'listener.security.protocol.map':
        'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    });
  });

  test('a graceful stop closes both listeners', { timeout: testTimeoutMs }, async () => {
    await plainAdmin.disconnect();
    await saslAdmin.disconnect();
    assert.equal(await broker.stop(), 0);
    assert.deepEqual(await Promise.all([accepts(plainPort), accepts(saslPort)]), [false, false]);
  });
});

describe('a single bare listener, as before', { timeout: 60_000 }, () => {
  let broker: Broker;

  before(async () => {
    broker = await startBroker();
  });

  after(async () => {
    await disposeAllBrokers();
  });

  test('is the PLAINTEXT listener, listed in the ready line and advertised at its port', {
    timeout: testTimeoutMs,
  }, async () => {
    assert.deepEqual(readyLine(broker).listeners, [
      { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: broker.port },
    ]);
    assert.deepEqual(
      (await kcatBrokers(broker.port)).map((b) => b.name),
      [`127.0.0.1:${broker.port}`],
    );
    const admin = createKafka(broker.bootstrap).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        resources: [{ type: 4, name: '0', configNames: ['listeners', 'advertised.listeners'] }],
        includeSynonyms: false,
      });
      const values = Object.fromEntries(
        resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
      );
      assert.deepEqual(values, { listeners: '127.0.0.1:0', 'advertised.listeners': '127.0.0.1:0' });
    } finally {
      await admin.disconnect();
    }
  });
});
