import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { BrokerConfig } from '../common/config.js';
import { ConfigError } from '../common/config.js';
import { resolveStartConfig, startOptionsToFlags } from './commands/start.js';
import type { CliContext } from './context.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-status.js';
import { runCli } from './program.js';
import type { SignalProcess } from './shutdown.js';

class FakeProcess implements SignalProcess {
  readonly handlers = new Map<string, ((signal: NodeJS.Signals) => void)[]>();
  readonly exits: number[] = [];
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void) {
    this.handlers.set(signal, [...(this.handlers.get(signal) ?? []), listener]);
  }
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void) {
    this.handlers.set(
      signal,
      (this.handlers.get(signal) ?? []).filter((l) => l !== listener),
    );
  }
  exit(code: number) {
    this.exits.push(code);
  }
  send(signal: NodeJS.Signals) {
    for (const listener of this.handlers.get(signal) ?? []) listener(signal);
  }
}

function fakeContext(overrides: Partial<CliContext> = {}) {
  const errors: string[] = [];
  const logLines: string[] = [];
  const started: BrokerConfig[] = [];
  const processLike = new FakeProcess();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const context: CliContext = {
    startBroker: async (config) => {
      started.push(config);
      return { close: async () => {} };
    },
    env: {},
    process: processLike,
    printError: (line) => errors.push(line),
    logDestinationOption: () => ({ destination: sink }),
    ...overrides,
  };
  return { context, errors, logLines, started, processLike };
}

const argv = (...args: string[]) => ['node', 'sluice', ...args];

describe('start options', () => {
  test('dedicated flags and --set map onto Kafka names', () => {
    assert.deepEqual(
      startOptionsToFlags({
        listen: '0.0.0.0:9093',
        dataDir: '/d',
        nodeId: '2',
        advertisedListener: 'h:9093',
        logLevel: 'debug',
        set: ['num.partitions=3', 'log.cleanup.policy=compact,delete', 'cluster.id=a=b'],
      }),
      {
        'num.partitions': '3',
        'log.cleanup.policy': 'compact,delete',
        'cluster.id': 'a=b',
        listeners: '0.0.0.0:9093',
        'log.dirs': '/d',
        'node.id': '2',
        'advertised.listeners': 'h:9093',
        'log.level': 'debug',
      },
    );
  });

  test('malformed --set and conflicting flags are user errors', () => {
    assert.throws(
      () => startOptionsToFlags({ set: ['num.partitions'] }),
      new ConfigError('--set expects key=value, got "num.partitions"'),
    );
    assert.throws(
      () => startOptionsToFlags({ listen: 'a:1', set: ['listeners=b:2'] }),
      new ConfigError('--listen a:1 conflicts with --set listeners=b:2; give it once'),
    );
  });
});

