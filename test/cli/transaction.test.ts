// `sluice transaction list|describe|describe-producers` end to end: `node bin/sluice.js` as a child process
// against a real broker holding one open and one committed transaction, asserting exact output and exit
// statuses. Values that depend on the clock (start times, record timestamps) are read with the Admin client.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, Producer } from '../../src/index.js';
import { type Broker, disposeAllBrokers, repoRoot, startBroker } from '../helpers/broker.js';
import { type ProgramResult, runProgram } from '../helpers/process.js';

const NODE_ID = 7;
const TOPIC = 'payments';
const OPEN_ID = 'payments-tx';
const COMMITTED_ID = 'audit-tx';
const bin = join(repoRoot, 'bin', 'sluice.js');
let broker: Broker;
let admin: Admin;
const producers: Producer[] = [];

before(async () => {
  broker = await startBroker({ args: ['--node-id', String(NODE_ID)] });
  admin = new Admin({ bootstrap: broker.bootstrap });
  await admin.connect();
});

after(async () => {
  for (const producer of producers) await producer.close().catch(() => {});
  await admin?.close();
  await disposeAllBrokers();
});

function sluice(args: string[]): Promise<ProgramResult> {
  return runProgram(process.execPath, [bin, ...args], {
    env: { SLUICE_BOOTSTRAP: broker.bootstrap },
    timeoutMs: 30_000,
  });
}

/** Runs the CLI and asserts exit status 0 and an empty stderr; returns stdout. */
async function ok(args: string[]): Promise<string> {
  const result = await sluice(args);
  const context = `sluice ${args.join(' ')}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
  assert.equal(result.code, 0, context);
  assert.equal(result.stderr, '', context);
  return result.stdout;
}

/** Asserts a failure with this exit status and exactly this one line on stderr. */
async function fails(args: string[], code: number, line: string): Promise<void> {
  const result = await sluice(args);
  const context = `sluice ${args.join(' ')}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
  assert.equal(result.code, code, context);
  assert.equal(result.stdout, '', context);
  assert.equal(result.stderr, `${line}\n`, context);
}

async function transactionalProducer(
  transactionalId: string,
  transactionTimeoutMs: number,
): Promise<Producer> {
  const producer = new Producer({ bootstrap: broker.bootstrap, transactionalId, transactionTimeoutMs });
  producers.push(producer);
  await producer.connect();
  await producer.initTransactions();
  return producer;
}

/** `text` padded on the left to `width`, as the tables right-align numbers. */
function right(text: string | number, width: number): string {
  return String(text).padStart(width);
}

