// TLS settings of the client (for SSL and SASL_SSL listeners) and the wording of TLS failures. The options are
// checked once, when the client is constructed, and turned into one secure context that every broker
// connection reuses: a CA given as a file path instead of its contents, a certificate without its key or a
// wrong passphrase fails at once instead of at the first connection.

import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ErrorCode } from '../protocol/errors.js';
import { ConfigError, TlsError } from './errors.js';

/** PEM text: a string, or a Buffer holding the contents of a .pem file. */
export type PemInput = string | Buffer;

/**
 * TLS settings for brokers whose listener is SSL or SASL_SSL, in kafkajs's shape (a subset of node's
 * tls.ConnectionOptions). Certificates and keys are PEM contents, not file paths.
 */
export interface SslOptions {
  /** CA certificates that may sign the brokers' certificates. Default: Node's bundled root CAs. */
  ca?: PemInput | PemInput[];
  /** Client certificate chain, for brokers that require one (ssl.client.auth=required). Needs `key`. */
  cert?: PemInput | PemInput[];
  /** Private key of the client certificate. Needs `cert`. */
  key?: PemInput | PemInput[];
  /** Decrypts `key` when it is encrypted. */
  passphrase?: string;
  /** false accepts a broker certificate that is not trusted or does not name the host. Default true. */
  rejectUnauthorized?: boolean;
  /** Name sent for SNI and checked against the broker certificate. Default: the broker's host, unless an IP. */
  servername?: string;
}

/** What a broker connection needs to open TLS: built once per client by resolveSslOptions. */
export interface TlsSettings {
  readonly secureContext: SecureContext;
  readonly rejectUnauthorized: boolean;
  readonly servername: string | undefined;
  /** Whether a client certificate is offered (to word a broker's refusal). */
  readonly hasClientCertificate: boolean;
}

const SSL_OPTION_NAMES: readonly (keyof SslOptions)[] = [
  'ca',
  'cert',
  'key',
  'passphrase',
  'rejectUnauthorized',
  'servername',
];

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const PEM_BEGIN = '-----BEGIN ';

const invalid = (reason: string) => new ConfigError(ErrorCode.INVALID_CONFIG, `ssl: ${reason}`);

/** Checks `ssl` (true, or SslOptions) and builds the secure context; throws ConfigError (INVALID_CONFIG). */
export function resolveSslOptions(ssl: true | SslOptions): TlsSettings {
  if (ssl === true) {
    return {
      secureContext: createSecureContext({}),
      rejectUnauthorized: true,
      servername: undefined,
      hasClientCertificate: false,
    };
  }
  if (typeof ssl !== 'object' || ssl === null || Array.isArray(ssl)) {
    throw invalid(`expected true or { ${SSL_OPTION_NAMES.join(', ')} }; leave ssl out for plaintext`);
  }
  for (const name of Object.keys(ssl)) {
    if (!(SSL_OPTION_NAMES as readonly string[]).includes(name)) {
      throw invalid(`unknown option '${name}'; supported: ${SSL_OPTION_NAMES.join(', ')}`);
    }
  }
  const ca = pemList('ca', ssl.ca);
  const cert = pemList('cert', ssl.cert);
  const key = pemList('key', ssl.key);
  if (ca !== undefined) checkCaCertificates(ca);
  if ((cert === undefined) !== (key === undefined)) {
    throw invalid(cert === undefined ? 'key needs cert (the client certificate)' : 'cert needs key');
  }
  if (ssl.passphrase !== undefined && typeof ssl.passphrase !== 'string') {
    throw invalid('passphrase must be a string');
  }
  if (ssl.rejectUnauthorized !== undefined && typeof ssl.rejectUnauthorized !== 'boolean') {
    throw invalid('rejectUnauthorized must be true or false');
  }
  if (ssl.servername !== undefined && (typeof ssl.servername !== 'string' || ssl.servername === '')) {
    throw invalid('servername must be a non-empty string');
  }
  for (const [name, list] of [
    ['cert', cert],
    ['key', key],
  ] as const) {
    if (list?.some((entry) => !entry.includes(PEM_BEGIN))) throw notPem(name);
  }
  let secureContext: SecureContext;
  try {
    secureContext = createSecureContext({
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(ssl.passphrase === undefined ? {} : { passphrase: ssl.passphrase }),
    });
  } catch (error) {
    throw invalid(`cert and key cannot be used: ${describeOpensslError(error)}`);
  }
  return {
    secureContext,
    rejectUnauthorized: ssl.rejectUnauthorized ?? true,
    servername: ssl.servername,
    hasClientCertificate: cert !== undefined,
  };
}

/** One entry or a list of them, each a string or Buffer, as text; undefined when not given. */
function pemList(name: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length === 0) throw invalid(`${name} is an empty list`);
  return entries.map((entry: unknown) => {
    if (typeof entry === 'string') return entry;
    if (Buffer.isBuffer(entry)) return entry.toString('latin1');
    throw invalid(`${name} must be PEM text: a string, a Buffer, or a list of them`);
  });
}

