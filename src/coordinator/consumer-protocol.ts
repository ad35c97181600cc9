// The topics a consumer-protocol member subscribes to, read from its JoinGroup metadata. OffsetDelete and
// offset expiry must not touch offsets of topics a live group consumes.
//
// ConsumerProtocolSubscription (never flexible): int16 version, then the v0 fields that every later version
// keeps as its prefix: Topics as int32 count + int16-length UTF-8 strings, UserData as int32-length nullable
// bytes. Like Kafka, any version >= 0 is read through its v0 prefix so future versions still parse.

/** Topic names of a subscription, or null when the bytes are not a valid ConsumerProtocolSubscription. */
export function parseSubscriptionTopics(metadata: Buffer): string[] | null {
  let offset = 0;
  const remaining = () => metadata.length - offset;
  if (remaining() < 2) return null;
  const version = metadata.readInt16BE(offset);
  offset += 2;
  if (version < 0) return null;

  if (remaining() < 4) return null;
  const topicCount = metadata.readInt32BE(offset);
  offset += 4;
  // Each topic needs at least its 2-byte length, which bounds the count by the bytes present.
  if (topicCount < 0 || topicCount > remaining() / 2) return null;
  const topics: string[] = [];
  for (let i = 0; i < topicCount; i++) {
    if (remaining() < 2) return null;
    const length = metadata.readInt16BE(offset);
    offset += 2;
    if (length < 0 || remaining() < length) return null;
    topics.push(metadata.toString('utf8', offset, offset + length));
    offset += length;
  }

  if (remaining() < 4) return null;
  const userDataLength = metadata.readInt32BE(offset);
  offset += 4;
  if (userDataLength < -1 || (userDataLength > 0 && remaining() < userDataLength)) return null;
  return topics;
}
