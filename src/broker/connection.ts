import type { Socket } from 'node:net';
import type { BufferPool, PooledBuffer } from '../common/buffer-pool.js';
import { FrameDecodeError, FrameDecoder, MIN_REQUEST_FRAME_BYTES } from './frame-decoder.js';
import type { ReceivedGarbageCollector } from './received-garbage.js';
import type { RequestMemory } from './request-memory.js';
import type { SaslSession } from './security/index.js';

/** Who is on the other end of a connection; passed to the request handler with every request. */
export interface ConnectionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  /** Name of the listener the connection came in on (`listeners`); brokers are advertised per listener. */
  listener: string;
  /** On a SASL listener, the connection's authentication; null where none is required. */
  sasl: SaslSession | null;
  /** On a TLS listener, `User:` and the distinguished name of the client's verified certificate, if any. */
  sslPrincipal: string | null;
}

/** RequestFrame.apiKey of a raw SASL token (after SaslHandshake v0): the frame has no request header. */
export const RAW_SASL_TOKEN = -1;

export interface RequestFrame {
  /** RAW_SASL_TOKEN when the frame is a raw SASL token rather than a request. */
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** The whole request after the size prefix, header included; a subarray of the socket chunk when possible. */
  payload: Buffer;
  /**
   * Set when `payload` lives in a pooled buffer: the handler owns this reference and releases it once nothing
   * reads the payload any more; if it never does, the buffer is simply not reused.
   */
  hold: PooledBuffer | null;
}

/**
 * A response without its size prefix, as chunks written by reference. `onWritten`, if set, runs once when
 * the chunks have been handed to the kernel, or when they never will be (the connection closed): the
 * handler's cue to release memory the chunks hold.
 */
export type ResponseChunks = Buffer[] & {
  onWritten?: () => void;
  /** Close the connection once this response is written (Kafka does after a failed SASL authentication). */
  closeConnection?: boolean;
};

/**
 * Returns the response, or null to send nothing (Produce with acks=0). A thrown or rejected error closes
 * that connection.
 */
export type RequestHandler = (
  request: RequestFrame,
  connection: ConnectionInfo,
) => Promise<ResponseChunks | null> | ResponseChunks | null;

function released(response: ResponseChunks | null): void {
  const onWritten = response?.onWritten;
  if (onWritten === undefined) return;
  response!.onWritten = undefined;
  onWritten();
}

/** Matches pino's `logger.info(context, message)` calling convention. */
export type LogFn = (context: Record<string, unknown>, message: string) => void;

export interface ServerLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** Monotonic counters shared by the server and all its connections (plain fields: bumped on hot paths). */
export interface ServerCounters {
  connectionsAccepted: number;
  requestsReceived: number;
  responsesSent: number;
  bytesIn: number;
  bytesOut: number;
  framesRejected: number;
  handlerErrors: number;
  idleConnectionsClosed: number;
  readPauses: number;
  tlsHandshakeFailures: number;
}

export interface ConnectionLimits {
  maxRequestBytes: number;
  /** Before SASL authentication completes (Kafka's sasl.server.max.receive.size). */
  maxUnauthenticatedRequestBytes?: number;
  maxInFlightRequests: number;
  maxQueuedResponseBytes: number;
}

/** A handler produced a response whose size cannot be expressed in the int32 size prefix. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
  constructor(readonly responseBytes: number) {
    super(`response of ${responseBytes} bytes does not fit an int32 size prefix`);
  }
}

/**
 * Thrown by a handler when the peer broke the protocol (an unknown API, a request before SASL authentication,
 * a failed raw SASL exchange): its connection closes, and the broker logs it as the client's doing, not a fault.
 */
export class PeerProtocolError extends Error {
  override name = 'PeerProtocolError';
}

/** A handler returned something other than null, an array of Buffers, or a promise of one. */
export class InvalidResponseError extends Error {
  override name = 'InvalidResponseError';
  constructor() {
    super('request handler must return null, an array of Buffers, or a promise of one');
  }
}

const MAX_FRAME_BYTES = 0x7fffffff;
/** Kafka's default sasl.server.max.receive.size. */
const DEFAULT_MAX_UNAUTHENTICATED_REQUEST_BYTES = 524_288;
const PRODUCE_API_KEY = 0;
const INITIAL_SLOT_CAPACITY = 8;

