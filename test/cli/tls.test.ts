// The CLI's --tls* flags and SLUICE_TLS* variables end to end: `node bin/sluice.js` as a child process against
// an SSL broker and a mutual-TLS broker creates, lists, produces and consumes; an untrusted broker is one
// readable line and exit status 1, an unreadable file a usage error (exit status 2) naming its flag.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createTestCertificates, type TestCertificates } from '../helpers/certificates.js';
import type { ProgramResult } from '../helpers/process.js';
import { assertFailed, assertSucceeded, describeRun, runSluice } from '../helpers/sluice-cli.js';

/** Process start included: a TLS failure must not wait for a timeout or a retry. */
const refusalBoundMs = 8_000;
let dir: string;
let certs: TestCertificates;
let sslBroker: Broker;
let mutualBroker: Broker;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-cli-tls-'));
  certs = await createTestCertificates(dir);
  const keystore = ['--set', `ssl.keystore.location=${certs.brokerKeystorePath}`];
  [sslBroker, mutualBroker] = await Promise.all([
    startBroker({ args: ['--listen', 'SSL://127.0.0.1:0', ...keystore] }),
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
  ]);
});

after(async () => {
  await disposeAllBrokers();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The CLI against `broker`; TLS and SASL variables are empty (unset) unless `env` gives them. */
function sluice(
  broker: Broker,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ProgramResult> {
  return runSluice(broker.bootstrap, args, { ...options, timeoutMs: 20_000 });
}

async function ok(
  broker: Broker,
  args: string[],
  options: { input?: string; stderr?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return assertSucceeded(args, await sluice(broker, args, options), options.stderr);
}

/** Asserts the exit status, an empty stdout and exactly `line` on stderr, within refusalBoundMs. */
async function fails(
  broker: Broker,
  args: string[],
  code: number,
  line: string,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  const started = Date.now();
  const result = await sluice(broker, args, { env });
  const elapsedMs = Date.now() - started;
  assertFailed(args, result, code, line);
  assert.ok(elapsedMs < refusalBoundMs, `took ${elapsedMs} ms\n${describeRun(args, result)}`);
}

describe('sluice with TLS', { timeout: 120_000 }, () => {
  test('--tls-ca: topic create and list, produce, consume', async () => {
    const tls = ['--tls-ca', certs.caPath];
    assert.equal(
      await ok(sslBroker, ['topic', 'create', 'flagged', '--partitions', '2', ...tls]),
      "Created topic 'flagged' (2 partitions, replication factor 1)\n",
    );
    assert.equal(await ok(sslBroker, ['topic', 'list', ...tls]), 'flagged\n');
    await ok(sslBroker, ['produce', '--topic', 'flagged', '--partition', '1', ...tls], {
      input: 'one\ntwo, over TLS ✓\n',
      stderr: "Produced 2 records to 'flagged': partition 1 offsets 0-1\n",
    });
    assert.equal(
      await ok(sslBroker, ['consume', '--topic', 'flagged', '--from', 'earliest', '--exit-at-end', ...tls]),
      'one\ntwo, over TLS ✓\n',
    );
  });

  test('SLUICE_TLS_CA (and SLUICE_TLS=1) from the environment', async () => {
    const env = { SLUICE_TLS: '1', SLUICE_TLS_CA: certs.caPath };
    assert.equal(
      await ok(sslBroker, ['topic', 'create', 'from-env'], { env }),
      "Created topic 'from-env' (1 partition, replication factor 1)\n",
    );
    await ok(sslBroker, ['produce', '--topic', 'from-env'], {
      env: { SLUICE_TLS_CA: certs.caPath },
      input: 'alpha\n',
      stderr: "Produced 1 record to 'from-env': partition 0 offset 0\n",
    });
    assert.equal(
      await ok(sslBroker, ['consume', '--topic', 'from-env', '--from', 'earliest', '--exit-at-end'], { env }),
      'alpha\n',
    );
  });

  test('mutual TLS with --tls-cert and --tls-key; without them, one readable line', async () => {
    const tls = [
      '--tls-ca',
      certs.caPath,
      '--tls-cert',
      certs.clientCertPath,
      '--tls-key',
      certs.clientKeyPath,
    ];
    assert.equal(
      await ok(mutualBroker, ['topic', 'create', 'mutual', ...tls]),
      "Created topic 'mutual' (1 partition, replication factor 1)\n",
    );
    await ok(mutualBroker, ['produce', '--topic', 'mutual', ...tls], {
      input: 'signed\n',
      stderr: "Produced 1 record to 'mutual': partition 0 offset 0\n",
    });
    assert.equal(
      await ok(mutualBroker, ['consume', '--topic', 'mutual', '--from', 'earliest', '--exit-at-end', ...tls]),
      'signed\n',
    );
    // The broker's alert, or (when its close overtakes the alert) the hang-up right after the handshake.
    const result = await sluice(mutualBroker, ['topic', 'list', '--tls-ca', certs.caPath]);
    assert.equal(result.code, 1, describeRun(['topic', 'list'], result));
    assert.match(
      result.stderr,
      /^sluice: broker 127\.0\.0\.1:\d+ \(node -1\) (requires a client certificate, and none is configured \(tlsv13 alert certificate required \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)\)|closed the TLS connection before answering ApiVersions: it probably requires a client certificate, and none is configured) \(TLS_ERROR\)\n$/,
    );
  });

  test('an untrusted broker: exit status 1 and one readable line, at once', async () => {
    const expected = `sluice: the certificate of broker 127.0.0.1:${sslBroker.port} (node -1) is not trusted: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE) (TLS_ERROR)`;
    await fails(sslBroker, ['topic', 'list', '--tls-ca', certs.otherCaPath], 1, expected);
    await fails(sslBroker, ['consume', '--topic', 'flagged', '--exit-at-end'], 1, expected, {
      SLUICE_TLS: 'true',
    });
  });

  test('unreadable files and half a key pair are usage errors (exit status 2)', async () => {
    const missing = join(dir, 'nowhere.pem');
    await fails(
      sslBroker,
      ['topic', 'list', '--tls-ca', missing],
      2,
      `sluice: --tls-ca ${missing} cannot be read: no such file`,
    );
    await fails(
      sslBroker,
      ['topic', 'list'],
      2,
      `sluice: $SLUICE_TLS_KEY ${missing} cannot be read: no such file`,
      { SLUICE_TLS_CERT: certs.clientCertPath, SLUICE_TLS_KEY: missing },
    );
    await fails(
      sslBroker,
      ['topic', 'list', '--tls-cert', certs.clientCertPath],
      2,
      "sluice: --tls-cert needs --tls-key (or $SLUICE_TLS_KEY): the client certificate's private key",
    );
  });

  test('every client command documents the flags in --help', async () => {
    for (const command of [['topic', 'list'], ['produce'], ['consume'], ['group', 'list'], ['cluster']]) {
      const help = (await ok(sslBroker, [...command, '--help'])).replace(/\s+/g, ' ');
      for (const flag of ['--tls ', '--tls-ca <file>', '--tls-cert <file>', '--tls-key <file>']) {
        assert.ok(help.includes(flag), `${command.join(' ')} --help lacks ${flag}:\n${help}`);
      }
    }
  });
});
