import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command, InvalidArgumentError } from 'commander';
import { createTestCertificates, type TestCertificates } from '../../test/helpers/certificates.js';
import {
  addClientOptions,
  clientOptions,
  collect,
  integerIn,
  onInterrupt,
  parseAcks,
  parseAssignment,
  parseBootstrap,
  parseCompression,
  parseSaslMechanism,
  parseSeparator,
  parseStartPosition,
  parseTimestamp,
  positiveNumber,
} from './client-options.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';

const invalid = (fn: () => unknown, message: string) =>
  assert.throws(fn, (error: unknown) => error instanceof InvalidArgumentError && error.message === message);

describe('bootstrap', () => {
  test('--bootstrap wins over SLUICE_BOOTSTRAP, which wins over the default', () => {
    const env = { SLUICE_BOOTSTRAP: 'env-host:9093' };
    assert.equal(clientOptions({ bootstrap: 'flag:1' }, env).bootstrap, 'flag:1');
    assert.equal(clientOptions({}, env).bootstrap, 'env-host:9093');
    assert.equal(clientOptions({}, {}).bootstrap, '127.0.0.1:9092');
    assert.equal(clientOptions({}, { SLUICE_BOOTSTRAP: '  ' }).bootstrap, '127.0.0.1:9092');
  });

  test('lists are trimmed; bad entries are usage errors', () => {
    assert.equal(parseBootstrap('a:1, b:2 ,[::1]:3'), 'a:1,b:2,[::1]:3');
    invalid(() => parseBootstrap('a:1,,b:2'), 'expected host:port[,host:port...]');
    invalid(() => parseBootstrap('a:99999'), "'a:99999' is not host:port");
    assert.throws(
      () => clientOptions({}, { SLUICE_BOOTSTRAP: 'h:0' }),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message === "SLUICE_BOOTSTRAP=h:0 is invalid: 'h:0' is not host:port",
    );
  });
});

describe('SASL credentials', () => {
  const usage = (fn: () => unknown, message: string) =>
    assert.throws(fn, (error: unknown) => error instanceof UsageError && error.message === message);

  test('no mechanism and no credentials: no SASL', () => {
    assert.equal('sasl' in clientOptions({}, {}), false);
    assert.equal('sasl' in clientOptions({}, { SLUICE_SASL_MECHANISM: '' }), false);
  });

  test('from flags, from the environment, and flags win field by field', () => {
    const flags = { saslMechanism: 'plain', saslUsername: 'alice', saslPassword: 'flag-secret' } as const;
    assert.deepEqual(clientOptions(flags, {}).sasl, {
      mechanism: 'plain',
      username: 'alice',
      password: 'flag-secret',
    });
    const env = {
      SLUICE_SASL_MECHANISM: 'SCRAM-SHA-512',
      SLUICE_SASL_USERNAME: 'bob',
      SLUICE_SASL_PASSWORD: 'env-secret',
    };
    assert.deepEqual(clientOptions({}, env).sasl, {
      mechanism: 'scram-sha-512',
      username: 'bob',
      password: 'env-secret',
    });
    assert.deepEqual(
      clientOptions({ saslMechanism: 'scram-sha-256', saslPassword: 'flag-secret' }, env).sasl,
      {
        mechanism: 'scram-sha-256',
        username: 'bob',
        password: 'flag-secret',
      },
    );
  });

  test('credentials without a mechanism, or a mechanism without both, are usage errors', () => {
    usage(
      () => clientOptions({ saslUsername: 'alice', saslPassword: 'x' }, {}),
      'a SASL user name or password needs a mechanism: --sasl-mechanism or $SLUICE_SASL_MECHANISM ' +
        '(plain, scram-sha-256, scram-sha-512)',
    );
    usage(
      () => clientOptions({}, { SLUICE_SASL_PASSWORD: 'x' }),
      'a SASL user name or password needs a mechanism: --sasl-mechanism or $SLUICE_SASL_MECHANISM ' +
        '(plain, scram-sha-256, scram-sha-512)',
    );
    usage(
      () => clientOptions({ saslMechanism: 'plain' }, {}),
      'SASL mechanism plain needs --sasl-username (or $SLUICE_SASL_USERNAME) and --sasl-password ' +
        '(or $SLUICE_SASL_PASSWORD)',
    );
    usage(
      () => clientOptions({ saslMechanism: 'plain', saslUsername: 'alice' }, {}),
      'SASL mechanism plain needs --sasl-password (or $SLUICE_SASL_PASSWORD)',
    );
    usage(
      () => clientOptions({}, { SLUICE_SASL_MECHANISM: 'kerberos' }),
      'SLUICE_SASL_MECHANISM=kerberos is invalid: expected one of plain, scram-sha-256, scram-sha-512',
    );
  });

  test('parseSaslMechanism accepts our names and Kafka spellings', () => {
    assert.equal(parseSaslMechanism('plain'), 'plain');
    assert.equal(parseSaslMechanism(' SCRAM-SHA-256 '), 'scram-sha-256');
    invalid(() => parseSaslMechanism('gssapi'), 'expected one of plain, scram-sha-256, scram-sha-512');
  });

  test('addClientOptions parses the flags and documents them in --help', () => {
    const command = () =>
      addClientOptions(new Command('probe').exitOverride().configureOutput({ writeErr: () => {} }));
    const parsed = command().parse(
      ['--sasl-mechanism', 'SCRAM-SHA-256', '--sasl-username', 'alice', '--sasl-password', 'a,b=c'],
      { from: 'user' },
    );
    assert.deepEqual(parsed.opts(), {
      saslMechanism: 'scram-sha-256',
      saslUsername: 'alice',
      saslPassword: 'a,b=c',
    });
    assert.throws(
      () => command().parse(['--sasl-username', ''], { from: 'user' }),
      /option '--sasl-username <name>' argument '' is invalid\. expected a non-empty name/,
    );
    const help = command().helpInformation().replace(/\s+/g, ' ');
    assert.match(
      help,
      / --sasl-mechanism <mechanism> authenticate with SASL: plain, scram-sha-256, scram-sha-512 \(default: \$SLUICE_SASL_MECHANISM, else none\) /,
    );
    assert.match(help, / --sasl-username <name> SASL user name \(default: \$SLUICE_SASL_USERNAME\) /);
    assert.match(
      help,
      / --sasl-password <password> SASL password \(default: \$SLUICE_SASL_PASSWORD, which other users cannot see in the process list\) /,
    );
  });
});

