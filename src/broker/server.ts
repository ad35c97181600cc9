import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { BufferPool } from '../common/buffer-pool.js';
import {
  Connection,
  type ConnectionInfo,
  type RequestHandler,
  type ServerCounters,
  type ServerLogger,
} from './connection.js';
import { ReceivedGarbageCollector } from './received-garbage.js';
import { RequestMemory } from './request-memory.js';
import type { SaslSession } from './security/index.js';

export type {
  ConnectionInfo,
  LogFn,
  RequestFrame,
  RequestHandler,
  ResponseChunks,
  ServerLogger,
} from './connection.js';
export {
  InvalidResponseError,
  PeerProtocolError,
  RAW_SASL_TOKEN,
  ResponseTooLargeError,
} from './connection.js';

export interface ServerOptions {
  host: string;
  port: number;
  handler: RequestHandler;
  logger: ServerLogger;
  /** socket.request.max.bytes: a larger size prefix closes the connection before anything is buffered. */
  maxRequestBytes: number;
  /** Per connection: reading stops while this many requests await their response. */
  maxInFlightRequests: number;
  /** Per connection: reading stops while this many response bytes wait to be written. */
  maxQueuedResponseBytes: number;
  /** connections.max.idle.ms: close connections with no traffic and nothing outstanding for this long. */
  idleTimeoutMs: number;
  /** Reported to the handler in ConnectionInfo.listener; defaults to 'PLAINTEXT'. */
  listenerName?: string;
  /** On a SASL listener: each connection's authentication, which must complete before other requests. */
  createSaslSession?: () => SaslSession;
  /** sasl.server.max.receive.size: the largest frame read before authentication. Default 524288. */
  maxUnauthenticatedRequestBytes?: number;
  /** On an SSL or SASL_SSL listener: the TLS server options (key, certificate, client authentication). */
  tls?: TlsOptions;
  /** Large request frames are assembled in buffers from this pool (see RequestFrame.hold). */
  bufferPool?: BufferPool;
  /**
   * queued.max.request.bytes: across all connections, reading stops while requests of this many bytes await
   * their response (request-memory.ts). Unbounded when not given.
   */
  maxQueuedRequestBytes?: number;
  /**
   * Instead of maxQueuedRequestBytes: a bound shared with other servers, so that one limit holds across all
   * of a broker's listeners.
   */
  requestMemory?: RequestMemory;
}

/**
 * Kafka's default SSL principal: `User:` and the certificate subject in RFC 2253 order (most specific first),
 * for a certificate the handshake verified; null without one.
 */
function sslPrincipal(socket: TLSSocket): string | null {
  if (!socket.authorized) return null;
  const subject = socket.getPeerCertificate().subject as Record<string, string | string[]> | undefined;
  if (subject === undefined || Object.keys(subject).length === 0) return null;
  const escapeRdn = (value: string) => value.replace(/([,+"\\<>;])/g, '\\$1');
  const parts = Object.entries(subject).flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value]).map((v) => `${key}=${escapeRdn(v)}`),
  );
  return `User:${parts.reverse().join(',')}`;
}

/** Socket input between minor collections (src/broker/received-garbage.ts). */
const RECEIVED_BYTES_PER_COLLECTION = 16 * 1024 * 1024;

export interface ServerStats extends ServerCounters {
  connectionsOpen: number;
  /** Summed over open connections at the time of the call. */
  inFlightRequests: number;
  queuedResponseBytes: number;
  readPausedConnections: number;
}

/** An option is not a positive integer (or is otherwise unusable). */
export class InvalidServerOptionError extends Error {
  override name = 'InvalidServerOptionError';
  constructor(
    readonly option: string,
    readonly value: unknown,
  ) {
    super(`server option ${option} must be a positive integer, got ${String(value)}`);
  }
}

const MAX_IDLE_SWEEP_INTERVAL_MS = 1000;
const MIN_IDLE_SWEEP_INTERVAL_MS = 10;

/**
 * The TCP layer of the broker: accepts connections and carries Kafka request and response frames between
 * sockets and the request handler. It knows nothing about API bodies.
 */
