// Catch-up fetch: reads everything the ingest phases it needs wrote (in a full run, the acks=all phase's
// log), from offset 0, with large Fetch responses over a few connections. Only the response framing and
// batch headers are parsed; record bytes are dropped.
import type { IngestedTopic, Phase, PhaseContext, PhaseOutcome } from '../phase.js';
import type { KafkaConnection } from '../wire/connection.js';
import { spanOfBatches } from '../wire/record-batch.js';
import { encodeFetchRequest, type FetchPartitionRequest, walkFetchResponse } from '../wire/requests.js';

const CONNECTIONS = 2;
const PARTITION_MAX_BYTES = 8 * 1024 * 1024;
const RESPONSE_MAX_BYTES = 32 * 1024 * 1024;
const MAX_WAIT_MS = 500;
/** Gives up on a run that makes no progress; generous because the read may come from disk, not cache. */
const TIME_LIMIT_MS = 120_000;
const CATCH_UP_TARGET_MB_PER_S = 1000;

interface PartitionCursor {
  topic: string;
  partition: number;
  nextOffset: number;
  endOffset: number;
  valueBytes: number;
}

export function catchUpPhase(needs: readonly string[]): Phase {
  return {
    name: 'catch-up',
    description: `fetch all ingested data from offset 0, ${CONNECTIONS} connections, responses up to ${RESPONSE_MAX_BYTES / 1024 / 1024} MiB`,
    needs,
    run: runCatchUp,
  };
}

async function runCatchUp(context: PhaseContext): Promise<PhaseOutcome> {
  const cursors = context.ingested.flatMap((ingested: IngestedTopic) =>
    ingested.logEndOffsets.map((endOffset, partition) => ({
      topic: ingested.topic,
      partition,
      nextOffset: 0,
      endOffset,
      valueBytes: ingested.valueBytes,
    })),
  );
  if (cursors.length === 0) throw new Error('catch-up needs an ingest phase to run first');
  const shares = Array.from({ length: CONNECTIONS }, (_, index) =>
    cursors.filter((_, cursorIndex) => cursorIndex % CONNECTIONS === index),
  );
  const connections = await Promise.all(shares.map(() => context.connect({ maxInFlight: 1 })));
  const totals = { responses: 0, records: 0, valueBytes: 0, batchBytes: 0, largestResponseBytes: 0 };
  const startMs = performance.now();
  try {
    await Promise.all(
      connections.map((connection, index) => fetchAll(connection, shares[index]!, startMs, totals)),
    );
  } finally {
    for (const connection of connections) connection.close();
  }
  const elapsedSeconds = (performance.now() - startMs) / 1000;
  context.log(
    `catch-up: ${totals.records} records, ${(totals.batchBytes / 1e9).toFixed(2)} GB of batches in ${elapsedSeconds.toFixed(1)} s, ${totals.responses} responses`,
  );
  return {
    metrics: [
      {
        name: 'throughput',
        value: totals.valueBytes / 1e6 / elapsedSeconds,
        unit: 'MB/s',
        target: { comparison: 'atLeast', value: CATCH_UP_TARGET_MB_PER_S },
      },
      { name: 'responses', value: totals.responses / elapsedSeconds, unit: 'resp/s' },
    ],
    details: { ...totals, elapsedSeconds, partitions: cursors.length },
  };
}

async function fetchAll(
  connection: KafkaConnection,
  cursors: PartitionCursor[],
  startMs: number,
  totals: {
    responses: number;
    records: number;
    valueBytes: number;
    batchBytes: number;
    largestResponseBytes: number;
  },
): Promise<void> {
  const byKey = new Map(cursors.map((cursor) => [`${cursor.topic}\0${cursor.partition}`, cursor]));
  let correlationId = 0;
  for (;;) {
    const remaining = cursors.filter((cursor) => cursor.nextOffset < cursor.endOffset);
    if (remaining.length === 0) return;
    if (performance.now() - startMs > TIME_LIMIT_MS) {
      throw new Error(`catch-up did not finish within ${TIME_LIMIT_MS} ms`);
    }
    const topics = new Map<string, FetchPartitionRequest[]>();
    for (const cursor of remaining) {
      const partitions = topics.get(cursor.topic) ?? [];
      partitions.push({
        partition: cursor.partition,
        fetchOffset: cursor.nextOffset,
        partitionMaxBytes: PARTITION_MAX_BYTES,
      });
      topics.set(cursor.topic, partitions);
    }
    const frame = encodeFetchRequest(
      ++correlationId,
      { maxWaitMs: MAX_WAIT_MS, minBytes: 1, maxBytes: RESPONSE_MAX_BYTES },
      topics,
    );
    await connection.request(frame, (payload) => {
      totals.responses++;
      totals.largestResponseBytes = Math.max(totals.largestResponseBytes, payload.length);
      walkFetchResponse(payload, (topic, partition, _highWatermark, start, end) => {
        const cursor = byKey.get(`${topic}\0${partition}`);
        if (cursor === undefined) return;
        const span = spanOfBatches(payload, start, end);
        if (span.nextOffset <= cursor.nextOffset) return;
        cursor.nextOffset = span.nextOffset;
        totals.records += span.records;
        totals.batchBytes += span.bytes;
        totals.valueBytes += span.records * cursor.valueBytes;
      });
    });
  }
}
