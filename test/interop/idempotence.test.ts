// The idempotent producer against a real Sluice process, with Kafka's semantics: InitProducerId hands out
// producer ids; per partition and producer id the broker remembers the last five batches, answers a resent one
// with its original offset without appending it again, refuses gaps, stale epochs and transactional batches
// outside a transaction, and keeps that state across a clean restart and a kill -9. Then five real clients
// produce with idempotence on and the log must hold each record once, in order, in batches stamped with the
// producer id and sequences. (Transactions have their own tests: transactions.test.ts.)
// Raw requests use the project's generated codecs and record batch encoder (which computes the CRC); the log is
// read back with Fetch v4 so that batch headers (producer id, epoch, base sequence) can be checked too.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import { Producer as SluiceProducer } from '../../src/client/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  CreateTopicsApi,
  DeleteTopicsApi,
  FetchApi,
  InitProducerIdApi,
  type InitProducerIdResponse,
  ProduceApi,
  type ProduceResponsePartitionProduceResponse,
} from '../../src/protocol/generated/index.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/records/index.js';
import { type Broker, disposeAllBrokers, makeTempDir, startBroker } from '../helpers/broker.js';
import { byPartition, createKafka, readAll } from '../helpers/kafka.js';
import { loadPlatformatic } from '../helpers/platformatic.js';
import { runProgram, runProgramOk } from '../helpers/process.js';
import { assertPythonModule, PYTHON } from '../helpers/python.js';
import { decodeApiVersionsV0, encodeRequest, exchange } from '../helpers/raw.js';
import { buildSaramaProgram, goMissingReason } from '../helpers/sarama.js';
import { findTransactionCoordinator } from '../helpers/transactions.js';
import { encodeFrame, singlePartitionFetch, WireClient } from '../helpers/wire-client.js';

const testTimeoutMs = 30_000;
const programTimeoutMs = 25_000;
const INIT_PRODUCER_ID_KEY = 22;
const MAX_SEQUENCE = 2_147_483_647;
/** Produce v3 is the first with magic-2 batches and a transactional id; v9 is the first flexible one. */
const PRODUCE_V3 = 3;
const PRODUCE_V9 = 9;
const FETCH_VERSION = 4;
const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
const CLIENT_PARTITIONS = 4;
const CLIENT_MESSAGES = 300;
const CLIENT_KEYS = 13;
// A kill -9 must not lose what was acknowledged, or a resend after it could not be recognised as a duplicate.
const durableArgs = ['--set', 'log.flush.interval.messages=1'];

const skipSarama = await goMissingReason();
const { Producer: PlatformaticProducer, stringSerializers } = await loadPlatformatic();

/** The InitProducerId versions the broker advertises in ApiVersions v0, or undefined. */
async function initProducerIdVersions(
  port: number,
): Promise<{ minVersion: number; maxVersion: number } | undefined> {
  const result = await exchange(encodeRequest(18, 0, 1, 'idempotence-test'), { port, expectFrames: 1 });
  const frame = result.frames[0];
  assert.ok(frame, 'no ApiVersions response');
  const versions = decodeApiVersionsV0(frame);
  assert.equal(versions.errorCode, 0);
  return versions.apiKeys.find((entry) => entry.apiKey === INIT_PRODUCER_ID_KEY);
}