describe('TLS settings', () => {
  let dir: string;
  let certs: TestCertificates;
  let pem: { ca: Buffer; cert: Buffer; key: Buffer };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-cli-tls-'));
    certs = await createTestCertificates(dir);
    pem = {
      ca: await readFile(certs.caPath),
      cert: await readFile(certs.clientCertPath),
      key: await readFile(certs.clientKeyPath),
    };
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  const usage = (fn: () => unknown, message: string) =>
    assert.throws(fn, (error: unknown) => error instanceof UsageError && error.message === message);

  test('off unless asked for; --tls alone uses the system CAs', () => {
    assert.equal('ssl' in clientOptions({}, {}), false);
    assert.equal('ssl' in clientOptions({}, { SLUICE_TLS: '', SLUICE_TLS_CA: '' }), false);
    assert.equal(clientOptions({ tls: true }, {}).ssl, true);
  });

  test('file flags imply --tls and hold the files contents', () => {
    assert.deepEqual(clientOptions({ tlsCa: certs.caPath }, {}).ssl, { ca: pem.ca });
    assert.deepEqual(
      clientOptions(
        { tls: true, tlsCa: certs.caPath, tlsCert: certs.clientCertPath, tlsKey: certs.clientKeyPath },
        {},
      ).ssl,
      { ca: pem.ca, cert: pem.cert, key: pem.key },
    );
    assert.deepEqual(clientOptions({ tlsCert: certs.clientCertPath, tlsKey: certs.clientKeyPath }, {}).ssl, {
      cert: pem.cert,
      key: pem.key,
    });
  });

  test('SLUICE_TLS switches, SLUICE_TLS_* files; flags win', () => {
    for (const on of ['true', '1', ' TRUE ']) assert.equal(clientOptions({}, { SLUICE_TLS: on }).ssl, true);
    for (const off of ['false', '0']) assert.equal('ssl' in clientOptions({}, { SLUICE_TLS: off }), false);
    const files = {
      SLUICE_TLS_CA: certs.caPath,
      SLUICE_TLS_CERT: certs.clientCertPath,
      SLUICE_TLS_KEY: certs.clientKeyPath,
    };
    assert.deepEqual(clientOptions({}, files).ssl, { ca: pem.ca, cert: pem.cert, key: pem.key });
    // SLUICE_TLS=false turns the files off; a flag turns TLS back on, and the other files still come from the env.
    assert.equal('ssl' in clientOptions({}, { ...files, SLUICE_TLS: 'false' }), false);
    assert.deepEqual(clientOptions({ tls: true }, { ...files, SLUICE_TLS: '0' }).ssl, {
      ca: pem.ca,
      cert: pem.cert,
      key: pem.key,
    });
    assert.deepEqual(clientOptions({ tlsCa: certs.otherCaPath }, files).ssl, {
      ca: readFileSync(certs.otherCaPath),
      cert: pem.cert,
      key: pem.key,
    });
    usage(
      () => clientOptions({}, { SLUICE_TLS: 'yes' }),
      'SLUICE_TLS=yes is invalid: expected true, false, 1 or 0',
    );
  });

  test('a certificate needs its key, and a key its certificate', () => {
    usage(
      () => clientOptions({ tlsCert: certs.clientCertPath }, {}),
      "--tls-cert needs --tls-key (or $SLUICE_TLS_KEY): the client certificate's private key",
    );
    usage(
      () => clientOptions({}, { SLUICE_TLS_KEY: certs.clientKeyPath }),
      '$SLUICE_TLS_KEY needs --tls-cert (or $SLUICE_TLS_CERT): the client certificate',
    );
  });

  test('unreadable or unusable files are usage errors naming the flag or variable', () => {
    const missing = join(dir, 'missing.pem');
    usage(() => clientOptions({ tlsCa: missing }, {}), `--tls-ca ${missing} cannot be read: no such file`);
    usage(
      () => clientOptions({}, { SLUICE_TLS_CA: dir }),
      `$SLUICE_TLS_CA ${dir} cannot be read: EISDIR: illegal operation on a directory, read`,
    );
    const notPem = join(dir, 'broker.csr.der');
    writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    usage(
      () => clientOptions({ tlsCa: notPem }, {}),
      `--tls-ca ${notPem} is not a PEM file (no '-----BEGIN ...' line)`,
    );
    usage(
      () => clientOptions({ tlsCa: certs.clientKeyPath }, {}),
      `--tls-ca ${certs.clientKeyPath} cannot be used: ca holds no certificate (no '-----BEGIN CERTIFICATE-----' block)`,
    );
    usage(
      () => clientOptions({ tlsCert: certs.clientCertPath, tlsKey: certs.brokerKeyPath }, {}),
      `--tls-cert ${certs.clientCertPath} with --tls-key ${certs.brokerKeyPath} cannot be used: ` +
        'key values mismatch (ERR_OSSL_X509_KEY_VALUES_MISMATCH)',
    );
  });

  test('addClientOptions parses the TLS flags and documents them in --help', () => {
    const command = () =>
      addClientOptions(new Command('probe').exitOverride().configureOutput({ writeErr: () => {} }));
    const parsed = command().parse(
      ['--tls', '--tls-ca', 'ca.pem', '--tls-cert', 'client.crt', '--tls-key', 'client.key'],
      { from: 'user' },
    );
    assert.deepEqual(parsed.opts(), {
      tls: true,
      tlsCa: 'ca.pem',
      tlsCert: 'client.crt',
      tlsKey: 'client.key',
    });
    assert.throws(
      () => command().parse(['--tls-ca', ''], { from: 'user' }),
      /option '--tls-ca <file>' argument '' is invalid\. expected a file path/,
    );
    const help = command().helpInformation().replace(/\s+/g, ' ');
    assert.match(
      help,
      / --tls connect with TLS \(SSL and SASL_SSL listeners\), verifying the brokers' certificates against the system CAs or --tls-ca \(default: \$SLUICE_TLS=true\|false, else on when a --tls-\* file is given\) /,
    );
    assert.match(
      help,
      / --tls-ca <file> PEM file of the CA certificates that signed the brokers' certificates; implies --tls \(default: \$SLUICE_TLS_CA\) /,
    );
    assert.match(
      help,
      / --tls-cert <file> PEM file of the client certificate, for brokers that require one \(mutual TLS\); needs --tls-key; implies --tls \(default: \$SLUICE_TLS_CERT\) /,
    );
    assert.match(
      help,
      / --tls-key <file> PEM file of the unencrypted private key of --tls-cert; implies --tls \(default: \$SLUICE_TLS_KEY\) /,
    );
  });
});

