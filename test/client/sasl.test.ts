// The Sluice client's Producer, Consumer and Admin against a SASL_PLAINTEXT Sluice broker process: each of the
// three mechanisms logs in and moves exact content through a group consumer (so data and coordinator
// connections authenticate too); a wrong password, a disabled mechanism and a broker without SASL each fail
// at once with their own typed, non-retriable error.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  ConnectionError,
  Consumer,
  IllegalSaslStateError,
  type KafkaClientError,
  Producer,
  SaslAuthenticationError,
  type SaslMechanism,
  type SaslOptions,
  UnsupportedSaslMechanismError,
} from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { clientTracker, groupRoundTrip, rejectsPromptly } from '../helpers/sluice-clients.js';

const testTimeoutMs = 40_000;
/** A refused login must surface this fast: the broker answers at once, and nothing may retry it. */
const loginFailureBoundMs = 3_000;

const alice = { username: 'alice', password: 'alice-secret' };
const bob = { username: 'bob', password: 'bob-secret' };
const saslArgs = (...extra: string[]) => [
  '--listen',
  'SASL_PLAINTEXT://127.0.0.1:0',
  '--set',
  `sasl.users=${alice.username}:${alice.password},${bob.username}:${bob.password}`,
  ...extra,
];

let saslBroker: Broker;
let limitedBroker: Broker;
let plaintextBroker: Broker;
const { track, closeAll } = clientTracker();
before(async () => {
  [saslBroker, limitedBroker, plaintextBroker] = await Promise.all([
    startBroker({ args: saslArgs() }),
    startBroker({ args: saslArgs('--set', 'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256') }),
    startBroker(),
  ]);
});

after(async () => {
  await closeAll();
  await disposeAllBrokers();
});

/** Asserts that `operation` rejects with `family` and `code` within loginFailureBoundMs; returns the error. */
async function refusedPromptly<E extends KafkaClientError>(
  operation: () => Promise<unknown>,
  family: new (...args: never[]) => E,
  code: number,
): Promise<E> {
  const error = await rejectsPromptly(operation, family, loginFailureBoundMs);
  assert.equal(error.code, code);
  assert.equal(error.retriable, false);
  return error;
}

describe('SASL logins', { timeout: 180_000 }, () => {
  const cases: [SaslMechanism, typeof alice][] = [
    ['plain', alice],
    ['scram-sha-256', bob],
    ['scram-sha-512', alice],
  ];
  for (const [mechanism, user] of cases) {
    test(`${mechanism}: Admin, Producer and a group Consumer move exact content`, {
      timeout: testTimeoutMs,
    }, async () => {
      const sasl: SaslOptions = { mechanism, ...user };
      const received = await groupRoundTrip(
        { bootstrap: saslBroker.bootstrap, sasl },
        {
          topic: `sasl-${mechanism}-${randomUUID().slice(0, 8)}`,
          adminClientId: 'sasl-admin',
          messages: [
            { key: 'k0', value: `first via ${mechanism}`, partition: 0, headers: { who: user.username } },
            { key: 'k1', value: 'ünïcode ✓', partition: 1, headers: { who: user.username } },
            { key: 'k2', value: 'third', partition: 0, headers: { who: user.username } },
          ],
          track,
          takeTimeoutMs: 15_000,
        },
      );
      assert.deepEqual(received, [
        {
          partition: 0,
          offset: 0,
          key: 'k0',
          value: `first via ${mechanism}`,
          headers: [['who', user.username]],
        },
        { partition: 0, offset: 1, key: 'k2', value: 'third', headers: [['who', user.username]] },
        { partition: 1, offset: 0, key: 'k1', value: 'ünïcode ✓', headers: [['who', user.username]] },
      ]);
    });
  }
});

