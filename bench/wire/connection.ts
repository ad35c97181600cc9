// One TCP connection to the broker with pipelined requests. Kafka answers requests on a connection in the
// order it received them, so responses are matched first-in first-out and the correlation id is only checked.
import net from 'node:net';

export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

export interface ConnectionOptions {
  /** Upper bound on requests awaiting a response; exceeding it is a bench bug. */
  maxInFlight: number;
  /** A response slower than this fails the connection. */
  requestTimeoutMs: number;
  /** Largest response accepted. */
  maxResponseBytes: number;
}

const DEFAULT_OPTIONS: ConnectionOptions = {
  maxInFlight: 64,
  requestTimeoutMs: 30_000,
  maxResponseBytes: 128 * 1024 * 1024,
};

const READ_BUFFER_BYTES = 1024 * 1024;

interface Pending {
  correlationId: number;
  sentAtMs: number;
  /** Runs synchronously on the response payload, which is only valid during the call. */
  parse: (payload: Buffer) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class KafkaConnection {
  private readonly pending: (Pending | undefined)[] = [];
  private pendingHead = 0;
  private failure: Error | null = null;
  // Frame reassembly: a 4-byte size, then the body. The body scratch buffer is reused between responses
  // because payloads are handed to `parse` synchronously and never kept.
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeFilled = 0;
  private body: Buffer = Buffer.alloc(0);
  private bodyLength = -1;
  private bodyFilled = 0;
  private readonly timeoutTimer: NodeJS.Timeout;

  private constructor(
    private readonly socket: net.Socket,
    private readonly options: ConnectionOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('error', (error) => this.fail(new ConnectionError(`socket error: ${error.message}`)));
    socket.on('close', () => this.fail(new ConnectionError('connection closed')));
    this.timeoutTimer = setInterval(() => this.checkTimeout(), 250);
    this.timeoutTimer.unref();
  }

  static connect(
    host: string,
    port: number,
    options: Partial<ConnectionOptions> = {},
  ): Promise<KafkaConnection> {
    const settings = { ...DEFAULT_OPTIONS, ...options };
    return new Promise((resolve, reject) => {
      let connection: KafkaConnection | null = null;
      const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      // Reads land in one reused buffer (no allocation per read, and fewer, larger reads than the default
      // 64 KiB); onData consumes each read synchronously, before the buffer is reused.
      const socket = net.connect({
        host,
        port,
        onread: {
          buffer: readBuffer,
          callback: (bytes) => {
            connection?.onData(readBuffer.subarray(0, bytes));
            return true;
          },
        },
      });
      const onError = (error: Error) =>
        reject(new ConnectionError(`connect ${host}:${port}: ${error.message}`));
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        connection = new KafkaConnection(socket, settings);
        resolve(connection);
      });
    });
  }

  get inFlight(): number {
    return this.pending.length - this.pendingHead;
  }

  /**
   * Sends a complete request frame (size prefix included) and resolves with `parse(payload)`. The frame
   * must not be modified afterwards: the socket may still hold it. Frames may be shared between requests.
   */
  request<T>(frame: Buffer, parse: (payload: Buffer) => T): Promise<T> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.inFlight >= this.options.maxInFlight) {
      return Promise.reject(new ConnectionError(`more than ${this.options.maxInFlight} requests in flight`));
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        correlationId: frame.readInt32BE(8),
        sentAtMs: performance.now(),
        parse,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.socket.write(frame);
    });
  }

  close(): void {
    this.fail(new ConnectionError('connection closed by the bench'));
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.failure === null) {
      if (this.bodyLength < 0) {
        // Fast path: a whole frame inside the chunk is parsed in place, without a copy.
        if (this.sizeFilled === 0 && chunk.length - offset >= 4) {
          const length = chunk.readInt32BE(offset);
          if (chunk.length - offset - 4 >= length) {
            this.checkLength(length);
            this.deliver(chunk.subarray(offset + 4, offset + 4 + length));
            offset += 4 + length;
            continue;
          }
        }
        const take = Math.min(4 - this.sizeFilled, chunk.length - offset);
        chunk.copy(this.sizeBytes, this.sizeFilled, offset, offset + take);
        this.sizeFilled += take;
        offset += take;
        if (this.sizeFilled < 4) return;
        this.sizeFilled = 0;
        this.bodyLength = this.sizeBytes.readInt32BE(0);
        this.checkLength(this.bodyLength);
        if (this.failure !== null) return;
        if (this.body.length < this.bodyLength) this.body = Buffer.allocUnsafe(this.bodyLength);
        this.bodyFilled = 0;
      }
      const take = Math.min(this.bodyLength - this.bodyFilled, chunk.length - offset);
      chunk.copy(this.body, this.bodyFilled, offset, offset + take);
      this.bodyFilled += take;
      offset += take;
      if (this.bodyFilled === this.bodyLength) {
        const length = this.bodyLength;
        this.bodyLength = -1;
        this.deliver(this.body.subarray(0, length));
      }
    }
  }

  private checkLength(length: number): void {
    if (length < 4 || length > this.options.maxResponseBytes) {
      this.fail(new ConnectionError(`response frame of ${length} bytes`));
      this.socket.destroy();
    }
  }

  private deliver(frameBody: Buffer): void {
    if (this.failure !== null) return;
    const request = this.pending[this.pendingHead];
    if (request === undefined) {
      this.fail(new ConnectionError('response without a request'));
      this.socket.destroy();
      return;
    }
    this.pending[this.pendingHead++] = undefined;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
    const correlationId = frameBody.readInt32BE(0);
    if (correlationId !== request.correlationId) {
      const error = new ConnectionError(`correlation id ${correlationId}, expected ${request.correlationId}`);
      request.reject(error);
      this.fail(error);
      this.socket.destroy();
      return;
    }
    try {
      request.resolve(request.parse(frameBody.subarray(4)));
    } catch (error) {
      request.reject(error as Error);
    }
  }

  private checkTimeout(): void {
    const oldest = this.pending[this.pendingHead];
    if (oldest !== undefined && performance.now() - oldest.sentAtMs > this.options.requestTimeoutMs) {
      this.fail(new ConnectionError(`no response within ${this.options.requestTimeoutMs} ms`));
      this.socket.destroy();
    }
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    clearInterval(this.timeoutTimer);
    for (let i = this.pendingHead; i < this.pending.length; i++) this.pending[i]?.reject(error);
    this.pending.length = 0;
    this.pendingHead = 0;
  }
}
