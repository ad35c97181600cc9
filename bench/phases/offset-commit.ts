// Offset commit throughput and latency. CONNECTIONS connections, each committing for its own simple group
// (generation -1, no member id: how a consumer with manual assignment commits) PARTITIONS offsets per
// OffsetCommit request, with IN_FLIGHT_PER_CONNECTION requests pipelined. Each request commits the next offset on
// every partition, so the broker appends a new offset record for each of them. At the end, OffsetFetch must
// return each group's last committed offset on every partition.
import {
  OffsetCommitApi,
  type OffsetCommitRequest,
  OffsetFetchApi,
} from '../../src/protocol/generated/index.js';
import type { Phase, PhaseContext, PhaseOutcome } from '../phase.js';
import { percentile } from '../stats.js';
import { ApiClient, findGroupCoordinator, KafkaResponseError } from '../wire/api-client.js';

const TOPIC = 'bench-offset-commit';
const PARTITIONS = 10;
const CONNECTIONS = 4;
const IN_FLIGHT_PER_CONNECTION = 8;
const DURATION_MS = { full: 5_000, quick: 1_000 };
/** Commits sent before this are not measured: the first ones create the groups and warm the broker's JIT. */
const WARM_UP_MS = { full: 1_000, quick: 250 };
/** Bounds the latency samples kept; the run stops early if it reaches it. */
const MAX_MEASURED_REQUESTS = 2_000_000;
const COORDINATOR_TIMEOUT_MS = 10_000;
const OFFSET_COMMIT_VERSION = 8;
const OFFSET_FETCH_VERSION = 7;
const PARTITION_INDEXES = Array.from({ length: PARTITIONS }, (_, index) => index);

export function offsetCommitPhase(): Phase {
  return {
    name: 'offset-commit',
    description:
      `OffsetCommit of ${PARTITIONS} partitions per request, ${CONNECTIONS} connections x ` +
      `${IN_FLIGHT_PER_CONNECTION} in flight, one simple group each; the offsets topic follows the broker's ` +
      'flush policy (default: no fsync per commit)',
    needs: [],
    run: runOffsetCommit,
  };
}

interface Committer {
  client: ApiClient;
  groupId: string;
  /** The offset the last request sent committed on every partition. */
  lastOffset: number;
}

async function runOffsetCommit(context: PhaseContext): Promise<PhaseOutcome> {
  await context.createTopic(TOPIC, PARTITIONS);
  const durationMs = context.quick ? DURATION_MS.quick : DURATION_MS.full;
  const warmUpMs = context.quick ? WARM_UP_MS.quick : WARM_UP_MS.full;
  const committers: Committer[] = [];
  try {
    for (let index = 0; index < CONNECTIONS; index++) {
      const connection = await context.connect({ maxInFlight: IN_FLIGHT_PER_CONNECTION });
      committers.push({
        client: new ApiClient(connection),
        groupId: `bench-offset-commit-${index}`,
        lastOffset: 0,
      });
    }
    for (const committer of committers) {
      const coordinator = await findGroupCoordinator(
        committer.client,
        committer.groupId,
        COORDINATOR_TIMEOUT_MS,
      );
      if (coordinator.port !== context.broker.port) {
        throw new Error(`coordinator of ${committer.groupId} is ${coordinator.host}:${coordinator.port}`);
      }
    }

    const latenciesMs: number[] = [];
    const startMs = performance.now();
    const measureFromMs = startMs + warmUpMs;
    const stopAtMs = measureFromMs + durationMs;
    let lastResponseMs = measureFromMs;
    const running = () => performance.now() < stopAtMs && latenciesMs.length < MAX_MEASURED_REQUESTS;
    const lane = async (committer: Committer) => {
      while (running()) {
        const { response, sentAtMs, receivedAtMs } = await committer.client.callTimed(
          OffsetCommitApi,
          OFFSET_COMMIT_VERSION,
          commitRequest(committer.groupId, ++committer.lastOffset),
        );
        for (const topic of response.topics) {
          for (const partition of topic.partitions) {
            if (partition.errorCode !== 0) {
              throw new KafkaResponseError(
                `OffsetCommit ${committer.groupId} ${topic.name}-${partition.partitionIndex}`,
                partition.errorCode,
              );
            }
          }
        }
        if (sentAtMs >= measureFromMs) {
          latenciesMs.push(receivedAtMs - sentAtMs);
          lastResponseMs = Math.max(lastResponseMs, receivedAtMs);
        }
      }
    };
    await Promise.all(
      committers.flatMap((committer) =>
        Array.from({ length: IN_FLIGHT_PER_CONNECTION }, () => lane(committer)),
      ),
    );
    for (const committer of committers) await checkCommitted(committer);

    if (latenciesMs.length === 0) throw new Error('no OffsetCommit was sent in the measured window');
    const seconds = (lastResponseMs - measureFromMs) / 1000;
    const requestsPerSecond = latenciesMs.length / seconds;
    const sorted = Float64Array.from(latenciesMs).sort();
    context.log(`offset-commit: ${latenciesMs.length} measured requests in ${seconds.toFixed(2)} s`);
    return {
      metrics: [
        { name: `offsets committed (${PARTITIONS}/req)`, value: requestsPerSecond * PARTITIONS, unit: '/s' },
        { name: 'OffsetCommit requests', value: requestsPerSecond, unit: 'req/s' },
        { name: 'request p50', value: percentile(sorted, 0.5), unit: 'ms' },
        { name: 'request p99', value: percentile(sorted, 0.99), unit: 'ms' },
      ],
      details: {
        connections: CONNECTIONS,
        inFlightPerConnection: IN_FLIGHT_PER_CONNECTION,
        partitionsPerRequest: PARTITIONS,
        measuredRequests: latenciesMs.length,
        measuredSeconds: seconds,
        latencyPercentilesMs: Object.fromEntries(
          [0.5, 0.9, 0.99, 0.999, 1].map((q) => [q, percentile(sorted, q)]),
        ),
      },
    };
  } finally {
    for (const committer of committers) committer.client.close();
  }
}

function commitRequest(groupId: string, offset: number): OffsetCommitRequest {
  const committedOffset = BigInt(offset);
  return {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [
      {
        name: TOPIC,
        partitions: PARTITION_INDEXES.map((partitionIndex) => ({
          partitionIndex,
          committedOffset,
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: null,
        })),
      },
    ],
  };
}

/** The broker must hand back the last offset committed, on every partition: the commits were kept. */
async function checkCommitted(committer: Committer): Promise<void> {
  const response = await committer.client.call(OffsetFetchApi, OFFSET_FETCH_VERSION, {
    groupId: committer.groupId,
    topics: [{ name: TOPIC, partitionIndexes: PARTITION_INDEXES }],
    groups: [],
    requireStable: false,
  });
  if (response.errorCode !== 0)
    throw new KafkaResponseError(`OffsetFetch ${committer.groupId}`, response.errorCode);
  const partitions = response.topics.find((topic) => topic.name === TOPIC)?.partitions ?? [];
  const expected = BigInt(committer.lastOffset);
  for (const partitionIndex of PARTITION_INDEXES) {
    const partition = partitions.find((p) => p.partitionIndex === partitionIndex);
    if (partition === undefined || partition.errorCode !== 0 || partition.committedOffset !== expected) {
      throw new Error(
        `${committer.groupId} ${TOPIC}-${partitionIndex}: OffsetFetch gave offset ` +
          `${partition?.committedOffset ?? 'none'} (error ${partition?.errorCode ?? 'none'}), committed ${expected}`,
      );
    }
  }
}

/** Nearest-rank percentile of an ascending array. */
