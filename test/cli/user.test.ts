// `sluice user list|set|delete` end to end: `node bin/sluice.js` as a child process, logged in as the
// configured admin of a SASL_PLAINTEXT broker, creates SCRAM users that kcat (librdkafka) and the CLI itself
// then log in as, lists and deletes them; exact output, readable one-line failures (exit status 1) and usage
// errors (exit status 2).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { type ProgramResult, runProgramOk } from '../helpers/process.js';
import { assertFailed, assertSucceeded, lines, runSluice } from '../helpers/sluice-cli.js';

let broker: Broker;

before(async () => {
  broker = await startBroker({
    args: ['--listen', 'SASL_PLAINTEXT://127.0.0.1:0', '--set', 'sasl.users=admin:admin-secret'],
  });
});

after(async () => {
  await disposeAllBrokers();
});

/** The admin's login as flags. */
const asAdmin = [
  '--sasl-mechanism',
  'scram-sha-256',
  '--sasl-username',
  'admin',
  '--sasl-password',
  'admin-secret',
];
/** The admin's login as variables. */
const adminEnv = {
  SLUICE_SASL_MECHANISM: 'plain',
  SLUICE_SASL_USERNAME: 'admin',
  SLUICE_SASL_PASSWORD: 'admin-secret',
};

