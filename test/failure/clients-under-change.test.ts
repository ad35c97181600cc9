// Real clients while the broker's state changes under them: graceful and kill -9 restarts on the same port,
// retention deleting segments, segment.ms rolls under a tailing consumer, a topic deleted and re-created, and a
// shutdown while a Fetch is long-polling. Every check is on exact content: values, offsets, order.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, KafkaConfig, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
import { type Broker, disposeAllBrokers, freePort, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { type KcatRecord, kcatReadAll } from '../helpers/kcat.js';
import { runProgram } from '../helpers/process.js';

const { ConfigResourceTypes } = kafkajs;

const groupArgs = ['--set', 'group.initial.rebalance.delay.ms=0'];
// Clients must ride out a restart by themselves: enough retries to cover a few seconds without the broker.
const patientClient: Partial<KafkaConfig> = {
  requestTimeout: 5_000,
  retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 500 },
};
const reconnectBoundMs = 10_000;

/** A broker whose restarts come back on the same port, as a real deployment does. */
async function startOnFixedPort(args: string[] = []): Promise<Broker> {
  const port = await freePort();
  const broker = await startBroker({ args: ['--listen', `127.0.0.1:${port}`, ...groupArgs, ...args] });
  assert.equal(broker.port, port);
  return broker;
}

async function restartOnSamePort(broker: Broker): Promise<void> {
  const port = broker.port;
  await broker.restart();
  assert.equal(broker.port, port, 'the restarted broker listens on the same port');
}

/** Polls until `condition` holds; fails with `what` after timeoutMs. Returns how long it took. */
async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const startMs = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - startMs;
    if (Date.now() - startMs > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Resolves 'timeout' after timeoutMs without keeping the process alive. */
function timeoutAfter(timeoutMs: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
}

/** A long-running client program (kcat producer or consumer) fed and read line by line. */
class ClientProcess {
  readonly lines: string[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private pending = '';

  constructor(
    readonly command: string,
    readonly args: string[],
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    liveClients.add(this);
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.pending += chunk.toString('utf8');
      const parts = this.pending.split('\n');
      this.pending = parts.pop() ?? '';
      this.lines.push(...parts.filter((line) => line.length > 0));
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-64 * 1024);
    });
    this.child.stdin?.on('error', () => {
      // The program may have exited; its exit code and stderr tell the story.
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code) => {
        liveClients.delete(this);
        resolve(code);
      });
    });
  }

  write(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  endInput(): void {
    this.child.stdin?.end();
  }

  /** Waits for the program to exit by itself; SIGKILL and fail after timeoutMs. */
  async exitCode(timeoutMs: number): Promise<number | null> {
    const result = await Promise.race([this.exited, timeoutAfter(timeoutMs)]);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error(`${this.describe()} did not exit within ${timeoutMs} ms`);
    }
    return result;
  }

  /** SIGTERM (kcat then leaves its group and commits), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    if ((await Promise.race([this.exited, timeoutAfter(10_000)])) === 'timeout') this.child.kill('SIGKILL');
    await this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  describe(): string {
    return `${this.command} ${this.args.join(' ')}\nstderr:\n${this.stderr}`;
  }
}

const liveClients = new Set<ClientProcess>();

interface Acked {
  partition: number;
  value: string;
  ackedAtMs: number;
}

/** Values of records whose value starts with `prefix`, per partition, in offset order. */
function valuesByPartition(records: KcatRecord[], prefix: string): Map<number, string[]> {
  const result = new Map<number, string[]>();
  for (const record of records) {
    if (record.value === null || !record.value.startsWith(prefix)) continue;
    result.set(record.partition, [...(result.get(record.partition) ?? []), record.value]);
  }
  return result;
}

function sequenceOf(value: string): number {
  return Number(value.slice(value.lastIndexOf('-') + 1));
}

async function createTopic(
  kafka: Kafka,
  topic: string,
  numPartitions: number,
  configEntries: Array<{ name: string; value: string }> = [],
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions, configEntries }] }), true);
  } finally {
    await admin.disconnect();
  }
}

