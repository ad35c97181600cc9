// The client side of SASL authentication: PLAIN (RFC 4616) and SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC
// 7677). Each mechanism is an exchange of opaque tokens; the connection carries them in SaslAuthenticate
// requests and hands back the server's answers. Nothing here touches a socket, so the exchanges are tested
// against RFC test vectors directly.
//
// Like Kafka's own clients, names and passwords are sent as UTF-8 without SASLprep normalisation.

import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ErrorCode } from '../protocol/errors.js';
import { ConfigError, SaslAuthenticationError } from './errors.js';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** Credentials for brokers whose listener requires SASL (SASL_PLAINTEXT). The same shape as kafkajs's. */
export interface SaslOptions {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

export const SASL_MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

/** Kafka's spelling of each mechanism, as sent in SaslHandshake and listed by brokers. */
const KAFKA_MECHANISM_NAMES: Readonly<Record<SaslMechanism, string>> = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
};

/**
 * Checks options given at construction, so that a typo fails at once instead of at the first connection.
 * The mechanism may be written in Kafka's spelling too ('SCRAM-SHA-256'); the result uses ours.
 */
export function validateSaslOptions(sasl: SaslOptions): SaslOptions {
  const invalid = (reason: string) => new ConfigError(ErrorCode.INVALID_CONFIG, `sasl: ${reason}`);
  if (typeof sasl !== 'object' || sasl === null) throw invalid('expected { mechanism, username, password }');
  const given: unknown = sasl.mechanism;
  const mechanism = SASL_MECHANISMS.find(
    (name) => typeof given === 'string' && name === given.trim().toLowerCase(),
  );
  if (mechanism === undefined) {
    throw invalid(`unknown mechanism '${String(given)}'; expected one of ${SASL_MECHANISMS.join(', ')}`);
  }
  if (typeof sasl.username !== 'string' || sasl.username === '') {
    throw invalid('username must be a non-empty string');
  }
  if (typeof sasl.password !== 'string') throw invalid('password must be a string');
  // PLAIN separates its fields with NUL, so a NUL inside one would shift the others.
  if (mechanism === 'plain' && (sasl.username.includes('\0') || sasl.password.includes('\0'))) {
    throw invalid('PLAIN credentials cannot contain the NUL character');
  }
  return { mechanism, username: sasl.username, password: sasl.password };
}

/**
 * One client-side SASL exchange. The connection sends start()'s token, then passes each server answer to
 * respond() and sends what it returns, until respond() returns null: the exchange is complete (for SCRAM, the
 * server has proven that it knows the password too). Any failure throws SaslAuthenticationError.
 */
export interface SaslExchange {
  /** Kafka's name of the mechanism, for SaslHandshake. */
  readonly mechanism: string;
  start(): Promise<Buffer>;
  respond(serverToken: Buffer): Promise<Buffer | null>;
}

/** A fresh exchange for one connection (SCRAM exchanges hold per-connection state). */
export function createSaslExchange(sasl: SaslOptions): SaslExchange {
  switch (sasl.mechanism) {
    case 'plain':
      return new PlainExchange(sasl.username, sasl.password);
    case 'scram-sha-256':
      return new ScramExchange('sha256', sasl.username, sasl.password);
    case 'scram-sha-512':
      return new ScramExchange('sha512', sasl.username, sasl.password);
  }
}

export function kafkaMechanismName(mechanism: SaslMechanism): string {
  return KAFKA_MECHANISM_NAMES[mechanism];
}

function authenticationFailed(message: string): SaslAuthenticationError {
  return new SaslAuthenticationError(ErrorCode.SASL_AUTHENTICATION_FAILED, message);
}

/** RFC 4616: one message, `authzid NUL authcid NUL passwd`, with an empty authorization id. */
export class PlainExchange implements SaslExchange {
  readonly mechanism = 'PLAIN';
  private started = false;

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  start(): Promise<Buffer> {
    this.started = true;
    return Promise.resolve(Buffer.from(`\0${this.username}\0${this.password}`, 'utf8'));
  }

  /** The server's (empty) answer to the only message ends the exchange. */
  respond(): Promise<Buffer | null> {
    if (!this.started) return Promise.reject(authenticationFailed('PLAIN: a server answer before the start'));
    return Promise.resolve(null);
  }
}

export type ScramHash = 'sha256' | 'sha512';

const SCRAM_KEY_BYTES: Readonly<Record<ScramHash, number>> = { sha256: 32, sha512: 64 };
/** Kafka refuses SCRAM credentials with fewer iterations (and so does its client). */
export const SCRAM_MIN_ITERATIONS = 4096;
/** A hostile or broken server must not make the client spend minutes in PBKDF2. */
export const SCRAM_MAX_ITERATIONS = 1_000_000;
const CLIENT_NONCE_BYTES = 24;
/** No channel binding: 'n,,' (and 'biws' is its base64, the c= of client-final). */
const GS2_HEADER = 'n,,';

const pbkdf2Async = promisify(pbkdf2);

/**
 * SCRAM's SaltedPassword (RFC 5802 Hi(): PBKDF2 with HMAC of the hash, as long as one digest): what a login
 * derives its proof from, and what AlterUserScramCredentials sends for the broker to keep its keys from.
 */
