// Requests built with the project's generated codecs (group and offset APIs), sent over the bench's own
// KafkaConnection. These phases time the broker's answers to individual requests, so there is no client
// library in between: no retry backoff, no heartbeat thread, no batching of our own.
import { errorInfo } from '../../src/protocol/errors.js';
import type { ApiDescriptor } from '../../src/protocol/generated/api.js';
import {
  RequestHeaderCodec,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../src/protocol/generated/headers.js';
import { FindCoordinatorApi } from '../../src/protocol/generated/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { ResponseFormatError } from './codec.js';
import type { KafkaConnection } from './connection.js';

export const BENCH_CLIENT_ID = 'sluice-bench';

const FIND_COORDINATOR_VERSION = 4;
const COORDINATOR_KEY_TYPE_GROUP = 0;

/** A Kafka error code in a response where the bench expected success. */
export class KafkaResponseError extends Error {
  override name = 'KafkaResponseError';

  constructor(
    readonly context: string,
    readonly errorCode: number,
  ) {
    super(`${context}: ${errorInfo(errorCode).name} (${errorCode})`);
  }
}

/** One complete request frame: 4-byte size, the request header for this API version, the body. */
export function encodeApiRequest<ReqIn>(
  api: ApiDescriptor<unknown, unknown, ReqIn, unknown>,
  version: number,
  correlationId: number,
  request: ReqIn,
): Buffer {
  const writer = new Writer();
  writer.writeInt32(0); // size, patched below
  RequestHeaderCodec.encode(
    writer,
    { requestApiKey: api.key, requestApiVersion: version, correlationId, clientId: BENCH_CLIENT_ID },
    requestHeaderVersion(api.key, version),
  );
  api.encodeRequest(writer, request, version);
  const frame = writer.toBuffer();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

/**
 * Decodes a response payload as KafkaConnection hands it over: after the correlation id, so only the tagged
 * fields of a flexible response header remain before the body. Trailing bytes mean the versions disagree.
 */
export function parseApiResponse<Res>(
  api: ApiDescriptor<unknown, Res, unknown, unknown>,
  version: number,
  payload: Buffer,
): Res {
  const reader = new Reader(payload);
  if (responseHeaderVersion(api.key, version) >= 1) reader.skipTaggedFields();
  const response = api.decodeResponse(reader, version);
  if (reader.remaining !== 0) {
    throw new ResponseFormatError(`${api.name} v${version} response has ${reader.remaining} trailing bytes`);
  }
  return response;
}

export interface TimedResponse<Res> {
  response: Res;
  sentAtMs: number;
  receivedAtMs: number;
}

/** A connection plus its correlation ids, for request/response calls with generated codecs. */
export class ApiClient {
  private correlationId = 0;

  constructor(readonly connection: KafkaConnection) {}

  async call<Res, ReqIn>(
    api: ApiDescriptor<unknown, Res, ReqIn, unknown>,
    version: number,
    request: ReqIn,
  ): Promise<Res> {
    return (await this.callTimed(api, version, request)).response;
  }

  /**
   * Like `call`, with the time the request was handed to the socket and the time its response frame was
   * complete (performance.now() ms), taken before any other response's continuation can run.
   */
  callTimed<Res, ReqIn>(
    api: ApiDescriptor<unknown, Res, ReqIn, unknown>,
    version: number,
    request: ReqIn,
  ): Promise<TimedResponse<Res>> {
    this.correlationId = (this.correlationId + 1) & 0x7fffffff;
    const frame = encodeApiRequest(api, version, this.correlationId, request);
    const sentAtMs = performance.now();
    return this.connection.request(frame, (payload) => {
      const receivedAtMs = performance.now();
      return { response: parseApiResponse(api, version, payload), sentAtMs, receivedAtMs };
    });
  }

  close(): void {
    this.connection.close();
  }
}

/**
 * FindCoordinator for a group, retried while the coordinator is still loading (the offsets topic is created on
 * first use). Returns the coordinator's address.
 */
export async function findGroupCoordinator(
  client: ApiClient,
  groupId: string,
  timeoutMs: number,
): Promise<{ nodeId: number; host: string; port: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const response = await client.call(FindCoordinatorApi, FIND_COORDINATOR_VERSION, {
      key: '',
      keyType: COORDINATOR_KEY_TYPE_GROUP,
      coordinatorKeys: [groupId],
    });
    const coordinator = response.coordinators[0];
    if (coordinator === undefined) throw new ResponseFormatError('FindCoordinator answered no coordinator');
    if (coordinator.errorCode === 0) {
      return { nodeId: coordinator.nodeId, host: coordinator.host, port: coordinator.port };
    }
    if (!errorInfo(coordinator.errorCode).retriable || performance.now() > deadline) {
      throw new KafkaResponseError(`FindCoordinator ${groupId}`, coordinator.errorCode);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
