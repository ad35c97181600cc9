// Durability under failure: with the fsync-before-ack policy, kill -9 mid-stream must lose no acknowledged
// message and duplicate none; a damaged segment tail must be cut off at restart, keeping everything before it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { type KcatRecord, kcatReadAll } from '../helpers/kcat.js';

const durableArgs = ['--set', 'log.flush.interval.messages=1'];
const partitionCount = 3;
const messagesPerSend = 4;
const killAfterAckedSends = 45;

function listFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...listFiles(path));
    else files.push(path);
  }
  return files;
}

/**
 * The active (highest base offset) segment of a partition: the last `.log` file under a directory named
 * `<topic>-<partition>`, which is Kafka's on-disk layout.
 */
function activeSegmentFile(dataDir: string, topic: string, partition: number): string {
  const all = listFiles(dataDir);
  const dirName = `${topic}-${partition}`;
  const segments = all
    .filter((path) => path.endsWith('.log') && path.split(/[\\/]/).includes(dirName))
    .sort((a, b) => a.localeCompare(b));
  const last = segments.at(-1);
  if (!last) throw new Error(`no segment file for ${dirName} under ${dataDir}; files:\n${all.join('\n')}`);
  return last;
}

/** A client for writing; reads go through kcat's simple consumer so they do not depend on consumer groups. */
function byPartition(records: KcatRecord[]): Map<number, KcatRecord[]> {
  const result = new Map<number, KcatRecord[]>();
  for (const record of records)
    result.set(record.partition, [...(result.get(record.partition) ?? []), record]);
  return result;
}

function kafkaFor(broker: Broker): Kafka {
  // No retries: a retry after the crash could legitimately duplicate a message, hiding what this test checks.
  return createKafka(broker.bootstrap, { retry: { retries: 0 }, requestTimeout: 5_000 });
}

function valuesOf(messages: KcatRecord[] | undefined): string[] {
  return (messages ?? []).map((m) => m.value ?? '<null>');
}

function assertConsecutiveOffsets(messages: KcatRecord[], context: string): void {
  assert.deepEqual(
    messages.map((m) => m.offset),
    messages.map((_, i) => String(i)),
    `offsets ${context}`,
  );
}

