// What every server-side SASL mechanism is: a sequence of client tokens, each answered by a challenge, until
// one of them names the authenticated principal.

/** The client failed to authenticate. `message` is logged; `clientMessage` is the SaslAuthenticate error_message. */
export class SaslAuthenticationFailure extends Error {
  override name = 'SaslAuthenticationFailure';
  constructor(
    message: string,
    readonly clientMessage: string = message,
  ) {
    super(message);
  }
}

/** Kafka's answer to any exchange it cannot accept, whatever the reason. */
export function invalidCredentialsMessage(mechanism: string): string {
  return `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;
}

/**
 * A malformed or out-of-order message: as Kafka does, the client is told only that authentication failed,
 * and the specific reason goes to the broker's log.
 */
export function invalidExchange(mechanism: string, reason: string): SaslAuthenticationFailure {
  return new SaslAuthenticationFailure(
    `Authentication failed: ${reason}`,
    invalidCredentialsMessage(mechanism),
  );
}

export interface SaslStep {
  /** Sent back to the client (SaslAuthenticate auth_bytes, or a raw token). */
  challenge: Buffer;
  /** Set on the step that completes the exchange: the user now authenticated. */
  principal?: string;
}

export interface SaslServerExchange {
  /** Fails with SaslAuthenticationFailure when the token is malformed or the credentials are wrong. */
  evaluate(token: Buffer): SaslStep | Promise<SaslStep>;
}
