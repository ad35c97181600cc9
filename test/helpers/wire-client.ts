// One connection speaking any API at any version through the generated codecs, for tests that drive the
// broker below any client library. Responses are matched by correlation id; every call is bounded in time.
import { connect, type Socket } from 'node:net';
import type { ApiDescriptor } from '../../src/protocol/generated/api.js';
import type { FetchRequest } from '../../src/protocol/generated/fetch.js';
import {
  RequestHeaderCodec,
  ResponseHeaderCodec,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../src/protocol/generated/headers.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { ZERO_UUID } from '../../src/protocol/primitives/uuid.js';
import { Writer } from '../../src/protocol/primitives/writer.js';

/** One request frame (size prefix included) with the generated codecs. */
/** A Fetch of one partition from `fetchOffset` that answers at once, with up to 4 MiB. */
export function singlePartitionFetch(
  topic: string,
  partition: number,
  fetchOffset: bigint,
  isolationLevel: number,
): FetchRequest {
  const maxBytes = 4 * 1024 * 1024;
  return {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    isolationLevel,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId: ZERO_UUID,
        partitions: [
          {
            partition,
            currentLeaderEpoch: -1,
            fetchOffset,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: maxBytes,
            replicaDirectoryId: ZERO_UUID,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

export function encodeFrame<ReqIn>(
  api: ApiDescriptor<unknown, unknown, ReqIn, unknown>,
  version: number,
  correlationId: number,
  request: ReqIn,
  clientId = 'wire-test',
): Buffer {
  const w = new Writer();
  w.writeInt32(0);
  RequestHeaderCodec.encode(
    w,
    { requestApiKey: api.key, requestApiVersion: version, correlationId, clientId },
    requestHeaderVersion(api.key, version),
  );
  api.encodeRequest(w, request, version);
  const frame = w.toBuffer();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

export class WireClient {
  private nextCorrelationId = 1;
  private buffered = Buffer.alloc(0);
  private readonly waiting = new Map<number, (frame: Buffer) => void>();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length < 4 + size) break;
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        const correlationId = frame.readInt32BE(0);
        this.waiting.get(correlationId)?.(frame);
        this.waiting.delete(correlationId);
      }
    });
    socket.on('error', () => {
      // A call in flight times out with its own message; nothing else reads this socket.
    });
  }

  static async connect(port: number): Promise<WireClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new WireClient(socket);
  }

  call<Res, ReqIn>(
    api: ApiDescriptor<unknown, Res, ReqIn, unknown>,
    version: number,
    request: ReqIn,
    timeoutMs = 10_000,
  ): Promise<Res> {
    const correlationId = this.nextCorrelationId++;
    const frame = encodeFrame(api, version, correlationId, request);
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlationId);
        reject(new Error(`${api.name} v${version}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(correlationId, (frame) => {
        clearTimeout(timer);
        try {
          const r = new Reader(frame);
          ResponseHeaderCodec.decode(r, responseHeaderVersion(api.key, version));
          const response = api.decodeResponse(r, version);
          if (r.remaining !== 0) throw new Error(`${api.name} v${version}: ${r.remaining} bytes left over`);
          resolve(response);
        } catch (err) {
          reject(err);
        }
      });
      this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
