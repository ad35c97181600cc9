/**
 * Splits a TCP byte stream into Kafka request frames (`[int32 size][size bytes]`).
 *
 * An explicit state machine so that any chunking works, from one byte per chunk to many frames per chunk:
 * - `size`: collecting the 4-byte size prefix (possibly across chunks);
 * - `body`: filling a buffer allocated at exactly the frame size, because the frame spans chunks;
 * - `failed`: a bad size prefix was seen; the stream cannot be resynchronised, so all further input is refused.
 *
 * A frame lying entirely inside one chunk is handed out as a subarray of that chunk (no copy). Note that such a
 * subarray keeps the whole chunk alive for as long as it is referenced. A frame spanning chunks is assembled
 * in a buffer from the pool, if one was given and the frame is large enough to be worth pooling; the sink
 * then owns that buffer's reference.
 *
 * Given chunks it owns (`freeCopiedChunks`: a socket's reads), the decoder frees each chunk it copied out
 * entirely, once the current event-loop turn is over. Node reads into a fresh 64 KiB buffer each time,
 * malloc'd; left to the garbage collector, those of a producer's megabyte frames piled up between
 * collections and glibc's heap kept their high-water mark (30 MB of the broker's RSS after ingest).
 *
 * Backpressure: the sink returns false to stop decoding after the frame it was given. The rest of the chunk
 * (and any chunk pushed meanwhile) is held, in order, until `resume()`.
 */

import { type BufferPool, freeNow, type PooledBuffer } from '../common/buffer-pool.js';

/** The smallest request: apiKey (int16) + apiVersion (int16) + correlationId (int32). */
export const MIN_REQUEST_FRAME_BYTES = 8;

const SIZE_PREFIX_BYTES = 4;

/** Spanning frames at least this large are assembled in pooled buffers. */
export const POOLED_FRAME_MIN_BYTES = 64 * 1024;

/** Chunks copied out entirely in this event-loop turn; freed together when it ends. */
const copiedChunks: Buffer[] = [];

function freeChunksCopiedThisTurn(): void {
  freeNow(copiedChunks.splice(0));
}

/**
 * Receives one frame (without its size prefix) and, when it was assembled in a pooled buffer, that buffer's
 * reference; returns false to stop decoding until `resume()`.
 */
export type FrameSink = (frame: Buffer, hold: PooledBuffer | null) => boolean;

/** Base class of the reasons a byte stream is not a valid sequence of Kafka request frames. */
export class FrameDecodeError extends Error {
  override name = 'FrameDecodeError';
}

/**
 * The size prefix is negative. No valid Kafka frame has one; usually the peer is not speaking the Kafka
 * protocol (for example TLS or HTTP sent to a plaintext listener).
 */
export class NegativeFrameSizeError extends FrameDecodeError {
  override name = 'NegativeFrameSizeError';
  constructor(readonly frameBytes: number) {
    super(`frame size prefix is negative (${frameBytes})`);
  }
}

/**
 * The size prefix exceeds the configured maximum (Kafka's socket.request.max.bytes). The frame is refused
 * before any of it is buffered, so a hostile or confused peer cannot make the broker allocate that much.
 */
export class FrameTooLargeError extends FrameDecodeError {
  override name = 'FrameTooLargeError';
  constructor(
    readonly frameBytes: number,
    readonly maxFrameBytes: number,
  ) {
    super(`frame of ${frameBytes} bytes exceeds the maximum of ${maxFrameBytes} bytes`);
  }
}

/** The size prefix is too small to hold a request header's apiKey, apiVersion and correlationId. */
export class FrameTooSmallError extends FrameDecodeError {
  override name = 'FrameTooSmallError';
  constructor(readonly frameBytes: number) {
    super(
      `frame of ${frameBytes} bytes is smaller than the ${MIN_REQUEST_FRAME_BYTES}-byte request header minimum`,
    );
  }
}

/** Input was pushed after the decoder had already rejected the stream. */
export class DecoderFailedError extends FrameDecodeError {
  override name = 'DecoderFailedError';
  constructor() {
    super('frame decoder already failed; the stream cannot be resynchronised');
  }
}

enum DecoderState {
  Size = 0,
  Body = 1,
  Failed = 2,
}

export class FrameDecoder {
  private state = DecoderState.Size;
  private sizePrefixBytesRead = 0;
  private sizePrefixAccumulator = 0;
  private frameBytes = 0;
  private partialFrame: Buffer | null = null;
  private partialFrameHold: PooledBuffer | null = null;
  private partialFrameFilledBytes = 0;
  private stopped = false;
  private readonly heldChunks: Buffer[] = [];
  private heldOffset = 0;
  /**
   * Smallest frame accepted: a request header's size, except while the connection expects a raw SASL token
   * (SaslHandshake v0), which may be shorter.
   */
  minFrameBytes = MIN_REQUEST_FRAME_BYTES;
  /** Whether a frame handed out since the last push is a subarray of the chunk being decoded. */
  private chunkShared = false;

  constructor(
    /** Largest frame accepted; lowered while a SASL connection has not authenticated yet. */
    public maxFrameBytes: number,
    private readonly sink: FrameSink,
    private readonly pool: BufferPool | null = null,
    /** The chunks pushed are the decoder's to free once copied out (see the class comment). */
    private readonly freeCopiedChunks = false,
  ) {}

