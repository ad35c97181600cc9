import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrokerConfig } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { GroupCoordinator, ManualScheduler } from '../coordinator/index.js';
import { ErrorCode } from '../protocol/errors.js';
import { decodeRecordBatches } from '../protocol/records/index.js';
import { PartitionLog, releaseRead } from '../storage/index.js';
import { testConfig, withTempDir } from '../storage/test-support.js';
import type { Controller } from './controller.js';
import { OFFSETS_TOPIC, OffsetsTopic } from './offsets-topic.js';
import type { ReplicaManager } from './replica-manager.js';

const PRODUCER = 321;
const SILENT = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/** A coordinator whose single offsets partition is `log`, loaded through OffsetsTopic as the broker does. */
async function coordinatorOver(log: PartitionLog) {
  const hosted = {
    topic: OFFSETS_TOPIC,
    partition: 0,
    topicId: 'offsets-id',
    state: { leaderEpoch: 0 },
    log,
  };
  const replicaManager = {
    get: (topic: string, partition: number) =>
      topic === OFFSETS_TOPIC && partition === 0 ? hosted : undefined,
    isLeader: () => true,
    hostedPartitions: () => [hosted],
  } as unknown as ReplicaManager;
  const config = { offsetsTopicNumPartitions: 1 } as BrokerConfig;
  const offsetsTopic = new OffsetsTopic(config, replicaManager, {} as Controller, SILENT);
  const coordinator = new GroupCoordinator({
    log: offsetsTopic,
    scheduler: new ManualScheduler(1_000_000),
    config: { offsetsTopicPartitions: 1 },
  });
  coordinator.start();
  offsetsTopic.attach(coordinator);
  offsetsTopic.syncLeadership();
  for (let attempt = 0; coordinator.ownedPartitions().get(0)?.loading !== false; attempt++) {
    assert.ok(attempt < 200, 'the partition loads');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return coordinator;
}

function entry(partition: number, offset: number) {
  return { topic: 't', partition, offset, leaderEpoch: -1, metadata: '' };
}

async function offsetsOf(coordinator: GroupCoordinator, requireStable: boolean) {
  const result = await coordinator.fetchOffsets('g', [{ topic: 't', partitions: [0, 1, 2] }], requireStable);
  return result.topics[0]!.partitions.map((p) => [p.offset, p.errorCode]);
}

async function writeMarker(log: PartitionLog, coordinator: GroupCoordinator, commit: boolean) {
  await log.appendTransactionMarker(
    { producerId: PRODUCER, producerEpoch: 0, coordinatorEpoch: 0, commit },
    0,
  );
  coordinator.completeTransaction(0, PRODUCER, commit);
}

describe('OffsetsTopic', () => {
  test('transactional offsets are one transactional batch; markers are replayed after a restart', async () => {
    await withTempDir(async (dir) => {
      const config = testConfig({ cleanupPolicy: 'compact' });
      let log = await PartitionLog.open(dir, config);
      let coordinator = await coordinatorOver(log);
      const txn = (offsets: ReturnType<typeof entry>[]) =>
        coordinator.commitTransactionalOffsets({
          transactionalId: 'txn',
          groupId: 'g',
          producerId: PRODUCER,
          producerEpoch: 0,
          generationId: -1,
          memberId: '',
          groupInstanceId: null,
          offsets,
        });
      const plain = (offsets: ReturnType<typeof entry>[]) =>
        coordinator.commitOffsets({
          groupId: 'g',
          generationId: -1,
          memberId: '',
          groupInstanceId: null,
          offsets,
        });

      assert.deepEqual(
        (await plain([entry(0, 1), entry(1, 1), entry(2, 1)])).map((r) => r.errorCode),
        [0, 0, 0],
      );
      assert.deepEqual(
        (await txn([entry(0, 10), entry(1, 10)])).map((r) => r.errorCode),
        [0, 0],
      );
      await writeMarker(log, coordinator, true);
      assert.deepEqual(
        (await txn([entry(1, 20)])).map((r) => r.errorCode),
        [0],
      );
      await writeMarker(log, coordinator, false);
      assert.deepEqual(
        (await txn([entry(2, 30)])).map((r) => r.errorCode),
        [0],
      );

      const read = await log.read(0, 1_048_576, { maxOffset: log.highWatermark });
      const batches = decodeRecordBatches(Buffer.concat(read.chunks));
      releaseRead(read);
      assert.deepEqual(
        batches.map((b) => [b.records.length, b.isTransactional, b.isControl, b.producerId, b.baseSequence]),
        [
          [3, false, false, -1, -1],
          [2, true, false, PRODUCER, -1],
          [1, true, true, PRODUCER, -1],
          [1, true, false, PRODUCER, -1],
          [1, true, true, PRODUCER, -1],
          [1, true, false, PRODUCER, -1],
        ],
      );
      const before = await offsetsOf(coordinator, true);
      assert.deepEqual(before, [
        [10, ErrorCode.NONE],
        [10, ErrorCode.NONE],
        [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      ]);

      coordinator.shutdown();
      await log.close();
      log = await PartitionLog.open(dir, config);
      coordinator = await coordinatorOver(log);
      assert.deepEqual(await offsetsOf(coordinator, true), before);
      assert.deepEqual(await offsetsOf(coordinator, false), [
        [10, ErrorCode.NONE],
        [10, ErrorCode.NONE],
        [1, ErrorCode.NONE],
      ]);
      await writeMarker(log, coordinator, true);
      assert.deepEqual(await offsetsOf(coordinator, true), [
        [10, ErrorCode.NONE],
        [10, ErrorCode.NONE],
        [30, ErrorCode.NONE],
      ]);
      coordinator.shutdown();
      await log.close();
    });
  });
});