describe('value parsers', () => {
  test('integerIn', () => {
    assert.equal(integerIn(1, 10)('7'), 7);
    assert.equal(integerIn(0)(' 0 '), 0);
    invalid(() => integerIn(1, 10)('11'), 'expected a whole number from 1 to 10');
    invalid(() => integerIn(1)('0'), 'expected a whole number ≥ 1');
    invalid(() => integerIn(0)('1.5'), 'expected a whole number ≥ 0');
    invalid(() => integerIn(0)('1e3'), 'expected a whole number ≥ 0');
    invalid(() => integerIn(0)('99999999999999999999'), 'expected a whole number ≥ 0');
  });

  test('positiveNumber', () => {
    assert.equal(positiveNumber('2.5'), 2.5);
    invalid(() => positiveNumber('0'), 'expected a number > 0');
    invalid(() => positiveNumber('-1'), 'expected a number > 0');
    invalid(() => positiveNumber('fast'), 'expected a number > 0');
  });

  test('collect appends parsed values', () => {
    const parse = collect(parseAssignment);
    assert.deepEqual(parse('b=2', parse('a=1', undefined)), [
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  test('parseAssignment splits at the first =', () => {
    assert.deepEqual(parseAssignment('a=b=c'), ['a', 'b=c']);
    assert.deepEqual(parseAssignment('empty='), ['empty', '']);
    invalid(() => parseAssignment('=x'), 'expected key=value');
    invalid(() => parseAssignment('novalue'), 'expected key=value');
  });

  test('parseAcks', () => {
    assert.equal(parseAcks('0'), 0);
    assert.equal(parseAcks('1'), 1);
    assert.equal(parseAcks('all'), -1);
    assert.equal(parseAcks('ALL'), -1);
    assert.equal(parseAcks('-1'), -1);
    invalid(() => parseAcks('2'), 'expected 0, 1 or all');
  });

  test('parseCompression', () => {
    assert.equal(parseCompression('ZSTD'), 'zstd');
    invalid(() => parseCompression('brotli'), 'expected one of none, gzip, snappy, lz4, zstd');
  });

  test('parseTimestamp: milliseconds or ISO 8601', () => {
    assert.equal(parseTimestamp('1714521600000'), 1_714_521_600_000);
    assert.equal(parseTimestamp('2024-05-01T00:00:00Z'), 1_714_521_600_000);
    assert.equal(parseTimestamp('2024-05-01T02:00:00+02:00'), 1_714_521_600_000);
    assert.equal(parseTimestamp('2024-05-01'), 1_714_521_600_000);
    invalid(() => parseTimestamp('yesterday'), 'expected milliseconds since the epoch or an ISO 8601 date');
    invalid(() => parseTimestamp('2024-13-45'), 'expected milliseconds since the epoch or an ISO 8601 date');
  });

  test('parseStartPosition', () => {
    assert.deepEqual(parseStartPosition('earliest'), { kind: 'earliest' });
    assert.deepEqual(parseStartPosition('latest'), { kind: 'latest' });
    assert.deepEqual(parseStartPosition('42'), { kind: 'offset', offset: 42 });
    assert.deepEqual(parseStartPosition('@1714521600000'), {
      kind: 'timestamp',
      timestamp: 1_714_521_600_000,
    });
    assert.deepEqual(parseStartPosition('2024-05-01T00:00:00Z'), {
      kind: 'timestamp',
      timestamp: 1_714_521_600_000,
    });
    invalid(
      () => parseStartPosition('soon'),
      'expected earliest, latest, an offset, @<ms since the epoch> or an ISO 8601 date',
    );
  });

  test('parseSeparator understands \\t', () => {
    assert.equal(parseSeparator('\\t'), '\t');
    assert.equal(parseSeparator('::'), '::');
    invalid(() => parseSeparator(''), 'expected a non-empty separator');
  });
});

describe('onInterrupt', () => {
  test('the first signal stops, the second exits 130; removing the handlers detaches them', () => {
    const listeners = new Map<string, ((signal: NodeJS.Signals) => void)[]>();
    const exits: number[] = [];
    const context = {
      process: {
        on: (signal: string, listener: (signal: NodeJS.Signals) => void) =>
          listeners.set(signal, [...(listeners.get(signal) ?? []), listener]),
        removeListener: (signal: string, listener: (signal: NodeJS.Signals) => void) =>
          listeners.set(
            signal,
            (listeners.get(signal) ?? []).filter((l) => l !== listener),
          ),
        exit: (code: number) => exits.push(code),
      },
    } as unknown as CliContext;
    let stops = 0;
    const remove = onInterrupt(context, () => stops++);
    listeners.get('SIGINT')![0]!('SIGINT');
    assert.equal(stops, 1);
    assert.deepEqual(exits, []);
    listeners.get('SIGTERM')![0]!('SIGTERM');
    assert.equal(stops, 1);
    assert.deepEqual(exits, [130]);
    remove();
    assert.equal(listeners.get('SIGINT')!.length, 0);
    assert.equal(listeners.get('SIGTERM')!.length, 0);
  });
});
