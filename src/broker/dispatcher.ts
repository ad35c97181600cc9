// Turns one request frame into one response: reads the header, finds the API's handler, checks the version,
// decodes, handles, and encodes the response with its header. The network server owns ordering and framing.
import { ErrorCode } from '../protocol/errors.js';
import { readRequestHeader, responseHeaderVersion } from '../protocol/generated/headers.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import type { BrokerServices, RegisteredHandler, RequestContext } from './context.js';
import { apiVersionsErrorResponse } from './handlers/api-versions.js';
import type { ConnectionInfo, RequestFrame, RequestHandler } from './server.js';

const API_VERSIONS_KEY = 18;

/** A request the broker will not answer; the server closes the connection, as Kafka does. */
export class UnanswerableRequestError extends Error {
  override name = 'UnanswerableRequestError';
}

export function createDispatcher(
  broker: BrokerServices,
  handlers: readonly RegisteredHandler[],
): RequestHandler {
  const byKey = new Map<number, RegisteredHandler>();
  for (const handler of handlers) byKey.set(handler.key, handler);

  return async (frame: RequestFrame, connection: ConnectionInfo): Promise<Buffer[] | null> => {
    const handler = byKey.get(frame.apiKey);
    if (handler === undefined) {
      throw new UnanswerableRequestError(`unknown or disabled API key ${frame.apiKey}`);
    }
    const reader = new Reader(frame.payload);
    const version = frame.apiVersion;

    if (frame.apiKey === API_VERSIONS_KEY && version > handler.maxVersion) {
      // KIP-511: a client newer than us gets UNSUPPORTED_VERSION in the v0 format, with our ranges, so it
      // can retry at a version we speak. The rest of its request may be unparseable to us, so skip it.
      return respond(frame.correlationId, 0, (w) => apiVersionsErrorResponse(w, handlers));
    }

    const header = readRequestHeader(reader);
    const ctx: RequestContext = {
      broker,
      connection,
      apiVersion: version,
      correlationId: header.correlationId,
      clientId: header.clientId,
    };
    const headerVersion = responseHeaderVersion(frame.apiKey, version);

    if (version < handler.minVersion || version > handler.maxVersion) {
      if (version < handler.schemaMinVersion || version > handler.schemaMaxVersion) {
        throw new UnanswerableRequestError(`${handler.name} v${version} is not a version of the protocol`);
      }
      const encode = handler.reject(ctx, reader, ErrorCode.UNSUPPORTED_VERSION);
      return respond(header.correlationId, headerVersion, encode);
    }

    const encode = await handler.process(ctx, reader);
    if (encode === null) return null;
    return respond(header.correlationId, headerVersion, encode);
  };
}

function respond(correlationId: number, headerVersion: number, encodeBody: (w: Writer) => void): Buffer[] {
  const w = new Writer();
  w.writeInt32(correlationId);
  if (headerVersion >= 1) w.writeUnsignedVarint(0); // no tagged fields in the response header
  encodeBody(w);
  return w.toChunks();
}
