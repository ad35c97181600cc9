// Shared by this folder's tests: byte builders for client-side structures the coordinator reads.

function string16(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export function int16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(value);
  return b;
}

export function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

/** ConsumerProtocolSubscription as the Java client writes it (v1+ own one partition of the first topic). */
export function subscription(topics: string[], version = 0, userData: Buffer | null = null): Buffer {
  const parts = [int16(version), int32(topics.length), ...topics.map(string16)];
  parts.push(userData === null ? int32(-1) : Buffer.concat([int32(userData.length), userData]));
  if (version >= 1) parts.push(int32(1), string16(topics[0] ?? 't'), int32(1), int32(0));
  if (version >= 2) parts.push(int32(7));
  if (version >= 3) parts.push(string16('rack-a'));
  return Buffer.concat(parts);
}
