// Records of the internal topic __transaction_state, in Kafka's own layout so that the topic's contents mean
// the same to Kafka's tools (kafka-dump-log --transaction-log-decoder) as to this broker:
//
//   TransactionLogKey v0:   int16 version 0, string transactionalId
//   TransactionLogValue v0: int16 version 0, int64 producerId, int16 producerEpoch, int32 transactionTimeoutMs,
//                           int8 transactionStatus, nullable array of (string topic, array of int32 partition),
//                           int64 transactionLastUpdateTimestampMs, int64 transactionStartTimestampMs
//   TransactionLogValue v1: the same fields in Kafka's flexible encoding (compact strings and arrays, an empty
//                           tagged-field section after each partitions entry and after the value)
//
// A null value is a tombstone: the transactional id expired. Kafka writes v0 until its transaction.version
// feature is raised, and so does this broker; both versions are read.
import { ProtocolDecodeError } from '../../protocol/primitives/errors.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import { TransactionRecordError } from './errors.js';
import { type TopicPartition, TRANSACTION_STATES, type TransactionStateName } from './metadata.js';

const KEY_VERSION = 0;
export const TRANSACTION_LOG_VALUE_VERSION = 0;
const HIGHEST_VALUE_VERSION = 1;

export interface TransactionLogValue {
  producerId: number;
  producerEpoch: number;
  transactionTimeoutMs: number;
  state: TransactionStateName;
  /** Empty for the Empty state (stored as a null array). */
  partitions: TopicPartition[];
  lastUpdateTimestampMs: number;
  startTimestampMs: number;
}

export function encodeTransactionLogKey(transactionalId: string): Buffer {
  const w = new Writer(8 + transactionalId.length * 3);
  w.writeInt16(KEY_VERSION);
  w.writeString(transactionalId);
  return w.toBuffer();
}

/** The transactional id, or null for a key version this broker does not know (Kafka skips those too). */
export function decodeTransactionLogKey(key: Buffer): string | null {
  try {
    const r = new Reader(key);
    const version = r.readInt16();
    if (version !== KEY_VERSION) return null;
    const transactionalId = r.readString();
    if (r.remaining !== 0) throw new TransactionRecordError(`${r.remaining} trailing bytes after the key`);
    return transactionalId;
  } catch (error) {
    throw asRecordError(error, 'transaction log key');
  }
}

export function encodeTransactionLogValue(
  value: TransactionLogValue,
  version: 0 | 1 = TRANSACTION_LOG_VALUE_VERSION,
): Buffer {
  const flexible = version >= 1;
  const w = new Writer(64);
  w.writeInt16(version);
  w.writeInt64(BigInt(value.producerId));
  w.writeInt16(value.producerEpoch);
  w.writeInt32(value.transactionTimeoutMs);
  w.writeInt8(stateId(value.state));
  // Kafka stores no partition list (null) for Empty, and groups the others by topic in first-seen order.
  const byTopic = value.state === 'Empty' ? null : groupByTopic(value.partitions);
  if (flexible) w.writeCompactArrayLength(byTopic === null ? null : byTopic.size);
  else w.writeArrayLength(byTopic === null ? null : byTopic.size);
  for (const [topic, partitions] of byTopic ?? []) {
    if (flexible) {
      w.writeCompactString(topic);
      w.writeCompactArrayLength(partitions.length);
    } else {
      w.writeString(topic);
      w.writeArrayLength(partitions.length);
    }
    for (const partition of partitions) w.writeInt32(partition);
    if (flexible) w.writeUnsignedVarint(0);
  }
  w.writeInt64(BigInt(value.lastUpdateTimestampMs));
  w.writeInt64(BigInt(value.startTimestampMs));
  if (flexible) w.writeUnsignedVarint(0);
  return w.toBuffer();
}

export function decodeTransactionLogValue(value: Buffer): TransactionLogValue {
  try {
    const r = new Reader(value);
    const version = r.readInt16();
    if (version < 0 || version > HIGHEST_VALUE_VERSION) {
      throw new TransactionRecordError(`unknown transaction log value version ${version}`);
    }
    const flexible = version >= 1;
    const producerId = Number(r.readInt64());
    const producerEpoch = r.readInt16();
    const transactionTimeoutMs = r.readInt32();
    const state = stateName(r.readInt8());
    const topicCount = flexible ? r.readCompactArrayLength() : r.readArrayLength();
    const partitions: TopicPartition[] = [];
    for (let i = 0; i < (topicCount ?? 0); i++) {
      const topic = flexible ? r.readCompactString() : r.readString();
      const count = (flexible ? r.readCompactArrayLength() : r.readArrayLength()) ?? 0;
      for (let j = 0; j < count; j++) partitions.push({ topic, partition: r.readInt32() });
      if (flexible) r.skipTaggedFields();
    }
    const lastUpdateTimestampMs = Number(r.readInt64());
    const startTimestampMs = Number(r.readInt64());
    if (flexible) r.skipTaggedFields();
    if (r.remaining !== 0) throw new TransactionRecordError(`${r.remaining} trailing bytes after the value`);
    return {
      producerId,
      producerEpoch,
      transactionTimeoutMs,
      state,
      // Kafka ignores a partition list stored with Empty.
      partitions: state === 'Empty' ? [] : partitions,
      lastUpdateTimestampMs,
      startTimestampMs,
    };
  } catch (error) {
    throw asRecordError(error, 'transaction log value');
  }
}

function groupByTopic(partitions: readonly TopicPartition[]): Map<string, number[]> {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [partition]);
    else list.push(partition);
  }
  return byTopic;
}

function stateId(state: TransactionStateName): number {
  return TRANSACTION_STATES.indexOf(state);
}

function stateName(id: number): TransactionStateName {
  const state = TRANSACTION_STATES[id];
  if (state === undefined) throw new TransactionRecordError(`unknown transaction status ${id}`);
  return state;
}

function asRecordError(error: unknown, what: string): Error {
  if (error instanceof TransactionRecordError) return error;
  if (error instanceof ProtocolDecodeError) {
    return new TransactionRecordError(`truncated ${what}: ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}
