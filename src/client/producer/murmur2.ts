// Java-compatible 32-bit murmur2 (Kafka's Utils.murmur2), the hash behind the Java client's and kafkajs's
// default partitioner. Same key, same partition count → same partition as those clients.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** murmur2 of buf[start, end) as a signed 32-bit integer, exactly as Java's Utils.murmur2 returns it. */
export function murmur2(buf: Uint8Array, start = 0, end = buf.length): number {
  const length = end - start;
  let h = SEED ^ length;
  const wordsEnd = start + (length & ~3);
  let at = start;
  for (; at < wordsEnd; at += 4) {
    let k = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tailBytes = length & 3;
  if (tailBytes > 0) {
    if (tailBytes === 3) h ^= buf[wordsEnd + 2]! << 16;
    if (tailBytes >= 2) h ^= buf[wordsEnd + 1]! << 8;
    h ^= buf[wordsEnd]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which differs for negative hashes). */
export function toPositive(value: number): number {
  return value & 0x7fffffff;
}

/** The partition Java's and kafkajs's default partitioners pick for a keyed record. */
export function partitionForKey(key: Uint8Array | string, partitionCount: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return toPositive(murmur2(bytes)) % partitionCount;
}
