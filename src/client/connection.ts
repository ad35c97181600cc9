// One TCP connection to one broker. Requests are pipelined: each gets a correlation id, any number may be in
// flight, and responses are matched by id (so the connection never assumes the broker answers in order).
// connect() negotiates API versions with ApiVersions before anything else is sent (KIP-511 fallback included),
// then, when the client has SASL credentials, authenticates (SaslHandshake v1, SaslAuthenticate round trips):
// the connection counts as connected only after both, so no other request can go out before them. With TLS
// settings the socket is a TLS socket, and connect() first waits for the TLS handshake.

import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ErrorCode, errorInfo } from '../protocol/errors.js';
import {
  ApiVersionsApi,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  RequestHeaderCodec,
  ResponseHeaderCodec,
  requestHeaderVersion,
  responseHeaderVersion,
  SaslAuthenticateApi,
  type SaslAuthenticateResponse,
  SaslHandshakeApi,
  type SaslHandshakeResponse,
} from '../protocol/generated/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import {
  ClientClosedError,
  ConnectionError,
  errorFromCode,
  IllegalSaslStateError,
  type KafkaClientError,
  ProtocolError,
  RequestTimeoutError,
  SaslAuthenticationError,
  type TlsError,
  UnsupportedSaslMechanismError,
  UnsupportedVersionError,
} from './errors.js';
import { createSaslExchange, type SaslOptions } from './sasl.js';
import {
  isTlsRecordHeader,
  type TlsSettings,
  tlsClosedError,
  tlsExpectedError,
  tlsHandshakeError,
  tlsRefusalError,
} from './tls.js';

/** Where the client writes what it is doing; every method is optional in spirit, the default is silent. */
export interface ClientLogger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
}

const noop = (): void => {};
export const silentLogger: ClientLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** What the connection needs of an API: the generated descriptors (src/protocol/generated) fit it. */
export interface ApiDescriptor<Req, Res> {
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  encodeRequest(w: Writer, request: Req, version: number): void;
  decodeResponse(r: Reader, version: number): Res;
}

export interface BrokerConnectionOptions {
  host: string;
  port: number;
  /** The broker's node id, or -1 for a bootstrap connection made before metadata is known. */
  nodeId: number;
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  logger?: ClientLogger;
  /** Refuse response frames larger than this (a guard against a peer that is not a Kafka broker). */
  maxResponseBytes?: number;
  /** Authenticate with these credentials after ApiVersions (for SASL_PLAINTEXT and SASL_SSL listeners). */
  sasl?: SaslOptions;
  /** Speak TLS (for SSL and SASL_SSL listeners): resolveSslOptions builds these from ClientOptions.ssl. */
  tls?: TlsSettings;
}

export interface SendOptions {
  /** Default: the highest version both sides support (versionFor). */
  version?: number;
  /** Default: the connection's requestTimeoutMs. */
  timeoutMs?: number;
  /** false for requests the broker does not answer (Produce with acks=0). Default true. */
  expectResponse?: boolean;
}

export interface VersionRange {
  min: number;
  max: number;
}

const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024 * 1024;
const SIZE_PREFIX_BYTES = 4;
/** A response frame holds at least its correlation id. */
const MIN_RESPONSE_FRAME_BYTES = 4;
const MAX_CORRELATION_ID = 0x7fffffff;
/** How many timed-out correlation ids are remembered, so that their late responses can be told from garbage. */
const MAX_REMEMBERED_TIMEOUTS = 1024;
/** The ApiVersions version sent first (KIP-511: carries the client software name and version). */
const API_VERSIONS_FIRST_VERSION = 3;
const CLIENT_SOFTWARE_NAME = 'sluice';
/** SaslHandshake v1 moves the tokens into SaslAuthenticate requests (KIP-152); v0's raw tokens are not spoken. */
const SASL_HANDSHAKE_VERSION = 1;
/** PLAIN takes one SaslAuthenticate round trip and SCRAM two; a server asking for more is not following either. */
const MAX_SASL_ROUNDS = 4;
/**
 * Bound of a response before the connection is up: ApiVersions and SASL answers are a few KiB. It also makes a
 * TLS record read as a size prefix (0x15030300: 352 MB) fail at once rather than wait for hundreds of MB.
 */
