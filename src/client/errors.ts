// Typed errors of the Sluice client. Every error the client throws is a KafkaClientError: `code` is the Kafka
// error code (or -1 for a condition that arises on the client side), `type` is Kafka's name for it (or a
// client name), and `retriable` says whether trying again may succeed. Each family below groups the codes that
// call for the same reaction from the caller, so `catch` blocks can branch on the class rather than on codes.

import { ErrorCode, errorInfo } from '../protocol/errors.js';

/** The code carried by errors that start on the client side rather than in a broker response. */
export const CLIENT_ERROR_CODE = -1;

/** Where a failure happened, when it concerns one topic, partition or group. */
export interface ErrorContext {
  topic?: string;
  partition?: number;
  groupId?: string;
  transactionalId?: string;
  cause?: unknown;
}

interface KafkaClientErrorInit extends ErrorContext {
  code: number;
  type: string;
  retriable: boolean;
  message: string;
}

/** Base of every error the client throws. */
export class KafkaClientError extends Error {
  override name = 'KafkaClientError';
  /** Kafka error code, or -1 (CLIENT_ERROR_CODE) when the condition arose on the client side. */
  readonly code: number;
  /** Kafka's name for the code (e.g. NOT_LEADER_OR_FOLLOWER) or a client name (e.g. CONNECTION_ERROR). */
  readonly type: string;
  /** True when the same request may succeed if tried again (possibly after refreshing metadata). */
  readonly retriable: boolean;
  readonly topic?: string;
  readonly partition?: number;
  readonly groupId?: string;
  readonly transactionalId?: string;

  constructor(init: KafkaClientErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.type = init.type;
    this.retriable = init.retriable;
    if (init.topic !== undefined) this.topic = init.topic;
    if (init.partition !== undefined) this.partition = init.partition;
    if (init.groupId !== undefined) this.groupId = init.groupId;
    if (init.transactionalId !== undefined) this.transactionalId = init.transactionalId;
  }
}

/** Fills code, type and retriable from Kafka's error table. */
function fromKafkaCode(
  code: number,
  message: string | undefined,
  context: ErrorContext,
): KafkaClientErrorInit {
  const info = errorInfo(code);
  return { ...context, code, type: info.name, retriable: info.retriable, message: message ?? info.message };
}

/** A family of Kafka error codes: constructed from the code the broker sent. */
abstract class KafkaCodeError extends KafkaClientError {
  constructor(code: number, message?: string, context: ErrorContext = {}) {
    super(fromKafkaCode(code, message, context));
  }
}

/**
 * The TCP connection to a broker could not be opened, or was lost with requests in flight. Retriable: the
 * cluster reconnects (possibly to another broker after a metadata refresh). Also used for the broker's
 * NETWORK_EXCEPTION.
 */
export class ConnectionError extends KafkaClientError {
  override name = 'ConnectionError';
  constructor(message: string, context: ErrorContext & { code?: number } = {}) {
    const code = context.code ?? CLIENT_ERROR_CODE;
    super({
      ...context,
      code,
      type: code === CLIENT_ERROR_CODE ? 'CONNECTION_ERROR' : errorInfo(code).name,
      retriable: true,
      message,
    });
  }
}

/**
 * No response arrived within the request timeout (client side, code -1), or the broker answered
 * REQUEST_TIMED_OUT (code 7). Retriable; the connection stays usable and a late response is discarded.
 */
export class RequestTimeoutError extends KafkaClientError {
  override name = 'RequestTimeoutError';
  constructor(message: string, context: ErrorContext & { code?: number } = {}) {
    const code = context.code ?? CLIENT_ERROR_CODE;
    super({
      ...context,
      code,
      type: code === CLIENT_ERROR_CODE ? 'REQUEST_TIMEOUT' : errorInfo(code).name,
      retriable: true,
      message,
    });
  }
}

/**
 * The broker and the client have no API version in common (found during negotiation), or the broker answered
 * UNSUPPORTED_VERSION. Not retriable: the same request will be refused again.
 */
export class UnsupportedVersionError extends KafkaClientError {
  override name = 'UnsupportedVersionError';
  constructor(message: string, context: ErrorContext = {}) {
    super(fromKafkaCode(ErrorCode.UNSUPPORTED_VERSION, message, context));
  }
}

/**
 * The client's view of partition leadership is out of date: NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE,
 * UNKNOWN_TOPIC_OR_PARTITION, FENCED/UNKNOWN_LEADER_EPOCH, UNKNOWN_TOPIC_ID, NOT_CONTROLLER and the like. The
 * caller refreshes metadata and tries again (Cluster.retry does both).
 */
