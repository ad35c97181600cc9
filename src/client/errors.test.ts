import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import {
  AuthorizationError,
  ConfigError,
  ConnectionError,
  CoordinatorError,
  errorFromCode,
  GroupError,
  KafkaAggregateError,
  KafkaClientError,
  OffsetOutOfRangeError,
  ProducerFencedError,
  ProducerStateError,
  RebalanceError,
  RecordError,
  RequestTimeoutError,
  StaleMetadataError,
  TopicError,
  TransactionError,
  UnsupportedVersionError,
} from './errors.js';

describe('errorFromCode', () => {
  const cases: [number, new (...args: never[]) => KafkaClientError, string, boolean][] = [
    [ErrorCode.NOT_LEADER_OR_FOLLOWER, StaleMetadataError, 'NOT_LEADER_OR_FOLLOWER', true],
    [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, StaleMetadataError, 'UNKNOWN_TOPIC_OR_PARTITION', true],
    [ErrorCode.FENCED_LEADER_EPOCH, StaleMetadataError, 'FENCED_LEADER_EPOCH', true],
    [ErrorCode.NOT_CONTROLLER, StaleMetadataError, 'NOT_CONTROLLER', true],
    [ErrorCode.NOT_COORDINATOR, CoordinatorError, 'NOT_COORDINATOR', true],
    [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, CoordinatorError, 'COORDINATOR_LOAD_IN_PROGRESS', true],
    [ErrorCode.REBALANCE_IN_PROGRESS, RebalanceError, 'REBALANCE_IN_PROGRESS', false],
    [ErrorCode.UNKNOWN_MEMBER_ID, RebalanceError, 'UNKNOWN_MEMBER_ID', false],
    [ErrorCode.MESSAGE_TOO_LARGE, RecordError, 'MESSAGE_TOO_LARGE', false],
    [ErrorCode.CORRUPT_MESSAGE, RecordError, 'CORRUPT_MESSAGE', true],
    [ErrorCode.OFFSET_OUT_OF_RANGE, OffsetOutOfRangeError, 'OFFSET_OUT_OF_RANGE', false],
    [ErrorCode.TOPIC_ALREADY_EXISTS, TopicError, 'TOPIC_ALREADY_EXISTS', false],
    [ErrorCode.INVALID_TOPIC_EXCEPTION, TopicError, 'INVALID_TOPIC_EXCEPTION', false],
    [ErrorCode.INVALID_CONFIG, ConfigError, 'INVALID_CONFIG', false],
    [ErrorCode.INVALID_REQUEST, ConfigError, 'INVALID_REQUEST', false],
    [ErrorCode.TOPIC_AUTHORIZATION_FAILED, AuthorizationError, 'TOPIC_AUTHORIZATION_FAILED', false],
    [ErrorCode.NON_EMPTY_GROUP, GroupError, 'NON_EMPTY_GROUP', false],
    [ErrorCode.PRODUCER_FENCED, ProducerFencedError, 'PRODUCER_FENCED', false],
    [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, ProducerStateError, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false],
    [ErrorCode.CONCURRENT_TRANSACTIONS, TransactionError, 'CONCURRENT_TRANSACTIONS', true],
    [ErrorCode.UNSUPPORTED_VERSION, UnsupportedVersionError, 'UNSUPPORTED_VERSION', false],
    [ErrorCode.REQUEST_TIMED_OUT, RequestTimeoutError, 'REQUEST_TIMED_OUT', true],
    [ErrorCode.NETWORK_EXCEPTION, ConnectionError, 'NETWORK_EXCEPTION', true],
  ];
  for (const [code, family, type, retriable] of cases) {
    test(`${type} (${code}) → ${family.name}`, () => {
      const error = errorFromCode(code);
      assert.ok(error instanceof family, `${error.constructor.name}`);
      assert.ok(error instanceof KafkaClientError);
      assert.ok(error instanceof Error);
      assert.equal(error.code, code);
      assert.equal(error.type, type);
      assert.equal(error.retriable, retriable);
      assert.equal(error.name, family.name);
    });
  }

  test('codes outside every family keep Kafka name and retriable flag', () => {
    const error = errorFromCode(ErrorCode.NOT_ENOUGH_REPLICAS);
    assert.equal(error.constructor, KafkaClientError);
    assert.equal(error.type, 'NOT_ENOUGH_REPLICAS');
    assert.equal(error.retriable, true);
    const unknown = errorFromCode(9999);
    assert.equal(unknown.type, 'UNKNOWN_CODE_9999');
    assert.equal(unknown.retriable, false);
  });

  test('carries the broker message (or the table message) and the context', () => {
    const withMessage = errorFromCode(ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'a' already exists.", {
      topic: 'a',
      partition: 2,
    });
    assert.equal(withMessage.message, "Topic 'a' already exists.");
    assert.equal(withMessage.topic, 'a');
    assert.equal(withMessage.partition, 2);
    assert.equal(withMessage.groupId, undefined);
    assert.equal(
      errorFromCode(ErrorCode.TOPIC_ALREADY_EXISTS).message,
      'A topic with this name already exists.',
    );
    assert.equal(errorFromCode(ErrorCode.NOT_COORDINATOR, undefined, { groupId: 'g' }).groupId, 'g');
  });

  test('client-side errors use code -1 and a client type', () => {
    const connection = new ConnectionError('gone');
    assert.equal(connection.code, -1);
    assert.equal(connection.type, 'CONNECTION_ERROR');
    assert.equal(connection.retriable, true);
    const timeout = new RequestTimeoutError('slow');
    assert.equal(timeout.type, 'REQUEST_TIMEOUT');
    assert.equal(timeout.retriable, true);
  });
});

describe('KafkaAggregateError', () => {
  test('keeps every item error and takes code and type from the first', () => {
    const errors = [
      errorFromCode(ErrorCode.TOPIC_ALREADY_EXISTS, undefined, { topic: 'a' }),
      errorFromCode(ErrorCode.INVALID_TOPIC_EXCEPTION, undefined, { topic: 'b!' }),
    ];
    const aggregate = new KafkaAggregateError('createTopics', errors);
    assert.ok(aggregate instanceof KafkaClientError);
    assert.deepEqual(aggregate.errors, errors);
    assert.equal(aggregate.code, ErrorCode.TOPIC_ALREADY_EXISTS);
    assert.equal(aggregate.type, 'TOPIC_ALREADY_EXISTS');
    assert.equal(aggregate.retriable, false);
    assert.match(
      aggregate.message,
      /createTopics failed for 2 item\(s\): a: TOPIC_ALREADY_EXISTS .*b!: INVALID_TOPIC_EXCEPTION/,
    );
  });

  test('is retriable only when every item is', () => {
    const retriable = [errorFromCode(ErrorCode.NOT_CONTROLLER), errorFromCode(ErrorCode.NOT_COORDINATOR)];
    assert.equal(new KafkaAggregateError('x', retriable).retriable, true);
    assert.equal(
      new KafkaAggregateError('x', [...retriable, errorFromCode(ErrorCode.INVALID_CONFIG)]).retriable,
      false,
    );
  });
});
