// SaslHandshake and SaslAuthenticate: the Kafka side of a connection's SASL exchange. The state lives in the
// connection's SaslSession; these handlers only translate its outcomes into Kafka's answers.
import { ErrorCode } from '../../protocol/errors.js';
import {
  SaslAuthenticateApi,
  type SaslAuthenticateRequest,
  type SaslAuthenticateResponse,
  SaslHandshakeApi,
  type SaslHandshakeRequest,
  type SaslHandshakeResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, type RequestContext, registerHandler } from '../context.js';
import type { AuthenticateOutcome, SaslSession } from '../security/index.js';

/** Sessions never expire (KIP-368): clients need not re-authenticate a live connection. */
const NO_SESSION_LIFETIME = 0n;

const handshake: ApiHandler<SaslHandshakeRequest, SaslHandshakeResponse> = {
  api: SaslHandshakeApi,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    const sasl = ctx.connection.sasl;
    // On a PLAINTEXT listener, or once authenticated, Kafka answers ILLEGAL_SASL_STATE.
    if (sasl === null) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    const outcome = sasl.handshake(request.mechanism, ctx.apiVersion);
    if (outcome.ok) return { errorCode: ErrorCode.NONE, mechanisms: [...sasl.enabledMechanisms] };
    if (outcome.reason === 'illegal-state')
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    logFailure(ctx, request.mechanism, `unsupported SASL mechanism ${request.mechanism}`);
    ctx.closeConnectionAfterResponse();
    return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: [...sasl.enabledMechanisms] };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { errorCode, mechanisms: [] };
  },
};

const authenticate: ApiHandler<SaslAuthenticateRequest, SaslAuthenticateResponse> = {
  api: SaslAuthenticateApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const sasl = ctx.connection.sasl;
    if (sasl === null) {
      return failure(ErrorCode.ILLEGAL_SASL_STATE, 'SASL is not enabled on this listener');
    }
    const outcome = await authenticateToken(ctx, sasl, request.authBytes);
    if (outcome.ok) {
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        authBytes: outcome.challenge,
        sessionLifetimeMs: NO_SESSION_LIFETIME,
      };
    }
    if (outcome.reason === 'illegal-state') return failure(ErrorCode.ILLEGAL_SASL_STATE, outcome.message);
    ctx.closeConnectionAfterResponse();
    return failure(ErrorCode.SASL_AUTHENTICATION_FAILED, outcome.message);
  },
  errorResponse(_ctx, _request, errorCode) {
    return failure(errorCode, null);
  },
};

function failure(errorCode: number, errorMessage: string | null): SaslAuthenticateResponse {
  return { errorCode, errorMessage, authBytes: Buffer.alloc(0), sessionLifetimeMs: NO_SESSION_LIFETIME };
}

/** One token of the exchange, from SaslAuthenticate or raw after SaslHandshake v0; logs how it ended. */
export async function authenticateToken(
  ctx: LogContext,
  sasl: SaslSession,
  token: Buffer,
): Promise<AuthenticateOutcome> {
  const outcome = await sasl.authenticate(token);
  if (outcome.ok && outcome.complete) {
    ctx.broker.logger.debug(
      { connection: ctx.connection, principal: sasl.principal, mechanism: sasl.mechanism },
      'authenticated',
    );
  } else if (!outcome.ok && outcome.reason === 'failed') {
    logFailure(ctx, sasl.mechanism, outcome.detail);
  }
  return outcome;
}

type LogContext = Pick<RequestContext, 'broker' | 'connection'>;

function logFailure(ctx: LogContext, mechanism: string | null, reason: string): void {
  // INFO, as Kafka logs failed authentications: an operator looks for these, they are not broker faults.
  ctx.broker.logger.info({ connection: ctx.connection, mechanism, reason }, 'failed authentication');
}

export const saslHandshakeHandler = registerHandler(handshake);
export const saslAuthenticateHandler = registerHandler(authenticate);
