// What every server-side SASL mechanism is: a sequence of client tokens, each answered by a challenge, until
// one of them names the authenticated principal.

/** The client failed to authenticate; the message goes to the client (SaslAuthenticate error_message). */
export class SaslAuthenticationFailure extends Error {
  override name = 'SaslAuthenticationFailure';
}

export interface SaslStep {
  /** Sent back to the client (SaslAuthenticate auth_bytes, or a raw token). */
  challenge: Buffer;
  /** Set on the step that completes the exchange: the user now authenticated. */
  principal?: string;
}

export interface SaslServerExchange {
  /** Throws SaslAuthenticationFailure when the token is malformed or the credentials are wrong. */
  evaluate(token: Buffer): SaslStep;
}
