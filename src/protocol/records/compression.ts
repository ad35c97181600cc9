// Compression codecs of Kafka record batches, with the exact wire format each client expects.
//
// - gzip (1): a standard gzip stream (RFC 1952), what java.util.zip.GZIPOutputStream writes.
// - snappy (2): Java's client writes xerial snappy-java's SnappyOutputStream format: a 16-byte header
//   (magic 82 'SNAPPY' 00, then version 1 and minimum compatible version 1 as big-endian int32), then blocks of
//   [int32 BE compressed length][raw snappy block], each block holding at most 32 KiB of input. Other clients
//   send either this framing or one raw snappy block (sarama); the decoder accepts both, telling them apart by
//   the magic as xerial's SnappyInputStream does, and accepts concatenated xerial streams.
// - lz4 (3): the standard LZ4 frame format (magic 04 22 4D 18). Legacy magic-0 messages carried a wrong
//   frame-descriptor checksum (KAFKA-3160: it covered the magic too), so that path repairs it before decoding.
// - zstd (4): a standard zstd frame (RFC 8878).
//
// Decompression is bounded by `maxBytes`: snappy's declared sizes are checked before decoding, gzip stops at
// zlib's maxOutputLength, zstd streams in bounded chunks (a frame's declared content size is not trusted);
// lz4-napi offers no limit, so lz4 output is checked after decoding (LZ4's ratio is capped near 255:1).
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { readUnsignedVarint } from '../primitives/varint.js';
import { InvalidRecordError, UnsupportedCompressionTypeError } from './errors.js';
import type { CodecIdValue, Compression, CompressionName } from './layout.js';
import { CodecId } from './layout.js';

// The native codecs load on first use: each costs the process 3-6 MB of resident memory (snappy and lz4-napi
// also start a thread pool), which a broker or client whose batches are uncompressed never needs.
const requireCodec = createRequire(import.meta.url);
type Lz4Module = typeof import('lz4-napi');
type SnappyModule = typeof import('snappy');
type ZstdModule = typeof import('zstd-napi');
type ZstdBinding = typeof import('zstd-napi/binding.js');
let lz4Module: Lz4Module | undefined;
let snappyModule: SnappyModule | undefined;
let zstdModule: ZstdModule | undefined;
let zstdBindingModule: ZstdBinding | undefined;
const lz4 = (): Lz4Module => (lz4Module ??= requireCodec('lz4-napi') as Lz4Module);
const snappy = (): SnappyModule => (snappyModule ??= requireCodec('snappy') as SnappyModule);
const zstd = (): ZstdModule => (zstdModule ??= requireCodec('zstd-napi') as ZstdModule);
const zstdBinding = (): ZstdBinding =>
  (zstdBindingModule ??= requireCodec('zstd-napi/binding.js') as ZstdBinding);

/** Default bound on one decompressed record section. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024;

export interface DecompressOptions {
  /** Fail instead of producing more than this many bytes. */
  maxBytes?: number;
  /** lz4 only: ignore the frame-descriptor checksum written by legacy magic-0 producers. */
  legacyLz4HeaderChecksum?: boolean;
}

const CODEC_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The Kafka codec id of a codec given by name or id; throws UnsupportedCompressionTypeError otherwise. */
export function codecIdOf(codec: Compression | number | string): CodecIdValue {
  if (typeof codec === 'number') {
    if (Number.isInteger(codec) && codec >= 0 && codec < CODEC_NAMES.length) return codec as CodecIdValue;
  } else if (Object.hasOwn(CodecId, codec)) {
    return CodecId[codec as CompressionName];
  }
  throw new UnsupportedCompressionTypeError(`unknown compression codec ${String(codec)}`);
}

export function codecNameOf(codec: Compression | number | string): CompressionName {
  return CODEC_NAMES[codecIdOf(codec)]!;
}

export function compress(codec: Compression, data: Buffer): Buffer {
  switch (codecIdOf(codec)) {
    case CodecId.none:
      return data;
    case CodecId.gzip:
      return zlib.gzipSync(data);
    case CodecId.snappy:
      return xerialSnappyFrame(
        chunks(data).map((block) => snappy().compressSync(block, { copyOutputData: true })),
      );
    case CodecId.lz4:
      return lz4().compressFrameSync(data);
    case CodecId.zstd:
      return zstd().compress(data);
  }
}

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

