// ListOffsets as the client uses it: log start and end offsets and offsets by timestamp, one request per
// leader with the cluster's retries. The consumer's offset resets, Admin and the CLI all go through here.
import { ErrorCode } from '../protocol/errors.js';
import { ListOffsetsApi } from '../protocol/generated/list-offsets.js';
import { type Cluster, partitionInfo } from './cluster.js';
import { errorFromCode, type KafkaClientError, StaleMetadataError } from './errors.js';
import { groupBy } from './group-by.js';

/** ListOffsets v0 answers with a list of offsets instead of one. */
const LIST_OFFSETS_MIN_VERSION = 1;
const LIST_OFFSETS_MAX_VERSION = 7;
const EARLIEST_TIMESTAMP = -2n;
const LATEST_TIMESTAMP = -1n;

export type IsolationLevel = 'read_uncommitted' | 'read_committed';
/** The log start, the log end, or the first offset at or after a timestamp (ms). */
export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

/** A map key for one partition of one topic. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * ListOffsets for each partition (earliest, latest or by timestamp), one request per leader, with the
 * cluster's retries. A timestamp past the last record resolves to the log end offset, as Kafka's
 * offsetsForTimes followed by seekToEnd would.
 */
export async function listOffsets(
  cluster: Cluster,
  requests: readonly { topic: string; partition: number; spec: OffsetSpec }[],
  isolationLevel: IsolationLevel,
): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  let pending = [...requests];
  const pastEnd: typeof pending = [];
  await cluster.retry(async () => {
    const byLeader = new Map<number, typeof pending>();
    for (const request of pending) {
      const info = await cluster.topic(request.topic);
      const leader = partitionInfo(info, request.partition)?.leader ?? -1;
      if (leader < 0) {
        throw new StaleMetadataError(ErrorCode.LEADER_NOT_AVAILABLE, undefined, {
          topic: request.topic,
          partition: request.partition,
        });
      }
      let list = byLeader.get(leader);
      if (list === undefined) {
        list = [];
        byLeader.set(leader, list);
      }
      list.push(request);
    }
    const failures: KafkaClientError[] = [];
    await Promise.all(
      [...byLeader].map(async ([nodeId, list]) => {
        const connection = await cluster.connection(nodeId);
        const version = connection.versionFor(
          { ...ListOffsetsApi, minVersion: LIST_OFFSETS_MIN_VERSION },
          LIST_OFFSETS_MAX_VERSION,
        );
        const topics = groupBy(list, (request) => request.topic).map(([name, requests]) => ({
          name,
          partitions: requests.map(({ partition, spec }) => ({
            partitionIndex: partition,
            currentLeaderEpoch: -1,
            timestamp:
              spec === 'earliest'
                ? EARLIEST_TIMESTAMP
                : spec === 'latest'
                  ? LATEST_TIMESTAMP
                  : BigInt(spec.timestamp),
            maxNumOffsets: 1,
          })),
        }));
        const response = await connection.send(
          ListOffsetsApi,
          {
            replicaId: -1,
            isolationLevel: isolationLevel === 'read_committed' ? 1 : 0,
            topics,
          },
          { version },
        );
        for (const topic of response.topics) {
          for (const p of topic.partitions) {
            const request = list.find((r) => r.topic === topic.name && r.partition === p.partitionIndex);
            if (request === undefined) continue;
            if (p.errorCode !== ErrorCode.NONE) {
              failures.push(
                errorFromCode(p.errorCode, undefined, { topic: topic.name, partition: p.partitionIndex }),
              );
              continue;
            }
            if (p.offset < 0n && typeof request.spec === 'object') {
              pastEnd.push({ ...request, spec: 'latest' });
              continue;
            }
            result.set(partitionKey(topic.name, p.partitionIndex), Number(p.offset));
          }
        }
      }),
    );
    const done = (r: { topic: string; partition: number }) =>
      result.has(partitionKey(r.topic, r.partition)) ||
      pastEnd.some((e) => e.topic === r.topic && e.partition === r.partition);
    pending = pending.filter((r) => !done(r));
    const retriable = failures.find((f) => f.retriable);
    if (retriable !== undefined) throw retriable;
    if (failures.length > 0) throw failures[0];
  });
  if (pastEnd.length > 0) {
    for (const [key, offset] of await listOffsets(cluster, pastEnd, isolationLevel)) result.set(key, offset);
  }
  return result;
}
