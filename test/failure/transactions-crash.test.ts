// Transactions through a kill -9: a kafkajs transactional producer commits one transaction, aborts one and
// leaves a third open over two partitions; the broker is killed and relaunched on the same port and data dir.
// Afterwards the committed and aborted transactions read exactly as before, the open one is aborted by the
// coordinator once its (short) timeout passes, so the last stable offset reaches the log end; the old producer is
// fenced and a new producer with the same transactional id commits a new transaction.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Broker, disposeAllBrokers, freePort, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import {
  ABORT,
  COMMIT,
  createTopic,
  type Delivered,
  fetchPartition,
  kcatRead,
  listOffset,
  READ_COMMITTED,
  readLog,
} from '../helpers/transactions.js';
import { waitFor } from '../helpers/wait.js';
import { WireClient } from '../helpers/wire-client.js';

const TOPIC = 'crash-txn';
const TRANSACTIONAL_ID = 'crash-tid';
/** Short, so that the coordinator aborts the open transaction soon after the restart. */
const TRANSACTION_TIMEOUT_MS = 4_000;

/** Every `type` along an error's cause chain (kafkajs wraps protocol errors in its retry errors). */
function errorTypes(error: unknown): string[] {
  const types: string[] = [];
  let current = error as { type?: unknown; cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (typeof current.type === 'string') types.push(current.type);
    current = (current.cause ?? current.originalError) as typeof current;
  }
  return types;
}