describe('sluice start', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('argv, config file and environment become one config', async () => {
    const file = join(dir, 'server.properties');
    await writeFile(file, 'num.partitions=4\nlog.retention.hours=1\nmessage.max.bytes=100\n');
    const { context, started, errors, logLines } = fakeContext({
      env: { SLUICE_MESSAGE_MAX_BYTES: '200', SLUICE_NUM_PARTITIONS: '5' },
    });
    const status = await runCli(
      argv(
        'start',
        '--listen',
        '127.0.0.1:0',
        '--data-dir',
        dir,
        '--node-id',
        '7',
        '--config',
        file,
        '--set',
        'num.partitions=6',
        '--log-level',
        'warn',
      ),
      context,
    );
    assert.equal(status, EXIT_OK);
    assert.deepEqual(errors, []);
    assert.equal(started.length, 1);
    const config = started[0]!;
    assert.deepEqual(config.listeners, [
      {
        name: 'PLAINTEXT',
        securityProtocol: 'PLAINTEXT',
        host: '127.0.0.1',
        port: 0,
        advertisedHost: '127.0.0.1',
        advertisedPort: 0,
      },
    ]);
    assert.equal(config.dataDir, dir);
    assert.equal(config.nodeId, 7);
    assert.equal(config.numPartitions, 6);
    assert.equal(config.messageMaxBytes, 200);
    assert.equal(config.logRetentionMs, 3_600_000);
    assert.equal(config.logLevel, 'warn');
    assert.deepEqual(logLines, [], 'info lines are filtered at warn level');
  });

  test('warnings are logged once the logger exists', async () => {
    const { context, logLines } = fakeContext();
    const status = await runCli(argv('start', '--listen', '0.0.0.0:0', '--data-dir', dir), context);
    assert.equal(status, EXIT_OK);
    const lines = logLines.map((line) => JSON.parse(line) as { level: number; msg: string });
    assert.equal(lines[0]!.level, 40);
    assert.match(lines[0]!.msg, /advertising 127\.0\.0\.1:0/);
    assert.equal(lines[1]!.msg, 'starting broker');
  });

  test('--listen and --advertised-listener take lists of named listeners', async () => {
    const { context, started, errors, logLines } = fakeContext();
    const status = await runCli(
      argv(
        'start',
        '--listen',
        'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://0.0.0.0:19093',
        '--advertised-listener',
        'SASL_PLAINTEXT://broker.example.com:19093',
        '--set',
        'sasl.users=alice:alice-secret',
        '--data-dir',
        dir,
      ),
      context,
    );
    assert.equal(status, EXIT_OK);
    assert.deepEqual(errors, []);
    assert.deepEqual(started[0]!.listeners, [
      {
        name: 'PLAINTEXT',
        securityProtocol: 'PLAINTEXT',
        host: '127.0.0.1',
        port: 0,
        advertisedHost: '127.0.0.1',
        advertisedPort: 0,
      },
      {
        name: 'SASL_PLAINTEXT',
        securityProtocol: 'SASL_PLAINTEXT',
        host: '0.0.0.0',
        port: 19093,
        advertisedHost: 'broker.example.com',
        advertisedPort: 19093,
      },
    ]);
    const starting = logLines
      .map((line) => JSON.parse(line) as { msg: string; listeners?: unknown; advertisedListeners?: unknown })
      .find((line) => line.msg === 'starting broker');
    assert.deepEqual(
      [starting?.listeners, starting?.advertisedListeners],
      [
        ['PLAINTEXT://127.0.0.1:0 (PLAINTEXT)', 'SASL_PLAINTEXT://0.0.0.0:19093 (SASL_PLAINTEXT)'],
        ['PLAINTEXT://127.0.0.1:0', 'SASL_PLAINTEXT://broker.example.com:19093'],
      ],
    );
  });

  const usageCases: [string, string[], RegExp][] = [
    [
      'unknown flag',
      ['start', '--listn', 'x'],
      /^sluice: error: unknown option '--listn' \(Did you mean --listen\?\)$/,
    ],
    [
      'bad value',
      ['start', '--node-id', 'abc'],
      /^sluice: Invalid value "abc" for node\.id \(command-line setting node\.id\): expected an integer in \[0, 2147483647\]$/,
    ],
    [
      'unknown setting',
      ['start', '--set', 'log.segment.byte=1'],
      /^sluice: Unknown broker setting "log\.segment\.byte" .*did you mean log\.segment\.bytes\?\)$/,
    ],
    [
      'missing config file',
      ['start', '--config', '/nonexistent/sluice.properties'],
      /^sluice: Cannot read config file \/nonexistent\/sluice\.properties: no such file$/,
    ],
    ['unknown command', ['stat'], /^sluice: error: unknown command 'stat' \(Did you mean start\?\)$/],
  ];
  for (const [label, args, message] of usageCases) {
    test(`user mistake (${label}): one line on stderr, exit 2`, async () => {
      const { context, errors, started } = fakeContext();
      assert.equal(await runCli(argv(...args), context), EXIT_USAGE);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.doesNotMatch(errors[0]!, /\n| {4}at /);
      assert.match(errors[0]!, message);
      assert.equal(started.length, 0);
    });
  }

  test('a broker that fails to start: one line, exit 1', async () => {
    const { context, errors } = fakeContext({
      startBroker: async () => {
        throw new Error('listen EADDRINUSE: address already in use 127.0.0.1:9092');
      },
    });
    assert.equal(await runCli(argv('start', '--data-dir', dir), context), EXIT_FAILURE);
    assert.deepEqual(errors, [
      'sluice: cannot start the broker: listen EADDRINUSE: address already in use 127.0.0.1:9092',
    ]);
  });

  test('--help exits 0 and shows examples', async () => {
    const writes: string[] = [];
    const original = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      writes.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      const { context } = fakeContext();
      assert.equal(await runCli(argv('start', '--help'), context), EXIT_OK);
    } finally {
      process.stdout.write = original;
    }
    const help = writes.join('');
    assert.match(help, /--set <key=value>/);
    assert.match(help, /\$ sluice start --config server\.properties --set log\.retention\.hours=24/);
  });

  test('resolveStartConfig reads a JSON config file', async () => {
    const file = join(dir, 'sluice.json');
    await writeFile(file, JSON.stringify({ 'auto.create.topics.enable': false }));
    const { config, warnings } = await resolveStartConfig({ config: file, set: [] }, {});
    assert.equal(config.autoCreateTopicsEnable, false);
    assert.deepEqual(warnings, []);
  });
});

describe('shutdown on signals', () => {
  const startWith = async (close: () => Promise<void>, extraArgs: string[] = []) => {
    const fake = fakeContext({ startBroker: async () => ({ close }) });
    assert.equal(await runCli(argv('start', ...extraArgs), fake.context), EXIT_OK);
    return fake;
  };

  test('SIGTERM closes once and exits 0', async () => {
    let closes = 0;
    const { processLike } = await startWith(async () => {
      closes++;
    });
    processLike.send('SIGTERM');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closes, 1);
    assert.deepEqual(processLike.exits, [0]);
  });

  test('a failing close exits 1', async () => {
    const { processLike, logLines } = await startWith(async () => {
      throw new Error('disk gone');
    });
    processLike.send('SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(processLike.exits, [1]);
    assert.ok(logLines.some((line) => line.includes('shutdown failed') && line.includes('disk gone')));
  });

  test('a close that exceeds shutdown.timeout.ms exits 1; a second signal forces exit', async () => {
    const { processLike } = await startWith(
      () => new Promise<void>(() => {}),
      ['--set', 'shutdown.timeout.ms=20'],
    );
    processLike.send('SIGTERM');
    // Polls rather than sleeping a fixed time: the 20 ms timer runs late on a busy machine.
    const deadline = Date.now() + 5_000;
    while (processLike.exits.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(processLike.exits, [1]);

    const second = await startWith(() => new Promise<void>(() => {}), ['--set', 'shutdown.timeout.ms=50']);
    second.processLike.send('SIGTERM');
    second.processLike.send('SIGINT');
    assert.deepEqual(second.processLike.exits, [1]);
    await new Promise((resolve) => setTimeout(resolve, 80));
  });
});
