// The client commands end to end: `node bin/sluice.js <command>` as a child process against a real broker,
// asserting exact output and exit statuses. Tests run in order and build on each other's topics and groups.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Producer } from '../../src/index.js';
import { type Broker, disposeAllBrokers, repoRoot, startBroker } from '../helpers/broker.js';
import { type ProgramResult, runProgram } from '../helpers/process.js';

const NODE_ID = 7;
const bin = join(repoRoot, 'bin', 'sluice.js');
let broker: Broker;
const background: ChildProcess[] = [];

before(async () => {
  broker = await startBroker({ args: ['--node-id', String(NODE_ID)] });
});

after(async () => {
  for (const child of background) child.kill('SIGKILL');
  await disposeAllBrokers();
});

/** Runs the CLI with SLUICE_BOOTSTRAP pointing at the test broker (unless `env` overrides it). */
function sluice(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ProgramResult> {
  return runProgram(process.execPath, [bin, ...args], {
    input: options.input ?? '',
    env: { SLUICE_BOOTSTRAP: broker.bootstrap, ...options.env },
    timeoutMs: 30_000,
  });
}

/** Runs the CLI and asserts exit status 0 and an empty stderr unless `stderr` is given. */
async function ok(args: string[], options: { input?: string; stderr?: string } = {}): Promise<string> {
  const result = await sluice(args, options);
  const context = `sluice ${args.join(' ')}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
  assert.equal(result.code, 0, context);
  assert.equal(result.stderr, options.stderr ?? '', context);
  return result.stdout;
}

/** Asserts a failure: the exit status and exactly one line on stderr (a string for equality, a RegExp to match). */
async function fails(
  args: string[],
  code: number,
  line: string | RegExp,
  env?: NodeJS.ProcessEnv,
): Promise<void> {
  const result = await sluice(args, env === undefined ? {} : { env });
  const context = `sluice ${args.join(' ')}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
  assert.equal(result.code, code, context);
  assert.equal(result.stdout, '', context);
  assert.equal(result.stderr.split('\n').length, 2, `expected one line\n${context}`);
  if (typeof line === 'string') assert.equal(result.stderr, `${line}\n`, context);
  else assert.match(result.stderr.trimEnd(), line, context);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('sluice client commands', () => {
  let topicId = '';

  test('topic create, list, describe, alter, delete', async () => {
    assert.equal(
      await ok(['topic', 'create', 'orders', '--partitions', '3', '--config', 'retention.ms=86400000']),
      "Created topic 'orders' (3 partitions, replication factor 1)\n",
    );
    assert.equal(
      await ok(['topic', 'create', 'doomed']),
      "Created topic 'doomed' (1 partition, replication factor 1)\n",
    );
    assert.equal(await ok(['topic', 'list']), 'doomed\norders\n');

    const described = await ok(['topic', 'describe', 'orders']);
    topicId = /Id: ([\w-]{22}) /.exec(described)?.[1] ?? '';
    assert.equal(
      described,
      [
        `Topic: orders  Id: ${topicId}  Partitions: 3  Replication factor: 1`,
        'Configs: retention.ms=86400000',
        'Partition  Leader  Replicas  ISR',
        `        0       ${NODE_ID}  ${NODE_ID}         ${NODE_ID}`,
        `        1       ${NODE_ID}  ${NODE_ID}         ${NODE_ID}`,
        `        2       ${NODE_ID}  ${NODE_ID}         ${NODE_ID}`,
        '',
      ].join('\n'),
    );

    assert.equal(
      await ok([
        'topic',
        'alter',
        'orders',
        '--config',
        'cleanup.policy=compact',
        '--delete-config',
        'retention.ms',
        '--partitions',
        '4',
      ]),
      "Altered topic 'orders': set cleanup.policy=compact; deleted retention.ms; partitions raised to 4\n",
    );
    const altered = await ok(['topic', 'describe', 'orders']);
    assert.equal(
      altered.split('\n').slice(0, 2).join('\n'),
      `Topic: orders  Id: ${topicId}  Partitions: 4  Replication factor: 1\nConfigs: cleanup.policy=compact`,
    );
    assert.equal(altered.split('\n').length, 3 + 4 + 1);

    assert.equal(await ok(['topic', 'delete', 'doomed']), "Deleted topic 'doomed'\n");
    assert.equal(await ok(['topic', 'list']), 'orders\n');
  });

  test('produce creates a missing topic when the broker auto-creates topics', async () => {
    await ok(['produce', '--topic', 'made-by-produce'], {
      input: 'first\n',
      stderr: "Produced 1 record to 'made-by-produce': partition 0 offset 0\n",
    });
    assert.match(await ok(['topic', 'describe', 'made-by-produce']), /^Topic: made-by-produce {2}Id: /);
  });

  test('topic delete-records moves start offsets; consume from earliest starts there', async () => {
    await ok(['topic', 'create', 'trimmed', '--partitions', '2']);
    for (const partition of ['0', '1']) {
      await ok(['produce', '--topic', 'trimmed', '--partition', partition], {
        input: 'a\nb\nc\nd\ne\n',
        stderr: `Produced 5 records to 'trimmed': partition ${partition} offsets 0-4\n`,
      });
    }
    assert.equal(
      await ok(['topic', 'delete-records', 'trimmed', '--before', '3', '--partition', '0']),
      'PARTITION  START OFFSET\n        0             3\n',
    );
    assert.equal(
      await ok(['consume', '--topic', 'trimmed', '--partition', '0', '--from', 'earliest', '--exit-at-end']),
      'd\ne\n',
    );
    assert.equal(
      await ok(['topic', 'delete-records', 'trimmed', '--before', 'latest']),
      'PARTITION  START OFFSET\n        0             5\n        1             5\n',
    );
    assert.equal(await ok(['consume', '--topic', 'trimmed', '--from', 'earliest', '--exit-at-end']), '');
    await fails(['topic', 'delete-records', 'trimmed', '--before', '9'], 1, /^sluice: .*OFFSET_OUT_OF_RANGE/);
    await fails(
      ['topic', 'delete-records', 'trimmed', '--before', '1', '--partition', '4'],
      1,
      "sluice: topic 'trimmed' has no partition 4 (it has 2 partitions)",
    );
  });

  test('produce from stdin with keys and headers, then consume --format json --exit-at-end', async () => {
    await ok(['topic', 'create', 'events', '--partitions', '1']);
    const before = Date.now();
    const stdout = await ok(
      [
        'produce',
        '--topic',
        'events',
        '--key-separator',
        ':',
        '--header',
        'source=cli',
        '--header',
        'trace=1',
      ],
      {
        input: 'k1:hello\nk2:wor:ld\nno key here\n',
        stderr: "Produced 3 records to 'events': partition 0 offsets 0-2\n",
      },
    );
    const afterProduce = Date.now();
    assert.equal(stdout, '');

    const consumed = await ok([
      'consume',
      '--topic',
      'events',
      '--from',
      'earliest',
      '--exit-at-end',
      '--format',
      'json',
    ]);
    const records = consumed
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const headers = { source: 'cli', trace: '1' };
    assert.deepEqual(
      records.map(({ timestamp: _, ...rest }) => rest),
      [
        { topic: 'events', partition: 0, offset: 0, key: 'k1', value: 'hello', headers },
        { topic: 'events', partition: 0, offset: 1, key: 'k2', value: 'wor:ld', headers },
        { topic: 'events', partition: 0, offset: 2, key: null, value: 'no key here', headers },
      ],
    );
    for (const record of records) {
      const timestamp = record.timestamp as number;
      assert.ok(timestamp >= before && timestamp <= afterProduce, `timestamp ${timestamp}`);
    }

    assert.equal(
      await ok([
        'consume',
        '--topic',
        'events',
        '--from',
        '1',
        '--count',
        '1',
        '--print-key',
        '--key-separator',
        ' => ',
      ]),
      'k2 => wor:ld\n',
    );
    // Nothing new since start: --exit-at-end with --from latest prints nothing and ends.
    assert.equal(await ok(['consume', '--topic', 'events', '--exit-at-end']), '');
  });

  test('consume --isolation-level read_committed prints committed transactions and ends before an open one', async () => {
    await ok(['topic', 'create', 'payments']);
    const producer = new Producer({ bootstrap: broker.bootstrap, transactionalId: 'cli-payments' });
    await producer.connect();
    try {
      await producer.initTransactions();
      for (const [values, commit] of [
        [['p1', 'p2'], true],
        [['aborted'], false],
        [['p3'], true],
      ] as const) {
        producer.beginTransaction();
        await producer.send({ topic: 'payments', messages: values.map((value) => ({ value })) });
        if (commit) await producer.commitTransaction();
        else await producer.abortTransaction();
      }
      producer.beginTransaction();
      await producer.send({ topic: 'payments', messages: [{ value: 'open' }] });
      const read = (isolation: string) =>
        ok([
          'consume',
          '--topic',
          'payments',
          '--from',
          'earliest',
          '--exit-at-end',
          '--isolation-level',
          isolation,
        ]);
      assert.equal(await read('read_committed'), 'p1\np2\np3\n');
      assert.equal(await read('read_uncommitted'), 'p1\np2\naborted\np3\nopen\n');
      await producer.commitTransaction();
      assert.equal(await read('read_committed'), 'p1\np2\np3\nopen\n');
      await fails(
        ['consume', '--topic', 'payments', '--isolation-level', 'serializable'],
        2,
        /option '--isolation-level <level>' argument 'serializable' is invalid\. expected read_committed or read_uncommitted/,
      );
    } finally {
      await producer.close();
    }
  });

  test('consume from a group, then group list, describe, reset-offsets and delete', async () => {
    assert.equal(
      await ok(['consume', '--topic', 'events', '--group', 'billing', '--from', 'earliest', '--exit-at-end']),
      'hello\nwor:ld\nno key here\n',
    );
    // The group committed what it printed: a second run has nothing left.
    assert.equal(await ok(['consume', '--topic', 'events', '--group', 'billing', '--exit-at-end']), '');
    assert.equal(await ok(['group', 'list']), 'billing\n');
    await ok(['produce', '--topic', 'events'], {
      input: 'four\nfive\n',
      stderr: "Produced 2 records to 'events': partition 0 offsets 3-4\n",
    });
    assert.equal(
      await ok(['group', 'describe', 'billing']),
      [
        'Group: billing  State: Empty  Protocol: -  Members: 0',
        '',
        'Topic   Partition  Committed offset  Log end offset  Lag  Member',
        'events          0                 3               5    2  -',
        '',
      ].join('\n'),
    );

    assert.equal(
      await ok(['group', 'reset-offsets', 'billing', '--topic', 'events', '--to-earliest', '--dry-run']),
      [
        'Topic   Partition  Current offset  New offset',
        'events          0               3           0',
        'Dry run: no offsets were committed.',
        '',
      ].join('\n'),
    );
    assert.equal(
      await ok(['group', 'reset-offsets', 'billing', '--topic', 'events', '--to-offset', '99']),
      [
        'Topic   Partition  Current offset  New offset',
        'events          0               3           5',
        "Committed the new offsets of group 'billing' for topic 'events'.",
        '',
      ].join('\n'),
    );
    await ok(['group', 'reset-offsets', 'billing', '--topic', 'events', '--to-offset', '1']);
    assert.equal(
      await ok(['consume', '--topic', 'events', '--group', 'billing', '--exit-at-end']),
      'wor:ld\nno key here\nfour\nfive\n',
    );

    // A live member: reset and delete are refused with one clear line each.
    const live = spawn(process.execPath, [bin, 'consume', '--topic', 'events', '--group', 'billing'], {
      env: { ...process.env, SLUICE_BOOTSTRAP: broker.bootstrap },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    background.push(live);
    let liveStderr = '';
    live.stderr?.on('data', (chunk: Buffer) => {
      liveStderr += chunk.toString();
    });
    const liveExit = new Promise<number | null>((resolve) => live.once('close', (code) => resolve(code)));
    await waitFor('the live consumer to join', async () =>
      (await sluice(['group', 'describe', 'billing'])).stdout.startsWith('Group: billing  State: Stable'),
    );
    const describedLive = await ok(['group', 'describe', 'billing']);
    assert.match(
      describedLive,
      /^Group: billing {2}State: Stable {2}Protocol: \S+ {2}Members: 1\nMember +Client id +Host +Assignment\n(\S+) +sluice-cli +\/127\.0\.0\.1 +events:0\n\nTopic +Partition +Committed offset +Log end offset +Lag +Member\nevents +0 +5 +5 +0 +\1\n$/,
    );
    await fails(
      ['group', 'reset-offsets', 'billing', '--topic', 'events', '--to-earliest'],
      1,
      "sluice: group 'billing' has 1 active member (state Stable); stop its consumers before resetting its offsets (NON_EMPTY_GROUP)",
    );
    await fails(
      ['group', 'delete', 'billing'],
      1,
      "sluice: group 'billing': The group is not empty (NON_EMPTY_GROUP)",
    );
    live.kill('SIGINT');
    assert.equal(await liveExit, 0, liveStderr);
    assert.equal(liveStderr, '');

    assert.equal(await ok(['group', 'delete', 'billing']), "Deleted group 'billing'\n");
    assert.equal(await ok(['group', 'list']), '');
    await fails(
      ['group', 'describe', 'billing'],
      1,
      "sluice: group 'billing' does not exist (GROUP_ID_NOT_FOUND)",
    );
  });

  test('cluster: id, controller, brokers and the partitions each leads', async () => {
    const topics = (await ok(['topic', 'list', '--internal'])).trimEnd().split('\n');
    assert.ok(topics.includes('__consumer_offsets'), topics.join(','));
    const described = await ok(['topic', 'describe', ...topics]);
    const partitionCount = [...described.matchAll(/Partitions: (\d+)/g)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    const output = await ok(['cluster', '--bootstrap', broker.bootstrap]);
    const address = `127.0.0.1:${broker.port}`;
    const led = String(partitionCount);
    assert.match(output, /^Cluster id: [\w-]{22}\n/);
    assert.equal(
      output.replace(/^Cluster id: .*\n/, ''),
      [
        `Controller: ${NODE_ID}`,
        `Broker  ${'Address'.padEnd(address.length)}  Rack  Partitions led`,
        `     ${NODE_ID}  ${address}  -     ${led.padStart('Partitions led'.length)}`,
        '',
      ].join('\n'),
    );
  });

  test('perf produce and perf consume print a table with the record count', async () => {
    await ok(['topic', 'create', 'bench', '--partitions', '2']);
    const header = 'Records  Elapsed s  Records/s  MB/s  Avg ms  p50 ms  p95 ms  p99 ms  p99.9 ms  Max ms';
    const row = /^ *(\d+) +\d+\.\d{3}( +\d+\.\d+){8}$/;
    const checkTable = (stdout: string, records: number) => {
      const lines = stdout.trimEnd().split('\n');
      assert.equal(lines.length, 2, stdout);
      // Column widths follow the figures, so compare the header's words and the row's shape.
      assert.equal(lines[0]!.split(/ {2,}/).join('  '), header);
      assert.match(lines[1]!, row);
      assert.equal(Number(lines[1]!.trim().split(/ +/)[0]), records);
    };
    const produced = await sluice([
      'perf',
      'produce',
      '--topic',
      'bench',
      '--count',
      '2000',
      '--record-size',
      '64',
      '--no-progress',
    ]);
    assert.equal(produced.code, 0, produced.stderr);
    assert.equal(produced.stderr, '');
    checkTable(produced.stdout, 2000);

    const consumed = await sluice([
      'perf',
      'consume',
      '--topic',
      'bench',
      '--count',
      '2000',
      '--no-progress',
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(consumed.stderr, '');
    checkTable(consumed.stdout, 2000);
  });

  test('errors: one line, exit 1 for broker and runtime failures, exit 2 for usage mistakes', async () => {
    await fails(
      ['consume', '--topic', 'nope', '--exit-at-end'],
      1,
      "sluice: topic 'nope' does not exist (UNKNOWN_TOPIC_OR_PARTITION)",
    );
    await fails(
      ['topic', 'describe', 'nope'],
      1,
      "sluice: topic 'nope' does not exist (UNKNOWN_TOPIC_OR_PARTITION)",
    );
    await fails(
      ['topic', 'create', 'orders'],
      1,
      "sluice: Topic 'orders' already exists (TOPIC_ALREADY_EXISTS)",
    );
    await fails(
      ['consume', '--topic', 'events', '--partition', '5'],
      1,
      "sluice: topic 'events' has no partition 5 (it has 1 partition)",
    );

    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    await fails(
      ['topic', 'list', '--bootstrap', `127.0.0.1:${closedPort}`],
      1,
      new RegExp(
        `^sluice: no bootstrap broker is reachable: .*127\\.0\\.0\\.1:${closedPort}.*ECONNREFUSED.* \\(CONNECTION_ERROR\\)$`,
      ),
    );

    await fails(
      ['topic', 'create', 'x', '--partitions', 'zero'],
      2,
      "sluice: error: option '--partitions <n>' argument 'zero' is invalid. expected a whole number from 1 to 1000000",
    );
    await fails(['topic', 'list', '--bogus'], 2, "sluice: error: unknown option '--bogus'");
    await fails(
      ['produce', '--topic', 'events', '--acks', '2'],
      2,
      "sluice: error: option '--acks <acks>' argument '2' is invalid. expected 0, 1 or all",
    );
    await fails(
      ['consume', '--topic', 'events', '--group', 'g', '--from', '5'],
      2,
      "sluice: with --group, --from takes earliest or latest (the group's committed offsets come first); move a group with `sluice group reset-offsets`",
    );
    await fails(
      ['group', 'reset-offsets', 'g', '--topic', 'events'],
      2,
      'sluice: give exactly one of --to-earliest, --to-latest, --to-timestamp and --to-offset',
    );
    await fails(
      ['topic', 'list'],
      2,
      "sluice: SLUICE_BOOTSTRAP=nohost:x is invalid: 'nohost:x' is not host:port",
      {
        SLUICE_BOOTSTRAP: 'nohost:x',
      },
    );
  });

  test('--help on every command shows examples and exits 0', async () => {
    const commands = [
      [],
      ['topic'],
      ['topic', 'create'],
      ['topic', 'list'],
      ['topic', 'describe'],
      ['topic', 'alter'],
      ['topic', 'delete'],
      ['topic', 'delete-records'],
      ['produce'],
      ['consume'],
      ['group'],
      ['group', 'list'],
      ['group', 'describe'],
      ['group', 'reset-offsets'],
      ['group', 'delete'],
      ['cluster'],
      ['perf'],
      ['perf', 'produce'],
      ['perf', 'consume'],
    ];
    await Promise.all(
      commands.map(async (command) => {
        const stdout = await ok([...command, '--help']);
        assert.match(stdout, /^Usage: sluice/, command.join(' '));
        assert.match(stdout, /\nExamples:\n {2}\$ .*sluice /, command.join(' '));
      }),
    );
  });

  test('a reader that has gone away ends the command quietly with status 0', async () => {
    // Like `sluice perf consume --help | head -1` when head has exited before the help is written.
    const child = spawn(process.execPath, [bin, 'perf', 'consume', '--help'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    background.push(child);
    child.stdout!.destroy();
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) =>
      child.once('close', (status) => resolve(status)),
    );
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
