import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { loadBrokerConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { EmbeddedMetadataStore } from '../metadata/index.js';
import { ErrorCode } from '../protocol/errors.js';
import { Controller, type TopicSpec } from './controller.js';
import type { ReplicaManager } from './replica-manager.js';

let dataDir: string;
let store: EmbeddedMetadataStore;
let controller: Controller;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-controller-'));
  store = await EmbeddedMetadataStore.open(dataDir, { nodeId: 0 });
  await store.registerBroker({ nodeId: 0, host: '127.0.0.1', port: 9092, rack: null });
  // No logs are opened here: these tests are about the answers, not the files.
  const replicaManager = { syncWithMetadata: async () => {} } as unknown as ReplicaManager;
  controller = new Controller(loadBrokerConfig(), store, replicaManager, createLogger({ level: 'silent' }));
});

afterEach(async () => {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

const spec = (name: string): TopicSpec => ({
  name,
  numPartitions: 1,
  replicationFactor: 1,
  assignments: new Map(),
  configs: {},
});

test('a name colliding with an existing topic is INVALID_TOPIC_EXCEPTION, for CreateTopics and auto-creation', async () => {
  assert.equal((await controller.createTopic(spec('orders.eu'), false)).errorCode, ErrorCode.NONE);
  const created = await controller.createTopic(spec('orders_eu'), false);
  assert.deepEqual(
    [created.errorCode, created.errorMessage, created.topic, created.numPartitions],
    [
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      "Topic 'orders_eu' collides with existing topic: orders.eu ('.' and '_' are treated alike).",
      null,
      -1,
    ],
  );
  assert.equal((await controller.autoCreateTopic('orders_eu')).errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  const validated = await controller.createTopic(spec('orders_eu'), true);
  assert.deepEqual([validated.errorCode, validated.errorMessage], [created.errorCode, created.errorMessage]);
  assert.deepEqual(
    store.listTopics().map((t) => t.name),
    ['orders.eu'],
  );
});

test('two concurrent creations of one topic: one creates it, the other is TOPIC_ALREADY_EXISTS', async () => {
  const results = await Promise.all([
    controller.createTopic(spec('race'), false),
    controller.createTopic(spec('race'), false),
  ]);
  assert.deepEqual(
    results.map((r) => r.errorCode).sort((a, b) => a - b),
    [ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS],
  );
  assert.equal((await controller.autoCreateTopic('race')).errorCode, ErrorCode.NONE);
});

test('concurrent creations of colliding names and concurrent deletions of one topic get answers, not faults', async () => {
  const created = await Promise.all([
    controller.createTopic(spec('metrics.eu'), false),
    controller.createTopic(spec('metrics_eu'), false),
  ]);
  assert.deepEqual(
    created.map((r) => r.errorCode),
    [ErrorCode.NONE, ErrorCode.INVALID_TOPIC_EXCEPTION],
  );
  const deleted = await Promise.all([
    controller.deleteTopic('metrics.eu'),
    controller.deleteTopic('metrics.eu'),
  ]);
  assert.deepEqual(
    deleted.map((r) => r.errorCode),
    [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
  );
  assert.deepEqual(store.listTopics(), []);
});

test('more than 10,000 partitions at once is POLICY_VIOLATION, before any is placed', async () => {
  const huge = await controller.createTopic({ ...spec('huge'), numPartitions: 2 ** 31 - 1 }, false);
  assert.deepEqual(
    [huge.errorCode, huge.errorMessage],
    [ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
  );
  assert.equal((await controller.createTopic(spec('grown'), false)).errorCode, ErrorCode.NONE);
  const grown = await controller.createPartitions('grown', 10_002, null, false);
  assert.equal(grown.errorCode, ErrorCode.POLICY_VIOLATION);
  assert.equal(store.getTopic('grown')?.partitions.length, 1);
  assert.equal(store.getTopic('huge'), undefined);
});

test('creations past the partition capacity are refused with a readable POLICY_VIOLATION, validateOnly too', async () => {
  const replicaManager = { syncWithMetadata: async () => {} } as unknown as ReplicaManager;
  const limited = new Controller(
    loadBrokerConfig(),
    store,
    replicaManager,
    createLogger({ level: 'silent' }),
    {
      partitionCapacity: 10,
    },
  );
  assert.equal(
    (await limited.createTopic({ ...spec('six'), numPartitions: 6 }, false)).errorCode,
    ErrorCode.NONE,
  );
  const refused = await limited.createTopic({ ...spec('five'), numPartitions: 5 }, true);
  assert.equal(refused.errorCode, ErrorCode.POLICY_VIOLATION);
  assert.match(
    refused.errorMessage ?? '',
    /cannot host 5 more partitions: it would hold 11, .* can hold 10 .*ulimit -n/,
  );
  // Concurrent creations count each other's partitions before either is in the metadata.
  const both = await Promise.all([
    limited.createTopic({ ...spec('two'), numPartitions: 2 }, false),
    limited.createTopic({ ...spec('three'), numPartitions: 3 }, false),
  ]);
  assert.deepEqual(
    both.map((r) => r.errorCode),
    [ErrorCode.NONE, ErrorCode.POLICY_VIOLATION],
  );
  assert.equal((await limited.createPartitions('six', 9, null, false)).errorCode, ErrorCode.POLICY_VIOLATION);
  assert.equal((await limited.createPartitions('six', 8, null, false)).errorCode, ErrorCode.NONE);
  assert.equal(limited.hostedPartitions(), 10);
  assert.equal((await limited.autoCreateTopic('auto')).errorCode, ErrorCode.POLICY_VIOLATION);
});
