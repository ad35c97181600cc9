// SCRAM users managed from the Sluice Admin (KIP-554) against a SASL_PLAINTEXT Sluice broker process: users
// created at run time log in (with their SCRAM mechanism, and with PLAIN) and move exact content, are described
// with their iteration counts next to the configured account, lose their login when deleted and keep it across
// a restart; refusals arrive as typed errors carrying the broker's message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  ConfigError,
  Consumer,
  KafkaAggregateError,
  KafkaClientError,
  Producer,
  SaslAuthenticationError,
  type SaslOptions,
} from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { clientTracker, received, take } from '../helpers/sluice-clients.js';

const testTimeoutMs = 20_000;
const asAdmin: SaslOptions = { mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' };
const bobScram: SaslOptions = { mechanism: 'scram-sha-256', username: 'bob', password: 'bob-secret' };
const carolScram: SaslOptions = { mechanism: 'scram-sha-512', username: 'carol', password: 'carol-secret' };
const carolPlain: SaslOptions = { ...carolScram, mechanism: 'plain' };
/** The configured account: every SCRAM mechanism the broker enables, at the broker's 4096 iterations. */
const adminCredentials = {
  user: 'admin',
  credentials: [
    { mechanism: 'SCRAM-SHA-256', iterations: 4096 },
    { mechanism: 'SCRAM-SHA-512', iterations: 4096 },
  ],
};

let broker: Broker;
const { track, closeAll } = clientTracker();

before(async () => {
  broker = await startBroker({
    args: ['--listen', 'SASL_PLAINTEXT://127.0.0.1:0', '--set', 'sasl.users=admin:admin-secret'],
  });
});

after(async () => {
  await closeAll();
  await disposeAllBrokers();
});

async function connectedAdmin(sasl: SaslOptions = asAdmin): Promise<Admin> {
  // No retries: a refused login must surface at once, and nothing here is expected to be retriable.
  const admin = track(new Admin({ bootstrap: broker.bootstrap, sasl, retry: { retries: 0 } }));
  await admin.connect();
  return admin;
}

/** Asserts that logging in with `sasl` is refused as a wrong password is. */
async function loginRefused(sasl: SaslOptions): Promise<void> {
  const admin = track(new Admin({ bootstrap: broker.bootstrap, sasl, retry: { retries: 0 } }));
  await assert.rejects(admin.connect(), (error: unknown) => {
    assert.ok(error instanceof SaslAuthenticationError, String(error));
    assert.equal(error.code, ErrorCode.SASL_AUTHENTICATION_FAILED);
    return true;
  });
}

/** Asserts a single (not aggregate) typed error with this code and exact message. */
function typedError(code: number, type: string, message: string) {
  return (error: unknown) => {
    assert.ok(error instanceof KafkaClientError, String(error));
    assert.ok(!(error instanceof KafkaAggregateError), `expected one error, got ${error.message}`);
    assert.deepEqual([error.code, error.type, error.message, error.retriable], [code, type, message, false]);
    return true;
  };
}

describe('SCRAM users through the Admin', { timeout: 90_000 }, () => {
  test('users created at run time log in with SCRAM and PLAIN and move exact content', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = await connectedAdmin();
    await admin.alterUserScramCredentials({
      upsertions: [
        { user: 'bob', mechanism: 'SCRAM-SHA-256', password: 'bob-secret', iterations: 8192 },
        { user: 'carol', mechanism: 'SCRAM-SHA-512', password: 'carol-secret' },
      ],
    });
    await admin.createTopics([{ topic: 'scram-users', numPartitions: 2 }]);

    const producer = track(new Producer({ bootstrap: broker.bootstrap, lingerMs: 1, sasl: bobScram }));
    await producer.connect();
    const results = await producer.sendBatch([
      {
        topic: 'scram-users',
        messages: [
          { key: 'k0', value: 'written by bob', partition: 0 },
          { key: 'k1', value: 'ünïcode ✓', partition: 1, headers: { from: 'bob' } },
          { key: 'k2', value: 'third', partition: 0 },
        ],
      },
    ]);
    assert.deepEqual(
      results.map((r) => [r.partition, r.offset]),
      [
        [0, 0],
        [1, 0],
        [0, 1],
      ],
    );

    const consumer = track(new Consumer({ bootstrap: broker.bootstrap, sasl: carolPlain }));
    await consumer.connect();
    consumer.assign([
      { topic: 'scram-users', partition: 0, offset: 0 },
      { topic: 'scram-users', partition: 1, offset: 0 },
    ]);
    assert.deepEqual(received(await take(consumer, 3, 10_000)), [
      { partition: 0, offset: 0, key: 'k0', value: 'written by bob', headers: [] },
      { partition: 0, offset: 1, key: 'k2', value: 'third', headers: [] },
      { partition: 1, offset: 0, key: 'k1', value: 'ünïcode ✓', headers: [['from', 'bob']] },
    ]);

    // carol with her own SCRAM mechanism, through the Admin.
    const asCarol = await connectedAdmin(carolScram);
    assert.deepEqual(await asCarol.listTopics(), ['scram-users']);
  });

  test('describe lists the configured account and the created users with their iterations', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = await connectedAdmin();
    assert.deepEqual(await admin.describeUserScramCredentials(), [
      adminCredentials,
      { user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 8192 }] },
      { user: 'carol', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    ]);
    assert.deepEqual(await admin.describeUserScramCredentials(['carol', 'bob']), [
      { user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 8192 }] },
      { user: 'carol', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    ]);
  });

  test('a wrong password, and a mechanism the user has no credential for, are refused', {
    timeout: testTimeoutMs,
  }, async () => {
    await loginRefused({ ...bobScram, password: 'not-bobs' });
    await loginRefused({ ...carolPlain, password: 'not-carols' });
    await loginRefused({ ...bobScram, mechanism: 'scram-sha-512' });
  });

  test('refusals are typed errors with the broker message, one per failed user', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = await connectedAdmin();
    await assert.rejects(
      admin.alterUserScramCredentials({
        upsertions: [{ user: 'admin', mechanism: 'SCRAM-SHA-256', password: 'taken-over' }],
      }),
      typedError(
        ErrorCode.UNACCEPTABLE_CREDENTIAL,
        'UNACCEPTABLE_CREDENTIAL',
        "user 'admin': User admin is defined by the broker setting sasl.users; change it there",
      ),
    );
    await assert.rejects(
      admin.alterUserScramCredentials({
        upsertions: [{ user: 'dave', mechanism: 'SCRAM-SHA-512', password: 'x', iterations: 100 }],
      }),
      typedError(
        ErrorCode.UNACCEPTABLE_CREDENTIAL,
        'UNACCEPTABLE_CREDENTIAL',
        "user 'dave': Too few iterations",
      ),
    );
    await assert.rejects(admin.describeUserScramCredentials(['nobody']), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      return typedError(
        ErrorCode.RESOURCE_NOT_FOUND,
        'RESOURCE_NOT_FOUND',
        "user 'nobody': Attempt to describe a user credential that does not exist",
      )(error);
    });
    await assert.rejects(
      admin.describeUserScramCredentials(['bob', 'bob']),
      typedError(
        ErrorCode.DUPLICATE_RESOURCE,
        'DUPLICATE_RESOURCE',
        "user 'bob': Cannot describe SCRAM credentials for the same user twice in a single request",
      ),
    );
    await assert.rejects(
      admin.alterUserScramCredentials({ deletions: [{ user: 'carol', mechanism: 'SCRAM-SHA-256' }] }),
      typedError(
        ErrorCode.RESOURCE_NOT_FOUND,
        'RESOURCE_NOT_FOUND',
        "user 'carol': Attempt to delete a user credential that does not exist",
      ),
    );

    // Users are independent: erin's credential is stored although admin's and nobody's changes are refused.
    await assert.rejects(
      admin.alterUserScramCredentials({
        upsertions: [
          { user: 'erin', mechanism: 'SCRAM-SHA-512', password: 'erin-secret' },
          { user: 'admin', mechanism: 'SCRAM-SHA-512', password: 'x' },
        ],
        deletions: [{ user: 'nobody', mechanism: 'SCRAM-SHA-256' }],
      }),
      (error: unknown) => {
        assert.ok(error instanceof KafkaAggregateError, String(error));
        assert.deepEqual(error.errors.map((e) => [e.type, e.message]).sort(), [
          ['RESOURCE_NOT_FOUND', "user 'nobody': Attempt to delete a user credential that does not exist"],
          [
            'UNACCEPTABLE_CREDENTIAL',
            "user 'admin': User admin is defined by the broker setting sasl.users; change it there",
          ],
        ]);
        return true;
      },
    );
    assert.deepEqual(await admin.describeUserScramCredentials(['erin']), [
      { user: 'erin', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    ]);
    await assert.rejects(
      admin.describeUserScramCredentials(['ghost', 'bob', 'phantom']),
      (error: unknown) => {
        assert.ok(error instanceof KafkaAggregateError, String(error));
        assert.deepEqual(error.errors.map((e) => [e.code, e.message.split(':')[0]]).sort(), [
          [ErrorCode.RESOURCE_NOT_FOUND, "user 'ghost'"],
          [ErrorCode.RESOURCE_NOT_FOUND, "user 'phantom'"],
        ]);
        return true;
      },
    );
  });

  test("deleting bob's credential makes his next login fail", { timeout: testTimeoutMs }, async () => {
    const asBob = await connectedAdmin(bobScram);
    const admin = await connectedAdmin();
    await admin.alterUserScramCredentials({
      deletions: [
        { user: 'bob', mechanism: 'SCRAM-SHA-256' },
        { user: 'erin', mechanism: 'SCRAM-SHA-512' },
      ],
    });
    await loginRefused(bobScram);
    await loginRefused({ ...bobScram, mechanism: 'plain' });
    // A connection that logged in before the deletion stays usable, as in Kafka.
    assert.deepEqual(await asBob.listTopics(), ['scram-users']);
    assert.deepEqual(
      (await admin.describeUserScramCredentials()).map((u) => u.user),
      ['admin', 'carol'],
    );
  });

  test('after a restart carol still logs in and bob still cannot', { timeout: testTimeoutMs }, async () => {
    await broker.restart();
    const asCarol = await connectedAdmin(carolScram);
    assert.deepEqual(await asCarol.describeUserScramCredentials(), [
      adminCredentials,
      { user: 'carol', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    ]);
    await connectedAdmin(carolPlain);
    await loginRefused(bobScram);
  });
});
