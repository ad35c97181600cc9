// Cluster and BrokerConnection against a real Sluice broker process: negotiation, metadata cache and refresh,
// pooled connections, coordinator lookup, reconnection through retry().
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Admin, ClientClosedError, Cluster, StaleMetadataError } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MetadataApi } from '../../src/protocol/generated/index.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';

let broker: Broker;
let admin: Admin;
const clusters: Cluster[] = [];

function newCluster(overrides: { metadataMaxAgeMs?: number } = {}): Cluster {
  const cluster = new Cluster({
    bootstrap: [`127.0.0.1:1`, broker.bootstrap],
    connectTimeoutMs: 2_000,
    requestTimeoutMs: 10_000,
    retry: { retries: 5, initialBackoffMs: 20, maxBackoffMs: 200 },
    ...overrides,
  });
  clusters.push(cluster);
  return cluster;
}

before(async () => {
  broker = await startBroker();
  admin = new Admin({ bootstrap: broker.bootstrap });
  await admin.connect();
});

after(async () => {
  await Promise.all(clusters.map((c) => c.close()));
  await admin?.close();
  await disposeAllBrokers();
});

describe('Cluster against a broker', () => {
  test('connect skips an unreachable bootstrap entry and loads brokers, controller and cluster id', async () => {
    const cluster = newCluster();
    await cluster.connect();
    const { brokers, controllerId, clusterId, topics } = cluster.metadata;
    assert.equal(brokers.size, 1);
    const [only] = [...brokers.values()];
    assert.deepEqual({ host: only!.host, port: only!.port }, { host: '127.0.0.1', port: broker.port });
    assert.equal(controllerId, only!.nodeId);
    assert.ok(clusterId !== null && clusterId.length > 0);
    assert.equal(topics.size, 0);
  });

  test('the negotiated Metadata version is the highest both support', async () => {
    const cluster = newCluster();
    await cluster.connect();
    const connection = await cluster.anyConnection();
    assert.equal(connection.apiVersions.get(MetadataApi.key)?.max, 12);
    assert.equal(connection.versionFor(MetadataApi), 12);
    assert.equal(connection.versionFor(MetadataApi, 9), 9);
  });

  test('topic(), leaderConnection() and the connection pool', async () => {
    const cluster = newCluster();
    await cluster.connect();
    const name = `cluster-${randomUUID().slice(0, 8)}`;
    await assert.rejects(
      cluster.topic(name),
      (error) =>
        error instanceof StaleMetadataError &&
        error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION &&
        error.topic === name,
    );
    await admin.createTopics([{ topic: name, numPartitions: 2 }]);
    const info = await cluster.topic(name);
    assert.deepEqual(
      info.partitions.map((p) => p.partition),
      [0, 1],
    );
    const leader = await cluster.leaderConnection(name, 1);
    assert.equal(leader.nodeId, info.partitions[1]!.leader);
    assert.equal(await cluster.connection(leader.nodeId), leader, 'one pooled connection per broker');
    await assert.rejects(
      cluster.leaderConnection(name, 2),
      (error) => error instanceof StaleMetadataError && error.partition === 2,
    );
  });

  test('coordinator() finds and caches the group coordinator', async () => {
    const cluster = newCluster();
    await cluster.connect();
    const first = await cluster.retry(() => cluster.coordinator('cluster-group'));
    assert.equal(first.nodeId, [...cluster.metadata.brokers.keys()][0]);
    assert.equal(await cluster.coordinator('cluster-group'), first);
    cluster.invalidateCoordinator('cluster-group');
    assert.equal(await cluster.coordinator('cluster-group'), first);
  });

  test('the periodic refresh picks up partition changes of cached topics', async () => {
    const cluster = newCluster({ metadataMaxAgeMs: 100 });
    await cluster.connect();
    const name = `cluster-refresh-${randomUUID().slice(0, 8)}`;
    await admin.createTopics([{ topic: name, numPartitions: 1 }]);
    assert.equal((await cluster.topic(name)).partitions.length, 1);
    await admin.createPartitions([{ topic: name, count: 3 }]);
    const deadline = Date.now() + 3_000;
    while (cluster.metadata.topics.get(name)?.partitions.length !== 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(cluster.metadata.topics.get(name)?.partitions.length, 3);
  });

  test('refreshMetadata(null) loads every topic; concurrent identical refreshes share one request', async () => {
    const cluster = newCluster();
    await cluster.connect();
    const name = `cluster-all-${randomUUID().slice(0, 8)}`;
    await admin.createTopics([{ topic: name, numPartitions: 1 }]);
    const [a, b] = [cluster.refreshMetadata(null), cluster.refreshMetadata(null)];
    assert.equal(a, b);
    assert.ok((await a).topics.has(name));
  });

  test('a lost connection is re-established by the next attempt of retry()', async () => {
    const cluster = newCluster();
    await cluster.connect();
    const nodeId = [...cluster.metadata.brokers.keys()][0]!;
    const pooled = await cluster.connection(nodeId);
    (pooled as unknown as { socket: { destroy(): void } }).socket.destroy();
    for (let i = 0; i < 100 && pooled.isConnected; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(pooled.isConnected, false);
    let attempts = 0;
    const response = await cluster.retry(async () => {
      attempts++;
      const conn = attempts === 1 ? pooled : await cluster.connection(nodeId);
      return conn.send(MetadataApi, {
        topics: [],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
    });
    assert.equal(attempts, 2);
    assert.equal(response.brokers.length, 1);
    assert.equal(pooled.isConnected, true);
  });

  test('close() closes connections and refuses later use', async () => {
    const cluster = newCluster();
    await cluster.connect();
    const connection = await cluster.connection([...cluster.metadata.brokers.keys()][0]!);
    await cluster.close();
    assert.equal(connection.isConnected, false);
    await assert.rejects(cluster.topic('anything'), ClientClosedError);
    await assert.rejects(cluster.anyConnection(), ClientClosedError);
  });
});
