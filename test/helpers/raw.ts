// Hand-encoded Kafka frames over raw sockets, for tests that must control every byte the broker sees.
import { connect, type Socket } from 'node:net';

/** A non-flexible request: int32 size, then header v1 (apiKey, apiVersion, correlationId, clientId) and body. */
export function encodeRequest(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: Buffer = Buffer.alloc(0),
): Buffer {
  const clientIdBytes = clientId === null ? Buffer.alloc(0) : Buffer.from(clientId, 'utf8');
  const header = Buffer.alloc(2 + 2 + 4 + 2);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId === null ? -1 : clientIdBytes.length, 8);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + clientIdBytes.length + body.length, 0);
  return Buffer.concat([size, header, clientIdBytes, body]);
}

export interface ExchangeResult {
  /** Complete response frames, without their size prefix. */
  frames: Buffer[];
  /** True if the broker closed (or reset) the connection before the wait ended. */
  closedByBroker: boolean;
  /** Bytes received after the last complete frame. */
  leftover: Buffer;
}

export interface ExchangeOptions {
  port: number;
  host?: string;
  /** Stop once this many frames arrived (default: wait for close or timeout). */
  expectFrames?: number;
  timeoutMs?: number;
  /** Write the payload in pieces of this many bytes, one per event-loop turn. */
  chunkBytes?: number;
  /** Half-close our side after writing. */
  endAfterWrite?: boolean;
}

/** Connects, writes `payload`, and collects response frames until enough arrived, the broker closed, or timeout. */
export function exchange(payload: Buffer, options: ExchangeOptions): Promise<ExchangeResult> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: options.host ?? '127.0.0.1', port: options.port });
    let received = Buffer.alloc(0);
    const frames: Buffer[] = [];
    let settled = false;
    const finish = (closedByBroker: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ frames, closedByBroker, leftover: received });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 4) {
        const size = received.readInt32BE(0);
        if (size < 0 || received.length < 4 + size) break;
        frames.push(received.subarray(4, 4 + size));
        received = received.subarray(4 + size);
      }
      if (options.expectFrames !== undefined && frames.length >= options.expectFrames) finish(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('end', () => finish(true));
    socket.once('connect', () => {
      void writePayload(socket, payload, options.chunkBytes).then(() => {
        if (options.endAfterWrite) socket.end();
      });
    });
  });
}

async function writePayload(socket: Socket, payload: Buffer, chunkBytes: number | undefined): Promise<void> {
  if (chunkBytes === undefined) {
    socket.write(payload);
    return;
  }
  for (let offset = 0; offset < payload.length && !socket.destroyed; offset += chunkBytes) {
    socket.write(payload.subarray(offset, offset + chunkBytes));
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface ApiVersionsV0Response {
  correlationId: number;
  errorCode: number;
  apiKeys: ApiVersionRange[];
}

/**
 * Decodes an ApiVersions response in the v0 layout (response header v0: correlationId; body: int16 error code,
 * int32 count, then (int16 key, int16 min, int16 max) entries). Throws unless the frame is exactly that long.
 */
export function decodeApiVersionsV0(frame: Buffer): ApiVersionsV0Response {
  if (frame.length < 10) throw new Error(`ApiVersions v0 response too short: ${frame.length} bytes`);
  const correlationId = frame.readInt32BE(0);
  const errorCode = frame.readInt16BE(4);
  const count = frame.readInt32BE(6);
  const expectedLength = 10 + count * 6;
  if (count < 0 || frame.length !== expectedLength) {
    throw new Error(
      `ApiVersions v0 response: ${count} entries need ${expectedLength} bytes, frame has ${frame.length}`,
    );
  }
  const apiKeys: ApiVersionRange[] = [];
  for (let i = 0; i < count; i++) {
    const at = 10 + i * 6;
    apiKeys.push({
      apiKey: frame.readInt16BE(at),
      minVersion: frame.readInt16BE(at + 2),
      maxVersion: frame.readInt16BE(at + 4),
    });
  }
  return { correlationId, errorCode, apiKeys };
}