const HANDSHAKE_MAX_RESPONSE_BYTES = 1024 * 1024;

/** Socket reads land here while no frame is partly received; frames found in it are copied out. */
const READ_SCRATCH_BYTES = 64 * 1024;

/** Splits a byte stream into response frames (`[int32 size][size bytes]`), whatever the chunking. */
export class ResponseFrameDecoder {
  /** The size prefix that made push() throw, if any: tells a TLS record from a corrupt frame. */
  rejectedFrameBytes: number | null = null;
  private sizeBytesRead = 0;
  private sizeAccumulator = 0;
  private partialFrame: Buffer | null = null;
  private partialFilled = 0;
  private scratch: Buffer | null = null;

  /** `maxFrameBytes` may be raised later (the connection allows larger frames once it is up). */
  constructor(
    public maxFrameBytes: number,
    private readonly sink: (frame: Buffer) => void,
  ) {}

  /**
   * Where the socket reads next (net's `onread.buffer`): the unfilled rest of the frame being received, so a
   * large response (a Fetch of megabytes) lands in its own buffer with no copy; otherwise a reused scratch.
   */
  readTarget(): Buffer {
    if (this.partialFrame !== null) return this.partialFrame.subarray(this.partialFilled);
    this.scratch ??= Buffer.allocUnsafeSlow(READ_SCRATCH_BYTES);
    return this.scratch;
  }

  /** `bytes` were read into `target`, the buffer readTarget() returned (net's `onread.callback`). */
  onRead(bytes: number, target: Buffer): void {
    if (target === this.scratch) {
      this.push(target.subarray(0, bytes), true);
      return;
    }
    const frame = this.partialFrame!;
    this.partialFilled += bytes;
    if (this.partialFilled < frame.length) return;
    this.partialFrame = null;
    this.partialFilled = 0;
    this.sink(frame);
  }

  /**
   * Throws ProtocolError on an impossible size prefix; the stream cannot be resynchronised after that.
   * `transient`: the chunk's memory is reused afterwards, so frames are copied out of it.
   */
  push(chunk: Buffer, transient = false): void {
    let position = 0;
    const end = chunk.length;
    while (position < end) {
      if (this.partialFrame !== null) {
        const frame = this.partialFrame;
        const copied = chunk.copy(
          frame,
          this.partialFilled,
          position,
          Math.min(end, position + frame.length - this.partialFilled),
        );
        position += copied;
        this.partialFilled += copied;
        if (this.partialFilled < frame.length) return;
        this.partialFrame = null;
        this.partialFilled = 0;
        this.sink(frame);
        continue;
      }
      let frameBytes: number;
      if (this.sizeBytesRead === 0 && end - position >= SIZE_PREFIX_BYTES) {
        frameBytes = chunk.readInt32BE(position);
        position += SIZE_PREFIX_BYTES;
      } else {
        // `<<` works on int32, so after the fourth byte the accumulator is the signed big-endian size.
        this.sizeAccumulator = (this.sizeAccumulator << 8) | chunk[position]!;
        position++;
        if (++this.sizeBytesRead < SIZE_PREFIX_BYTES) continue;
        frameBytes = this.sizeAccumulator;
        this.sizeAccumulator = 0;
        this.sizeBytesRead = 0;
      }
      if (frameBytes < MIN_RESPONSE_FRAME_BYTES || frameBytes > this.maxFrameBytes) {
        this.rejectedFrameBytes = frameBytes;
        throw new ProtocolError(
          `response frame size ${frameBytes} is outside ${MIN_RESPONSE_FRAME_BYTES}..${this.maxFrameBytes}`,
        );
      }
      if (end - position >= frameBytes) {
        // The whole frame is in this chunk: hand out a view, no copy (unless the chunk is reused).
        const frame = chunk.subarray(position, position + frameBytes);
        this.sink(transient ? Buffer.from(frame) : frame);
        position += frameBytes;
      } else {
        this.partialFrame = Buffer.allocUnsafe(frameBytes);
        this.partialFilled = chunk.copy(this.partialFrame, 0, position, end);
        return;
      }
    }
  }
}

