// Partition counts a broker cannot take. Each partition keeps a file open; a CreateTopics of 200,000
// partitions used to exhaust the broker's descriptors, after which it accepted no connection and its data
// directory no longer started. Now a request over 10,000 partitions is refused as Kafka's controller refuses
// it, and creations past what the open-file limit leaves room for get a readable POLICY_VIOLATION.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Admin } from 'kafkajs';
import { type Broker, disposeAllBrokers, repoRoot, startBroker } from '../helpers/broker.js';
import { hasKafkaErrorType } from '../helpers/errors.js';
import { createKafka } from '../helpers/kafka.js';
import { runProgram, runProgramOk } from '../helpers/process.js';

/** The broker inherits this limit from the test process: it can host 700 - 256 = 444 partitions. */
const OPEN_FILE_LIMIT = 700;
const testTimeoutMs = 60_000;

/**
 * Lowers this process's open-file limits for the brokers it starts (Node raises a soft limit to the hard one,
 * so both). For good: raising a hard limit again takes CAP_SYS_RESOURCE, and node --test gives each test file
 * a process of its own.
 */
function lowerOpenFileLimit(limit: number): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit}:${limit}`]);
}

describe('partition limits', { timeout: 120_000 }, () => {
  let broker: Broker;
  let admin: Admin;

  before(async () => {
    lowerOpenFileLimit(OPEN_FILE_LIMIT);
    broker = await startBroker();
    admin = createKafka(broker.bootstrap, { retry: { retries: 1, initialRetryTime: 100 } }).admin();
    await admin.connect();
  });

  after(async () => {
    await admin?.disconnect();
    await disposeAllBrokers();
  });

  test('more than 10,000 partitions in one CreateTopics is POLICY_VIOLATION, as in Kafka', {
    timeout: testTimeoutMs,
  }, async () => {
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'limits-huge', numPartitions: 200_000 }] }),
      hasKafkaErrorType('POLICY_VIOLATION'),
    );
    // Counted over the whole request: each of these alone would be allowed.
    await assert.rejects(
      admin.createTopics({
        topics: [
          { topic: 'limits-half-a', numPartitions: 5_001 },
          { topic: 'limits-half-b', numPartitions: 5_000 },
        ],
      }),
      hasKafkaErrorType('POLICY_VIOLATION'),
    );
    assert.deepEqual(
      (await admin.listTopics()).filter((t) => t.startsWith('limits-')),
      [],
    );
  });

  test('past what the open-file limit leaves room for, creations are refused and the broker keeps serving', {
    timeout: testTimeoutMs,
  }, async () => {
    assert.equal(await admin.createTopics({ topics: [{ topic: 'limits-a', numPartitions: 400 }] }), true);
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'limits-b', numPartitions: 50 }] }),
      hasKafkaErrorType('POLICY_VIOLATION'),
    );
    // kafkajs shows only the code's standard text; the CLI shows the broker's message.
    const cli = await runProgram(
      process.execPath,
      [join(repoRoot, 'bin', 'sluice.js'), 'topic', 'create', 'limits-b', '--partitions', '50'],
      { timeoutMs: 15_000, env: { ...process.env, SLUICE_BOOTSTRAP: broker.bootstrap } },
    );
    assert.deepEqual(
      [cli.code, cli.stderr],
      [
        1,
        "sluice: topic 'limits-b': This broker cannot host 50 more partitions: it would hold 450, and with its " +
          'open-file limit it can hold 444 (one open file each). Raise the limit (ulimit -n) to host more ' +
          '(POLICY_VIOLATION)\n',
      ],
    );
    await assert.rejects(
      admin.createPartitions({ topicPartitions: [{ topic: 'limits-a', count: 450 }] }),
      hasKafkaErrorType('POLICY_VIOLATION'),
    );
    // Within the room left, creation still works.
    assert.equal(await admin.createTopics({ topics: [{ topic: 'limits-c', numPartitions: 40 }] }), true);

    const produceAndRead = async () => {
      await runProgramOk('kcat', ['-b', broker.bootstrap, '-P', '-t', 'limits-a', '-p', '399', '-K', ':'], {
        timeoutMs: 15_000,
        input: 'k:still serving\n',
      });
      const { stdout } = await runProgramOk(
        'kcat',
        [
          '-b',
          broker.bootstrap,
          '-C',
          '-t',
          'limits-a',
          '-p',
          '399',
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          '%k=%s\n',
        ],
        { timeoutMs: 15_000 },
      );
      return stdout;
    };
    assert.equal(await produceAndRead(), 'k=still serving\n');
    await broker.restart();
    assert.equal(await produceAndRead(), 'k=still serving\nk=still serving\n');
    // The restarted broker listens on a new port.
    const restartedAdmin = createKafka(broker.bootstrap).admin();
    await restartedAdmin.connect();
    try {
      const described = await restartedAdmin.fetchTopicMetadata({ topics: ['limits-a', 'limits-c'] });
      assert.deepEqual(described.topics.map((t) => [t.name, t.partitions.length]).sort(), [
        ['limits-a', 400],
        ['limits-c', 40],
      ]);
    } finally {
      await restartedAdmin.disconnect();
    }
  });
});
