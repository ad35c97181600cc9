// SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's broker speaks them: client-first, then
// server-first (nonce, salt, iterations), client-final with the proof, server-final with the signature. No
// channel binding; a failure is reported through Kafka's error rather than RFC 5802's "e=" attribute.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type ScramCredential,
  type ScramMechanism,
  scramHashName,
  type UserCredentials,
} from './credentials.js';
import {
  invalidCredentialsMessage,
  invalidExchange,
  SaslAuthenticationFailure,
  type SaslServerExchange,
  type SaslStep,
} from './exchange.js';

const SERVER_NONCE_BYTES = 24;
/** printable ASCII except ',' (RFC 5802 "printable"). */
const NONCE_PATTERN = /^[\x21-\x2b\x2d-\x7e]+$/;

/** RFC 5802 saslname: '=2C' stands for ',' and '=3D' for '='; any other '=' is malformed. */
export function decodeSaslName(text: string): string | null {
  if (/=(?!2C|3D)/.test(text) || text.includes(',')) return null;
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

interface ClientFirst {
  gs2Header: string;
  username: string;
  nonce: string;
  bare: string;
}

function parseClientFirst(mechanism: ScramMechanism, message: string): ClientFirst {
  const malformed = () => invalidExchange(mechanism, 'invalid SCRAM client-first-message');
  // gs2-header = cbind-flag "," [authzid] ","; then client-first-bare = [reserved-mext ","] username "," nonce
  const match = /^(n|y|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(message);
  if (match === null) throw malformed();
  if (match[1]!.startsWith('p=')) throw invalidExchange(mechanism, 'channel binding is not supported');
  const bare = match[3]!;
  const attributes = bare.split(',');
  if (attributes[0]?.startsWith('m=')) {
    throw new SaslAuthenticationFailure(
      'Authentication failed: mandatory SCRAM extensions are not supported',
    );
  }
  const name = attributes[0]?.startsWith('n=') ? decodeSaslName(attributes[0].slice(2)) : null;
  const nonce = attributes[1]?.startsWith('r=') ? attributes[1].slice(2) : '';
  if (name === null || name === '' || !NONCE_PATTERN.test(nonce)) throw malformed();
  const authorizationId = match[2] === undefined ? '' : decodeSaslName(match[2].slice(2));
  if (authorizationId === null) throw malformed();
  if (authorizationId !== '' && authorizationId !== name) {
    throw new SaslAuthenticationFailure(
      'Authentication failed: Client requested an authorization id that is different from username',
    );
  }
  return { gs2Header: `${match[1]},${match[2] ?? ''},`, username: name, nonce, bare };
}

function randomServerNonce(): string {
  return randomBytes(SERVER_NONCE_BYTES).toString('base64url');
}

enum ScramState {
  ReceiveClientFirst = 0,
  ReceiveClientFinal = 1,
  Done = 2,
}

export class ScramServerExchange implements SaslServerExchange {
  private state = ScramState.ReceiveClientFirst;
  private clientFirst: ClientFirst | null = null;
  private serverFirst = '';
  private combinedNonce = '';
  private credential: ScramCredential | null = null;

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly credentials: UserCredentials,
    /** Tests pass RFC 7677's fixed nonce; in service it is random. */
    private readonly newServerNonce: () => string = randomServerNonce,
  ) {}

  evaluate(token: Buffer): SaslStep {
    const message = token.toString('utf8');
    switch (this.state) {
      case ScramState.ReceiveClientFirst:
        return this.onClientFirst(message);
      case ScramState.ReceiveClientFinal:
        return this.onClientFinal(message);
      default:
        throw invalidExchange(this.mechanism, 'the SCRAM exchange is already complete');
    }
  }

  private onClientFirst(message: string): SaslStep {
    this.state = ScramState.Done;
    const clientFirst = parseClientFirst(this.mechanism, message);
    const credential = this.credentials.scramCredential(clientFirst.username, this.mechanism);
    if (credential === undefined) throw this.invalidCredentials();
    this.clientFirst = clientFirst;
    this.credential = credential;
    this.combinedNonce = clientFirst.nonce + this.newServerNonce();
    this.serverFirst = `r=${this.combinedNonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.state = ScramState.ReceiveClientFinal;
    return { challenge: Buffer.from(this.serverFirst, 'utf8') };
  }

  private onClientFinal(message: string): SaslStep {
    this.state = ScramState.Done;
    const clientFirst = this.clientFirst!;
    const credential = this.credential!;
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw invalidExchange(this.mechanism, 'invalid SCRAM client-final-message');
    const withoutProof = message.slice(0, proofAt);
    const attributes = withoutProof.split(',');
    const channelBinding = attributes[0]?.startsWith('c=') ? attributes[0].slice(2) : null;
    const nonce = attributes[1]?.startsWith('r=') ? attributes[1].slice(2) : null;
    if (channelBinding === null || nonce === null) {
      throw invalidExchange(this.mechanism, 'invalid SCRAM client-final-message');
    }
    if (Buffer.from(channelBinding, 'base64').toString('utf8') !== clientFirst.gs2Header) {
      throw invalidExchange(this.mechanism, 'invalid channel binding');
    }
    // librdkafka before 2.3 sends its own nonce again in front of the combined one; Kafka accepts any nonce
    // that ends with the combined one, and the proof covers what was sent, so that is accepted here too.
    if (!nonce.endsWith(this.combinedNonce)) {
      throw invalidExchange(this.mechanism, 'invalid server nonce');
    }
    const hash = scramHashName(this.mechanism);
    const authMessage = `${clientFirst.bare},${this.serverFirst},${withoutProof}`;
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    const clientSignature = createHmac(hash, credential.storedKey).update(authMessage).digest();
    if (proof.length !== clientSignature.length) throw this.invalidCredentials();
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    const storedKey = createHash(hash).update(clientKey).digest();
    if (!timingSafeEqual(storedKey, credential.storedKey)) throw this.invalidCredentials();
    const serverSignature = createHmac(hash, credential.serverKey).update(authMessage).digest();
    return {
      challenge: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'),
      principal: clientFirst.username,
    };
  }

  private invalidCredentials(): SaslAuthenticationFailure {
    return new SaslAuthenticationFailure(invalidCredentialsMessage(this.mechanism));
  }
}
