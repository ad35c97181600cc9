// End-to-end latency: one 1 KiB record per Produce request (acks=1) at a fixed rate, read back by a
// long-polling consumer on another connection. The value carries the send time (monotonic clock, ns) and a
// sequence number; the consumer takes its clock once per response, when the response frame is complete.
// Then the machine's floor, side by side: the same requests at the same rate to a server that answers at once
// (bench/echo-server.ts, its own process with the broker's runtime).
import { BROKER_RUNTIME, runtimeNodeArgs } from '../../src/cli/runtime.js';
import { benchScript, ClientProcess } from '../child-process.js';
import type { Phase, PhaseContext, PhaseOutcome } from '../phase.js';
import { percentile, sleep } from '../stats.js';
import { KafkaConnection } from '../wire/connection.js';
import {
  encodeRecordBatch,
  forEachRecordValue,
  lastRecordValueOffset,
  updateRecordBatchCrc,
} from '../wire/record-batch.js';
import {
  encodeFetchRequest,
  encodeProduceRequest,
  parseProduceResponse,
  walkFetchResponse,
} from '../wire/requests.js';

const TOPIC = 'bench-latency';
const RATE_PER_SECOND = 5_000;
const VALUE_BYTES = 1024;
/**
 * 10 s at the rate before measuring: V8 is still compiling the one-record produce and fetch paths for the
 * first seconds (its compiler threads took 28% of the broker's CPU samples 4-8 s after start), and a broker
 * fresh from the ingest phases is releasing their memory. Measured alone after 2 s of warm-up: p99 2.4-2.8 ms;
 * after 10 s: 0.83-0.95 ms. The warm-up's own p99 is reported too.
 */
const WARM_UP_RECORDS = { full: 50_000, quick: 2_500 };
const MEASURED_RECORDS = { full: 30_000, quick: 5_000 };
/** Bounds the producer's backlog if the broker stalls. */
const MAX_PRODUCE_IN_FLIGHT = 2_000;
/** A burst after a timer delay sends at most this many records at once. */
const MAX_BURST = 50;
const CONSUMER_MAX_WAIT_MS = 500;
const DRAIN_TIMEOUT_MS = 10_000;
const P99_TARGET_MS = 1;
const ECHO_START_TIMEOUT_MS = 10_000;
const ECHO_TIME_LIMIT_MS = 120_000;

export function latencyPhase(): Phase {
  return {
    name: 'latency',
    description: `produce->fetch at ${RATE_PER_SECOND} rec/s, 1 record per request, acks=1, long-poll fetch (max wait ${CONSUMER_MAX_WAIT_MS} ms)`,
    needs: [],
    run: runLatency,
  };
}

