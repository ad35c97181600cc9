import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { createTestCertificates } from '../../test/helpers/certificates.js';
import { runProgramOk } from '../../test/helpers/process.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  ApiVersionsApi,
  type ApiVersionsResponse,
  ResponseHeaderCodec,
  readRequestHeader,
  responseHeaderVersion,
} from '../protocol/generated/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { Admin } from './admin.js';
import { BrokerConnection } from './connection.js';
import { ConfigError, ConnectionError, type KafkaClientError, TlsError } from './errors.js';
import { isTlsRecordHeader, resolveSslOptions, type SslOptions, type TlsSettings } from './tls.js';

interface Pem {
  ca: Buffer;
  otherCa: Buffer;
  brokerCert: Buffer;
  brokerKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  untrustedClientCert: Buffer;
  untrustedClientKey: Buffer;
  encryptedClientKey: Buffer;
}

let dir: string;
let pem: Pem;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-client-tls-'));
  const paths = await createTestCertificates(dir);
  const encryptedKeyPath = join(dir, 'client-encrypted.key');
  await runProgramOk(
    'openssl',
    ['pkey', '-in', paths.clientKeyPath, '-aes256', '-passout', 'pass:key-secret', '-out', encryptedKeyPath],
    { timeoutMs: 20_000, env: { OPENSSL_CONF: '/dev/null' } },
  );
  pem = {
    ca: await readFile(paths.caPath),
    otherCa: await readFile(paths.otherCaPath),
    brokerCert: await readFile(paths.brokerCertPath),
    brokerKey: await readFile(paths.brokerKeyPath),
    clientCert: await readFile(paths.clientCertPath),
    clientKey: await readFile(paths.clientKeyPath),
    untrustedClientCert: await readFile(paths.untrustedClientCertPath),
    untrustedClientKey: await readFile(paths.untrustedClientKeyPath),
    encryptedClientKey: await readFile(encryptedKeyPath),
  };
});

const servers: net.Server[] = [];
const connections: BrokerConnection[] = [];

