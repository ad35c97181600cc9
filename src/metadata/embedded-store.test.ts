import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import { isUuid } from '../protocol/primitives/uuid.js';
import { crc32c } from '../protocol/records/crc.js';
import { newPartitionRecords } from './assign-replicas.js';
import { EmbeddedMetadataStore, METADATA_DIR, SNAPSHOT_FILE } from './embedded-store.js';
import {
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidReplicaAssignmentError,
  InvalidTopicError,
  MetadataBusyError,
  MetadataCorruptError,
  MetadataIdentityError,
  MetadataUnavailableError,
  ProducerIdsExhaustedError,
  StaleEpochError,
  TopicExistsError,
  UnknownPartitionError,
  UnknownTopicError,
} from './errors.js';
import type {
  AclRecord,
  MetadataEvent,
  NewTopic,
  ScramCredentialRecord,
  ScramMechanismName,
} from './types.js';

let dataDir: string;
const stores: EmbeddedMetadataStore[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-metadata-'));
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function open(options: Parameters<typeof EmbeddedMetadataStore.open>[1] = {}) {
  const store = await EmbeddedMetadataStore.open(dataDir, options);
  stores.push(store);
  return store;
}

function newTopic(name: string, partitionCount = 2, configs: Record<string, string> = {}): NewTopic {
  const assignments = Array.from({ length: partitionCount }, () => [0]);
  return { name, partitions: newPartitionRecords(assignments), configs, internal: false };
}

const snapshotPath = () => join(dataDir, METADATA_DIR, SNAPSHOT_FILE);

describe('identity', () => {
  test('first open generates and keeps a cluster id; controller is this node', async () => {
    const first = await open({ nodeId: 3 });
    assert.ok(isUuid(first.clusterId()));
    assert.equal(first.controllerId(), 3);
    await first.close();
    const second = await open({ nodeId: 3 });
    assert.equal(second.clusterId(), first.clusterId());
    const meta = await readFile(join(dataDir, METADATA_DIR, 'meta.properties'), 'utf8');
    assert.match(meta, /^node\.id=3$/m);
    assert.match(meta, new RegExp(`^cluster\\.id=${first.clusterId()}$`, 'm'));
  });

  test('a configured cluster id is used, and must match later', async () => {
    const store = await open({ clusterId: 'my-cluster' });
    assert.equal(store.clusterId(), 'my-cluster');
    await store.close();
    await assert.rejects(open({ clusterId: 'other' }), MetadataIdentityError);
    assert.equal((await open({})).clusterId(), 'my-cluster');
  });

  test('refuses a data directory of another node id', async () => {
    await (await open({ nodeId: 1 })).close();
    await assert.rejects(open({ nodeId: 2 }), {
      name: 'MetadataIdentityError',
      message: `Data directory ${dataDir} belongs to node 1, but this broker is node.id 2. Use that node id or another data directory.`,
    });
  });
});

describe('topics', () => {
  test('create, look up by name and id, list', async () => {
    const store = await open();
    const before = Date.now();
    const created = await store.createTopic(newTopic('orders', 3, { 'retention.ms': '1000' }));
    assert.ok(isUuid(created.topicId));
    assert.ok(created.createdAtMs >= before && created.createdAtMs <= Date.now());
    assert.deepEqual(created.partitions, newPartitionRecords([[0], [0], [0]]));
    assert.deepEqual(created.configs, { 'retention.ms': '1000' });
    assert.equal(store.getTopic('orders'), created);
    assert.equal(store.getTopicById(created.topicId), created);
    await store.createTopic(newTopic('audit'));
    assert.deepEqual(
      store.listTopics().map((t) => t.name),
      ['audit', 'orders'],
    );
    assert.equal(store.getTopic('nope'), undefined);
  });

  test('records handed out are frozen', async () => {
    const store = await open();
    const topic = await store.createTopic(newTopic('t'));
    assert.throws(() => {
      (topic.partitions[0]!.isr as number[]).push(7);
    }, TypeError);
    assert.throws(() => {
      (topic.configs as Record<string, string>)['retention.ms'] = '1';
    }, TypeError);
  });

  test('create rejects existing, illegal, colliding names and bad partitions or configs', async () => {
    const store = await open();
    await store.createTopic(newTopic('a.b'));
    await assert.rejects(store.createTopic(newTopic('a.b')), TopicExistsError);
    const collision = await store.createTopic(newTopic('a_b')).catch((e: unknown) => e);
    assert.ok(collision instanceof InvalidTopicError);
    assert.equal(collision.code, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal(
      collision.message,
      "Topic 'a_b' collides with existing topic: a.b ('.' and '_' are treated alike).",
    );
    await assert.rejects(store.createTopic(newTopic('bad name')), InvalidTopicError);
    await assert.rejects(store.createTopic(newTopic('empty', 0)), InvalidPartitionsError);
    const gap = newTopic('gap', 2);
    gap.partitions[1]!.partition = 5;
    await assert.rejects(store.createTopic(gap), InvalidPartitionsError);
    const duplicateReplicas = newTopic('dup', 1);
    duplicateReplicas.partitions[0]!.replicas = [0, 0];
    await assert.rejects(store.createTopic(duplicateReplicas), InvalidReplicaAssignmentError);
    const strangeLeader = newTopic('leader', 1);
    strangeLeader.partitions[0]!.leader = 9;
    await assert.rejects(store.createTopic(strangeLeader), InvalidReplicaAssignmentError);
    await assert.rejects(store.createTopic(newTopic('cfg', 1, { 'segment.bytes': '1' })), {
      name: 'InvalidConfigError',
      code: ErrorCode.INVALID_CONFIG,
      message: 'Invalid value 1 for configuration segment.bytes: expected an integer in [14, 2147483647]',
    });
    assert.deepEqual(
      store.listTopics().map((t) => t.name),
      ['a.b'],
    );
  });

  test('delete', async () => {
    const store = await open();
    const created = await store.createTopic(newTopic('gone'));
    assert.equal(await store.deleteTopic('gone'), created);
    assert.equal(store.getTopic('gone'), undefined);
    assert.equal(store.getTopicById(created.topicId), undefined);
    await assert.rejects(store.deleteTopic('gone'), UnknownTopicError);
  });

  test('createPartitions continues the numbering', async () => {
    const store = await open();
    await store.createTopic(newTopic('grow', 2));
    const grown = await store.createPartitions('grow', newPartitionRecords([[0], [0]], 2));
    assert.deepEqual(
      grown.partitions.map((p) => p.partition),
      [0, 1, 2, 3],
    );
    await assert.rejects(
      store.createPartitions('grow', newPartitionRecords([[0]], 5)),
      InvalidPartitionsError,
    );
    await assert.rejects(store.createPartitions('grow', []), InvalidPartitionsError);
    await assert.rejects(store.createPartitions('missing', newPartitionRecords([[0]], 1)), UnknownTopicError);
  });

  test('alterTopicConfigs replaces the override set', async () => {
    const store = await open();
    await store.createTopic(newTopic('c', 1, { 'retention.ms': '1000', 'cleanup.policy': 'compact' }));
    const altered = await store.alterTopicConfigs('c', { 'segment.ms': '5000' });
    assert.deepEqual(altered.configs, { 'segment.ms': '5000' });
    await assert.rejects(store.alterTopicConfigs('c', { 'no.such': '1' }), InvalidConfigError);
    assert.deepEqual(store.getTopic('c')!.configs, { 'segment.ms': '5000' });
  });

  test('updatePartition checks the partition and refuses older epochs', async () => {
    const store = await open();
    await store.createTopic({ ...newTopic('p', 1), partitions: newPartitionRecords([[0, 1]]) });
    await store.updatePartition('p', {
      partition: 0,
      replicas: [0, 1],
      leader: 1,
      leaderEpoch: 1,
      isr: [1],
      partitionEpoch: 1,
    });
    assert.deepEqual(store.getTopic('p')!.partitions[0], {
      partition: 0,
      replicas: [0, 1],
      leader: 1,
      leaderEpoch: 1,
      isr: [1],
      partitionEpoch: 1,
    });
    const stale = { partition: 0, replicas: [0, 1], leader: 0, leaderEpoch: 0, isr: [0], partitionEpoch: 2 };
    await assert.rejects(store.updatePartition('p', stale), StaleEpochError);
    await assert.rejects(
      store.updatePartition('p', { ...stale, partition: 1, leaderEpoch: 2 }),
      UnknownPartitionError,
    );
    await assert.rejects(store.updatePartition('q', stale), UnknownTopicError);
  });
});

describe('brokers', () => {
  test('register adds or replaces by node id', async () => {
    const store = await open();
    await store.registerBroker({ nodeId: 1, host: 'b', port: 9093, rack: null });
    await store.registerBroker({ nodeId: 0, host: 'a', port: 9092, rack: 'r1' });
    await store.registerBroker({ nodeId: 1, host: 'b2', port: 9094, rack: null });
    assert.deepEqual(store.listBrokers(), [
      { nodeId: 0, host: 'a', port: 9092, rack: 'r1' },
      { nodeId: 1, host: 'b2', port: 9094, rack: null },
    ]);
  });

  test('endpoints per listener are kept, compared and survive reopening', async () => {
    const store = await open();
    const broker = {
      nodeId: 0,
      host: '127.0.0.1',
      port: 9092,
      rack: null,
      endpoints: [
        { listener: 'PLAINTEXT', host: '127.0.0.1', port: 9092 },
        { listener: 'SASL_SSL', host: 'broker.example.com', port: 9094 },
      ],
    };
    await store.registerBroker(broker);
    const writes = store.snapshotWrites;
    await store.registerBroker(structuredClone(broker));
    assert.equal(store.snapshotWrites, writes, 'the same endpoints again: nothing to write');
    const moved = { ...broker, endpoints: [broker.endpoints[0]!, { ...broker.endpoints[1]!, port: 9095 }] };
    await store.registerBroker(moved);
    assert.equal(store.snapshotWrites, writes + 1, 'a changed endpoint is written');
    const listed = store.listBrokers()[0]!;
    assert.deepEqual(listed, moved);
    assert.ok(Object.isFrozen(listed.endpoints) && Object.isFrozen(listed.endpoints![1]));
    assert.notEqual(listed.endpoints, moved.endpoints, 'the store keeps its own copy');
    await store.close();
    assert.deepEqual((await open()).listBrokers(), [moved]);
  });

  test('endpoints must have distinct listener names and valid addresses', async () => {
    const store = await open();
    const base = { nodeId: 0, host: 'h', port: 1, rack: null };
    assert.throws(
      () =>
        store.registerBroker({
          ...base,
          endpoints: [
            { listener: 'A', host: 'h', port: 1 },
            { listener: 'A', host: 'h', port: 2 },
          ],
        }),
      /repeated listener name "A"/,
    );
    assert.throws(
      () => store.registerBroker({ ...base, endpoints: [{ listener: 'A', host: 'h', port: 0 }] }),
      /bad broker port 0/,
    );
  });
});

describe('durability', () => {
  test('state survives reopening', async () => {
    const store = await open();
    const kept = await store.createTopic(newTopic('kept', 2, { 'cleanup.policy': 'compact' }));
    await store.createTopic(newTopic('dropped'));
    await store.deleteTopic('dropped');
    await store.createPartitions('kept', newPartitionRecords([[0]], 2));
    await store.registerBroker({ nodeId: 0, host: 'localhost', port: 9092, rack: null });
    await store.close();

    const reopened = await open();
    assert.deepEqual(reopened.listTopics(), [{ ...kept, partitions: newPartitionRecords([[0], [0], [0]]) }]);
    assert.deepEqual(reopened.getTopicById(kept.topicId)?.name, 'kept');
    assert.deepEqual(reopened.listBrokers(), [{ nodeId: 0, host: 'localhost', port: 9092, rack: null }]);
  });

  test('a leftover temp file from a crashed write is ignored and removed', async () => {
    const store = await open();
    await store.createTopic(newTopic('t'));
    await store.close();
    const leftover = join(dataDir, METADATA_DIR, `${SNAPSHOT_FILE}.tmp-999-1`);
    await writeFile(leftover, '{"half written');
    const reopened = await open();
    assert.deepEqual(
      reopened.listTopics().map((t) => t.name),
      ['t'],
    );
    assert.deepEqual((await readdir(join(dataDir, METADATA_DIR))).sort(), [
      'meta.properties',
      'metadata.json',
    ]);
  });

  test('a half-initialised directory from a crashed first start is discarded', async () => {
    await rm(dataDir, { recursive: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dataDir, `${METADATA_DIR}.init-1-2`), { recursive: true });
    const store = await open();
    assert.deepEqual(store.listTopics(), []);
    assert.deepEqual((await readdir(dataDir)).sort(), [METADATA_DIR]);
  });

  test('partition data without metadata is refused', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dataDir, 'orders-0'));
    await assert.rejects(EmbeddedMetadataStore.open(dataDir), {
      name: 'MetadataCorruptError',
      message: new RegExp(`^Data directory ${dataDir} holds partition data \\(orders-0\\) but no __metadata`),
    } as never);
  });

  test('a corrupt snapshot is a clear error, never an empty start', async () => {
    const store = await open();
    await store.createTopic(newTopic('precious'));
    await store.close();
    const good = await readFile(snapshotPath());

    const cases: [Buffer, RegExp][] = [
      [good.subarray(0, good.length - 5), /corrupt: body is \d+ bytes, header says \d+/],
      [
        Buffer.concat([good.subarray(0, good.length - 3), Buffer.from('X'), good.subarray(good.length - 2)]),
        /corrupt: checksum mismatch/,
      ],
      [Buffer.from('garbage'), /corrupt: no header line/],
      [Buffer.alloc(0), /corrupt: no header line/],
    ];
    for (const [content, reason] of cases) {
      await writeFile(snapshotPath(), content);
      const error = await EmbeddedMetadataStore.open(dataDir).catch((e: unknown) => e);
      assert.ok(error instanceof MetadataCorruptError, String(error));
      assert.match(error.message, new RegExp(`^Metadata snapshot ${snapshotPath()} is `));
      assert.match(error.message, reason);
      assert.match(error.message, /Refusing to start/);
    }
    await rm(snapshotPath());
    await assert.rejects(EmbeddedMetadataStore.open(dataDir), {
      name: 'MetadataCorruptError',
      message: new RegExp(`Cannot read the metadata snapshot ${snapshotPath()} \\(ENOENT\\)`),
    } as never);
  });

  test('a failed disk write is reported and later writes are refused', async () => {
    const store = await open();
    await rm(join(dataDir, METADATA_DIR), { recursive: true });
    await assert.rejects(store.createTopic(newTopic('x')), MetadataUnavailableError);
    assert.equal(store.getTopic('x'), undefined);
    await assert.rejects(store.createTopic(newTopic('y')), /An earlier metadata write failed/);
  });
});

