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
  SaslAuthenticateApi,
  SaslHandshakeApi,
} from '../protocol/generated/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import type { BrokerServices, RegisteredHandler } from './context.js';
import { registerHandler } from './context.js';
import { createDispatcher, UnanswerableRequestError } from './dispatcher.js';
import { apiVersionsHandler } from './handlers/api-versions.js';
import { saslAuthenticateHandler, saslHandshakeHandler } from './handlers/sasl.js';
import { SaslSession, UserCredentials } from './security/index.js';
import { type ConnectionInfo, RAW_SASL_TOKEN, type ResponseChunks } from './server.js';

const connection: ConnectionInfo = {
  id: 1,
  remoteAddress: '127.0.0.1',
  remotePort: 5000,
  listener: 'PLAINTEXT',
  sasl: null,
  sslPrincipal: null,
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

const credentials = await UserCredentials.fromUsers([{ name: 'alice', password: 'alice-secret' }], {
  scramMechanisms: [],
});

describe('dispatcher on a SASL connection', () => {
  const saslLogs: unknown[] = [];
  const saslServices = {
    logger: { error: () => {}, info: (fields: unknown) => saslLogs.push(fields), debug: () => {} },
  } as unknown as BrokerServices;

  function saslConnection(): ConnectionInfo {
    return {
      ...connection,
      listener: 'SASL_PLAINTEXT',
      sasl: new SaslSession({ enabledMechanisms: ['PLAIN'], credentials }),
    };
  }

  function dispatcher() {
    const handlers = [describeCluster('ok'), saslHandshakeHandler, saslAuthenticateHandler];
    handlers.push(apiVersionsHandler(handlers));
    return createDispatcher(saslServices, handlers);
  }

  const handshakeFrame = (mechanism: string, version: number) =>
    frame(SaslHandshakeApi.key, version, (w) => SaslHandshakeApi.encodeRequest(w, { mechanism }, version));
  const authenticateFrame = (token: string) =>
    frame(SaslAuthenticateApi.key, 1, (w) =>
      SaslAuthenticateApi.encodeRequest(w, { authBytes: Buffer.from(token) }, 1),
    );

  function decode<T>(chunks: Buffer[] | null, decodeBody: (r: Reader) => T): T {
    assert.ok(chunks !== null);
    const r = new Reader(Buffer.concat(chunks));
    assert.equal(r.readInt32(), 77);
    const body = decodeBody(r);
    assert.equal(r.remaining, 0);
    return body;
  }

  test('nothing but ApiVersions and SaslHandshake is served before authentication', async () => {
    const dispatch = dispatcher();
    const conn = saslConnection();
    await assert.rejects(
      Promise.resolve(dispatch(describeClusterFrame(0), conn)),
      /API key 60 is not allowed in SASL state handshake: authenticate first/,
    );
    const versions = await dispatch(
      frame(ApiVersionsApi.key, 0, (w) => ApiVersionsApi.encodeRequest(w, {} as never, 0)),
      conn,
    );
    const keys = decode(versions, (r) => ApiVersionsApi.decodeResponse(r, 0)).apiKeys;
    assert.deepEqual(
      keys.filter((k) => k.apiKey === 17 || k.apiKey === 36),
      [
        { apiKey: 17, minVersion: 0, maxVersion: 1 },
        { apiKey: 36, minVersion: 0, maxVersion: 2 },
      ],
    );
  });

  test('handshake v1 and SaslAuthenticate, then requests are served', async () => {
    const dispatch = dispatcher();
    const conn = saslConnection();
    const handshake = decode(await dispatch(handshakeFrame('PLAIN', 1), conn), (r) =>
      SaslHandshakeApi.decodeResponse(r, 1),
    );
    assert.deepEqual(handshake, { errorCode: ErrorCode.NONE, mechanisms: ['PLAIN'] });
    await assert.rejects(Promise.resolve(dispatch(describeClusterFrame(0), conn)), UnanswerableRequestError);
    const auth = decode(await dispatch(authenticateFrame('\0alice\0alice-secret'), conn), (r) =>
      SaslAuthenticateApi.decodeResponse(r, 1),
    );
    assert.deepEqual(auth, {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    });
    const cluster = decodeDescribeCluster(await dispatch(describeClusterFrame(0), conn), 0);
    assert.equal(cluster.errorCode, ErrorCode.NONE);
    const again = decode(await dispatch(handshakeFrame('PLAIN', 1), conn), (r) =>
      SaslHandshakeApi.decodeResponse(r, 1),
    );
    assert.deepEqual(again, { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] });
  });

  test('a wrong password is answered with SASL_AUTHENTICATION_FAILED, then the connection closes', async () => {
    saslLogs.length = 0;
    const dispatch = dispatcher();
    const conn = saslConnection();
    await dispatch(handshakeFrame('PLAIN', 1), conn);
    const chunks = (await dispatch(authenticateFrame('\0alice\0guess'), conn)) as ResponseChunks;
    assert.equal(chunks.closeConnection, true);
    const auth = decode(chunks, (r) => SaslAuthenticateApi.decodeResponse(r, 1));
    assert.equal(auth.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(auth.errorMessage, 'Authentication failed: Invalid username or password');
    assert.deepEqual(saslLogs, [
      {
        connection: conn,
        mechanism: 'PLAIN',
        reason: 'Authentication failed: Invalid username or password',
      },
    ]);
    await assert.rejects(Promise.resolve(dispatch(authenticateFrame('x'), conn)), UnanswerableRequestError);
  });

  test('a disabled mechanism gets UNSUPPORTED_SASL_MECHANISM with the enabled list, then a close', async () => {
    const chunks = (await dispatcher()(
      handshakeFrame('SCRAM-SHA-256', 1),
      saslConnection(),
    )) as ResponseChunks;
    assert.equal(chunks.closeConnection, true);
    assert.deepEqual(
      decode(chunks, (r) => SaslHandshakeApi.decodeResponse(r, 1)),
      { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['PLAIN'] },
    );
  });

  test('after handshake v0 the tokens are raw frames, answered raw; a bad one closes the connection', async () => {
    const dispatch = dispatcher();
    const conn = saslConnection();
    await dispatch(handshakeFrame('PLAIN', 0), conn);
    const raw = (token: string) => ({
      apiKey: RAW_SASL_TOKEN,
      apiVersion: -1,
      correlationId: -1,
      payload: Buffer.from(token),
      hold: null,
    });
    assert.deepEqual(await dispatch(raw('\0alice\0alice-secret'), conn), [Buffer.alloc(0)]);
    assert.equal(conn.sasl!.principal, 'alice');

    const failing = saslConnection();
    await dispatch(handshakeFrame('PLAIN', 0), failing);
    await assert.rejects(
      Promise.resolve(dispatch(raw('\0alice\0nope'), failing)),
      /SASL authentication failed: Authentication failed: Invalid username or password/,
    );
  });

  test('SaslHandshake on a PLAINTEXT connection is ILLEGAL_SASL_STATE', async () => {
    const chunks = await dispatcher()(handshakeFrame('PLAIN', 1), connection);
    assert.deepEqual(
      decode(chunks, (r) => SaslHandshakeApi.decodeResponse(r, 1)),
      { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] },
    );
  });
});
