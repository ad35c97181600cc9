// ApiVersions: the version ranges this broker serves. Clients pick their version from it, so every range
// advertised here must be fully implemented by the matching handler.
import { ErrorCode } from '../../protocol/errors.js';
import {
  ApiVersionsApi,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
} from '../../protocol/generated/index.js';
import type { Writer } from '../../protocol/primitives/writer.js';
import { type ApiHandler, type RegisteredHandler, registerHandler } from '../context.js';

// KIP-511: software name and version must be simple tokens.
const SOFTWARE_TOKEN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

function apiKeys(handlers: readonly RegisteredHandler[]): ApiVersionsResponse['apiKeys'] {
  return [...handlers]
    .sort((a, b) => a.key - b.key)
    .map((h) => ({ apiKey: h.key, minVersion: h.minVersion, maxVersion: h.maxVersion }));
}

function response(errorCode: number, handlers: readonly RegisteredHandler[]): ApiVersionsResponse {
  return {
    errorCode,
    apiKeys: apiKeys(handlers),
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}

/** The answer to an ApiVersions request newer than we speak: v0 layout, error 35, our ranges included. */
export function apiVersionsErrorResponse(w: Writer, handlers: readonly RegisteredHandler[]): void {
  ApiVersionsApi.encodeResponse(w, response(ErrorCode.UNSUPPORTED_VERSION, handlers), 0);
}

/** `handlers` is the broker's full table, this handler included once registered. */
export function apiVersionsHandler(handlers: readonly RegisteredHandler[]): RegisteredHandler {
  const handler: ApiHandler<ApiVersionsRequest, ApiVersionsResponse> = {
    api: ApiVersionsApi,
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, request) {
      if (
        ctx.apiVersion >= 3 &&
        (!SOFTWARE_TOKEN.test(request.clientSoftwareName) ||
          !SOFTWARE_TOKEN.test(request.clientSoftwareVersion))
      ) {
        return response(ErrorCode.INVALID_REQUEST, handlers);
      }
      return response(ErrorCode.NONE, handlers);
    },
    errorResponse(_ctx, _request, errorCode) {
      return response(errorCode, handlers);
    },
  };
  return registerHandler(handler);
}
