// Shared by the producer engine's unit tests: a small, fast-retrying engine configuration and a bounded poll.
import { CodecId } from '../../protocol/records/index.js';
import type { EngineConfig } from './engine.js';

/** An engine that sends at once (lingerMs 0) and backs off in milliseconds; `overrides` replace any field. */
export function testEngineConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    acks: -1,
    ackTimeoutMs: 30_000,
    lingerMs: 0,
    batchSize: 16_384,
    codec: CodecId.none,
    bufferMemory: 1024 * 1024,
    maxBlockMs: 5_000,
    maxRequestSize: 1024 * 1024,
    partitioner: undefined,
    retries: 5,
    initialBackoffMs: 10,
    maxBackoffMs: 50,
    deliveryTimeoutMs: 10_000,
    maxInFlightPerPartition: 1,
    maxInFlightWithoutIdempotence: 1,
    idempotence: 'off',
    transactionalId: null,
    ...overrides,
  };
}

/** Polls until `done()` holds, for at most timeoutMs (then the assertions after it report what is missing). */
export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 5));
}