export class StaleMetadataError extends KafkaCodeError {
  override name = 'StaleMetadataError';
}

/**
 * The group coordinator moved or is not ready: NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
 * COORDINATOR_LOAD_IN_PROGRESS. The caller finds the coordinator again and retries (Cluster.retry does both
 * when the error carries the group id).
 */
export class CoordinatorError extends KafkaCodeError {
  override name = 'CoordinatorError';
}

/**
 * The member's place in its group is no longer valid: REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, MEMBER_ID_REQUIRED, FENCED/STALE_MEMBER_EPOCH. The member rejoins.
 */
export class RebalanceError extends KafkaCodeError {
  override name = 'RebalanceError';
}

/**
 * The broker refused records: CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_RECORD,
 * INVALID_TIMESTAMP, UNSUPPORTED_COMPRESSION_TYPE.
 */
export class RecordError extends KafkaCodeError {
  override name = 'RecordError';
}

/** The requested offset is outside the partition's log (OFFSET_OUT_OF_RANGE): reset the position. */
export class OffsetOutOfRangeError extends KafkaCodeError {
  override name = 'OffsetOutOfRangeError';
}

/**
 * A topic-level admin request was refused: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
 * INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, TOPIC_DELETION_DISABLED.
 */
export class TopicError extends KafkaCodeError {
  override name = 'TopicError';
}

/**
 * A configuration or request is not acceptable: INVALID_CONFIG, INVALID_REQUEST, POLICY_VIOLATION,
 * RESOURCE_NOT_FOUND, DUPLICATE_RESOURCE.
 */
export class ConfigError extends KafkaCodeError {
  override name = 'ConfigError';
}

/** The principal may not do this: TOPIC/GROUP/CLUSTER/TRANSACTIONAL_ID/DELEGATION_TOKEN_AUTHORIZATION_FAILED. */
export class AuthorizationError extends KafkaCodeError {
  override name = 'AuthorizationError';
}

/**
 * A group-level request was refused for a reason other than membership: INVALID_GROUP_ID, GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP, INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT, GROUP_MAX_SIZE_REACHED,
 * GROUP_SUBSCRIBED_TO_TOPIC.
 */
export class GroupError extends KafkaCodeError {
  override name = 'GroupError';
}

/**
 * Another producer instance with the same transactional id (or a newer epoch) has taken over:
 * PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED. This producer must be closed.
 */
export class ProducerFencedError extends KafkaCodeError {
  override name = 'ProducerFencedError';
}

/**
 * The broker's idempotence state disagrees with the producer's: OUT_OF_ORDER_SEQUENCE_NUMBER,
 * DUPLICATE_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_ID_MAPPING.
 */
export class ProducerStateError extends KafkaCodeError {
  override name = 'ProducerStateError';
}

/**
 * A transactional operation failed: INVALID_TXN_STATE, INVALID_TRANSACTION_TIMEOUT, CONCURRENT_TRANSACTIONS,
 * TRANSACTIONAL_ID_NOT_FOUND, TRANSACTION_ABORTABLE.
 */
export class TransactionError extends KafkaCodeError {
  override name = 'TransactionError';
}

/**
 * The broker refused the client's credentials (SASL_AUTHENTICATION_FAILED: wrong password, unknown user), or the
 * SASL exchange itself failed on the client side (the server's SCRAM signature did not match, a malformed
 * challenge). Not retriable: the broker closes the connection, and the same credentials fail again.
 */
export class SaslAuthenticationError extends KafkaCodeError {
  override name = 'SaslAuthenticationError';
}

/**
 * The broker does not enable the SASL mechanism the client asked for (UNSUPPORTED_SASL_MECHANISM).
 * `enabledMechanisms` lists what the broker offers instead. Not retriable.
 */
export class UnsupportedSaslMechanismError extends KafkaCodeError {
  override name = 'UnsupportedSaslMechanismError';
  /** The mechanisms the broker enables, in its own spelling ('PLAIN', 'SCRAM-SHA-256'). */
  readonly enabledMechanisms: readonly string[];

  constructor(
    code: number,
    message?: string,
    context: ErrorContext & { enabledMechanisms?: readonly string[] } = {},
  ) {
    const { enabledMechanisms = [], ...rest } = context;
    super(code, message, rest);
    this.enabledMechanisms = enabledMechanisms;
  }
}

/**
 * A SASL request arrived in a state that does not allow it (ILLEGAL_SASL_STATE): typically a SaslHandshake on a
 * listener without SASL (PLAINTEXT), or a second handshake after authentication. Not retriable.
 */
export class IllegalSaslStateError extends KafkaCodeError {
  override name = 'IllegalSaslStateError';
}

