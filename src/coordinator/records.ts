// Records the coordinator writes to its offsets-topic partitions: committed offsets and group metadata.
// Our own compact binary format (not Kafka's __consumer_offsets schema); all integers big-endian.
//
//   string16  = int16 byte length, then UTF-8 bytes; length -1 means null (nullable fields only)
//   string32  = int32 byte length, then UTF-8 bytes
//   bytes32   = int32 byte length, then the bytes
//
// Keys start with an int16 key type and contain only identity fields, so the same entity always has
// byte-identical keys and compaction keeps just its latest record; a null value is a tombstone.
//
//   OffsetCommitKey  (type 1): int16 1, string16 groupId, string16 topic, int32 partition
//   GroupMetadataKey (type 2): int16 2, string16 groupId
//
// Values start with an int8 format version (currently 0 for both):
//
//   OffsetCommitValue v0: int8 0, int64 offset, int32 leaderEpoch (-1 none), string32 metadata,
//                         int64 commitTimestampMs, int64 expireTimestampMs (-1 none: broker retention applies)
//   GroupMetadataValue v0: int8 0, string16? protocolType, int32 generationId, string16? protocolName,
//                         string16? leaderId, int64 currentStateTimestampMs, int32 memberCount, members:
//                           string16 memberId, string16? groupInstanceId, string16 clientId, string16 clientHost,
//                           int32 rebalanceTimeoutMs, int32 sessionTimeoutMs,
//                           int32 protocolCount, protocols: (string16 name, bytes32 metadata),
//                           bytes32 assignment
//
// Unlike Kafka, a member keeps all its supported protocols (not only the selected one), so a member that
// rejoins after a coordinator restart with unchanged metadata still matches and causes no rebalance.

import { CoordinatorRecordError } from './errors.js';

const OFFSET_COMMIT_KEY_TYPE = 1;
const GROUP_METADATA_KEY_TYPE = 2;
const VALUE_VERSION = 0;

export type CoordinatorRecordKey =
  | { type: 'offsetCommit'; groupId: string; topic: string; partition: number }
  | { type: 'groupMetadata'; groupId: string };

export interface OffsetCommitValue {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  expireTimestampMs: number | null;
}

export interface StoredMemberProtocol {
  name: string;
  metadata: Buffer;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocols: StoredMemberProtocol[];
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string | null;
  generationId: number;
  protocolName: string | null;
  leaderId: string | null;
  currentStateTimestampMs: number;
  members: StoredMember[];
}

class RecordWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialBytes: number) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  private reserve(bytes: number): number {
    const start = this.length;
    if (start + bytes > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, start + bytes));
      this.buffer.copy(grown, 0, 0, start);
      this.buffer = grown;
    }
    this.length += bytes;
    return start;
  }

  // reserve() may replace this.buffer, so each writer reserves before it touches the buffer.
  int8(value: number): void {
    const at = this.reserve(1);
    this.buffer.writeInt8(value, at);
  }

  int16(value: number): void {
    const at = this.reserve(2);
    this.buffer.writeInt16BE(value, at);
  }

  int32(value: number): void {
    const at = this.reserve(4);
    this.buffer.writeInt32BE(value, at);
  }

  int64(value: number): void {
    if (!Number.isSafeInteger(value))
      throw new RangeError(`int64 field must be a safe integer, got ${value}`);
    const at = this.reserve(8);
    this.buffer.writeBigInt64BE(BigInt(value), at);
  }

  string16(value: string | null): void {
    if (value === null) {
      this.int16(-1);
      return;
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > 0x7fff) throw new RangeError(`string of ${bytes} bytes does not fit an int16 length`);
    this.int16(bytes);
    const at = this.reserve(bytes);
    this.buffer.write(value, at, bytes, 'utf8');
  }

  string32(value: string): void {
    const bytes = Buffer.byteLength(value, 'utf8');
    this.int32(bytes);
    const at = this.reserve(bytes);
    this.buffer.write(value, at, bytes, 'utf8');
  }

  bytes32(value: Buffer): void {
    this.int32(value.length);
    const at = this.reserve(value.length);
    value.copy(this.buffer, at);
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

class RecordReader {
  private offset = 0;

  constructor(
    private readonly buffer: Buffer,
    private readonly what: string,
  ) {}

  private take(bytes: number): number {
    if (bytes < 0 || this.offset + bytes > this.buffer.length) {
      throw new CoordinatorRecordError(`${this.what} is truncated at byte ${this.offset}`);
    }
    const start = this.offset;
    this.offset += bytes;
    return start;
  }

  int8(): number {
    return this.buffer.readInt8(this.take(1));
  }

  int16(): number {
    return this.buffer.readInt16BE(this.take(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.take(4));
  }

  int64(): number {
    const value = this.buffer.readBigInt64BE(this.take(8));
    const asNumber = Number(value);
    if (!Number.isSafeInteger(asNumber)) throw new CoordinatorRecordError(`${this.what} has int64 ${value}`);
    return asNumber;
  }

  nullableString16(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    const start = this.take(length);
    return this.buffer.toString('utf8', start, start + length);
  }

  string16(): string {
    const value = this.nullableString16();
    if (value === null) throw new CoordinatorRecordError(`${this.what} has a null non-nullable string`);
    return value;
  }

  string32(): string {
    const length = this.int32();
    const start = this.take(length);
    return this.buffer.toString('utf8', start, start + length);
  }

  /** A copy: a loaded group outlives the (possibly large, possibly reused) buffer the log read it from. */
  bytes32(): Buffer {
    const length = this.int32();
    const start = this.take(length);
    return Buffer.from(this.buffer.subarray(start, start + length));
  }

  end(): void {
    if (this.offset !== this.buffer.length) {
      throw new CoordinatorRecordError(`${this.what} has ${this.buffer.length - this.offset} trailing bytes`);
    }
  }
}

export function encodeOffsetCommitKey(groupId: string, topic: string, partition: number): Buffer {
  const writer = new RecordWriter(16 + groupId.length * 3 + topic.length * 3);
  writer.int16(OFFSET_COMMIT_KEY_TYPE);
  writer.string16(groupId);
  writer.string16(topic);
  writer.int32(partition);
  return writer.finish();
}

export function encodeGroupMetadataKey(groupId: string): Buffer {
  const writer = new RecordWriter(8 + groupId.length * 3);
  writer.int16(GROUP_METADATA_KEY_TYPE);
  writer.string16(groupId);
  return writer.finish();
}

export function decodeRecordKey(key: Buffer): CoordinatorRecordKey {
  const reader = new RecordReader(key, 'coordinator record key');
  const type = reader.int16();
  let decoded: CoordinatorRecordKey;
  if (type === OFFSET_COMMIT_KEY_TYPE) {
    const groupId = reader.string16();
    const topic = reader.string16();
    decoded = { type: 'offsetCommit', groupId, topic, partition: reader.int32() };
  } else if (type === GROUP_METADATA_KEY_TYPE) {
    decoded = { type: 'groupMetadata', groupId: reader.string16() };
  } else {
    throw new CoordinatorRecordError(`unknown coordinator record key type ${type}`);
  }
  reader.end();
  return decoded;
}

export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  const writer = new RecordWriter(40 + value.metadata.length * 3);
  writer.int8(VALUE_VERSION);
  writer.int64(value.offset);
  writer.int32(value.leaderEpoch);
  writer.string32(value.metadata);
  writer.int64(value.commitTimestampMs);
  writer.int64(value.expireTimestampMs ?? -1);
  return writer.finish();
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const reader = new RecordReader(value, 'offset commit value');
  const version = reader.int8();
  if (version !== VALUE_VERSION)
    throw new CoordinatorRecordError(`unknown offset commit value version ${version}`);
  const offset = reader.int64();
  const leaderEpoch = reader.int32();
  const metadata = reader.string32();
  const commitTimestampMs = reader.int64();
  const expireTimestampMs = reader.int64();
  reader.end();
  return {
    offset,
    leaderEpoch,
    metadata,
    commitTimestampMs,
    expireTimestampMs: expireTimestampMs === -1 ? null : expireTimestampMs,
  };
}

export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  const writer = new RecordWriter(256);
  writer.int8(VALUE_VERSION);
  writer.string16(value.protocolType);
  writer.int32(value.generationId);
  writer.string16(value.protocolName);
  writer.string16(value.leaderId);
  writer.int64(value.currentStateTimestampMs);
  writer.int32(value.members.length);
  for (const member of value.members) {
    writer.string16(member.memberId);
    writer.string16(member.groupInstanceId);
    writer.string16(member.clientId);
    writer.string16(member.clientHost);
    writer.int32(member.rebalanceTimeoutMs);
    writer.int32(member.sessionTimeoutMs);
    writer.int32(member.protocols.length);
    for (const protocol of member.protocols) {
      writer.string16(protocol.name);
      writer.bytes32(protocol.metadata);
    }
    writer.bytes32(member.assignment);
  }
  return writer.finish();
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const reader = new RecordReader(value, 'group metadata value');
  const version = reader.int8();
  if (version !== VALUE_VERSION)
    throw new CoordinatorRecordError(`unknown group metadata value version ${version}`);
  const protocolType = reader.nullableString16();
  const generationId = reader.int32();
  const protocolName = reader.nullableString16();
  const leaderId = reader.nullableString16();
  const currentStateTimestampMs = reader.int64();
  const memberCount = reader.int32();
  if (memberCount < 0) throw new CoordinatorRecordError(`group metadata value has ${memberCount} members`);
  const members: StoredMember[] = [];
  for (let i = 0; i < memberCount; i++) {
    const memberId = reader.string16();
    const groupInstanceId = reader.nullableString16();
    const clientId = reader.string16();
    const clientHost = reader.string16();
    const rebalanceTimeoutMs = reader.int32();
    const sessionTimeoutMs = reader.int32();
    const protocolCount = reader.int32();
    if (protocolCount < 0) throw new CoordinatorRecordError(`group member has ${protocolCount} protocols`);
    const protocols: StoredMemberProtocol[] = [];
    for (let j = 0; j < protocolCount; j++) {
      const name = reader.string16();
      protocols.push({ name, metadata: reader.bytes32() });
    }
    const assignment = reader.bytes32();
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      rebalanceTimeoutMs,
      sessionTimeoutMs,
      protocols,
      assignment,
    });
  }
  reader.end();
  return { protocolType, generationId, protocolName, leaderId, currentStateTimestampMs, members };
}