/** Like compress, but gzip, snappy and lz4 run on the libuv/napi thread pool; zstd runs inline. */
export async function compressAsync(codec: Compression, data: Buffer): Promise<Buffer> {
  switch (codecIdOf(codec)) {
    case CodecId.gzip:
      return gzipAsync(data);
    case CodecId.snappy:
      return xerialSnappyFrame(await Promise.all(chunks(data).map((block) => snappy().compress(block))));
    case CodecId.lz4:
      return lz4().compressFrame(data);
    default:
      return compress(codec, data);
  }
}

export function decompress(codec: Compression, data: Buffer, options: DecompressOptions = {}): Buffer {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const id = codecIdOf(codec);
  try {
    switch (id) {
      case CodecId.none:
        return checkSize(data, maxBytes);
      case CodecId.gzip:
        return zlib.gunzipSync(data, { maxOutputLength: maxBytes });
      case CodecId.snappy:
        return decompressSnappy(data, maxBytes);
      case CodecId.lz4:
        return checkSize(lz4().decompressFrameSync(lz4Input(data, options)), maxBytes);
      case CodecId.zstd:
        return decompressZstd(data, maxBytes);
    }
  } catch (error) {
    throw asInvalid(error, id);
  }
}

export async function decompressAsync(
  codec: Compression,
  data: Buffer,
  options: DecompressOptions = {},
): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const id = codecIdOf(codec);
  try {
    switch (id) {
      case CodecId.gzip:
        return await gunzipAsync(data, { maxOutputLength: maxBytes });
      case CodecId.snappy: {
        const blocks = await Promise.all(
          snappyBlocks(data, maxBytes).map(
            async (block) => (await snappy().uncompress(block, { asBuffer: true })) as Buffer,
          ),
        );
        return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
      }
      case CodecId.lz4:
        return checkSize(await lz4().decompressFrame(lz4Input(data, options)), maxBytes);
      default:
        return decompress(codec, data, options);
    }
  } catch (error) {
    throw asInvalid(error, id);
  }
}