describe('crash and corruption recovery', { timeout: 200_000 }, () => {
  after(async () => {
    await disposeAllBrokers();
  });

  // Small segments: the kill also lands while rolled segments are being made durable behind the appends.
  for (const [label, args] of [
    ['', durableArgs],
    [' across segment rolls', [...durableArgs, '--set', 'log.segment.bytes=600']],
  ] as const) {
    test(`kill -9 mid-stream keeps every acknowledged message exactly once, in order${label}`, {
      timeout: 90_000,
    }, async () => {
      const broker = await startBroker({ args: [...args] });
      const topic = 'crash-stream';
      let kafka = kafkaFor(broker);
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: partitionCount }] });
      await admin.disconnect();

      // One sequential sender per partition, so per-partition order is the send order; each send is one batch.
      const acked = new Map<number, string[]>();
      let ackedSends = 0;
      let killed: Promise<void> | undefined;
      const senders = Array.from({ length: partitionCount }, async (_, partition) => {
        const producer = kafka.producer({ retry: { retries: 0 }, maxInFlightRequests: 1 });
        await producer.connect();
        const list: string[] = [];
        acked.set(partition, list);
        try {
          for (let send = 0; ; send++) {
            const values = Array.from(
              { length: messagesPerSend },
              (_, j) => `p${partition}-m${send * messagesPerSend + j}`,
            );
            await producer.send({ topic, acks: -1, messages: values.map((value) => ({ partition, value })) });
            list.push(...values);
            ackedSends++;
            if (ackedSends === killAfterAckedSends) killed = broker.kill9();
          }
        } catch {
          // The broker died under us: the stream ends here.
        } finally {
          await producer.disconnect().catch(() => {});
        }
      });
      await Promise.all(senders);
      assert.ok(killed, `broker was killed (acked sends: ${ackedSends})`);
      await killed;
      assert.equal(broker.isRunning, false);

      await broker.restart();
      kafka = kafkaFor(broker);
      const recovered = byPartition(await kcatReadAll(broker.bootstrap, topic));
      for (let partition = 0; partition < partitionCount; partition++) {
        const got = recovered.get(partition) ?? [];
        const values = valuesOf(got);
        const ackedValues = acked.get(partition) ?? [];
        assertConsecutiveOffsets(got, `partition ${partition}`);
        assert.deepEqual(
          values.slice(0, ackedValues.length),
          ackedValues,
          `acknowledged prefix of partition ${partition}`,
        );
        // Beyond the acknowledged prefix there may be the one batch that was in flight, whole (batches are atomic).
        const unacknowledged = values.slice(ackedValues.length);
        const nextBatch = Array.from(
          { length: messagesPerSend },
          (_, j) => `p${partition}-m${ackedValues.length + j}`,
        );
        assert.ok(
          unacknowledged.length === 0 || JSON.stringify(unacknowledged) === JSON.stringify(nextBatch),
          `partition ${partition}: after the ${ackedValues.length} acknowledged messages expected nothing or ` +
            `${JSON.stringify(nextBatch)}, got ${JSON.stringify(unacknowledged)}`,
        );
      }

      // The restarted broker takes new writes after what survived.
      const producer = kafka.producer({ retry: { retries: 0 } });
      await producer.connect();
      const survivors = new Map([...recovered].map(([p, list]) => [p, list.length]));
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: partitionCount }, (_, partition) => ({
            partition,
            value: `after-restart-${partition}`,
          })),
        });
      } finally {
        await producer.disconnect();
      }
      const final = byPartition(await kcatReadAll(broker.bootstrap, topic));
      for (let partition = 0; partition < partitionCount; partition++) {
        const got = final.get(partition) ?? [];
        assertConsecutiveOffsets(got, `partition ${partition} after new writes`);
        assert.equal(got.length, (survivors.get(partition) ?? 0) + 1);
        assert.equal(got.at(-1)?.value, `after-restart-${partition}`);
      }
      await broker.stop();
    });
  }

  /** Writes `count` single-record batches (values `<prefix>-0` …) to partition 0 of a new 1-partition topic. */
  async function writeSingleRecordBatches(
    broker: Broker,
    topic: string,
    prefix: string,
    count: number,
  ): Promise<void> {
    const kafka = kafkaFor(broker);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      for (let i = 0; i < count; i++) {
        await producer.send({ topic, acks: -1, messages: [{ partition: 0, value: `${prefix}-${i}` }] });
      }
    } finally {
      await producer.disconnect();
    }
  }

  async function assertServesThenAccepts(broker: Broker, topic: string, expected: string[]): Promise<void> {
    const kafka = kafkaFor(broker);
    const before = await kcatReadAll(broker.bootstrap, topic);
    assertConsecutiveOffsets(before, topic);
    assert.deepEqual(valuesOf(before), expected, `${topic} after restart`);
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ partition: 0, value: 'new-write' }] });
    } finally {
      await producer.disconnect();
    }
    const afterWrite = await kcatReadAll(broker.bootstrap, topic);
    assertConsecutiveOffsets(afterWrite, `${topic} after a new write`);
    assert.deepEqual(valuesOf(afterWrite), [...expected, 'new-write']);
  }

  test('garbage appended to the active segment after a clean stop is cut off', {
    timeout: 60_000,
  }, async () => {
    const broker = await startBroker({ args: durableArgs });
    const topic = 'corrupt-append';
    await writeSingleRecordBatches(broker, topic, 'a', 20);
    assert.equal(await broker.stop(), 0, 'graceful stop exits 0');
    appendFileSync(activeSegmentFile(broker.dataDir, topic, 0), randomBytes(157));
    await broker.restart();
    await assertServesThenAccepts(
      broker,
      topic,
      Array.from({ length: 20 }, (_, i) => `a-${i}`),
    );
    await broker.stop();
  });

  test('a batch truncated mid-way after kill -9 is dropped, earlier ones kept', {
    timeout: 60_000,
  }, async () => {
    const broker = await startBroker({ args: durableArgs });
    const topic = 'corrupt-truncate';
    await writeSingleRecordBatches(broker, topic, 't', 20);
    await broker.kill9();
    const segment = activeSegmentFile(broker.dataDir, topic, 0);
    // A one-record batch is far longer than 7 bytes, so this cuts inside the last batch only.
    truncateSync(segment, statSync(segment).size - 7);
    await broker.restart();
    await assertServesThenAccepts(
      broker,
      topic,
      Array.from({ length: 19 }, (_, i) => `t-${i}`),
    );
    await broker.stop();
  });

  test('zeroed bytes in the middle of the last batch are detected by its checksum', {
    timeout: 60_000,
  }, async () => {
    const broker = await startBroker({ args: durableArgs });
    const topic = 'corrupt-flip';
    await writeSingleRecordBatches(broker, topic, 'f', 10);
    assert.equal(await broker.stop(), 0);
    const segment = activeSegmentFile(broker.dataDir, topic, 0);
    const size = statSync(segment).size;
    // Keep the length intact but damage the last batch's record bytes (its final 4 bytes are inside the record).
    truncateSync(segment, size - 4);
    appendFileSync(segment, Buffer.alloc(4, 0xee));
    await broker.restart();
    await assertServesThenAccepts(
      broker,
      topic,
      Array.from({ length: 9 }, (_, i) => `f-${i}`),
    );
    await broker.stop();
  });
});