after(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
  for (const server of servers) server.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const configError = (fn: () => unknown, message: string) =>
  assert.throws(
    fn,
    (error: unknown) =>
      error instanceof ConfigError && error.code === ErrorCode.INVALID_CONFIG && error.message === message,
  );

describe('resolveSslOptions', () => {
  test('true: Node root CAs, verification on, SNI from the host', () => {
    const settings = resolveSslOptions(true);
    assert.equal(settings.rejectUnauthorized, true);
    assert.equal(settings.servername, undefined);
    assert.equal(settings.hasClientCertificate, false);
  });

  test('PEM as strings, Buffers or lists; the other settings are kept', () => {
    const settings = resolveSslOptions({
      ca: [pem.ca, pem.otherCa.toString()],
      cert: pem.clientCert.toString(),
      key: pem.clientKey,
      rejectUnauthorized: false,
      servername: 'broker.example',
    });
    assert.equal(settings.rejectUnauthorized, false);
    assert.equal(settings.servername, 'broker.example');
    assert.equal(settings.hasClientCertificate, true);
    assert.equal(
      resolveSslOptions({ cert: pem.clientCert, key: pem.encryptedClientKey, passphrase: 'key-secret' })
        .hasClientCertificate,
      true,
    );
  });

  test('a shape that is not true or an object, and unknown options, are refused', () => {
    const expected =
      'ssl: expected true or { ca, cert, key, passphrase, rejectUnauthorized, servername }; leave ssl out for plaintext';
    for (const value of [false, 'yes', [], null] as unknown[]) {
      configError(() => resolveSslOptions(value as SslOptions), expected);
    }
    configError(
      () => resolveSslOptions({ rejectUnauthorised: false } as SslOptions),
      "ssl: unknown option 'rejectUnauthorised'; supported: ca, cert, key, passphrase, rejectUnauthorized, servername",
    );
  });

  test('a CA given as a path, as a key, or as a broken certificate is refused', () => {
    configError(
      () => resolveSslOptions({ ca: join(dir, 'ca.pem') }),
      "ssl: ca is not PEM text (no '-----BEGIN ...' line); give the file's contents, not its path",
    );
    configError(
      () => resolveSslOptions({ ca: pem.clientKey }),
      "ssl: ca holds no certificate (no '-----BEGIN CERTIFICATE-----' block)",
    );
    assert.throws(
      () => resolveSslOptions({ ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.startsWith('ssl: ca holds a certificate that cannot be read: '),
    );
    configError(() => resolveSslOptions({ ca: [] }), 'ssl: ca is an empty list');
    configError(
      () => resolveSslOptions({ ca: 42 } as unknown as SslOptions),
      'ssl: ca must be PEM text: a string, a Buffer, or a list of them',
    );
  });

  test('cert and key go together, as PEM that matches, decrypted by the passphrase', () => {
    configError(() => resolveSslOptions({ cert: pem.clientCert }), 'ssl: cert needs key');
    configError(
      () => resolveSslOptions({ key: pem.clientKey }),
      'ssl: key needs cert (the client certificate)',
    );
    configError(
      () => resolveSslOptions({ cert: join(dir, 'client.crt'), key: pem.clientKey }),
      "ssl: cert is not PEM text (no '-----BEGIN ...' line); give the file's contents, not its path",
    );
    configError(
      () => resolveSslOptions({ cert: pem.clientCert, key: pem.brokerKey }),
      'ssl: cert and key cannot be used: key values mismatch (ERR_OSSL_X509_KEY_VALUES_MISMATCH)',
    );
    configError(
      () => resolveSslOptions({ cert: pem.clientCert, key: pem.encryptedClientKey, passphrase: 'wrong' }),
      'ssl: cert and key cannot be used: bad decrypt (ERR_OSSL_BAD_DECRYPT)',
    );
  });

  test('passphrase, rejectUnauthorized and servername types', () => {
    configError(
      () => resolveSslOptions({ passphrase: 7 } as unknown as SslOptions),
      'ssl: passphrase must be a string',
    );
    configError(
      () => resolveSslOptions({ rejectUnauthorized: 'no' } as unknown as SslOptions),
      'ssl: rejectUnauthorized must be true or false',
    );
    configError(() => resolveSslOptions({ servername: '' }), 'ssl: servername must be a non-empty string');
  });

  test('clients check the option at construction', () => {
    configError(
      () => new Admin({ bootstrap: '127.0.0.1:1', ssl: { ca: '/etc/ssl/ca.pem' } }),
      "ssl: ca is not PEM text (no '-----BEGIN ...' line); give the file's contents, not its path",
    );
  });
});

test('isTlsRecordHeader: TLS record starts, not plausible frame sizes', () => {
  assert.equal(isTlsRecordHeader(0x15030300), true); // alert, TLS 1.2
  assert.equal(isTlsRecordHeader(0x16030100), true); // handshake, TLS 1.0 record version
  assert.equal(isTlsRecordHeader(0x17030400), true);
  assert.equal(isTlsRecordHeader(0x00000100), false);
  assert.equal(isTlsRecordHeader(0x15050000), false);
  assert.equal(isTlsRecordHeader(0x18030300), false);
  assert.equal(isTlsRecordHeader(0x13030300), false);
});

/** Answers ApiVersions (and nothing else) on every frame it reads. */
function answerApiVersions(socket: net.Socket): void {
  socket.on('error', () => {});
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
      pending = pending.subarray(4 + frame.length);
      const header = readRequestHeader(new Reader(frame));
      const w = new Writer();
      w.writeInt32(0);
      ResponseHeaderCodec.encode(
        w,
        { correlationId: header.correlationId },
        responseHeaderVersion(header.requestApiKey, header.requestApiVersion),
      );
      const response: ApiVersionsResponse = {
        errorCode: ErrorCode.NONE,
        apiKeys: [{ apiKey: ApiVersionsApi.key, minVersion: 0, maxVersion: 3 }],
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1n,
        finalizedFeatures: [],
        zkMigrationReady: false,
      };
      ApiVersionsApi.encodeResponse(w, response, header.requestApiVersion);
      const out = w.toBuffer();
      out.writeInt32BE(out.length - 4, 0);
      socket.write(out);
    }
  });
}

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A TLS "broker" that answers ApiVersions; `seen` collects the SNI name of each connection (false: none). */
async function tlsBroker(
  options: tls.TlsOptions = {},
): Promise<{ port: number; seen: (string | false | null)[] }> {
  const seen: (string | false | null)[] = [];
  const server = tls.createServer(
    { key: pem.brokerKey, cert: pem.brokerCert, ...options },
    (socket: tls.TLSSocket) => {
      seen.push(socket.servername);
      answerApiVersions(socket);
    },
  );
  server.on('tlsClientError', () => {});
  return { port: await listen(server), seen };
}

function connection(port: number, ssl: true | SslOptions | undefined, host = '127.0.0.1'): BrokerConnection {
  const settings: TlsSettings | undefined = ssl === undefined ? undefined : resolveSslOptions(ssl);
  const created = new BrokerConnection({
    host,
    port,
    nodeId: 1,
    clientId: 'tls-test',
    connectTimeoutMs: 1_000,
    requestTimeoutMs: 1_000,
    ...(settings === undefined ? {} : { tls: settings }),
  });
  connections.push(created);
  return created;
}

/** connect() must reject with `family` within 500 ms; returns the error. */
async function failsPromptly<E extends KafkaClientError>(
  target: BrokerConnection,
  family: new (...args: never[]) => E,
): Promise<E> {
  const started = Date.now();
  const error = await target.connect().then(
    () => assert.fail('connected'),
    (caught: unknown) => caught,
  );
  const elapsedMs = Date.now() - started;
  assert.ok(error instanceof family, `expected ${family.name}, got ${String(error)}`);
  assert.ok(elapsedMs < 500, `took ${elapsedMs} ms`);
  assert.equal(target.isConnected, false);
  return error;
}

