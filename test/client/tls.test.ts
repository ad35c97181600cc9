// The Sluice client's Producer, Consumer and Admin against SSL, SASL_SSL and mutual-TLS Sluice broker processes:
// exact content through a group consumer (so data and coordinator connections use TLS too); an untrusted
// broker, a missing or untrusted client certificate and a TLS/plaintext mix-up each fail at once with a typed
// error; rejectUnauthorized: false reaches a broker whose CA the client does not know.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  type ClientOptions,
  ConnectionError,
  Consumer,
  type KafkaClientError,
  Producer,
  SaslAuthenticationError,
  TlsError,
} from '../../src/index.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createTestCertificates, type TestCertificates } from '../helpers/certificates.js';
import { clientTracker, groupRoundTrip, rejectsPromptly } from '../helpers/sluice-clients.js';

const testTimeoutMs = 20_000;
/** A TLS refusal must surface this fast: the handshake fails at once, and nothing may retry it. */
const failureBoundMs = 2_000;

let dir: string;
let certs: TestCertificates;
let ca: Buffer;
let sslBroker: Broker;
let saslSslBroker: Broker;
let mutualBroker: Broker;
let plaintextBroker: Broker;
const { track, closeAll } = clientTracker();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
  certs = await createTestCertificates(dir);
  ca = await readFile(certs.caPath);
  const keystore = ['--set', `ssl.keystore.location=${certs.brokerKeystorePath}`];
  [sslBroker, saslSslBroker, mutualBroker, plaintextBroker] = await Promise.all([
    startBroker({ args: ['--listen', 'SSL://127.0.0.1:0', ...keystore] }),
    startBroker({
      args: ['--listen', 'SASL_SSL://127.0.0.1:0', ...keystore, '--set', 'sasl.users=alice:alice-secret'],
    }),
    startBroker({
      args: [
        '--listen',
        'SSL://127.0.0.1:0',
        ...keystore,
        '--set',
        `ssl.truststore.location=${certs.caPath}`,
        '--set',
        'ssl.client.auth=required',
      ],
    }),
    startBroker(),
  ]);
});