interface PendingRequest {
  readonly apiKey: number;
  readonly apiName: string;
  readonly version: number;
  readonly decode: (r: Reader, version: number) => unknown;
  readonly resolve: (response: unknown) => void;
  readonly reject: (error: KafkaClientError) => void;
  timer: NodeJS.Timeout | null;
}

/** `handshaking`: the socket is open and only the ApiVersions and SASL exchanges may use it. */
type State = 'idle' | 'connecting' | 'handshaking' | 'connected' | 'closed';

let softwareVersionPromise: Promise<string> | null = null;

/** The client's version for KIP-511, read once from the package.json of the sluice package above this file. */
function clientSoftwareVersion(): Promise<string> {
  softwareVersionPromise ??= (async () => {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (;;) {
      try {
        const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
          name?: unknown;
          version?: unknown;
        };
        if (pkg.name === 'sluice' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // No (readable) package.json here: keep walking up.
      }
      const parent = dirname(dir);
      // KIP-511 only needs a token; a missing package.json (bundled builds) must not stop the connection.
      if (parent === dir) return 'unknown';
      dir = parent;
    }
  })();
  return softwareVersionPromise;
}

/**
 * ApiVersions responses to a version the broker does not support come in the v0 layout (error code and the
 * broker's ranges), whatever version was asked: read those as v0.
 */
const ApiVersionsWithFallback: ApiDescriptor<ApiVersionsRequest, ApiVersionsResponse> = {
  key: ApiVersionsApi.key,
  name: ApiVersionsApi.name,
  minVersion: ApiVersionsApi.minVersion,
  maxVersion: ApiVersionsApi.maxVersion,
  encodeRequest: (w, request, version) => ApiVersionsApi.encodeRequest(w, request, version),
  decodeResponse(r, version) {
    const errorCode = r.remaining >= 2 ? r.buf.readInt16BE(r.offset) : ErrorCode.NONE;
    return ApiVersionsApi.decodeResponse(r, errorCode === ErrorCode.UNSUPPORTED_VERSION ? 0 : version);
  },
};

export class BrokerConnection {
  readonly host: string;
  readonly port: number;
  readonly nodeId: number;
  private readonly clientId: string;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly logger: ClientLogger;
  private readonly sasl: SaslOptions | undefined;
  private readonly tls: TlsSettings | undefined;

  private state: State = 'idle';
  private socket: net.Socket | null = null;
  private connecting: Promise<void> | null = null;
  private nextCorrelationId = 0;
  private readonly pending = new Map<number, PendingRequest>();
  /** Correlation ids of requests that timed out, oldest first (a Map keeps insertion order). */
  private readonly timedOut = new Map<number, true>();
  private brokerVersions = new Map<number, VersionRange>();

  constructor(options: BrokerConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.nodeId = options.nodeId;
    this.clientId = options.clientId;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.logger = options.logger ?? silentLogger;
    this.sasl = options.sasl;
    this.tls = options.tls;
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }

  /** Requests sent and not yet answered (or timed out): a measure of load for picking a broker. */
  get inFlightCount(): number {
    return this.pending.size;
  }

  /** The broker's supported version range per API key, as advertised in ApiVersions. */
  get apiVersions(): ReadonlyMap<number, VersionRange> {
    return this.brokerVersions;
  }