/**
 * A TLS connection to a broker could not be set up: the broker's certificate is not trusted or does not name
 * the host, the broker refused the client certificate (or wanted one), or one side speaks TLS and the other
 * does not (a client with ssl against a PLAINTEXT listener, or without ssl against an SSL one). `cause` holds
 * node's socket error. Not retriable: the same settings fail the same way.
 */
export class TlsError extends KafkaClientError {
  override name = 'TlsError';
  constructor(message: string, context: ErrorContext = {}) {
    super({ ...context, code: CLIENT_ERROR_CODE, type: 'TLS_ERROR', retriable: false, message });
  }
}

/**
 * A response could not be decoded although its frame was intact. Only that request fails; this usually means
 * the broker and client disagree about a schema.
 */
export class ProtocolError extends KafkaClientError {
  override name = 'ProtocolError';
  constructor(message: string, context: ErrorContext = {}) {
    super({ ...context, code: CLIENT_ERROR_CODE, type: 'PROTOCOL_ERROR', retriable: false, message });
  }
}

/** The producer's memory bound (bufferMemory) was hit and stayed full for maxBlockMs. */
export class BufferFullError extends KafkaClientError {
  override name = 'BufferFullError';
  constructor(message: string, context: ErrorContext = {}) {
    super({ ...context, code: CLIENT_ERROR_CODE, type: 'BUFFER_FULL', retriable: false, message });
  }
}

/**
 * A transactional method was called in a state that does not allow it (send() before beginTransaction(),
 * commitTransaction() with no transaction, ...). Nothing was sent; the producer's state is unchanged.
 */
export class TransactionStateError extends KafkaClientError {
  override name = 'TransactionStateError';
  constructor(message: string) {
    super({ code: CLIENT_ERROR_CODE, type: 'ILLEGAL_TRANSACTION_STATE', retriable: false, message });
  }
}

/** A record was not sent because its transaction was aborted (abortTransaction(), or a failure before it). */
export class TransactionAbortedError extends KafkaClientError {
  override name = 'TransactionAbortedError';
  constructor(
    message = 'the transaction was aborted before the record was sent',
    context: ErrorContext = {},
  ) {
    super({ ...context, code: CLIENT_ERROR_CODE, type: 'TRANSACTION_ABORTED', retriable: false, message });
  }
}

/** The client (or connection) was closed by the application; pending and later operations fail with this. */
export class ClientClosedError extends KafkaClientError {
  override name = 'ClientClosedError';
  constructor(message = 'the client is closed', context: ErrorContext = {}) {
    super({ ...context, code: CLIENT_ERROR_CODE, type: 'CLIENT_CLOSED', retriable: false, message });
  }
}

/**
 * Several items of one request failed (for example two of five topics in createTopics). `errors` holds one typed
 * error per failed item, with its topic or group set; `code`, `type` and `retriable` are those of the first.
 */
export class KafkaAggregateError extends KafkaClientError {
  override name = 'KafkaAggregateError';
  readonly errors: readonly KafkaClientError[];

  constructor(operation: string, errors: readonly KafkaClientError[]) {
    const first = errors[0];
    if (first === undefined) throw new TypeError('KafkaAggregateError needs at least one error');
    const details = errors
      .map((e) => `${e.topic ?? e.groupId ?? e.transactionalId ?? '?'}: ${e.type} (${e.message})`)
      .join('; ');
    super({
      code: first.code,
      type: first.type,
      retriable: errors.every((e) => e.retriable),
      message: `${operation} failed for ${errors.length} item(s): ${details}`,
    });
    this.errors = errors;
  }
}

type FamilyConstructor = new (code: number, message?: string, context?: ErrorContext) => KafkaClientError;

