// Fetch for consumers: read each requested partition from its offset, and if fewer than min_bytes are
// available, wait (long poll) until an append or max_wait_ms. Response size follows KIP-74: partitions
// are filled in request order until max_bytes, and the first batch is returned whole even if larger.
// read_committed fetches end at the last stable offset, so min_bytes counts only what is below it; the log
// notifies the purgatory of transaction markers as of appends, so a marker that moves it wakes the poll.
// With an authorizer, as Kafka: a consumer needs READ on each topic (else its partitions answer
// TOPIC_AUTHORIZATION_FAILED and are not read), a follower CLUSTER_ACTION on the cluster.
import { ErrorCode } from '../../protocol/errors.js';
import {
  FetchApi,
  type FetchRequest,
  type FetchResponse as GeneratedFetchResponse,
} from '../../protocol/generated/index.js';
import type { RecordsPayload } from '../../protocol/primitives/writer.js';
import { releaseRead } from '../../storage/index.js';
import { type ApiHandler, type RequestContext, registerHandler } from '../context.js';
import type { FetchPartitionResult, HostedPartition } from '../replica-manager.js';
import { AclOperation } from '../security/acl.js';
import { isClusterAuthorized, topicAuthorization } from './authorization.js';

// Records go out as the log's batch buffers, by reference.
type FetchResponse = GeneratedFetchResponse<RecordsPayload>;
type TopicResponse = FetchResponse['responses'][number];
type PartitionData = TopicResponse['partitions'][number];

interface PlannedPartition {
  readonly topicIndex: number;
  readonly partition: number;
  readonly hosted: HostedPartition | undefined;
  readonly errorCode: number;
  readonly fetchOffset: number;
  readonly partitionMaxBytes: number;
  readonly currentLeaderEpoch: number;
  readonly lastFetchedEpoch: number;
}

// Kafka caps a consumer's wait at the request's own timeout; we also bound it so a hostile max_wait_ms
// cannot park a request for days.
const MAX_WAIT_CAP_MS = 300_000;
// A fetch with max_wait 0 may still wait this long for response memory before reading with none.
const MEMORY_WAIT_MIN_MS = 100;

// The fields no response of ours sets, shared by every partition (the encoder only reads them): a Fetch
// may name a thousand partitions.
const NO_DIVERGING_EPOCH: PartitionData['divergingEpoch'] = { epoch: -1, endOffset: -1n };
const NO_CURRENT_LEADER: PartitionData['currentLeader'] = { leaderId: -1, leaderEpoch: -1 };
const NO_SNAPSHOT_ID: PartitionData['snapshotId'] = { endOffset: -1n, epoch: -1 };

function emptyPartition(partitionIndex: number, errorCode: number): PartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: NO_DIVERGING_EPOCH,
    currentLeader: NO_CURRENT_LEADER,
    snapshotId: NO_SNAPSHOT_ID,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: [],
  };
}

function errorResponse(request: FetchRequest, errorCode: number, topLevel: boolean): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: topLevel ? errorCode : ErrorCode.NONE,
    sessionId: 0,
    responses: topLevel
      ? []
      : request.topics.map((topic) => ({
          topic: topic.topic,
          topicId: topic.topicId,
          partitions: topic.partitions.map((p) => emptyPartition(p.partition, errorCode)),
        })),
    nodeEndpoints: [],
  };
}

function plan(ctx: RequestContext, request: FetchRequest): PlannedPartition[] {
  const { replicaManager, metadata } = ctx.broker;
  const byTopicId = ctx.apiVersion >= 13;
  // Null without an authorizer (every topic readable); else asked once per topic.
  const mayRead = topicAuthorization(ctx, AclOperation.READ);
  const planned: PlannedPartition[] = [];
  request.topics.forEach((topic, topicIndex) => {
    const name = byTopicId ? metadata.getTopicById(topic.topicId)?.name : topic.topic;
    // As Kafka: an unknown topic id first, then authorization, and only then whether the partition exists.
    const denied = name !== undefined && mayRead !== null && !mayRead(name);
    for (const p of topic.partitions) {
      const hosted = name === undefined || denied ? undefined : replicaManager.get(name, p.partition);
      let errorCode: number = ErrorCode.NONE;
      if (denied) {
        errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      } else if (hosted === undefined) {
        errorCode =
          byTopicId && name === undefined ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      } else if (!replicaManager.isLeader(hosted)) {
        errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
      } else {
        errorCode = replicaManager.checkLeaderEpoch(hosted, p.currentLeaderEpoch);
      }
      planned.push({
        topicIndex,
        partition: p.partition,
        hosted,
        errorCode,
        fetchOffset: Number(p.fetchOffset),
        partitionMaxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
        lastFetchedEpoch: p.lastFetchedEpoch,
      });
    }
  });
  return planned;
}

/**
 * Reads every planned partition concurrently. The response's max_bytes is shared out in request order before
 * reading, each partition getting no more than it can return (an upper bound from log positions), so
 * partitions late in a request still get data when early ones hold little. A bound can overshoot (data past
 * the high watermark, or an index entry far before the offset): what such a partition leaves unused goes, in
 * a further round, to the partitions the budget did not reach. The total stays within the limit but for one
 * batch: KIP-74 has the first partition holding records return its first batch whole even when that is
 * larger than its share (or, if that partition returns nothing, the first one that can).
 */