  /** Opens the socket and negotiates versions. Safe to call again after the connection was lost. */
  connect(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new ClientClosedError('the connection is closed'));
    if (this.state === 'connected') return Promise.resolve();
    this.connecting ??= this.establish().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** The highest version of `api` both sides support; `clientMax` lowers the client side's maximum. */
  versionFor(
    api: { key: number; name?: string; minVersion: number; maxVersion: number },
    clientMax?: number,
  ): number {
    const name = api.name ?? `API key ${api.key}`;
    const broker = this.brokerVersions.get(api.key);
    if (broker === undefined) {
      throw new UnsupportedVersionError(`broker ${this.address} does not support ${name}`);
    }
    const high = Math.min(api.maxVersion, clientMax ?? api.maxVersion, broker.max);
    const low = Math.max(api.minVersion, broker.min);
    if (high < low) {
      throw new UnsupportedVersionError(
        `no common version of ${name}: client ${api.minVersion}..${Math.min(api.maxVersion, clientMax ?? api.maxVersion)}, broker ${this.address} ${broker.min}..${broker.max}`,
      );
    }
    return high;
  }

  send<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    request: Req,
    options: SendOptions & { expectResponse: false },
  ): Promise<undefined>;
  send<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    request: Req,
    options?: SendOptions & { expectResponse?: true },
  ): Promise<Res>;
  send<Req, Res>(api: ApiDescriptor<Req, Res>, request: Req, options?: SendOptions): Promise<Res | undefined>;
  send<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    request: Req,
    options: SendOptions = {},
  ): Promise<Res | undefined> {
    if (this.state !== 'connected') {
      return Promise.reject(
        this.state === 'closed'
          ? new ClientClosedError('the connection is closed')
          : new ConnectionError(`not connected to broker ${this.address}`),
      );
    }
    let version: number;
    try {
      version = options.version ?? this.versionFor(api);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.transmit(
      api,
      request,
      version,
      options.timeoutMs ?? this.requestTimeoutMs,
      options.expectResponse ?? true,
    );
  }

  /** Closes the socket; requests in flight fail with ClientClosedError. The connection cannot be reused. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const socket = this.socket;
    this.socket = null;
    this.failAll(new ClientClosedError('the connection was closed while the request was in flight'));
    if (socket === null || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      // A peer that never acknowledges the FIN must not keep close() waiting.
      setTimeout(() => socket.destroy(), this.connectTimeoutMs).unref();
    });
  }

  private get address(): string {
    return `${this.host}:${this.port} (node ${this.nodeId})`;
  }

  private async establish(): Promise<void> {
    this.state = 'connecting';
    const decoder = new ResponseFrameDecoder(
      Math.min(this.maxResponseBytes, HANDSHAKE_MAX_RESPONSE_BYTES),
      (frame) => this.onFrame(frame),
    );
    let socketError: unknown;
    let socket: net.Socket;
    try {
      socket = await this.openSocket(decoder, (error) => {
        socketError = error;
      });
    } catch (error) {
      if (this.state === 'connecting') this.state = 'idle';
      throw error;
    }
    if (this.state !== 'connecting') {
      socket.destroy();
      throw new ClientClosedError('the connection was closed while connecting');
    }
    this.socket = socket;
    socket.once('close', () => this.lose(socket, 'connection closed by the broker', socketError));
    // Not connected until the versions are known and SASL (if any) has succeeded: a caller must never get a
    // connection whose versionFor cannot answer yet, nor one the broker would close at its first request.
    this.state = 'handshaking';
    let step = 'ApiVersions negotiation';
    try {
      this.brokerVersions = await this.negotiateVersions();
      if (this.sasl !== undefined) {
        step = 'SASL authentication';
        await this.authenticate(this.sasl);
      }
      decoder.maxFrameBytes = this.maxResponseBytes;
      if (this.state === 'handshaking') this.state = 'connected';
      this.logger.debug('connected', { host: this.host, port: this.port, nodeId: this.nodeId });
    } catch (error) {
      this.lose(socket, `${step} failed`, error);
      throw this.handshakeFailure(error, step === 'ApiVersions negotiation', decoder) ?? error;
    }
  }

  /**
   * A clearer error for a failure before the connection is up, or null when the original says it best: a TLS alert
   * from the broker; a TLS broker closing before ApiVersions is answered (how it refuses a client certificate
   * after a TLS 1.3 handshake); a plaintext client getting a TLS record back, or no answer at all.
   */
  private handshakeFailure(
    error: unknown,
    duringApiVersions: boolean,
    decoder: ResponseFrameDecoder,
  ): TlsError | ConnectionError | null {
    if (!(error instanceof ConnectionError)) return null;
    const cause = error.cause;
    if (this.tls === undefined) {
      const rejected = decoder.rejectedFrameBytes;
      if (rejected !== null && isTlsRecordHeader(rejected)) return tlsExpectedError(this.address, cause);
      if (duringApiVersions && cause === undefined) {
        // No proof of TLS (the broker sent nothing), so it stays a retriable ConnectionError, with the hint.
        return new ConnectionError(
          `broker ${this.address} closed the connection before answering ApiVersions (an SSL or SASL_SSL ` +
            'listener does this to a client without TLS)',
        );
      }
      return null;
    }
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_SSL_'))
      return tlsRefusalError(this.address, cause, this.tls);
    if (duringApiVersions && (cause === undefined || code === 'ECONNRESET' || code === 'EPIPE')) {
      return tlsClosedError(this.address, cause, this.tls);
    }
    return null;
  }

  /**
   * SaslHandshake v1 names the mechanism, then SaslAuthenticate requests carry the mechanism's tokens. Every
   * refusal is a typed, non-retriable error: the broker closes the connection after it, and the same
   * credentials would be refused again.
   */
  private async authenticate(sasl: SaslOptions): Promise<void> {
    const exchange = createSaslExchange(sasl);
    const handshakeVersion = this.saslVersion(SaslHandshakeApi, SASL_HANDSHAKE_VERSION);
    const authenticateVersion = this.saslVersion(SaslAuthenticateApi, SaslAuthenticateApi.minVersion);
    const handshake = (await this.transmit(
      SaslHandshakeApi,
      { mechanism: exchange.mechanism },
      handshakeVersion,
      this.requestTimeoutMs,
      true,
    )) as SaslHandshakeResponse;
    if (handshake.errorCode !== ErrorCode.NONE) throw this.handshakeError(exchange.mechanism, handshake);
    let token: Buffer | null = await exchange.start();
    for (let round = 0; token !== null; round++) {
      if (round === MAX_SASL_ROUNDS) {
        throw new SaslAuthenticationError(
          ErrorCode.SASL_AUTHENTICATION_FAILED,
          `${exchange.mechanism} authentication to ${this.address} did not finish within ${MAX_SASL_ROUNDS} round trips`,
        );
      }
      const response = (await this.transmit(
        SaslAuthenticateApi,
        { authBytes: token },
        authenticateVersion,
        this.requestTimeoutMs,
        true,
      )) as SaslAuthenticateResponse;
      if (response.errorCode !== ErrorCode.NONE) {
        const reason = response.errorMessage ?? errorInfo(response.errorCode).message;
        throw errorFromCode(
          response.errorCode,
          `${exchange.mechanism} authentication as '${sasl.username}' to ${this.address} failed: ${reason}`,
        );
      }
      try {
        token = await exchange.respond(response.authBytes);
      } catch (error) {
        if (!(error instanceof SaslAuthenticationError)) throw error;
        throw new SaslAuthenticationError(
          ErrorCode.SASL_AUTHENTICATION_FAILED,
          `authentication as '${sasl.username}' to ${this.address} failed: ${error.message}`,
        );
      }
    }
    this.logger.debug('authenticated', { nodeId: this.nodeId, mechanism: exchange.mechanism });
  }

  /** The highest SASL API version both sides support, at least `minVersion`; a clear error otherwise. */
  private saslVersion(
    api: { key: number; name: string; minVersion: number; maxVersion: number },
    minVersion: number,
  ): number {
    const broker = this.brokerVersions.get(api.key);
    if (broker === undefined || broker.max < minVersion) {
      throw new UnsupportedVersionError(
        `broker ${this.address} does not support ${api.name} v${minVersion}+, which SASL authentication needs ` +
          `(the broker is older than Kafka 1.0, or does not speak SASL)`,
      );
    }
    return this.versionFor({ ...api, minVersion });
  }

  private handshakeError(mechanism: string, response: SaslHandshakeResponse): KafkaClientError {
    switch (response.errorCode) {
      case ErrorCode.UNSUPPORTED_SASL_MECHANISM:
        return new UnsupportedSaslMechanismError(
          response.errorCode,
          `broker ${this.address} does not enable SASL mechanism ${mechanism}; it enables: ${
            response.mechanisms.length === 0 ? 'none' : response.mechanisms.join(', ')
          }`,
          { enabledMechanisms: response.mechanisms },
        );
      case ErrorCode.ILLEGAL_SASL_STATE:
        return new IllegalSaslStateError(
          response.errorCode,
          `broker ${this.address} refused the SASL handshake: its listener does not use SASL (PLAINTEXT?)`,
        );
      default:
        return errorFromCode(response.errorCode, `SaslHandshake to ${this.address} failed`);
    }
  }

  /**
   * Connects with reads going straight into the decoder's buffers (no per-read allocation or copy); with TLS
   * settings, resolves once the TLS handshake is done. `onError` receives the socket's later errors: it is
   * attached before the promise resolves, so an error emitted in between is not left without a listener.
   */
  private openSocket(decoder: ResponseFrameDecoder, onError: (error: Error) => void): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const onread = {
        buffer: () => decoder.readTarget(),
        callback: (bytes: number, target: Uint8Array) => {
          try {
            decoder.onRead(bytes, target as Buffer);
          } catch (error) {
            this.lose(socket, 'the response stream is out of step', error);
          }
          return true;
        },
      };
      const tls = this.tls;
      const socket =
        tls === undefined
          ? net.connect({ host: this.host, port: this.port, onread })
          : tlsConnect(this.tlsConnectOptions(tls, onread));
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      let tcpConnected = false;
      const timer = setTimeout(() => {
        socket.destroy();
        const what = tcpConnected ? 'the TLS handshake with' : 'connecting to';
        reject(new ConnectionError(`${what} ${this.address} timed out after ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      const onConnectError = (error: Error) => {
        clearTimeout(timer);
        // Once TCP is up, a failure is the TLS handshake's: typed and final, not a reason to retry.
        if (tls !== undefined && tcpConnected) {
          reject(tlsHandshakeError(this.address, error, tls));
        } else {
          reject(
            new ConnectionError(`cannot connect to ${this.address}: ${error.message}`, { cause: error }),
          );
        }
      };
      socket.once('error', onConnectError);
      socket.once('connect', () => {
        tcpConnected = true;
        if (tls === undefined) ready();
      });
      if (tls !== undefined) socket.once('secureConnect', ready);
      function ready(): void {
        clearTimeout(timer);
        socket.off('error', onConnectError);
        socket.on('error', onError);
        resolve(socket);
      }
    });
  }

  /** node's tls.connect takes `onread` as net.connect does (documented; missing from @types/node 20). */
  private tlsConnectOptions(
    tls: TlsSettings,
    onread: net.OnReadOpts,
  ): ConnectionOptions & { onread: net.OnReadOpts } {
    const options: ConnectionOptions & { onread: net.OnReadOpts } = {
      host: this.host,
      port: this.port,
      onread,
      secureContext: tls.secureContext,
      rejectUnauthorized: tls.rejectUnauthorized,
    };
    // SNI carries host names only; an IP address is checked against the certificate's IP entries.
    const servername = tls.servername ?? (net.isIP(this.host) === 0 ? this.host : undefined);
    if (servername !== undefined) options.servername = servername;
    return options;
  }

  /** ApiVersions v3 first; on UNSUPPORTED_VERSION retry at min(3, broker's max) or v0, per KIP-511. */
  private async negotiateVersions(): Promise<Map<number, VersionRange>> {
    const request: ApiVersionsRequest = {
      clientSoftwareName: CLIENT_SOFTWARE_NAME,
      clientSoftwareVersion: await clientSoftwareVersion(),
    };
    let version = API_VERSIONS_FIRST_VERSION;
    // Two attempts at most: the first at v3, the second at a version the broker itself named (or v0).
    for (let attempt = 0; ; attempt++) {
      const response = (await this.transmit(
        ApiVersionsWithFallback,
        request,
        version,
        this.requestTimeoutMs,
        true,
      )) as ApiVersionsResponse;
      const ranges = new Map<number, VersionRange>();
      for (const entry of response.apiKeys)
        ranges.set(entry.apiKey, { min: entry.minVersion, max: entry.maxVersion });
      if (response.errorCode === ErrorCode.NONE) return ranges;
      if (attempt === 0 && response.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        const brokerMax = ranges.get(ApiVersionsApi.key)?.max;
        version = brokerMax !== undefined && brokerMax < version ? brokerMax : 0;
      } else if (attempt === 0 && response.errorCode === ErrorCode.INVALID_REQUEST) {
        // A broker that rejects the software name or version: v0 carries neither.
        version = 0;
      } else {
        throw errorFromCode(response.errorCode, `ApiVersions v${version} failed on ${this.address}`);
      }
      this.logger.debug('retrying ApiVersions', { version, errorCode: response.errorCode });
    }
  }

  private allocateCorrelationId(): number {
    // Ids wrap at 2^31; skip one still in flight (only possible after billions of requests on one connection).
    do {
      this.nextCorrelationId = this.nextCorrelationId === MAX_CORRELATION_ID ? 0 : this.nextCorrelationId + 1;
    } while (this.pending.has(this.nextCorrelationId));
    return this.nextCorrelationId;
  }

  private transmit<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    request: Req,
    version: number,
    timeoutMs: number,
    expectResponse: boolean,
  ): Promise<Res | undefined> {
    const socket = this.socket;
    if (socket === null || (this.state !== 'connected' && this.state !== 'handshaking')) {
      return Promise.reject(new ConnectionError(`not connected to broker ${this.address}`));
    }
    const correlationId = this.allocateCorrelationId();
    let chunks: Buffer[];
    try {
      chunks = encodeFrame(api, request, version, correlationId, this.clientId);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!expectResponse) {
      return new Promise((resolve, reject) => {
        writeChunks(socket, chunks, (error) => {
          if (error)
            reject(
              new ConnectionError(`write to ${this.address} failed: ${error.message}`, { cause: error }),
            );
          else resolve(undefined);
        });
      });
    }
    return new Promise<Res>((resolve, reject) => {
      const entry: PendingRequest = {
        apiKey: api.key,
        apiName: api.name,
        version,
        decode: (r, v) => api.decodeResponse(r, v),
        resolve: resolve as (response: unknown) => void,
        reject,
        timer: null,
      };
      entry.timer = setTimeout(() => this.onTimeout(correlationId, timeoutMs), timeoutMs);
      this.pending.set(correlationId, entry);
      // A failed write also closes the socket, and 'close' rejects everything in flight.
      writeChunks(socket, chunks);
    });
  }

  private onTimeout(correlationId: number, timeoutMs: number): void {
    const entry = this.pending.get(correlationId);
    if (entry === undefined) return;
    this.pending.delete(correlationId);
    this.timedOut.set(correlationId, true);
    if (this.timedOut.size > MAX_REMEMBERED_TIMEOUTS) {
      const oldest = this.timedOut.keys().next().value;
      if (oldest !== undefined) this.timedOut.delete(oldest);
    }
    entry.reject(
      new RequestTimeoutError(
        `${entry.apiName} v${entry.version} to ${this.address} got no response within ${timeoutMs} ms`,
      ),
    );
  }

  private onFrame(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const entry = this.pending.get(correlationId);
    if (entry === undefined) {
      if (this.timedOut.delete(correlationId)) {
        this.logger.debug('discarding a late response', { correlationId, nodeId: this.nodeId });
        return;
      }
      // The broker answered something never asked: framing may be intact but the exchange is not.
      throw new ProtocolError(`response with unknown correlation id ${correlationId} from ${this.address}`);
    }
    this.pending.delete(correlationId);
    if (entry.timer !== null) clearTimeout(entry.timer);
    let response: unknown;
    try {
      const reader = new Reader(frame);
      ResponseHeaderCodec.decode(reader, responseHeaderVersion(entry.apiKey, entry.version));
      response = entry.decode(reader, entry.version);
    } catch (error) {
      entry.reject(
        new ProtocolError(
          `cannot decode ${entry.apiName} v${entry.version} response from ${this.address}: ${(error as Error).message}`,
          { cause: error },
        ),
      );
      return;
    }
    entry.resolve(response);
  }

  /** The socket is gone (or unusable): fail everything in flight and allow a later connect(). */
  private lose(socket: net.Socket, reason: string, cause: unknown): void {
    if (!socket.destroyed) socket.destroy();
    // A socket already replaced (its 'close' event may come after a reconnect) must not touch the new one.
    if (this.socket !== socket) return;
    this.socket = null;
    if (this.state === 'closed') return;
    if (this.state === 'connected' || this.state === 'handshaking') this.state = 'idle';
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    this.failAll(new ConnectionError(`${reason} (${this.address})${detail}`, { cause }));
    this.logger.debug('connection lost', { host: this.host, port: this.port, nodeId: this.nodeId, reason });
  }

  private failAll(error: KafkaClientError): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    this.timedOut.clear();
    for (const entry of entries) {
      if (entry.timer !== null) clearTimeout(entry.timer);
      entry.reject(error);
    }
  }
}

/** `[int32 size][request header][body]` as chunks; the size is patched into the first chunk. */
function encodeFrame<Req>(
  api: ApiDescriptor<Req, unknown>,
  request: Req,
  version: number,
  correlationId: number,
  clientId: string,
): Buffer[] {
  const w = new Writer();
  w.writeInt32(0);
  RequestHeaderCodec.encode(
    w,
    { requestApiKey: api.key, requestApiVersion: version, correlationId, clientId },
    requestHeaderVersion(api.key, version),
  );
  api.encodeRequest(w, request, version);
  const size = w.length - SIZE_PREFIX_BYTES;
  const chunks = w.toChunks();
  // The first write went into the scratch buffer, so chunk 0 starts with the 4 placeholder bytes.
  chunks[0]!.writeInt32BE(size, 0);
  return chunks;
}

/** One syscall per request: a single write, or corked writes flushed together. */
function writeChunks(
  socket: net.Socket,
  chunks: readonly Buffer[],
  callback?: (error?: Error | null) => void,
): void {
  if (chunks.length === 1) {
    socket.write(chunks[0]!, callback);
    return;
  }
  socket.cork();
  const last = chunks.length - 1;
  for (let i = 0; i < last; i++) socket.write(chunks[i]!);
  socket.write(chunks[last]!, callback);
  socket.uncork();
}
