import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProduceRequest, ProduceResponse } from '../../protocol/generated/produce.js';
import type { RecordsPayload } from '../../protocol/primitives/writer.js';
import { CodecId, decodeRecordBatches } from '../../protocol/records/index.js';
import {
  BufferFullError,
  ClientClosedError,
  KafkaClientError,
  RecordError,
  RequestTimeoutError,
  StaleMetadataError,
} from '../errors.js';
import type { TopicLayout } from './accumulator.js';
import { type EngineConfig, ProducerEngine } from './engine.js';
import { partitionForKey } from './murmur2.js';
import type { ProduceTarget } from './sender.js';
import { testEngineConfig, waitUntil } from './test-support.js';
import type { PartitionerContext } from './types.js';

const TOPIC = 'events';

interface SeenBatch {
  topic: string;
  partition: number;
  values: string[];
  producerId: number;
  baseSequence: number;
}

/** An in-memory broker: appends each batch to a per-partition log and answers with its base offset. */
class FakeTarget implements ProduceTarget {
  readonly layouts = new Map<string, TopicLayout>();
  readonly logs = new Map<string, string[]>();
  /** Every batch of every request, in the order the requests arrived. */
  readonly seen: SeenBatch[] = [];
  requests = 0;
  refreshes = 0;
  acks0 = false;
  /** Error code to answer for a batch (0 = accept); `attempt` counts requests for that partition. */
  errorFor: (topic: string, partition: number, attempt: number) => number = () => 0;
  /** InitProducerId offered (ids from 1000 up); false: the cluster lacks it. */
  offersIdempotence = true;
  readonly producerIds: number[] = [];
  /** Per partition, what the broker's sequence checks remember: producer id, next sequence, batches. */
  private readonly sequences = new Map<
    string,
    { producerId: number; nextSequence: number; written: Map<number, bigint> }
  >();
  /** Requests sent and not answered yet, and the most there ever were. */
  outstanding = 0;
  maxOutstanding = 0;
  private readonly attempts = new Map<string, number>();
  private gate: Promise<void> | null = null;
  private openGate: () => void = () => {};

  constructor(partitionCount: number, leader = 1) {
    this.setLayout(TOPIC, partitionCount, leader);
  }

  setLayout(topic: string, partitionCount: number, leader: number): void {
    this.layouts.set(topic, { partitionCount, leaders: new Array<number>(partitionCount).fill(leader) });
  }

