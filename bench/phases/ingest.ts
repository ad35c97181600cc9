// Ingest: pipelined, pre-encoded ~1 MiB Produce requests (one 128-record batch per partition) over several
// connections for a fixed time. The request bytes are built once and written again and again, so the client
// costs little more than the socket writes and the broker is what gets measured.
import { randomBytes } from 'node:crypto';
import type { IngestedTopic, Phase, PhaseContext, PhaseOutcome } from '../phase.js';
import type { KafkaConnection } from '../wire/connection.js';
import { encodeRecordBatch } from '../wire/record-batch.js';
import { encodeProduceRequest, parseProduceResponse } from '../wire/requests.js';

export interface IngestSettings {
  name: string;
  acks: 1 | -1;
  partitions: number;
  connections: number;
  inFlightPerConnection: number;
  recordsPerBatch: number;
  valueBytes: number;
  durationMs: number;
  quickDurationMs: number;
  /** Stops earlier once this much record data was acknowledged (bounds disk use). */
  maxValueBytes: number;
}

export const INGEST_DEFAULTS = {
  partitions: 8,
  connections: 4,
  inFlightPerConnection: 4,
  recordsPerBatch: 128,
  valueBytes: 1024,
  durationMs: 10_000,
  quickDurationMs: 2_000,
  maxValueBytes: 8e9,
} as const;

const PRODUCE_TIMEOUT_MS = 30_000;
const INGEST_TARGET_MB_PER_S = 500;

interface Totals {
  requests: number;
  valueBytes: number;
}

export function ingestPhase(settings: IngestSettings): Phase {
  return {
    name: settings.name,
    description: `produce acks=${settings.acks === -1 ? 'all' : settings.acks}, ${settings.partitions} partitions, ${settings.connections} connections x ${settings.inFlightPerConnection} in flight`,
    needs: [],
    run: (context) => runIngest(context, settings),
  };
}

async function runIngest(context: PhaseContext, settings: IngestSettings): Promise<PhaseOutcome> {
  const topic = `bench-${settings.name}`;
  await context.createTopic(topic, settings.partitions);

  const values = Array.from({ length: settings.recordsPerBatch }, () => randomBytes(settings.valueBytes));
  const batch = encodeRecordBatch(values, { timestampMs: Date.now() });
  const partitionIndexes = Array.from({ length: settings.partitions }, (_, partition) => partition);
  const frame = encodeProduceRequest(
    1,
    settings.acks,
    PRODUCE_TIMEOUT_MS,
    topic,
    partitionIndexes.map((partition) => ({ partition, records: batch })),
  );
  const valueBytesPerRequest = settings.partitions * settings.recordsPerBatch * settings.valueBytes;
  const durationMs = context.quick ? settings.quickDurationMs : settings.durationMs;
  const maxRequests = Math.floor(settings.maxValueBytes / valueBytesPerRequest);

  const connections = await Promise.all(
    Array.from({ length: settings.connections }, () =>
      context.connect({ maxInFlight: settings.inFlightPerConnection }),
    ),
  );
  const logEndOffsets = partitionIndexes.map(() => 0);
  const onResponse = (payload: Buffer) => {
    for (const { partition, baseOffset } of parseProduceResponse(payload)) {
      logEndOffsets[partition] = Math.max(
        logEndOffsets[partition] ?? 0,
        baseOffset + settings.recordsPerBatch,
      );
    }
  };
  const totals: Totals = { requests: 0, valueBytes: 0 };
  let issued = 0;
  let failure: unknown = null;
  const startMs = performance.now();
  const deadlineMs = startMs + durationMs;
  const pump = async (connection: KafkaConnection) => {
    const window: Promise<void>[] = [];
    try {
      while (failure === null && performance.now() < deadlineMs && issued < maxRequests) {
        issued++;
        window.push(
          connection.request(frame, onResponse).then(() => {
            totals.requests++;
            totals.valueBytes += valueBytesPerRequest;
          }),
        );
        if (window.length >= settings.inFlightPerConnection) await window.shift();
      }
    } catch (error) {
      failure ??= error;
    }
    for (const outcome of await Promise.allSettled(window)) {
      if (outcome.status === 'rejected') failure ??= outcome.reason;
    }
  };
  try {
    await Promise.all(connections.map(pump));
  } finally {
    for (const connection of connections) connection.close();
  }
  if (failure !== null) throw failure;
  const elapsedSeconds = (performance.now() - startMs) / 1000;

  const ingested: IngestedTopic = { topic, logEndOffsets, valueBytes: settings.valueBytes };
  context.ingested.push(ingested);
  const megabytesPerSecond = totals.valueBytes / 1e6 / elapsedSeconds;
  context.log(
    `${settings.name}: ${totals.requests} requests, ${(totals.valueBytes / 1e9).toFixed(2)} GB in ${elapsedSeconds.toFixed(1)} s`,
  );
  return {
    metrics: [
      {
        name: 'throughput',
        value: megabytesPerSecond,
        unit: 'MB/s',
        target: { comparison: 'atLeast', value: INGEST_TARGET_MB_PER_S },
      },
      { name: 'requests', value: totals.requests / elapsedSeconds, unit: 'req/s' },
    ],
    details: {
      topic,
      acks: settings.acks,
      requestBytes: frame.length,
      batchBytes: batch.length,
      valueBytesPerRequest,
      requests: totals.requests,
      valueBytes: totals.valueBytes,
      elapsedSeconds,
      logEndOffsets,
    },
  };
}