describe('SASL refusals', { timeout: 120_000 }, () => {
  test('a wrong password rejects promptly, for every client and mechanism', {
    timeout: testTimeoutMs,
  }, async () => {
    const expected: Record<SaslMechanism, string> = {
      plain: 'Authentication failed: Invalid username or password',
      'scram-sha-256':
        'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256',
      'scram-sha-512':
        'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
    };
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const sasl = { mechanism, username: 'alice', password: 'not-her-password' };
      // A long request timeout and generous retries: the failure must not wait for either.
      const options = {
        bootstrap: saslBroker.bootstrap,
        requestTimeoutMs: 30_000,
        retry: { retries: 10, initialBackoffMs: 500 },
        sasl,
      };
      const admin = track(new Admin(options));
      const error = await refusedPromptly(
        () => admin.connect(),
        SaslAuthenticationError,
        ErrorCode.SASL_AUTHENTICATION_FAILED,
      );
      assert.equal(error.type, 'SASL_AUTHENTICATION_FAILED');
      assert.match(
        error.message,
        new RegExp(
          `^${mechanism.toUpperCase()} authentication as 'alice' to 127\\.0\\.0\\.1:${saslBroker.port} \\(node -1\\) failed: ${expected[mechanism]}$`,
        ),
      );
      const producer = track(new Producer(options));
      // send() without connect(): the first metadata lookup authenticates and fails.
      await refusedPromptly(
        () => producer.send({ topic: 'never', messages: [{ value: 'x' }] }),
        SaslAuthenticationError,
        ErrorCode.SASL_AUTHENTICATION_FAILED,
      );
      const consumer = track(new Consumer({ ...options, groupId: 'never' }));
      await refusedPromptly(
        () => consumer.connect(),
        SaslAuthenticationError,
        ErrorCode.SASL_AUTHENTICATION_FAILED,
      );
    }
    // An unknown user reads the same as a wrong password.
    const stranger = track(
      new Admin({
        bootstrap: saslBroker.bootstrap,
        sasl: { mechanism: 'plain', username: 'mallory', password: 'x' },
      }),
    );
    await refusedPromptly(
      () => stranger.connect(),
      SaslAuthenticationError,
      ErrorCode.SASL_AUTHENTICATION_FAILED,
    );
  });

  test('the broker still serves correct logins after refusing some', { timeout: testTimeoutMs }, async () => {
    const admin = track(
      new Admin({ bootstrap: saslBroker.bootstrap, sasl: { mechanism: 'scram-sha-512', ...bob } }),
    );
    await admin.connect();
    assert.ok(Array.isArray(await admin.listTopics()));
    await admin.close();
  });

  test('a disabled mechanism is an UnsupportedSaslMechanismError listing the enabled ones', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = track(
      new Admin({ bootstrap: limitedBroker.bootstrap, sasl: { mechanism: 'scram-sha-512', ...alice } }),
    );
    const error = await refusedPromptly(
      () => admin.connect(),
      UnsupportedSaslMechanismError,
      ErrorCode.UNSUPPORTED_SASL_MECHANISM,
    );
    assert.deepEqual(error.enabledMechanisms, ['PLAIN', 'SCRAM-SHA-256']);
    assert.equal(
      error.message,
      `broker 127.0.0.1:${limitedBroker.port} (node -1) does not enable SASL mechanism SCRAM-SHA-512; it enables: PLAIN, SCRAM-SHA-256`,
    );
    // The enabled ones work on the same broker.
    const ok = track(
      new Admin({ bootstrap: limitedBroker.bootstrap, sasl: { mechanism: 'scram-sha-256', ...alice } }),
    );
    await ok.connect();
    await ok.close();
  });

  test('SASL credentials against a PLAINTEXT listener: an IllegalSaslStateError that says so', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = track(
      new Admin({ bootstrap: plaintextBroker.bootstrap, sasl: { mechanism: 'plain', ...alice } }),
    );
    const error = await refusedPromptly(
      () => admin.connect(),
      IllegalSaslStateError,
      ErrorCode.ILLEGAL_SASL_STATE,
    );
    assert.equal(
      error.message,
      `broker 127.0.0.1:${plaintextBroker.port} (node -1) refused the SASL handshake: its listener does not use SASL (PLAINTEXT?)`,
    );
  });

  test('no credentials against a SASL listener: the broker hangs up, reported at once', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = track(new Admin({ bootstrap: saslBroker.bootstrap, requestTimeoutMs: 30_000 }));
    const started = Date.now();
    await assert.rejects(admin.connect(), (error: unknown) => {
      assert.ok(error instanceof ConnectionError, String(error));
      assert.match(error.message, /^no bootstrap broker is reachable: connection closed by the broker/);
      return true;
    });
    assert.ok(Date.now() - started < loginFailureBoundMs);
  });
});