/** AlterConfigs of a topic: `configEntries` replace all its overrides (what is not named goes back to default). */
async function replaceTopicConfigs(
  kafka: Kafka,
  topic: string,
  configEntries: Array<{ name: string; value: string }>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries }],
    });
  } finally {
    await admin.disconnect();
  }
}

async function topicOffsets(kafka: Kafka, topic: string): Promise<Array<{ low: string; high: string }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.sort((a, b) => a.partition - b.partition).map(({ low, high }) => ({ low, high }));
  } finally {
    await admin.disconnect();
  }
}

/** Committed offsets of a group for one topic, by partition ("-1" when none). */
async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (result?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => p.offset);
  } finally {
    await admin.disconnect();
  }
}

/** Base offsets of the live segments of a partition, from the `.log` file names (Kafka's layout). */
function segmentBaseOffsets(broker: Broker, topic: string, partition: number): number[] {
  const dir = join(broker.dataDir, `${topic}-${partition}`);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .map((name) => Number(name.slice(0, -'.log'.length)))
    .sort((a, b) => a - b);
}

interface Received {
  partition: number;
  offset: number;
  value: string;
}

/** A kafkajs group member that records every message; autoCommit stays on (commits after each batch). */
async function startGroupConsumer(
  kafka: Kafka,
  groupId: string,
  topic: string,
  options: { fromBeginning: boolean; maxWaitTimeInMs?: number } = { fromBeginning: true },
): Promise<{ consumer: Consumer; received: Received[]; crashes: string[]; fetches: () => number }> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 500,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 500 },
  });
  const received: Received[] = [];
  const crashes: string[] = [];
  let fetches = 0;
  consumer.on(consumer.events.FETCH, () => {
    fetches++;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    crashes.push(`${payload.error.name}: ${payload.error.message} (restart: ${payload.restart})`);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      received.push({ partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
    },
  });
  return { consumer, received, crashes, fetches: () => fetches };
}

/** Runs one kafkajs member per group until each has read and committed `count` records, then leaves. */
async function commitAfterReading(kafka: Kafka, groupIds: string[], topic: string, count: number) {
  const members = await Promise.all(groupIds.map((groupId) => startGroupConsumer(kafka, groupId, topic)));
  try {
    await waitFor(
      `groups ${groupIds.join()} to commit offset ${count}`,
      async () => {
        for (const groupId of groupIds) {
          if ((await committedOffsets(kafka, groupId, topic)).join() !== String(count)) return false;
        }
        return true;
      },
      15_000,
    );
  } finally {
    await Promise.all(members.map((member) => member.consumer.disconnect()));
  }
}

function receivedValues(received: Received[], partition: number): string[] {
  return received.filter((r) => r.partition === partition).map((r) => r.value);
}

function expectedValues(prefix: string, from: number, to: number, partition: number, partitions: number) {
  const values: string[] = [];
  for (let i = from; i < to; i++) if (i % partitions === partition) values.push(`${prefix}-${i}`);
  return values;
}

async function sendValues(producer: Producer, topic: string, prefix: string, from: number, to: number) {
  for (let i = from; i < to; i++) {
    await producer.send({ topic, acks: -1, messages: [{ partition: i % 2, value: `${prefix}-${i}` }] });
  }
}

