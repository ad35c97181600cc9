// Tools for tests of Sluice's own client against broker processes: closing whatever clients a test left open,
// reading a fixed number of messages from a Consumer in bounded time, and a produce-and-read-back through a
// consumer group with the client options a case chooses (SASL, TLS or both).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  Admin,
  type ClientOptions,
  Consumer,
  type ConsumerMessage,
  type KafkaClientError,
  Producer,
  type ProducerRecord,
} from '../../src/index.js';

type Closeable = { close(): Promise<void> };

/** `track` remembers a client; `closeAll` closes every one remembered, ignoring failures (for after()). */
export function clientTracker(): {
  track: <T extends Closeable>(client: T) => T;
  closeAll: () => Promise<void>;
} {
  const clients: Closeable[] = [];
  return {
    track: (client) => {
      clients.push(client);
      return client;
    },
    closeAll: async () => {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    },
  };
}

/** Reads `count` messages, failing after timeoutMs with what it got. */
export async function take(
  consumer: Consumer,
  count: number,
  timeoutMs = 15_000,
): Promise<ConsumerMessage[]> {
  const messages: ConsumerMessage[] = [];
  if (count === 0) return messages;
  const iterator = consumer[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  try {
    while (messages.length < count) {
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        iterator.next(),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), 'timeout');
        }),
      ]);
      clearTimeout(timer);
      if (result === 'timeout')
        throw new Error(`got ${messages.length} of ${count} messages in ${timeoutMs} ms`);
      if (result.done) throw new Error(`iterator ended after ${messages.length} of ${count} messages`);
      messages.push(result.value);
    }
  } finally {
    await iterator.return?.();
  }
  return messages;
}

/** A consumed message with its key, value and headers as text, for deepEqual. */
export interface ReceivedMessage {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
}

/** `messages` as text, sorted by partition, then offset. */
export function received(messages: readonly ConsumerMessage[]): ReceivedMessage[] {
  return messages
    .map((m) => ({
      partition: m.partition,
      offset: m.offset,
      key: m.key?.toString() ?? null,
      value: m.value?.toString() ?? null,
      headers: m.headers.map((h): [string, string | null] => [h.key, h.value?.toString() ?? null]),
    }))
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/**
 * With `options`: an Admin (client id `adminClientId`) creates `topic` with two partitions and lists it, a
 * Producer writes `messages`, three of them to partitions 0, 1, 0, and a new group's Consumer reads them back.
 * Returns what the Consumer read, as text, sorted; every client is closed (and tracked, should it fail first).
 */
export async function groupRoundTrip(
  options: ClientOptions,
  run: {
    topic: string;
    adminClientId: string;
    messages: ProducerRecord['messages'];
    track: <T extends Closeable>(client: T) => T;
    takeTimeoutMs: number;
  },
): Promise<ReceivedMessage[]> {
  const { topic, track } = run;
  const admin = track(new Admin({ ...options, clientId: run.adminClientId }));
  await admin.connect();
  await admin.createTopics([{ topic, numPartitions: 2 }]);
  assert.ok((await admin.listTopics()).includes(topic));

  const producer = track(new Producer({ ...options, lingerMs: 1 }));
  await producer.connect();
  const results = await producer.sendBatch([{ topic, messages: run.messages }]);
  assert.deepEqual(
    results.map((r) => [r.partition, r.offset]),
    [
      [0, 0],
      [1, 0],
      [0, 1],
    ],
  );

  const consumer = track(new Consumer({ ...options, groupId: `g-${randomUUID()}`, fromBeginning: true }));
  await consumer.connect();
  consumer.subscribe([topic]);
  const read = received(await take(consumer, run.messages.length, run.takeTimeoutMs));
  await consumer.close();
  await producer.close();
  await admin.close();
  return read;
}

/** Asserts that `operation` rejects with `family` within boundMs; returns the error. */
export async function rejectsPromptly<E extends KafkaClientError>(
  operation: () => Promise<unknown>,
  family: new (...args: never[]) => E,
  boundMs: number,
): Promise<E> {
  const started = Date.now();
  let caught: unknown;
  try {
    await operation();
  } catch (error) {
    caught = error;
  }
  const elapsedMs = Date.now() - started;
  assert.ok(caught instanceof family, `expected ${family.name}, got ${String(caught)}`);
  assert.ok(elapsedMs < boundMs, `took ${elapsedMs} ms: ${caught.message}`);
  return caught;
}
