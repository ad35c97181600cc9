// The client-memory phase's producer process: a Sluice Producer with a small bufferMemory that keeps calling
// send() for --duration-ms while the phase stalls the broker, so the buffer fills and send() has to wait.
//   node --expose-gc dist/bench/producer-memory.js --bootstrap HOST:PORT --topic T --buffer-memory BYTES
//     --duration-ms MS
// It warms up, prints `ready`, waits for `go` on stdin (the phase reads the idle RSS in between), sends, and
// ends with one JSON line (ProducerMemoryResult) on stdout.
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { BufferFullError, Producer, type ProducerMessage } from '../src/index.js';

export interface ProducerMemoryResult {
  acknowledged: number;
  failed: number;
  bufferFullErrors: number;
  /** The most bytes of the producer's buffer held at once, from its memory pool. */
  bufferUsedPeakBytes: number;
  /** process.memoryUsage() when `ready` was printed, and the peak of each figure while sending. */
  ready: MemoryFigures;
  peak: MemoryFigures;
  /**
   * After a forced full GC once the buffer had been full for FULL_BEFORE_GC_MS: what the producer and the
   * sends waiting on it really hold, without the garbage the peak figures include. Null if it never filled.
   */
  liveWhileFull: MemoryFigures | null;
}

interface MemoryFigures {
  rssBytes: number;
  heapUsedBytes: number;
  arrayBuffersBytes: number;
}

const RECORDS_PER_SEND = 100;
const WARM_UP_RECORDS = 20_000;
const SAMPLE_INTERVAL_MS = 10;
const SENDS_PER_TURN = 16;
const FULL_BEFORE_GC_MS = 300;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      bootstrap: { type: 'string' },
      topic: { type: 'string' },
      'buffer-memory': { type: 'string' },
      'duration-ms': { type: 'string' },
      'record-size': { type: 'string', default: '1024' },
    },
  });
  const integer = (name: string, text: string | undefined) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
    return value;
  };
  if (values.bootstrap === undefined || values.topic === undefined) {
    throw new Error('--bootstrap and --topic are required');
  }
  return {
    bootstrap: values.bootstrap,
    topic: values.topic,
    bufferMemory: integer('buffer-memory', values['buffer-memory']),
    durationMs: integer('duration-ms', values['duration-ms']),
    recordSize: integer('record-size', values['record-size']),
  };
}

function memoryFigures(): MemoryFigures {
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, arrayBuffersBytes: usage.arrayBuffers };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const producer = new Producer({
    bootstrap: options.bootstrap,
    clientId: 'sluice-bench-memory',
    bufferMemory: options.bufferMemory,
    allowAutoTopicCreation: false,
  });
  // The pool is the producer's own account of its buffer: it shows the buffer really was full.
  // biome-ignore lint/complexity/useLiteralKeys: the engine is private; element access is how TypeScript allows reading it
  const pool = producer['engine'].pool;
  const payload = Buffer.alloc(options.recordSize, 'x');
  const messages: ProducerMessage[] = Array.from({ length: RECORDS_PER_SEND }, () => ({ value: payload }));
  // Twice the records the buffer holds are kept in send(), so there is always more than fits.
  const maxPendingSends = Math.ceil((2 * options.bufferMemory) / options.recordSize / RECORDS_PER_SEND);
  let acknowledged = 0;
  let failed = 0;
  let bufferFullErrors = 0;
  let pendingSends = 0;
  let settleWaiters: (() => void)[] = [];
  const nextSettled = () => new Promise<void>((resolve) => settleWaiters.push(resolve));
  const sendOne = () => {
    pendingSends += 1;
    void producer
      .send({ topic: options.topic, messages })
      .then(
        () => {
          acknowledged += RECORDS_PER_SEND;
        },
        (error: unknown) => {
          failed += RECORDS_PER_SEND;
          if (error instanceof BufferFullError) bufferFullErrors += 1;
        },
      )
      .finally(() => {
        pendingSends -= 1;
        const waiters = settleWaiters;
        settleWaiters = [];
        for (const wake of waiters) wake();
      });
  };
  const roomForMore = async () => {
    while (pendingSends >= maxPendingSends) await nextSettled();
  };
  const allSettled = async () => {
    while (pendingSends > 0) await nextSettled();
  };

  await producer.connect();
  try {
    // Warm-up: connections, metadata and compiled code are in place before the idle figure is taken.
    for (let sent = 0; sent < WARM_UP_RECORDS; sent += RECORDS_PER_SEND) {
      await roomForMore();
      sendOne();
    }
    await allSettled();
    acknowledged = 0;
    globalThis.gc?.();
    const ready = memoryFigures();
    const go = waitForGo();
    console.log('ready');
    await go;

    const peak = { ...ready };
    let bufferUsedPeakBytes = 0;
    let fullSinceMs: number | null = null;
    let liveWhileFull: MemoryFigures | null = null;
    const sampler = setInterval(() => {
      const now = memoryFigures();
      peak.rssBytes = Math.max(peak.rssBytes, now.rssBytes);
      peak.heapUsedBytes = Math.max(peak.heapUsedBytes, now.heapUsedBytes);
      peak.arrayBuffersBytes = Math.max(peak.arrayBuffersBytes, now.arrayBuffersBytes);
      const used = pool.totalBytes - pool.availableBytes;
      bufferUsedPeakBytes = Math.max(bufferUsedPeakBytes, used);
      if (used < pool.totalBytes) {
        fullSinceMs = null;
      } else if (fullSinceMs === null) {
        fullSinceMs = performance.now();
      } else if (liveWhileFull === null && performance.now() - fullSinceMs >= FULL_BEFORE_GC_MS) {
        globalThis.gc?.();
        liveWhileFull = memoryFigures();
      }
    }, SAMPLE_INTERVAL_MS);
    const endMs = performance.now() + options.durationMs;
    for (let sends = 1; performance.now() < endMs; sends++) {
      await roomForMore();
      sendOne();
      // Let acknowledgements and the sampler run between bursts of sends.
      if (sends % SENDS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await allSettled();
    clearInterval(sampler);
    const result: ProducerMemoryResult = {
      acknowledged,
      failed,
      bufferFullErrors,
      bufferUsedPeakBytes,
      ready,
      peak,
      liveWhileFull,
    };
    console.log(JSON.stringify(result));
  } finally {
    await producer.close();
  }
}

function waitForGo(): Promise<void> {
  const lines = readline.createInterface({ input: process.stdin });
  return new Promise((resolve) => {
    lines.on('line', (line) => {
      if (line.trim() === 'go') {
        lines.close();
        // An open stdin would keep the process alive after its work is done.
        process.stdin.destroy();
        resolve();
      }
    });
  });
}

await main();