/**
 * One request's place in the response order. Slots are recycled, and each carries its own settle callbacks so
 * that dispatching a request allocates no closures.
 */
interface ResponseSlot {
  /** Bytes of the request, counted in the broker's RequestMemory until it is answered (or fails). */
  requestBytes: number;
  done: boolean;
  response: ResponseChunks | null;
  responseBytes: number;
  readonly onResolved: (response: ResponseChunks | null) => void;
  readonly onRejected: (error: unknown) => void;
}

enum ConnectionState {
  /** Reading and answering requests. */
  Open = 0,
  /** No new requests are read; in-flight requests finish, their responses flush, then the socket ends. */
  Draining = 1,
  Closed = 2,
}

function uncorkSocket(connection: Connection): void {
  connection.uncork();
}

/**
 * One client connection: decodes request frames, runs the handler for each, writes responses strictly in
 * request order, and stops reading the socket while too much is outstanding.
 *
 * Kafka handles a connection's requests one at a time, and clients count on it: a ListOffsets sent after an
 * acks=0 Produce sees its records, an OffsetFetch sees the OffsetCommit before it. So a request starts only
 * once every earlier one has finished, with one exception: consecutive Produce requests run together. Their
 * appends are queued in request order before any of them waits, so offsets and what later requests see are
 * the same as one at a time, while a producer pipelining requests keeps its throughput.
 */
export class Connection {
  private state = ConnectionState.Open;
  private readonly decoder: FrameDecoder;
  /** Ring of response slots in request order: `inFlight` slots starting at `head`. */
  private slots: ResponseSlot[] = [];
  private head = 0;
  private inFlight = 0;
  /** Bytes of responses that are complete but wait behind an earlier, unfinished response. */
  private waitingResponseBytes = 0;
  private readingPaused = false;
  /** True while the decoder runs, so that completions it triggers do not re-enter it. */
  private decoding = false;
  private corked = false;
  private lastActivityMs = Date.now();
  /** Requests whose handler has not settled, and whether they are all Produce requests. */
  private running = 0;
  private runningProduce = false;
  /** A received request waiting for the running ones to finish; the decoder is stopped meanwhile. */
  private waiting: { frame: Buffer; hold: PooledBuffer | null } | null = null;
  /** The peer sent its FIN: answer what it sent, then close (endIfAnswered). */
  private peerEnded = false;

