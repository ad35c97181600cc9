// Consumer CPU against a real broker, without process start and group join: a fresh group reads --count
// records of --topic from the beginning with eachBatch, reading each message as `sluice perf consume` does.
// CPU (user+sys of this process) is taken from the assignment to the last record, and the event loop's idle
// time (waiting for the broker) over the same span.
//   node dist/bench/client/consume-e2e.js --bootstrap 127.0.0.1:9092 --topic bench --count 500000
import { parseArgs } from 'node:util';
import { LatencyHistogram } from '../../src/cli/histogram.js';
import { Consumer } from '../../src/client/consumer/consumer.js';

const { values } = parseArgs({
  options: {
    bootstrap: { type: 'string', default: '127.0.0.1:9092' },
    topic: { type: 'string', default: 'bench' },
    count: { type: 'string', default: '500000' },
  },
});
const count = Number(values.count);
const consumer = new Consumer({
  bootstrap: values.bootstrap,
  clientId: 'consume-e2e',
  groupId: `consume-e2e-${process.pid}-${Date.now()}`,
  autoOffsetReset: 'earliest',
});
const latencyUs = new LatencyHistogram();
let records = 0;
let bytes = 0;
let batches = 0;
await consumer.connect();
consumer.subscribe([values.topic]);
await consumer.waitForAssignment();
const cpuBefore = process.cpuUsage();
const loopBefore = performance.eventLoopUtilization();
const startMs = performance.now();
let closing: Promise<void> | null = null;
await consumer.run({
  eachBatch: (batch) => {
    const arrivedMs = Date.now();
    batches++;
    for (const message of batch.messages) {
      if (records >= count) break;
      records += 1;
      bytes += (message.value?.length ?? 0) + (message.key?.length ?? 0);
      latencyUs.record((arrivedMs - message.timestamp) * 1000);
    }
    if (records >= count) closing ??= consumer.close();
  },
});
const elapsedMs = performance.now() - startMs;
const cpu = process.cpuUsage(cpuBefore);
const loop = performance.eventLoopUtilization(loopBefore);
await closing;
const per100k = (micros: number) => ((micros / 1000 / records) * 100_000).toFixed(1);
console.log(
  `${records} records (${bytes} bytes, ${batches} handler calls) in ${elapsedMs.toFixed(0)} ms = ${Math.round((records / elapsedMs) * 1000)} records/s; CPU ms per 100k records: ${per100k(cpu.user + cpu.system)} (user ${per100k(cpu.user)}, sys ${per100k(cpu.system)}); event loop idle ${loop.idle.toFixed(0)} ms`,
);
