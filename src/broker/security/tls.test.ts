import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, createServer, type TlsOptions } from 'node:tls';
import { createTestCertificates, type TestCertificates } from '../../../test/helpers/certificates.js';
import { TlsSetupError, tlsServerOptions } from './tls.js';

const base = {
  sslKeystoreType: 'PEM',
  sslKeystorePassword: null,
  sslKeyPassword: null,
  sslTruststoreLocation: null,
  sslClientAuth: 'none',
} as const;

/** Handshakes a client with `clientOptions` against a TLS server built from `serverOptions`. */
async function handshake(
  serverOptions: TlsOptions,
  clientOptions: { ca: string; cert?: string; key?: string },
) {
  const server = createServer(serverOptions, (socket) => socket.end('hello'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  try {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: await readFile(clientOptions.ca),
      ...(clientOptions.cert && { cert: await readFile(clientOptions.cert) }),
      ...(clientOptions.key && { key: await readFile(clientOptions.key) }),
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('end', () => resolve(received));
      socket.once('error', (error) => resolve(`error: ${error.message}`));
    });
    socket.destroy();
    return outcome;
  } finally {
    server.close();
  }
}

describe('tlsServerOptions', () => {
  let dir: string;
  let certs: TestCertificates;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
    certs = await createTestCertificates(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a PEM keystore with key and chain serves TLS 1.2+ to a client trusting the CA', async () => {
    const options = await tlsServerOptions({ ...base, sslKeystoreLocation: certs.brokerKeystorePath });
    assert.equal(options.minVersion, 'TLSv1.2');
    assert.equal(options.requestCert, false);
    assert.equal(await handshake(options, { ca: certs.caPath }), 'hello');
  });

  test('a PKCS12 keystore needs its password', async () => {
    const options = await tlsServerOptions({
      ...base,
      sslKeystoreLocation: certs.brokerPkcs12Path,
      sslKeystoreType: 'PKCS12',
      sslKeystorePassword: certs.pkcs12Password,
    });
    assert.equal(await handshake(options, { ca: certs.caPath }), 'hello');
    await assert.rejects(
      tlsServerOptions({
        ...base,
        sslKeystoreLocation: certs.brokerPkcs12Path,
        sslKeystoreType: 'PKCS12',
        sslKeystorePassword: 'wrong',
      }),
      (error: Error) =>
        error instanceof TlsSetupError &&
        error.message.startsWith(`ssl.keystore.location ${certs.brokerPkcs12Path} (PKCS12) cannot be used:`),
    );
  });

  test('ssl.client.auth=required refuses clients without a certificate from the truststore', async () => {
    const options = await tlsServerOptions({
      ...base,
      sslKeystoreLocation: certs.brokerKeystorePath,
      sslTruststoreLocation: certs.caPath,
      sslClientAuth: 'required',
    });
    assert.equal(options.requestCert, true);
    assert.equal(options.rejectUnauthorized, true);
    assert.equal(
      await handshake(options, { ca: certs.caPath, cert: certs.clientCertPath, key: certs.clientKeyPath }),
      'hello',
    );
    assert.match(await handshake(options, { ca: certs.caPath }), /^error: .*certificate required/);
    // With TLS 1.3 the server judges the client's certificate after the client's side of the handshake is
    // done: the client sees the connection fail or end, never the greeting.
    const untrusted = await handshake(options, {
      ca: certs.caPath,
      cert: certs.untrustedClientCertPath,
      key: certs.untrustedClientKeyPath,
    });
    assert.match(untrusted, /^(error: .*)?$/s);
  });

  test('unreadable or unusable files are named in the error', async () => {
    await assert.rejects(
      tlsServerOptions({ ...base, sslKeystoreLocation: join(dir, 'missing.pem') }),
      new RegExp(`^TlsSetupError: ssl.keystore.location ${join(dir, 'missing.pem')} cannot be read: ENOENT`),
    );
    await assert.rejects(
      tlsServerOptions({ ...base, sslKeystoreLocation: certs.caPath }),
      (error: Error) =>
        error instanceof TlsSetupError &&
        error.message.startsWith(`ssl.keystore.location ${certs.caPath} (PEM) cannot be used:`),
    );
    await assert.rejects(
      tlsServerOptions({
        ...base,
        sslKeystoreLocation: certs.brokerKeystorePath,
        sslTruststoreLocation: join(dir, 'no-ca.pem'),
      }),
      /ssl.truststore.location .*no-ca.pem cannot be read/,
    );
  });
});