async function runLatency(context: PhaseContext): Promise<PhaseOutcome> {
  await context.createTopic(TOPIC, 1);
  const warmUpRecords = context.quick ? WARM_UP_RECORDS.quick : WARM_UP_RECORDS.full;
  const measuredRecords = context.quick ? MEASURED_RECORDS.quick : MEASURED_RECORDS.full;
  const totalRecords = warmUpRecords + measuredRecords;
  const latenciesMs = new Float64Array(measuredRecords).fill(Number.NaN);
  const warmUpLatenciesMs = new Float64Array(warmUpRecords).fill(Number.NaN);
  const ackLatenciesMs = new Float64Array(measuredRecords).fill(Number.NaN);
  let received = 0;

  const producer = await context.connect({ maxInFlight: MAX_PRODUCE_IN_FLIGHT });
  const consumer = await context.connect({ maxInFlight: 1 });
  let consuming = true;
  let consumerFailure: unknown = null;
  const consumed = consume(
    consumer,
    () => consuming,
    (sequence, latencyMs) => {
      received++;
      const index = sequence - warmUpRecords;
      if (index >= 0 && index < measuredRecords) latenciesMs[index] = latencyMs;
      else if (index < 0) warmUpLatenciesMs[sequence] = latencyMs;
    },
  ).catch((error: unknown) => {
    consumerFailure = error;
  });
  try {
    await produce(producer, totalRecords, (sequence, latencyMs) => {
      const index = sequence - warmUpRecords;
      if (index >= 0 && index < measuredRecords) ackLatenciesMs[index] = latencyMs;
    });
    const drainDeadline = performance.now() + DRAIN_TIMEOUT_MS;
    while (received < totalRecords && consumerFailure === null && performance.now() < drainDeadline) {
      await sleep(10);
    }
  } finally {
    consuming = false;
    producer.close();
    // Let the last long poll come back (at most its max wait) before closing the consumer.
    await Promise.race([consumed, sleep(CONSUMER_MAX_WAIT_MS + 500)]);
    consumer.close();
  }
  await consumed;
  if (consumerFailure !== null) throw consumerFailure;

  const floorMs = await measureEchoFloor(totalRecords, warmUpRecords, measuredRecords);

  const samples = latenciesMs.filter((value) => !Number.isNaN(value)).sort();
  const warmUpSamples = warmUpLatenciesMs.filter((value) => !Number.isNaN(value)).sort();
  const ackSamples = ackLatenciesMs.filter((value) => !Number.isNaN(value)).sort();
  if (samples.length === 0) throw new Error('the consumer received no measured record');
  context.log(`latency: ${samples.length} samples, ${measuredRecords - samples.length} missing`);
  const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  return {
    metrics: [
      { name: 'e2e p50', value: percentile(samples, 0.5), unit: 'ms' },
      {
        name: 'e2e p99',
        value: percentile(samples, 0.99),
        unit: 'ms',
        target: { comparison: 'atMost', value: P99_TARGET_MS },
      },
      { name: 'e2e p999', value: percentile(samples, 0.999), unit: 'ms' },
      { name: 'e2e max', value: samples[samples.length - 1]!, unit: 'ms' },
      {
        name: `e2e p99 in the warm-up (first ${warmUpRecords / RATE_PER_SECOND} s, not measured)`,
        value: percentile(warmUpSamples, 0.99),
        unit: 'ms',
      },
      { name: 'produce ack p50', value: percentile(ackSamples, 0.5), unit: 'ms' },
      { name: 'produce ack p99', value: percentile(ackSamples, 0.99), unit: 'ms' },
      { name: 'machine floor: echo p50', value: percentile(floorMs, 0.5), unit: 'ms' },
      { name: 'machine floor: echo p99', value: percentile(floorMs, 0.99), unit: 'ms' },
    ],
    details: {
      ratePerSecond: RATE_PER_SECOND,
      warmUpRecords,
      measuredRecords,
      samples: samples.length,
      missing: measuredRecords - samples.length,
      meanMs: mean,
      e2ePercentilesMs: Object.fromEntries(
        [0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999].map((q) => [q, percentile(samples, q)]),
      ),
      ackPercentilesMs: Object.fromEntries(
        [0.5, 0.9, 0.99, 0.999].map((q) => [q, percentile(ackSamples, q)]),
      ),
      echoFloorPercentilesMs: Object.fromEntries(
        [0.5, 0.9, 0.99, 0.999].map((q) => [q, percentile(floorMs, q)]),
      ),
    },
  };
}

/** Request→response times (ms, ascending) of the produce loop against the echo server: the machine's floor. */
async function measureEchoFloor(total: number, warmUp: number, measured: number): Promise<Float64Array> {
  const echo = ClientProcess.start(
    'echo server',
    [...runtimeNodeArgs(BROKER_RUNTIME, []), benchScript('echo-server.js')],
    ECHO_TIME_LIMIT_MS,
    BROKER_RUNTIME.env,
  );
  try {
    const line = await Promise.race([
      echo.waitForLine((text) => text.startsWith('listening ')),
      sleep(ECHO_START_TIMEOUT_MS).then(() => {
        throw new Error(`the echo server did not start within ${ECHO_START_TIMEOUT_MS} ms`);
      }),
    ]);
    const connection = await KafkaConnection.connect('127.0.0.1', Number(line.split(' ')[1]), {
      maxInFlight: MAX_PRODUCE_IN_FLIGHT,
    });
    const floorMs = new Float64Array(measured).fill(Number.NaN);
    try {
      await produce(
        connection,
        total,
        (sequence, latencyMs) => {
          const index = sequence - warmUp;
          if (index >= 0 && index < measured) floorMs[index] = latencyMs;
        },
        () => {},
      );
    } finally {
      connection.close();
    }
    return floorMs.filter((value) => !Number.isNaN(value)).sort();
  } finally {
    echo.kill();
  }
}

