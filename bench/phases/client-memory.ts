// Client memory: a Sluice producer process (bench/producer-memory.ts) with a 16 MiB bufferMemory keeps calling
// send() while the broker is stopped (SIGSTOP) for a while, so its buffer fills and send() must wait. The
// figure is the producer's peak RSS (sampled from /proc) minus its RSS once warmed up and idle, next to the
// configured bound.
import { benchScript, ClientProcess, findBrokerPid } from '../child-process.js';
import type { Phase, PhaseContext, PhaseOutcome } from '../phase.js';
import { ProcessSampler } from '../process-sampler.js';
import type { ProducerMemoryResult } from '../producer-memory.js';
import { sleep } from '../stats.js';

const TOPIC = 'client-memory';
const PARTITIONS = 8;
const BUFFER_MEMORY_BYTES = 16 * 1024 * 1024;
const SEND_DURATION_MS = 8_000;
const QUICK_SEND_DURATION_MS = 5_000;
/** Full speed first, then the broker stops answering for STALL_MS, then it catches up. */
const STALL_AFTER_MS = 1_000;
const STALL_MS = 2_000;
const RSS_SAMPLE_INTERVAL_MS = 20;
/** Idle samples before sending starts; the last one is the baseline. */
const IDLE_SAMPLE_MS = 300;
/** Start-up, warm-up and the final flush on top of the sending time. */
const PROCESS_TIMEOUT_SLACK_MS = 60_000;
const MIB = 1024 * 1024;

export function clientMemoryPhase(): Phase {
  return {
    name: 'client-memory',
    description: `sluice producer, bufferMemory ${BUFFER_MEMORY_BYTES / MIB} MiB, send() nonstop while the broker is stopped for ${STALL_MS / 1000} s`,
    needs: [],
    run: runClientMemory,
  };
}

async function runClientMemory(context: PhaseContext): Promise<PhaseOutcome> {
  await context.createTopic(TOPIC, PARTITIONS);
  const brokerPid = await findBrokerPid();
  const durationMs = context.quick ? QUICK_SEND_DURATION_MS : SEND_DURATION_MS;
  const producer = ClientProcess.start(
    'memory producer',
    [
      '--expose-gc',
      benchScript('producer-memory.js'),
      ...['--bootstrap', `${context.broker.host}:${context.broker.port}`, '--topic', TOPIC],
      ...['--buffer-memory', String(BUFFER_MEMORY_BYTES), '--duration-ms', String(durationMs)],
    ],
    durationMs + PROCESS_TIMEOUT_SLACK_MS,
  );
  let sampler: ProcessSampler | null = null;
  try {
    await producer.waitForLine((line) => line === 'ready');
    sampler = ProcessSampler.start(producer.pid, RSS_SAMPLE_INTERVAL_MS);
    await sleep(IDLE_SAMPLE_MS);
    const idle = await sampler.sampleNow();
    producer.writeLine('go');
    await sleep(STALL_AFTER_MS);
    process.kill(brokerPid, 'SIGSTOP');
    try {
      await sleep(STALL_MS);
    } finally {
      process.kill(brokerPid, 'SIGCONT');
    }
    const exit = await producer.succeeded();
    sampler.stop();
    const line = exit.stdoutLines.findLast((candidate) => candidate.startsWith('{'));
    if (line === undefined) throw new Error(`no result line from the memory producer:\n${exit.stderrTail}`);
    const result = JSON.parse(line) as ProducerMemoryResult;
    if (result.failed > 0) {
      throw new Error(
        `${result.failed} records failed (${result.bufferFullErrors} sends with BufferFullError)`,
      );
    }
    if (result.liveWhileFull === null) throw new Error('the producer buffer never stayed full');
    const held = (figures: { heapUsedBytes: number; arrayBuffersBytes: number }) =>
      figures.heapUsedBytes + figures.arrayBuffersBytes;
    const heldGrowthBytes = held(result.liveWhileFull) - held(result.ready);
    const sending = sampler.samples.filter((sample) => sample.atMs >= idle.atMs);
    const peakRssBytes = Math.max(...sending.map((sample) => sample.rssBytes));
    const rssGrowthBytes = peakRssBytes - idle.rssBytes;
    context.log(
      `client-memory: idle RSS ${(idle.rssBytes / MIB).toFixed(1)} MiB, peak ${(peakRssBytes / MIB).toFixed(1)} MiB over ${sending.length} samples; buffer used peak ${(result.bufferUsedPeakBytes / MIB).toFixed(1)} MiB; ${result.acknowledged} records acknowledged`,
    );
    return {
      metrics: [
        { name: 'configured bufferMemory', value: BUFFER_MEMORY_BYTES / MIB, unit: 'MiB' },
        { name: 'buffer used peak', value: result.bufferUsedPeakBytes / MIB, unit: 'MiB' },
        {
          // What the producer and the sends waiting on it hold while the buffer is full: the bound applies here.
          name: 'held while full (after GC), growth',
          value: heldGrowthBytes / MIB,
          unit: 'MiB',
          target: { comparison: 'atMost', value: BUFFER_MEMORY_BYTES / MIB },
        },
        // Includes the garbage of full-speed sending not yet collected and V8's young generation growing to
        // its working size, which a producer sending at full speed to a live broker shows as well.
        { name: 'RSS growth peak', value: rssGrowthBytes / MIB, unit: 'MiB' },
        {
          name: 'arrayBuffers growth peak',
          value: (result.peak.arrayBuffersBytes - result.ready.arrayBuffersBytes) / MIB,
          unit: 'MiB',
        },
        {
          name: 'JS heap growth peak',
          value: (result.peak.heapUsedBytes - result.ready.heapUsedBytes) / MIB,
          unit: 'MiB',
        },
      ],
      details: {
        bufferMemoryBytes: BUFFER_MEMORY_BYTES,
        idleRssBytes: idle.rssBytes,
        peakRssBytes,
        rssSamples: sending.length,
        stallAfterMs: STALL_AFTER_MS,
        stallMs: STALL_MS,
        sendDurationMs: durationMs,
        producer: result,
      },
    };
  } finally {
    sampler?.stop();
    producer.kill();
  }
}
