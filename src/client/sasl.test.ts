import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import {
  ApiVersionsApi,
  type ApiVersionsResponse,
  type RequestHeader,
  ResponseHeaderCodec,
  readRequestHeader,
  responseHeaderVersion,
  SaslAuthenticateApi,
  SaslHandshakeApi,
} from '../protocol/generated/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { Admin } from './admin.js';
import { Cluster } from './cluster.js';
import { type ApiDescriptor, BrokerConnection } from './connection.js';
import {
  ConfigError,
  errorFromCode,
  IllegalSaslStateError,
  KafkaClientError,
  SaslAuthenticationError,
  UnsupportedSaslMechanismError,
  UnsupportedVersionError,
} from './errors.js';
import {
  createSaslExchange,
  escapeSaslName,
  PlainExchange,
  type SaslOptions,
  ScramExchange,
  type ScramHash,
  validateSaslOptions,
} from './sasl.js';

// RFC 7677 section 3: SCRAM-SHA-256 for user "user", password "pencil".
const RFC7677 = {
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const text = (buffer: Buffer | null) => buffer?.toString('utf8') ?? null;

function isAuthFailure(pattern: RegExp): (error: unknown) => true {
  return (error: unknown) => {
    assert.ok(
      error instanceof SaslAuthenticationError,
      `expected SaslAuthenticationError, got ${String(error)}`,
    );
    assert.equal(error.code, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(error.type, 'SASL_AUTHENTICATION_FAILED');
    assert.equal(error.retriable, false);
    assert.match(error.message, pattern);
    return true;
  };
}

async function rfcExchangeAfterClientFinal(): Promise<ScramExchange> {
  const exchange = new ScramExchange('sha256', 'user', 'pencil', RFC7677.clientNonce);
  await exchange.start();
  await exchange.respond(Buffer.from(RFC7677.serverFirst));
  return exchange;
}

describe('SCRAM-SHA-256 (RFC 7677 test vector)', () => {
  test('client-first, client-final and the server signature are exactly the RFC messages', async () => {
    const exchange = new ScramExchange('sha256', 'user', 'pencil', RFC7677.clientNonce);
    assert.equal(exchange.mechanism, 'SCRAM-SHA-256');
    assert.equal(text(await exchange.start()), RFC7677.clientFirst);
    assert.equal(text(await exchange.respond(Buffer.from(RFC7677.serverFirst))), RFC7677.clientFinal);
    assert.equal(await exchange.respond(Buffer.from(RFC7677.serverFinal)), null);
  });

  test('a tampered server signature fails the exchange', async () => {
    const exchange = await rfcExchangeAfterClientFinal();
    // Last signature byte changed ('4G' -> '4H' in base64).
    await assert.rejects(
      exchange.respond(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95H4=')),
      isAuthFailure(/^SCRAM-SHA-256: the server's signature is wrong$/),
    );
  });

  test('a missing or truncated server signature fails too', async () => {
    await assert.rejects(
      (await rfcExchangeAfterClientFinal()).respond(Buffer.from('x=1')),
      isAuthFailure(/signature is wrong/),
    );
    await assert.rejects(
      (await rfcExchangeAfterClientFinal()).respond(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn')),
      isAuthFailure(/signature is wrong/),
    );
  });

  test("the server's e= error is reported", async () => {
    await assert.rejects(
      (await rfcExchangeAfterClientFinal()).respond(Buffer.from('e=invalid-proof')),
      isAuthFailure(/^SCRAM-SHA-256: the server answered 'invalid-proof'$/),
    );
  });

  test('no message after the exchange is complete', async () => {
    const exchange = await rfcExchangeAfterClientFinal();
    await exchange.respond(Buffer.from(RFC7677.serverFinal));
    await assert.rejects(exchange.respond(Buffer.from(RFC7677.serverFinal)), isAuthFailure(/in state done/));
  });
});

describe('SCRAM server-first checks', () => {
  const answer = async (serverFirst: string) => {
    const exchange = new ScramExchange('sha256', 'user', 'pencil', RFC7677.clientNonce);
    await exchange.start();
    return exchange.respond(Buffer.from(serverFirst));
  };
  const salt = 's=W22ZaJ0SNY7soEsUEjb6gQ==';

  test('the server nonce must extend the client nonce', async () => {
    await assert.rejects(answer(`r=someoneElse,${salt},i=4096`), isAuthFailure(/does not extend/));
    await assert.rejects(answer(`r=${RFC7677.clientNonce},${salt},i=4096`), isAuthFailure(/does not extend/));
  });

  test('iteration counts outside 4096..1000000 are refused before any hashing', async () => {
    await assert.rejects(
      answer(`r=${RFC7677.clientNonce}x,${salt},i=4095`),
      isAuthFailure(/iteration count 4095 is outside 4096\.\.1000000/),
    );
    await assert.rejects(answer(`r=${RFC7677.clientNonce}x,${salt},i=1000001`), isAuthFailure(/outside/));
    await assert.rejects(answer(`r=${RFC7677.clientNonce}x,${salt},i=4e3`), isAuthFailure(/outside/));
  });

  test('missing attributes, an empty salt, mandatory extensions and garbage are refused', async () => {
    await assert.rejects(answer(`r=${RFC7677.clientNonce}x,i=4096`), isAuthFailure(/lacks r, s or i/));
    await assert.rejects(answer(`r=${RFC7677.clientNonce}x,s=,i=4096`), isAuthFailure(/empty salt/));
    await assert.rejects(
      answer(`m=ext,r=${RFC7677.clientNonce}x,${salt},i=4096`),
      isAuthFailure(/unsupported extension/),
    );
    await assert.rejects(answer('not scram at all'), isAuthFailure(/malformed server-first message/));
  });

  test('extensions after the mandatory attributes are ignored', async () => {
    const reply = await answer(`${RFC7677.serverFirst},tokenauth=false`);
    assert.match(text(reply)!, /^c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj\)hNlF\$k0,p=[^,]+$/);
  });

  test('a server message before start() is refused', async () => {
    const exchange = new ScramExchange('sha256', 'user', 'pencil');
    await assert.rejects(
      exchange.respond(Buffer.from(RFC7677.serverFirst)),
      isAuthFailure(/in state initial/),
    );
  });
});

describe('saslname escaping and nonces', () => {
  test("'=' becomes =3D and ',' becomes =2C, in that order", () => {
    assert.equal(escapeSaslName('a=b,c'), 'a=3Db=2Cc');
    assert.equal(escapeSaslName('=2C'), '=3D2C');
    assert.equal(escapeSaslName('plain'), 'plain');
  });

  test('client-first carries the escaped name', async () => {
    const exchange = new ScramExchange('sha512', 'ops,team=1', 'pw', 'abc');
    assert.equal(exchange.mechanism, 'SCRAM-SHA-512');
    assert.equal(text(await exchange.start()), 'n,,n=ops=2Cteam=3D1,r=abc');
  });

  test('default client nonces are random, printable and free of commas', async () => {
    const nonces = await Promise.all(
      [1, 2, 3].map(async () => text(await new ScramExchange('sha256', 'u', 'p').start())!.slice(9)),
    );
    assert.equal(new Set(nonces).size, 3);
    for (const nonce of nonces) assert.match(nonce, /^[\x21-\x2b\x2d-\x7e]{32}$/);
  });
});

describe('PLAIN (RFC 4616)', () => {
  test('one message: empty authzid NUL username NUL password; the server answer ends the exchange', async () => {
    const exchange = new PlainExchange('alice', 'alice-secret');
    assert.equal(exchange.mechanism, 'PLAIN');
    assert.deepEqual(await exchange.start(), Buffer.from('\0alice\0alice-secret'));
    assert.equal(await exchange.respond(), null);
  });

  test('names and passwords travel as UTF-8', async () => {
    assert.deepEqual(
      await new PlainExchange('zoë', 'pässword').start(),
      Buffer.concat([
        Buffer.from([0]),
        Buffer.from('zoë', 'utf8'),
        Buffer.from([0]),
        Buffer.from('pässword'),
      ]),
    );
  });
});

describe('validateSaslOptions', () => {
  const invalid = (options: unknown, message: string) =>
    assert.throws(
      () => validateSaslOptions(options as SaslOptions),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.code === ErrorCode.INVALID_CONFIG &&
        error.message === `sasl: ${message}`,
    );

  test('accepts the three mechanisms, in our spelling or Kafka’s', () => {
    assert.deepEqual(validateSaslOptions({ mechanism: 'plain', username: 'a', password: '' }), {
      mechanism: 'plain',
      username: 'a',
      password: '',
    });
    assert.equal(
      validateSaslOptions({ mechanism: 'SCRAM-SHA-512' as 'scram-sha-512', username: 'a', password: 'b' })
        .mechanism,
      'scram-sha-512',
    );
  });

  test('unknown mechanisms, empty usernames and bad types are refused with a clear message', () => {
    invalid(
      { mechanism: 'gssapi', username: 'a', password: 'b' },
      "unknown mechanism 'gssapi'; expected one of plain, scram-sha-256, scram-sha-512",
    );
    invalid(
      { username: 'a', password: 'b' },
      "unknown mechanism 'undefined'; expected one of plain, scram-sha-256, scram-sha-512",
    );
    invalid({ mechanism: 'plain', username: '', password: 'b' }, 'username must be a non-empty string');
    invalid({ mechanism: 'plain', username: 'a' }, 'password must be a string');
    invalid(null, 'expected { mechanism, username, password }');
    invalid(
      { mechanism: 'plain', username: 'a\0b', password: 'c' },
      'PLAIN credentials cannot contain the NUL character',
    );
  });

  test('clients check the option at construction', () => {
    assert.throws(
      () =>
        new Admin({
          bootstrap: '127.0.0.1:9',
          sasl: { mechanism: 'md5' as 'plain', username: 'a', password: 'b' },
        }),
      (error: unknown) => error instanceof ConfigError && /unknown mechanism 'md5'/.test(error.message),
    );
    assert.throws(
      () =>
        new Cluster({ bootstrap: '127.0.0.1:9', sasl: { mechanism: 'plain', username: '', password: 'b' } }),
      (error: unknown) =>
        error instanceof ConfigError && /username must be a non-empty string/.test(error.message),
    );
  });

  test('createSaslExchange picks the mechanism', () => {
    assert.equal(createSaslExchange({ mechanism: 'plain', username: 'a', password: 'b' }).mechanism, 'PLAIN');
    assert.equal(
      createSaslExchange({ mechanism: 'scram-sha-256', username: 'a', password: 'b' }).mechanism,
      'SCRAM-SHA-256',
    );
    assert.equal(
      createSaslExchange({ mechanism: 'scram-sha-512', username: 'a', password: 'b' }).mechanism,
      'SCRAM-SHA-512',
    );
  });
});

describe('SASL error codes', () => {
  test('errorFromCode gives the typed, non-retriable SASL errors', () => {
    const failed = errorFromCode(ErrorCode.SASL_AUTHENTICATION_FAILED, 'bad password');
    assert.ok(failed instanceof SaslAuthenticationError);
    assert.deepEqual(
      [failed.code, failed.type, failed.retriable, failed.message],
      [58, 'SASL_AUTHENTICATION_FAILED', false, 'bad password'],
    );
    const unsupported = errorFromCode(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.ok(unsupported instanceof UnsupportedSaslMechanismError);
    assert.deepEqual(
      [unsupported.code, unsupported.type, unsupported.retriable],
      [33, 'UNSUPPORTED_SASL_MECHANISM', false],
    );
    assert.deepEqual(unsupported.enabledMechanisms, []);
    const illegal = errorFromCode(ErrorCode.ILLEGAL_SASL_STATE);
    assert.ok(illegal instanceof IllegalSaslStateError);
    assert.deepEqual([illegal.code, illegal.type, illegal.retriable], [34, 'ILLEGAL_SASL_STATE', false]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// BrokerConnection against a fake SASL broker: ApiVersions, SaslHandshake, SaslAuthenticate, then a test API.

/** A reference SCRAM server, written from RFC 5802's server side (it checks the proof through StoredKey). */
class ScramServer {
  private clientFirstBare = '';
  private serverFirst = '';
  private readonly salt = Buffer.from('sluice-test-salt');
  private readonly iterations = 4096;

  constructor(
    private readonly hash: ScramHash,
    private readonly users: ReadonlyMap<string, string>,
    private readonly tamperSignature: boolean,
  ) {}

  /** The server's reply, or an error message for SASL_AUTHENTICATION_FAILED. */
  step(round: number, token: string): { reply: string } | { error: string } {
    if (round === 0) {
      this.clientFirstBare = token.slice('n,,'.length);
      const nonce = /,r=([^,]+)$/.exec(this.clientFirstBare)?.[1] ?? '';
      this.serverFirst = `r=${nonce}server-part,s=${this.salt.toString('base64')},i=${this.iterations}`;
      return { reply: this.serverFirst };
    }
    const name =
      /^n=([^,]*),/.exec(this.clientFirstBare)?.[1]?.replace(/=2C/g, ',').replace(/=3D/g, '=') ?? '';
    const password = this.users.get(name);
    const proofAt = token.lastIndexOf(',p=');
    const withoutProof = token.slice(0, proofAt);
    const proof = Buffer.from(token.slice(proofAt + 3), 'base64');
    if (password === undefined) return { error: 'unknown user' };
    const keyBytes = this.hash === 'sha256' ? 32 : 64;
    const salted = pbkdf2Sync(password, this.salt, this.iterations, keyBytes, this.hash);
    const hmac = (key: Buffer, data: string) => createHmac(this.hash, key).update(data).digest();
    const storedKey = createHash(this.hash).update(hmac(salted, 'Client Key')).digest();
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]!));
    const derived = createHash(this.hash).update(clientKey).digest();
    if (derived.length !== storedKey.length || !timingSafeEqual(derived, storedKey)) {
      return { error: `invalid credentials with SASL mechanism SCRAM-SHA-${this.hash.slice(3)}` };
    }
    const signature = hmac(hmac(salted, 'Server Key'), authMessage);
    if (this.tamperSignature) signature[0]! ^= 1;
    return { reply: `v=${signature.toString('base64')}` };
  }
}

// The test API rides on key 12 (Heartbeat): an int32 the broker echoes.
const EchoApi: ApiDescriptor<{ value: number }, { value: number }> = {
  key: 12,
  name: 'Echo',
  minVersion: 0,
  maxVersion: 0,
  encodeRequest: (w, request) => w.writeInt32(request.value),
  decodeResponse: (r) => ({ value: r.readInt32() }),
};

interface FakeSaslBrokerOptions {
  mechanisms?: string[];
  users?: Record<string, string>;
  /** Leave SaslAuthenticate out of ApiVersions (a broker older than Kafka 1.0). */
  omitSaslAuthenticate?: boolean;
  /** A listener without SASL: SaslHandshake answers ILLEGAL_SASL_STATE. */
  plaintext?: boolean;
  tamperSignature?: boolean;
}

class FakeSaslBroker {
  readonly server = net.createServer((socket) => this.serve(socket));
  /** Every request received, as '<api name> v<version>', in order, over all connections. */
  readonly requests: string[] = [];
  connectionCount = 0;
  port = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly mechanisms: string[];
  private readonly users: Map<string, string>;

  constructor(private readonly options: FakeSaslBrokerOptions = {}) {
    this.mechanisms = options.mechanisms ?? ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
    this.users = new Map(Object.entries(options.users ?? { alice: 'alice-secret' }));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: net.Socket): void {
    this.connectionCount++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const session = { mechanism: '', round: 0, authenticated: false, scram: null as ScramServer | null };
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + frame.length);
        const r = new Reader(frame);
        const header = readRequestHeader(r);
        this.handle(socket, header, r, session);
      }
    });
  }

  private handle(
    socket: net.Socket,
    header: RequestHeader,
    r: Reader,
    session: { mechanism: string; round: number; authenticated: boolean; scram: ScramServer | null },
  ): void {
    const key = header.requestApiKey;
    const version = header.requestApiVersion;
    const name =
      key === ApiVersionsApi.key
        ? 'ApiVersions'
        : key === SaslHandshakeApi.key
          ? 'SaslHandshake'
          : key === SaslAuthenticateApi.key
            ? 'SaslAuthenticate'
            : 'Echo';
    this.requests.push(`${name} v${version}`);
    const w = new Writer();
    ResponseHeaderCodec.encode(
      w,
      { correlationId: header.correlationId },
      responseHeaderVersion(key, version),
    );
    if (key === ApiVersionsApi.key) {
      const apiKeys = [
        { apiKey: ApiVersionsApi.key, minVersion: 0, maxVersion: 3 },
        { apiKey: SaslHandshakeApi.key, minVersion: 0, maxVersion: 1 },
        { apiKey: EchoApi.key, minVersion: 0, maxVersion: 0 },
      ];
      if (!this.options.omitSaslAuthenticate)
        apiKeys.push({ apiKey: SaslAuthenticateApi.key, minVersion: 0, maxVersion: 2 });
      const response: ApiVersionsResponse = {
        errorCode: ErrorCode.NONE,
        apiKeys,
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1n,
        finalizedFeatures: [],
        zkMigrationReady: false,
      };
      ApiVersionsApi.encodeResponse(w, response, version);
    } else if (key === SaslHandshakeApi.key) {
      const { mechanism } = SaslHandshakeApi.decodeRequest(r, version);
      const errorCode = this.options.plaintext
        ? ErrorCode.ILLEGAL_SASL_STATE
        : this.mechanisms.includes(mechanism)
          ? ErrorCode.NONE
          : ErrorCode.UNSUPPORTED_SASL_MECHANISM;
      session.mechanism = mechanism;
      if (mechanism.startsWith('SCRAM-')) {
        const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
        session.scram = new ScramServer(hash, this.users, this.options.tamperSignature ?? false);
      }
      SaslHandshakeApi.encodeResponse(w, { errorCode, mechanisms: this.mechanisms }, version);
      this.reply(socket, w, errorCode !== ErrorCode.NONE);
      return;
    } else if (key === SaslAuthenticateApi.key) {
      const token = SaslAuthenticateApi.decodeRequest(r, version).authBytes.toString('utf8');
      let outcome: { reply: string } | { error: string };
      if (session.scram !== null) {
        outcome = session.scram.step(session.round++, token);
      } else {
        const [, user = '', password] = token.split('\0');
        outcome =
          this.users.get(user) === password ? { reply: '' } : { error: 'Invalid username or password' };
      }
      const failed = 'error' in outcome;
      if (!failed && (session.scram === null || session.round === 2)) session.authenticated = true;
      SaslAuthenticateApi.encodeResponse(
        w,
        'error' in outcome
          ? {
              errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
              errorMessage: `Authentication failed: ${outcome.error}`,
              authBytes: Buffer.alloc(0),
              sessionLifetimeMs: 0n,
            }
          : {
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              authBytes: Buffer.from(outcome.reply),
              sessionLifetimeMs: 0n,
            },
        version,
      );
      this.reply(socket, w, failed);
      return;
    } else {
      // As Kafka: any other request before authentication completes closes the connection.
      if (!session.authenticated) {
        socket.destroy();
        return;
      }
      w.writeInt32(r.readInt32());
    }
    this.reply(socket, w, false);
  }

  private reply(socket: net.Socket, w: Writer, thenClose: boolean): void {
    const payload = w.toBuffer();
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length, 0);
    socket.write(Buffer.concat([size, payload]));
    if (thenClose) socket.end();
  }
}

const fakeBrokers: FakeSaslBroker[] = [];
const openConnections: BrokerConnection[] = [];

async function fakeBroker(options: FakeSaslBrokerOptions = {}): Promise<FakeSaslBroker> {
  const broker = await new FakeSaslBroker(options).start();
  fakeBrokers.push(broker);
  return broker;
}

function connectionTo(broker: FakeSaslBroker, sasl: SaslOptions): BrokerConnection {
  const connection = new BrokerConnection({
    host: '127.0.0.1',
    port: broker.port,
    nodeId: 1,
    clientId: 'sasl-test',
    connectTimeoutMs: 2_000,
    requestTimeoutMs: 5_000,
    sasl,
  });
  openConnections.push(connection);
  return connection;
}

after(async () => {
  await Promise.all(openConnections.map((c) => c.close()));
  await Promise.all(fakeBrokers.map((b) => b.stop()));
});

describe('BrokerConnection with SASL', () => {
  for (const [mechanism, rounds] of [
    ['plain', 1],
    ['scram-sha-256', 2],
    ['scram-sha-512', 2],
  ] as const) {
    test(`${mechanism}: authenticates right after ApiVersions, before the first request`, async () => {
      const broker = await fakeBroker();
      const connection = connectionTo(broker, { mechanism, username: 'alice', password: 'alice-secret' });
      await connection.connect();
      assert.equal(connection.isConnected, true);
      assert.deepEqual(await connection.send(EchoApi, { value: 42 }), { value: 42 });
      assert.deepEqual(broker.requests, [
        'ApiVersions v3',
        'SaslHandshake v1',
        ...Array.from({ length: rounds }, () => 'SaslAuthenticate v2'),
        'Echo v0',
      ]);
    });
  }

  test('a wrong password is a SaslAuthenticationError with the broker’s message; no connection results', async () => {
    const broker = await fakeBroker();
    const connection = connectionTo(broker, { mechanism: 'plain', username: 'alice', password: 'wrong' });
    await assert.rejects(
      connection.connect(),
      isAuthFailure(
        /^PLAIN authentication as 'alice' to 127\.0\.0\.1:\d+ \(node 1\) failed: Authentication failed: Invalid username or password$/,
      ),
    );
    assert.equal(connection.isConnected, false);
  });

  test('a wrong SCRAM password is refused by the server', async () => {
    const broker = await fakeBroker();
    const connection = connectionTo(broker, {
      mechanism: 'scram-sha-512',
      username: 'alice',
      password: 'wrong',
    });
    await assert.rejects(
      connection.connect(),
      isAuthFailure(
        /SCRAM-SHA-512 authentication as 'alice' .* invalid credentials with SASL mechanism SCRAM-SHA-512$/,
      ),
    );
  });

  test('a server that cannot prove it knows the password is refused', async () => {
    const broker = await fakeBroker({ tamperSignature: true });
    const connection = connectionTo(broker, {
      mechanism: 'scram-sha-256',
      username: 'alice',
      password: 'alice-secret',
    });
    await assert.rejects(
      connection.connect(),
      isAuthFailure(
        /^authentication as 'alice' to 127\.0\.0\.1:\d+ \(node 1\) failed: SCRAM-SHA-256: the server's signature is wrong$/,
      ),
    );
    assert.equal(connection.isConnected, false);
    assert.deepEqual(broker.requests.slice(-1), ['SaslAuthenticate v2']);
  });

  test('a disabled mechanism is an UnsupportedSaslMechanismError listing the enabled ones', async () => {
    const broker = await fakeBroker({ mechanisms: ['PLAIN', 'SCRAM-SHA-256'] });
    const connection = connectionTo(broker, {
      mechanism: 'scram-sha-512',
      username: 'alice',
      password: 'alice-secret',
    });
    await assert.rejects(connection.connect(), (error: unknown) => {
      assert.ok(error instanceof UnsupportedSaslMechanismError, String(error));
      assert.equal(error.code, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
      assert.equal(error.retriable, false);
      assert.deepEqual(error.enabledMechanisms, ['PLAIN', 'SCRAM-SHA-256']);
      assert.match(
        error.message,
        /^broker 127\.0\.0\.1:\d+ \(node 1\) does not enable SASL mechanism SCRAM-SHA-512; it enables: PLAIN, SCRAM-SHA-256$/,
      );
      return true;
    });
  });

  test('a listener without SASL is an IllegalSaslStateError that says so', async () => {
    const broker = await fakeBroker({ plaintext: true });
    const connection = connectionTo(broker, {
      mechanism: 'plain',
      username: 'alice',
      password: 'alice-secret',
    });
    await assert.rejects(connection.connect(), (error: unknown) => {
      assert.ok(error instanceof IllegalSaslStateError, String(error));
      assert.equal(error.code, ErrorCode.ILLEGAL_SASL_STATE);
      assert.equal(error.retriable, false);
      assert.match(
        error.message,
        /refused the SASL handshake: its listener does not use SASL \(PLAINTEXT\?\)$/,
      );
      return true;
    });
  });

  test('a broker without SaslAuthenticate is refused before any SASL request', async () => {
    const broker = await fakeBroker({ omitSaslAuthenticate: true });
    const connection = connectionTo(broker, {
      mechanism: 'plain',
      username: 'alice',
      password: 'alice-secret',
    });
    await assert.rejects(connection.connect(), (error: unknown) => {
      assert.ok(error instanceof UnsupportedVersionError, String(error));
      assert.match(error.message, /does not support SaslAuthenticate v0\+, which SASL authentication needs/);
      return true;
    });
    assert.deepEqual(broker.requests, ['ApiVersions v3']);
  });
});

describe('clients with SASL', () => {
  test('Admin.connect fails promptly on a wrong password and does not retry', async () => {
    const broker = await fakeBroker();
    const admin = new Admin({
      bootstrap: `127.0.0.1:${broker.port}`,
      requestTimeoutMs: 30_000,
      retry: { retries: 5, initialBackoffMs: 200 },
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'wrong' },
    });
    const started = Date.now();
    try {
      await assert.rejects(admin.connect(), (error: unknown) => {
        assert.ok(error instanceof SaslAuthenticationError, String(error));
        assert.ok(error instanceof KafkaClientError);
        return true;
      });
      assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
      assert.equal(broker.connectionCount, 1);
    } finally {
      await admin.close();
    }
  });
});
