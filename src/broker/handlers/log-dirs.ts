// DescribeLogDirs (KIP-113): the broker's log directories and the size of each partition's log in them, as
// kafka-log-dirs.sh and admin UIs show it. Sluice has one log directory, its data dir, and leads every
// partition it hosts. With an authorizer it needs DESCRIBE on the cluster, as in Kafka.
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCode } from '../../protocol/errors.js';
import {
  DescribeLogDirsApi,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
  type DescribeLogDirsResponseDescribeLogDirsResult,
  type DescribeLogDirsResponseDescribeLogDirsTopic,
} from '../../protocol/generated/index.js';
import type { ApiHandler, RequestContext } from '../context.js';
import { registerHandler } from '../context.js';
import { type HostedPartition, partitionKey } from '../replica-manager.js';
import { AclOperation } from '../security/acl.js';
import { isClusterAuthorized } from './authorization.js';

/** totalBytes/usableBytes when the file system could not be asked (the schema's default). */
const UNKNOWN_SPACE_BYTES = -1n;

const handler: ApiHandler<DescribeLogDirsRequest, DescribeLogDirsResponse> = {
  api: DescribeLogDirsApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    if (!isClusterAuthorized(ctx, AclOperation.DESCRIBE)) {
      return this.errorResponse(ctx, request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [await describeDataDir(ctx, requestedPartitions(request))],
    };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode, results: [] };
  },
};

export const describeLogDirsHandler = registerHandler(handler);

/** The keys of the partitions asked for, or null for every hosted partition. */
function requestedPartitions(request: DescribeLogDirsRequest): Set<string> | null {
  if (request.topics === null) return null;
  const keys = new Set<string>();
  for (const { topic, partitions } of request.topics) {
    for (const partition of partitions) keys.add(partitionKey(topic, partition));
  }
  return keys;
}

async function describeDataDir(
  ctx: RequestContext,
  requested: Set<string> | null,
): Promise<DescribeLogDirsResponseDescribeLogDirsResult> {
  // Kafka names a log dir by its absolute path; `log.dirs` may be relative to where the broker started.
  const logDir = resolve(ctx.broker.config.dataDir);
  let totalBytes: bigint;
  let usableBytes: bigint;
  try {
    const space = await statfs(logDir, { bigint: true });
    totalBytes = space.blocks * space.bsize;
    // What an unprivileged writer may still use, as Java's FileStore.getUsableSpace counts it.
    usableBytes = space.bavail * space.bsize;
  } catch (error) {
    // A data dir the broker cannot even stat is one Kafka would have taken offline.
    ctx.broker.logger.warn({ err: error, logDir }, 'cannot describe the log directory');
    return {
      errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
      logDir,
      topics: [],
      totalBytes: UNKNOWN_SPACE_BYTES,
      usableBytes: UNKNOWN_SPACE_BYTES,
    };
  }
  return {
    errorCode: ErrorCode.NONE,
    logDir,
    topics: describeTopics(ctx.broker.replicaManager.hostedPartitions(), requested),
    totalBytes,
    usableBytes,
  };
}

/**
 * Hosted partitions grouped by topic, in name then partition order. Partitions not hosted here, unknown topics
 * included, are left out rather than reported as errors, and so is a topic none of whose partitions is asked
 * for, as Kafka does.
 */
function describeTopics(
  hosted: Iterable<HostedPartition>,
  requested: Set<string> | null,
): DescribeLogDirsResponseDescribeLogDirsTopic[] {
  const byTopic = new Map<string, HostedPartition[]>();
  for (const partition of hosted) {
    if (requested !== null && !requested.has(partition.key)) continue;
    const partitions = byTopic.get(partition.topic);
    if (partitions === undefined) byTopic.set(partition.topic, [partition]);
    else partitions.push(partition);
  }
  return [...byTopic.keys()].sort().map((name) => ({
    name,
    partitions: byTopic
      .get(name)!
      .sort((a, b) => a.partition - b.partition)
      .map((p) => ({
        partitionIndex: p.partition,
        partitionSize: BigInt(p.log.sizeBytes),
        // Kafka's lag of a current log is max(high watermark - log end offset, 0): never above 0, since the
        // high watermark cannot pass the log end offset.
        offsetLag: 0n,
        isFutureKey: false,
      })),
  }));
}