const FAMILY_BY_CODE: ReadonlyMap<number, FamilyConstructor> = (() => {
  const map = new Map<number, FamilyConstructor>();
  const add = (family: FamilyConstructor, codes: readonly number[]) => {
    for (const code of codes) map.set(code, family);
  };
  const E = ErrorCode;
  add(StaleMetadataError, [
    E.UNKNOWN_TOPIC_OR_PARTITION,
    E.LEADER_NOT_AVAILABLE,
    E.NOT_LEADER_OR_FOLLOWER,
    E.REPLICA_NOT_AVAILABLE,
    E.NOT_CONTROLLER,
    E.LISTENER_NOT_FOUND,
    E.FENCED_LEADER_EPOCH,
    E.UNKNOWN_LEADER_EPOCH,
    E.UNKNOWN_TOPIC_ID,
    E.INCONSISTENT_TOPIC_ID,
  ]);
  add(CoordinatorError, [E.COORDINATOR_LOAD_IN_PROGRESS, E.COORDINATOR_NOT_AVAILABLE, E.NOT_COORDINATOR]);
  add(RebalanceError, [
    E.REBALANCE_IN_PROGRESS,
    E.ILLEGAL_GENERATION,
    E.UNKNOWN_MEMBER_ID,
    E.FENCED_INSTANCE_ID,
    E.MEMBER_ID_REQUIRED,
    E.FENCED_MEMBER_EPOCH,
    E.STALE_MEMBER_EPOCH,
  ]);
  add(RecordError, [
    E.CORRUPT_MESSAGE,
    E.MESSAGE_TOO_LARGE,
    E.RECORD_LIST_TOO_LARGE,
    E.INVALID_RECORD,
    E.INVALID_TIMESTAMP,
    E.UNSUPPORTED_COMPRESSION_TYPE,
  ]);
  add(OffsetOutOfRangeError, [E.OFFSET_OUT_OF_RANGE]);
  add(TopicError, [
    E.TOPIC_ALREADY_EXISTS,
    E.INVALID_TOPIC_EXCEPTION,
    E.INVALID_PARTITIONS,
    E.INVALID_REPLICATION_FACTOR,
    E.INVALID_REPLICA_ASSIGNMENT,
    E.TOPIC_DELETION_DISABLED,
  ]);
  add(ConfigError, [
    E.INVALID_CONFIG,
    E.INVALID_REQUEST,
    E.POLICY_VIOLATION,
    E.RESOURCE_NOT_FOUND,
    E.DUPLICATE_RESOURCE,
  ]);
  add(AuthorizationError, [
    E.TOPIC_AUTHORIZATION_FAILED,
    E.GROUP_AUTHORIZATION_FAILED,
    E.CLUSTER_AUTHORIZATION_FAILED,
    E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    E.DELEGATION_TOKEN_AUTHORIZATION_FAILED,
  ]);
  add(GroupError, [
    E.INCONSISTENT_GROUP_PROTOCOL,
    E.INVALID_GROUP_ID,
    E.INVALID_SESSION_TIMEOUT,
    E.NON_EMPTY_GROUP,
    E.GROUP_ID_NOT_FOUND,
    E.GROUP_MAX_SIZE_REACHED,
    E.GROUP_SUBSCRIBED_TO_TOPIC,
  ]);
  add(ProducerFencedError, [E.INVALID_PRODUCER_EPOCH, E.TRANSACTION_COORDINATOR_FENCED, E.PRODUCER_FENCED]);
  add(ProducerStateError, [
    E.OUT_OF_ORDER_SEQUENCE_NUMBER,
    E.DUPLICATE_SEQUENCE_NUMBER,
    E.INVALID_PRODUCER_ID_MAPPING,
    E.UNKNOWN_PRODUCER_ID,
  ]);
  add(TransactionError, [
    E.INVALID_TXN_STATE,
    E.INVALID_TRANSACTION_TIMEOUT,
    E.CONCURRENT_TRANSACTIONS,
    E.TRANSACTIONAL_ID_NOT_FOUND,
    E.TRANSACTION_ABORTABLE,
  ]);
  add(SaslAuthenticationError, [E.SASL_AUTHENTICATION_FAILED]);
  add(UnsupportedSaslMechanismError, [E.UNSUPPORTED_SASL_MECHANISM]);
  add(IllegalSaslStateError, [E.ILLEGAL_SASL_STATE]);
  return map;
})();

/**
 * The typed error for a Kafka error code from a response. Codes outside every family become a plain
 * KafkaClientError with Kafka's name and retriable flag. Do not call it with NONE (0).
 */
export function errorFromCode(code: number, message?: string, context: ErrorContext = {}): KafkaClientError {
  const family = FAMILY_BY_CODE.get(code);
  if (family !== undefined) return new family(code, message ?? undefined, context);
  const text = message ?? errorInfo(code).message;
  switch (code) {
    case ErrorCode.UNSUPPORTED_VERSION:
      return new UnsupportedVersionError(text, context);
    case ErrorCode.REQUEST_TIMED_OUT:
      return new RequestTimeoutError(text, { ...context, code });
    case ErrorCode.NETWORK_EXCEPTION:
      return new ConnectionError(text, { ...context, code });
    default:
      return new KafkaClientError(fromKafkaCode(code, text, context));
  }
}

/** Throws the typed error for `code` unless it is NONE. `message` is the broker's error message, if any. */
export function throwIfError(code: number, message?: string | null, context?: ErrorContext): void {
  if (code !== ErrorCode.NONE) throw errorFromCode(code, message ?? undefined, context);
}