  /** Holds every response until release(). */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.gate = null;
    this.openGate();
  }

  log(partition: number, topic = TOPIC): string[] {
    return this.logs.get(`${topic}/${partition}`) ?? [];
  }

  topicLayout(topic: string): TopicLayout | undefined {
    return this.layouts.get(topic);
  }

  async loadTopic(topic: string): Promise<TopicLayout> {
    if (!this.layouts.has(topic)) this.setLayout(topic, 2, 1);
    return this.layouts.get(topic)!;
  }

  async refreshMetadata(): Promise<void> {
    this.refreshes++;
  }

  async initProducerId(): Promise<{ producerId: number; producerEpoch: number } | null> {
    if (!this.offersIdempotence) return null;
    const producerId = 1000 + this.producerIds.length;
    this.producerIds.push(producerId);
    return { producerId, producerEpoch: 0 };
  }

  /** Producer ids whose state the broker lost: their batches get UNKNOWN_PRODUCER_ID (59). */
  private readonly forgotten = new Set<number>();

  /** Forgets every producer, as a broker that lost its state. */
  forgetProducers(): void {
    for (const state of this.sequences.values()) this.forgotten.add(state.producerId);
    this.sequences.clear();
  }

  /** A Kafka leader's check: 0, a duplicate's offset, or OUT_OF_ORDER_SEQUENCE_NUMBER / UNKNOWN_PRODUCER_ID. */
  private checkSequence(
    id: string,
    producerId: number,
    baseSequence: number,
  ): { code: number; dup?: bigint } {
    if (producerId < 0) return { code: 0 };
    if (this.forgotten.has(producerId)) return { code: 59 };
    const state = this.sequences.get(id);
    // A producer the partition does not know may start at any sequence.
    if (state === undefined || state.producerId !== producerId) return { code: 0 };
    const dup = state.written.get(baseSequence);
    if (dup !== undefined) return { code: 0, dup };
    return { code: baseSequence === state.nextSequence ? 0 : 45 };
  }
  async produce(_nodeId: number, request: ProduceRequest<RecordsPayload>): Promise<ProduceResponse | null> {
    this.requests++;
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    const answer: ProduceResponse = { responses: [], throttleTimeMs: 0, nodeEndpoints: [] };
    for (const topic of request.topicData) {
      const partitionResponses = [];
      for (const data of topic.partitionData) {
        assert.ok(data.records !== null);
        // The producer sends a batch as views of its memory chunks, back to back.
        const batches = decodeRecordBatches(
          Buffer.isBuffer(data.records) ? data.records : Buffer.concat(data.records),
        );
        assert.equal(batches.length, 1, 'one batch per partition per request');
        const values = batches[0]!.records.map((r) => r.value?.toString() ?? '<null>');
        const { producerId, baseSequence } = batches[0]!;
        this.seen.push({ topic: topic.name, partition: data.index, values, producerId, baseSequence });
        const id = `${topic.name}/${data.index}`;
        const attempt = (this.attempts.get(id) ?? 0) + 1;
        this.attempts.set(id, attempt);
        const batch = batches[0]!;
        const sequence = this.checkSequence(id, batch.producerId, batch.baseSequence);
        const errorCode = this.errorFor(topic.name, data.index, attempt) || sequence.code;
        const log = this.logs.get(id) ?? [];
        this.logs.set(id, log);
        let baseOffset = BigInt(log.length);
        if (errorCode === 0 && sequence.dup !== undefined) {
          baseOffset = sequence.dup;
        } else if (errorCode === 0) {
          log.push(...values);
          if (batch.producerId >= 0) {
            const state = this.sequences.get(id);
            const written =
              state?.producerId === batch.producerId ? state.written : new Map<number, bigint>();
            written.set(batch.baseSequence, baseOffset);
            this.sequences.set(id, {
              producerId: batch.producerId,
              nextSequence: batch.baseSequence + values.length,
              written,
            });
          }
        }
        partitionResponses.push({
          index: data.index,
          errorCode,
          baseOffset: errorCode === 0 ? baseOffset : -1n,
          logAppendTimeMs: -1n,
          logStartOffset: 0n,
          recordErrors: [],
          errorMessage: null,
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
        });
      }
      answer.responses.push({ name: topic.name, partitionResponses });
    }
    if (this.gate !== null) await this.gate;
    this.outstanding--;
    return this.acks0 ? null : answer;
  }
}

