// Test-only: drives handlers through the real dispatcher with encoded request frames, as a connection would,
// and decodes the answers, so handler tests check the bytes clients get without opening sockets.
import assert from 'node:assert/strict';
import {
  type ApiDescriptor,
  ApiVersionsApi,
  RequestHeaderCodec,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../protocol/generated/index.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import type { BrokerServices } from '../context.js';
import { createDispatcher } from '../dispatcher.js';
import type { ConnectionInfo } from '../server.js';
import { brokerHandlers } from './index.js';

const CONNECTION: ConnectionInfo = {
  id: 1,
  remoteAddress: '127.0.0.1',
  remotePort: 5000,
  listener: 'PLAINTEXT',
  sasl: null,
  sslPrincipal: null,
};
const CORRELATION_ID = 7;

export type Dispatch = ReturnType<typeof createDispatcher>;

/** The broker's dispatcher over `services`: only the parts the handlers under test use need to exist. */
export function dispatcherOver(services: object): Dispatch {
  return createDispatcher(services as BrokerServices, brokerHandlers());
}

/**
 * Sends `request` at `version` and returns the decoded answer, checking the whole frame was read. The request
 * comes from a PLAINTEXT connection unless `connection` says otherwise (another listener, a SASL user).
 */
export async function callApi<Req, Res>(
  dispatch: Dispatch,
  api: ApiDescriptor<Req, Res>,
  version: number,
  request: Req,
  connection: Partial<ConnectionInfo> = {},
): Promise<Res> {
  const w = new Writer();
  RequestHeaderCodec.encode(
    w,
    { requestApiKey: api.key, requestApiVersion: version, correlationId: CORRELATION_ID, clientId: 'test' },
    requestHeaderVersion(api.key, version),
  );
  api.encodeRequest(w, request, version);
  const frame = {
    apiKey: api.key,
    apiVersion: version,
    correlationId: CORRELATION_ID,
    payload: w.toBuffer(),
    hold: null,
  };
  const chunks = await dispatch(frame, { ...CONNECTION, ...connection });
  assert.ok(chunks !== null);
  const r = new Reader(Buffer.concat(chunks));
  assert.equal(r.readInt32(), CORRELATION_ID);
  if (responseHeaderVersion(api.key, version) >= 1) r.skipTaggedFields();
  const response = api.decodeResponse(r, version);
  assert.equal(r.remaining, 0);
  return response;
}

/** [apiKey, minVersion, maxVersion] the broker advertises for each key, or undefined when it does not. */
export async function advertisedVersions(
  dispatch: Dispatch,
  keys: readonly number[],
): Promise<([number, number, number] | undefined)[]> {
  const response = await callApi(dispatch, ApiVersionsApi, 0, {
    clientSoftwareName: '',
    clientSoftwareVersion: '',
  });
  return keys.map((key) => {
    const entry = response.apiKeys.find((k) => k.apiKey === key);
    return entry && [entry.apiKey, entry.minVersion, entry.maxVersion];
  });
}
