// JoinGroup metadata and SyncGroup assignments of protocol type 'consumer'. Kafka clients put an int16
// version in front of the ConsumerProtocolSubscription / ConsumerProtocolAssignment struct (the generated
// codecs do not write it). Like Java, a newer version than we know is read as the newest we know: later
// versions only append fields, so the known prefix still parses.
import {
  type ConsumerProtocolAssignment,
  ConsumerProtocolAssignmentCodec,
} from '../../protocol/generated/consumer-protocol-assignment.js';
import {
  type ConsumerProtocolSubscription,
  ConsumerProtocolSubscriptionCodec,
} from '../../protocol/generated/consumer-protocol-subscription.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import type { TopicPartitions } from './assignors.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface Subscription {
  version: number;
  topics: string[];
  userData: Buffer | null;
  ownedPartitions: TopicPartitions[];
  generationId: number;
  rackId: string | null;
}

export interface Assignment {
  version: number;
  assignedPartitions: TopicPartitions[];
  userData: Buffer | null;
}

export function encodeSubscription(subscription: Subscription): Buffer {
  const version = Math.min(subscription.version, ConsumerProtocolSubscriptionCodec.maxVersion);
  const w = new Writer(64);
  w.writeInt16(version);
  const message: ConsumerProtocolSubscription = {
    topics: subscription.topics,
    userData: subscription.userData,
    ownedPartitions: subscription.ownedPartitions,
    generationId: subscription.generationId,
    rackId: subscription.rackId,
  };
  ConsumerProtocolSubscriptionCodec.encode(w, message, version);
  return w.toBuffer();
}

export function decodeSubscription(metadata: Buffer): Subscription {
  const r = new Reader(metadata);
  const version = r.readInt16();
  if (version < 0) throw new RangeError(`consumer subscription has version ${version}`);
  const decoded = ConsumerProtocolSubscriptionCodec.decode(
    r,
    Math.min(version, ConsumerProtocolSubscriptionCodec.maxVersion),
  );
  return { version, ...decoded };
}

export function encodeAssignment(assignment: Assignment): Buffer {
  const version = Math.min(assignment.version, ConsumerProtocolAssignmentCodec.maxVersion);
  const w = new Writer(64);
  w.writeInt16(version);
  const message: ConsumerProtocolAssignment = {
    assignedPartitions: assignment.assignedPartitions,
    userData: assignment.userData,
  };
  ConsumerProtocolAssignmentCodec.encode(w, message, version);
  return w.toBuffer();
}

/** An empty SyncGroup assignment (what a leader sends members it gives nothing) means no partitions. */
export function decodeAssignment(data: Buffer): Assignment {
  if (data.length === 0) return { version: 0, assignedPartitions: [], userData: null };
  const r = new Reader(data);
  const version = r.readInt16();
  if (version < 0) throw new RangeError(`consumer assignment has version ${version}`);
  const decoded = ConsumerProtocolAssignmentCodec.decode(
    r,
    Math.min(version, ConsumerProtocolAssignmentCodec.maxVersion),
  );
  return { version, ...decoded };
}