function engine(target: FakeTarget, overrides: Partial<EngineConfig> = {}): ProducerEngine {
  return new ProducerEngine(testEngineConfig(overrides), target);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const value200 = (i: number) => `${String(i).padStart(4, '0')}${'v'.repeat(196)}`;

describe('ProducerEngine (accumulator + sender)', () => {
  test('full batches go at once; the last one waits for linger or flush', async () => {
    const target = new FakeTarget(1);
    // A 200-byte keyless record takes 209 bytes: 4 fit in 1024 with the 61-byte header, 5 do not.
    // maxRequestSize = batchSize: no growing batches here.
    const producer = engine(target, { batchSize: 1024, maxRequestSize: 1024, lingerMs: 60_000 });
    const sent = producer.send(
      TOPIC,
      Array.from({ length: 18 }, (_, i) => ({ value: value200(i) })),
    );
    // Well before lingerMs (60 s); polled because a loaded machine may take a while for the four round trips.
    await waitUntil(() => target.seen.length >= 4, 2_000);
    await sleep(20);
    assert.deepEqual(
      target.seen.map((b) => b.values.length),
      [4, 4, 4, 4],
    );
    await producer.flush();
    assert.deepEqual(
      target.seen.map((b) => b.values.length),
      [4, 4, 4, 4, 2],
    );
    const results = await sent;
    assert.deepEqual(
      results.map((r) => r.offset),
      Array.from({ length: 18 }, (_, i) => i),
    );
    assert.deepEqual(
      target.log(0),
      Array.from({ length: 18 }, (_, i) => value200(i)),
    );
    await producer.close();
  });

  test('a blocked partition grows its open batch up to maxRequestSize, within bufferMemory', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target, {
      batchSize: 1024,
      maxRequestSize: 4096,
      bufferMemory: 8192,
      lingerMs: 60_000,
    });
    target.hold();
    const first = producer.send(
      TOPIC,
      Array.from({ length: 4 }, (_, i) => ({ value: value200(i) })),
    );
    await sleep(20); // the first (full) batch is in flight and held
    // 30 records of 209 bytes: 19 grow the open batch chunk by chunk to 4096 bytes (61 + 19 × 209 = 4032). The
    // next batch takes the other 11 (61 + 11 × 209 = 2360) in three 1024-byte chunks, which fills all 8192 bytes.
    const second = producer.send(
      TOPIC,
      Array.from({ length: 30 }, (_, i) => ({ value: value200(4 + i) })),
    );
    await sleep(20);
    assert.equal(producer.pool.availableBytes, 0);
    target.release();
    await first;
    await producer.flush();
    const results = await second;
    assert.deepEqual(
      results.map((r) => r.offset),
      Array.from({ length: 30 }, (_, i) => 4 + i),
    );
    assert.deepEqual(
      target.seen.map((b) => b.values.length),
      [4, 19, 11],
    );
    assert.equal(producer.pool.availableBytes, 8192);
    await producer.close();
  });

  test('a partial batch is sent after lingerMs', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target, { lingerMs: 120 });
    const startedMs = Date.now();
    const sent = producer.send(TOPIC, [{ value: 'a' }, { value: 'b' }]);
    await sleep(40);
    assert.equal(target.requests, 0);
    const results = await sent;
    assert.ok(Date.now() - startedMs >= 115, `sent after ${Date.now() - startedMs} ms`);
    assert.equal(target.requests, 1);
    assert.deepEqual(results, [
      { topic: TOPIC, partition: 0, offset: 0, timestamp: results[0]!.timestamp },
      { topic: TOPIC, partition: 0, offset: 1, timestamp: results[0]!.timestamp },
    ]);
    assert.ok(Math.abs(results[0]!.timestamp - startedMs) < 1_000);
    await producer.close();
  });

  test('send waits when the buffer is full and proceeds once batches complete', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target, { batchSize: 1024, bufferMemory: 2048, maxBlockMs: 5_000 });
    target.hold();
    const value = 'x'.repeat(900); // one record per 1024-byte batch
    const first = producer.send(TOPIC, [{ value }, { value }]);
    const startedMs = Date.now();
    let secondDone = false;
    const second = producer.send(TOPIC, [{ value }]).then((r) => {
      secondDone = true;
      return r;
    });
    await sleep(80);
    assert.equal(secondDone, false);
    assert.equal(producer.pool.availableBytes, 0);
    target.release();
    await first;
    const [result] = await second;
    assert.ok(Date.now() - startedMs >= 75);
    assert.equal(result!.offset, 2);
    await producer.flush();
    assert.equal(producer.pool.availableBytes, 2048, 'all memory released');
    await producer.close();
  });

  test('send rejects with BufferFullError after maxBlockMs when memory stays full', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target, { batchSize: 1024, bufferMemory: 2048, maxBlockMs: 100 });
    target.hold();
    const value = 'x'.repeat(900);
    const held = producer.send(TOPIC, [{ value }, { value }]);
    const startedMs = Date.now();
    await assert.rejects(producer.send(TOPIC, [{ value }]), BufferFullError);
    assert.ok(Date.now() - startedMs >= 95);
    assert.equal(producer.pool.availableBytes, 0, 'never more than bufferMemory');
    target.release();
    await held;
    await producer.flush();
    assert.equal(producer.pool.availableBytes, 2048);
    await producer.close();
  });

  test('a retried batch is not overtaken by later records of its partition', async () => {
    const target = new FakeTarget(2);
    // Partition 0's first attempt fails with NOT_LEADER_OR_FOLLOWER (6), a retriable stale-metadata error.
    target.errorFor = (_topic, partition, attempt) => (partition === 0 && attempt === 1 ? 6 : 0);
    const producer = engine(target, { batchSize: 300, maxRequestSize: 300 }); // one 200-byte record per batch
    const sends = Array.from({ length: 10 }, (_, i) =>
      producer.send(TOPIC, [
        { value: value200(i), partition: 0 },
        { value: value200(100 + i), partition: 1 },
      ]),
    );
    const results = await Promise.all(sends);
    assert.deepEqual(
      target.log(0),
      Array.from({ length: 10 }, (_, i) => value200(i)),
    );
    assert.deepEqual(
      results.map(([r]) => r!.offset),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.deepEqual(
      target.seen.filter((b) => b.partition === 0).map((b) => b.values[0]),
      [value200(0), ...Array.from({ length: 10 }, (_, i) => value200(i))],
      'the failed batch was resent first',
    );
    assert.ok(target.refreshes >= 1, 'metadata refreshed after NOT_LEADER_OR_FOLLOWER');
    await producer.close();
  });

  test('retriable errors give up after `retries` retries', async () => {
    const target = new FakeTarget(1);
    target.errorFor = () => 6;
    const producer = engine(target, { retries: 2 });
    const error = await producer.send(TOPIC, [{ value: 'a' }]).then(
      () => assert.fail('should reject'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StaleMetadataError);
    assert.equal(error.type, 'NOT_LEADER_OR_FOLLOWER');
    assert.equal(error.partition, 0);
    assert.equal(target.requests, 3);
    await producer.close();
  });

  test('non-retriable errors reject the batch records with the typed error, others succeed', async () => {
    const target = new FakeTarget(2);
    target.errorFor = (_topic, partition) => (partition === 1 ? 10 : 0); // MESSAGE_TOO_LARGE
    const producer = engine(target);
    const good = producer.send(TOPIC, [{ value: 'ok', partition: 0 }]);
    const bad = producer.send(TOPIC, [{ value: 'big', partition: 1 }]);
    assert.deepEqual(
      (await good).map((r) => r.offset),
      [0],
    );
    const error = await bad.then(
      () => assert.fail('should reject'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RecordError);
    assert.equal(error.code, 10);
    assert.equal(error.type, 'MESSAGE_TOO_LARGE');
    assert.equal(target.seen.filter((b) => b.partition === 1).length, 1, 'not retried');
    await producer.close();
  });

  test('acks=0 resolves with offset -1', async () => {
    const target = new FakeTarget(1);
    target.acks0 = true;
    const producer = engine(target, { acks: 0 });
    const results = await producer.send(TOPIC, [
      { value: 'a', timestamp: 42 },
      { value: 'b', timestamp: 43 },
    ]);
    assert.deepEqual(results, [
      { topic: TOPIC, partition: 0, offset: -1, timestamp: 42 },
      { topic: TOPIC, partition: 0, offset: -1, timestamp: 43 },
    ]);
    await producer.close();
  });

  test('one batch of one-record sends around a send of several: offsets and timestamps in order', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target);
    const before = Date.now();
    const first = producer.send(TOPIC, [{ value: 'a', timestamp: 10 }]);
    const several = producer.send(TOPIC, [{ value: 'b', timestamp: 11 }, { value: 'c' }]);
    const last = producer.send(TOPIC, [{ value: 'd', timestamp: 13 }]);
    assert.deepEqual(await first, [{ topic: TOPIC, partition: 0, offset: 0, timestamp: 10 }]);
    const [b, c] = await several;
    assert.deepEqual(b, { topic: TOPIC, partition: 0, offset: 1, timestamp: 11 });
    assert.equal(c!.offset, 2);
    assert.ok(c!.timestamp >= before && c!.timestamp <= Date.now(), 'the time of the send() call');
    assert.deepEqual(await last, [{ topic: TOPIC, partition: 0, offset: 3, timestamp: 13 }]);
    assert.deepEqual(target.logs.get(`${TOPIC}/0`), ['a', 'b', 'c', 'd']);
    assert.equal(target.seen.length, 1, 'one batch');
    await producer.close();
  });

  test('a failed batch rejects its one-record sends and its send of several alike', async () => {
    const target = new FakeTarget(1);
    target.errorFor = () => 10; // MESSAGE_TOO_LARGE
    const producer = engine(target);
    const sends = [
      producer.send(TOPIC, [{ value: 'a' }]),
      producer.send(TOPIC, [{ value: 'b' }, { value: 'c' }]),
      producer.send(TOPIC, [{ value: 'd' }]),
    ];
    const outcomes = await Promise.allSettled(sends);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'rejected' ? (o.reason as RecordError).type : o.status)),
      ['MESSAGE_TOO_LARGE', 'MESSAGE_TOO_LARGE', 'MESSAGE_TOO_LARGE'],
    );
    assert.equal(target.seen.length, 1, 'one batch, not retried');
    await producer.close();
  });

  test('keyless records stick to one partition until its batch closes (KIP-480)', async () => {
    const target = new FakeTarget(4);
    const producer = engine(target, { batchSize: 1024, lingerMs: 60_000 });
    const first = producer.send(
      TOPIC,
      Array.from({ length: 4 }, (_, i) => ({ value: value200(i) })),
    );
    // The 5th record does not fit the sticky partition's batch: that batch closes, the record moves on.
    const second = producer.send(TOPIC, [{ value: value200(4) }, { value: value200(5) }]);
    await producer.flush();
    const [a, b] = [await first, await second];
    const stickyA = a[0]!.partition;
    assert.deepEqual(
      a.map((r) => r.partition),
      [stickyA, stickyA, stickyA, stickyA],
    );
    const stickyB = b[0]!.partition;
    assert.notEqual(stickyB, stickyA);
    assert.equal(b[1]!.partition, stickyB);
    // The flush sent stickyB's batch, so the next keyless record goes elsewhere again.
    const [c] = await Promise.all([producer.send(TOPIC, [{ value: 'c' }]), producer.flush()]);
    assert.notEqual(c[0]!.partition, stickyB);
    await producer.close();
  });

  test('keys hash like the Java client, explicit partitions win, custom partitioners get the context', async () => {
    const target = new FakeTarget(7);
    const producer = engine(target);
    const keys = ['a', 'b', 'order-42', 'ünïcødé'];
    const results = await producer.send(TOPIC, [
      ...keys.map((key) => ({ key, value: key })),
      { key: Buffer.from('a'), value: 'buffer key' },
      { key: 'a', value: 'explicit', partition: 6 },
    ]);
    assert.deepEqual(
      results.map((r) => r.partition),
      [...keys.map((key) => partitionForKey(key, 7)), partitionForKey('a', 7), 6],
    );
    assert.equal(partitionForKey('a', 7), 5); // murmur2("a") = -1563381124 → & 0x7fffffff → % 7

    const contexts: PartitionerContext[] = [];
    const custom = engine(target, {
      partitioner: (context) => {
        contexts.push(context);
        return context.partitionCount - 1;
      },
    });
    const [r] = await custom.send(TOPIC, [{ key: 'k', value: 'v', headers: { h: 'x' } }]);
    assert.equal(r!.partition, 6);
    assert.deepEqual(contexts, [
      {
        topic: TOPIC,
        key: 'k',
        value: 'v',
        headers: { h: 'x' },
        partitionCount: 7,
        availablePartitions: [0, 1, 2, 3, 4, 5, 6],
      },
    ]);
    const invalid = await custom.send(TOPIC, [{ value: 'v', partition: 7 }]).then(
      () => assert.fail('should reject'),
      (e: unknown) => e,
    );
    assert.ok(invalid instanceof KafkaClientError);
    assert.equal(invalid.type, 'INVALID_PARTITION');
    await Promise.all([producer.close(), custom.close()]);
  });

  test('a record larger than maxRequestSize is refused before sending', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target, { maxRequestSize: 1000 });
    await assert.rejects(producer.send(TOPIC, [{ value: 'x'.repeat(1000) }]), (e: unknown) => {
      return e instanceof RecordError && e.type === 'MESSAGE_TOO_LARGE';
    });
    assert.equal(target.requests, 0);
    await producer.close();
  });

  test('batches without a leader expire after deliveryTimeoutMs', async () => {
    const target = new FakeTarget(1, -1);
    const producer = engine(target, { deliveryTimeoutMs: 150 });
    const startedMs = Date.now();
    await assert.rejects(producer.send(TOPIC, [{ value: 'a' }]), RequestTimeoutError);
    assert.ok(Date.now() - startedMs >= 145);
    assert.equal(target.requests, 0);
    assert.ok(target.refreshes >= 1);
    await producer.close();
  });

  test('unknown topics are loaded first; close flushes; send after close is refused', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target, { lingerMs: 60_000 });
    const sent = producer.send('new-topic', [{ key: 'k', value: 'v' }]);
    await producer.close();
    const [result] = await sent;
    assert.equal(result!.partition, partitionForKey('k', 2));
    assert.deepEqual(target.log(result!.partition, 'new-topic'), ['v']);
    await assert.rejects(producer.send(TOPIC, [{ value: 'late' }]), ClientClosedError);
  });

  test('flush covers a send still loading its topic', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target, { lingerMs: 60_000 });
    const startedMs = Date.now();
    const sent = producer.send('loading', [{ value: 'v' }]);
    await producer.flush();
    assert.deepEqual(
      (await sent).map((r) => r.offset),
      [0],
    );
    assert.ok(Date.now() - startedMs < 5_000);
    await producer.close();
  });

  test('compressed batches carry the codec', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target, { codec: CodecId.lz4 });
    await producer.send(TOPIC, [{ value: 'compressed' }]);
    assert.deepEqual(target.log(0), ['compressed']);
    await producer.close();
  });
});