after(async () => {
  await closeAll();
  await disposeAllBrokers();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Admin creates a topic, Producer writes three records, a group Consumer reads exactly them back. */
async function roundTrip(options: ClientOptions, label: string): Promise<void> {
  const received = await groupRoundTrip(options, {
    topic: `tls-${label}-${randomUUID().slice(0, 8)}`,
    adminClientId: `${label}-admin`,
    messages: [
      { key: 'k0', value: `first over ${label}`, partition: 0, headers: { via: label } },
      { key: 'k1', value: 'ünïcode ✓', partition: 1, headers: { via: label } },
      { key: 'k2', value: Buffer.alloc(100_000, 'x'), partition: 0, headers: { via: label } },
    ],
    track,
    takeTimeoutMs: 10_000,
  });
  assert.deepEqual(received, [
    { partition: 0, offset: 0, key: 'k0', value: `first over ${label}`, headers: [['via', label]] },
    { partition: 0, offset: 1, key: 'k2', value: 'x'.repeat(100_000), headers: [['via', label]] },
    { partition: 1, offset: 0, key: 'k1', value: 'ünïcode ✓', headers: [['via', label]] },
  ]);
}

/** Asserts that `operation` rejects with `family` within failureBoundMs; returns the error. */
function failsPromptly<E extends KafkaClientError>(
  operation: () => Promise<unknown>,
  family: new (...args: never[]) => E,
): Promise<E> {
  return rejectsPromptly(operation, family, failureBoundMs);
}

/** Long timeouts and generous retries: a TLS failure must wait for neither. */
const patient = { requestTimeoutMs: 30_000, connectTimeoutMs: 30_000, retry: { retries: 10 } };

describe('TLS', { timeout: 120_000 }, () => {
  test('SSL: Admin, Producer and a group Consumer move exact content', {
    timeout: testTimeoutMs,
  }, async () => {
    await roundTrip({ bootstrap: sslBroker.bootstrap, ssl: { ca } }, 'ssl');
  });

  test('SASL_SSL with SCRAM-SHA-512: exact content; a wrong password is still a SASL error', {
    timeout: testTimeoutMs,
  }, async () => {
    const sasl = { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' } as const;
    await roundTrip({ bootstrap: saslSslBroker.bootstrap, ssl: { ca }, sasl }, 'sasl-ssl');
    const wrong = track(
      new Admin({
        bootstrap: saslSslBroker.bootstrap,
        ssl: { ca },
        sasl: { ...sasl, password: 'nope' },
        ...patient,
      }),
    );
    const error = await failsPromptly(() => wrong.connect(), SaslAuthenticationError);
    assert.equal(error.retriable, false);
  });

  test('mutual TLS: a trusted client certificate works', { timeout: testTimeoutMs }, async () => {
    const ssl = { ca, cert: await readFile(certs.clientCertPath), key: await readFile(certs.clientKeyPath) };
    await roundTrip({ bootstrap: mutualBroker.bootstrap, ssl }, 'mtls');
  });

  test('mutual TLS: no client certificate, or an untrusted one, is a TlsError at once', {
    timeout: testTimeoutMs,
  }, async () => {
    const address = `127.0.0.1:${mutualBroker.port} (node -1)`;
    const none = track(new Admin({ bootstrap: mutualBroker.bootstrap, ssl: { ca }, ...patient }));
    const missing = await failsPromptly(() => none.connect(), TlsError);
    assert.equal(missing.retriable, false);
    assert.equal(missing.type, 'TLS_ERROR');
    // The broker's alert, or (when its close overtakes the alert) the hang-up right after the handshake.
    assert.match(
      missing.message,
      /^broker 127\.0\.0\.1:\d+ \(node -1\) (requires a client certificate, and none is configured \(tlsv13 alert certificate required \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)\)|closed the TLS connection before answering ApiVersions: it probably requires a client certificate, and none is configured)$/,
    );
    // Without connect(): the first metadata lookup of a send fails the same way.
    const producer = track(new Producer({ bootstrap: mutualBroker.bootstrap, ssl: { ca }, ...patient }));
    await failsPromptly(() => producer.send({ topic: 'never', messages: [{ value: 'x' }] }), TlsError);

    const intruder = track(
      new Admin({
        bootstrap: mutualBroker.bootstrap,
        ssl: {
          ca,
          cert: await readFile(certs.untrustedClientCertPath),
          key: await readFile(certs.untrustedClientKeyPath),
        },
        ...patient,
      }),
    );
    const refused = await failsPromptly(() => intruder.connect(), TlsError);
    assert.equal(
      refused.message,
      `broker ${address} closed the TLS connection before answering ApiVersions: it probably does not trust the client certificate`,
    );
  });

  test('a broker certificate from an unknown CA is a TlsError at once; rejectUnauthorized: false connects', {
    timeout: testTimeoutMs,
  }, async () => {
    const address = `127.0.0.1:${sslBroker.port} (node -1)`;
    const expected = `the certificate of broker ${address} is not trusted: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`;
    const otherCa = track(
      new Admin({
        bootstrap: sslBroker.bootstrap,
        ssl: { ca: await readFile(certs.otherCaPath) },
        ...patient,
      }),
    );
    assert.equal((await failsPromptly(() => otherCa.connect(), TlsError)).message, expected);
    const systemCas = track(new Admin({ bootstrap: sslBroker.bootstrap, ssl: true, ...patient }));
    assert.equal((await failsPromptly(() => systemCas.connect(), TlsError)).message, expected);
    const consumer = track(
      new Consumer({ bootstrap: sslBroker.bootstrap, ssl: true, groupId: 'never', ...patient }),
    );
    await failsPromptly(() => consumer.connect(), TlsError);

    const lenient = track(new Admin({ bootstrap: sslBroker.bootstrap, ssl: { rejectUnauthorized: false } }));
    await lenient.connect();
    const topic = `lenient-${randomUUID().slice(0, 8)}`;
    await lenient.createTopics([{ topic }]);
    assert.ok((await lenient.listTopics()).includes(topic));
    await lenient.close();
  });

  test('TLS against a PLAINTEXT listener, and plaintext against an SSL one, fail at once and say why', {
    timeout: testTimeoutMs,
  }, async () => {
    const tlsClient = track(new Admin({ bootstrap: plaintextBroker.bootstrap, ssl: { ca }, ...patient }));
    const mismatch = await failsPromptly(() => tlsClient.connect(), TlsError);
    assert.equal(
      mismatch.message,
      `broker 127.0.0.1:${plaintextBroker.port} (node -1) closed the connection during the TLS handshake; is its listener PLAINTEXT or SASL_PLAINTEXT rather than SSL or SASL_SSL?`,
    );
    const plainClient = track(new Admin({ bootstrap: sslBroker.bootstrap, ...patient }));
    const closed = await failsPromptly(() => plainClient.connect(), ConnectionError);
    assert.equal(
      closed.message,
      `no bootstrap broker is reachable: broker 127.0.0.1:${sslBroker.port} (node -1) closed the connection before answering ApiVersions (an SSL or SASL_SSL listener does this to a client without TLS)`,
    );
  });
});
