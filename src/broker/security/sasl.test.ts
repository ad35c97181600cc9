import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, test } from 'node:test';
import { UserCredentials } from './credentials.js';
import { SaslAuthenticationFailure } from './exchange.js';
import { PlainServerExchange } from './plain.js';
import { SaslSession, SaslState } from './sasl-session.js';
import { decodeSaslName, ScramServerExchange } from './scram.js';

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const METADATA = 3;

const users = [
  { name: 'alice', password: 'alice-secret' },
  { name: 'a,b=c', password: 'p:w' },
];
const credentials = await UserCredentials.fromUsers(users);

function failureOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof SaslAuthenticationFailure, `unexpected ${String(error)}`);
    return error.message;
  }
  assert.fail('expected the exchange to fail');
}

async function asyncFailureOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof SaslAuthenticationFailure, `unexpected ${String(error)}`);
    return error.message;
  }
  assert.fail('expected the exchange to fail');
}

/** A SCRAM client written from RFC 5802 section 3, independent of the server's code. */
function scramClient(hash: 'sha256' | 'sha512', user: string, password: string, clientNonce: string) {
  const bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${clientNonce}`;
  return {
    first: Buffer.from(`n,,${bare}`),
    final(serverFirst: string, nonceOverride?: string) {
      const fields = Object.fromEntries(serverFirst.split(',').map((f) => [f[0], f.slice(2)]));
      const salted = pbkdf2Sync(
        password,
        Buffer.from(fields.s!, 'base64'),
        Number(fields.i),
        hash === 'sha256' ? 32 : 64,
        hash,
      );
      const clientKey = createHmac(hash, salted).update('Client Key').digest();
      const storedKey = createHash(hash).update(clientKey).digest();
      const withoutProof = `c=biws,r=${nonceOverride ?? fields.r}`;
      const authMessage = `${bare},${serverFirst},${withoutProof}`;
      const signature = createHmac(hash, storedKey).update(authMessage).digest();
      const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]!));
      const serverKey = createHmac(hash, salted).update('Server Key').digest();
      return {
        message: Buffer.from(`${withoutProof},p=${proof.toString('base64')}`),
        serverSignature: `v=${createHmac(hash, serverKey).update(authMessage).digest('base64')}`,
      };
    },
  };
}

describe('SCRAM server exchange', () => {
  test('RFC 7677 SCRAM-SHA-256 example, byte for byte', async () => {
    const rfcCredentials = await UserCredentials.fromUsers([{ name: 'user', password: 'pencil' }], {
      scramMechanisms: ['SCRAM-SHA-256'],
      newSalt: () => Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
    });
    const exchange = new ScramServerExchange(
      'SCRAM-SHA-256',
      rfcCredentials,
      () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    );
    const serverFirst = exchange.evaluate(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    assert.equal(
      serverFirst.challenge.toString(),
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    );
    assert.equal(serverFirst.principal, undefined);
    const serverFinal = exchange.evaluate(
      Buffer.from(
        'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      ),
    );
    assert.equal(serverFinal.challenge.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    assert.equal(serverFinal.principal, 'user');
  });

  for (const [mechanism, hash] of [
    ['SCRAM-SHA-256', 'sha256'],
    ['SCRAM-SHA-512', 'sha512'],
  ] as const) {
    test(`${mechanism}: a correct password authenticates and the server proves it knows the key`, () => {
      const client = scramClient(hash, 'alice', 'alice-secret', 'clientnonce123');
      const exchange = new ScramServerExchange(mechanism, credentials);
      const serverFirst = exchange.evaluate(client.first).challenge.toString();
      assert.match(serverFirst, /^r=clientnonce123[A-Za-z0-9_-]{32},s=[A-Za-z0-9+/]+=*,i=4096$/);
      const final = client.final(serverFirst);
      const step = exchange.evaluate(final.message);
      assert.equal(step.challenge.toString(), final.serverSignature);
      assert.equal(step.principal, 'alice');
    });

    test(`${mechanism}: a wrong password fails with Kafka's message`, () => {
      const client = scramClient(hash, 'alice', 'wrong', 'n1');
      const exchange = new ScramServerExchange(mechanism, credentials);
      const serverFirst = exchange.evaluate(client.first).challenge.toString();
      assert.equal(
        failureOf(() => exchange.evaluate(client.final(serverFirst).message)),
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`,
      );
    });
  }

  test('an unknown user fails at the first message', () => {
    const exchange = new ScramServerExchange('SCRAM-SHA-256', credentials);
    assert.match(
      failureOf(() => exchange.evaluate(Buffer.from('n,,n=mallory,r=abc'))),
      /invalid credentials/,
    );
  });

  test('escaped names: "a,b=c" is sent as a=2Cb=3Dc', () => {
    const client = scramClient('sha256', 'a,b=c', 'p:w', 'xyz');
    const exchange = new ScramServerExchange('SCRAM-SHA-256', credentials);
    const serverFirst = exchange.evaluate(client.first).challenge.toString();
    assert.equal(exchange.evaluate(client.final(serverFirst).message).principal, 'a,b=c');
    assert.equal(decodeSaslName('a=2Cb=3Dc'), 'a,b=c');
    assert.equal(decodeSaslName('a=2Xb'), null);
  });

  test("librdkafka's doubled client nonce is accepted, as Kafka accepts it; another nonce is not", () => {
    const client = scramClient('sha256', 'alice', 'alice-secret', 'cn');
    const exchange = new ScramServerExchange('SCRAM-SHA-256', credentials);
    const serverFirst = exchange.evaluate(client.first).challenge.toString();
    const combined = serverFirst.split(',')[0]!.slice(2);
    assert.equal(exchange.evaluate(client.final(serverFirst, `cn${combined}`).message).principal, 'alice');

    const other = new ScramServerExchange('SCRAM-SHA-256', credentials);
    const otherFirst = other.evaluate(client.first).challenge.toString();
    assert.match(
      failureOf(() => other.evaluate(client.final(otherFirst, 'cnforged').message)),
      /invalid server nonce/,
    );
  });

  test('malformed or unsupported messages fail without throwing anything else', () => {
    const first = (text: string) =>
      failureOf(() => new ScramServerExchange('SCRAM-SHA-256', credentials).evaluate(Buffer.from(text)));
    assert.match(first('garbage'), /invalid SCRAM client-first-message/);
    assert.match(first('p=tls-unique,,n=alice,r=abc'), /channel binding is not supported/);
    assert.match(first('n,,m=ext,n=alice,r=abc'), /mandatory SCRAM extensions/);
    assert.match(first('n,a=bob,n=alice,r=abc'), /Client requested an authorization id that is different/);
    assert.match(first('n,,n=alice,r='), /invalid SCRAM client-first-message/);

    const exchange = new ScramServerExchange('SCRAM-SHA-256', credentials);
    exchange.evaluate(Buffer.from('n,,n=alice,r=abc'));
    assert.match(
      failureOf(() => exchange.evaluate(Buffer.from('c=biws,r=abc'))),
      /invalid SCRAM client-final-message/,
    );
    assert.match(
      failureOf(() => exchange.evaluate(Buffer.from('again'))),
      /already complete/,
    );
  });

  test('the client is told what Kafka tells it; the specific reason is only logged', () => {
    const exchange = new ScramServerExchange('SCRAM-SHA-512', credentials);
    try {
      exchange.evaluate(Buffer.from('garbage'));
      assert.fail('expected a failure');
    } catch (error) {
      assert.ok(error instanceof SaslAuthenticationFailure);
      assert.equal(error.message, 'Authentication failed: invalid SCRAM client-first-message');
      assert.equal(
        error.clientMessage,
        'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
      );
    }
  });

  test('a channel-binding attribute that does not match the gs2 header fails', () => {
    const client = scramClient('sha256', 'alice', 'alice-secret', 'cn');
    const exchange = new ScramServerExchange('SCRAM-SHA-256', credentials);
    const serverFirst = exchange.evaluate(client.first).challenge.toString();
    const tampered = client.final(serverFirst).message.toString().replace('c=biws', 'c=eSws');
    assert.match(
      failureOf(() => exchange.evaluate(Buffer.from(tampered))),
      /invalid channel binding/,
    );
  });
});

describe('PLAIN server exchange', () => {
  const plain = (text: string) => new PlainServerExchange(credentials).evaluate(Buffer.from(text));

  test('authzid NUL user NUL password; an empty or equal authzid', async () => {
    assert.equal((await plain('\0alice\0alice-secret')).principal, 'alice');
    assert.equal((await plain('alice\0alice\0alice-secret')).principal, 'alice');
    assert.equal((await plain('\0a,b=c\0p:w')).principal, 'a,b=c');
    assert.equal((await plain('\0alice\0alice-secret')).challenge.length, 0);
  });

  test("failures carry Kafka's messages", async () => {
    assert.equal(
      await asyncFailureOf(() => plain('\0alice\0nope')),
      'Authentication failed: Invalid username or password',
    );
    assert.equal(
      await asyncFailureOf(() => plain('\0bob\0alice-secret')),
      'Authentication failed: Invalid username or password',
    );
    assert.equal(
      await asyncFailureOf(() => plain('bob\0alice\0alice-secret')),
      'Authentication failed: Client requested an authorization id that is different from username',
    );
    assert.match(await asyncFailureOf(() => plain('alice-secret')), /expected 3 tokens, got 1/);
    assert.match(await asyncFailureOf(() => plain('\0alice')), /expected 3 tokens, got 2/);
    assert.match(await asyncFailureOf(() => plain('\0\0x')), /username not specified/);
    assert.match(await asyncFailureOf(() => plain('\0alice\0')), /password not specified/);
  });
});

describe('SaslSession', () => {
  const session = () => new SaslSession({ enabledMechanisms: ['PLAIN', 'SCRAM-SHA-512'], credentials });

  test('before the handshake only ApiVersions and SaslHandshake are served', () => {
    const s = session();
    assert.deepEqual(
      [API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE, METADATA].map((key) => s.admits(key)),
      [true, true, false, false],
    );
  });

  test('handshake v1 then SaslAuthenticate; afterwards everything is served', async () => {
    const s = session();
    assert.deepEqual(s.handshake('PLAIN', 1), { ok: true });
    assert.equal(s.expectsRawToken, false);
    assert.deepEqual(
      [API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE, METADATA].map((key) => s.admits(key)),
      [false, false, true, false],
    );
    const outcome = await s.authenticate(Buffer.from('\0alice\0alice-secret'));
    assert.deepEqual(outcome, { ok: true, challenge: Buffer.alloc(0), complete: true });
    assert.equal(s.state, SaslState.Authenticated);
    assert.equal(s.principal, 'alice');
    assert.equal(s.admits(METADATA), true);
    assert.deepEqual(s.handshake('PLAIN', 1), { ok: false, reason: 'illegal-state' });
    assert.deepEqual(await s.authenticate(Buffer.from('x')), {
      ok: false,
      reason: 'illegal-state',
      message: 'SaslAuthenticate request received after successful authentication',
    });
    assert.deepEqual(s.toJSON(), { state: 'authenticated', mechanism: 'PLAIN', principal: 'alice' });
  });

  test('handshake v0 switches to raw tokens until the exchange completes', async () => {
    const s = session();
    s.handshake('SCRAM-SHA-512', 0);
    assert.equal(s.expectsRawToken, true);
    assert.equal(s.admits(SASL_AUTHENTICATE), false);
    const client = scramClient('sha512', 'alice', 'alice-secret', 'raw');
    const first = await s.authenticate(client.first);
    assert.ok(first.ok && !first.complete);
    assert.equal(s.expectsRawToken, true);
    const final = await s.authenticate(client.final(first.challenge.toString()).message);
    assert.ok(final.ok && final.complete);
    assert.equal(s.expectsRawToken, false);
    assert.equal(s.principal, 'alice');
  });

  test('a disabled mechanism or a failed exchange leaves nothing served', async () => {
    const disabled = session();
    assert.deepEqual(disabled.handshake('SCRAM-SHA-256', 1), { ok: false, reason: 'unsupported-mechanism' });
    assert.equal(disabled.state, SaslState.Failed);
    assert.equal(disabled.admits(API_VERSIONS), false);

    const wrong = session();
    wrong.handshake('PLAIN', 1);
    assert.deepEqual(await wrong.authenticate(Buffer.from('\0alice\0bad')), {
      ok: false,
      reason: 'failed',
      message: 'Authentication failed: Invalid username or password',
      detail: 'Authentication failed: Invalid username or password',
    });
    const malformed = session();
    malformed.handshake('PLAIN', 1);
    assert.deepEqual(await malformed.authenticate(Buffer.from('no separators')), {
      ok: false,
      reason: 'failed',
      message:
        'Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN',
      detail: 'Authentication failed: Invalid SASL/PLAIN response: expected 3 tokens, got 1',
    });
    assert.equal(wrong.state, SaslState.Failed);
    assert.equal(wrong.admits(SASL_AUTHENTICATE), false);
    assert.equal(wrong.principal, null);
  });
});
