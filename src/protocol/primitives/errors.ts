import { ErrorCode, KafkaError } from '../errors.js';

/**
 * Bytes that do not form a valid message for the schema: a read past the end, a negative or oversized length,
 * a null where the version does not allow one. A broker cannot answer such a request meaningfully, so it maps
 * onto INVALID_REQUEST.
 */
export class ProtocolDecodeError extends KafkaError {
  override name = 'ProtocolDecodeError';

  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.INVALID_REQUEST, message, options);
  }
}

/**
 * A value that cannot be written at the requested version: null for a non-nullable field, a string longer
 * than its length prefix allows, a malformed UUID. This is a bug on the encoding side, hence UNKNOWN_SERVER_ERROR.
 */
export class ProtocolEncodeError extends KafkaError {
  override name = 'ProtocolEncodeError';

  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.UNKNOWN_SERVER_ERROR, message, options);
  }
}

/** A message version outside the schema's validVersions. */
export class UnsupportedVersionError extends KafkaError {
  override name = 'UnsupportedVersionError';

  constructor(message: string) {
    super(ErrorCode.UNSUPPORTED_VERSION, message);
  }
}
