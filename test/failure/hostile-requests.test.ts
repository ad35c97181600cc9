// Well-formed requests carrying hostile values, for every API and version the broker advertises: what a
// buggy or malicious client can send once it gets past framing (garbage.test.ts covers the bytes below that).
// Values come from the schemas (src/protocol/generator/samples.ts), steered towards the ones a broker must
// survive: -1 and 2^31-1 partitions, offsets and timestamps at the int64 extremes, absurd partition counts
// and replication factors, empty and unknown names next to real topics and groups, valid record batches
// and random bytes. Every request must get an answer, without the broker logging an unexpected error, and
// the broker must still serve real clients afterwards.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrokerConnection } from '../../src/client/connection.js';
import { ConnectionError, RequestTimeoutError } from '../../src/client/errors.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { API_BY_KEY, ApiKey, MetadataApi } from '../../src/protocol/generated/index.js';
import { SampleBuilder, type ValueChooser } from '../../src/protocol/generator/samples.js';
import {
  DEFAULT_MESSAGES_FOLDER,
  type FieldSpec,
  loadMessages,
} from '../../src/protocol/generator/schema.js';
import { ZERO_UUID } from '../../src/protocol/primitives/uuid.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { type Broker, disposeAllBrokers, repoRoot, startBroker } from '../helpers/broker.js';
import { runProgramOk } from '../helpers/process.js';

/** 8 per version is some 1,300 requests, about 2 s; 60 (9,500 requests) found nothing more when this was written. */
const SAMPLES_PER_VERSION = 8;
const REQUEST_TIMEOUT_MS = 10_000;
const TOPICS = ['hostile-a', 'hostile-b'];
/** `name` is a topic's in some structs and a config's in others: both kinds, and names neither accepts. */
const NAMES = [
  ...TOPICS,
  '',
  'hostile-nope',
  'retention.ms',
  'segment.bytes',
  'max.message.bytes',
  'cleanup.policy',
];
const CONFIG_VALUES = ['-1', '0', '1', '9223372036854775807', '1e3', 'compact', 'delete,compact,bogus', ''];
const GROUP = 'hostile-g';

const INT32_EDGES = [-1, 0, 1, 2, 0x7fffffff, -0x80000000];
const INT64_EDGES = [-2n, -1n, 0n, 1n, 2n ** 63n - 1n, -(2n ** 63n)];

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)]!;
}

/** Steers fields whose name says what they are; undefined leaves a field to the builder's random value. */
const hostileValues: ValueChooser = (field: FieldSpec, _version, random) => {
  const name = field.property;
  const kind = field.type.kind;
  if (random() < 0.25) return undefined;
  // Waits the broker would honour: kept short so that every request is answered within the test.
  if (/^(maxWaitMs|timeoutMs|rebalanceTimeoutMs|sessionTimeoutMs)$/.test(name))
    return pick(random, [-1, 0, 10, 100]);
  if (name === 'acks') return pick(random, [-2, -1, 1, 2]);
  if (/^(numPartitions|count)$/.test(name)) return pick(random, [-1, 0, 1, 3, 10_001, 0x7fffffff]);
  if (name === 'replicationFactor') return pick(random, [-1, 0, 1, 2, 0x7fff]);
  if (kind === 'string' && /^(name|topic|topicName)$/.test(name)) return pick(random, NAMES);
  if (kind === 'string' && name === 'value') return pick(random, CONFIG_VALUES);
  if (kind === 'string' && name === 'groupId') return pick(random, [GROUP, '']);
  if (kind === 'int32' && /partition/i.test(name)) return pick(random, INT32_EDGES);
  if (kind === 'int64') return pick(random, INT64_EDGES);
  if (kind === 'records' && random() < 0.5) {
    return encodeRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1 }] });
  }
  return undefined;
};

