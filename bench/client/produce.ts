// Producer CPU cost without a real broker: `sluice perf produce`'s workload (one record per send(), a bound on
// records not yet acknowledged, send→ack latency into a histogram) against bench/client/fake-broker.ts running in
// a child process, so the CPU time measured here (process.cpuUsage) is the client's alone.
//   node dist/bench/client/produce.js [--records 300000] [--record-size 1024] [--per-send 1] [--partitions 8]
// Prints one JSON line: records/s, CPU seconds per 100k records, GC time, and send→ack p50/p99.
import { spawn } from 'node:child_process';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LatencyHistogram } from '../../src/cli/histogram.js';
import { Producer, type ProducerMessage } from '../../src/index.js';

const TOPIC = 'bench';
const WARM_UP_RECORDS = 50_000;
/** As in perf produce: records sent but not acknowledged, and sends per turn of the event loop. */
const MAX_PENDING_RECORDS = 2048;
const SENDS_PER_TURN = 1_000;

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '300000' },
    'record-size': { type: 'string', default: '1024' },
    'per-send': { type: 'string', default: '1' },
    partitions: { type: 'string', default: '8' },
  },
});
const records = Number(values.records);
const recordSize = Number(values['record-size']);
const perSend = Number(values['per-send']);

const broker = spawn(
  process.execPath,
  [fileURLToPath(new URL('./fake-broker.js', import.meta.url)), '--partitions', values.partitions],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const port = await new Promise<number>((resolve, reject) => {
  broker.stdout.setEncoding('utf8');
  broker.stdout.once('data', (line: string) => resolve(Number(/port (\d+)/.exec(line)?.[1])));
  broker.once('exit', (code) => reject(new Error(`fake broker exited with ${code}`)));
});

const producer = new Producer({
  bootstrap: `127.0.0.1:${port}`,
  acks: -1,
  lingerMs: 5,
  batchSize: 16_384,
  bufferMemory: 32 * 1024 * 1024,
  allowAutoTopicCreation: false,
});
await producer.connect();
const payload = Buffer.alloc(recordSize, 'x');
const messages: ProducerMessage[] = Array.from({ length: perSend }, () => ({ value: payload }));

/** Sends `count` records as perf produce does; acknowledgements are counted in the send's own callback. */
async function run(count: number, latencyUs: LatencyHistogram): Promise<void> {
  const maxPendingSends = Math.max(1, Math.floor(MAX_PENDING_RECORDS / perSend));
  let pending = 0;
  let wakeAt = 0;
  let wake: (() => void) | null = null;
  const pendingBelow = (limit: number) =>
    pending < limit
      ? undefined
      : new Promise<void>((resolve) => {
          wakeAt = limit;
          wake = resolve;
        });
  const onFailure = (error: unknown) => {
    console.error(error);
    process.exit(1);
  };
  let sent = 0;
  while (sent < count) {
    const turn = Math.min(count - sent, SENDS_PER_TURN);
    for (let i = 0; i < turn; i += perSend) {
      const sentAtMs = performance.now();
      producer.send({ topic: TOPIC, messages: perSend === 1 ? [{ value: payload }] : messages }).then(() => {
        latencyUs.record((performance.now() - sentAtMs) * 1000);
        pending -= 1;
        if (wake !== null && pending < wakeAt) {
          const resolve = wake;
          wake = null;
          resolve();
        }
      }, onFailure);
      pending += 1;
      sent += perSend;
      if (pending >= maxPendingSends) break;
    }
    await pendingBelow(maxPendingSends);
    await yieldToEventLoop();
  }
  await pendingBelow(1);
}

await run(WARM_UP_RECORDS, new LatencyHistogram());
let gcMs = 0;
let gcCount = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    gcCount++;
  }
});
observer.observe({ entryTypes: ['gc'] });
const latencyUs = new LatencyHistogram();
const cpuBefore = process.cpuUsage();
const startMs = performance.now();
await run(records, latencyUs);
const elapsedMs = performance.now() - startMs;
const cpu = process.cpuUsage(cpuBefore);
observer.disconnect();
await producer.close();
broker.stdin.end();

const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  JSON.stringify({
    records,
    recordSize,
    perSend,
    recordsPerSecond: Math.round((records / elapsedMs) * 1000),
    cpuSecondsPer100k: Number(((cpuSeconds / records) * 100_000).toFixed(3)),
    userSecondsPer100k: Number(((cpu.user / 1e6 / records) * 100_000).toFixed(3)),
    gcMsPer100k: Number(((gcMs / records) * 100_000).toFixed(1)),
    gcCount,
    p50Ms: Number((latencyUs.percentile(50) / 1000).toFixed(2)),
    p99Ms: Number((latencyUs.percentile(99) / 1000).toFixed(2)),
  }),
);