async function createTopic(client: WireClient, name: string, partitions: number): Promise<void> {
  const response = await client.call(CreateTopicsApi, 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  assert.equal(response.topics[0]?.errorCode, 0, `CreateTopics ${name}: ${JSON.stringify(response.topics)}`);
}

async function initProducerId(
  client: WireClient,
  version = 0,
  transactionalId: string | null = null,
): Promise<InitProducerIdResponse> {
  return client.call(InitProducerIdApi, version, {
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
}

/** A fresh producer id from InitProducerId v0, checked to be a valid first grant. */
async function newProducerId(client: WireClient): Promise<bigint> {
  const response = await initProducerId(client);
  assert.equal(response.errorCode, 0, `InitProducerId: ${JSON.stringify(response, bigintJson)}`);
  assert.equal(response.producerEpoch, 0);
  assert.ok(response.producerId >= 0n, `producer id ${response.producerId}`);
  return response.producerId;
}

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

interface BatchFields {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  isTransactional?: boolean;
  compression?: 'gzip' | 'lz4';
}

const batchTimestampMs = Date.now();

/** One magic-2 batch of unkeyed records with these values, stamped with the producer fields (CRC included). */
function batch(values: readonly string[], fields: BatchFields): Buffer {
  return encodeRecordBatch({
    records: values.map((value) => ({ key: null, value: Buffer.from(value), timestamp: batchTimestampMs })),
    producerId: Number(fields.producerId),
    producerEpoch: fields.producerEpoch,
    baseSequence: fields.baseSequence,
    isTransactional: fields.isTransactional ?? false,
    compression: fields.compression ?? 'none',
  });
}

/** What a test compares: the error code, and the base offset when there is no error. */
type Outcome = { errorCode: 0; baseOffset: bigint } | { errorCode: number };

function outcomeOf(response: ProduceResponsePartitionProduceResponse): Outcome {
  return response.errorCode === 0
    ? { errorCode: 0, baseOffset: response.baseOffset }
    : { errorCode: response.errorCode };
}

const ok = (baseOffset: number): Outcome => ({ errorCode: 0, baseOffset: BigInt(baseOffset) });
const failed = (errorCode: number): Outcome => ({ errorCode });

async function produceRaw(
  client: WireClient,
  topic: string,
  partition: number,
  records: Buffer,
  options: { version?: number; transactionalId?: string | null } = {},
): Promise<ProduceResponsePartitionProduceResponse> {
  const response = await client.call(ProduceApi, options.version ?? PRODUCE_V9, {
    transactionalId: options.transactionalId ?? null,
    acks: -1,
    timeoutMs: 5_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const answer = response.responses[0]?.partitionResponses[0];
  assert.ok(answer, `Produce ${topic}-${partition}: no partition in ${JSON.stringify(response, bigintJson)}`);
  return answer;
}

async function produce(
  client: WireClient,
  topic: string,
  partition: number,
  records: Buffer,
  options: { version?: number; transactionalId?: string | null } = {},
): Promise<Outcome> {
  return outcomeOf(await produceRaw(client, topic, partition, records, options));
}

/** One record as read back, with the header of the batch holding it. */
interface LoggedRecord {
  offset: number;
  key: string | null;
  value: string | null;
  batchBaseOffset: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Every record of the partition, read with Fetch from offset 0 up to the high watermark. */
async function readPartition(
  client: WireClient,
  topic: string,
  partition: number,
  isolationLevel: 0 | 1 = READ_UNCOMMITTED,
): Promise<LoggedRecord[]> {
  const records: LoggedRecord[] = [];
  let fetchOffset = 0n;
  for (let round = 0; round < 100; round++) {
    const response = await client.call(
      FetchApi,
      FETCH_VERSION,
      singlePartitionFetch(topic, partition, fetchOffset, isolationLevel),
    );
    const data = response.responses[0]?.partitions[0];
    assert.ok(data, `Fetch ${topic}-${partition}: no partition in the response`);
    assert.equal(data.errorCode, 0, `Fetch ${topic}-${partition} at ${fetchOffset}`);
    // Without transactions nothing is pending: read_committed consumers (kafkajs's default) see everything.
    assert.equal(
      data.lastStableOffset,
      data.highWatermark,
      `Fetch ${topic}-${partition}: last stable offset`,
    );
    assert.deepEqual(data.abortedTransactions ?? [], [], `Fetch ${topic}-${partition}: aborted transactions`);
    if (fetchOffset >= data.highWatermark) return records;
    const batches = decodeRecordBatches(data.records ?? Buffer.alloc(0));
    assert.ok(batches.length > 0, `Fetch ${topic}-${partition} at ${fetchOffset}: no whole batch`);
    for (const decoded of batches) {
      for (const record of decoded.records) {
        if (record.offset < Number(fetchOffset)) continue;
        records.push({
          offset: record.offset,
          key: record.key === null ? null : record.key.toString(),
          value: record.value === null ? null : record.value.toString(),
          batchBaseOffset: decoded.baseOffset,
          producerId: decoded.producerId,
          producerEpoch: decoded.producerEpoch,
          baseSequence: decoded.baseSequence,
          recordCount: decoded.records.length,
        });
      }
      fetchOffset = BigInt(decoded.baseOffset + decoded.lastOffsetDelta + 1);
    }
  }
  throw new Error(`Fetch ${topic}-${partition}: still short of the high watermark after 100 rounds`);
}

/** [offset, value] of every record of the partition: what "exactly once, in order" is checked against. */
async function logOf(
  client: WireClient,
  topic: string,
  partition: number,
): Promise<[number, string | null][]> {
  return (await readPartition(client, topic, partition)).map((record) => [record.offset, record.value]);
}

function entries(first: number, values: readonly string[]): [number, string][] {
  return values.map((value, index) => [first + index, value]);
}

/**
 * A check that one broker never hands out a producer id twice: the returned function fails on an id it saw
 * before, else remembers it and returns it.
 */
function distinctIdCheck(): (producerId: bigint) => bigint {
  const granted = new Set<bigint>();
  return (producerId) => {
    assert.ok(!granted.has(producerId), `producer id ${producerId} was handed out before: ${[...granted]}`);
    granted.add(producerId);
    return producerId;
  };
}

describe('idempotent producer', { timeout: 120_000 }, () => {
  let broker: Broker;
  let client: WireClient;
  const grant = distinctIdCheck();

  before(async () => {
    broker = await startBroker();
    client = await WireClient.connect(broker.port);
  });

  after(async () => {
    client?.close();
    await disposeAllBrokers();
  });

  describe('raw protocol', () => {
    const topic = 'idempotence-raw';

    before(async () => {
      await createTopic(client, topic, 12);
    });

    test('ApiVersions advertises InitProducerId', { timeout: testTimeoutMs }, async () => {
      const range = await initProducerIdVersions(broker.port);
      assert.ok(range, 'InitProducerId (22) is not advertised');
      assert.equal(range.minVersion, 0);
    });

    test('InitProducerId: a new producer id at epoch 0 per call, every advertised version; a transactional id keeps its id and bumps its epoch', {
      timeout: testTimeoutMs,
    }, async () => {
      const range = await initProducerIdVersions(broker.port);
      assert.ok(range, 'InitProducerId (22) is not advertised');
      for (let version = range.minVersion; version <= range.maxVersion; version++) {
        for (let call = 0; call < 2; call++) {
          const response = await initProducerId(client, version);
          assert.deepEqual(
            { errorCode: response.errorCode, producerEpoch: response.producerEpoch },
            { errorCode: 0, producerEpoch: 0 },
            `InitProducerId v${version}`,
          );
          assert.ok(response.producerId >= 0n, `InitProducerId v${version}: id ${response.producerId}`);
          grant(response.producerId);
        }
        const transactionalId = `sluice-txn-v${version}`;
        // As with Kafka, the transaction coordinator serves an id once FindCoordinator has found it.
        assert.equal((await findTransactionCoordinator(client, transactionalId)).errorCode, 0);
        const first = await initProducerId(client, version, transactionalId);
        const second = await initProducerId(client, version, transactionalId);
        assert.deepEqual(
          [first.errorCode, first.producerEpoch, second.errorCode, second.producerEpoch],
          [0, 0, 0, 1],
          `InitProducerId v${version} with a transactional id: ${JSON.stringify([first, second], bigintJson)}`,
        );
        assert.equal(second.producerId, first.producerId);
        grant(first.producerId);
      }
    });

    test('a resent batch among the last five gets its original offset and is not appended again', {
      timeout: testTimeoutMs,
    }, async () => {
      const partition = 0;
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const batches = [
        batch(['a0', 'a1', 'a2'], { ...fields, baseSequence: 0 }),
        batch(['a3', 'a4'], { ...fields, baseSequence: 3 }),
        batch(['a5'], { ...fields, baseSequence: 5 }),
        batch(['a6', 'a7'], { ...fields, baseSequence: 6 }),
        batch(['a8'], { ...fields, baseSequence: 8 }),
        batch(['a9', 'a10'], { ...fields, baseSequence: 9 }),
      ];
      const send = (index: number, version = PRODUCE_V9) =>
        produce(client, topic, partition, batches[index]!, { version });
      const outcomes = [
        await send(0),
        await send(0),
        await send(0, PRODUCE_V3),
        await send(1, PRODUCE_V3),
        await send(1),
        await send(0),
        await send(2),
        await send(3),
        await send(4),
        // Five batches are remembered: 1-4 and this one push batch 0 out.
        await send(5),
        await send(1),
        await send(5, PRODUCE_V3),
        await send(0),
        // Same base sequence as the first batch but fewer records: not the same batch.
        await produce(client, topic, partition, batch(['a0', 'a1'], { ...fields, baseSequence: 0 })),
        await produce(client, topic, partition, batch(['a11'], { ...fields, baseSequence: 11 })),
      ];
      assert.deepEqual(outcomes, [
        ok(0),
        ok(0),
        ok(0),
        ok(3),
        ok(3),
        ok(0),
        ok(5),
        ok(6),
        ok(8),
        ok(9),
        ok(3),
        ok(9),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        ok(11),
      ]);
      assert.deepEqual(
        await logOf(client, topic, partition),
        entries(0, ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10', 'a11']),
      );
    });

    test('a sequence gap or an overlap is OUT_OF_ORDER_SEQUENCE_NUMBER and appends nothing', {
      timeout: testTimeoutMs,
    }, async () => {
      const partition = 1;
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const send = (values: string[], baseSequence: number) =>
        produce(client, topic, partition, batch(values, { ...fields, baseSequence }));
      const outcomes = [
        await send(['b0', 'b1'], 0),
        await send(['gap'], 3),
        await send(['overlap'], 1),
        await send(['overlap', 'b2'], 1),
        await send(['far'], MAX_SEQUENCE),
        await send(['b2'], 2),
        await send(['b3', 'b4'], 3),
      ];
      assert.deepEqual(outcomes, [
        ok(0),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        ok(2),
        ok(3),
      ]);
      assert.deepEqual(await logOf(client, topic, partition), entries(0, ['b0', 'b1', 'b2', 'b3', 'b4']));
    });

    test('epochs: a lower one is INVALID_PRODUCER_EPOCH, a higher one must start at sequence 0', {
      timeout: testTimeoutMs,
    }, async () => {
      const partition = 2;
      const producerId = grant(await newProducerId(client));
      const send = (value: string, producerEpoch: number, baseSequence: number) =>
        produce(client, topic, partition, batch([value], { producerId, producerEpoch, baseSequence }));
      const outcomes = [
        await send('e0-s0', 0, 0),
        await send('e0-s1', 0, 1),
        await send('e1-s5', 1, 5),
        await send('e1-s2', 1, 2),
        await send('e1-s0', 1, 0),
        await send('e0-s2', 0, 2),
        await send('e0-s0-again', 0, 0),
        await send('e1-s1', 1, 1),
        // A duplicate of the new epoch's batch is still recognised.
        await send('e1-s1', 1, 1),
        await send('e3-s0', 3, 0),
        await send('e1-s2', 1, 2),
      ];
      assert.deepEqual(outcomes, [
        ok(0),
        ok(1),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        ok(2),
        failed(ErrorCode.INVALID_PRODUCER_EPOCH),
        failed(ErrorCode.INVALID_PRODUCER_EPOCH),
        ok(3),
        ok(3),
        ok(4),
        failed(ErrorCode.INVALID_PRODUCER_EPOCH),
      ]);
      const logged = await readPartition(client, topic, partition);
      assert.deepEqual(
        logged.map((record) => [record.offset, record.value, record.producerEpoch, record.baseSequence]),
        [
          [0, 'e0-s0', 0, 0],
          [1, 'e0-s1', 0, 1],
          [2, 'e1-s0', 1, 0],
          [3, 'e1-s1', 1, 1],
          [4, 'e3-s0', 3, 0],
        ],
      );
    });

    test('a producer id the partition has not seen is accepted at any sequence', {
      timeout: testTimeoutMs,
    }, async () => {
      const partition = 3;
      const first = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const second = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const outcomes = [
        await produce(
          client,
          topic,
          partition,
          batch(['p1-1000', 'p1-1001'], { ...first, baseSequence: 1000 }),
        ),
        await produce(client, topic, partition, batch(['p2-77'], { ...second, baseSequence: 77 })),
        await produce(client, topic, partition, batch(['p1-1002'], { ...first, baseSequence: 1002 })),
        await produce(
          client,
          topic,
          partition,
          batch(['p1-1000', 'p1-1001'], { ...first, baseSequence: 1000 }),
        ),
        await produce(client, topic, partition, batch(['p2-77'], { ...second, baseSequence: 77 })),
        await produce(client, topic, partition, batch(['p2-79'], { ...second, baseSequence: 79 })),
        await produce(client, topic, partition, batch(['p2-78'], { ...second, baseSequence: 78 })),
        // Another partition has not seen the first producer either.
        await produce(client, topic, partition + 1, batch(['elsewhere'], { ...first, baseSequence: 5 })),
      ];
      assert.deepEqual(outcomes, [
        ok(0),
        ok(2),
        ok(3),
        ok(0),
        ok(2),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        ok(4),
        ok(0),
      ]);
      assert.deepEqual(
        await logOf(client, topic, partition),
        entries(0, ['p1-1000', 'p1-1001', 'p2-77', 'p1-1002', 'p2-78']),
      );
    });

    test('sequences wrap from 2147483647 to 0', { timeout: testTimeoutMs }, async () => {
      const partition = 4;
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const send = (values: string[], baseSequence: number) =>
        produce(client, topic, partition, batch(values, { ...fields, baseSequence }));
      const outcomes = [
        // 'elsewhere' from the previous test sits at offset 0 of this partition.
        await send(['w45', 'w46'], MAX_SEQUENCE - 2),
        // Sequences 2147483647, 0 and 1: the batch crosses the wrap.
        await send(['w47', 'w0', 'w1'], MAX_SEQUENCE),
        await send(['w2'], 2),
        await send(['w47', 'w0', 'w1'], MAX_SEQUENCE),
        await send(['w0'], 0),
        await send(['w3'], 3),
      ];
      assert.deepEqual(outcomes, [
        ok(1),
        ok(3),
        ok(6),
        ok(3),
        failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        ok(7),
      ]);
      assert.deepEqual(
        await logOf(client, topic, partition),
        entries(0, ['elsewhere', 'w45', 'w46', 'w47', 'w0', 'w1', 'w2', 'w3']),
      );
    });

    test('a transactional batch outside any transaction is refused and appends nothing', {
      timeout: testTimeoutMs,
    }, async () => {
      const partition = 5;
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const refused = await produceRaw(
        client,
        topic,
        partition,
        batch(['txn'], { ...fields, baseSequence: 0, isTransactional: true }),
        { transactionalId: 'sluice-txn' },
      );
      assert.notEqual(refused.errorCode, 0, `transactional batch: ${JSON.stringify(refused, bigintJson)}`);
      // Nothing of it is remembered either: the same producer starts its idempotent sequence at 0.
      const outcomes = [
        await produce(client, topic, partition, batch(['plain0'], { ...fields, baseSequence: 0 })),
        await produce(client, topic, partition, batch(['plain1'], { ...fields, baseSequence: 1 })),
      ];
      assert.deepEqual(outcomes, [ok(0), ok(1)]);
      assert.deepEqual(await logOf(client, topic, partition), entries(0, ['plain0', 'plain1']));
    });
    test('pipelined requests on one connection are checked and appended in order', {
      timeout: testTimeoutMs,
    }, async () => {
      const partition = 6;
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const inFlight = [0, 2, 4, 6, 8].map((baseSequence) =>
        produce(
          client,
          topic,
          partition,
          batch([`q${baseSequence}`, `q${baseSequence + 1}`], { ...fields, baseSequence }),
        ),
      );
      assert.deepEqual(await Promise.all(inFlight), [ok(0), ok(2), ok(4), ok(6), ok(8)]);
      // A retry sent right behind the batch it repeats, before that one is answered.
      const retried = batch(['q10'], { ...fields, baseSequence: 10 });
      const next = batch(['q11'], { ...fields, baseSequence: 11 });
      assert.deepEqual(
        await Promise.all([
          produce(client, topic, partition, retried),
          produce(client, topic, partition, retried),
          produce(client, topic, partition, next),
          produce(client, topic, partition, retried),
        ]),
        [ok(10), ok(10), ok(11), ok(10)],
      );
      assert.deepEqual(
        await logOf(client, topic, partition),
        entries(
          0,
          Array.from({ length: 12 }, (_, i) => `q${i}`),
        ),
      );
    });

    test('InitProducerId v3+ with the producer id and epoch of an idempotent producer: a new id at epoch 0', {
      timeout: testTimeoutMs,
    }, async () => {
      const range = await initProducerIdVersions(broker.port);
      assert.ok(range && range.maxVersion >= 3, `InitProducerId range ${JSON.stringify(range)}`);
      const existing = grant(await newProducerId(client));
      const bumped = await client.call(InitProducerIdApi, 3, {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: existing,
        producerEpoch: 0,
      });
      assert.deepEqual(
        { errorCode: bumped.errorCode, producerEpoch: bumped.producerEpoch },
        { errorCode: 0, producerEpoch: 0 },
      );
      grant(bumped.producerId);
    });

    test('a producer id the broker never handed out (above 2^32) is taken as it is', {
      timeout: testTimeoutMs,
    }, async () => {
      const partition = 7;
      const fields = { producerId: 9_000_000_001n, producerEpoch: 4 };
      const outcomes = [
        await produce(client, topic, partition, batch(['u0', 'u1'], { ...fields, baseSequence: 40 })),
        await produce(client, topic, partition, batch(['u0', 'u1'], { ...fields, baseSequence: 40 })),
        await produce(client, topic, partition, batch(['u2'], { ...fields, baseSequence: 43 })),
        await produce(client, topic, partition, batch(['u2'], { ...fields, baseSequence: 42 })),
      ];
      assert.deepEqual(outcomes, [ok(0), ok(0), failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), ok(2)]);
      const logged = await readPartition(client, topic, partition);
      assert.deepEqual(
        logged.map((record) => [record.offset, record.value, record.producerId, record.producerEpoch]),
        [
          [0, 'u0', 9_000_000_001, 4],
          [1, 'u1', 9_000_000_001, 4],
          [2, 'u2', 9_000_000_001, 4],
        ],
      );
    });

    test('one request: a resent batch for one partition, a new one for another', {
      timeout: testTimeoutMs,
    }, async () => {
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const first = batch(['m0'], { ...fields, baseSequence: 0 });
      assert.deepEqual(await produce(client, topic, 8, first), ok(0));
      const response = await client.call(ProduceApi, PRODUCE_V9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5_000,
        topicData: [
          {
            name: topic,
            partitionData: [
              { index: 8, records: first },
              { index: 9, records: batch(['n0'], { ...fields, baseSequence: 0 }) },
              { index: 8, records: batch(['m1'], { ...fields, baseSequence: 5 }) },
            ],
          },
        ],
      });
      assert.deepEqual(
        response.responses[0]?.partitionResponses.map((answer) => [answer.index, outcomeOf(answer)]),
        [
          [8, ok(0)],
          [9, ok(0)],
          [8, failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)],
        ],
      );
      assert.deepEqual(await logOf(client, topic, 8), entries(0, ['m0']));
      assert.deepEqual(await logOf(client, topic, 9), entries(0, ['n0']));
    });

    test('compressed batches: a resend is recognised, the sequence counts records', {
      timeout: testTimeoutMs,
    }, async () => {
      const partition = 10;
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const gzip = batch(['g0', 'g1', 'g2'], { ...fields, baseSequence: 0, compression: 'gzip' });
      const lz4 = batch(['g3', 'g4'], { ...fields, baseSequence: 3, compression: 'lz4' });
      const outcomes = [
        await produce(client, topic, partition, gzip),
        await produce(client, topic, partition, lz4),
        await produce(client, topic, partition, gzip),
        await produce(client, topic, partition, lz4),
        await produce(client, topic, partition, batch(['g5'], { ...fields, baseSequence: 5 })),
      ];
      assert.deepEqual(outcomes, [ok(0), ok(3), ok(0), ok(3), ok(5)]);
      assert.deepEqual(
        await logOf(client, topic, partition),
        entries(0, ['g0', 'g1', 'g2', 'g3', 'g4', 'g5']),
      );
    });

    test('two batches in one partition of one request are INVALID_RECORD, as Kafka refuses them from v3 on', {
      timeout: testTimeoutMs,
    }, async () => {
      const partition = 11;
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      for (const second of [1, 7]) {
        const both = Buffer.concat([
          batch(['t0'], { ...fields, baseSequence: 0 }),
          batch(['t1'], { ...fields, baseSequence: second }),
        ]);
        const answer = await produceRaw(client, topic, partition, both);
        assert.equal(answer.errorCode, ErrorCode.INVALID_RECORD, JSON.stringify(answer, bigintJson));
      }
      assert.deepEqual(await logOf(client, topic, partition), []);
    });

    test('a batch whose connection dropped before the answer is recognised when resent on a new one', {
      timeout: testTimeoutMs,
    }, async () => {
      const dropped = 'idempotence-dropped';
      await createTopic(client, dropped, 1);
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const first = batch(['d0', 'd1'], { ...fields, baseSequence: 0 });
      const request = {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5_000,
        topicData: [{ name: dropped, partitionData: [{ index: 0, records: first }] }],
      };
      // Written, then the socket is gone 1 ms later: the producer never learns whether it was appended.
      await exchange(encodeFrame(ProduceApi, PRODUCE_V9, 1, request), { port: broker.port, timeoutMs: 1 });
      const retry = await WireClient.connect(broker.port);
      try {
        assert.deepEqual(
          [
            await produce(retry, dropped, 0, first),
            await produce(retry, dropped, 0, first),
            await produce(retry, dropped, 0, batch(['d2'], { ...fields, baseSequence: 2 })),
          ],
          [ok(0), ok(0), ok(2)],
        );
      } finally {
        retry.close();
      }
      assert.deepEqual(await logOf(client, dropped, 0), entries(0, ['d0', 'd1', 'd2']));
    });

    test('a deleted and recreated topic has forgotten its producers', {
      timeout: testTimeoutMs,
    }, async () => {
      const recreated = 'idempotence-recreated';
      await createTopic(client, recreated, 1);
      const fields = { producerId: grant(await newProducerId(client)), producerEpoch: 0 };
      const first = batch(['old0', 'old1'], { ...fields, baseSequence: 0 });
      assert.deepEqual(
        [
          await produce(client, recreated, 0, first),
          await produce(client, recreated, 0, batch(['old2'], { ...fields, baseSequence: 2 })),
        ],
        [ok(0), ok(2)],
      );
      const deleted = await client.call(DeleteTopicsApi, 4, {
        topics: [],
        topicNames: [recreated],
        timeoutMs: 10_000,
      });
      assert.equal(deleted.responses[0]?.errorCode, 0, `DeleteTopics: ${JSON.stringify(deleted.responses)}`);
      await createTopic(client, recreated, 1);
      assert.deepEqual(
        [
          // The same bytes again: on the new topic nothing was written yet, so they must be appended.
          await produce(client, recreated, 0, first),
          await produce(client, recreated, 0, batch(['new2'], { ...fields, baseSequence: 2 })),
        ],
        [ok(0), ok(2)],
      );
      assert.deepEqual(await logOf(client, recreated, 0), entries(0, ['old0', 'old1', 'new2']));
    });
  });

  test('producer state survives kill -9 (no snapshot yet), a clean restart, and kill -9 again', {
    timeout: 60_000,
  }, async () => {
    const durable = await startBroker({ args: durableArgs });
    // Producer ids are the durable broker's own: they may repeat the other broker's, never its own.
    const grant = distinctIdCheck();
    let wire = await WireClient.connect(durable.port);
    const reconnect = async (how: 'kill -9' | 'clean') => {
      wire.close();
      if (how === 'kill -9') await durable.kill9();
      await durable.restart();
      wire = await WireClient.connect(durable.port);
    };
    try {
      const topic = 'idempotence-restart';
      await createTopic(wire, topic, 2);
      const producerId = grant(await newProducerId(wire));
      const fenced = grant(await newProducerId(wire));
      const fields = { producerId, producerEpoch: 0 };
      const zero = batch(['r0', 'r1', 'r2'], { ...fields, baseSequence: 0 });
      const three = batch(['r3', 'r4'], { ...fields, baseSequence: 3 });
      const five = batch(['r5'], { ...fields, baseSequence: 5 });
      const six = batch(['r6', 'r7'], { ...fields, baseSequence: 6 });
      const other = batch(['o0'], { ...fields, baseSequence: 0 });
      const newEpoch = batch(['f0'], { producerId: fenced, producerEpoch: 2, baseSequence: 0 });
      const staleEpoch = batch(['stale'], { producerId: fenced, producerEpoch: 1, baseSequence: 0 });
      // Had the state been lost, the producer would count as unknown and this gap would be accepted.
      const gap = batch(['gap'], { ...fields, baseSequence: 9 });
      assert.deepEqual(
        [
          await produce(wire, topic, 0, zero),
          await produce(wire, topic, 0, three),
          await produce(wire, topic, 1, other),
          await produce(wire, topic, 1, newEpoch),
        ],
        [ok(0), ok(3), ok(0), ok(1)],
      );

      await reconnect('kill -9');
      assert.deepEqual(
        [
          await produce(wire, topic, 0, three),
          await produce(wire, topic, 0, zero),
          await produce(wire, topic, 1, other),
          await produce(wire, topic, 1, newEpoch),
          await produce(wire, topic, 1, staleEpoch),
          await produce(wire, topic, 0, gap),
        ],
        [
          ok(3),
          ok(0),
          ok(0),
          ok(1),
          failed(ErrorCode.INVALID_PRODUCER_EPOCH),
          failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
        ],
        'after the first kill -9',
      );
      grant(await newProducerId(wire));

      await reconnect('clean');
      assert.deepEqual(
        [
          await produce(wire, topic, 0, three),
          await produce(wire, topic, 0, zero),
          await produce(wire, topic, 1, other),
          await produce(wire, topic, 1, staleEpoch),
          await produce(wire, topic, 0, gap),
          await produce(wire, topic, 0, five),
        ],
        [
          ok(3),
          ok(0),
          ok(0),
          failed(ErrorCode.INVALID_PRODUCER_EPOCH),
          failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
          ok(5),
        ],
        'after the clean restart',
      );
      grant(await newProducerId(wire));

      await reconnect('kill -9');
      assert.deepEqual(
        [
          await produce(wire, topic, 0, five),
          await produce(wire, topic, 0, three),
          await produce(wire, topic, 1, other),
          await produce(wire, topic, 1, staleEpoch),
          await produce(wire, topic, 0, gap),
          await produce(wire, topic, 0, six),
          await produce(wire, topic, 0, six),
        ],
        [
          ok(5),
          ok(3),
          ok(0),
          failed(ErrorCode.INVALID_PRODUCER_EPOCH),
          failed(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
          ok(6),
          ok(6),
        ],
        'after the second kill -9',
      );
      grant(await newProducerId(wire));

      assert.deepEqual(
        await logOf(wire, topic, 0),
        entries(0, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']),
      );
      assert.deepEqual(await logOf(wire, topic, 1), entries(0, ['o0', 'f0']));
    } finally {
      wire.close();
      await durable.stop();
    }
  });

  describe('real clients with idempotence on', () => {
    const sarama = skipSarama
      ? undefined
      : makeTempDir('sluice-sarama-idempotent-').then(async (buildDir) => ({
          buildDir,
          program: await buildSaramaProgram('test/interop/sarama/idempotent', buildDir, 'sarama-idempotent'),
        }));
    // Building runs alongside the other clients' tests; a failure is reported by the sarama test.
    sarama?.catch(() => {});

    after(async () => {
      const built = await sarama?.catch(() => undefined);
      if (built) await rm(built.buildDir, { recursive: true, force: true });
    });

    const keyOf = (i: number) => `k${i % CLIENT_KEYS}`;

    /**
     * The topic holds message i (key k<i % 13>, value <prefix>-v<i>) exactly once for each i below the count,
     * each key in one partition and each partition in send order; every batch carries the one producer id
     * (new, epoch 0) and a base sequence equal to its base offset (one producer from sequence 0 on a new
     * topic). Returns the producer id.
     */
    async function assertExactlyOnce(topic: string, prefix: string): Promise<bigint> {
      const partitions: LoggedRecord[][] = [];
      for (let p = 0; p < CLIENT_PARTITIONS; p++) partitions.push(await readPartition(client, topic, p));
      for (let p = 0; p < CLIENT_PARTITIONS; p++) {
        assert.deepEqual(
          await readPartition(client, topic, p, READ_COMMITTED),
          partitions[p],
          `partition ${p} read committed`,
        );
      }
      const all = partitions.flat();
      const indexOf = (record: LoggedRecord) => Number((record.value ?? '').slice(prefix.length + 2));
      assert.deepEqual(
        all.map((record) => record.value).sort(),
        Array.from({ length: CLIENT_MESSAGES }, (_, i) => `${prefix}-v${i}`).sort(),
        'each message exactly once',
      );
      for (const record of all) assert.equal(record.key, keyOf(indexOf(record)), `key of ${record.value}`);
      const partitionOfKey = new Map<string, Set<number>>();
      partitions.forEach((records, p) => {
        const indexes = records.map(indexOf);
        assert.deepEqual(
          indexes,
          [...indexes].sort((a, b) => a - b),
          `partition ${p} in send order`,
        );
        assert.deepEqual(
          records.map((record) => record.offset),
          records.map((_, i) => i),
          `partition ${p} offsets`,
        );
        for (const record of records) {
          const seen = partitionOfKey.get(record.key ?? '') ?? new Set<number>();
          seen.add(p);
          partitionOfKey.set(record.key ?? '', seen);
        }
      });
      for (const [key, seen] of partitionOfKey)
        assert.equal(seen.size, 1, `key ${key} in partitions ${[...seen]}`);
      assert.ok(
        partitions.filter((records) => records.length > 0).length >= 2,
        'keys spread over partitions',
      );
      const producerIds = new Set(all.map((record) => record.producerId));
      assert.equal(producerIds.size, 1, `producer ids in the log: ${[...producerIds]}`);
      const producerId = all[0]!.producerId;
      assert.ok(producerId >= 0, `producer id ${producerId}: the client did not produce idempotently`);
      for (const [p, records] of partitions.entries()) {
        const firstOfBatches = records.filter((record) => record.offset === record.batchBaseOffset);
        assert.deepEqual(
          firstOfBatches.map((record) => [record.producerEpoch, record.baseSequence]),
          firstOfBatches.map((record) => [0, record.batchBaseOffset]),
          `partition ${p}: epoch 0 and base sequence = base offset in every batch`,
        );
      }
      return grant(BigInt(producerId));
    }

    test('kafkajs producer({ idempotent: true })', { timeout: testTimeoutMs }, async () => {
      const topic = 'idempotence-kafkajs';
      await createTopic(client, topic, CLIENT_PARTITIONS);
      const kafka = createKafka(broker.bootstrap);
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        for (let start = 0; start < CLIENT_MESSAGES; start += 50) {
          await producer.send({
            topic,
            acks: -1,
            compression: kafkajs.CompressionTypes.None,
            messages: Array.from({ length: 50 }, (_, j) => ({
              key: keyOf(start + j),
              value: `kafkajs-v${start + j}`,
            })),
          });
        }
      } finally {
        await producer.disconnect();
      }
      await assertExactlyOnce(topic, 'kafkajs');
      // A kafkajs consumer group (read_committed, kafkajs's default) reads the same, once and in order.
      const consumed = byPartition(await readAll(kafka, topic, { timeoutMs: 15_000 }));
      for (let p = 0; p < CLIENT_PARTITIONS; p++) {
        assert.deepEqual(
          (consumed.get(p) ?? []).map((message) => [Number(message.offset), message.key, message.value]),
          (await readPartition(client, topic, p)).map((record) => [record.offset, record.key, record.value]),
          `kafkajs consumer, partition ${p}`,
        );
      }
    });

    test("Sluice's own Producer, idempotent by default, sends pipelined", {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = 'idempotence-sluice';
      await createTopic(client, topic, CLIENT_PARTITIONS);
      const producer = new SluiceProducer({ bootstrap: broker.bootstrap, batchSize: 512 });
      await producer.connect();
      try {
        // Not awaited one by one: small batches, several in flight per partition.
        await Promise.all(
          Array.from({ length: CLIENT_MESSAGES }, (_, i) =>
            producer.send({ topic, messages: [{ key: keyOf(i), value: `sluice-v${i}` }] }),
          ),
        );
      } finally {
        await producer.close();
      }
      await assertExactlyOnce(topic, 'sluice');
    });

    test('kcat -X enable.idempotence=true', { timeout: testTimeoutMs }, async () => {
      const topic = 'idempotence-kcat';
      await createTopic(client, topic, CLIENT_PARTITIONS);
      const input = Array.from({ length: CLIENT_MESSAGES }, (_, i) => `${keyOf(i)}:kcat-v${i}\n`).join('');
      const result = await runProgram(
        'kcat',
        [
          '-b',
          broker.bootstrap,
          '-P',
          '-t',
          topic,
          '-K',
          ':',
          '-X',
          'enable.idempotence=true',
          '-X',
          'linger.ms=5',
          '-X',
          'batch.num.messages=20',
          '-X',
          'debug=eos',
        ],
        { input, timeoutMs: programTimeoutMs },
      );
      assert.doesNotMatch(result.stderr, /FATAL|Idempotent producer not supported/, result.stderr);
      assert.equal(result.code, 0, `kcat exited with ${result.code}:\n${result.stderr}`);
      // librdkafka's eos debug log: it really got a producer id from InitProducerId.
      assert.match(result.stderr, /Acquired PID\{Id:\d+,Epoch:0\}/);
      await assertExactlyOnce(topic, 'kcat');
    });

    test("confluent-kafka (python) Producer({'enable.idempotence': True})", {
      timeout: testTimeoutMs,
    }, async () => {
      await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
      const topic = 'idempotence-python';
      await createTopic(client, topic, CLIENT_PARTITIONS);
      const script = `
import json, sys
from confluent_kafka import Producer
bootstrap, topic, count, keys = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
errors, failed = [], []
def on_error(err):
    errors.append([err.name(), err.fatal(), err.str()])
def on_delivery(err, msg):
    if err is not None:
        failed.append([err.name(), err.str()])
producer = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'linger.ms': 5,
                     'batch.num.messages': 20, 'error_cb': on_error})
for i in range(count):
    producer.produce(topic, key='k%d' % (i % keys), value='python-v%d' % i, on_delivery=on_delivery)
    producer.poll(0)
left = producer.flush(20)
print(json.dumps(dict(left=left, failed=failed, errors=errors), sort_keys=True), flush=True)
`;
      const result = await runProgramOk(
        PYTHON,
        ['-c', script, broker.bootstrap, topic, String(CLIENT_MESSAGES), String(CLIENT_KEYS)],
        { timeoutMs: programTimeoutMs },
      );
      assert.doesNotMatch(result.stderr, /FATAL|Idempotent producer not supported/, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout.trim()), { left: 0, failed: [], errors: [] }, result.stderr);
      await assertExactlyOnce(topic, 'python');
    });

    test('sarama Producer.Idempotent = true', { timeout: 60_000, skip: skipSarama }, async () => {
      assert.ok(sarama);
      const { program } = await sarama;
      const topic = 'idempotence-sarama';
      await createTopic(client, topic, CLIENT_PARTITIONS);
      const result = await runProgram(
        program,
        [
          '-bootstrap',
          broker.bootstrap,
          '-topic',
          topic,
          '-count',
          String(CLIENT_MESSAGES),
          '-keys',
          String(CLIENT_KEYS),
          '-prefix',
          'sarama',
        ],
        { timeoutMs: programTimeoutMs },
      );
      assert.equal(
        result.code,
        0,
        `sarama-idempotent exited with ${result.code}:\n${result.stdout}\n${result.stderr}`,
      );
      const acknowledged = result.stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { p: number; o: number; k: string; v: string });
      assert.equal(acknowledged.length, CLIENT_MESSAGES);
      await assertExactlyOnce(topic, 'sarama');
      // What sarama was told matches the log.
      const logged = new Map<string, string>();
      for (let p = 0; p < CLIENT_PARTITIONS; p++) {
        for (const record of await readPartition(client, topic, p))
          logged.set(`${p}/${record.offset}`, record.value ?? '');
      }
      for (const line of acknowledged)
        assert.equal(logged.get(`${line.p}/${line.o}`), line.v, `acknowledged ${line.v}`);
    });

    test('@platformatic/kafka Producer({ idempotent: true })', { timeout: testTimeoutMs }, async () => {
      const topic = 'idempotence-platformatic';
      await createTopic(client, topic, CLIENT_PARTITIONS);
      const producer = new PlatformaticProducer({
        clientId: 'sluice-test-idempotent',
        bootstrapBrokers: [broker.bootstrap],
        serializers: stringSerializers,
        idempotent: true,
      });
      try {
        for (let start = 0; start < CLIENT_MESSAGES; start += 50) {
          await producer.send({
            messages: Array.from({ length: 50 }, (_, j) => ({
              topic,
              key: keyOf(start + j),
              value: `platformatic-v${start + j}`,
            })),
          });
        }
      } finally {
        await producer.close();
      }
      await assertExactlyOnce(topic, 'platformatic');
    });
  });
});
