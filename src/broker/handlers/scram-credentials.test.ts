import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EmbeddedMetadataStore } from '../../metadata/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  AlterUserScramCredentialsApi,
  type AlterUserScramCredentialsRequest,
  DescribeUserScramCredentialsApi,
} from '../../protocol/generated/index.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { SaslSession, UserCredentials } from '../security/index.js';
import { allowOnly } from './authorizer-test-support.js';
import { advertisedVersions, callApi, type Dispatch, dispatcherOver } from './test-support.js';

const SHA256 = 1;
const SHA512 = 2;

function upsertion(name: string, mechanism: number, password: string, iterations = 4096) {
  const salt = randomBytes(16);
  const hash = mechanism === SHA512 ? 'sha512' : 'sha256';
  const saltedPassword = pbkdf2Sync(password, salt, iterations, mechanism === SHA512 ? 64 : 32, hash);
  return { name, mechanism, iterations, salt, saltedPassword };
}

describe('SCRAM credential APIs', () => {
  let dir: string;
  let store: EmbeddedMetadataStore;
  let dispatch: Dispatch;
  const logged: unknown[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-scram-'));
    store = await EmbeddedMetadataStore.open(dir);
    dispatch = dispatcherOver({
      metadata: store,
      config: {
        saslUsers: [{ name: 'alice', password: 'alice-secret' }],
        saslEnabledMechanisms: ['PLAIN', 'SCRAM-SHA-512'],
      },
      logger: { error: (fields: unknown) => logged.push(fields), info: () => {}, debug: () => {} },
    });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const alter = (request: Partial<AlterUserScramCredentialsRequest>) =>
    callApi(dispatch, AlterUserScramCredentialsApi, 0, { deletions: [], upsertions: [], ...request });
  const describeUsers = (names: string[] | null) =>
    callApi(dispatch, DescribeUserScramCredentialsApi, 0, {
      users: names === null ? null : names.map((name) => ({ name })),
    });

  async function login(mechanism: 'PLAIN' | 'SCRAM-SHA-256', user: string, password: string) {
    const credentials = await UserCredentials.fromUsers([], { dynamic: store });
    const session = new SaslSession({ enabledMechanisms: ['PLAIN', 'SCRAM-SHA-256'], credentials });
    session.handshake(mechanism, 1);
    if (mechanism === 'PLAIN') return (await session.authenticate(Buffer.from(`\0${user}\0${password}`))).ok;
    const clientNonce = 'abcdef';
    const first = await session.authenticate(Buffer.from(`n,,n=${user},r=${clientNonce}`));
    if (!first.ok) return false;
    const fields = Object.fromEntries(
      first.challenge
        .toString()
        .split(',')
        .map((f) => [f[0], f.slice(2)]),
    );
    const salted = pbkdf2Sync(password, Buffer.from(fields.s!, 'base64'), Number(fields.i), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${fields.r}`;
    const authMessage = `n=${user},r=${clientNonce},${first.challenge.toString()},${withoutProof}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]!));
    return (await session.authenticate(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`))).ok;
  }

  test('advertised at v0', async () => {
    assert.deepEqual(await advertisedVersions(dispatch, [50, 51]), [
      [50, 0, 0],
      [51, 0, 0],
    ]);
  });

  test('configured users are described with their enabled SCRAM mechanisms', async () => {
    assert.deepEqual(await describeUsers(null), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      results: [
        {
          user: 'alice',
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          credentialInfos: [{ mechanism: SHA512, iterations: 4096 }],
        },
      ],
    });
  });

  test("alterations follow Kafka's rules, user by user", async () => {
    const response = await alter({
      upsertions: [
        upsertion('bob', SHA256, 'bob-secret'),
        upsertion('carol', SHA512, 'carol-secret', 8192),
        upsertion('', SHA256, 'x'),
        upsertion('alice', SHA256, 'x'),
        upsertion('dave', 3, 'x'),
        upsertion('erin', SHA256, 'x'),
        upsertion('erin', SHA256, 'y'),
        upsertion('frank', SHA256, 'x', 1000),
        upsertion('grace', SHA256, 'x', 20_000),
        { ...upsertion('heidi', SHA512, 'x'), saltedPassword: Buffer.alloc(32) },
      ],
      deletions: [{ name: 'ivan', mechanism: SHA256 }],
    });
    assert.deepEqual(
      response.results.map((r) => [r.user, r.errorCode, r.errorMessage]),
      [
        ['ivan', ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'],
        ['bob', ErrorCode.NONE, null],
        ['carol', ErrorCode.NONE, null],
        ['', ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty'],
        [
          'alice',
          ErrorCode.UNACCEPTABLE_CREDENTIAL,
          'User alice is defined by the broker setting sasl.users; change it there',
        ],
        ['dave', ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism'],
        [
          'erin',
          ErrorCode.DUPLICATE_RESOURCE,
          'A user credential cannot be altered twice in the same request',
        ],
        ['frank', ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations'],
        ['grace', ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations'],
        ['heidi', ErrorCode.UNACCEPTABLE_CREDENTIAL, 'A SCRAM-SHA-512 salted password is 64 bytes'],
      ],
    );
    assert.deepEqual(
      store.listScramCredentials().map((c) => [c.user, c.mechanism, c.iterations]),
      [
        ['bob', 'SCRAM-SHA-256', 4096],
        ['carol', 'SCRAM-SHA-512', 8192],
      ],
    );
    const described = await describeUsers(['bob', 'zed', 'carol', 'carol']);
    assert.deepEqual(
      described.results.map((r) => [r.user, r.errorCode, r.errorMessage, r.credentialInfos]),
      [
        ['bob', ErrorCode.NONE, null, [{ mechanism: SHA256, iterations: 4096 }]],
        [
          'zed',
          ErrorCode.RESOURCE_NOT_FOUND,
          'Attempt to describe a user credential that does not exist',
          [],
        ],
        [
          'carol',
          ErrorCode.DUPLICATE_RESOURCE,
          'Cannot describe SCRAM credentials for the same user twice in a single request',
          [],
        ],
      ],
    );
  });

  test('a stored credential logs in with SCRAM and with PLAIN at once; a deleted one no longer does', async () => {
    assert.equal(await login('SCRAM-SHA-256', 'bob', 'bob-secret'), true);
    assert.equal(await login('SCRAM-SHA-256', 'bob', 'wrong'), false);
    assert.equal(await login('PLAIN', 'bob', 'bob-secret'), true);
    assert.equal(await login('PLAIN', 'bob', 'wrong'), false);
    assert.equal(await login('PLAIN', 'nobody', 'bob-secret'), false);

    const replaced = await alter({ upsertions: [upsertion('bob', SHA256, 'new-secret')] });
    assert.deepEqual(replaced.results, [{ user: 'bob', errorCode: ErrorCode.NONE, errorMessage: null }]);
    assert.equal(await login('SCRAM-SHA-256', 'bob', 'bob-secret'), false);
    assert.equal(await login('SCRAM-SHA-256', 'bob', 'new-secret'), true);

    const deleted = await alter({ deletions: [{ name: 'bob', mechanism: SHA256 }] });
    assert.deepEqual(deleted.results, [{ user: 'bob', errorCode: ErrorCode.NONE, errorMessage: null }]);
    assert.equal(await login('SCRAM-SHA-256', 'bob', 'new-secret'), false);
    assert.equal(await login('PLAIN', 'bob', 'new-secret'), false);
    assert.equal((await describeUsers(['bob'])).results[0]!.errorCode, ErrorCode.RESOURCE_NOT_FOUND);
    assert.deepEqual(logged, []);
  });
});

describe('SCRAM credential APIs with an authorizer', () => {
  const DESCRIBE_CLUSTER = [AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME] as const;
  const ALTER_CLUSTER = [AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME] as const;
  const CLUSTER_DENIED = 'Not authorized to perform cluster operations.';

  function broker() {
    const stored: unknown[] = [];
    const authorizer = allowOnly([]);
    const dispatch = dispatcherOver({
      authorizer,
      metadata: {
        listScramCredentials: () => [],
        getScramCredential: () => undefined,
        alterScramCredentials: async (upserts: unknown[]) => {
          stored.push(...upserts);
        },
      },
      config: {
        saslUsers: [{ name: 'alice', password: 'alice-secret' }],
        saslEnabledMechanisms: ['SCRAM-SHA-256'],
      },
      logger: { error: () => {} },
    });
    return { dispatch, authorizer, stored };
  }

  test('DescribeUserScramCredentials needs DESCRIBE on the cluster', async () => {
    const { dispatch, authorizer } = broker();
    const request = { users: [{ name: 'alice' }] };
    assert.deepEqual(await callApi(dispatch, DescribeUserScramCredentialsApi, 0, request), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: CLUSTER_DENIED,
      results: [
        {
          user: 'alice',
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: CLUSTER_DENIED,
          credentialInfos: [],
        },
      ],
    });
    assert.deepEqual(authorizer.asked, [DESCRIBE_CLUSTER]);
    authorizer.allowed.push(DESCRIBE_CLUSTER);
    const allowed = await callApi(dispatch, DescribeUserScramCredentialsApi, 0, request);
    assert.deepEqual(
      [allowed.errorCode, allowed.results.map((r) => [r.user, r.errorCode, r.credentialInfos])],
      [ErrorCode.NONE, [['alice', ErrorCode.NONE, [{ mechanism: SHA256, iterations: 4096 }]]]],
    );
  });

  test('AlterUserScramCredentials needs ALTER on the cluster; refused, nothing is stored', async () => {
    const { dispatch, authorizer, stored } = broker();
    const request = {
      deletions: [{ name: 'zoe', mechanism: SHA256 }],
      upsertions: [upsertion('bob', SHA256, 'bob-secret')],
    };
    assert.deepEqual(await callApi(dispatch, AlterUserScramCredentialsApi, 0, request), {
      throttleTimeMs: 0,
      // Every user named, in name order, as Kafka lists them.
      results: [
        { user: 'bob', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: CLUSTER_DENIED },
        { user: 'zoe', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: CLUSTER_DENIED },
      ],
    });
    assert.deepEqual(authorizer.asked, [ALTER_CLUSTER]);
    assert.deepEqual(stored, []);
    authorizer.allowed.push(ALTER_CLUSTER);
    const allowed = await callApi(dispatch, AlterUserScramCredentialsApi, 0, {
      deletions: [],
      upsertions: request.upsertions,
    });
    assert.deepEqual(allowed.results, [{ user: 'bob', errorCode: ErrorCode.NONE, errorMessage: null }]);
    assert.equal(stored.length, 1);
  });
});
