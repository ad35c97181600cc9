import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, errorInfo, KafkaError } from '../errors.js';
import { ProtocolDecodeError, ProtocolEncodeError, UnsupportedVersionError } from './errors.js';

test('error codes match Kafka 3.9 at both ends and at known landmarks', () => {
  assert.equal(ErrorCode.UNKNOWN_SERVER_ERROR, -1);
  assert.equal(ErrorCode.NONE, 0);
  assert.equal(ErrorCode.OFFSET_OUT_OF_RANGE, 1);
  assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
  assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
  assert.equal(ErrorCode.INVALID_REQUEST, 42);
  assert.equal(ErrorCode.UNKNOWN_TOPIC_ID, 100);
  assert.equal(ErrorCode.TRANSACTION_ABORTABLE, 120);
  assert.equal(ErrorCode.VOTER_NOT_FOUND, 127);
  const codes = Object.values(ErrorCode);
  assert.equal(codes.length, 128);
  assert.equal(new Set(codes).size, 128);
  assert.equal(codes.includes(99 as never), false);
});

test('every code has info; retriability follows Kafka', () => {
  for (const [name, code] of Object.entries(ErrorCode)) {
    const info = errorInfo(code);
    assert.equal(info.name, name);
    assert.equal(info.code, code);
    if (code !== 0) assert.ok(info.message.length > 0, name);
  }
  assert.equal(errorInfo(ErrorCode.NOT_LEADER_OR_FOLLOWER).retriable, true);
  assert.equal(errorInfo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).retriable, true);
  assert.equal(errorInfo(ErrorCode.CORRUPT_MESSAGE).retriable, true);
  assert.equal(errorInfo(ErrorCode.REBALANCE_IN_PROGRESS).retriable, false);
  assert.equal(errorInfo(ErrorCode.BROKER_NOT_AVAILABLE).retriable, false);
  assert.equal(errorInfo(ErrorCode.UNKNOWN_SERVER_ERROR).retriable, false);
  assert.equal(errorInfo(1000).name, 'UNKNOWN_CODE_1000');
});

test('KafkaError carries code, retriability and a default message', () => {
  const error = new KafkaError(ErrorCode.NOT_COORDINATOR);
  assert.equal(error.code, 16);
  assert.equal(error.retriable, true);
  assert.equal(error.errorName, 'NOT_COORDINATOR');
  assert.equal(error.message, errorInfo(16).message);
  assert.ok(error instanceof Error);
  assert.equal(new KafkaError(ErrorCode.INVALID_CONFIG, 'bad').message, 'bad');
});

test('protocol errors map onto Kafka codes', () => {
  assert.equal(new ProtocolDecodeError('x').code, ErrorCode.INVALID_REQUEST);
  assert.equal(new ProtocolEncodeError('x').code, ErrorCode.UNKNOWN_SERVER_ERROR);
  assert.equal(new UnsupportedVersionError('x').code, ErrorCode.UNSUPPORTED_VERSION);
  assert.ok(new ProtocolDecodeError('x') instanceof KafkaError);
  assert.equal(new ProtocolDecodeError('x').name, 'ProtocolDecodeError');
});
