// Throwaway TLS material for tests, made with the openssl command (Debian's openssl package): a CA, a broker
// certificate for localhost/127.0.0.1 signed by it, and a client certificate for mutual TLS. Valid for two
// days, written to a temp dir the caller removes.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProgramOk } from './process.js';

export interface TestCertificates {
  dir: string;
  /** CA certificate (PEM) that signed both the broker and the client certificate. */
  caPath: string;
  /** Broker private key followed by its certificate, as ssl.keystore.location takes it (PEM). */
  brokerKeystorePath: string;
  brokerCertPath: string;
  brokerKeyPath: string;
  /** The broker key and certificate as a PKCS12 file protected by `pkcs12Password`. */
  brokerPkcs12Path: string;
  pkcs12Password: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** A second CA, which signed nothing the broker trusts. */
  otherCaPath: string;
  /** A client certificate signed by the other CA: a broker requiring client certificates refuses it. */
  untrustedClientCertPath: string;
  untrustedClientKeyPath: string;
}

const OPENSSL_TIMEOUT_MS = 20_000;

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await runProgramOk('openssl', args, {
    timeoutMs: OPENSSL_TIMEOUT_MS,
    env: { OPENSSL_CONF: '/dev/null' },
  }).catch((error: Error) => {
    throw new Error(`openssl in ${dir} failed: ${error.message}`);
  });
}

async function makeCa(dir: string, name: string, subject: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    subject,
    '-keyout',
    key,
    '-out',
    cert,
  );
  return { cert, key };
}

async function signedCertificate(
  dir: string,
  name: string,
  subject: string,
  ca: { cert: string; key: string },
  extensions: string | null,
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  await openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', key, '-out', csr);
  const args = [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    cert,
  ];
  if (extensions !== null) {
    const extfile = join(dir, `${name}.ext`);
    await writeFile(extfile, `${extensions}\n`);
    args.push('-extfile', extfile);
  }
  await openssl(dir, ...args);
  return { cert, key };
}

/** Creates every file under `dir` (which must exist). Takes about a second. */
export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  const ca = await makeCa(dir, 'ca', '/CN=Sluice Test CA');
  const broker = await signedCertificate(
    dir,
    'broker',
    '/CN=localhost',
    ca,
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  );
  const client = await signedCertificate(dir, 'client', '/CN=test-client', ca, null);
  const otherCa = await makeCa(dir, 'other-ca', '/CN=Untrusted Test CA');
  const untrusted = await signedCertificate(dir, 'untrusted-client', '/CN=intruder', otherCa, null);
  const brokerKeystorePath = join(dir, 'broker-keystore.pem');
  await writeFile(
    brokerKeystorePath,
    Buffer.concat([await readFile(broker.key), await readFile(broker.cert)]),
  );
  const brokerPkcs12Path = join(dir, 'broker.p12');
  const pkcs12Password = 'keystore-secret';
  await openssl(
    dir,
    'pkcs12',
    '-export',
    '-inkey',
    broker.key,
    '-in',
    broker.cert,
    '-out',
    brokerPkcs12Path,
    '-passout',
    `pass:${pkcs12Password}`,
  );
  return {
    dir,
    caPath: ca.cert,
    brokerKeystorePath,
    brokerCertPath: broker.cert,
    brokerKeyPath: broker.key,
    brokerPkcs12Path,
    pkcs12Password,
    clientCertPath: client.cert,
    clientKeyPath: client.key,
    otherCaPath: otherCa.cert,
    untrustedClientCertPath: untrusted.cert,
    untrustedClientKeyPath: untrusted.key,
  };
}
