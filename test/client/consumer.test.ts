// The Sluice client's Consumer against a real Sluice broker process: what kafkajs writes comes back exactly and
// in per-partition order; a group shared with a kafkajs consumer splits partitions with no overlap; seek,
// pause and resume; committed offsets survive a restart of the consumer; manual assignment without a group;
// regex subscriptions; cooperative-sticky hand-over between two of our consumers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Admin, Kafka, Producer } from 'kafkajs';
import {
  Consumer,
  type ConsumerMessage,
  type ConsumerOptions,
  type TopicPartition,
} from '../../src/client/consumer/index.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { CompressionTypes, createKafka } from '../helpers/kafka.js';
import { take } from '../helpers/sluice-clients.js';
import { waitFor } from '../helpers/wait.js';

const testTimeoutMs = 40_000;
const baseTimestampMs = 1_700_000_000_000;

interface Simple {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
  timestamp: number;
}

function simplify(message: ConsumerMessage): Simple {
  return {
    partition: message.partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    headers: message.headers.map((h) => [h.key, h.value?.toString() ?? null]),
    timestamp: message.timestamp,
  };
}

describe('Consumer against a Sluice broker', { timeout: 240_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];

  function newConsumer(options: Partial<ConsumerOptions> = {}): Consumer {
    const consumer = new Consumer({
      bootstrap: broker.bootstrap,
      clientId: 'consumer-test',
      heartbeatIntervalMs: 300,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      fetchMaxWaitMs: 100,
      retry: { retries: 5, initialBackoffMs: 50, maxBackoffMs: 500 },
      ...options,
    });
    consumers.push(consumer);
    return consumer;
  }

  async function createTopic(topic: string, numPartitions: number): Promise<void> {
    assert.equal(
      await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true }),
      true,
    );
  }

  /** Produces `perPartition` records to each partition; returns what each partition should hold, in order. */
  async function fill(
    topic: string,
    partitions: number,
    perPartition: number,
  ): Promise<Map<number, Simple[]>> {
    const expected = new Map<number, Simple[]>();
    for (let partition = 0; partition < partitions; partition++) {
      const list: Simple[] = [];
      for (let i = 0; i < perPartition; i++) {
        list.push({
          partition,
          offset: i,
          key: i % 7 === 3 ? null : `key-${partition}-${i}`,
          value: i % 11 === 5 ? null : `value-${partition}-${i}-${'x'.repeat(i % 50)}`,
          // kafkajs cannot write null header values; an empty one is the edge case it can.
          headers:
            i % 3 === 0
              ? [['h', `hv-${i}`]]
              : i % 3 === 1
                ? []
                : [
                    ['a', 'x'],
                    ['b', ''],
                  ],
          timestamp: baseTimestampMs + partition * 1_000_000 + i,
        });
      }
      expected.set(partition, list);
      // Several produce calls of different sizes and codecs, so the log holds many batches.
      for (let start = 0; start < perPartition; start += 37) {
        await producer.send({
          topic,
          compression: start % 74 === 0 ? CompressionTypes.GZIP : CompressionTypes.None,
          messages: list.slice(start, start + 37).map((m) => ({
            partition,
            key: m.key,
            value: m.value,
            timestamp: String(m.timestamp),
            headers: Object.fromEntries(m.headers.map(([k, v]) => [k, v ?? ''])),
          })),
        });
      }
    }
    return expected;
  }

  before(async () => {
    broker = await startBroker({
      args: ['--set', 'group.initial.rebalance.delay.ms=0', '--set', 'num.partitions=3'],
    });
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  });

  after(async () => {
    await Promise.all(consumers.map((c) => c.close().catch(() => undefined)));
    await producer?.disconnect();
    await admin?.disconnect();
    await disposeAllBrokers();
  });

  test('reads back exactly what kafkajs wrote, in per-partition order', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = `exact-${randomUUID()}`;
    await createTopic(topic, 3);
    const expected = await fill(topic, 3, 200);
    const consumer = newConsumer({ groupId: `g-${randomUUID()}`, fromBeginning: true, assignors: ['range'] });
    await consumer.connect();
    consumer.subscribe([topic]);
    const got = await take(consumer, 600);
    for (const message of got) assert.equal(message.topic, topic);
    for (let partition = 0; partition < 3; partition++) {
      const received = got.filter((m) => m.partition === partition).map(simplify);
      assert.deepEqual(received, expected.get(partition), `partition ${partition}`);
    }
    await consumer.close();
  });

  test('shares a group with a kafkajs consumer: no overlap, full coverage', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = `mixed-${randomUUID()}`;
    const groupId = `mixed-${randomUUID()}`;
    await createTopic(topic, 6);
    const theirs = kafka.consumer({
      groupId,
      heartbeatInterval: 300,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      maxWaitTimeInMs: 100,
    });
    let theirAssignment: number[] = [];
    theirs.on(theirs.events.GROUP_JOIN, ({ payload }) => {
      theirAssignment = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    });
    await theirs.connect();
    await theirs.subscribe({ topics: [topic], fromBeginning: true });
    const theirMessages: number[] = [];
    await theirs.run({
      eachMessage: async ({ partition }) => {
        theirMessages.push(partition);
      },
    });
    try {
      await waitFor(
        () => theirAssignment.length === 6,
        15_000,
        () => `kafkajs has ${theirAssignment}`,
      );
      const ours = newConsumer({ groupId, fromBeginning: true });
      await ours.connect();
      ours.subscribe([topic]);
      const ourPartitions = () =>
        ours
          .assignment()
          .map((p) => p.partition)
          .sort((a, b) => a - b);
      await waitFor(
        () => {
          const mine = ourPartitions();
          const all = [...mine, ...theirAssignment].sort((a, b) => a - b);
          return mine.length > 0 && theirAssignment.length > 0 && all.join() === '0,1,2,3,4,5';
        },
        20_000,
        () => `ours ${ourPartitions()}, kafkajs ${theirAssignment}`,
      );
      assert.equal(ourPartitions().length, 3);
      assert.equal(theirAssignment.length, 3);

      // Records reach the member that owns their partition, and only it.
      await producer.send({
        topic,
        messages: [0, 1, 2, 3, 4, 5].map((partition) => ({ partition, value: `to-${partition}` })),
      });
      const got = await take(ours, 3);
      assert.deepEqual(
        got.map((m) => m.partition).sort((a, b) => a - b),
        ourPartitions(),
      );
      await waitFor(
        () => theirMessages.length === 3,
        10_000,
        () => `kafkajs got ${theirMessages}`,
      );
      assert.deepEqual(
        theirMessages.sort((a, b) => a - b),
        theirAssignment,
      );
      await ours.close();
      // Our LeaveGroup hands our partitions to kafkajs.
      await waitFor(
        () => theirAssignment.length === 6,
        15_000,
        () => `kafkajs has ${theirAssignment} after we left`,
      );
    } finally {
      await theirs.disconnect();
    }
  });

  test('seek, pause and resume', { timeout: testTimeoutMs }, async () => {
    const topic = `seek-${randomUUID()}`;
    await createTopic(topic, 2);
    await fill(topic, 2, 40);
    const consumer = newConsumer({ fromBeginning: true });
    await consumer.connect();
    consumer.assign([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 1, offset: 0 },
    ]);
    consumer.pause([{ topic, partition: 1 }]);
    assert.deepEqual(consumer.paused(), [{ topic, partition: 1 }]);
    const first = await take(consumer, 10);
    assert.deepEqual(
      first.map((m) => [m.partition, m.offset]),
      Array.from({ length: 10 }, (_, i) => [0, i]),
    );

    consumer.seek({ topic, partition: 0, offset: 25 });
    const afterSeek = await take(consumer, 5);
    assert.deepEqual(
      afterSeek.map((m) => [m.partition, m.offset]),
      [25, 26, 27, 28, 29].map((o) => [0, o]),
    );

    // Pause partition 0 mid-stream and resume 1: only partition 1 flows, from its start.
    consumer.pause([{ topic, partition: 0 }]);
    consumer.resume([{ topic, partition: 1 }]);
    const fromOne = await take(consumer, 40);
    assert.deepEqual(
      fromOne.map((m) => [m.partition, m.offset]),
      Array.from({ length: 40 }, (_, i) => [1, i]),
    );
    consumer.resume([{ topic, partition: 0 }]);
    const rest = await take(consumer, 10);
    assert.deepEqual(
      rest.map((m) => [m.partition, m.offset]),
      Array.from({ length: 10 }, (_, i) => [0, 30 + i]),
    );

    consumer.seekToBeginning([{ topic, partition: 0 }]);
    assert.deepEqual(
      (await take(consumer, 1)).map((m) => [m.partition, m.offset]),
      [[0, 0]],
    );
    consumer.seekToTimestamp(baseTimestampMs + 1_000_000 + 33, [{ topic, partition: 1 }]);
    consumer.pause([{ topic, partition: 0 }]);
    assert.deepEqual(
      (await take(consumer, 1)).map((m) => [m.partition, m.offset]),
      [[1, 33]],
    );
    await consumer.close();
  });

  test('commits, and a restarted consumer resumes after the committed offset', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = `commit-${randomUUID()}`;
    const groupId = `commit-${randomUUID()}`;
    await createTopic(topic, 1);
    await fill(topic, 1, 120);

    const first = newConsumer({ groupId, fromBeginning: true, autoCommit: false });
    await first.connect();
    first.subscribe([topic]);
    const a = await take(first, 50);
    assert.equal(a[49]!.offset, 49);
    await first.commit();
    assert.deepEqual(await first.committed([{ topic, partition: 0 }]), [{ topic, partition: 0, offset: 50 }]);
    await first.close();

    // Auto commit on close.
    const second = newConsumer({ groupId, fromBeginning: true });
    await second.connect();
    second.subscribe([topic]);
    const b = await take(second, 20);
    assert.deepEqual(
      b.map((m) => m.offset),
      Array.from({ length: 20 }, (_, i) => 50 + i),
    );
    await second.close();

    // Manual commit of explicit offsets, read by a consumer without a subscription.
    const third = newConsumer({ groupId, fromBeginning: true });
    await third.connect();
    third.assign([{ topic, partition: 0 }]);
    const c = await take(third, 1);
    assert.equal(c[0]!.offset, 70);
    await third.commit([{ topic, partition: 0, offset: 100 }]);
    assert.deepEqual(await third.committed([{ topic, partition: 0 }]), [
      { topic, partition: 0, offset: 100 },
    ]);
    await third.close();
  });

  test('manual assignment without a group, with run({ eachBatch })', { timeout: testTimeoutMs }, async () => {
    const topic = `manual-${randomUUID()}`;
    await createTopic(topic, 3);
    const expected = await fill(topic, 3, 60);
    const consumer = newConsumer({ fromBeginning: true });
    await consumer.connect();
    consumer.assign([
      { topic, partition: 0 },
      { topic, partition: 2, offset: 50 },
    ]);
    const got = new Map<number, number[]>();
    let total = 0;
    const running = consumer.run({
      eachBatch: async ({ partition, messages }) => {
        const list = got.get(partition) ?? [];
        list.push(...messages.map((m) => m.offset));
        got.set(partition, list);
        total += messages.length;
      },
    });
    await waitFor(
      () => total >= 70,
      15_000,
      () => `got ${total}`,
    );
    await consumer.close();
    await running;
    assert.deepEqual(
      got.get(0),
      expected.get(0)!.map((m) => m.offset),
    );
    assert.deepEqual(got.get(2), [50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
    assert.equal(got.has(1), false);
    await assert.rejects(consumer.commit(), { name: 'ConfigError' });
  });

  test('partitions take turns when each Fetch can return only one batch', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = `turns-${randomUUID()}`;
    const partitions = 4;
    await createTopic(topic, partitions);
    for (let batch = 0; batch < 3; batch++) {
      for (let partition = 0; partition < partitions; partition++) {
        await producer.send({ topic, messages: [{ partition, value: `${partition}-${batch}` }] });
      }
    }
    // max_bytes 1: each response holds one whole batch (KIP-74), of the first partition in the request that
    // has one. A partition that got records must go to the end of the next request, or it would be drained
    // first while the others wait.
    // Positions given with the assignment: with offset resets instead, partition 0's could complete first
    // and be fetched twice before the others had a position (seen once in CI).
    const consumer = newConsumer({ maxBytes: 1 });
    await consumer.connect();
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    const messages = await take(consumer, partitions * 3);
    const firstRound = messages.slice(0, partitions).map((m) => m.partition);
    assert.deepEqual(
      [...firstRound].sort(),
      [0, 1, 2, 3],
      `first records came from partitions ${firstRound}`,
    );
    for (let partition = 0; partition < partitions; partition++) {
      assert.deepEqual(
        messages.filter((m) => m.partition === partition).map((m) => m.value?.toString()),
        [0, 1, 2].map((batch) => `${partition}-${batch}`),
      );
    }
  });

  test('a buffer smaller than the data holds fetches back until records are consumed', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = `small-buffer-${randomUUID()}`;
    const partitions = 4;
    await createTopic(topic, partitions);
    const value = 'v'.repeat(1000);
    for (let partition = 0; partition < partitions; partition++) {
      for (let start = 0; start < 300; start += 50) {
        await producer.send({
          topic,
          messages: Array.from({ length: 50 }, (_, i) => ({ partition, key: String(start + i), value })),
        });
      }
    }
    // Room for about two 16 KiB partition responses: most fetches wait for consumed records to free it.
    const consumer = newConsumer({
      fromBeginning: true,
      maxBufferedBytes: 40_000,
      maxPartitionBytes: 16_384,
    });
    await consumer.connect();
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    // Nothing is consumed meanwhile: the buffer fills and the next Fetch waits for room.
    await delay(500);
    const messages = await take(consumer, partitions * 300);
    for (let partition = 0; partition < partitions; partition++) {
      assert.deepEqual(
        messages.filter((m) => m.partition === partition).map((m) => m.key?.toString()),
        Array.from({ length: 300 }, (_, i) => String(i)),
      );
    }
  });

  test('a regex subscription picks up matching topics', { timeout: testTimeoutMs }, async () => {
    const prefix = `rx${randomUUID().slice(0, 8)}`;
    await createTopic(`${prefix}-a`, 1);
    await createTopic(`${prefix}-b`, 2);
    await createTopic(`other-${prefix}`, 1);
    await fill(`${prefix}-a`, 1, 5);
    await fill(`${prefix}-b`, 2, 5);
    await fill(`other-${prefix}`, 1, 5);
    const consumer = newConsumer({ groupId: `g-${randomUUID()}`, fromBeginning: true });
    await consumer.connect();
    consumer.subscribe([new RegExp(`^${prefix}-`)]);
    const got = await take(consumer, 15);
    const topics = new Set(got.map((m) => m.topic));
    assert.deepEqual([...topics].sort(), [`${prefix}-a`, `${prefix}-b`]);
    await consumer.close();
  });

  test('cooperative-sticky: a joining member takes partitions only after their owner revoked them', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = `coop-${randomUUID()}`;
    const groupId = `coop-${randomUUID()}`;
    await createTopic(topic, 4);
    const events: string[] = [];
    const listeners = (name: string): Partial<ConsumerOptions> => ({
      assignors: ['cooperative-sticky'],
      onAssigned: (partitions: TopicPartition[]) => {
        events.push(`${name}+${partitions.map((p) => p.partition).sort()}`);
      },
      onRevoked: (partitions: TopicPartition[]) => {
        events.push(`${name}-${partitions.map((p) => p.partition).sort()}`);
      },
    });
    const one = newConsumer({ groupId, ...listeners('one') });
    await one.connect();
    one.subscribe([topic]);
    await waitFor(
      () => one.assignment().length === 4,
      15_000,
      () => `one has ${JSON.stringify(one.assignment())}`,
    );
    const two = newConsumer({ groupId, ...listeners('two') });
    await two.connect();
    two.subscribe([topic]);
    await waitFor(
      () => one.assignment().length === 2 && two.assignment().length === 2,
      20_000,
      () => `one ${JSON.stringify(one.assignment())}, two ${JSON.stringify(two.assignment())}; ${events}`,
    );
    const owned = [...one.assignment(), ...two.assignment()].map((p) => p.partition).sort();
    assert.deepEqual(owned, [0, 1, 2, 3]);
    // one gave up exactly two partitions and never the ones it kept; two got them afterwards.
    assert.equal(events[0], 'one+0,1,2,3');
    const revokedOne = events.filter((e) => e.startsWith('one-'));
    assert.equal(revokedOne.length, 1, events.join(' '));
    const assignedTwo = events.filter((e) => e.startsWith('two+'));
    assert.equal(assignedTwo.length, 1, events.join(' '));
    assert.equal(revokedOne[0]!.slice(4), assignedTwo[0]!.slice(4));
    assert.ok(events.indexOf(revokedOne[0]!) < events.indexOf(assignedTwo[0]!), events.join(' '));
    await two.close();
    await waitFor(
      () => one.assignment().length === 4,
      15_000,
      () => `one has ${JSON.stringify(one.assignment())}`,
    );
    await one.close();
  });
});
