// SASL PLAIN (RFC 4616): one message, "[authzid] NUL authcid NUL passwd", checked against the user table.
import type { UserCredentials } from './credentials.js';
import { SaslAuthenticationFailure, type SaslServerExchange, type SaslStep } from './exchange.js';

export class PlainServerExchange implements SaslServerExchange {
  private done = false;

  constructor(private readonly credentials: UserCredentials) {}

  evaluate(token: Buffer): SaslStep {
    if (this.done) throw new SaslAuthenticationFailure('Authentication failed: PLAIN takes a single message');
    this.done = true;
    const firstNul = token.indexOf(0);
    const secondNul = firstNul < 0 ? -1 : token.indexOf(0, firstNul + 1);
    if (secondNul < 0 || token.indexOf(0, secondNul + 1) >= 0) {
      throw new SaslAuthenticationFailure(
        'Authentication failed: Invalid SASL/PLAIN response: expected 3 tokens, got ' +
          `${firstNul < 0 ? 1 : secondNul < 0 ? 2 : 4}`,
      );
    }
    const authorizationId = token.toString('utf8', 0, firstNul);
    const username = token.toString('utf8', firstNul + 1, secondNul);
    const password = token.toString('utf8', secondNul + 1);
    if (username === '') {
      throw new SaslAuthenticationFailure('Authentication failed: username not specified');
    }
    if (password === '') {
      throw new SaslAuthenticationFailure('Authentication failed: password not specified');
    }
    if (!this.credentials.verifyPassword(username, password)) {
      throw new SaslAuthenticationFailure('Authentication failed: Invalid username or password');
    }
    if (authorizationId !== '' && authorizationId !== username) {
      throw new SaslAuthenticationFailure(
        'Authentication failed: Client requested an authorization id that is different from username',
      );
    }
    return { challenge: Buffer.alloc(0), principal: username };
  }
}
