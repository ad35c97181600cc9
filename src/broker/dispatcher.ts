// Turns one request frame into one response: reads the header, finds the API's handler, checks the version,
// decodes, handles, and encodes the response with its header. The network server owns ordering and framing.
import { ErrorCode } from '../protocol/errors.js';
import { readRequestHeader, responseHeaderVersion } from '../protocol/generated/headers.js';
import { ProtocolDecodeError } from '../protocol/primitives/errors.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import type { BrokerServices, RegisteredHandler, RequestContext } from './context.js';
import { apiVersionsErrorResponse } from './handlers/api-versions.js';
import { authenticateToken } from './handlers/sasl.js';
import type { SaslSession } from './security/index.js';
import {
  type ConnectionInfo,
  PeerProtocolError,
  RAW_SASL_TOKEN,
  type RequestFrame,
  type RequestHandler,
  type ResponseChunks,
} from './server.js';

const PRODUCE_KEY = 0;
const API_VERSIONS_KEY = 18;

/** A request the broker will not answer; the server closes the connection, as Kafka does. */
export class UnanswerableRequestError extends PeerProtocolError {
  override name = 'UnanswerableRequestError';
}

export function createDispatcher(
  broker: BrokerServices,
  handlers: readonly RegisteredHandler[],
): RequestHandler {
  const byKey = new Map<number, RegisteredHandler>();
  for (const handler of handlers) byKey.set(handler.key, handler);

  return async (frame: RequestFrame, connection: ConnectionInfo): Promise<Buffer[] | null> => {
    const sasl = connection.sasl;
    if (sasl !== null && !sasl.isAuthenticated) {
      if (frame.apiKey === RAW_SASL_TOKEN) return rawSaslToken(broker, connection, sasl, frame.payload);
      if (!sasl.admits(frame.apiKey)) {
        // Kafka closes the connection too: the client skipped or broke the SASL exchange.
        throw new UnanswerableRequestError(
          `API key ${frame.apiKey} is not allowed in SASL state ${sasl.state}: authenticate first`,
        );
      }
    }
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
    const releases: (() => void)[] = [];
    let closeConnection = false;
    const ctx: RequestContext = {
      broker,
      connection,
      apiVersion: version,
      correlationId: header.correlationId,
      clientId: header.clientId,
      releaseAfterResponse: (release) => releases.push(release),
      closeConnectionAfterResponse: () => {
        closeConnection = true;
      },
    };
    const headerVersion = responseHeaderVersion(frame.apiKey, version);

    if (version < handler.minVersion || version > handler.maxVersion) {
      if (version < handler.schemaMinVersion || version > handler.schemaMaxVersion) {
        throw new UnanswerableRequestError(`${handler.name} v${version} is not a version of the protocol`);
      }
      const encode = handler.reject(ctx, reader, ErrorCode.UNSUPPORTED_VERSION);
      return respond(header.correlationId, headerVersion, encode);
    }

    const bodyOffset = reader.offset;
    let encode: ((w: Writer) => void) | null;
    try {
      encode = await handler.process(ctx, reader);
      // Produce is done with its frame once handled: appends have copied the records into the tail cache or
      // finished writing them. Other APIs may keep decoded buffers (group metadata, say), so their frames
      // are left to the garbage collector.
      if (frame.apiKey === PRODUCE_KEY) frame.hold?.release();
    } catch (error) {
      if (frame.apiKey === PRODUCE_KEY) frame.hold?.release();
      releaseAll(releases);
      // A malformed request closes the connection, as Kafka does; so does any failure of Produce, which may
      // have been sent with acks=0 and then must not be answered.
      if (error instanceof ProtocolDecodeError || frame.apiKey === PRODUCE_KEY) throw error;
      broker.logger.error({ err: error, api: handler.name, version }, 'request failed unexpectedly');
      encode = handler.reject(ctx, new Reader(frame.payload, bodyOffset), ErrorCode.UNKNOWN_SERVER_ERROR);
    }
    if (encode === null) {
      releaseAll(releases);
      return null;
    }
    let chunks: ResponseChunks;
    try {
      chunks = respond(header.correlationId, headerVersion, encode);
    } catch (error) {
      releaseAll(releases);
      throw error;
    }
    if (releases.length > 0) chunks.onWritten = () => releaseAll(releases);
    if (closeConnection) chunks.closeConnection = true;
    return chunks;
  };
}

/**
 * After SaslHandshake v0 the exchange carries bare size-prefixed tokens, answered the same way. A failure
 * cannot be reported in this framing, so the connection closes, as Kafka does.
 */
async function rawSaslToken(
  broker: BrokerServices,
  connection: ConnectionInfo,
  sasl: SaslSession,
  token: Buffer,
): Promise<Buffer[]> {
  const outcome = await authenticateToken({ broker, connection }, sasl, token);
  if (!outcome.ok) throw new UnanswerableRequestError(`SASL authentication failed: ${outcome.message}`);
  return [outcome.challenge];
}

function releaseAll(releases: (() => void)[]): void {
  for (const release of releases.splice(0)) release();
}

function respond(correlationId: number, headerVersion: number, encodeBody: (w: Writer) => void): Buffer[] {
  const w = new Writer();
  w.writeInt32(correlationId);
  if (headerVersion >= 1) w.writeUnsignedVarint(0); // no tagged fields in the response header
  encodeBody(w);
  return w.toChunks();
}