describe('BrokerConnection over TLS', () => {
  test('verifies the broker certificate against the CA; SNI only for host names', async () => {
    const broker = await tlsBroker();
    const byIp = connection(broker.port, { ca: pem.ca });
    await byIp.connect();
    assert.equal(byIp.isConnected, true);
    assert.deepEqual(byIp.apiVersions.get(ApiVersionsApi.key), { min: 0, max: 3 });
    const byName = connection(broker.port, { ca: pem.ca }, 'localhost');
    await byName.connect();
    assert.equal(byName.isConnected, true);
    assert.deepEqual(broker.seen, [false, 'localhost']);
  });

  test('an untrusted broker certificate is a TlsError at once', async () => {
    const broker = await tlsBroker();
    const error = await failsPromptly(connection(broker.port, { ca: pem.otherCa }), TlsError);
    assert.equal(
      error.message,
      `the certificate of broker 127.0.0.1:${broker.port} (node 1) is not trusted: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
    assert.equal(error.retriable, false);
    assert.equal(error.type, 'TLS_ERROR');
    assert.equal(error.code, -1);
  });

  test('a certificate that does not name the host is a TlsError; rejectUnauthorized: false accepts both', async () => {
    const broker = await tlsBroker();
    const error = await failsPromptly(
      connection(broker.port, { ca: pem.ca, servername: 'kafka.example' }),
      TlsError,
    );
    assert.match(
      error.message,
      /^the certificate of broker 127\.0\.0\.1:\d+ \(node 1\) does not name the host: Host: kafka\.example\. is not in the cert's altnames: DNS:localhost, IP Address:127\.0\.0\.1 \(ERR_TLS_CERT_ALTNAME_INVALID\)$/,
    );
    const lenient = connection(broker.port, { rejectUnauthorized: false, servername: 'kafka.example' });
    await lenient.connect();
    assert.equal(lenient.isConnected, true);
  });

  test('a broker that requires a client certificate: none, an untrusted one, a trusted one', async () => {
    const broker = await tlsBroker({ requestCert: true, rejectUnauthorized: true, ca: pem.ca });
    const none = await failsPromptly(connection(broker.port, { ca: pem.ca }), TlsError);
    assert.match(
      none.message,
      // The broker's alert, or (when its close overtakes the alert) the hang-up right after the handshake.
      /^broker 127\.0\.0\.1:\d+ \(node 1\) (requires a client certificate, and none is configured \(tlsv13 alert certificate required \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)\)|closed the TLS connection before answering ApiVersions: it probably requires a client certificate, and none is configured)$/,
    );
    const untrusted = await failsPromptly(
      connection(broker.port, { ca: pem.ca, cert: pem.untrustedClientCert, key: pem.untrustedClientKey }),
      TlsError,
    );
    assert.match(
      untrusted.message,
      /^broker 127\.0\.0\.1:\d+ \(node 1\) (closed the TLS connection before answering ApiVersions: it probably does not trust the client certificate|refused the client certificate \(.*\))$/,
    );
    const trusted = connection(broker.port, { ca: pem.ca, cert: pem.clientCert, key: pem.clientKey });
    await trusted.connect();
    assert.equal(trusted.isConnected, true);
  });

  test('a TLS client against a plaintext listener that hangs up: TlsError naming the likely cause', async () => {
    // Kafka reads the ClientHello as a frame size far over its limit and closes the connection.
    const port = await listen(net.createServer((socket) => socket.once('data', () => socket.destroy())));
    const error = await failsPromptly(connection(port, { ca: pem.ca }), TlsError);
    assert.equal(
      error.message,
      `broker 127.0.0.1:${port} (node 1) closed the connection during the TLS handshake; is its listener PLAINTEXT or SASL_PLAINTEXT rather than SSL or SASL_SSL?`,
    );
  });

  test('a TLS handshake that never finishes is bounded by connectTimeoutMs (retriable)', async () => {
    const port = await listen(net.createServer((socket) => socket.on('error', () => {})));
    const target = connection(port, true);
    const started = Date.now();
    const error = await target.connect().then(
      () => assert.fail('connected'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.message, `the TLS handshake with 127.0.0.1:${port} (node 1) timed out after 1000 ms`);
    assert.equal(error.retriable, true);
    assert.ok(Date.now() - started < 1_800);
  });

  test('a plaintext client answered with a TLS alert: TlsError saying the listener speaks TLS', async () => {
    // What a TLS server may send on reading a plaintext request: a fatal alert record (TLS 1.2, unexpected_message).
    const alert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]);
    const port = await listen(
      net.createServer((socket) => socket.once('data', () => socket.end(alert)).on('error', () => {})),
    );
    const error = await failsPromptly(connection(port, undefined), TlsError);
    assert.equal(
      error.message,
      `broker 127.0.0.1:${port} (node 1) answered in TLS: its listener is SSL or SASL_SSL, so the client needs the ssl option`,
    );
  });

  test('a plaintext client that a TLS listener hangs up on: a ConnectionError with the hint', async () => {
    const broker = await tlsBroker();
    const error = await failsPromptly(connection(broker.port, undefined), ConnectionError);
    assert.equal(
      error.message,
      `broker 127.0.0.1:${broker.port} (node 1) closed the connection before answering ApiVersions (an SSL or SASL_SSL listener does this to a client without TLS)`,
    );
    assert.equal(error.retriable, true);
  });
});
