// SASL_PLAINTEXT against a real Sluice process, through every client CI has: each one logs in with PLAIN and
// SCRAM as it would against Kafka, produces and reads back exact content, and fails clearly (its own
// authentication error, in bounded time) with a wrong password, after which the broker still serves everyone
// else. The clients cover both of Kafka's SASL flows: SaslHandshake v1 with tokens in SaslAuthenticate requests
// (kafkajs, librdkafka, @platformatic/kafka, sarama at V1_0_0_0) and SaslHandshake v0 with raw size-prefixed
// tokens (kafka-python, sarama below V1_0_0_0). Raw protocol cases pin what Kafka answers byte for byte.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Admin, Kafka, SASLOptions } from 'kafkajs';
import { ApiVersionsApi } from '../../src/protocol/generated/api-versions.js';
import { MetadataApi, type MetadataRequest } from '../../src/protocol/generated/metadata.js';
import { SaslAuthenticateApi } from '../../src/protocol/generated/sasl-authenticate.js';
import { SaslHandshakeApi } from '../../src/protocol/generated/sasl-handshake.js';
import { type Broker, disposeAllBrokers, makeTempDir, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { goMissingReason } from '../helpers/sarama.js';
import { plainToken, RawSaslConnection } from '../helpers/sasl-wire.js';
import {
  buildSaramaSecurityProgram,
  confluentLoginSteps,
  confluentRoundTrip,
  elapsedMs,
  kafkajsRoundTrip,
  kafkaPythonConnectTimed,
  kafkaPythonRoundTrip,
  kcatListTimed,
  kcatRoundTrip,
  kcatSecurity,
  platformaticRefused,
  platformaticRoundTrip,
  saramaRoundTrip,
  saramaSteps,
} from '../helpers/secure-clients.js';

const testTimeoutMs = 40_000;
/** How long a client may take to report a failed login: Kafka refuses at once, so this is generous. */
const loginFailureBoundMs = 8_000;

const alice = { username: 'alice', password: 'alice-secret' };
const bob = { username: 'bob', password: 'bob-secret' };
const enabledMechanisms = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
const saslBrokerArgs = [
  '--listen',
  'SASL_PLAINTEXT://127.0.0.1:0',
  '--set',
  `sasl.users=${alice.username}:${alice.password},${bob.username}:${bob.password}`,
];

// Kafka's SaslAuthenticate error messages (SaslServerAuthenticator): a wrong PLAIN password has PLAIN's own
// message; every other failure (any SCRAM failure, a malformed token) gets the generic one, so that it does not
// tell a wrong password from an unknown user.
const plainFailureMessage = 'Authentication failed: Invalid username or password';
const genericFailureMessage = (mechanism: string) =>
  `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;

/** Kafka's sasl.server.max.receive.size default: the largest frame read before authentication completes. */
const saslServerMaxReceiveBytes = 524_288;
const API_SASL_HANDSHAKE = 17;
const API_SASL_AUTHENTICATE = 36;
const UNSUPPORTED_SASL_MECHANISM = 33;
const ILLEGAL_SASL_STATE = 34;
const SASL_AUTHENTICATION_FAILED = 58;

const saramaSkipReason = await goMissingReason();

const metadataAllTopics: MetadataRequest = {
  topics: null,
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
};

describe('SASL interop', { timeout: 300_000 }, () => {
  let saslBroker: Broker;
  let plainBroker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let nodeId: number;
  let buildDir: string | undefined;
  let saramaProgram: Promise<string> | undefined;

  const createTopic = async (topic: string, numPartitions: number) => {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions }] }), true, `created ${topic}`);
  };

  before(async () => {
    if (saramaSkipReason === undefined) {
      // Built in the background while the other clients run; the sarama cases wait for it.
      buildDir = await makeTempDir('sluice-sarama-sasl-');
      saramaProgram = buildSaramaSecurityProgram(buildDir);
    }
    [saslBroker, plainBroker] = await Promise.all([startBroker({ args: saslBrokerArgs }), startBroker()]);
    kafka = createKafka(saslBroker.bootstrap, { sasl: { mechanism: 'plain', ...alice } });
    admin = kafka.admin();
    await admin.connect();
    nodeId = (await admin.describeCluster()).brokers[0]!.nodeId;
  });

  after(async () => {
    await admin?.disconnect().catch(() => {});
    await saramaProgram?.catch(() => {});
    await disposeAllBrokers();
    if (buildDir !== undefined) await rm(buildDir, { recursive: true, force: true });
  });

  describe('raw protocol', () => {
    test('ApiVersions answers before authentication and advertises SaslHandshake 0-1 and SaslAuthenticate 0-2 on both listeners', {
      timeout: testTimeoutMs,
    }, async () => {
      for (const broker of [saslBroker, plainBroker]) {
        const connection = await RawSaslConnection.open(broker.port);
        try {
          for (const version of [0, 3]) {
            const response = await connection.call(ApiVersionsApi, version, {
              clientSoftwareName: 'sasl-test',
              clientSoftwareVersion: '1',
            });
            assert.equal(response.errorCode, 0);
            const ranges = new Map(response.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
            assert.deepEqual(
              [ranges.get(API_SASL_HANDSHAKE), ranges.get(API_SASL_AUTHENTICATE)],
              [
                [0, 1],
                [0, 2],
              ],
              `ApiVersions v${version} on ${broker === saslBroker ? 'SASL_PLAINTEXT' : 'PLAINTEXT'}`,
            );
          }
        } finally {
          connection.close();
        }
      }
    });

    test('a Metadata request before authentication gets no answer: the broker closes the connection', {
      timeout: testTimeoutMs,
    }, async () => {
      for (const version of [1, 12]) {
        const connection = await RawSaslConnection.open(saslBroker.port);
        try {
          const outcome = await connection.send(MetadataApi, version, metadataAllTopics);
          assert.equal(outcome.kind, 'closed', `Metadata v${version} before authentication`);
        } finally {
          connection.close();
        }
      }
      // Also after a successful handshake, before the token: the handshake alone does not authenticate.
      const connection = await RawSaslConnection.open(saslBroker.port);
      try {
        assert.deepEqual(await connection.call(SaslHandshakeApi, 1, { mechanism: 'PLAIN' }), {
          errorCode: 0,
          mechanisms: enabledMechanisms,
        });
        assert.equal((await connection.send(MetadataApi, 1, metadataAllTopics)).kind, 'closed');
      } finally {
        connection.close();
      }
    });

    test('SaslHandshake for GSSAPI (v0 and v1) answers 33 UNSUPPORTED_SASL_MECHANISM with the enabled list, then closes', {
      timeout: testTimeoutMs,
    }, async () => {
      for (const version of [0, 1]) {
        const connection = await RawSaslConnection.open(saslBroker.port);
        try {
          assert.deepEqual(await connection.call(SaslHandshakeApi, version, { mechanism: 'GSSAPI' }), {
            errorCode: UNSUPPORTED_SASL_MECHANISM,
            mechanisms: enabledMechanisms,
          });
          assert.equal((await connection.waitClosed()).length, 0, 'nothing after the handshake response');
        } finally {
          connection.close();
        }
      }
    });

    test('SaslHandshake on a PLAINTEXT listener answers 34 ILLEGAL_SASL_STATE and the connection keeps serving', {
      timeout: testTimeoutMs,
    }, async () => {
      const connection = await RawSaslConnection.open(plainBroker.port);
      try {
        assert.deepEqual(await connection.call(SaslHandshakeApi, 1, { mechanism: 'PLAIN' }), {
          errorCode: ILLEGAL_SASL_STATE,
          mechanisms: [],
        });
        const metadata = await connection.call(MetadataApi, 1, metadataAllTopics);
        assert.deepEqual(
          metadata.brokers.map((b) => [b.host, b.port]),
          [['127.0.0.1', plainBroker.port]],
        );
      } finally {
        connection.close();
      }
    });

    test('handshake v1 + SaslAuthenticate v0-v2 with PLAIN: exact success response, then requests are served and a second handshake gets 34', {
      timeout: testTimeoutMs,
    }, async () => {
      for (const version of [0, 1, 2]) {
        const connection = await RawSaslConnection.open(saslBroker.port);
        try {
          assert.deepEqual(await connection.call(SaslHandshakeApi, 1, { mechanism: 'PLAIN' }), {
            errorCode: 0,
            mechanisms: enabledMechanisms,
          });
          // kafka-python and librdkafka send the user name as the authorization id too; Kafka accepts that.
          const token =
            version === 1
              ? plainToken(bob.username, bob.password, bob.username)
              : plainToken(alice.username, alice.password);
          assert.deepEqual(await connection.call(SaslAuthenticateApi, version, { authBytes: token }), {
            errorCode: 0,
            errorMessage: null,
            authBytes: Buffer.alloc(0),
            sessionLifetimeMs: 0n,
          });
          const metadata = await connection.call(MetadataApi, 12, metadataAllTopics);
          assert.deepEqual(
            metadata.brokers.map((b) => [b.nodeId, b.host, b.port]),
            [[nodeId, '127.0.0.1', saslBroker.port]],
          );
          assert.deepEqual(await connection.call(SaslHandshakeApi, 1, { mechanism: 'PLAIN' }), {
            errorCode: ILLEGAL_SASL_STATE,
            mechanisms: [],
          });
        } finally {
          connection.close();
        }
      }
    });

    test("PLAIN failures over SaslAuthenticate answer 58 with Kafka's message, then close", {
      timeout: testTimeoutMs,
    }, async () => {
      const failures: Array<[string, Buffer]> = [
        ['wrong password', plainToken(alice.username, 'not-the-secret')],
        ['unknown user', plainToken('mallory', alice.password)],
        ["another user's password", plainToken(alice.username, bob.password)],
      ];
      for (const [label, token] of failures) {
        const connection = await RawSaslConnection.open(saslBroker.port);
        try {
          await connection.call(SaslHandshakeApi, 1, { mechanism: 'PLAIN' });
          assert.deepEqual(
            await connection.call(SaslAuthenticateApi, 2, { authBytes: token }),
            {
              errorCode: SASL_AUTHENTICATION_FAILED,
              errorMessage: plainFailureMessage,
              authBytes: Buffer.alloc(0),
              sessionLifetimeMs: 0n,
            },
            label,
          );
          assert.equal((await connection.waitClosed()).length, 0, `${label}: closed after the error`);
        } finally {
          connection.close();
        }
      }
    });

    test('malformed or mismatched tokens get 58 with the message Kafka sends for each, then a close', {
      timeout: testTimeoutMs,
    }, async () => {
      // Kafka passes a mechanism's own message through only for SaslAuthenticationException (wrong PLAIN
      // password, an authorization id other than the user); every SaslException (a malformed token, an empty
      // user or password, a bad SCRAM nonce) gets one generic message that reveals nothing about the account.
      const cases: Array<{ label: string; mechanism: string; tokens: string[]; message: string }> = [
        {
          label: 'PLAIN token without NUL separators',
          mechanism: 'PLAIN',
          tokens: ['garbage'],
          message: genericFailureMessage('PLAIN'),
        },
        {
          label: 'PLAIN with an empty user name',
          mechanism: 'PLAIN',
          tokens: ['\0\0alice-secret'],
          message: genericFailureMessage('PLAIN'),
        },
        {
          label: 'PLAIN with an empty password',
          mechanism: 'PLAIN',
          tokens: ['\0alice\0'],
          message: genericFailureMessage('PLAIN'),
        },
        {
          label: 'PLAIN with authorization id bob for alice',
          mechanism: 'PLAIN',
          tokens: ['bob\0alice\0alice-secret'],
          message:
            'Authentication failed: Client requested an authorization id that is different from username',
        },
        {
          label: 'SCRAM client-first that does not parse',
          mechanism: 'SCRAM-SHA-256',
          tokens: ['xyz'],
          message: genericFailureMessage('SCRAM-SHA-256'),
        },
        {
          label: 'SCRAM client-first asking for channel binding',
          mechanism: 'SCRAM-SHA-256',
          tokens: ['p=tls-unique,,n=alice,r=abcdefgh'],
          message: genericFailureMessage('SCRAM-SHA-256'),
        },
        {
          label: 'SCRAM with authorization id bob for alice',
          mechanism: 'SCRAM-SHA-512',
          tokens: ['n,a=bob,n=alice,r=abcdefgh'],
          message:
            'Authentication failed: Client requested an authorization id that is different from username',
        },
        {
          label: 'SCRAM client-final with a nonce the server did not send',
          mechanism: 'SCRAM-SHA-512',
          tokens: ['n,,n=alice,r=abcdefgh', 'c=biws,r=abcdefghNOTTHESERVERS,p=AAAA'],
          message: genericFailureMessage('SCRAM-SHA-512'),
        },
      ];
      const seen: Array<[string, number, string | null]> = [];
      for (const { label, mechanism, tokens } of cases) {
        const connection = await RawSaslConnection.open(saslBroker.port);
        try {
          await connection.call(SaslHandshakeApi, 1, { mechanism });
          let response = await connection.call(SaslAuthenticateApi, 1, {
            authBytes: Buffer.from(tokens[0]!),
          });
          for (const token of tokens.slice(1)) {
            assert.equal(response.errorCode, 0, `${label}: first token accepted`);
            response = await connection.call(SaslAuthenticateApi, 1, { authBytes: Buffer.from(token) });
          }
          seen.push([label, response.errorCode, response.errorMessage]);
          await connection.waitClosed();
        } finally {
          connection.close();
        }
      }
      assert.deepEqual(
        seen,
        cases.map(({ label, message }) => [label, SASL_AUTHENTICATION_FAILED, message]),
      );
    });

    test('handshake v0 + raw PLAIN token: an empty size-prefixed reply, then requests are served; a bad password just closes', {
      timeout: testTimeoutMs,
    }, async () => {
      const good = await RawSaslConnection.open(saslBroker.port);
      try {
        assert.deepEqual(await good.call(SaslHandshakeApi, 0, { mechanism: 'PLAIN' }), {
          errorCode: 0,
          mechanisms: enabledMechanisms,
        });
        good.sendRawToken(plainToken(alice.username, alice.password));
        assert.deepEqual(await good.readFrame(), { kind: 'frame', frame: Buffer.alloc(0) });
        // Metadata v0, as the clients of the v0 flow send it: an empty topic list means every topic.
        const metadata = await good.call(MetadataApi, 0, { ...metadataAllTopics, topics: [] });
        assert.deepEqual(
          metadata.brokers.map((b) => [b.nodeId, b.host, b.port]),
          [[nodeId, '127.0.0.1', saslBroker.port]],
        );
      } finally {
        good.close();
      }
      const bad = await RawSaslConnection.open(saslBroker.port);
      try {
        await bad.call(SaslHandshakeApi, 0, { mechanism: 'PLAIN' });
        bad.sendRawToken(plainToken(alice.username, 'not-the-secret'));
        assert.equal((await bad.waitClosed()).length, 0, 'no bytes before the close');
      } finally {
        bad.close();
      }
    });

    test('before authentication a frame over 512 KiB is refused at its size prefix; after it, large requests pass', {
      timeout: testTimeoutMs,
    }, async () => {
      // Kafka reads everything before and during the initial authentication with a receive limit of
      // sasl.server.max.receive.size (default 524288) and closes the connection on a larger size prefix, so an
      // unauthenticated peer cannot make the broker buffer up to socket.request.max.bytes per connection.
      const oversizePrefix = Buffer.alloc(4);
      oversizePrefix.writeInt32BE(saslServerMaxReceiveBytes + 1, 0);
      const stages: Array<[string, (connection: RawSaslConnection) => Promise<void>]> = [
        ['before the handshake', async () => {}],
        [
          'after SaslHandshake v1',
          async (connection) => {
            await connection.call(SaslHandshakeApi, 1, { mechanism: 'PLAIN' });
          },
        ],
        [
          'after SaslHandshake v0 (raw token expected)',
          async (connection) => {
            await connection.call(SaslHandshakeApi, 0, { mechanism: 'PLAIN' });
          },
        ],
      ];
      for (const [stage, prepare] of stages) {
        const connection = await RawSaslConnection.open(saslBroker.port);
        try {
          await prepare(connection);
          connection.write(oversizePrefix);
          connection.write(Buffer.alloc(64 * 1024));
          await assert.doesNotReject(connection.waitClosed(3_000), `${stage}: connection closed`);
        } finally {
          connection.close();
        }
      }
      const producer = kafka.producer();
      await producer.connect();
      try {
        const topic = 'sasl-large-after-auth';
        await createTopic(topic, 1);
        const [result] = await producer.send({
          topic,
          acks: -1,
          // Above the pre-login cap, below message.max.bytes (1 MiB + 12).
          messages: [{ key: 'big', value: 'x'.repeat(saslServerMaxReceiveBytes + 256 * 1024) }],
        });
        assert.deepEqual([result?.errorCode, result?.baseOffset], [0, '0']);
      } finally {
        await producer.disconnect();
      }
    });

    test('SaslAuthenticate without a handshake closes the connection', {
      timeout: testTimeoutMs,
    }, async () => {
      const connection = await RawSaslConnection.open(saslBroker.port);
      try {
        const outcome = await connection.send(SaslAuthenticateApi, 1, {
          authBytes: plainToken(alice.username, alice.password),
        });
        assert.equal(outcome.kind, 'closed');
      } finally {
        connection.close();
      }
    });
  });

  describe('kafkajs 2.2.4', () => {
    const cases: Array<{ mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; user: typeof alice }> = [
      { mechanism: 'plain', user: alice },
      { mechanism: 'scram-sha-256', user: bob },
      { mechanism: 'scram-sha-512', user: alice },
    ];
    for (const { mechanism, user } of cases) {
      test(`${mechanism}: admin creates a topic, produces keyed records with headers, a group reads them back exactly`, {
        timeout: testTimeoutMs,
      }, async () => {
        // Narrowed per mechanism: kafkajs types PLAIN and SCRAM options as separate union members.
        const sasl: SASLOptions = mechanism === 'plain' ? { mechanism, ...user } : { mechanism, ...user };
        await kafkajsRoundTrip(createKafka(saslBroker.bootstrap, { sasl }), {
          topic: `sasl-kafkajs-${mechanism}`,
          valuePrefix: mechanism,
          headers: (i) => [
            ['n', String(i)],
            ['user', user.username],
          ],
        });
      });
    }
    test('a wrong password or unknown user fails connect() with KafkaJSSASLAuthenticationError at once; the broker keeps serving', {
      timeout: testTimeoutMs,
    }, async () => {
      const failures: Array<{ sasl: SASLOptions; message: string }> = [
        {
          sasl: { mechanism: 'plain', username: alice.username, password: 'wrong' },
          message: `SASL PLAIN authentication failed: ${plainFailureMessage}`,
        },
        {
          sasl: { mechanism: 'scram-sha-256', username: alice.username, password: 'wrong' },
          message: `SASL SCRAM SHA256 authentication failed: ${genericFailureMessage('SCRAM-SHA-256')}`,
        },
        {
          sasl: { mechanism: 'scram-sha-512', username: 'mallory', password: alice.password },
          message: `SASL SCRAM SHA512 authentication failed: ${genericFailureMessage('SCRAM-SHA-512')}`,
        },
      ];
      for (const { sasl, message } of failures) {
        const failing = createKafka(saslBroker.bootstrap, { sasl }).admin();
        const { ms } = await elapsedMs(() =>
          assert.rejects(failing.connect(), (err: Error) => {
            assert.equal(err.name, 'KafkaJSSASLAuthenticationError');
            assert.equal(err.message, message);
            return true;
          }),
        );
        assert.ok(ms < loginFailureBoundMs, `${sasl.mechanism} failure reported after ${ms} ms`);
        await failing.disconnect();
      }
      // A client without SASL on the SASL listener: ApiVersions is answered, so connect() succeeds, but the
      // first Metadata request makes the broker close the connection.
      const anonymous = createKafka(saslBroker.bootstrap, { retry: { retries: 0 } }).admin();
      await anonymous.connect();
      const { ms } = await elapsedMs(() =>
        assert.rejects(anonymous.listTopics(), (err: Error) => {
          assert.equal(err.name, 'KafkaJSConnectionClosedError');
          return true;
        }),
      );
      assert.ok(ms < loginFailureBoundMs, `unauthenticated Metadata failed after ${ms} ms`);
      await anonymous.disconnect();

      const topics = await admin.listTopics();
      assert.ok(topics.includes('sasl-kafkajs-plain'), `still served: ${JSON.stringify(topics)}`);
      assert.equal(saslBroker.isRunning, true);
    });
  });

  describe('kcat (librdkafka 2.0.2)', () => {
    const auth = (mechanism: string, user: typeof alice, password = user.password) =>
      kcatSecurity({ protocol: 'SASL_PLAINTEXT', sasl: { mechanism, username: user.username, password } });

    for (const [mechanism, user] of [
      ['PLAIN', bob],
      ['SCRAM-SHA-256', alice],
      ['SCRAM-SHA-512', bob],
    ] as const) {
      test(`${mechanism}: -L lists the broker and topic, -P writes keys, -C -e reads them back exactly`, {
        timeout: testTimeoutMs,
      }, async () => {
        const topic = `sasl-kcat-${mechanism.toLowerCase()}`;
        await createTopic(topic, 2);
        await kcatRoundTrip({
          bootstrap: saslBroker.bootstrap,
          port: saslBroker.port,
          nodeId,
          security: auth(mechanism, user),
          topic,
          valuePrefix: mechanism,
        });
      });
    }

    test("a wrong password makes kcat exit non-zero with the broker's authentication error, in bounded time", {
      timeout: testTimeoutMs,
    }, async () => {
      for (const [mechanism, message] of [
        ['PLAIN', plainFailureMessage],
        ['SCRAM-SHA-256', genericFailureMessage('SCRAM-SHA-256')],
      ] as const) {
        const { result, ms } = await kcatListTimed(saslBroker.bootstrap, 3, auth(mechanism, alice, 'wrong'));
        assert.notEqual(
          result.code,
          0,
          `kcat -L with a wrong ${mechanism} password exited 0:\n${result.stdout}`,
        );
        assert.match(result.stderr, /SASL authentication error/, result.stderr);
        assert.ok(
          result.stderr.includes(message),
          `${mechanism}: the broker's message in:\n${result.stderr}`,
        );
        assert.ok(ms < 15_000, `kcat gave up after ${ms} ms`);
      }
    });
  });

  describe('confluent-kafka (python, librdkafka)', () => {
    const security = (mechanism: string, user: typeof alice, password: string) => ({
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanisms': mechanism,
      'sasl.username': user.username,
      'sasl.password': password,
    });

    for (const [mechanism, user] of [
      ['SCRAM-SHA-512', alice],
      ['PLAIN', bob],
    ] as const) {
      test(`${mechanism}: produces keyed messages with headers and reads them back by assignment`, {
        timeout: testTimeoutMs,
      }, async () => {
        const topic = `sasl-confluent-${mechanism.toLowerCase()}`;
        await createTopic(topic, 2);
        await confluentRoundTrip({
          bootstrap: saslBroker.bootstrap,
          topic,
          security: security(mechanism, user, user.password),
          valuePrefix: mechanism,
          groupId: 'sasl-confluent',
        });
      });
    }

    test("SCRAM-SHA-512 with a wrong password: the error callback reports _AUTHENTICATION with the broker's message", {
      timeout: testTimeoutMs,
    }, async () => {
      const {
        steps: [reported, listed],
        stdout,
      } = await confluentLoginSteps(saslBroker.bootstrap, security('SCRAM-SHA-512', bob, 'wrong'));
      assert.match(
        String(reported?.message),
        new RegExp(
          `SASL authentication error: ${genericFailureMessage('SCRAM-SHA-512')} \\(after \\d+ms in state AUTH_REQ\\)`,
        ),
        stdout,
      );
      assert.ok(
        Number(reported?.seconds) < loginFailureBoundMs / 1000,
        `reported after ${reported?.seconds} s`,
      );
      assert.deepEqual(listed, { step: 'list-topics', error: '_TRANSPORT' });
    });
  });

  describe('kafka-python 2.0.2 (SaslHandshake v0, raw tokens)', () => {
    const security = (mechanism: string, user: typeof alice, password: string) => ({
      security_protocol: 'SASL_PLAINTEXT',
      sasl_mechanism: mechanism,
      sasl_plain_username: user.username,
      sasl_plain_password: password,
    });

    for (const [mechanism, user] of [
      ['PLAIN', alice],
      ['SCRAM-SHA-256', bob],
    ] as const) {
      test(`${mechanism}: produces keyed messages with headers and reads them back exactly`, {
        timeout: testTimeoutMs,
      }, async () => {
        const topic = `sasl-kafka-python-${mechanism.toLowerCase()}`;
        await createTopic(topic, 2);
        await kafkaPythonRoundTrip({
          bootstrap: saslBroker.bootstrap,
          topic,
          security: security(mechanism, user, user.password),
          valuePrefix: mechanism,
        });
      });
    }

    test('a wrong password (PLAIN and SCRAM-SHA-256) fails the producer with NoBrokersAvailable, as against Kafka', {
      timeout: testTimeoutMs,
    }, async () => {
      for (const mechanism of ['PLAIN', 'SCRAM-SHA-256']) {
        const { steps, ms } = await kafkaPythonConnectTimed(
          saslBroker.bootstrap,
          security(mechanism, alice, 'wrong'),
        );
        assert.deepEqual(steps, [{ step: 'producer', error: 'NoBrokersAvailable' }], mechanism);
        assert.ok(ms < 15_000, `${mechanism}: failed after ${ms} ms`);
      }
    });
  });

  describe('sarama 1.22.1', { skip: saramaSkipReason ?? false }, () => {
    const cases = [
      { mechanism: 'PLAIN', version: '1.0.0', user: alice, flow: 'SaslHandshake v1 + SaslAuthenticate v0' },
      { mechanism: 'PLAIN', version: '0.10.0.0', user: bob, flow: 'SaslHandshake v0 + raw token' },
      {
        mechanism: 'SCRAM-SHA-256',
        version: '1.0.0',
        user: bob,
        flow: 'SaslHandshake v1 + SaslAuthenticate v0',
      },
      {
        mechanism: 'SCRAM-SHA-512',
        version: '1.0.0',
        user: alice,
        flow: 'SaslHandshake v1 + SaslAuthenticate v0',
      },
    ];
    for (const { mechanism, version, user, flow } of cases) {
      test(`${mechanism} at V${version} (${flow}): SyncProducer and partition consumer, exact content`, {
        timeout: testTimeoutMs,
      }, async () => {
        const topic = `sasl-sarama-${mechanism.toLowerCase()}-${version}`;
        await createTopic(topic, 1);
        await saramaRoundTrip(saramaProgram, {
          bootstrap: saslBroker.bootstrap,
          topic,
          valuePrefix: `sarama-${mechanism}`,
          args: [
            '-version',
            version,
            '-mechanism',
            mechanism,
            '-user',
            user.username,
            '-password',
            user.password,
          ],
          // Record headers need Config.Version 0.11.
          withoutHeaders: version !== '1.0.0',
        });
      });
    }

    test('a wrong password: SaslAuthenticate error 58 with handshake v1, a closed connection (EOF) with v0', {
      timeout: testTimeoutMs,
    }, async () => {
      const login = (mechanism: string, version: string, password: string) => [
        'metadata',
        '-bootstrap',
        saslBroker.bootstrap,
        '-version',
        version,
        '-mechanism',
        mechanism,
        '-user',
        alice.username,
        '-password',
        password,
      ];
      const sarama = (args: string[], expectSuccess: boolean) =>
        saramaSteps(saramaProgram, args, expectSuccess);
      assert.deepEqual(await sarama(login('PLAIN', '1.0.0', 'wrong'), false), [
        { step: 'metadata', err: SASL_AUTHENTICATION_FAILED },
      ]);
      assert.deepEqual(await sarama(login('PLAIN', '0.10.0.0', 'wrong'), false), [
        { step: 'metadata', err: -1, msg: 'EOF' },
      ]);
      assert.deepEqual(await sarama(login('SCRAM-SHA-512', '1.0.0', 'wrong'), false), [
        { step: 'metadata', err: SASL_AUTHENTICATION_FAILED },
      ]);
      assert.deepEqual(await sarama(login('SCRAM-SHA-256', '1.0.0', alice.password), true), [
        { step: 'metadata', err: 0, brokers: 1 },
      ]);
    });
  });

  describe('@platformatic/kafka 2.12.1', () => {
    for (const [mechanism, user] of [
      ['PLAIN', alice],
      ['SCRAM-SHA-256', bob],
      ['SCRAM-SHA-512', alice],
    ] as const) {
      test(`${mechanism}: admin creates a topic, produce with acks=-1, a group reads everything back exactly`, {
        timeout: testTimeoutMs,
      }, async () => {
        await platformaticRoundTrip({
          bootstrap: saslBroker.bootstrap,
          security: { sasl: { mechanism, username: user.username, password: user.password } },
          topic: `sasl-platformatic-${mechanism.toLowerCase()}`,
          valuePrefix: mechanism,
          groupId: `sasl-platformatic-${mechanism}`,
          clientIdPrefix: 'sasl-test',
        });
      });
    }

    test('a wrong password rejects the admin call with an authentication error in bounded time', {
      timeout: testTimeoutMs,
    }, async () => {
      for (const mechanism of ['PLAIN', 'SCRAM-SHA-512'] as const) {
        await platformaticRefused({
          label: mechanism,
          bootstrap: saslBroker.bootstrap,
          security: { sasl: { mechanism, username: alice.username, password: 'wrong' } },
          retries: 1,
          clientId: 'sasl-test-bad-login',
          reason: /SASL authentication failed/,
          boundMs: loginFailureBoundMs,
        });
      }
    });
  });
});