describe('clients while the broker changes under them', { timeout: 240_000 }, () => {
  after(async () => {
    for (const client of [...liveClients]) client.kill();
    await disposeAllBrokers();
  });

  /**
   * A kafkajs producer (acks -1, retries) and a kcat producer send steadily across a broker stop and start
   * on the same port. Both reconnect by themselves; afterwards every acknowledged message is there, in
   * per-partition order. With a graceful stop nothing is duplicated; after kill -9 a message whose
   * acknowledgement was lost may be stored twice (no idempotent producer), never lost or reordered.
   */
  async function producersAcrossRestart(mode: 'graceful' | 'kill -9'): Promise<void> {
    const broker = await startOnFixedPort(
      mode === 'kill -9' ? ['--set', 'log.flush.interval.messages=1'] : [],
    );
    const topic = `restart-produce-${mode === 'graceful' ? 'term' : 'kill'}`;
    const kafka = createKafka(broker.bootstrap, patientClient);
    await createTopic(kafka, topic, 2);

    let sending = true;
    const acked: Acked[] = [];
    const producer = kafka.producer({ maxInFlightRequests: 1, retry: patientClient.retry });
    await producer.connect();
    const kafkajsLoop = (async () => {
      for (let i = 0; sending; i++) {
        const partition = i % 2;
        const value = `kj-${i}`;
        await producer.send({ topic, acks: -1, messages: [{ partition, value }] });
        acked.push({ partition, value, ackedAtMs: Date.now() });
        await sleep(10);
      }
    })();

    // -E: kcat's default is to exit when all brokers are down; a user keeping it through restarts sets -E.
    const kcat = new ClientProcess('kcat', [
      '-b',
      broker.bootstrap,
      '-P',
      '-E',
      '-t',
      topic,
      '-K',
      ':',
      '-X',
      'acks=all',
      '-X',
      'max.in.flight.requests.per.connection=1',
      '-X',
      'linger.ms=5',
      '-X',
      'reconnect.backoff.max.ms=500',
    ]);
    let kcatWritten = 0;
    const kcatLoop = (async () => {
      while (sending) {
        kcat.write(`k${kcatWritten % 5}:kc-${kcatWritten}`);
        kcatWritten++;
        await sleep(10);
      }
      kcat.endInput();
    })();

    try {
      await waitFor('20 kafkajs acknowledgements before the stop', () => acked.length >= 20, 15_000);
      const writtenBeforeStop = kcatWritten;
      if (mode === 'graceful') assert.equal(await broker.stop(), 0, 'graceful stop exits 0');
      else await broker.kill9();
      await sleep(300);
      await restartOnSamePort(broker);
      const readyAtMs = Date.now();
      const ackedBeforeRestart = acked.length;
      await waitFor(
        'a kafkajs acknowledgement after the restart',
        () => acked.length > ackedBeforeRestart + 10,
        reconnectBoundMs,
      );
      assert.ok(acked.some((a) => a.ackedAtMs >= readyAtMs));
      assert.ok(kcatWritten > writtenBeforeStop);
    } finally {
      sending = false;
      await Promise.allSettled([kafkajsLoop, kcatLoop]);
      await producer.disconnect().catch(() => {});
    }
    await kafkajsLoop;
    assert.equal(await kcat.exitCode(20_000), 0, `kcat delivered everything:\n${kcat.describe()}`);

    const records = await kcatReadAll(broker.bootstrap, topic);
    // kafkajs: acknowledged values, per partition in send order.
    const kafkajsStored = valuesByPartition(records, 'kj-');
    for (const partition of [0, 1]) {
      const sent = acked.filter((a) => a.partition === partition).map((a) => a.value);
      const stored = kafkajsStored.get(partition) ?? [];
      if (mode === 'graceful') {
        assert.deepEqual(stored, sent, `kafkajs partition ${partition}`);
      } else {
        assertOrderedAtLeastOnce(stored, sent, `kafkajs partition ${partition}`);
      }
    }
    // kcat: every line, each in increasing order within its partition.
    const kcatStored = valuesByPartition(records, 'kc-');
    const all = [...kcatStored.values()].flat();
    const expected = Array.from({ length: kcatWritten }, (_, i) => `kc-${i}`);
    if (mode === 'graceful') {
      assert.deepEqual(
        [...all].sort((a, b) => sequenceOf(a) - sequenceOf(b)),
        expected,
        'kcat: every line exactly once',
      );
    } else {
      assert.deepEqual(
        [...new Set(all)].sort((a, b) => sequenceOf(a) - sequenceOf(b)),
        expected,
        'kcat: every line at least once',
      );
    }
    for (const [partition, values] of kcatStored) {
      const firsts = [...new Set(values)];
      const sorted = [...firsts].sort((a, b) => sequenceOf(a) - sequenceOf(b));
      assert.deepEqual(firsts, sorted, `kcat partition ${partition} in send order`);
    }
    await broker.stop();
  }

  /** `stored` holds `sent` in order; at most one message (the one in flight at the kill) is stored twice. */
  function assertOrderedAtLeastOnce(stored: string[], sent: string[], context: string): void {
    const firsts = [...new Set(stored)];
    assert.deepEqual(firsts, sent, `${context}: every acknowledged message, in order`);
    const duplicates = stored.length - firsts.length;
    assert.ok(
      duplicates <= 1,
      `${context}: at most the one in-flight message twice, got ${duplicates} extra`,
    );
  }

  test('producers ride through a graceful restart: nothing lost, nothing duplicated', {
    timeout: 45_000,
  }, async () => {
    await producersAcrossRestart('graceful');
  });

  test('producers ride through kill -9 with flush per message: nothing acknowledged is lost', {
    timeout: 45_000,
  }, async () => {
    await producersAcrossRestart('kill -9');
  });

  test('a kafkajs group and a kcat -G group resume from their committed offsets after a restart', {
    timeout: 45_000,
  }, async () => {
    const broker = await startOnFixedPort();
    const topic = 'restart-consume';
    const kafka = createKafka(broker.bootstrap, patientClient);
    await createTopic(kafka, topic, 2);
    const producer = kafka.producer({ retry: patientClient.retry });
    await producer.connect();
    const kafkajsGroup = `kafkajs-${randomUUID()}`;
    const kcatGroup = `kcat-${randomUUID()}`;
    const member = await startGroupConsumer(kafka, kafkajsGroup, topic);
    const kcat = new ClientProcess('kcat', [
      '-b',
      broker.bootstrap,
      '-E',
      '-u',
      '-G',
      kcatGroup,
      '-X',
      'auto.offset.reset=earliest',
      '-X',
      'auto.commit.interval.ms=100',
      '-X',
      'reconnect.backoff.max.ms=500',
      '-f',
      '%p|%o|%s\n',
      topic,
    ]);
    const kcatReceived = (): Received[] =>
      kcat.lines.map((line) => {
        const [partition, offset, value] = line.split('|');
        return { partition: Number(partition), offset: Number(offset), value: value ?? '' };
      });
    try {
      await sendValues(producer, topic, 'c', 0, 20);
      await waitFor(
        'both groups to consume and commit the first 20',
        async () => {
          if (member.received.length < 20 || kcat.lines.length < 20) return false;
          const committed = [
            ...(await committedOffsets(kafka, kafkajsGroup, topic)),
            ...(await committedOffsets(kafka, kcatGroup, topic)),
          ];
          return committed.join() === '10,10,10,10';
        },
        20_000,
      );

      assert.equal(await broker.stop(), 0);
      await restartOnSamePort(broker);
      await sendValues(producer, topic, 'c', 20, 40);
      await waitFor(
        'both groups to consume the 20 sent after the restart',
        () => member.received.length >= 40 && kcat.lines.length >= 40,
        reconnectBoundMs + 10_000,
      );
      // Give a redelivery the chance to show up before checking there is none.
      await sleep(500);
      for (const [name, received] of [
        ['kafkajs', member.received],
        ['kcat -G', kcatReceived()],
      ] as const) {
        for (const partition of [0, 1]) {
          assert.deepEqual(
            receivedValues(received, partition),
            expectedValues('c', 0, 40, partition, 2),
            `${name} partition ${partition}: everything once, in order`,
          );
        }
      }
      assert.deepEqual(await committedOffsets(kafka, kafkajsGroup, topic), ['20', '20']);
    } finally {
      await member.consumer.disconnect();
      await kcat.stop();
      await producer.disconnect();
    }
    assert.deepEqual(await committedOffsets(kafka, kcatGroup, topic), ['20', '20']);
    await broker.stop();
  });

  test('SIGTERM while a Fetch long-polls: the broker exits well within shutdown.timeout.ms', {
    timeout: 30_000,
  }, async () => {
    const shutdownTimeoutMs = 5_000;
    const broker = await startOnFixedPort(['--set', `shutdown.timeout.ms=${shutdownTimeoutMs}`]);
    const topic = 'long-poll';
    const kafka = createKafka(broker.bootstrap, patientClient);
    await createTopic(kafka, topic, 1);
    const producer = kafka.producer({ retry: patientClient.retry });
    await producer.connect();
    // A Fetch waits up to 20 s for data: longer than the shutdown may take.
    const member = await startGroupConsumer(kafka, `long-poll-${randomUUID()}`, topic, {
      fromBeginning: true,
      maxWaitTimeInMs: 20_000,
    });
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: 'before' }] });
      await waitFor('the message sent before the stop', () => member.received.length === 1, 15_000);
      // The consumer is now parked in a long-polling Fetch on an idle partition.
      await sleep(500);
      const stopStartMs = Date.now();
      assert.equal(await broker.stop(), 0, 'graceful stop exits 0');
      const stopMs = Date.now() - stopStartMs;
      assert.ok(stopMs < shutdownTimeoutMs, `stop took ${stopMs} ms`);
      await restartOnSamePort(broker);
      await producer.send({ topic, acks: -1, messages: [{ value: 'after' }] });
      await waitFor('the message sent after the restart', () => member.received.length >= 2, 20_000);
      await sleep(300);
      assert.deepEqual(
        member.received.map((r) => [r.offset, r.value]),
        [
          [0, 'before'],
          [1, 'after'],
        ],
      );
    } finally {
      // kafkajs's disconnect waits for the Fetch in flight: a new message ends that wait early.
      const disconnecting = member.consumer.disconnect();
      await producer.send({ topic, acks: -1, messages: [{ value: 'wake' }] }).catch(() => {});
      await disconnecting;
      await producer.disconnect();
    }
    await broker.stop();
  });
  /** Every record of partition 0 of `topic` through kcat's simple consumer from offset 0, with extra options. */
  async function kcatFromOffsetZero(broker: Broker, topic: string, extra: string[]) {
    return runProgram(
      'kcat',
      ['-b', broker.bootstrap, '-C', '-t', topic, '-p', '0', '-o', '0', '-e', '-f', '%o|%s\n', ...extra],
      { timeoutMs: 20_000 },
    );
  }

  /** kcat -Q with offset -2 (earliest): the log start offset as librdkafka sees it. */
  async function kcatEarliest(broker: Broker, topic: string): Promise<string> {
    const result = await runProgram('kcat', ['-b', broker.bootstrap, '-Q', '-t', `${topic}:0:-2`], {
      timeoutMs: 20_000,
    });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  }

  test('retention.bytes deletes old segments: earliest moves up, consumers below it reset as configured', {
    timeout: 45_000,
  }, async () => {
    const broker = await startOnFixedPort(['--set', 'log.retention.check.interval.ms=200']);
    const topic = 'retention-bytes';
    const retentionBytes = 2048;
    const kafka = createKafka(broker.bootstrap, patientClient);
    await createTopic(kafka, topic, 1, [
      { name: 'segment.bytes', value: '1024' },
      { name: 'retention.bytes', value: String(retentionBytes) },
    ]);
    const producer = kafka.producer();
    await producer.connect();
    const rbValue = (i: number) => `rb-${i}-${'x'.repeat(100)}`;
    const count = 40;
    const committedBeforeRetention = 3;
    const fromBeginningGroup = `rb-earliest-${randomUUID()}`;
    const fromEndGroup = `rb-latest-${randomUUID()}`;
    try {
      for (let i = 0; i < count; i++) {
        await producer.send({ topic, acks: -1, messages: [{ value: rbValue(i) }] });
        // Two groups read a little and stop; retention will delete past their committed offsets.
        if (i + 1 === committedBeforeRetention) {
          await commitAfterReading(
            kafka,
            [fromBeginningGroup, fromEndGroup],
            topic,
            committedBeforeRetention,
          );
        }
      }
    } finally {
      await producer.disconnect();
    }

    // Kafka's rule: delete the oldest sealed segments while the log stays at least retention.bytes without
    // them. Retention runs every 200 ms; wait for the pass that reaches that point.
    const dir = join(broker.dataDir, `${topic}-0`);
    const segmentSizes = () =>
      readdirSync(dir)
        .filter((name) => name.endsWith('.log'))
        .sort()
        .map((name) => statSync(join(dir, name)).size);
    await waitFor(
      'retention.bytes to be enforced',
      () => {
        const sizes = segmentSizes();
        const total = sizes.reduce((a, b) => a + b, 0);
        return sizes.length > 1 && total - (sizes[0] ?? 0) < retentionBytes;
      },
      10_000,
    );
    const sizes = segmentSizes();
    assert.ok(
      sizes.reduce((a, b) => a + b, 0) >= retentionBytes,
      `at least retention.bytes kept: ${sizes.join()}`,
    );
    const low = segmentBaseOffsets(broker, topic, 0)[0] as number;
    assert.ok(low > 0);
    assert.deepEqual(await topicOffsets(kafka, topic), [{ low: String(low), high: String(count) }]);
    assert.equal(await kcatEarliest(broker, topic), `${topic} [0] offset ${low}`);

    const remaining = Array.from({ length: count - low }, (_, i) => `${low + i}|${rbValue(low + i)}`);
    // librdkafka, auto.offset.reset=earliest: OFFSET_OUT_OF_RANGE at 0, continues at the new start.
    const earliest = await kcatFromOffsetZero(broker, topic, ['-X', 'auto.offset.reset=earliest']);
    assert.equal(earliest.code, 0, earliest.stderr);
    assert.deepEqual(earliest.stdout.split('\n').filter(Boolean), remaining);
    // auto.offset.reset=error: the application sees the error itself.
    const strict = await kcatFromOffsetZero(broker, topic, ['-X', 'auto.offset.reset=error']);
    assert.notEqual(strict.code, 0);
    assert.match(strict.stderr, /out of range/i);
    assert.equal(strict.stdout, '');

    // kafkajs groups whose committed offset is now below the log start.
    assert.ok(low > committedBeforeRetention);
    const early = await startGroupConsumer(kafka, fromBeginningGroup, topic, { fromBeginning: true });
    const late = await startGroupConsumer(kafka, fromEndGroup, topic, { fromBeginning: false });
    try {
      await waitFor(
        'the fromBeginning group to read what is left',
        () => early.received.length >= count - low,
        15_000,
      );
      assert.deepEqual(
        early.received.map((r) => `${r.offset}|${r.value}`),
        remaining,
      );
      // The latest-reset group skips to the end: it sees only what is written after it reset.
      // kafkajs commits nothing for a reset; its first successful Fetch comes after the reset to the end.
      await waitFor('the fromEnd group to fetch after its reset', () => late.fetches() > 0, 15_000);
      const lateProducer = kafka.producer();
      await lateProducer.connect();
      await lateProducer.send({ topic, acks: -1, messages: [{ value: 'fresh' }] });
      await lateProducer.disconnect();
      await waitFor('the fromEnd group to read the new message', () => late.received.length >= 1, 15_000);
      await sleep(300);
      assert.deepEqual(
        late.received.map((r) => `${r.offset}|${r.value}`),
        [`${count}|fresh`],
      );
    } finally {
      await early.consumer.disconnect();
      await late.consumer.disconnect();
    }
    await broker.stop();
  });

  test('retention.ms altered on a live topic purges it, active segment included; kcat -G resets to the new start', {
    timeout: 45_000,
  }, async () => {
    const broker = await startOnFixedPort(['--set', 'log.retention.check.interval.ms=200']);
    const topic = 'retention-time';
    const kafka = createKafka(broker.bootstrap, patientClient);
    await createTopic(kafka, topic, 1, [{ name: 'segment.bytes', value: '1024' }]);
    const producer = kafka.producer();
    await producer.connect();
    const count = 30;
    const kcatGroup = `rt-${randomUUID()}`;
    try {
      for (let i = 0; i < count; i++) {
        await producer.send({ topic, acks: -1, messages: [{ value: `rt-${i}-${'y'.repeat(100)}` }] });
        if (i === 0) await commitAfterReading(kafka, [kcatGroup], topic, 1);
      }
    } finally {
      await producer.disconnect();
    }
    const segmentsBefore = segmentBaseOffsets(broker, topic, 0);
    assert.ok(segmentsBefore.length >= 4, `segments: ${segmentsBefore.join()}`);
    assert.deepEqual(await topicOffsets(kafka, topic), [{ low: '0', high: String(count) }]);

    // AlterConfigs replaces the topic's overrides: segment.bytes is given again to keep it.
    await replaceTopicConfigs(kafka, topic, [
      { name: 'segment.bytes', value: '1024' },
      { name: 'retention.ms', value: '500' },
    ]);
    // Every record is soon older than 500 ms, so every segment goes, the active one too (a new empty one
    // takes its place), as in Kafka: the usual way to purge a topic. Then retention goes back up.
    await waitFor(
      'retention.ms to delete every segment',
      async () => {
        const [offsets] = await topicOffsets(kafka, topic);
        return offsets?.low === String(count);
      },
      10_000,
    );
    assert.deepEqual(segmentBaseOffsets(broker, topic, 0), [count], 'only a new, empty segment is left');
    assert.deepEqual(await topicOffsets(kafka, topic), [{ low: String(count), high: String(count) }]);
    assert.equal(await kcatEarliest(broker, topic), `${topic} [0] offset ${count}`);
    await replaceTopicConfigs(kafka, topic, [{ name: 'segment.bytes', value: '1024' }]);
    const after = 3;
    const late = kafka.producer();
    await late.connect();
    try {
      for (let i = count; i < count + after; i++) {
        await late.send({ topic, acks: -1, messages: [{ value: `rt-${i}-${'y'.repeat(100)}` }] });
      }
    } finally {
      await late.disconnect();
    }

    // A kcat -G member whose committed offset (1) was deleted resets by auto.offset.reset=earliest.
    const consumer = new ClientProcess('kcat', [
      '-b',
      broker.bootstrap,
      '-u',
      '-G',
      kcatGroup,
      '-X',
      'auto.offset.reset=earliest',
      '-f',
      '%o|%s\n',
      topic,
    ]);
    try {
      await waitFor('kcat -G to read from the new start', () => consumer.lines.length >= after, 15_000);
      await sleep(300);
      assert.deepEqual(
        consumer.lines,
        Array.from({ length: after }, (_, i) => `${count + i}|rt-${count + i}-${'y'.repeat(100)}`),
      );
    } finally {
      await consumer.stop();
    }
    await broker.stop();
  });

  test('segment.ms rolls segments under tailing consumers: nothing missed or duplicated', {
    timeout: 45_000,
  }, async () => {
    const broker = await startOnFixedPort();
    const topic = 'rolling';
    const kafka = createKafka(broker.bootstrap, patientClient);
    await createTopic(kafka, topic, 1, [{ name: 'segment.ms', value: '100' }]);
    const member = await startGroupConsumer(kafka, `rolling-${randomUUID()}`, topic);
    const tail = new ClientProcess('kcat', [
      '-b',
      broker.bootstrap,
      '-u',
      '-C',
      '-t',
      topic,
      '-p',
      '0',
      '-o',
      'beginning',
      '-f',
      '%o|%s\n',
    ]);
    const producer = kafka.producer();
    await producer.connect();
    const count = 60;
    const expected = Array.from({ length: count }, (_, i) => `${i}|r-${i}`);
    try {
      for (let i = 0; i < count; i++) {
        await producer.send({ topic, acks: -1, messages: [{ value: `r-${i}` }] });
        await sleep(25);
      }
      await waitFor(
        'both consumers to reach the end',
        () => member.received.length >= count && tail.lines.length >= count,
        15_000,
      );
      await sleep(300);
      assert.deepEqual(
        member.received.map((r) => `${r.offset}|${r.value}`),
        expected,
        'kafkajs group',
      );
      assert.deepEqual(tail.lines, expected, 'kcat tail');
    } finally {
      await producer.disconnect();
      await member.consumer.disconnect();
      await tail.stop();
    }
    const segments = segmentBaseOffsets(broker, topic, 0);
    assert.ok(segments.length >= 5, `segment.ms rolled: ${segments.join()}`);
    assert.deepEqual(await topicOffsets(kafka, topic), [{ low: '0', high: String(count) }]);
    await broker.stop();
  });

  test('a topic deleted under a producer and a kafkajs group, then re-created, starts again at 0', {
    timeout: 45_000,
  }, async () => {
    const broker = await startOnFixedPort(['--set', 'auto.create.topics.enable=false']);
    const topic = 'doomed';
    const kafka = createKafka(broker.bootstrap, patientClient);
    await createTopic(kafka, topic, 1);
    const groupId = `doomed-${randomUUID()}`;
    const idleGroup = `doomed-idle-${randomUUID()}`;
    const member = await startGroupConsumer(kafka, groupId, topic);
    const producer = kafka.producer({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 300 } });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let i = 0; i < 10; i++) {
        await producer.send({ topic, acks: -1, messages: [{ value: `d-${i}` }] });
      }
      await waitFor(
        'the group to consume and commit the first 10',
        async () => {
          return (
            member.received.length >= 10 && (await committedOffsets(kafka, groupId, topic)).join() === '10'
          );
        },
        15_000,
      );
      await commitAfterReading(kafka, [idleGroup], topic, 10);

      await admin.deleteTopics({ topics: [topic], timeout: 5_000 });
      assert.equal((await admin.listTopics()).includes(topic), false);
      await assert.rejects(
        producer.send({ topic, acks: -1, messages: [{ value: 'into-the-void' }] }),
        (error: Error & { type?: string; originalError?: { type?: string } }) => {
          assert.match(
            `${error.message} ${error.originalError?.type ?? ''}`,
            /does not host this topic|UNKNOWN_TOPIC/,
          );
          return true;
        },
      );
      assert.equal(broker.isRunning, true, 'the broker survives clients using a deleted topic');

      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      // Kafka drops a deleted topic's committed offsets; the new topic must not inherit them.
      assert.deepEqual(await committedOffsets(kafka, idleGroup, topic), ['-1']);
      for (let i = 0; i < 5; i++) {
        await producer.send({ topic, acks: -1, messages: [{ value: `n-${i}` }] });
      }
      const records = await kcatReadAll(broker.bootstrap, topic);
      assert.deepEqual(
        records.map((r) => `${r.offset}|${r.value}`),
        ['0|n-0', '1|n-1', '2|n-2', '3|n-3', '4|n-4'],
      );
      assert.deepEqual(await topicOffsets(kafka, topic), [{ low: '0', high: '5' }]);
      // The group member that was reading the old topic reads the new one from its start.
      await waitFor('the group to read the re-created topic', () => member.received.length >= 15, 20_000);
      await sleep(300);
      assert.deepEqual(
        member.received.map((r) => `${r.offset}|${r.value}`),
        [
          ...Array.from({ length: 10 }, (_, i) => `${i}|d-${i}`),
          ...Array.from({ length: 5 }, (_, i) => `${i}|n-${i}`),
        ],
        `crashes seen: ${member.crashes.join('; ')}`,
      );
    } finally {
      await admin.disconnect();
      await producer.disconnect();
      await member.consumer.disconnect();
    }
    await broker.stop();
  });
});