async function readAll(
  ctx: RequestContext,
  request: FetchRequest,
  planned: readonly PlannedPartition[],
  responseBytes: number,
): Promise<{ results: FetchPartitionResult[]; bytes: number; errors: boolean }> {
  const { replicaManager } = ctx.broker;
  const results: FetchPartitionResult[] = [];
  // The most each partition can return (0 for those not read), and what it was last given to read.
  const bounds: number[] = [];
  const shares: number[] = [];
  // Only partitions with something to read cost a promise.
  const reads: Promise<void>[] = [];
  const read = (i: number, share: number, minOneBatch = false) => {
    const p = planned[i]!;
    shares[i] = share;
    const result = replicaManager.readPartition(
      p.hosted!,
      p.fetchOffset,
      share,
      request.isolationLevel,
      minOneBatch,
    );
    if (result instanceof Promise) {
      reads.push(
        result.then((done) => {
          results[i] = done;
        }),
      );
    } else {
      results[i] = result;
    }
  };
  let budget = responseBytes;
  // KIP-74, as Kafka: the first partition holding records returns its first batch even if that is larger than
  // its limits, so a batch above max.partition.fetch.bytes cannot stall its partition behind busier ones.
  let firstWithRecords = true;
  // First round, in request order: every readable partition, even with nothing to read (for its log bounds).
  for (let i = 0; i < planned.length; i++) {
    const p = planned[i]!;
    bounds.push(0);
    shares.push(0);
    if (p.errorCode !== ErrorCode.NONE || p.hosted === undefined) {
      results.push(failedRead(p.errorCode));
      continue;
    }
    const diverging = divergingEpoch(p);
    if (diverging !== null) {
      results.push({ ...failedRead(ErrorCode.NONE), ...logBounds(ctx, p.hosted), divergingEpoch: diverging });
      continue;
    }
    const bound = p.hosted.log.readableBytesBound(p.fetchOffset, p.partitionMaxBytes);
    const share = Math.min(bound, budget);
    budget -= share;
    bounds[i] = bound;
    results.push(PENDING_READ);
    read(i, share, firstWithRecords && share > 0);
    if (share > 0) firstWithRecords = false;
  }
  let bytes = 0;
  for (;;) {
    if (reads.length > 0) await Promise.all(reads.splice(0));
    bytes = 0;
    for (const result of results) bytes += result.bytes;
    budget = responseBytes - bytes;
    if (budget <= 0) break;
    // Further rounds: those the budget did not reach, which got less than they could return and returned
    // nothing, get what bounds that overshot left unused. A share only ever grows, so the rounds end.
    let more = false;
    for (let i = 0; i < planned.length && budget > 0; i++) {
      if (shares[i]! >= bounds[i]! || results[i]!.bytes > 0) continue;
      const share = Math.min(bounds[i]!, budget);
      if (share <= shares[i]!) continue;
      budget -= share;
      releaseRead(results[i]!);
      read(i, share);
      more = true;
    }
    if (!more) break;
  }
  let errors = false;
  for (const result of results) {
    if (result.errorCode !== ErrorCode.NONE) errors = true;
  }
  if (bytes === 0 && !errors) {
    for (const [i, p] of planned.entries()) {
      // Only a partition holding records can have a batch larger than its share.
      if (bounds[i] === 0) continue;
      const first = results[i]!;
      const result = await replicaManager.readPartition(
        p.hosted!,
        p.fetchOffset,
        Math.max(1, shares[i]!),
        request.isolationLevel,
        true,
      );
      releaseReads([first]);
      results[i] = result;
      if (result.errorCode !== ErrorCode.NONE) errors = true;
      if (result.bytes > 0 || errors) {
        bytes = result.bytes;
        break;
      }
    }
  }
  return { results, bytes, errors };
}

function logBounds(
  ctx: RequestContext,
  hosted: HostedPartition,
): Pick<FetchPartitionResult, 'highWatermark' | 'lastStableOffset' | 'logStartOffset'> {
  return {
    highWatermark: hosted.log.highWatermark,
    lastStableOffset: ctx.broker.replicaManager.lastStableOffset(hosted),
    logStartOffset: hosted.log.logStartOffset,
  };
}

/** KIP-595/Fetch v12: a fetcher whose last fetched epoch ends before its offset has diverged from our log. */
function divergingEpoch(p: PlannedPartition): { epoch: number; endOffset: number } | null {
  if (p.lastFetchedEpoch < 0 || p.hosted === undefined) return null;
  const end = p.hosted.log.leaderEpochStartOffset(p.lastFetchedEpoch);
  if (end.epoch !== p.lastFetchedEpoch || end.endOffset < p.fetchOffset) return end;
  return null;
}

/** Stands for a read in flight; replaced by its result before anything looks at it. */
const PENDING_READ: FetchPartitionResult = Object.freeze(failedRead(ErrorCode.NONE));