function notPem(name: string): ConfigError {
  return invalid(
    `${name} is not PEM text (no '${PEM_BEGIN}...' line); give the file's contents, not its path`,
  );
}

/**
 * Node accepts CA text without a single certificate in it (a path, a key) and then trusts nothing, so every
 * connection would fail with an unrelated-looking verification error: refuse it here.
 */
function checkCaCertificates(ca: readonly string[]): void {
  for (const entry of ca) {
    const blocks = entry.match(PEM_CERTIFICATE);
    if (blocks === null) {
      if (!entry.includes(PEM_BEGIN)) throw notPem('ca');
      throw invalid("ca holds no certificate (no '-----BEGIN CERTIFICATE-----' block)");
    }
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch (error) {
        throw invalid(`ca holds a certificate that cannot be read: ${describeOpensslError(error)}`);
      }
    }
  }
}

/** OpenSSL's short reason ('bad decrypt') with node's code, rather than its full error-queue line. */
function describeOpensslError(error: unknown): string {
  const { reason, code, message } = error as { reason?: unknown; code?: unknown; message?: unknown };
  const text = typeof reason === 'string' && reason !== '' ? reason : String(message);
  return typeof code === 'string' ? `${text} (${code})` : text;
}

/**
 * A 4-byte response size prefix that is really the start of a TLS record (content type 20-23, version 3.x):
 * the broker answered a plaintext request in TLS.
 */
export function isTlsRecordHeader(sizePrefix: number): boolean {
  const contentType = sizePrefix >>> 24;
  const majorVersion = (sizePrefix >>> 16) & 0xff;
  const minorVersion = (sizePrefix >>> 8) & 0xff;
  return contentType >= 20 && contentType <= 23 && majorVersion === 3 && minorVersion <= 4;
}

/** OpenSSL's alerts that mean "this broker wants a client certificate" (TLS 1.3, and TLS 1.2's generic one). */
const CERTIFICATE_REQUIRED_CODES = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
]);

/** Alerts a broker sends when it does not accept the client certificate it got. */
const CERTIFICATE_REFUSED_CODES = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

/** Node's codes for a socket closed by the peer. */
const CLOSED_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * The typed error for a failure of the TLS handshake with `address` (`cause`: the socket's error). Errors
 * from certificate verification name what was wrong with the broker's certificate; alerts from the broker
 * say what it refused.
 */
export function tlsHandshakeError(address: string, cause: unknown, settings: TlsSettings): TlsError {
  const code = (cause as { code?: unknown } | null)?.code;
  const detail = describeOpensslError(cause);
  if (typeof code !== 'string')
    return new TlsError(`TLS handshake with ${address} failed: ${detail}`, { cause });
  if (CLOSED_CODES.has(code)) {
    return new TlsError(
      `broker ${address} closed the connection during the TLS handshake; is its listener PLAINTEXT or ` +
        'SASL_PLAINTEXT rather than SSL or SASL_SSL?',
      { cause },
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new TlsError(`the certificate of broker ${address} does not name the host: ${detail}`, { cause });
  }
  if (code.startsWith('ERR_SSL_')) return tlsRefusalError(address, cause, settings);
  if (code.startsWith('ERR_'))
    return new TlsError(`TLS handshake with ${address} failed: ${detail}`, { cause });
  // The rest are OpenSSL's verification results (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ...).
  return new TlsError(`the certificate of broker ${address} is not trusted: ${detail}`, { cause });
}

/** The broker ended the TLS session with an alert, during or right after the handshake. */
export function tlsRefusalError(address: string, cause: unknown, settings: TlsSettings): TlsError {
  const code = (cause as { code?: unknown } | null)?.code;
  const detail = describeOpensslError(cause);
  if (typeof code === 'string' && !settings.hasClientCertificate && CERTIFICATE_REQUIRED_CODES.has(code)) {
    return new TlsError(
      `broker ${address} requires a client certificate, and none is configured (${detail})`,
      { cause },
    );
  }
  if (typeof code === 'string' && settings.hasClientCertificate && CERTIFICATE_REFUSED_CODES.has(code)) {
    return new TlsError(`broker ${address} refused the client certificate (${detail})`, { cause });
  }
  return new TlsError(`broker ${address} refused the TLS connection: ${detail}`, { cause });
}

/**
 * The broker closed the connection right after the TLS handshake, before answering ApiVersions. A broker
 * that checks client certificates after the handshake (TLS 1.3) does this when it refuses the certificate.
 */
export function tlsClosedError(address: string, cause: unknown, settings: TlsSettings): TlsError {
  const likely = settings.hasClientCertificate
    ? 'it probably does not trust the client certificate'
    : 'it probably requires a client certificate, and none is configured';
  return new TlsError(`broker ${address} closed the TLS connection before answering ApiVersions: ${likely}`, {
    cause,
  });
}

/** A plaintext client got a TLS record back: the listener is SSL or SASL_SSL. */
export function tlsExpectedError(address: string, cause: unknown): TlsError {
  return new TlsError(
    `broker ${address} answered in TLS: its listener is SSL or SASL_SSL, so the client needs the ssl option`,
    { cause },
  );
}
