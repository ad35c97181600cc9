// Which offsets-topic partition owns a group. Every broker and every client-side tool must compute the same
// answer as Kafka, so this follows Java exactly: String.hashCode over UTF-16 code units with int32
// wrap-around, then Utils.abs (Integer.MIN_VALUE maps to 0, not to itself) modulo the partition count.

/** Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1], in 32-bit two's complement. */
export function javaStringHashCode(value: string): number {
  let hash = 0;
  for (let i = 0; i < value.length; i++) {
    hash = (Math.imul(hash, 31) + value.charCodeAt(i)) | 0;
  }
  return hash;
}

/** Kafka's Utils.abs: like Math.abs, except that Integer.MIN_VALUE gives 0 instead of overflowing. */
export function javaUtilsAbs(value: number): number {
  return value === -2147483648 ? 0 : Math.abs(value);
}

export function partitionFor(groupId: string, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions <= 0) {
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
  }
  return javaUtilsAbs(javaStringHashCode(groupId)) % numPartitions;
}