export function scramSaltedPassword(
  hash: ScramHash,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, SCRAM_KEY_BYTES[hash], hash);
}

/** RFC 5802 saslname: '=' and ',' are the attribute syntax, so they travel as '=3D' and '=2C'. */
export function escapeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** The attributes of a SCRAM server message (`k=value,k=value`); a value may contain '='. */
function parseAttributes(message: string, what: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const equals = part.indexOf('=');
    if (equals < 1) throw authenticationFailed(`SCRAM: malformed ${what}: '${message}'`);
    const key = part.slice(0, equals);
    if (!attributes.has(key)) attributes.set(key, part.slice(equals + 1));
  }
  return attributes;
}

type ScramState = 'initial' | 'client-first-sent' | 'client-final-sent' | 'done';

/**
 * RFC 5802 without channel binding: client-first (`n,,n=user,r=nonce`), server-first (`r=,s=,i=`),
 * client-final (`c=biws,r=,p=proof`), server-final (`v=signature`), which is verified.
 */
export class ScramExchange implements SaslExchange {
  readonly mechanism: string;
  private state: ScramState = 'initial';
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | null = null;

  /** `clientNonce`: only for tests with fixed vectors; by default 24 random bytes, base64. */
  constructor(
    private readonly hash: ScramHash,
    private readonly username: string,
    private readonly password: string,
    private readonly clientNonce: string = randomBytes(CLIENT_NONCE_BYTES).toString('base64'),
  ) {
    this.mechanism = hash === 'sha256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512';
  }

  start(): Promise<Buffer> {
    if (this.state !== 'initial') return Promise.reject(this.outOfOrder('start'));
    this.clientFirstBare = `n=${escapeSaslName(this.username)},r=${this.clientNonce}`;
    this.state = 'client-first-sent';
    return Promise.resolve(Buffer.from(GS2_HEADER + this.clientFirstBare, 'utf8'));
  }

  async respond(serverToken: Buffer): Promise<Buffer | null> {
    switch (this.state) {
      case 'client-first-sent':
        return this.clientFinal(serverToken.toString('utf8'));
      case 'client-final-sent':
        this.verifyServerFinal(serverToken.toString('utf8'));
        return null;
      default:
        throw this.outOfOrder('a server message');
    }
  }

  private async clientFinal(serverFirst: string): Promise<Buffer> {
    if (serverFirst.startsWith('m=')) {
      throw authenticationFailed(`${this.mechanism}: the server requires an unsupported extension`);
    }
    const attributes = parseAttributes(serverFirst, 'server-first message');
    const nonce = attributes.get('r');
    const saltText = attributes.get('s');
    const iterationsText = attributes.get('i');
    if (nonce === undefined || saltText === undefined || iterationsText === undefined) {
      throw authenticationFailed(`${this.mechanism}: the server-first message lacks r, s or i`);
    }
    // The server extends the client's nonce; anything else is a replay or a confused server.
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw authenticationFailed(`${this.mechanism}: the server nonce does not extend the client nonce`);
    }
    const salt = Buffer.from(saltText, 'base64');
    const iterations = /^\d+$/.test(iterationsText) ? Number(iterationsText) : Number.NaN;
    if (salt.length === 0) throw authenticationFailed(`${this.mechanism}: the server sent an empty salt`);
    if (!(iterations >= SCRAM_MIN_ITERATIONS && iterations <= SCRAM_MAX_ITERATIONS)) {
      throw authenticationFailed(
        `${this.mechanism}: iteration count ${iterationsText} is outside ${SCRAM_MIN_ITERATIONS}..${SCRAM_MAX_ITERATIONS}`,
      );
    }
    const keyBytes = SCRAM_KEY_BYTES[this.hash];
    const saltedPassword = await scramSaltedPassword(this.hash, this.password, salt, iterations);
    const clientKey = this.hmac(saltedPassword, 'Client Key');
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const clientFinalWithoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const clientSignature = this.hmac(storedKey, authMessage);
    const proof = Buffer.alloc(keyBytes);
    for (let i = 0; i < keyBytes; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.expectedServerSignature = this.hmac(this.hmac(saltedPassword, 'Server Key'), authMessage);
    this.state = 'client-final-sent';
    return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  private verifyServerFinal(serverFinal: string): void {
    const attributes = parseAttributes(serverFinal, 'server-final message');
    const error = attributes.get('e');
    if (error !== undefined) throw authenticationFailed(`${this.mechanism}: the server answered '${error}'`);
    const signature = Buffer.from(attributes.get('v') ?? '', 'base64');
    const expected = this.expectedServerSignature!;
    // A wrong signature means the server does not know the password: it is not the broker we meant to reach.
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw authenticationFailed(`${this.mechanism}: the server's signature is wrong`);
    }
    this.state = 'done';
  }

  private hmac(key: Buffer, data: string): Buffer {
    return createHmac(this.hash, key).update(data, 'utf8').digest();
  }

  private outOfOrder(step: string): SaslAuthenticationError {
    return authenticationFailed(`${this.mechanism}: ${step} in state ${this.state}`);
  }
}