  /** True when the sink asked to stop and `resume()` has not been called since. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Bytes received but not yet handed to the sink (held input plus a partly filled frame). */
  get bufferedBytes(): number {
    let held = -this.heldOffset;
    for (const chunk of this.heldChunks) held += chunk.length;
    return held + this.partialFrameFilledBytes + this.sizePrefixBytesRead;
  }

  /**
   * Throws a FrameDecodeError on a bad size prefix; after that the decoder refuses all input. Returns true
   * when the decoder will free the chunk itself (see the class comment).
   */
  push(chunk: Buffer): boolean {
    if (this.state === DecoderState.Failed) throw new DecoderFailedError();
    if (this.stopped || this.heldChunks.length > 0) {
      this.heldChunks.push(chunk);
      return false;
    }
    this.chunkShared = false;
    const consumed = this.decode(chunk, 0);
    if (consumed < chunk.length) {
      this.heldChunks.push(chunk);
      this.heldOffset = consumed;
      return false;
    }
    if (!this.freeCopiedChunks || this.chunkShared || !spansItsArrayBuffer(chunk)) return false;
    if (copiedChunks.push(chunk) === 1) setImmediate(freeChunksCopiedThisTurn);
    return true;
  }

  /** Continues decoding held input after the sink stopped; returns false if the sink stopped again. */
  resume(): boolean {
    if (this.state === DecoderState.Failed) throw new DecoderFailedError();
    this.stopped = false;
    while (this.heldChunks.length > 0) {
      const chunk = this.heldChunks[0]!;
      const consumed = this.decode(chunk, this.heldOffset);
      if (consumed < chunk.length) {
        this.heldOffset = consumed;
        return false;
      }
      this.heldChunks.shift();
      this.heldOffset = 0;
      if (this.stopped) return false;
    }
    return !this.stopped;
  }

  /** Drops everything buffered; used when the connection stops reading requests for good. */
  discard(): void {
    this.heldChunks.length = 0;
    this.heldOffset = 0;
    this.partialFrame = null;
    this.partialFrameHold?.release();
    this.partialFrameHold = null;
    this.partialFrameFilledBytes = 0;
    this.sizePrefixBytesRead = 0;
    this.sizePrefixAccumulator = 0;
  }

  /** Decodes from `offset`; returns where it stopped (chunk.length unless the sink asked to stop). */
  private decode(chunk: Buffer, offset: number): number {
    const end = chunk.length;
    let position = offset;
    while (position < end) {
      if (this.state === DecoderState.Size) {
        let frameBytes: number;
        if (this.sizePrefixBytesRead === 0 && end - position >= SIZE_PREFIX_BYTES) {
          frameBytes = chunk.readInt32BE(position);
          position += SIZE_PREFIX_BYTES;
        } else {
          // `<<` works on int32, so after the fourth byte the accumulator is the signed big-endian size.
          this.sizePrefixAccumulator = (this.sizePrefixAccumulator << 8) | chunk[position]!;
          position++;
          if (++this.sizePrefixBytesRead < SIZE_PREFIX_BYTES) continue;
          frameBytes = this.sizePrefixAccumulator;
          this.sizePrefixAccumulator = 0;
          this.sizePrefixBytesRead = 0;
        }
        this.checkFrameSize(frameBytes);
        if (end - position >= frameBytes) {
          const frame = chunk.subarray(position, position + frameBytes);
          this.chunkShared = true;
          position += frameBytes;
          if (!this.sink(frame, null)) {
            this.stopped = true;
            return position;
          }
          continue;
        }
        this.frameBytes = frameBytes;
        if (this.pool !== null && frameBytes >= POOLED_FRAME_MIN_BYTES) {
          this.partialFrameHold = this.pool.acquire(frameBytes);
          this.partialFrame = this.partialFrameHold.buffer.subarray(0, frameBytes);
        } else {
          this.partialFrame = Buffer.allocUnsafe(frameBytes);
        }
        this.partialFrameFilledBytes = chunk.copy(this.partialFrame, 0, position, end);
        this.state = DecoderState.Body;
        return end;
      }
      // DecoderState.Body: Failed never reaches here because push/resume refuse input first.
      const partialFrame = this.partialFrame!;
      const copied = chunk.copy(
        partialFrame,
        this.partialFrameFilledBytes,
        position,
        Math.min(end, position + this.frameBytes - this.partialFrameFilledBytes),
      );
      position += copied;
      this.partialFrameFilledBytes += copied;
      if (this.partialFrameFilledBytes < this.frameBytes) return position;
      const hold = this.partialFrameHold;
      this.partialFrame = null;
      this.partialFrameHold = null;
      this.partialFrameFilledBytes = 0;
      this.state = DecoderState.Size;
      if (!this.sink(partialFrame, hold)) {
        this.stopped = true;
        return position;
      }
    }
    return position;
  }

  private checkFrameSize(frameBytes: number): void {
    if (frameBytes >= this.minFrameBytes && frameBytes <= this.maxFrameBytes) return;
    this.state = DecoderState.Failed;
    this.discard();
    if (frameBytes < 0) throw new NegativeFrameSizeError(frameBytes);
    if (frameBytes < this.minFrameBytes) throw new FrameTooSmallError(frameBytes);
    throw new FrameTooLargeError(frameBytes, this.maxFrameBytes);
  }
}

/** Whether freeing the chunk's memory frees nothing but the chunk (Node may slice several from one buffer). */
function spansItsArrayBuffer(chunk: Buffer): boolean {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
}