describe('write queue', () => {
  test('concurrent writes are applied one at a time, in call order', async () => {
    const store = await open();
    const events: string[] = [];
    store.onChange((event) => {
      if (event.type === 'topic-created') events.push(event.topic.name);
    });
    const names = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const results = await Promise.allSettled([
      ...names.map((name) => store.createTopic(newTopic(name, 1))),
      store.createTopic(newTopic('t05', 1)),
      store.alterTopicConfigs('t00', { 'retention.ms': '1' }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      [...names.map(() => 'fulfilled'), 'rejected', 'fulfilled'],
    );
    assert.ok((results[20] as PromiseRejectedResult).reason instanceof TopicExistsError);
    assert.deepEqual(events, names);
    await store.close();
    const reopened = await open();
    assert.deepEqual(
      reopened.listTopics().map((t) => t.name),
      names,
    );
    assert.deepEqual(reopened.getTopic('t00')!.configs, { 'retention.ms': '1' });
  });

  test('writes queued while one is on disk share one snapshot write', async () => {
    const store = await open();
    const before = store.snapshotWrites;
    await store.createTopic(newTopic('first', 1));
    assert.equal(store.snapshotWrites, before + 1);
    // Queued in one turn: one group. A refused change fails alone and costs no write.
    const results = await Promise.allSettled([
      store.createTopic(newTopic('a', 1)),
      store.createTopic(newTopic('first', 1)),
      store.createTopic(newTopic('b', 1)),
      store.registerBroker({ nodeId: 0, host: '127.0.0.1', port: 9092, rack: null }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.equal(store.snapshotWrites, before + 2);
    // Nothing changed: nothing written.
    await Promise.allSettled([store.createTopic(newTopic('a', 1)), store.createTopic(newTopic('b', 1))]);
    assert.equal(store.snapshotWrites, before + 2);
    await store.close();
    assert.deepEqual(
      (await open()).listTopics().map((t) => t.name),
      ['a', 'b', 'first'],
    );
  });

  test('the queue is bounded', async () => {
    const store = await open({ maxPendingWrites: 2 });
    const first = store.createTopic(newTopic('a'));
    const second = store.createTopic(newTopic('b'));
    await assert.rejects(store.createTopic(newTopic('c')), MetadataBusyError);
    await Promise.all([first, second]);
    await store.createTopic(newTopic('d'));
    assert.deepEqual(
      store.listTopics().map((t) => t.name),
      ['a', 'b', 'd'],
    );
  });

  test('close waits for queued writes, then refuses writes', async () => {
    const store = await open();
    const pending = store.createTopic(newTopic('late'));
    await store.close();
    assert.equal((await pending).name, 'late');
    await assert.rejects(store.createTopic(newTopic('after')), MetadataUnavailableError);
  });
});

describe('change events', () => {
  test('one event per change, after it is visible; unsubscribe stops them', async () => {
    const store = await open();
    const events: MetadataEvent[] = [];
    const unsubscribe = store.onChange((event) => {
      if (event.type === 'topic-created') assert.equal(store.getTopic(event.topic.name), event.topic);
      events.push(event);
    });
    store.onChange(() => {
      throw new Error('a broken listener');
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);

    const created = await store.createTopic(newTopic('e', 1));
    const grown = await store.createPartitions('e', newPartitionRecords([[0]], 1));
    const altered = await store.alterTopicConfigs('e', { 'retention.ms': '5' });
    const moved = { partition: 0, replicas: [0], leader: 0, leaderEpoch: 1, isr: [0], partitionEpoch: 1 };
    await store.updatePartition('e', moved);
    await store.registerBroker({ nodeId: 0, host: 'h', port: 1, rack: null });
    await store.registerBroker({ nodeId: 0, host: 'h', port: 1, rack: null });
    await store.deleteTopic('e');
    unsubscribe();
    await store.createTopic(newTopic('unseen', 1));

    assert.deepEqual(
      events.map((e) => e.type),
      [
        'topic-created',
        'partitions-created',
        'topic-configs-altered',
        'partition-updated',
        'broker-registered',
        'topic-deleted',
      ],
    );
    assert.deepEqual(events[0], { type: 'topic-created', topic: created });
    assert.deepEqual(events[1], { type: 'partitions-created', topic: grown, added: [grown.partitions[1]] });
    assert.deepEqual(events[2], { type: 'topic-configs-altered', topic: altered, previous: grown });
    assert.deepEqual(events[3], {
      type: 'partition-updated',
      topic: { ...altered, partitions: [moved, altered.partitions[1]] },
      partition: moved,
      previous: altered.partitions[0],
    });
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    assert.equal(warnings.filter((w) => w.includes('a broken listener')).length, 7);
  });
});

/** Rewrites the snapshot with `edit` applied to its body, under a valid header (as an older version wrote it). */
async function rewriteSnapshotBody(edit: (body: Record<string, unknown>) => void): Promise<void> {
  const file = await readFile(snapshotPath());
  const newline = file.indexOf(0x0a);
  const header = JSON.parse(file.subarray(0, newline).toString('utf8')) as Record<string, unknown>;
  const body = JSON.parse(file.subarray(newline + 1).toString('utf8')) as Record<string, unknown>;
  edit(body);
  const bodyBytes = Buffer.from(JSON.stringify(body), 'utf8');
  const newHeader = JSON.stringify({ ...header, bodyBytes: bodyBytes.length, crc32c: crc32c(bodyBytes) });
  await writeFile(snapshotPath(), Buffer.concat([Buffer.from(`${newHeader}\n`, 'utf8'), bodyBytes]));
}

describe('producer ids', () => {
  test('blocks follow each other without overlap, from 0', async () => {
    const store = await open();
    assert.deepEqual(await store.allocateProducerIds(10), { firstProducerId: 0, lastProducerId: 9 });
    assert.deepEqual(await store.allocateProducerIds(1), { firstProducerId: 10, lastProducerId: 10 });
    assert.deepEqual(await store.allocateProducerIds(1000), { firstProducerId: 11, lastProducerId: 1010 });
  });

  test('concurrent calls get distinct blocks, made durable by one snapshot write', async () => {
    const store = await open();
    const writesBefore = store.snapshotWrites;
    const blocks = await Promise.all(Array.from({ length: 20 }, () => store.allocateProducerIds(5)));
    assert.equal(store.snapshotWrites, writesBefore + 1);
    assert.deepEqual(
      blocks,
      Array.from({ length: 20 }, (_, i) => ({ firstProducerId: i * 5, lastProducerId: i * 5 + 4 })),
    );
  });

  test('a reopened store continues after the last block handed out', async () => {
    const store = await open();
    await store.allocateProducerIds(1000);
    await store.allocateProducerIds(1000);
    await store.close();
    const reopened = await open();
    assert.deepEqual(await reopened.allocateProducerIds(1000), {
      firstProducerId: 2000,
      lastProducerId: 2999,
    });
    await reopened.close();
    assert.deepEqual(await (await open()).allocateProducerIds(1), {
      firstProducerId: 3000,
      lastProducerId: 3000,
    });
  });

  test('a snapshot written before producer ids existed loads, starting at 0', async () => {
    const store = await open();
    const kept = await store.createTopic(newTopic('kept'));
    await store.allocateProducerIds(7);
    await store.close();
    await rewriteSnapshotBody((body) => {
      assert.equal(body.nextProducerId, 7);
      delete body.nextProducerId;
    });
    const reopened = await open();
    assert.deepEqual(reopened.listTopics(), [kept]);
    assert.deepEqual(await reopened.allocateProducerIds(3), { firstProducerId: 0, lastProducerId: 2 });
    await reopened.close();
    const file = await readFile(snapshotPath(), 'utf8');
    assert.equal(JSON.parse(file.slice(file.indexOf('\n') + 1)).nextProducerId, 3);
  });

  test('a malformed next producer id makes the snapshot corrupt', async () => {
    await (await open()).close();
    for (const bad of [-1, 1.5, '7', null, 2 ** 53]) {
      await rewriteSnapshotBody((body) => {
        body.nextProducerId = bad;
      });
      await assert.rejects(EmbeddedMetadataStore.open(dataDir), {
        name: 'MetadataCorruptError',
        message: `Metadata snapshot ${snapshotPath()} is corrupt: next producer id ${JSON.stringify(bad)} is not a non-negative safe integer. Refusing to start; restore the file from a backup or move the data directory aside.`,
      });
    }
  });

  test('a count that is not a positive integer is refused', async () => {
    const store = await open();
    for (const count of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => store.allocateProducerIds(count), RangeError, String(count));
    }
    assert.deepEqual(await store.allocateProducerIds(1), { firstProducerId: 0, lastProducerId: 0 });
  });

  test('ids stop before numbers lose precision', async () => {
    await (await open()).close();
    const next = Number.MAX_SAFE_INTEGER - 9;
    await rewriteSnapshotBody((body) => {
      body.nextProducerId = next;
    });
    const store = await open();
    await assert.rejects(store.allocateProducerIds(10), ProducerIdsExhaustedError);
    assert.deepEqual(await store.allocateProducerIds(9), {
      firstProducerId: next,
      lastProducerId: Number.MAX_SAFE_INTEGER - 1,
    });
    await assert.rejects(store.allocateProducerIds(1), {
      name: 'ProducerIdsExhaustedError',
      code: ErrorCode.UNKNOWN_SERVER_ERROR,
    });
  });

  test('a closed store refuses to allocate', async () => {
    const store = await open();
    await store.close();
    await assert.rejects(store.allocateProducerIds(1), MetadataUnavailableError);
  });
});

describe('SCRAM credentials', () => {
  const credential = (
    user: string,
    mechanism: ScramMechanismName,
    iterations = 4096,
  ): ScramCredentialRecord => ({
    user,
    mechanism,
    salt: Buffer.from(`salt-${user}`).toString('base64'),
    iterations,
    storedKey: Buffer.from(`stored-${user}-${mechanism}`).toString('base64'),
    serverKey: Buffer.from(`server-${user}-${mechanism}`).toString('base64'),
  });

  test('upserts and deletions apply together, durably, sorted by user and mechanism', async () => {
    const store = await open();
    await store.alterScramCredentials(
      [
        credential('zoe', 'SCRAM-SHA-512'),
        credential('al', 'SCRAM-SHA-512'),
        credential('al', 'SCRAM-SHA-256'),
      ],
      [],
    );
    assert.deepEqual(
      store.listScramCredentials().map((c) => `${c.user}/${c.mechanism}`),
      ['al/SCRAM-SHA-256', 'al/SCRAM-SHA-512', 'zoe/SCRAM-SHA-512'],
    );
    await store.alterScramCredentials(
      [credential('al', 'SCRAM-SHA-256', 8192)],
      [
        { user: 'zoe', mechanism: 'SCRAM-SHA-512' },
        { user: 'nobody', mechanism: 'SCRAM-SHA-256' },
      ],
    );
    assert.equal(store.getScramCredential('al', 'SCRAM-SHA-256')?.iterations, 8192);
    assert.equal(store.getScramCredential('zoe', 'SCRAM-SHA-512'), undefined);
    assert.ok(Object.isFrozen(store.listScramCredentials()[0]));
    const writes = store.snapshotWrites;
    await store.alterScramCredentials([], []);
    assert.equal(store.snapshotWrites, writes);
    await store.close();

    const reopened = await open();
    assert.deepEqual(reopened.listScramCredentials(), [
      credential('al', 'SCRAM-SHA-256', 8192),
      credential('al', 'SCRAM-SHA-512'),
    ]);
  });

  test('a snapshot written before credentials existed loads with none; a malformed one is corrupt', async () => {
    const store = await open();
    await store.alterScramCredentials([credential('al', 'SCRAM-SHA-256')], []);
    await store.close();
    await rewriteSnapshotBody((body) => {
      delete body.scramCredentials;
    });
    const reopened = await open();
    assert.deepEqual(reopened.listScramCredentials(), []);
    await reopened.close();
    await rewriteSnapshotBody((body) => {
      body.scramCredentials = [{ ...credential('al', 'SCRAM-SHA-256'), mechanism: 'SCRAM-MD5' }];
    });
    await assert.rejects(EmbeddedMetadataStore.open(dataDir), /SCRAM credential of "al" is malformed/);
  });
});

describe('ACLs', () => {
  const acl = (resourceName: string, operation = 3): AclRecord => ({
    resourceType: 2,
    resourceName,
    patternType: 3,
    principal: 'User:alice',
    host: '*',
    operation,
    permission: 3,
  });

  test('added once, removed exactly, durable, and a new list object after each change', async () => {
    const store = await open();
    const empty = store.listAcls();
    await store.alterAcls([acl('a'), acl('b'), acl('a')], []);
    const afterAdd = store.listAcls();
    assert.notEqual(afterAdd, empty);
    assert.deepEqual(afterAdd, [acl('a'), acl('b')]);
    assert.ok(Object.isFrozen(afterAdd) && Object.isFrozen(afterAdd[0]));
    await store.alterAcls([], [acl('a', 4)]);
    assert.equal(store.listAcls(), afterAdd, 'removing an absent ACL changes nothing');
    await store.alterAcls([acl('c')], [acl('a')]);
    await store.close();
    const reopened = await open();
    assert.deepEqual(reopened.listAcls(), [acl('b'), acl('c')]);
  });

  test('a snapshot without ACLs loads with none; a malformed ACL is corrupt', async () => {
    const store = await open();
    await store.alterAcls([acl('a')], []);
    await store.close();
    await rewriteSnapshotBody((body) => {
      delete body.acls;
    });
    const reopened = await open();
    assert.deepEqual(reopened.listAcls(), []);
    await reopened.close();
    await rewriteSnapshotBody((body) => {
      body.acls = [{ ...acl('a'), operation: 'READ' }];
    });
    await assert.rejects(EmbeddedMetadataStore.open(dataDir), /ACL .* is malformed/);
  });
});