/** The CLI against the broker; SASL and password variables are empty (unset) unless `env` gives them. */
function sluice(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProgramResult> {
  return runSluice(broker.bootstrap, args, { env, timeoutMs: 20_000 });
}

/** Asserts exit status 0 and an empty stderr; returns stdout. */
async function ok(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return assertSucceeded(args, await sluice(args, env));
}

/** Asserts this exit status, an empty stdout and exactly `line` on stderr. */
async function fails(args: string[], code: number, line: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  assertFailed(args, await sluice(args, env), code, line);
}

describe('sluice user', { timeout: 60_000 }, () => {
  test('set: with flags, with SLUICE_USER_PASSWORD, and the flag winning over the variable', async () => {
    assert.equal(
      await ok([
        'user',
        'set',
        'bob',
        '--mechanism',
        'SCRAM-SHA-256',
        '--iterations',
        '8192',
        '--password',
        'bob-secret',
        ...asAdmin,
      ]),
      "Set the SCRAM-SHA-256 credential of user 'bob' (8192 iterations)\n",
    );
    assert.equal(
      await ok(['user', 'set', 'carol', '--mechanism', 'scram-sha-512'], {
        ...adminEnv,
        SLUICE_USER_PASSWORD: 'carol-secret',
      }),
      "Set the SCRAM-SHA-512 credential of user 'carol' (4096 iterations)\n",
    );
    assert.equal(
      await ok(['user', 'set', 'dave', '--mechanism', 'SCRAM-SHA-256', '--password', 'dave-256'], {
        ...adminEnv,
        SLUICE_USER_PASSWORD: 'stale',
      }),
      "Set the SCRAM-SHA-256 credential of user 'dave' (4096 iterations)\n",
    );
    assert.equal(
      await ok(['user', 'set', 'dave', '--mechanism', 'SCRAM-SHA-512', '--iterations', '16384'], {
        ...adminEnv,
        SLUICE_USER_PASSWORD: 'dave-512',
      }),
      "Set the SCRAM-SHA-512 credential of user 'dave' (16384 iterations)\n",
    );
  });

  test('list: every credential, or those of the named users, sorted', async () => {
    assert.equal(
      await ok(['user', 'list', ...asAdmin]),
      lines(
        'USER   MECHANISM      ITERATIONS',
        'admin  SCRAM-SHA-256        4096',
        'admin  SCRAM-SHA-512        4096',
        'bob    SCRAM-SHA-256        8192',
        'carol  SCRAM-SHA-512        4096',
        'dave   SCRAM-SHA-256        4096',
        'dave   SCRAM-SHA-512       16384',
      ),
    );
    assert.equal(
      await ok(['user', 'list', 'dave', 'bob', 'dave'], adminEnv),
      lines(
        'USER  MECHANISM      ITERATIONS',
        'bob   SCRAM-SHA-256        8192',
        'dave  SCRAM-SHA-256        4096',
        'dave  SCRAM-SHA-512       16384',
      ),
    );
    await fails(
      ['user', 'list', 'bob', 'nobody'],
      1,
      "sluice: user 'nobody': Attempt to describe a user credential that does not exist (RESOURCE_NOT_FOUND)",
      adminEnv,
    );
  });

  test('kcat and the CLI log in as the users the CLI created', async () => {
    const kcat = (mechanism: string, username: string, password: string) =>
      runProgramOk(
        'kcat',
        [
          '-b',
          broker.bootstrap,
          '-X',
          'security.protocol=SASL_PLAINTEXT',
          '-X',
          `sasl.mechanisms=${mechanism}`,
          '-X',
          `sasl.username=${username}`,
          '-X',
          `sasl.password=${password}`,
          '-m',
          '10',
          '-L',
        ],
        { timeoutMs: 15_000 },
      );
    const metadata =
      `Metadata for all topics (from broker 0: sasl_plaintext://${broker.bootstrap}/0):\n` +
      ` 1 brokers:\n  broker 0 at ${broker.bootstrap} (controller)\n 0 topics:\n`;
    const logins = await Promise.all([
      kcat('SCRAM-SHA-512', 'carol', 'carol-secret'),
      kcat('SCRAM-SHA-256', 'dave', 'dave-256'),
      kcat('SCRAM-SHA-512', 'dave', 'dave-512'),
      kcat('PLAIN', 'bob', 'bob-secret'),
    ]);
    assert.deepEqual(
      logins.map((result) => result.stdout),
      [metadata, metadata, metadata, metadata],
    );
    assert.equal(
      await ok([
        'cluster',
        '--sasl-mechanism',
        'scram-sha-256',
        '--sasl-username',
        'bob',
        '--sasl-password',
        'bob-secret',
      ]),
      await ok(['cluster', ...asAdmin]),
    );
  });

  test('delete: one mechanism, or every credential the user has', async () => {
    assert.equal(
      await ok(['user', 'delete', 'dave', '--mechanism', 'scram-sha-512', ...asAdmin]),
      "Deleted the SCRAM-SHA-512 credential of user 'dave'\n",
    );
    assert.equal(
      await ok(['user', 'set', 'carol', '--mechanism', 'SCRAM-SHA-256', '--password', 'c'], adminEnv),
      "Set the SCRAM-SHA-256 credential of user 'carol' (4096 iterations)\n",
    );
    assert.equal(
      await ok(['user', 'delete', 'carol'], adminEnv),
      "Deleted the SCRAM-SHA-256 and SCRAM-SHA-512 credentials of user 'carol'\n",
    );
    assert.equal(
      await ok(['user', 'delete', 'bob'], adminEnv),
      "Deleted the SCRAM-SHA-256 credential of user 'bob'\n",
    );
    assert.equal(
      await ok(['user', 'list'], adminEnv),
      lines(
        'USER   MECHANISM      ITERATIONS',
        'admin  SCRAM-SHA-256        4096',
        'admin  SCRAM-SHA-512        4096',
        'dave   SCRAM-SHA-256        4096',
      ),
    );
    await fails(
      [
        'topic',
        'list',
        '--sasl-mechanism',
        'scram-sha-256',
        '--sasl-username',
        'bob',
        '--sasl-password',
        'bob-secret',
      ],
      1,
      `sluice: SCRAM-SHA-256 authentication as 'bob' to ${broker.bootstrap} (node -1) failed: ` +
        'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256 ' +
        '(SASL_AUTHENTICATION_FAILED)',
    );
  });

  test('refusals: one readable line and exit status 1', async () => {
    const configured =
      "sluice: user 'admin': User admin is defined by the broker setting sasl.users; change it there (UNACCEPTABLE_CREDENTIAL)";
    await Promise.all([
      fails(
        ['user', 'delete', 'nobody'],
        1,
        "sluice: user 'nobody' has no SCRAM credentials (RESOURCE_NOT_FOUND)",
        adminEnv,
      ),
      fails(
        ['user', 'delete', 'dave', '--mechanism', 'SCRAM-SHA-512'],
        1,
        "sluice: user 'dave' has no SCRAM-SHA-512 credential (RESOURCE_NOT_FOUND)",
        adminEnv,
      ),
      fails(['user', 'delete', 'admin'], 1, configured, adminEnv),
      fails(
        ['user', 'set', 'admin', '--mechanism', 'SCRAM-SHA-256', '--password', 'x'],
        1,
        configured,
        adminEnv,
      ),
    ]);
  });

  test('usage errors: exit status 2 before any connection', async () => {
    // No credentials and no reachable broker: a usage error must not get as far as connecting.
    const offline = { SLUICE_BOOTSTRAP: '127.0.0.1:1' };
    await Promise.all([
      fails(
        ['user', 'set', 'erin', '--mechanism', 'SCRAM-SHA-256'],
        2,
        'sluice: user set needs the new password: --password or $SLUICE_USER_PASSWORD',
        offline,
      ),
      fails(
        ['user', 'set', 'erin', '--password', 'x'],
        2,
        "sluice: error: required option '--mechanism <mechanism>' not specified",
        offline,
      ),
      fails(
        ['user', 'set', 'erin', '--mechanism', 'md5', '--password', 'x'],
        2,
        "sluice: error: option '--mechanism <mechanism>' argument 'md5' is invalid. expected one of SCRAM-SHA-256, SCRAM-SHA-512",
        offline,
      ),
      fails(
        ['user', 'set', 'erin', '--mechanism', 'SCRAM-SHA-256', '--iterations', '100', '--password', 'x'],
        2,
        "sluice: error: option '--iterations <n>' argument '100' is invalid. expected a whole number from 4096 to 16384",
        offline,
      ),
      fails(['user', 'delete'], 2, "sluice: error: missing required argument 'user'", offline),
      fails(
        ['user', 'delete', 'erin', '--mechanism', 'PLAIN'],
        2,
        "sluice: error: option '--mechanism <mechanism>' argument 'PLAIN' is invalid. expected one of SCRAM-SHA-256, SCRAM-SHA-512",
        offline,
      ),
    ]);
  });

  test('--help of each command shows examples', async () => {
    const helps = await Promise.all([
      ok(['user', '--help']),
      ok(['user', 'list', '--help']),
      ok(['user', 'set', '--help']),
      ok(['user', 'delete', '--help']),
    ]);
    const [user, list, set, del] = helps;
    assert.match(user!, /\$ sluice user list\n/);
    assert.match(list!, /Examples:\n {2}\$ sluice user list\n {2}\$ sluice user list alice bob\n/);
    assert.match(set!, /\$ SLUICE_USER_PASSWORD=bob-secret sluice user set bob --mechanism SCRAM-SHA-256\n/);
    assert.ok(
      set!
        .replace(/\s+/g, ' ')
        .includes('--password <password> the new password (default: $SLUICE_USER_PASSWORD,'),
      set,
    );
    assert.match(del!, /\$ sluice user delete bob --mechanism SCRAM-SHA-512\n/);
    assert.match(
      (await ok(['--help'])).replace(/\s+/g, ' '),
      / user List, set and delete the SCRAM credentials users log in with /,
    );
  });
});
