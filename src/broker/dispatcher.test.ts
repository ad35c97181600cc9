import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import {
  ApiVersionsApi,
  DescribeClusterApi,
  type DescribeClusterRequest,
  type DescribeClusterResponse,
  RequestHeaderCodec,
  requestHeaderVersion,
} from '../protocol/generated/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import type { BrokerServices, RegisteredHandler } from './context.js';
import { registerHandler } from './context.js';
import { createDispatcher, UnanswerableRequestError } from './dispatcher.js';
import { apiVersionsHandler } from './handlers/api-versions.js';
import type { ConnectionInfo } from './server.js';

const connection: ConnectionInfo = {
  id: 1,
  remoteAddress: '127.0.0.1',
  remotePort: 5000,
  listener: 'PLAINTEXT',
};
const logged: unknown[] = [];
const services = { logger: { error: (fields: unknown) => logged.push(fields) } } as unknown as BrokerServices;

function describeCluster(behaviour: 'ok' | 'throw'): RegisteredHandler {
  return registerHandler<DescribeClusterRequest, DescribeClusterResponse>({
    api: DescribeClusterApi,
    minVersion: 0,
    maxVersion: 0,
    handle() {
      if (behaviour === 'throw') throw new Error('boom');
      return response(ErrorCode.NONE);
    },
    errorResponse: (_ctx, _request, errorCode) => response(errorCode),
  });
}

function response(errorCode: number): DescribeClusterResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage: null,
    endpointType: 1,
    clusterId: 'c',
    controllerId: 0,
    brokers: [],
    clusterAuthorizedOperations: -2147483648,
  };
}

function dispatcherWith(handler: RegisteredHandler) {
  const handlers = [handler];
  handlers.push(apiVersionsHandler(handlers));
  return createDispatcher(services, handlers);
}

function frame(apiKey: number, apiVersion: number, body: (w: Writer) => void) {
  const w = new Writer();
  RequestHeaderCodec.encode(
    w,
    { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId: 77, clientId: 'test' },
    requestHeaderVersion(apiKey, apiVersion),
  );
  body(w);
  return { apiKey, apiVersion, correlationId: 77, payload: w.toBuffer(), hold: null };
}

const describeClusterFrame = (version: number) =>
  frame(DescribeClusterApi.key, version, (w) =>
    DescribeClusterApi.encodeRequest(
      w,
      { includeClusterAuthorizedOperations: false, endpointType: 1 },
      version,
    ),
  );

function decodeDescribeCluster(chunks: Buffer[] | null, version: number): DescribeClusterResponse {
  assert.ok(chunks !== null);
  const r = new Reader(Buffer.concat(chunks));
  assert.equal(r.readInt32(), 77);
  r.skipTaggedFields(); // DescribeCluster is flexible from v0: response header v1
  const decoded = DescribeClusterApi.decodeResponse(r, version);
  assert.equal(r.remaining, 0);
  return decoded;
}

describe('dispatcher', () => {
  test('answers a supported request with the handler response and the right header', async () => {
    const dispatch = dispatcherWith(describeCluster('ok'));
    const decoded = decodeDescribeCluster(await dispatch(describeClusterFrame(0), connection), 0);
    assert.equal(decoded.errorCode, ErrorCode.NONE);
    assert.equal(decoded.clusterId, 'c');
  });

  test('a version inside the schema but not served gets UNSUPPORTED_VERSION in that version', async () => {
    const dispatch = dispatcherWith(describeCluster('ok'));
    const decoded = decodeDescribeCluster(await dispatch(describeClusterFrame(1), connection), 1);
    assert.equal(decoded.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  });

  test('an unknown API key or a version outside the schema is not answered (the connection closes)', async () => {
    const dispatch = dispatcherWith(describeCluster('ok'));
    await assert.rejects(
      Promise.resolve(dispatch({ ...describeClusterFrame(0), apiKey: 9999 }, connection)),
      UnanswerableRequestError,
    );
    await assert.rejects(
      Promise.resolve(dispatch({ ...describeClusterFrame(0), apiVersion: 99 }, connection)),
      UnanswerableRequestError,
    );
  });

  test('a handler failure is answered with UNKNOWN_SERVER_ERROR and logged', async () => {
    logged.length = 0;
    const dispatch = dispatcherWith(describeCluster('throw'));
    const decoded = decodeDescribeCluster(await dispatch(describeClusterFrame(0), connection), 0);
    assert.equal(decoded.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    assert.equal(logged.length, 1);
  });

  test('a truncated body is a protocol error that closes the connection', async () => {
    const dispatch = dispatcherWith(describeCluster('ok'));
    const whole = describeClusterFrame(0);
    await assert.rejects(
      Promise.resolve(
        dispatch({ ...whole, payload: whole.payload.subarray(0, whole.payload.length - 2) }, connection),
      ),
    );
  });

  test('ApiVersions newer than served: error 35 in the v0 layout with the served ranges (KIP-511)', async () => {
    const dispatch = dispatcherWith(describeCluster('ok'));
    const chunks = await dispatch(
      { apiKey: ApiVersionsApi.key, apiVersion: 9, correlationId: 5, payload: Buffer.alloc(8), hold: null },
      connection,
    );
    assert.ok(chunks !== null);
    const r = new Reader(Buffer.concat(chunks));
    assert.equal(r.readInt32(), 5);
    const decoded = ApiVersionsApi.decodeResponse(r, 0);
    assert.equal(decoded.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.deepEqual(
      decoded.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
      [
        [18, 0, 4],
        [60, 0, 0],
      ],
    );
  });
});