/**
 * Sends `total` records at RATE_PER_SECOND, each in its own request, and waits for every acknowledgement.
 * `onAcknowledged` gets each record's send-to-acknowledgement time, which separates the produce path's share
 * of the end-to-end latency from the fetch path's.
 */
async function produce(
  connection: KafkaConnection,
  total: number,
  onAcknowledged: (sequence: number, latencyMs: number) => void,
  checkResponse: (payload: Buffer) => void = parseProduceResponse,
): Promise<void> {
  const batch = encodeRecordBatch([Buffer.alloc(VALUE_BYTES)], { timestampMs: Date.now() });
  const template = encodeProduceRequest(0, 1, 30_000, TOPIC, [{ partition: 0, records: batch }]);
  // The records field is the last thing in the request.
  const batchStart = template.length - batch.length;
  const valueStart = batchStart + lastRecordValueOffset(batch, VALUE_BYTES);
  const intervalNs = 1e9 / RATE_PER_SECOND;

  let sent = 0;
  let failure: unknown = null;
  const acknowledgements: Promise<unknown>[] = [];
  const startNs = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(Number(process.hrtime.bigint() - startNs) / intervalNs) + 1);
      for (
        let burst = 0;
        sent < due && burst < MAX_BURST && connection.inFlight < MAX_PRODUCE_IN_FLIGHT;
        burst++
      ) {
        // A fresh frame per request: the socket may still be holding the previous one.
        const frame = Buffer.allocUnsafe(template.length);
        template.copy(frame);
        frame.writeInt32BE(sent + 1, 8); // correlation id
        const sequence = sent;
        frame.writeUInt32BE(sequence, valueStart + 8);
        const sentNs = process.hrtime.bigint();
        frame.writeBigUInt64BE(sentNs, valueStart);
        updateRecordBatchCrc(frame.subarray(batchStart));
        const acknowledged = connection.request(frame, (payload) => {
          onAcknowledged(sequence, Number(process.hrtime.bigint() - sentNs) / 1e6);
          checkResponse(payload);
        });
        acknowledgements.push(
          acknowledged.catch((error: unknown) => {
            failure ??= error;
          }),
        );
        sent++;
      }
      if (sent < total && failure === null) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(acknowledgements);
  if (failure !== null) throw failure;
}

/** Long-polls partition 0 from offset 0 until `running()` turns false; reports each record's latency. */
async function consume(
  connection: KafkaConnection,
  running: () => boolean,
  onRecord: (sequence: number, latencyMs: number) => void,
): Promise<void> {
  let nextOffset = 0;
  let correlationId = 0;
  while (running()) {
    const frame = encodeFetchRequest(
      ++correlationId,
      { maxWaitMs: CONSUMER_MAX_WAIT_MS, minBytes: 1, maxBytes: 1024 * 1024 },
      new Map([[TOPIC, [{ partition: 0, fetchOffset: nextOffset, partitionMaxBytes: 1024 * 1024 }]]]),
    );
    try {
      await connection.request(frame, (payload) => {
        const receivedNs = process.hrtime.bigint();
        walkFetchResponse(payload, (_topic, _partition, _highWatermark, start, end) => {
          const after = forEachRecordValue(payload, start, end, (buf, valueStart) => {
            const latencyNs = receivedNs - buf.readBigUInt64BE(valueStart);
            onRecord(buf.readUInt32BE(valueStart + 8), Number(latencyNs) / 1e6);
          });
          if (after > nextOffset) nextOffset = after;
        });
      });
    } catch (error) {
      if (running()) throw error;
      return;
    }
  }
}

/** Nearest-rank percentile of an ascending array. */
