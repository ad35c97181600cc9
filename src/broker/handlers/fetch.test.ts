import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import { FetchApi, type FetchResponse } from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/primitives/uuid.js';
import type { RecordsPayload } from '../../protocol/primitives/writer.js';
import { makeBatch, splitBatches } from '../../storage/test-support.js';
import { READ_COMMITTED, READ_UNCOMMITTED } from '../replica-manager.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { allowOnly, type FakeAuthorizer } from './authorizer-test-support.js';
import {
  type DataPathBroker,
  recordingVerifier,
  startDataPath,
  transactionalBatch,
} from './data-path-test-support.js';
import { callApi } from './test-support.js';

const TOPIC = 'ledger';
const FETCH_VERSION = 11;
const TRANSACTIONAL_ID = 'tx';
const ABORTED_PRODUCER = 100;
const OPEN_PRODUCER = 200;
const PLAIN_BATCH = () => makeBatch({ records: 2 });

interface PartitionFetch {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes?: number;
}

function fetch(
  broker: DataPathBroker,
  isolationLevel: number,
  partitions: PartitionFetch[],
  wait: { minBytes: number; maxWaitMs: number } = { minBytes: 0, maxWaitMs: 0 },
  version = FETCH_VERSION,
  maxBytes = 1024 * 1024,
): Promise<FetchResponse<RecordsPayload>> {
  return callApi(broker.dispatch, FetchApi, version, {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: wait.maxWaitMs,
    minBytes: wait.minBytes,
    maxBytes,
    isolationLevel,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: TOPIC,
        topicId: ZERO_UUID,
        partitions: partitions.map((p) => ({
          partition: p.partition,
          currentLeaderEpoch: -1,
          fetchOffset: BigInt(p.fetchOffset),
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: p.partitionMaxBytes ?? 1024 * 1024,
          replicaDirectoryId: ZERO_UUID,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
}

/** What a client learns of each partition: its offsets, the batches (first and last offset) and aborted list. */
function summary(response: FetchResponse<RecordsPayload>) {
  return response.responses[0]!.partitions.map((p) => ({
    partition: p.partitionIndex,
    errorCode: p.errorCode,
    highWatermark: Number(p.highWatermark),
    lastStableOffset: Number(p.lastStableOffset),
    batches: splitBatches(p.records === null ? [] : [p.records].flat()).map((b) => [
      b.baseOffset,
      b.lastOffset,
    ]),
    abortedTransactions:
      p.abortedTransactions?.map((a) => [Number(a.producerId), Number(a.firstOffset)]) ?? null,
  }));
}

const marker = (producerId: number, commit: boolean) => ({
  producerId,
  producerEpoch: 0,
  coordinatorEpoch: 0,
  commit,
});

describe('Fetch with transactions', () => {
  let broker: DataPathBroker;
  const append = async (records: Buffer) => {
    const outcome = await broker.replicaManager.appendRecords(TOPIC, 0, records, -1, 9, TRANSACTIONAL_ID);
    assert.equal(outcome.errorCode, ErrorCode.NONE);
  };
  const writeMarker = async (producerId: number, commit: boolean) => {
    const code = await broker.replicaManager.writeTransactionMarker(TOPIC, 0, marker(producerId, commit));
    assert.equal(code, ErrorCode.NONE);
  };

  before(async () => {
    broker = await startDataPath([{ name: TOPIC, partitions: 1 }]);
    broker.replicaManager.setTransactionVerifier(recordingVerifier(ErrorCode.NONE));
    // 0-1 plain, 2-3 producer 100 (aborted at 5), 4 producer 200 (still open): LSO 4, high watermark 6.
    await append(PLAIN_BATCH());
    await append(transactionalBatch({ producerId: ABORTED_PRODUCER, records: 2 }));
    await append(transactionalBatch({ producerId: OPEN_PRODUCER, records: 1 }));
    await writeMarker(ABORTED_PRODUCER, false);
  });
  after(async () => {
    await broker.close();
  });

  test('read_committed stops at the LSO and lists the aborted transactions of what it returns', async () => {
    for (const version of [4, FETCH_VERSION]) {
      const response = await fetch(
        broker,
        READ_COMMITTED,
        [
          { partition: 0, fetchOffset: 0 },
          { partition: 9, fetchOffset: 0 },
        ],
        undefined,
        version,
      );
      assert.deepEqual(summary(response), [
        {
          partition: 0,
          errorCode: ErrorCode.NONE,
          highWatermark: 6,
          lastStableOffset: 4,
          batches: [
            [0, 1],
            [2, 3],
          ],
          abortedTransactions: [[ABORTED_PRODUCER, 2]],
        },
        {
          partition: 9,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          highWatermark: -1,
          lastStableOffset: -1,
          batches: [],
          abortedTransactions: null,
        },
      ]);
    }
  });

  test('read_uncommitted reads to the high watermark, markers included, with no aborted list', async () => {
    assert.deepEqual(summary(await fetch(broker, READ_UNCOMMITTED, [{ partition: 0, fetchOffset: 0 }])), [
      {
        partition: 0,
        errorCode: ErrorCode.NONE,
        highWatermark: 6,
        lastStableOffset: 4,
        batches: [
          [0, 1],
          [2, 3],
          [4, 4],
          [5, 5],
        ],
        abortedTransactions: null,
      },
    ]);
  });

  test('aborted transactions are those overlapping the records returned, not the whole log', async () => {
    // Room for the first batch only: the aborted transaction starts after it.
    const response = await fetch(broker, READ_COMMITTED, [
      { partition: 0, fetchOffset: 0, partitionMaxBytes: PLAIN_BATCH().length },
    ]);
    assert.deepEqual(
      summary(response).map((p) => [p.batches, p.abortedTransactions]),
      [[[[0, 1]], []]],
    );
    // At the LSO there is nothing to return and nothing to filter.
    assert.deepEqual(summary(await fetch(broker, READ_COMMITTED, [{ partition: 0, fetchOffset: 4 }])), [
      {
        partition: 0,
        errorCode: ErrorCode.NONE,
        highWatermark: 6,
        lastStableOffset: 4,
        batches: [],
        abortedTransactions: [],
      },
    ]);
  });

  test('a read_committed long poll is not answered by transactional appends, only when a marker moves the LSO', async () => {
    const startedMs = Date.now();
    let answered = false;
    const polling = fetch(broker, READ_COMMITTED, [{ partition: 0, fetchOffset: 4 }], {
      minBytes: 1,
      maxWaitMs: 10_000,
    }).then((response) => {
      answered = true;
      return response;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await append(transactionalBatch({ producerId: OPEN_PRODUCER, baseSequence: 1, records: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(answered, false);

    await writeMarker(OPEN_PRODUCER, true);
    const response = await polling;
    assert.ok(Date.now() - startedMs < 5_000, `answered after ${Date.now() - startedMs} ms`);
    assert.deepEqual(summary(response), [
      {
        partition: 0,
        errorCode: ErrorCode.NONE,
        highWatermark: 8,
        lastStableOffset: 8,
        batches: [
          [4, 4],
          [5, 5],
          [6, 6],
          [7, 7],
        ],
        // Producer 100's transaction (2..5) overlaps offsets 4 and 5.
        abortedTransactions: [[ABORTED_PRODUCER, 2]],
      },
    ]);
    // Past the abort marker, nothing of it is left to filter.
    assert.deepEqual(
      summary(await fetch(broker, READ_COMMITTED, [{ partition: 0, fetchOffset: 6 }])).map((p) => [
        p.batches,
        p.abortedTransactions,
      ]),
      [
        [
          [
            [6, 6],
            [7, 7],
          ],
          [],
        ],
      ],
    );
    assert.deepEqual(broker.errors, []);
  });
});

describe('Fetch response size (KIP-74)', () => {
  const PARTITIONS = 12;
  const BATCH = () => makeBatch({ records: 2, valueBytes: 100 });
  const BATCH_BYTES = BATCH().length;
  const OVERSIZED = PARTITIONS + 1;
  let broker: DataPathBroker;
  const append = async (partition: number, records: Buffer, transactionalId: string | null = null) => {
    const outcome = await broker.replicaManager.appendRecords(
      TOPIC,
      partition,
      records,
      -1,
      9,
      transactionalId,
    );
    assert.equal(outcome.errorCode, ErrorCode.NONE);
  };
  const fromStart = (count: number) =>
    Array.from({ length: count }, (_, partition) => ({ partition, fetchOffset: 0 }));
  const fetchUpTo = (isolationLevel: number, partitions: PartitionFetch[], maxBytes: number) =>
    fetch(broker, isolationLevel, partitions, undefined, undefined, maxBytes);
  const batchCounts = (response: FetchResponse<RecordsPayload>) =>
    summary(response).map((p) => p.batches.length);
  const recordBytes = (response: FetchResponse<RecordsPayload>) => {
    let bytes = 0;
    for (const p of response.responses[0]!.partitions) {
      for (const chunk of [p.records ?? []].flat()) bytes += chunk.length;
    }
    return bytes;
  };

  before(async () => {
    broker = await startDataPath([{ name: TOPIC, partitions: PARTITIONS + 2 }]);
    broker.replicaManager.setTransactionVerifier(recordingVerifier(ErrorCode.NONE));
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for (let batch = 0; batch < 3; batch++) await append(partition, BATCH());
    }
    // The last partition: a transaction still open, which read_committed cannot return yet.
    await append(
      PARTITIONS,
      transactionalBatch({ producerId: OPEN_PRODUCER, records: 20, valueBytes: 100 }),
      TRANSACTIONAL_ID,
    );
    // And one batch larger than the partition limit the next test fetches with.
    await append(OVERSIZED, makeBatch({ records: 20, valueBytes: 100 }));
  });
  after(async () => {
    await broker.close();
  });

  test('the first partition holding records returns its first batch even if larger than its limit', async () => {
    const limited = (partition: number) => ({
      partition,
      fetchOffset: 0,
      partitionMaxBytes: 3 * BATCH_BYTES,
    });
    // First in the request: its batch comes back whole, and the partitions after it are read as usual.
    const first = await fetchUpTo(READ_UNCOMMITTED, [limited(OVERSIZED), limited(0)], 1024 * 1024);
    assert.deepEqual(batchCounts(first), [1, 3]);
    // After a partition that returned records it waits, as in Kafka, for a fetch that names it first.
    const behind = await fetchUpTo(READ_UNCOMMITTED, [limited(0), limited(OVERSIZED)], 1024 * 1024);
    assert.deepEqual(batchCounts(behind), [3, 0]);
  });

  test('max_bytes goes to partitions by what they hold, so partitions late in the request get records too', async () => {
    // Each partition may return 1 MiB, far more than the response's 40 batches: reserving that much for
    // each would have given everything to the first.
    const response = await fetchUpTo(READ_UNCOMMITTED, fromStart(PARTITIONS), 40 * BATCH_BYTES);
    assert.deepEqual(batchCounts(response), Array(PARTITIONS).fill(3));
  });

  test('partitions are filled in request order and the response stays within max_bytes', async () => {
    const maxBytes = 7 * BATCH_BYTES + BATCH_BYTES / 2;
    const response = await fetchUpTo(READ_UNCOMMITTED, fromStart(PARTITIONS), maxBytes);
    assert.deepEqual(batchCounts(response), [3, 3, 1, ...Array(PARTITIONS - 3).fill(0)]);
    assert.ok(recordBytes(response) <= maxBytes);
  });

  test('what a partition could not use (records past its last stable offset) goes to the partitions after it', async () => {
    const openTransaction = [{ partition: PARTITIONS, fetchOffset: 0 }];
    const reserved = recordBytes(await fetch(broker, READ_UNCOMMITTED, openTransaction));
    const response = await fetchUpTo(
      READ_COMMITTED,
      [...openTransaction, ...fromStart(2)],
      reserved + 3 * BATCH_BYTES,
    );
    assert.deepEqual(batchCounts(response), [0, 3, 3]);
    // Even when that partition took the whole budget and nothing at all came back from the first round.
    assert.deepEqual(
      batchCounts(await fetchUpTo(READ_COMMITTED, [...openTransaction, ...fromStart(2)], reserved)),
      [0, 3, 3],
    );
  });
});

describe('Fetch with an authorizer', () => {
  const READ = AclOperation.READ;
  // A topic id no topic has (16 bytes 1..16).
  const UNKNOWN_TOPIC_ID = 'AQIDBAUGBwgJCgsMDQ4PEA';
  let broker: DataPathBroker;
  let authorizer: FakeAuthorizer;
  before(async () => {
    authorizer = allowOnly([[READ, ResourceType.TOPIC, TOPIC]]);
    broker = await startDataPath(
      [
        { name: TOPIC, partitions: 2 },
        { name: 'secret', partitions: 1 },
      ],
      { authorizer },
    );
    for (const [topic, partition] of [
      [TOPIC, 0],
      [TOPIC, 1],
      ['secret', 0],
    ] as const) {
      const outcome = await broker.replicaManager.appendRecords(topic, partition, PLAIN_BATCH(), -1, 9, null);
      assert.equal(outcome.errorCode, ErrorCode.NONE);
    }
  });
  after(async () => {
    await broker.close();
  });

  /** [topic, partition, errorCode, highWatermark, record bytes] of a fetch from offset 0. */
  async function fetchFrom(
    topics: { topic: string; topicId?: string; partitions: number[] }[],
    options: { replicaId?: number; version?: number; maxWaitMs?: number } = {},
  ) {
    authorizer.asked.length = 0;
    const response = await callApi(broker.dispatch, FetchApi, options.version ?? FETCH_VERSION, {
      clusterId: null,
      replicaId: options.replicaId ?? -1,
      replicaState: { replicaId: options.replicaId ?? -1, replicaEpoch: -1n },
      maxWaitMs: options.maxWaitMs ?? 0,
      minBytes: 1,
      maxBytes: 1024 * 1024,
      isolationLevel: READ_UNCOMMITTED,
      sessionId: 0,
      sessionEpoch: -1,
      topics: topics.map(({ topic, topicId, partitions }) => ({
        topic,
        topicId: topicId ?? ZERO_UUID,
        partitions: partitions.map((partition) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset: 0n,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: 1000,
          replicaDirectoryId: ZERO_UUID,
        })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    });
    return response.responses.flatMap((t) =>
      t.partitions.map((p) => [
        t.topic,
        p.partitionIndex,
        p.errorCode,
        Number(p.highWatermark),
        p.records === null ? 0 : Buffer.concat([p.records].flat()).length,
      ]),
    );
  }

  test('a topic without READ: TOPIC_AUTHORIZATION_FAILED and no records; readable topics are read', async () => {
    const batchBytes = PLAIN_BATCH().length;
    assert.deepEqual(
      await fetchFrom([
        { topic: TOPIC, partitions: [0, 1] },
        { topic: 'secret', partitions: [0] },
        // Whether a topic exists is not told to who may not read it.
        { topic: 'missing', partitions: [0] },
      ]),
      [
        [TOPIC, 0, ErrorCode.NONE, 2, batchBytes],
        [TOPIC, 1, ErrorCode.NONE, 2, batchBytes],
        ['secret', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, 0],
        ['missing', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, 0],
      ],
    );
    assert.deepEqual(authorizer.asked, [
      [READ, ResourceType.TOPIC, TOPIC],
      [READ, ResourceType.TOPIC, 'secret'],
      [READ, ResourceType.TOPIC, 'missing'],
    ]);
  });

  test('an unknown topic id is UNKNOWN_TOPIC_ID before any authorization (v13+)', async () => {
    assert.deepEqual(
      await fetchFrom([{ topic: '', topicId: UNKNOWN_TOPIC_ID, partitions: [0] }], { version: 13 }),
      [['', 0, ErrorCode.UNKNOWN_TOPIC_ID, -1, 0]],
    );
    assert.deepEqual(authorizer.asked, []);
  });

  test('a follower fetch needs CLUSTER_ACTION on the cluster, else every partition is refused', async () => {
    const request = [{ topic: TOPIC, partitions: [0] }];
    assert.deepEqual(await fetchFrom(request, { replicaId: 2 }), [
      [TOPIC, 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, 0],
    ]);
    assert.deepEqual(authorizer.asked, [
      [AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME],
    ]);
    authorizer.allowed.push([AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME]);
    try {
      // Authorized, it meets what this broker answers every follower.
      assert.deepEqual(await fetchFrom(request, { replicaId: 2 }), [
        [TOPIC, 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, -1, 0],
      ]);
    } finally {
      authorizer.allowed.pop();
    }
  });
});
