// SASL authentication of client connections: the per-connection state machine and the server-side mechanisms.
export {
  DEFAULT_SCRAM_ITERATIONS,
  SCRAM_MECHANISMS,
  type ScramMechanism,
  scramCredentialFromSaltedPassword,
  scramKeyBytes,
  UserCredentials,
} from './credentials.js';
export { type AuthenticateOutcome, type HandshakeOutcome, SaslSession, SaslState } from './sasl-session.js';
export { TlsSetupError, tlsServerOptions } from './tls.js';