export class KafkaServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly receivedGarbage = new ReceivedGarbageCollector(RECEIVED_BYTES_PER_COLLECTION);
  private readonly counters: ServerCounters = {
    connectionsAccepted: 0,
    requestsReceived: 0,
    responsesSent: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesRejected: 0,
    handlerErrors: 0,
    idleConnectionsClosed: 0,
    readPauses: 0,
    tlsHandshakeFailures: 0,
  };
  private readonly listenerName: string;
  private readonly requestMemory: RequestMemory | null;
  private nextConnectionId = 1;
  private idleSweepTimer: NodeJS.Timeout | null = null;
  private closePromise: Promise<void> | null = null;
  private onAllConnectionsClosed: (() => void) | null = null;

  constructor(private readonly options: ServerOptions) {
    for (const option of [
      'maxRequestBytes',
      'maxInFlightRequests',
      'maxQueuedResponseBytes',
      'idleTimeoutMs',
    ] as const) {
      const value = options[option];
      if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidServerOptionError(option, value);
    }
    this.listenerName = options.listenerName ?? 'PLAINTEXT';
    const queuedRequestBytes = options.maxQueuedRequestBytes;
    if (
      queuedRequestBytes !== undefined &&
      (!Number.isSafeInteger(queuedRequestBytes) || queuedRequestBytes <= 0)
    ) {
      throw new InvalidServerOptionError('maxQueuedRequestBytes', queuedRequestBytes);
    }
    this.requestMemory =
      options.requestMemory ??
      (queuedRequestBytes === undefined ? null : new RequestMemory(queuedRequestBytes));
    const socketOptions = { allowHalfOpen: true, noDelay: true, keepAlive: true };
    if (options.tls === undefined) {
      this.server = createServer(socketOptions, (socket) => this.accept(socket));
    } else {
      // Connections are accepted once their TLS handshake is done; a failed handshake is the client's problem
      // (wrong CA, no certificate where one is required), logged but no broker error.
      this.server = createTlsServer({ ...options.tls, ...socketOptions }, (socket: TLSSocket) =>
        this.accept(socket),
      );
      this.server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
        this.counters.tlsHandshakeFailures++;
        this.options.logger.info(
          { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, reason: error.message },
          'TLS handshake failed',
        );
      });
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onListenError = (error: Error) => reject(error);
      this.server.once('error', onListenError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onListenError);
        // After listening, errors are accept failures (e.g. EMFILE); the server keeps going.
        this.server.on('error', (error) => this.options.logger.error({ err: error }, 'server socket error'));
        this.startIdleSweep();
        const address = this.server.address() as AddressInfo;
        this.options.logger.info(
          { listener: this.listenerName, host: address.address, port: address.port },
          'listening',
        );
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /**
   * Stops accepting, stops reading new requests, lets in-flight requests finish and their responses flush, then
   * ends the sockets; whatever is still open after timeoutMs is destroyed. Resolves when every socket is closed.
   */
  close(timeoutMs: number): Promise<void> {
    if (this.closePromise !== null) return this.closePromise;
    this.stopIdleSweep();
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connectionsClosed = new Promise<void>((resolve) => {
      if (this.connections.size === 0) resolve();
      else this.onAllConnectionsClosed = resolve;
    });
    for (const connection of this.connections) connection.beginGracefulClose();
    const forceCloseTimer = setTimeout(() => {
      if (this.connections.size > 0) {
        this.options.logger.warn(
          { connections: this.connections.size, timeoutMs },
          'graceful close timed out; destroying connections',
        );
      }
      for (const connection of this.connections) connection.destroy('graceful close timed out');
    }, timeoutMs);
    this.closePromise = Promise.all([serverClosed, connectionsClosed]).then(() => {
      clearTimeout(forceCloseTimer);
      this.options.logger.info({}, 'server closed');
    });
    return this.closePromise;
  }

  stats(): ServerStats {
    let inFlightRequests = 0;
    let queuedResponseBytes = 0;
    let readPausedConnections = 0;
    for (const connection of this.connections) {
      inFlightRequests += connection.inFlightRequests;
      queuedResponseBytes += connection.queuedResponseBytes;
      if (connection.isReadingPaused) readPausedConnections++;
    }
    return {
      ...this.counters,
      connectionsOpen: this.connections.size,
      inFlightRequests,
      queuedResponseBytes,
      readPausedConnections,
    };
  }

  private accept(socket: Socket | TLSSocket): void {
    if (this.closePromise !== null) {
      socket.destroy();
      return;
    }
    if ('getPeerCertificate' in socket && this.refusesClientCertificate(socket)) return;
    this.counters.connectionsAccepted++;
    socket.setNoDelay(true);
    const info: ConnectionInfo = {
      id: this.nextConnectionId++,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      listener: this.listenerName,
      sasl: this.options.createSaslSession?.() ?? null,
      sslPrincipal: 'getPeerCertificate' in socket ? sslPrincipal(socket) : null,
    };
    const connection = new Connection(
      socket,
      info,
      this.options.handler,
      this.options,
      this.counters,
      this.options.logger,
      this.options.bufferPool ?? null,
      this.receivedGarbage,
      this.requestMemory,
    );
    this.connections.add(connection);
    socket.once('close', () => {
      this.connections.delete(connection);
      if (this.connections.size === 0 && this.onAllConnectionsClosed !== null) this.onAllConnectionsClosed();
    });
    this.options.logger.debug({ connection: info }, 'connection accepted');
  }

  /**
   * With ssl.client.auth=requested Node completes the handshake whatever certificate the client presents. As
   * Kafka, a presented certificate must be trusted; only presenting none is allowed.
   */
  private refusesClientCertificate(socket: TLSSocket): boolean {
    if (socket.authorized || Object.keys(socket.getPeerCertificate()).length === 0) return false;
    this.counters.tlsHandshakeFailures++;
    this.options.logger.info(
      {
        remoteAddress: socket.remoteAddress,
        remotePort: socket.remotePort,
        reason: String(socket.authorizationError),
      },
      'TLS client certificate refused',
    );
    socket.destroy();
    return true;
  }

  private startIdleSweep(): void {
    const intervalMs = Math.min(
      MAX_IDLE_SWEEP_INTERVAL_MS,
      Math.max(MIN_IDLE_SWEEP_INTERVAL_MS, Math.floor(this.options.idleTimeoutMs / 4)),
    );
    this.idleSweepTimer = setInterval(() => this.closeIdleConnections(), intervalMs);
    this.idleSweepTimer.unref();
  }

  private stopIdleSweep(): void {
    if (this.idleSweepTimer !== null) clearInterval(this.idleSweepTimer);
    this.idleSweepTimer = null;
  }

  private closeIdleConnections(): void {
    const nowMs = Date.now();
    for (const connection of this.connections) {
      if (!connection.isIdle(nowMs, this.options.idleTimeoutMs)) continue;
      this.counters.idleConnectionsClosed++;
      connection.destroy('idle');
    }
  }
}