/** Our client's connection: it frames any request object at any version and decodes the answer. */
async function connectTo(broker: Broker): Promise<BrokerConnection> {
  const [host, port] = broker.bootstrap.split(':') as [string, string];
  const connection = new BrokerConnection({
    host,
    port: Number(port),
    nodeId: -1,
    clientId: 'hostile',
    connectTimeoutMs: 5_000,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  await connection.connect();
  return connection;
}

describe('hostile but well-formed requests', { timeout: 240_000 }, () => {
  let broker: Broker;

  before(async () => {
    broker = await startBroker({ args: ['--set', 'group.initial.rebalance.delay.ms=0'] });
    await runProgramOk(
      process.execPath,
      [path.join(repoRoot, 'bin', 'sluice.js'), 'topic', 'create', TOPICS[0]!, '--partitions', '3'],
      { timeoutMs: 15_000, env: { ...process.env, SLUICE_BOOTSTRAP: broker.bootstrap } },
    );
  });

  after(async () => {
    await disposeAllBrokers();
  });

  test('an empty topic name in Metadata is INVALID_TOPIC_EXCEPTION at every version (it once failed encoding the answer)', async () => {
    const connection = await connectTo(broker);
    try {
      const range = connection.apiVersions.get(ApiKey.Metadata)!;
      for (let version = Math.max(1, range.min); version <= range.max; version++) {
        const response = await connection.send(
          MetadataApi,
          {
            topics: [{ topicId: ZERO_UUID, name: '' }],
            allowAutoTopicCreation: true,
            includeClusterAuthorizedOperations: false,
            includeTopicAuthorizedOperations: false,
          },
          { version },
        );
        assert.deepEqual(
          response.topics.map((t) => [t.name, t.errorCode]),
          [['', ErrorCode.INVALID_TOPIC_EXCEPTION]],
          `Metadata v${version}`,
        );
      }
    } finally {
      await connection.close();
    }
  });

  test('every advertised API and version answers them, and the broker stays healthy', {
    timeout: 200_000,
  }, async () => {
    const messages = await loadMessages(path.resolve(repoRoot, DEFAULT_MESSAGES_FOLDER));
    const requestSpecs = new Map(messages.filter((m) => m.kind === 'request').map((m) => [m.apiKey!, m]));
    let connection = await connectTo(broker);
    const advertised = [...connection.apiVersions].sort(([a], [b]) => a - b);
    assert.ok(advertised.length > 20, `only ${advertised.length} APIs advertised`);
    const failures: string[] = [];
    let sent = 0;
    for (const [apiKey, range] of advertised) {
      const api = API_BY_KEY.get(apiKey)!;
      const spec = requestSpecs.get(apiKey)!;
      for (let version = range.min; version <= range.max; version++) {
        for (let sample = 0; sample < SAMPLES_PER_VERSION; sample++) {
          const seed = apiKey * 10_000 + version * 100 + sample + 1;
          const request = new SampleBuilder(spec, seed, hostileValues).build(spec.root, version);
          const where = `${api.name} v${version} sample ${sample} (seed ${seed})`;
          // An acks=0 Produce gets no answer; Kafka closes the connection when one fails, which is allowed.
          const unanswered = apiKey === ApiKey.Produce && request.acks === 0;
          sent++;
          try {
            await connection.send(api, request, { version, expectResponse: !unanswered });
            if (unanswered) await connection.send(API_BY_KEY.get(ApiKey.ApiVersions)!, {}, { version: 0 });
          } catch (error) {
            if (!(error instanceof ConnectionError || error instanceof RequestTimeoutError)) throw error;
            if (!unanswered) failures.push(`${where}: ${error.message}`);
            await connection.close();
            connection = await connectTo(broker);
          }
        }
      }
    }
    await connection.close();
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests were not answered`);
    const unexpected = broker
      .logs()
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line));
    assert.deepEqual(unexpected, [], 'the broker logged unexpected errors');

    // Still a working broker: a real client writes and reads back.
    const bootstrapEnv = { ...process.env, SLUICE_BOOTSTRAP: broker.bootstrap };
    const sluice = path.join(repoRoot, 'bin', 'sluice.js');
    await runProgramOk(process.execPath, [sluice, 'topic', 'create', 'hostile-after', '--partitions', '1'], {
      timeoutMs: 15_000,
      env: bootstrapEnv,
    });
    await runProgramOk('kcat', ['-b', broker.bootstrap, '-P', '-t', 'hostile-after'], {
      timeoutMs: 15_000,
      input: 'survived\n',
    });
    const { stdout } = await runProgramOk(
      'kcat',
      ['-b', broker.bootstrap, '-C', '-t', 'hostile-after', '-o', 'beginning', '-e', '-q'],
      { timeoutMs: 15_000 },
    );
    assert.equal(stdout, 'survived\n');
    // And a consumer group can still form, in the very group the requests above abused.
    const grouped = await runProgramOk(
      'kcat',
      [
        '-b',
        broker.bootstrap,
        '-G',
        GROUP,
        '-X',
        'auto.offset.reset=earliest',
        '-c',
        '1',
        '-q',
        'hostile-after',
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(grouped.stdout, 'survived\n');
  });
});