  constructor(
    private readonly socket: Socket,
    readonly info: ConnectionInfo,
    private readonly handler: RequestHandler,
    private readonly limits: ConnectionLimits,
    private readonly counters: ServerCounters,
    private readonly logger: ServerLogger,
    bufferPool: BufferPool | null,
    private readonly receivedGarbage: ReceivedGarbageCollector | null,
    private readonly requestMemory: RequestMemory | null = null,
  ) {
    this.decoder = new FrameDecoder(
      limits.maxRequestBytes,
      (frame, hold) => this.onFrame(frame, hold),
      bufferPool,
      true,
    );
    if (info.sasl !== null) this.matchFramesToSasl(info.sasl);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.updateReading());
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', (error: NodeJS.ErrnoException) => this.onSocketError(error));
    socket.on('close', () => this.onClose());
  }

  get inFlightRequests(): number {
    return this.inFlight;
  }

  /** Response bytes not yet handed to the kernel: waiting for order plus buffered in the socket. */
  get queuedResponseBytes(): number {
    return this.waitingResponseBytes + this.socket.writableLength;
  }

  get isReadingPaused(): boolean {
    return this.readingPaused;
  }

  /** True when nothing was received for idleTimeoutMs and no request or response is outstanding. */
  isIdle(nowMs: number, idleTimeoutMs: number): boolean {
    return (
      this.state === ConnectionState.Open &&
      this.inFlight === 0 &&
      this.socket.writableLength === 0 &&
      nowMs - this.lastActivityMs >= idleTimeoutMs
    );
  }

  /** Stops reading new requests; ends the socket once in-flight requests are answered and flushed. */
  beginGracefulClose(): void {
    if (this.state !== ConnectionState.Open) return;
    this.state = ConnectionState.Draining;
    this.decoder.discard();
    this.dropWaiting();
    // Keep consuming (and dropping) input: it lets the peer's FIN be seen, and closing a socket with unread
    // bytes would send a reset that can destroy responses the peer has not read yet.
    if (this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
    }
    if (this.inFlight === 0) this.socket.end();
  }

  destroy(reason: string): void {
    if (this.state === ConnectionState.Closed) return;
    this.logger.debug({ connection: this.info, reason }, 'closing connection');
    this.state = ConnectionState.Closed;
    this.decoder.discard();
    this.socket.destroy();
  }

  uncork(): void {
    this.corked = false;
    if (!this.socket.destroyed) this.socket.uncork();
  }

  private onData(chunk: Buffer): void {
    this.counters.bytesIn += chunk.length;
    this.lastActivityMs = Date.now();
    if (this.state !== ConnectionState.Open) {
      this.receivedGarbage?.received(chunk.length);
      return;
    }
    this.runDecoder(chunk);
    this.updateReading();
  }

  /** Pushes a chunk into the decoder, or resumes held input when `chunk` is null; false if it closed. */
  private runDecoder(chunk: Buffer | null): boolean {
    this.decoding = true;
    try {
      if (chunk === null) this.decoder.resume();
      // A chunk the decoder frees itself is no garbage for the collector to find.
      else if (!this.decoder.push(chunk)) this.receivedGarbage?.received(chunk.length);
      return true;
    } catch (error) {
      if (error instanceof FrameDecodeError) {
        this.counters.framesRejected++;
        this.logger.info({ connection: this.info, err: error }, 'rejected request frame');
        this.destroy(error.message);
      } else {
        this.logger.error({ connection: this.info, err: error }, 'unexpected error while reading requests');
        this.destroy('unexpected error');
      }
      return false;
    } finally {
      this.decoding = false;
    }
  }

  private onFrame(frame: Buffer, hold: PooledBuffer | null): boolean {
    if (this.state !== ConnectionState.Open) {
      hold?.release();
      return false;
    }
    this.counters.requestsReceived++;
    if (!this.mayStart(frame)) {
      this.waiting = { frame, hold };
      return false;
    }
    this.start(frame, hold);
    return this.state === ConnectionState.Open && !this.mustPauseReading();
  }

  private mayStart(frame: Buffer): boolean {
    return this.running === 0 || (this.runningProduce && frame.readInt16BE(0) === PRODUCE_API_KEY);
  }

  private start(frame: Buffer, hold: PooledBuffer | null): void {
    const slot = this.acquireSlot();
    slot.requestBytes = frame.length;
    this.requestMemory?.take(frame.length);
    const request: RequestFrame =
      this.info.sasl?.expectsRawToken === true
        ? { apiKey: RAW_SASL_TOKEN, apiVersion: -1, correlationId: -1, payload: frame, hold }
        : {
            apiKey: frame.readInt16BE(0),
            apiVersion: frame.readInt16BE(2),
            correlationId: frame.readInt32BE(4),
            payload: frame,
            hold,
          };
    // A start with others running is a Produce joining Produces (mayStart), so this holds for all of them.
    this.runningProduce = request.apiKey === PRODUCE_API_KEY;
    this.running++;
    let result: Promise<Buffer[] | null> | Buffer[] | null;
    try {
      result = this.handler(request, this.info);
    } catch (error) {
      this.releaseRequestMemory(slot);
      this.onHandlerError(error);
      return;
    }
    if (result === null || Array.isArray(result)) this.complete(slot, result);
    else if (typeof result?.then === 'function') result.then(slot.onResolved, slot.onRejected);
    else {
      this.releaseRequestMemory(slot);
      this.onHandlerError(new InvalidResponseError());
    }
  }

  /**
   * Frame limits follow the SASL state: a raw token (after SaslHandshake v0) has no request header to
   * size-check, and until authentication completes frames are capped as Kafka caps them, so that an
   * unauthenticated peer cannot make the broker buffer a full-size request.
   */
  private matchFramesToSasl(sasl: SaslSession): void {
    this.decoder.minFrameBytes = sasl.expectsRawToken ? 0 : MIN_REQUEST_FRAME_BYTES;
    this.decoder.maxFrameBytes = sasl.isAuthenticated
      ? this.limits.maxRequestBytes
      : Math.min(
          this.limits.maxRequestBytes,
          this.limits.maxUnauthenticatedRequestBytes ?? DEFAULT_MAX_UNAUTHENTICATED_REQUEST_BYTES,
        );
  }

  private releaseRequestMemory(slot: ResponseSlot): void {
    if (slot.requestBytes === 0) return;
    this.requestMemory?.give(slot.requestBytes);
    slot.requestBytes = 0;
  }

  /** Resumes reading, if nothing else holds it back, once the broker's request memory has room again. */
  private readonly onRequestMemoryRoom = (): void => this.updateReading();

  /** Starts the waiting request once it may; reading resumes with it. */
  private startWaiting(): void {
    const waiting = this.waiting;
    if (waiting === null || this.state !== ConnectionState.Open || !this.mayStart(waiting.frame)) return;
    this.waiting = null;
    this.start(waiting.frame, waiting.hold);
  }

  private dropWaiting(): void {
    this.waiting?.hold?.release();
    this.waiting = null;
  }

  private mustPauseReading(): boolean {
    return (
      this.inFlight >= this.limits.maxInFlightRequests ||
      this.waitingResponseBytes + this.socket.writableLength >= this.limits.maxQueuedResponseBytes ||
      this.socket.writableNeedDrain ||
      (this.requestMemory?.exhausted ?? false)
    );
  }

  /** Pauses or resumes reading to match the limits; the single place that decides it. */
  private updateReading(): void {
    if (this.decoding || this.state !== ConnectionState.Open) return;
    if (!this.mustPauseReading() && this.waiting === null && this.decoder.isStopped) {
      // Frames already received go first; they may fill the limits again.
      if (!this.runDecoder(null)) return;
    }
    if (this.mustPauseReading() || this.decoder.isStopped) {
      if (!this.readingPaused) {
        this.readingPaused = true;
        this.counters.readPauses++;
        this.socket.pause();
      }
      if (this.requestMemory?.exhausted) this.requestMemory.whenRoom(this.onRequestMemoryRoom);
    } else if (this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
    }
    this.endIfAnswered();
  }

  /**
   * After the peer's FIN: once every request it sent has been answered (those queued behind a running one
   * included), end our side too. A partial frame left in the decoder can never complete.
   */
  private endIfAnswered(): void {
    if (!this.peerEnded || this.state !== ConnectionState.Open) return;
    if (this.inFlight > 0 || this.waiting !== null || this.decoder.isStopped) return;
    this.beginGracefulClose();
  }

  private acquireSlot(): ResponseSlot {
    if (this.inFlight === this.slots.length) this.growSlots();
    const slot = this.slots[(this.head + this.inFlight) % this.slots.length]!;
    this.inFlight++;
    return slot;
  }

  private growSlots(): void {
    const capacity = Math.max(
      Math.min(Math.max(INITIAL_SLOT_CAPACITY, this.slots.length * 2), this.limits.maxInFlightRequests),
      this.slots.length + 1,
    );
    const grown: ResponseSlot[] = [];
    for (let i = 0; i < this.inFlight; i++) grown.push(this.slots[(this.head + i) % this.slots.length]!);
    while (grown.length < capacity) grown.push(this.createSlot());
    this.slots = grown;
    this.head = 0;
  }

  private createSlot(): ResponseSlot {
    const slot: ResponseSlot = {
      requestBytes: 0,
      done: false,
      response: null,
      responseBytes: 0,
      onResolved: (response) => {
        // Must not throw: the promise returned by `then` is dropped, so a throw would be an unhandled rejection.
        try {
          this.complete(slot, response);
        } catch (error) {
          this.onHandlerError(error);
        }
      },
      onRejected: (error) => {
        this.releaseRequestMemory(slot);
        this.onHandlerError(error);
      },
    };
    return slot;
  }

  private complete(slot: ResponseSlot, response: ResponseChunks | null): void {
    this.running--;
    this.releaseRequestMemory(slot);
    if (this.state === ConnectionState.Closed) {
      released(response);
      return;
    }
    let responseBytes = 0;
    if (response !== null) {
      if (!Array.isArray(response)) {
        this.onHandlerError(new InvalidResponseError());
        return;
      }
      for (const chunk of response) {
        if (!(chunk instanceof Uint8Array)) {
          this.onHandlerError(new InvalidResponseError());
          return;
        }
        responseBytes += chunk.length;
      }
    }
    if (responseBytes > MAX_FRAME_BYTES) {
      released(response);
      this.onHandlerError(new ResponseTooLargeError(responseBytes));
      return;
    }
    if (this.info.sasl !== null) this.matchFramesToSasl(this.info.sasl);
    slot.done = true;
    slot.response = response;
    slot.responseBytes = responseBytes;
    this.waitingResponseBytes += responseBytes;
    if (this.running === 0) this.startWaiting();
    if (slot === this.slots[this.head]) this.writeCompletedResponses();
    else this.updateReading();
  }

  /** Writes every completed response at the head of the order; stops at the first unfinished one. */
  private writeCompletedResponses(): void {
    while (this.inFlight > 0) {
      const slot = this.slots[this.head]!;
      if (!slot.done) break;
      const response = slot.response;
      const responseBytes = slot.responseBytes;
      slot.done = false;
      slot.response = null;
      this.waitingResponseBytes -= responseBytes;
      this.head = (this.head + 1) % this.slots.length;
      this.inFlight--;
      if (response !== null) {
        this.writeResponse(response, responseBytes);
        if (response.closeConnection === true) this.beginGracefulClose();
      }
    }
    if (this.state === ConnectionState.Draining && this.inFlight === 0) this.socket.end();
    else this.updateReading();
  }

  private writeResponse(response: ResponseChunks, responseBytes: number): void {
    // Corked until the next tick: every response completed in this tick (e.g. many small ones from a single
    // chunk, or a size prefix with its record chunks) leaves in one writev.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncorkSocket, this);
    }
    const sizePrefix = Buffer.allocUnsafe(4);
    sizePrefix.writeInt32BE(responseBytes, 0);
    // The callback on the last write runs once it is flushed, or with an error if the socket is destroyed first.
    const onFlushed = response.onWritten === undefined ? undefined : () => released(response);
    let last = response.length - 1;
    while (last >= 0 && response[last]!.length === 0) last--;
    this.socket.write(sizePrefix, last < 0 ? onFlushed : undefined);
    for (let i = 0; i <= last; i++) {
      const chunk = response[i]!;
      if (chunk.length > 0) this.socket.write(chunk, i === last ? onFlushed : undefined);
    }
    this.counters.responsesSent++;
    this.counters.bytesOut += 4 + responseBytes;
    this.lastActivityMs = Date.now();
  }

  private onHandlerError(error: unknown): void {
    if (this.state === ConnectionState.Closed) return;
    this.counters.handlerErrors++;
    if (error instanceof PeerProtocolError) {
      this.logger.info({ connection: this.info, reason: error.message }, 'closing connection');
    } else {
      this.logger.error({ connection: this.info, err: error }, 'request handler failed; closing connection');
    }
    this.destroy('request handler failed');
  }

  /** The peer will send no more requests: answer those already received, then close our side too. */
  private onPeerEnd(): void {
    if (this.state !== ConnectionState.Open) return;
    this.logger.debug({ connection: this.info, bufferedBytes: this.decoder.bufferedBytes }, 'peer ended');
    this.peerEnded = true;
    this.endIfAnswered();
  }

  private onSocketError(error: NodeJS.ErrnoException): void {
    const expected = error.code === 'ECONNRESET' || error.code === 'EPIPE' || error.code === 'ETIMEDOUT';
    const context = { connection: this.info, err: error, code: error.code };
    if (expected) this.logger.debug(context, 'socket error');
    else this.logger.warn(context, 'socket error');
  }

  private onClose(): void {
    this.state = ConnectionState.Closed;
    this.requestMemory?.cancel(this.onRequestMemoryRoom);
    this.decoder.discard();
    this.dropWaiting();
    for (const slot of this.slots) {
      released(slot.response);
      slot.response = null;
    }
    this.waitingResponseBytes = 0;
  }
}