function asInvalid(error: unknown, id: CodecIdValue): Error {
  if (error instanceof InvalidRecordError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new InvalidRecordError(`cannot decompress ${CODEC_NAMES[id]} data: ${reason}`, { cause: error });
}

function checkSize(data: Buffer, maxBytes: number): Buffer {
  if (data.length > maxBytes) {
    throw new InvalidRecordError(`decompressed data exceeds ${maxBytes} bytes`);
  }
  return data;
}

// --- snappy -------------------------------------------------------------------------------------------------

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
const XERIAL_HEADER_BYTES = XERIAL_HEADER.length;
/** snappy-java's default SnappyOutputStream block size, which Kafka's Java producer uses. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

function chunks(data: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  for (let start = 0; start < data.length; start += XERIAL_BLOCK_BYTES) {
    blocks.push(data.subarray(start, start + XERIAL_BLOCK_BYTES));
  }
  return blocks;
}

function xerialSnappyFrame(blocks: Buffer[]): Buffer {
  let size = XERIAL_HEADER_BYTES;
  for (const block of blocks) size += 4 + block.length;
  const out = Buffer.allocUnsafe(size);
  let offset = XERIAL_HEADER.copy(out, 0);
  for (const block of blocks) {
    offset = out.writeUInt32BE(block.length, offset);
    offset += block.copy(out, offset);
  }
  return out;
}

function startsWithXerialMagic(data: Buffer, offset: number): boolean {
  return (
    data.length - offset >= XERIAL_HEADER_BYTES && data.compare(XERIAL_MAGIC, 0, 8, offset, offset + 8) === 0
  );
}

/**
 * Splits snappy input into raw snappy blocks: the blocks of a xerial stream (concatenated streams too, as
 * snappy-java accepts), or the whole input when it is one raw block. Checks the declared sizes against maxBytes.
 */
function snappyBlocks(data: Buffer, maxBytes: number): Buffer[] {
  if (!startsWithXerialMagic(data, 0)) {
    checkDeclaredSnappySize(data, maxBytes);
    return [data];
  }
  const blocks: Buffer[] = [];
  let declaredBytes = 0;
  let offset = 0;
  while (offset < data.length) {
    if (startsWithXerialMagic(data, offset)) {
      offset += XERIAL_HEADER_BYTES;
      continue;
    }
    if (data.length - offset < 4) throw new InvalidRecordError('truncated xerial snappy block length');
    const length = data.readUInt32BE(offset);
    offset += 4;
    if (length > data.length - offset) throw new InvalidRecordError('truncated xerial snappy block');
    const block = data.subarray(offset, offset + length);
    offset += length;
    declaredBytes += checkDeclaredSnappySize(block, maxBytes - declaredBytes);
    blocks.push(block);
  }
  return blocks;
}

function checkDeclaredSnappySize(block: Buffer, maxBytes: number): number {
  const size = readUnsignedVarint(block, { offset: 0 });
  if (size > maxBytes)
    throw new InvalidRecordError(`decompressed data exceeds the limit of ${maxBytes} bytes`);
  return size;
}

function decompressSnappy(data: Buffer, maxBytes: number): Buffer {
  const blocks = snappyBlocks(data, maxBytes).map(
    (block) => snappy().uncompressSync(block, { asBuffer: true, copyOutputData: true }) as Buffer,
  );
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
}

// --- lz4 ----------------------------------------------------------------------------------------------------

const LZ4_FRAME_MAGIC = 0x184d2204;
const LZ4_FLAG_CONTENT_SIZE = 0x08;
const LZ4_FLAG_DICT_ID = 0x01;

function lz4Input(data: Buffer, options: DecompressOptions): Buffer {
  return options.legacyLz4HeaderChecksum ? withRepairedLz4HeaderChecksum(data) : data;
}

/** A copy of an LZ4 frame whose header checksum is recomputed over the frame descriptor, as LZ4 specifies. */
export function withRepairedLz4HeaderChecksum(frame: Buffer): Buffer {
  if (frame.length < 7 || frame.readUInt32LE(0) !== LZ4_FRAME_MAGIC) {
    throw new InvalidRecordError('lz4 data does not start with an LZ4 frame header');
  }
  const flags = frame[4]!;
  const checksumAt = 6 + (flags & LZ4_FLAG_CONTENT_SIZE ? 8 : 0) + (flags & LZ4_FLAG_DICT_ID ? 4 : 0);
  if (frame.length <= checksumAt) throw new InvalidRecordError('truncated LZ4 frame header');
  const repaired = Buffer.from(frame);
  repaired[checksumAt] = (xxhash32Short(frame, 4, checksumAt) >>> 8) & 0xff;
  return repaired;
}

const XXH_PRIME1 = 0x9e3779b1;
const XXH_PRIME2 = 0x85ebca77;
const XXH_PRIME3 = 0xc2b2ae3d;
const XXH_PRIME4 = 0x27d4eb2f;
const XXH_PRIME5 = 0x165667b1;

function rotl32(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/** XXH32 with seed 0 of buf[start, end) for inputs under 16 bytes (an LZ4 frame descriptor is at most 14). */
export function xxhash32Short(buf: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length >= 16) throw new RangeError('xxhash32Short handles inputs shorter than 16 bytes');
  let hash = (XXH_PRIME5 + length) | 0;
  let offset = start;
  for (; offset + 4 <= end; offset += 4) {
    hash = (hash + Math.imul(buf.readUInt32LE(offset), XXH_PRIME3)) | 0;
    hash = Math.imul(rotl32(hash, 17), XXH_PRIME4);
  }
  for (; offset < end; offset++) {
    hash = (hash + Math.imul(buf[offset]!, XXH_PRIME5)) | 0;
    hash = Math.imul(rotl32(hash, 11), XXH_PRIME1);
  }
  hash ^= hash >>> 15;
  hash = Math.imul(hash, XXH_PRIME2);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, XXH_PRIME3);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

// --- zstd ---------------------------------------------------------------------------------------------------

let zstdContext: InstanceType<ZstdBinding['DCtx']> | undefined;

/** Streams frame by frame so that a frame declaring (or hiding) a huge size cannot allocate past maxBytes. */
function decompressZstd(data: Buffer, maxBytes: number): Buffer {
  const binding = zstdBinding();
  zstdContext ??= new binding.DCtx();
  const context = zstdContext;
  context.reset(binding.ResetDirective.sessionOnly);
  const streamOutBytes = binding.dStreamOutSize();
  const parts: Buffer[] = [];
  let total = 0;
  let input = data;
  let frameOpen = false;
  let outputFull = false;
  while (input.length > 0 || (outputFull && frameOpen)) {
    const room = maxBytes - total + 1;
    const out = Buffer.allocUnsafe(Math.min(room, Math.max(streamOutBytes, input.length * 4)));
    const [remainingHint, produced, consumed] = context.decompressStream(out, input);
    total += produced;
    if (total > maxBytes) throw new InvalidRecordError(`decompressed data exceeds ${maxBytes} bytes`);
    if (produced === 0 && consumed === 0) throw new InvalidRecordError('zstd data makes no progress');
    parts.push(out.subarray(0, produced));
    input = input.subarray(consumed);
    frameOpen = remainingHint !== 0;
    outputFull = produced === out.length;
  }
  if (frameOpen) throw new InvalidRecordError('truncated zstd frame');
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}
