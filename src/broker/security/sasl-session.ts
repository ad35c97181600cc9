// One connection's SASL authentication on a SASL_PLAINTEXT listener, as Kafka's broker runs it: ApiVersions
// may come first; SaslHandshake picks the mechanism; then either SaslAuthenticate requests (handshake v1+) or,
// for handshake v0 clients (kafka-python, old sarama), raw size-prefixed tokens carry the exchange. Nothing
// else is served until it completes. Sockets play no part here, so every path is unit-testable.
import type { SaslMechanism } from '../../common/config-values.js';
import type { UserCredentials } from './credentials.js';
import { SaslAuthenticationFailure, type SaslServerExchange } from './exchange.js';
import { PlainServerExchange } from './plain.js';
import { ScramServerExchange } from './scram.js';

const API_VERSIONS_KEY = 18;
const SASL_HANDSHAKE_KEY = 17;
const SASL_AUTHENTICATE_KEY = 36;

export enum SaslState {
  /** Waiting for SaslHandshake (ApiVersions may come first). */
  Handshake = 'handshake',
  /** A mechanism is chosen; tokens flow until the exchange completes. */
  Authenticate = 'authenticate',
  Authenticated = 'authenticated',
  /** The exchange failed; the connection is closing and nothing more is served. */
  Failed = 'failed',
}

export type HandshakeOutcome =
  | { ok: true }
  | { ok: false; reason: 'unsupported-mechanism' | 'illegal-state' };

export type AuthenticateOutcome =
  | { ok: true; challenge: Buffer; complete: boolean }
  /** `message` for the client; `detail` (the specific reason) for the log. */
  | { ok: false; reason: 'failed'; message: string; detail: string }
  | { ok: false; reason: 'illegal-state'; message: string };

export interface SaslSessionOptions {
  enabledMechanisms: readonly SaslMechanism[];
  credentials: UserCredentials;
}

export class SaslSession {
  private currentState = SaslState.Handshake;
  private exchange: SaslServerExchange | null = null;
  private rawTokens = false;
  private authenticatedPrincipal: string | null = null;
  private chosenMechanism: SaslMechanism | null = null;

  constructor(private readonly options: SaslSessionOptions) {}

  get state(): SaslState {
    return this.currentState;
  }

  get isAuthenticated(): boolean {
    return this.currentState === SaslState.Authenticated;
  }

  /** True while the peer's next frame is a raw SASL token (after SaslHandshake v0), not a Kafka request. */
  get expectsRawToken(): boolean {
    return this.rawTokens && this.currentState === SaslState.Authenticate;
  }

  get principal(): string | null {
    return this.authenticatedPrincipal;
  }

  get mechanism(): SaslMechanism | null {
    return this.chosenMechanism;
  }

  get enabledMechanisms(): readonly SaslMechanism[] {
    return this.options.enabledMechanisms;
  }

  /** What a log line shows of the session (connection info is logged whole): never the credentials. */
  toJSON(): { state: SaslState; mechanism: SaslMechanism | null; principal: string | null } {
    return {
      state: this.currentState,
      mechanism: this.chosenMechanism,
      principal: this.authenticatedPrincipal,
    };
  }

  /**
   * Whether a Kafka request with this API key may be served now. Before authentication Kafka takes only
   * ApiVersions and SaslHandshake, then only SaslAuthenticate; anything else closes the connection.
   */
  admits(apiKey: number): boolean {
    switch (this.currentState) {
      case SaslState.Authenticated:
        return true;
      case SaslState.Handshake:
        return apiKey === API_VERSIONS_KEY || apiKey === SASL_HANDSHAKE_KEY;
      case SaslState.Authenticate:
        return !this.rawTokens && apiKey === SASL_AUTHENTICATE_KEY;
      default:
        return false;
    }
  }

  handshake(mechanism: string, version: number): HandshakeOutcome {
    if (this.currentState !== SaslState.Handshake) return { ok: false, reason: 'illegal-state' };
    const enabled = this.options.enabledMechanisms.find((name) => name === mechanism);
    if (enabled === undefined) {
      this.currentState = SaslState.Failed;
      return { ok: false, reason: 'unsupported-mechanism' };
    }
    this.chosenMechanism = enabled;
    this.exchange =
      enabled === 'PLAIN'
        ? new PlainServerExchange(this.options.credentials)
        : new ScramServerExchange(enabled, this.options.credentials);
    this.rawTokens = version === 0;
    this.currentState = SaslState.Authenticate;
    return { ok: true };
  }

  /** One client token (SaslAuthenticate auth_bytes or a raw token). */
  async authenticate(token: Buffer): Promise<AuthenticateOutcome> {
    if (this.currentState !== SaslState.Authenticate || this.exchange === null) {
      return {
        ok: false,
        reason: 'illegal-state',
        message:
          this.currentState === SaslState.Authenticated
            ? 'SaslAuthenticate request received after successful authentication'
            : `Unexpected SaslAuthenticate request in SASL state ${this.currentState}`,
      };
    }
    try {
      const step = await this.exchange.evaluate(token);
      if (step.principal === undefined) return { ok: true, challenge: step.challenge, complete: false };
      this.authenticatedPrincipal = step.principal;
      this.exchange = null;
      this.currentState = SaslState.Authenticated;
      return { ok: true, challenge: step.challenge, complete: true };
    } catch (error) {
      if (!(error instanceof SaslAuthenticationFailure)) throw error;
      this.exchange = null;
      this.currentState = SaslState.Failed;
      return { ok: false, reason: 'failed', message: error.clientMessage, detail: error.message };
    }
  }
}
