// Checksums over a byte range without copying: a subarray is a view, so the native code reads the caller's
// memory directly.
import { crc32 as nativeCrc32, crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C (Castagnoli) of buf[start, end): the checksum of magic-2 record batches. Unsigned. */
export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  return nativeCrc32c(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
}

/** CRC-32 (IEEE) of buf[start, end): the checksum of legacy magic 0/1 messages. Unsigned. */
export function crc32(buf: Buffer, start = 0, end = buf.length): number {
  return nativeCrc32(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
}