describe('ProducerEngine, idempotent', () => {
  const idempotent: Partial<EngineConfig> = {
    idempotence: 'preferred',
    maxInFlightPerPartition: 5,
    batchSize: 300,
    maxRequestSize: 300, // one 200-byte record per batch
  };
  /** Lets the sender run a few turns of the event loop. */
  const turns = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  test('batches carry the producer id and per-partition sequences, five in flight per partition', async () => {
    const target = new FakeTarget(2);
    target.hold();
    const producer = engine(target, { ...idempotent, maxRequestSize: 1024 * 1024 });
    const sends = Array.from({ length: 8 }, (_, i) =>
      producer.send(TOPIC, [{ value: value200(i), partition: i % 2 === 0 ? 0 : 1 }]),
    );
    await turns();
    // Four batches per partition, all in flight at once (one batch per partition per request).
    assert.equal(target.outstanding, 4);
    target.release();
    const offsets = (await Promise.all(sends)).map(([r]) => [r!.partition, r!.offset]);
    assert.deepEqual(offsets, [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [0, 2],
      [1, 2],
      [0, 3],
      [1, 3],
    ]);
    assert.deepEqual(target.producerIds, [1000]);
    for (const partition of [0, 1]) {
      assert.deepEqual(
        target.seen.filter((b) => b.partition === partition).map((b) => [b.producerId, b.baseSequence]),
        [0, 1, 2, 3].map((sequence) => [1000, sequence]),
      );
    }
    await producer.close();
  });

  test('a batch retried behind four in flight: the later ones follow it, each written once, in order', async () => {
    const target = new FakeTarget(1);
    // The second request fails with NOT_LEADER_OR_FOLLOWER; the broker then refuses the three behind it with
    // OUT_OF_ORDER_SEQUENCE_NUMBER, as a Kafka leader does after a gap.
    target.errorFor = (_topic, _partition, attempt) => (attempt === 2 ? 6 : 0);
    target.hold();
    const producer = engine(target, idempotent);
    const sends = Array.from({ length: 10 }, (_, i) => producer.send(TOPIC, [{ value: value200(i) }]));
    await turns();
    assert.equal(target.outstanding, 5);
    target.release();
    const results = await Promise.all(sends);
    assert.deepEqual(
      target.log(0),
      Array.from({ length: 10 }, (_, i) => value200(i)),
    );
    assert.deepEqual(
      results.map(([r]) => r!.offset),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.deepEqual(target.producerIds, [1000], 'a gap behind a retried batch keeps the producer id');
    await producer.close();
  });

  test('a broker that lost the producer: a new producer id, sequences from 0, nothing lost or doubled', async () => {
    const target = new FakeTarget(1);
    const producer = engine(target, idempotent);
    for (let i = 0; i < 3; i++) await producer.send(TOPIC, [{ value: value200(i) }]);
    target.forgetProducers();
    const later = await Promise.all([3, 4].map((i) => producer.send(TOPIC, [{ value: value200(i) }])));
    assert.deepEqual(
      later.map(([r]) => r!.offset),
      [3, 4],
    );
    assert.deepEqual(
      target.log(0),
      Array.from({ length: 5 }, (_, i) => value200(i)),
    );
    assert.deepEqual(target.producerIds, [1000, 1001]);
    assert.deepEqual(
      target.seen.slice(-2).map((b) => [b.producerId, b.baseSequence]),
      [
        [1001, 0],
        [1001, 1],
      ],
    );
    await producer.close();
  });

  test('without InitProducerId, the default falls back to a plain producer with one batch in flight', async () => {
    const target = new FakeTarget(1);
    target.offersIdempotence = false;
    target.hold();
    const producer = engine(target, idempotent);
    const sends = Array.from({ length: 3 }, (_, i) => producer.send(TOPIC, [{ value: value200(i) }]));
    await turns();
    assert.equal(target.outstanding, 1);
    target.release();
    await Promise.all(sends);
    assert.deepEqual(
      target.seen.map((b) => [b.producerId, b.baseSequence]),
      [
        [-1, -1],
        [-1, -1],
        [-1, -1],
      ],
    );
    await producer.close();
  });

  test('after falling back, a partition blocked behind its one batch in flight grows its open batch', async () => {
    const target = new FakeTarget(1);
    target.offersIdempotence = false;
    target.hold();
    const producer = engine(target, { ...idempotent, maxRequestSize: 1024 * 1024 });
    const first = producer.send(TOPIC, [{ value: value200(0) }]);
    await turns();
    assert.equal(target.outstanding, 1);
    const rest = Array.from({ length: 8 }, (_, i) => producer.send(TOPIC, [{ value: value200(1 + i) }]));
    await turns();
    target.release();
    await Promise.all([first, ...rest]);
    // With five in flight still assumed, the eight would have gone as batches of one.
    assert.deepEqual(
      target.seen.map((b) => b.values.length),
      [1, 8],
    );
    await producer.close();
  });

  test('idempotent: true fails sends when the cluster lacks InitProducerId', async () => {
    const target = new FakeTarget(1);
    target.offersIdempotence = false;
    const producer = engine(target, { ...idempotent, idempotence: 'required' });
    await assert.rejects(producer.send(TOPIC, [{ value: 'v' }]), {
      type: 'IDEMPOTENCE_UNAVAILABLE',
      retriable: false,
    });
    assert.equal(target.requests, 0);
    await producer.close();
  });
});
