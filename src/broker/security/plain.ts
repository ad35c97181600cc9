// SASL PLAIN (RFC 4616): one message, "[authzid] NUL authcid NUL passwd", checked against the user table.
import type { UserCredentials } from './credentials.js';
import {
  invalidExchange,
  SaslAuthenticationFailure,
  type SaslServerExchange,
  type SaslStep,
} from './exchange.js';

export class PlainServerExchange implements SaslServerExchange {
  private done = false;

  constructor(private readonly credentials: UserCredentials) {}

  async evaluate(token: Buffer): Promise<SaslStep> {
    if (this.done) throw invalidExchange('PLAIN', 'PLAIN takes a single message');
    this.done = true;
    const firstNul = token.indexOf(0);
    const secondNul = firstNul < 0 ? -1 : token.indexOf(0, firstNul + 1);
    if (secondNul < 0 || token.indexOf(0, secondNul + 1) >= 0) {
      throw invalidExchange(
        'PLAIN',
        `Invalid SASL/PLAIN response: expected 3 tokens, got ${firstNul < 0 ? 1 : secondNul < 0 ? 2 : 4}`,
      );
    }
    const authorizationId = token.toString('utf8', 0, firstNul);
    const username = token.toString('utf8', firstNul + 1, secondNul);
    const password = token.toString('utf8', secondNul + 1);
    if (username === '') {
      throw invalidExchange('PLAIN', 'username not specified');
    }
    if (password === '') {
      throw invalidExchange('PLAIN', 'password not specified');
    }
    if (!(await this.credentials.verifyPassword(username, password))) {
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