describe('transactions through a kill -9', () => {
  let broker: Broker;
  let port: number;
  let wire: WireClient;

  before(async () => {
    port = await freePort();
    broker = await startBroker({
      args: [
        // The later --listen wins over the helper's 127.0.0.1:0: clients find the broker again after the restart.
        '--listen',
        `127.0.0.1:${port}`,
        '--set',
        'group.initial.rebalance.delay.ms=0',
        '--set',
        'transaction.abort.timed.out.transaction.cleanup.interval.ms=500',
      ],
    });
    wire = await WireClient.connect(port);
  });

  after(async () => {
    wire?.close();
    await disposeAllBrokers();
  });

  test('committed and aborted survive, the open one is aborted at its timeout, the old producer is fenced', {
    timeout: 60_000,
  }, async () => {
    await createTopic(wire, TOPIC, 2);
    const bootstrap = `127.0.0.1:${port}`;
    const kafka = createKafka(bootstrap);
    const old = kafka.producer({
      transactionalId: TRANSACTIONAL_ID,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: TRANSACTION_TIMEOUT_MS,
    });
    await old.connect();
    let open: Awaited<ReturnType<typeof old.transaction>>;
    const sendBoth = async (
      transaction: Awaited<ReturnType<typeof old.transaction>>,
      values: [string, string],
    ) => {
      await transaction.send({
        topic: TOPIC,
        messages: [
          { partition: 0, value: values[0] },
          { partition: 1, value: values[1] },
        ],
      });
    };
    try {
      const committed = await old.transaction();
      await sendBoth(committed, ['c0', 'c1']);
      await committed.commit();
      const aborted = await old.transaction();
      await sendBoth(aborted, ['x0', 'x1']);
      await aborted.abort();
      open = await old.transaction();
      await sendBoth(open, ['o0', 'o1']);
    } catch (err) {
      await old.disconnect();
      throw err;
    }

    const beforeCrash = [(await readLog(wire, TOPIC, 0)).entries, (await readLog(wire, TOPIC, 1)).entries];
    assert.deepEqual(beforeCrash, [
      [
        [0, 'c0'],
        [1, COMMIT],
        [2, 'x0'],
        [3, ABORT],
        [4, 'o0'],
      ],
      [
        [0, 'c1'],
        [1, COMMIT],
        [2, 'x1'],
        [3, ABORT],
        [4, 'o1'],
      ],
    ]);
    const producerId = (await readLog(wire, TOPIC, 0)).batches[0]!.producerId;
    const epoch = (await readLog(wire, TOPIC, 0)).batches[0]!.producerEpoch;
    assert.equal(await listOffset(wire, TOPIC, 0, READ_COMMITTED), 4);

    wire.close();
    await broker.kill9();
    await broker.launch();
    wire = await WireClient.connect(port);

    // The open transaction is aborted by the coordinator after its timeout: the LSO reaches the log end.
    await waitFor(
      async () =>
        (await listOffset(wire, TOPIC, 0, READ_COMMITTED)) === 6 &&
        (await listOffset(wire, TOPIC, 1, READ_COMMITTED)) === 6,
      15_000,
      async () =>
        `LSO ${await listOffset(wire, TOPIC, 0, READ_COMMITTED)}/${await listOffset(wire, TOPIC, 1, READ_COMMITTED)}, expected 6/6`,
    );
    for (const partition of [0, 1]) {
      const log = await readLog(wire, TOPIC, partition);
      assert.deepEqual(log.entries, [...beforeCrash[partition]!, [5, ABORT]], `partition ${partition}`);
      // The timeout abort bumps the epoch (fencing the producer).
      assert.deepEqual(
        log.batches.map((b) => [b.baseOffset, b.isControl, b.producerId, b.producerEpoch]),
        [
          [0, false, producerId, epoch],
          [1, true, producerId, epoch],
          [2, false, producerId, epoch],
          [3, true, producerId, epoch],
          [4, false, producerId, epoch],
          [5, true, producerId, epoch + 1],
        ],
        `partition ${partition} batches`,
      );
      const fetched = await fetchPartition(wire, TOPIC, partition, 0, READ_COMMITTED);
      assert.deepEqual(
        [fetched.highWatermark, fetched.lastStableOffset, fetched.abortedTransactions],
        [
          6,
          6,
          [
            { producerId, firstOffset: 2 },
            { producerId, firstOffset: 4 },
          ],
        ],
        `partition ${partition} read_committed`,
      );
    }
    assert.deepEqual(await kcatRead(bootstrap, TOPIC, 'read_committed'), [
      [0, 0, 'c0'],
      [1, 0, 'c1'],
    ] satisfies Delivered[]);

    // The old producer's commit comes too late: its epoch was bumped by the abort (EndTxn v0/v1 as kafkajs
    // speaks it: INVALID_PRODUCER_EPOCH).
    try {
      await assert.rejects(open.commit(), (err: unknown) => {
        assert.ok(
          errorTypes(err).includes('INVALID_PRODUCER_EPOCH'),
          `${(err as Error).name}: ${(err as Error).message} (${errorTypes(err)})`,
        );
        return true;
      });
    } finally {
      await old.disconnect();
    }

    // A new producer with the same transactional id (epoch bumped once more) commits a new transaction.
    const successor = kafka.producer({
      transactionalId: TRANSACTIONAL_ID,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await successor.connect();
    try {
      const next = await successor.transaction();
      await sendBoth(next, ['n0', 'n1']);
      await next.commit();
    } finally {
      await successor.disconnect();
    }
    for (const partition of [0, 1]) {
      const log = await readLog(wire, TOPIC, partition);
      assert.deepEqual(
        log.entries.slice(6),
        [
          [6, `n${partition}`],
          [7, COMMIT],
        ],
        `partition ${partition} after the new transaction`,
      );
      assert.deepEqual(
        log.batches.slice(6).map((b) => [b.baseOffset, b.producerId, b.producerEpoch]),
        [
          [6, producerId, epoch + 2],
          [7, producerId, epoch + 2],
        ],
      );
    }
    assert.deepEqual(await kcatRead(bootstrap, TOPIC, 'read_committed'), [
      [0, 0, 'c0'],
      [0, 6, 'n0'],
      [1, 0, 'c1'],
      [1, 6, 'n1'],
    ] satisfies Delivered[]);
  });
});
