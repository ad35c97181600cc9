// The CLI's --sasl-* flags and SLUICE_SASL_* variables end to end: `node bin/sluice.js` as a child process
// against a SASL_PLAINTEXT broker creates, lists, produces and consumes with each mechanism; a refused login is
// one readable line and exit status 1, a half-given set of credentials a usage error (exit status 2).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import type { ProgramResult } from '../helpers/process.js';
import { assertFailed, assertSucceeded, describeRun, runSluice } from '../helpers/sluice-cli.js';

/** Process start included: a refused login must not wait for a timeout or a retry. */
const refusalBoundMs = 8_000;
let broker: Broker;
let plaintextBroker: Broker;

before(async () => {
  [broker, plaintextBroker] = await Promise.all([
    startBroker({
      args: [
        '--listen',
        'SASL_PLAINTEXT://127.0.0.1:0',
        '--set',
        'sasl.users=alice:alice-secret,bob:bob-secret',
      ],
    }),
    startBroker(),
  ]);
});

after(async () => {
  await disposeAllBrokers();
});

/** The CLI against the SASL broker; SASL variables are empty (unset) unless `env` gives them. */
function sluice(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ProgramResult> {
  return runSluice(broker.bootstrap, args, { ...options, timeoutMs: 30_000 });
}

async function ok(
  args: string[],
  options: { input?: string; stderr?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return assertSucceeded(args, await sluice(args, options), options.stderr);
}

/** Asserts the exit status, an empty stdout and exactly `line` on stderr, within refusalBoundMs. */
async function fails(
  args: string[],
  code: number,
  line: string | RegExp,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  const started = Date.now();
  const result = await sluice(args, { env });
  const elapsedMs = Date.now() - started;
  assertFailed(args, result, code, line);
  assert.ok(elapsedMs < refusalBoundMs, `took ${elapsedMs} ms\n${describeRun(args, result)}`);
}

const asAlice = (mechanism: string) => [
  '--sasl-mechanism',
  mechanism,
  '--sasl-username',
  'alice',
  '--sasl-password',
  'alice-secret',
];

describe('sluice with SASL', { timeout: 180_000 }, () => {
  test('--sasl-* flags: topic create and list, produce, consume (scram-sha-256)', async () => {
    const sasl = asAlice('scram-sha-256');
    assert.equal(
      await ok(['topic', 'create', 'flagged', '--partitions', '2', ...sasl]),
      "Created topic 'flagged' (2 partitions, replication factor 1)\n",
    );
    assert.equal(await ok(['topic', 'list', ...sasl]), 'flagged\n');
    await ok(['produce', '--topic', 'flagged', '--partition', '1', ...sasl], {
      input: 'one\ntwo, with = signs\n',
      stderr: "Produced 2 records to 'flagged': partition 1 offsets 0-1\n",
    });
    assert.equal(
      await ok(['consume', '--topic', 'flagged', '--from', 'earliest', '--exit-at-end', ...sasl]),
      'one\ntwo, with = signs\n',
    );
  });

  test('SLUICE_SASL_* variables: plain, and scram-sha-512 through a consumer group', async () => {
    const plain = {
      SLUICE_SASL_MECHANISM: 'PLAIN',
      SLUICE_SASL_USERNAME: 'bob',
      SLUICE_SASL_PASSWORD: 'bob-secret',
    };
    assert.equal(
      await ok(['topic', 'create', 'from-env'], { env: plain }),
      "Created topic 'from-env' (1 partition, replication factor 1)\n",
    );
    assert.equal(await ok(['topic', 'list'], { env: plain }), 'flagged\nfrom-env\n');
    await ok(['produce', '--topic', 'from-env'], {
      env: plain,
      input: 'alpha\nbeta\n',
      stderr: "Produced 2 records to 'from-env': partition 0 offsets 0-1\n",
    });
    const scram = { ...plain, SLUICE_SASL_MECHANISM: 'scram-sha-512' };
    assert.equal(
      await ok(
        ['consume', '--topic', 'from-env', '--group', 'readers', '--from', 'earliest', '--count', '2'],
        {
          env: scram,
        },
      ),
      'alpha\nbeta\n',
    );
  });

  test('a flag wins over its variable', async () => {
    // The variables name bob with a wrong password; the flags fix the password only.
    const env = {
      SLUICE_SASL_MECHANISM: 'plain',
      SLUICE_SASL_USERNAME: 'bob',
      SLUICE_SASL_PASSWORD: 'stale',
    };
    assert.equal(
      await ok(['topic', 'list', '--sasl-password', 'bob-secret'], { env }),
      'flagged\nfrom-env\n',
    );
  });

  test('a wrong password: one readable line and exit status 1, for every kind of command', async () => {
    const wrong = [
      '--sasl-mechanism',
      'scram-sha-256',
      '--sasl-username',
      'alice',
      '--sasl-password',
      'nope',
    ];
    const line =
      `sluice: SCRAM-SHA-256 authentication as 'alice' to 127.0.0.1:${broker.port} (node -1) failed: ` +
      'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256 ' +
      '(SASL_AUTHENTICATION_FAILED)';
    await fails(['topic', 'list', ...wrong], 1, line);
    await fails(['produce', '--topic', 'flagged', ...wrong], 1, line);
    await fails(['consume', '--topic', 'flagged', '--from', 'earliest', '--exit-at-end', ...wrong], 1, line);
    await fails(
      ['group', 'list'],
      1,
      `sluice: PLAIN authentication as 'alice' to 127.0.0.1:${broker.port} (node -1) failed: ` +
        'Authentication failed: Invalid username or password (SASL_AUTHENTICATION_FAILED)',
      { SLUICE_SASL_MECHANISM: 'plain', SLUICE_SASL_USERNAME: 'alice', SLUICE_SASL_PASSWORD: 'nope' },
    );
  });

  test('no credentials against the SASL listener, and credentials against a PLAINTEXT one', async () => {
    await fails(
      ['topic', 'list'],
      1,
      /^sluice: no bootstrap broker is reachable: connection closed by the broker .*\(CONNECTION_ERROR\)$/,
    );
    await fails(
      ['topic', 'list', '--bootstrap', plaintextBroker.bootstrap, ...asAlice('plain')],
      1,
      `sluice: broker 127.0.0.1:${plaintextBroker.port} (node -1) refused the SASL handshake: its listener does not use SASL (PLAINTEXT?) (ILLEGAL_SASL_STATE)`,
    );
  });

  test('half-given credentials and unknown mechanisms are usage errors (exit status 2)', async () => {
    const needsMechanism =
      'sluice: a SASL user name or password needs a mechanism: --sasl-mechanism or $SLUICE_SASL_MECHANISM ' +
      '(plain, scram-sha-256, scram-sha-512)';
    await fails(
      ['topic', 'list', '--sasl-username', 'alice', '--sasl-password', 'alice-secret'],
      2,
      needsMechanism,
    );
    await fails(['produce', '--topic', 'x'], 2, needsMechanism, { SLUICE_SASL_USERNAME: 'alice' });
    await fails(
      ['topic', 'list', '--sasl-mechanism', 'plain', '--sasl-username', 'alice'],
      2,
      'sluice: SASL mechanism plain needs --sasl-password (or $SLUICE_SASL_PASSWORD)',
    );
    await fails(
      ['topic', 'list', '--sasl-mechanism', 'kerberos'],
      2,
      "sluice: error: option '--sasl-mechanism <mechanism>' argument 'kerberos' is invalid. expected one of plain, scram-sha-256, scram-sha-512",
    );
    await fails(
      ['topic', 'list'],
      2,
      'sluice: SLUICE_SASL_MECHANISM=md5 is invalid: expected one of plain, scram-sha-256, scram-sha-512',
      { SLUICE_SASL_MECHANISM: 'md5' },
    );
  });

  test('every client command documents the flags in --help', async () => {
    for (const command of [['topic', 'list'], ['produce'], ['consume'], ['group', 'list'], ['cluster']]) {
      const help = (await ok([...command, '--help'])).replace(/\s+/g, ' ');
      for (const flag of [
        '--sasl-mechanism <mechanism>',
        '--sasl-username <name>',
        '--sasl-password <password>',
      ]) {
        assert.ok(help.includes(flag), `${command.join(' ')} --help lacks ${flag}:\n${help}`);
      }
    }
  });
});
