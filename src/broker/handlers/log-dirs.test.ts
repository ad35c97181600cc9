import assert from 'node:assert/strict';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import {
  DescribeLogDirsApi,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
} from '../../protocol/generated/index.js';
import { partitionKey } from '../replica-manager.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { allowOnly, type FakeAuthorizer } from './authorizer-test-support.js';
import { advertisedVersions, callApi, type Dispatch, dispatcherOver } from './test-support.js';

/** [topic, partition, sizeBytes] of each partition the fake broker hosts, in no particular order. */
const HOSTED: [string, number, number][] = [
  ['orders', 1, 0],
  ['__consumer_offsets', 0, 350],
  ['orders', 0, 4096],
  ['audit', 0, 77],
  ['orders', 2, 12],
];

function broker(dataDir: string, authorizer?: FakeAuthorizer) {
  const logged: unknown[] = [];
  const hosted = HOSTED.map(([topic, partition, sizeBytes]) => ({
    topic,
    partition,
    key: partitionKey(topic, partition),
    log: { sizeBytes },
  }));
  const services = {
    authorizer,
    config: { dataDir },
    replicaManager: { hostedPartitions: () => hosted.values() },
    logger: {
      warn: (fields: unknown, message: string) => logged.push({ fields, message }),
      error: (fields: unknown, message: string) => logged.push({ fields, message }),
    },
  };
  return { dispatch: dispatcherOver(services), logged };
}

const describeLogDirs = (dispatch: Dispatch, version: number, topics: DescribeLogDirsRequest['topics']) =>
  callApi(dispatch, DescribeLogDirsApi, version, { topics });

const partition = (partitionIndex: number, size: number) => ({
  partitionIndex,
  partitionSize: BigInt(size),
  offsetLag: 0n,
  isFutureKey: false,
});

const ALL_TOPICS = [
  { name: '__consumer_offsets', partitions: [partition(0, 350)] },
  { name: 'audit', partitions: [partition(0, 77)] },
  { name: 'orders', partitions: [partition(0, 4096), partition(1, 0), partition(2, 12)] },
];

/** What statfs says of `dir`, as DescribeLogDirs v4 reports it. */
async function space(dir: string): Promise<{ totalBytes: bigint; usableBytes: bigint }> {
  const s = await statfs(dir, { bigint: true });
  return { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
}

/** Replaces usableBytes, which other processes change between two statfs calls, after checking its range. */
function withCheckedUsable(
  response: DescribeLogDirsResponse,
  before: bigint,
  after: bigint,
): DescribeLogDirsResponse {
  return {
    ...response,
    results: response.results.map((result) => {
      const low = before < after ? before : after;
      const high = before < after ? after : before;
      assert.ok(result.usableBytes >= low && result.usableBytes <= high, `${result.usableBytes}`);
      return { ...result, usableBytes: -2n };
    }),
  };
}

describe('DescribeLogDirs', () => {
  let dataDir = '';
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-log-dirs-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('is advertised at versions 0-4', async () => {
    const { dispatch } = broker(dataDir);
    assert.deepEqual(await advertisedVersions(dispatch, [35]), [[35, 0, 4]]);
  });

  test('v0 with null topics: every hosted partition, __consumer_offsets included, by topic and partition', async () => {
    const { dispatch, logged } = broker(dataDir);
    assert.deepEqual(await describeLogDirs(dispatch, 0, null), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [
        { errorCode: ErrorCode.NONE, logDir: dataDir, topics: ALL_TOPICS, totalBytes: -1n, usableBytes: -1n },
      ],
    });
    assert.deepEqual(logged, []);
  });

  test('v1 with named partitions: only those hosted; unknown topics, unhosted partitions and topics none of whose partitions were named are left out', async () => {
    const { dispatch } = broker(dataDir);
    const response = await describeLogDirs(dispatch, 1, [
      { topic: 'orders', partitions: [2, 0, 9, -1, 2] },
      { topic: 'missing', partitions: [0] },
      { topic: 'audit', partitions: [] },
    ]);
    assert.deepEqual(response, {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [
        {
          errorCode: ErrorCode.NONE,
          logDir: dataDir,
          topics: [{ name: 'orders', partitions: [partition(0, 4096), partition(2, 12)] }],
          totalBytes: -1n,
          usableBytes: -1n,
        },
      ],
    });
    // No topics asked for: the log dir is still described, with nothing in it.
    assert.deepEqual((await describeLogDirs(dispatch, 1, [])).results[0]?.topics, []);
  });

  test('v3 carries the top-level error code, v4 the size and free space of the file system', async () => {
    const { dispatch } = broker(dataDir);
    const v3 = await describeLogDirs(dispatch, 3, [{ topic: '__consumer_offsets', partitions: [0] }]);
    assert.deepEqual(v3, {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [
        {
          errorCode: ErrorCode.NONE,
          logDir: dataDir,
          topics: [ALL_TOPICS[0]!],
          totalBytes: -1n,
          usableBytes: -1n,
        },
      ],
    });

    const before = await space(dataDir);
    const v4 = await describeLogDirs(dispatch, 4, null);
    const after = await space(dataDir);
    assert.ok(before.totalBytes > 0n);
    assert.deepEqual(withCheckedUsable(v4, before.usableBytes, after.usableBytes), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [
        {
          errorCode: ErrorCode.NONE,
          logDir: dataDir,
          topics: ALL_TOPICS,
          totalBytes: before.totalBytes,
          usableBytes: -2n,
        },
      ],
    });
  });

  test('a relative data dir is reported as an absolute path', async () => {
    const { dispatch } = broker(relative(process.cwd(), dataDir));
    const response = await describeLogDirs(dispatch, 2, null);
    assert.equal(response.results[0]?.logDir, dataDir);
  });

  test('a data dir that cannot be examined is reported with KAFKA_STORAGE_ERROR and no partitions, and logged', async () => {
    const missing = join(dataDir, 'gone');
    const { dispatch, logged } = broker(missing);
    assert.deepEqual(await describeLogDirs(dispatch, 4, null), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [
        {
          errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
          logDir: missing,
          topics: [],
          totalBytes: -1n,
          usableBytes: -1n,
        },
      ],
    });
    assert.equal(logged.length, 1);
    const entry = logged[0] as { fields: { err: NodeJS.ErrnoException; logDir: string }; message: string };
    assert.deepEqual(
      [entry.fields.err.code, entry.fields.logDir, entry.message],
      ['ENOENT', missing, 'cannot describe the log directory'],
    );
  });
});

test('DescribeLogDirs with an authorizer needs DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-log-dirs-'));
  try {
    const describeCluster = [AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME] as const;
    const authorizer = allowOnly([]);
    const { dispatch } = broker(dataDir, authorizer);
    for (const version of [0, 4]) {
      assert.deepEqual(await describeLogDirs(dispatch, version, null), {
        throttleTimeMs: 0,
        errorCode: version >= 3 ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED : ErrorCode.NONE,
        results: [],
      });
    }
    assert.deepEqual(authorizer.asked, [describeCluster, describeCluster]);
    authorizer.allowed.push(describeCluster);
    const allowed = await describeLogDirs(dispatch, 4, null);
    assert.deepEqual(
      [allowed.errorCode, allowed.results.map((r) => r.topics.map((t) => t.name))],
      [ErrorCode.NONE, [['__consumer_offsets', 'audit', 'orders']]],
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