function failedRead(errorCode: number): FetchPartitionResult {
  return {
    errorCode,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    chunks: [],
    bytes: 0,
    holds: [],
    divergingEpoch: null,
    abortedTransactions: null,
  };
}

/** Returns the pooled read buffers behind `results` once nothing will read their chunks again. */
function releaseReads(results: readonly FetchPartitionResult[]): void {
  for (const result of results) releaseRead(result);
}

function toResponse(
  request: FetchRequest,
  planned: readonly PlannedPartition[],
  results: readonly FetchPartitionResult[],
): FetchResponse {
  const responses: TopicResponse[] = request.topics.map((topic) => ({
    topic: topic.topic,
    topicId: topic.topicId,
    partitions: [],
  }));
  planned.forEach((p, i) => {
    const r = results[i]!;
    responses[p.topicIndex]!.partitions.push({
      partitionIndex: p.partition,
      errorCode: r.errorCode,
      highWatermark: BigInt(r.highWatermark),
      lastStableOffset: BigInt(r.lastStableOffset),
      logStartOffset: BigInt(r.logStartOffset),
      divergingEpoch:
        r.divergingEpoch === null
          ? NO_DIVERGING_EPOCH
          : { epoch: r.divergingEpoch.epoch, endOffset: BigInt(r.divergingEpoch.endOffset) },
      currentLeader: NO_CURRENT_LEADER,
      snapshotId: NO_SNAPSHOT_ID,
      abortedTransactions:
        r.abortedTransactions === null
          ? null
          : r.abortedTransactions.map((aborted) => ({
              producerId: BigInt(aborted.producerId),
              firstOffset: BigInt(aborted.firstOffset),
            })),
      preferredReadReplica: -1,
      records: r.chunks,
    });
  });
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses, nodeEndpoints: [] };
}

const handler: ApiHandler<FetchRequest, FetchResponse> = {
  api: FetchApi,
  minVersion: 0,
  maxVersion: 17,
  async handle(ctx, request) {
    const replicaId = ctx.apiVersion >= 15 ? request.replicaState.replicaId : request.replicaId;
    if (replicaId >= 0) {
      if (!isClusterAuthorized(ctx, AclOperation.CLUSTER_ACTION)) {
        return errorResponse(request, ErrorCode.TOPIC_AUTHORIZATION_FAILED, false);
      }
      // Follower fetching belongs to replication, which this broker does not run yet.
      return errorResponse(request, ErrorCode.NOT_LEADER_OR_FOLLOWER, false);
    }
    if (ctx.apiVersion >= 7) {
      // We never create incremental fetch sessions (KIP-227 lets a broker decline with session id 0), so
      // every fetch is a full one; a request naming a session can only be stale.
      if (request.sessionId !== 0) return errorResponse(request, ErrorCode.FETCH_SESSION_ID_NOT_FOUND, true);
      if (request.sessionEpoch > 0)
        return errorResponse(request, ErrorCode.INVALID_FETCH_SESSION_EPOCH, true);
    }
    const planned = plan(ctx, request);
    const deadline = Date.now() + Math.min(Math.max(request.maxWaitMs, 0), MAX_WAIT_CAP_MS);
    const keys: string[] = [];
    for (const p of planned) if (p.hosted !== undefined) keys.push(p.hosted.key);
    const { fetchMemory, purgatory } = ctx.broker.replicaManager;
    const wanted =
      ctx.apiVersion >= 3 ? request.maxBytes : planned.reduce((sum, p) => sum + p.partitionMaxBytes, 0);
    /** Reads within `granted` bytes of the budget, returning the unused part at once. */
    const read = async (granted: number) => {
      const attempt = await readAll(ctx, request, planned, granted);
      const held = Math.min(attempt.bytes, granted);
      fetchMemory.release(granted - held);
      return { ...attempt, held };
    };
    const answer = (attempt: Awaited<ReturnType<typeof read>>) => {
      ctx.releaseAfterResponse(() => {
        releaseReads(attempt.results);
        if (attempt.held > 0) fetchMemory.release(attempt.held);
      });
      return toResponse(request, planned, attempt.results);
    };
    for (;;) {
      const readFrom = purgatory.appendSequence;
      // Records stay in memory until the response is written: take them from the broker-wide budget, and
      // read less when it is short rather than wait past the request's own deadline.
      const attempt = await read(
        await fetchMemory.acquire(wanted, Math.max(deadline - Date.now(), MEMORY_WAIT_MIN_MS)),
      );
      if (attempt.bytes >= request.minBytes || attempt.errors || Date.now() >= deadline)
        return answer(attempt);
      // Not enough yet: give the memory back while waiting for appends.
      releaseReads(attempt.results);
      fetchMemory.release(attempt.held);
      const appended = await purgatory.waitForAppend(keys, deadline - Date.now(), readFrom);
      if (!appended) {
        // Timed out or shutting down: answer with whatever there is now, with the memory free right now.
        return answer(await read(await fetchMemory.acquire(wanted, 0)));
      }
    }
  },
  errorResponse(_ctx, request, errorCode) {
    return errorResponse(request, errorCode, false);
  },
};

export const fetchHandler = registerHandler(handler);
