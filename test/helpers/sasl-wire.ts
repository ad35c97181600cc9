// One raw connection for SASL protocol tests: it sends Kafka requests through the generated codecs and SASL
// tokens the pre-KIP-152 way (size-prefixed, no Kafka header), reads back whatever the broker writes, and
// tells when the broker closed the connection. Every wait is bounded.
import { connect, type Socket } from 'node:net';
import type { ApiDescriptor } from '../../src/protocol/generated/api.js';
import { ResponseHeaderCodec, responseHeaderVersion } from '../../src/protocol/generated/headers.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { encodeFrame } from './wire-client.js';

/** What a read ended with: a size-prefixed frame (without its prefix), or the broker closing the connection. */
export type FrameOrClose = { kind: 'frame'; frame: Buffer } | { kind: 'closed' };

export class RawSaslConnection {
  private nextCorrelationId = 1;
  private received = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake?.();
    });
    const onClosed = () => {
      this.closed = true;
      this.wake?.();
    };
    socket.on('end', onClosed);
    socket.on('close', onClosed);
    // ECONNRESET and EPIPE mean the broker dropped us, which the tests read as "closed".
    socket.on('error', onClosed);
  }

  static async open(port: number, timeoutMs = 5_000): Promise<RawSaslConnection> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to 127.0.0.1:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new RawSaslConnection(socket);
  }

  /** Sends one request and decodes its response; fails if the broker closes the connection instead. */
  async call<Res, ReqIn>(
    api: ApiDescriptor<unknown, Res, ReqIn, unknown>,
    version: number,
    request: ReqIn,
    timeoutMs = 5_000,
  ): Promise<Res> {
    const outcome = await this.send(api, version, request, timeoutMs);
    if (outcome.kind === 'closed') {
      throw new Error(`${api.name} v${version}: the broker closed the connection instead of answering`);
    }
    return outcome.response;
  }

  /** Sends one request; resolves with its decoded response, or with 'closed' if the broker closed instead. */
  async send<Res, ReqIn>(
    api: ApiDescriptor<unknown, Res, ReqIn, unknown>,
    version: number,
    request: ReqIn,
    timeoutMs = 5_000,
  ): Promise<{ kind: 'response'; response: Res } | { kind: 'closed' }> {
    const correlationId = this.nextCorrelationId++;
    this.write(encodeFrame(api, version, correlationId, request));
    const outcome = await this.readFrame(timeoutMs);
    if (outcome.kind === 'closed') return outcome;
    const reader = new Reader(outcome.frame);
    const header = ResponseHeaderCodec.decode(reader, responseHeaderVersion(api.key, version));
    if (header.correlationId !== correlationId) {
      throw new Error(
        `${api.name} v${version}: correlation id ${header.correlationId}, sent ${correlationId}`,
      );
    }
    const response = api.decodeResponse(reader, version);
    if (reader.remaining !== 0)
      throw new Error(`${api.name} v${version}: ${reader.remaining} bytes left over`);
    return { kind: 'response', response };
  }

  /** Writes a SASL token as handshake v0 expects it: int32 size, then the token bytes. */
  sendRawToken(token: Buffer): void {
    const size = Buffer.alloc(4);
    size.writeInt32BE(token.length, 0);
    this.write(Buffer.concat([size, token]));
  }

  write(bytes: Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  /** The next size-prefixed frame the broker writes, or 'closed' once it closed with no complete frame left. */
  async readFrame(timeoutMs = 5_000): Promise<FrameOrClose> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.received.length >= 4) {
        const size = this.received.readInt32BE(0);
        if (this.received.length >= 4 + size) {
          const frame = this.received.subarray(4, 4 + size);
          this.received = this.received.subarray(4 + size);
          return { kind: 'frame', frame };
        }
      }
      if (this.closed) return { kind: 'closed' };
      const leftMs = deadline - Date.now();
      if (leftMs <= 0) {
        throw new Error(
          `neither a frame nor a close within ${timeoutMs} ms; ${this.received.length} bytes pending`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, leftMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /**
   * Resolves with the bytes the broker wrote before closing the connection; fails if it is still open after
   * timeoutMs.
   */
  async waitClosed(timeoutMs = 5_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const leftMs = deadline - Date.now();
      if (leftMs <= 0) throw new Error(`the broker kept the connection open for ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, leftMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.received;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A SASL/PLAIN token (RFC 4616): authorization id, user name and password separated by NUL bytes. */
export function plainToken(username: string, password: string, authorizationId = ''): Buffer {
  return Buffer.from(`${authorizationId}\0${username}\0${password}`, 'utf8');
}