describe('sluice transaction', () => {
  test('without transactions: list and describe-producers say so', async () => {
    await admin.createTopics([{ topic: TOPIC, numPartitions: 2 }]);
    assert.equal(await ok(['transaction', 'list']), 'No transactions.\n');
    assert.equal(
      await ok(['transaction', 'describe-producers', '--topic', TOPIC]),
      "No active producers on topic 'payments'.\n",
    );
  });

  test('list, describe and describe-producers show an open and a committed transaction', async () => {
    const open = await transactionalProducer(OPEN_ID, 45_000);
    const committed = await transactionalProducer(COMMITTED_ID, 20_000);
    open.beginTransaction();
    await open.send({
      topic: TOPIC,
      messages: [
        { value: 'a', partition: 0 },
        { value: 'b', partition: 0 },
        { value: 'c', partition: 1 },
      ],
    });
    committed.beginTransaction();
    await committed.send({ topic: TOPIC, messages: [{ value: 'd', partition: 1 }] });
    await committed.commitTransaction();

    const [openTx, committedTx] = await admin.describeTransactions([OPEN_ID, COMMITTED_ID]);
    const openPid = openTx!.producerId;
    const committedPid = committedTx!.producerId;
    assert.deepEqual([openPid, committedPid], [0, 1], 'producer ids in the order of initTransactions');

    assert.equal(
      await ok(['transaction', 'list']),
      [
        'Transactional id  Producer id  State           Coordinator',
        'audit-tx                    1  CompleteCommit            7',
        'payments-tx                 0  Ongoing                   7',
        '',
      ].join('\n'),
    );
    assert.equal(
      await ok(['transaction', 'list', '--state', 'ongoing', 'PrepareCommit']),
      [
        'Transactional id  Producer id  State    Coordinator',
        'payments-tx                 0  Ongoing            7',
        '',
      ].join('\n'),
    );
    assert.equal(
      await ok(['transaction', 'list', '--producer-id', '1']),
      [
        'Transactional id  Producer id  State           Coordinator',
        'audit-tx                    1  CompleteCommit            7',
        '',
      ].join('\n'),
    );
    assert.equal(
      await ok(['transaction', 'list', '--state', 'Ongoing', '--duration-ms', '3600000']),
      'No transactions.\n',
    );

    const describedAt = (text: string) => [...text.matchAll(/ \((\d+) ms ago\)/g)].map((m) => Number(m[1]));
    const described = await ok(['transaction', 'describe', OPEN_ID]);
    const [age] = describedAt(described);
    assert.ok(age !== undefined && age >= 0 && age < 30_000, described);
    assert.equal(
      described,
      [
        `Transactional id: ${OPEN_ID}  State: Ongoing  Coordinator: ${NODE_ID}`,
        'Producer id: 0  Producer epoch: 0  Transaction timeout: 45000 ms',
        `Started: ${new Date(openTx!.transactionStartTimeMs!).toISOString()} (${age} ms ago)`,
        `Partitions: ${TOPIC}:0,1`,
        '',
      ].join('\n'),
    );
    const both = await ok(['transaction', 'describe', COMMITTED_ID, OPEN_ID]);
    const [committedAge, openAge] = describedAt(both);
    assert.equal(
      both,
      [
        `Transactional id: ${COMMITTED_ID}  State: CompleteCommit  Coordinator: ${NODE_ID}`,
        'Producer id: 1  Producer epoch: 0  Transaction timeout: 20000 ms',
        `Started: ${new Date(committedTx!.transactionStartTimeMs!).toISOString()} (${committedAge} ms ago)`,
        'Partitions: -',
        '',
        `Transactional id: ${OPEN_ID}  State: Ongoing  Coordinator: ${NODE_ID}`,
        'Producer id: 0  Producer epoch: 0  Transaction timeout: 45000 ms',
        `Started: ${new Date(openTx!.transactionStartTimeMs!).toISOString()} (${openAge} ms ago)`,
        `Partitions: ${TOPIC}:0,1`,
        '',
      ].join('\n'),
    );

    const [partition0, partition1] = await admin.describeProducers([
      { topic: TOPIC, partition: 0 },
      { topic: TOPIC, partition: 1 },
    ]);
    const timeOf = (producerId: number, partition: typeof partition0) =>
      new Date(
        partition!.activeProducers.find((p) => p.producerId === producerId)!.lastTimestamp,
      ).toISOString();
    const header =
      'Partition  Producer id  Producer epoch  Last sequence  Last timestamp            Coordinator epoch  Transaction start offset';
    // Partition 1: the open transaction's record at offset 0, the committed one's at 1 with its marker at 2.
    const partition1Rows = [
      `${right(1, 9)}  ${right(0, 11)}  ${right(0, 14)}  ${right(0, 13)}  ${timeOf(openPid, partition1)}  ${right('-', 17)}  ${right(0, 24)}`,
      `${right(1, 9)}  ${right(1, 11)}  ${right(0, 14)}  ${right(0, 13)}  ${timeOf(committedPid, partition1)}  ${right(0, 17)}  ${right('-', 24)}`,
    ];
    assert.equal(
      await ok(['transaction', 'describe-producers', '--topic', TOPIC]),
      [
        header,
        `${right(0, 9)}  ${right(0, 11)}  ${right(0, 14)}  ${right(1, 13)}  ${timeOf(openPid, partition0)}  ${right('-', 17)}  ${right(0, 24)}`,
        ...partition1Rows,
        '',
      ].join('\n'),
    );
    assert.equal(
      await ok(['transaction', 'describe-producers', '--topic', TOPIC, '--partition', '1']),
      [header, ...partition1Rows, ''].join('\n'),
    );

    await open.commitTransaction();
    assert.match(
      await ok(['transaction', 'describe', OPEN_ID]),
      new RegExp(`^Transactional id: ${OPEN_ID}  State: CompleteCommit  Coordinator: ${NODE_ID}\n`),
    );
  });

  test('errors: one line, exit 1 for what the broker says, exit 2 for usage mistakes', async () => {
    await fails(
      ['transaction', 'describe', 'nope-tx'],
      1,
      "sluice: transactional id 'nope-tx' does not exist (TRANSACTIONAL_ID_NOT_FOUND)",
    );
    await fails(
      ['transaction', 'describe-producers', '--topic', 'nope'],
      1,
      "sluice: topic 'nope' does not exist (UNKNOWN_TOPIC_OR_PARTITION)",
    );
    await fails(
      ['transaction', 'describe-producers', '--topic', TOPIC, '--partition', '5'],
      1,
      "sluice: topic 'payments' has no partition 5 (it has 2 partitions)",
    );
    await fails(
      ['transaction', 'list', '--state', 'open'],
      2,
      "sluice: error: option '--state <state...>' argument 'open' is invalid. expected one of Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence",
    );
    await fails(
      ['transaction', 'list', '--duration-ms', 'soon'],
      2,
      "sluice: error: option '--duration-ms <ms>' argument 'soon' is invalid. expected a whole number ≥ 0",
    );
    await fails(
      ['transaction', 'describe-producers'],
      2,
      "sluice: error: required option '--topic <topic>' not specified",
    );
    await fails(
      ['transaction', 'describe'],
      2,
      "sluice: error: missing required argument 'transactional-id'",
    );
  });

  test('--help on every transaction command shows examples and exits 0', async () => {
    for (const command of [[], ['list'], ['describe'], ['describe-producers']]) {
      const stdout = await ok(['transaction', ...command, '--help']);
      assert.match(stdout, /^Usage: sluice transaction/, command.join(' '));
      assert.match(stdout, /\nExamples:\n {2}\$ sluice transaction /, command.join(' '));
    }
  });
});
