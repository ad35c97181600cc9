// Round trips through every client CI has, for the security interop tests (sasl, tls, acls): each driver takes
// the broker address and the client's own security settings (SASL, TLS or both, in that client's terms),
// produces keyed records with headers and asserts that exactly those come back. Plus the small tools those
// tests share: expected records, JSON-line output, timing, error chains, kcat flags and the sarama program.
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { readAll } from './kafka.js';
import { loadPlatformatic } from './platformatic.js';
import { ProgramMissingError, type ProgramResult, runProgram, runProgramOk } from './process.js';
import { assertPythonModule, PYTHON } from './python.js';
import { buildSaramaProgram } from './sarama.js';

/** How long one client program may run. */
const programTimeoutMs = 30_000;

/** One record as the clients report it, and as the tests expect it. */
export interface SeenRecord {
  p: number;
  o: number;
  k: string | null;
  v: string | null;
  h: Array<[string, string]>;
}

/** Message i of a case: key k<i>, value <prefix>-v<i>, on partition i % partitions, headers(i) as headers. */
export function expectedRecords(
  prefix: string,
  count: number,
  partitions: number,
  headers: (i: number) => Array<[string, string]>,
): SeenRecord[] {
  const records: SeenRecord[] = [];
  for (let p = 0; p < partitions; p++) {
    for (let i = p, o = 0; i < count; i += partitions, o++) {
      records.push({ p, o, k: `k${i}`, v: `${prefix}-v${i}`, h: headers(i) });
    }
  }
  return records;
}

export const byPartitionThenOffset = (a: SeenRecord, b: SeenRecord) => a.p - b.p || a.o - b.o;

/** The header every driver but kcat's sets: n=<i>. */
const numbered = (i: number): Array<[string, string]> => [['n', String(i)]];

/** The lines of a program's stdout that are JSON objects, parsed. */
export function jsonLines<T>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as T);
}

export async function elapsedMs<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await work();
  return { result, ms: Date.now() - started };
}

/**
 * Every message in an error's cause chain and nested `errors`, for matching a wrapped failure; with `apiId`,
 * each error's apiId (the Kafka error name @platformatic/kafka gives) follows its message in brackets.
 */
export function describeErrorChain(err: unknown, options: { apiId?: boolean } = {}, depth = 0): string {
  if (!(err instanceof Error) || depth > 5) return String(err);
  const nested = (err as Error & { errors?: unknown[] }).errors ?? [];
  const code = options.apiId === true ? (err as Error & { apiId?: unknown }).apiId : undefined;
  return [
    `${err.name}: ${err.message}${code === undefined ? '' : ` [${String(code)}]`}`,
    ...nested.map((inner) => describeErrorChain(inner, options, depth + 1)),
    ...(err.cause === undefined ? [] : [describeErrorChain(err.cause, options, depth + 1)]),
  ].join(' <- ');
}

// --- kafkajs -------------------------------------------------------------------------------------------------

/**
 * Admin creates `topic` with two partitions, a producer sends six keyed records with `headers`, a group reads
 * them back exactly. With `largeValue`, one more record (key 'big') carries it to partition 0 and must come
 * back byte for byte.
 */
export async function kafkajsRoundTrip(
  client: Kafka,
  options: {
    topic: string;
    valuePrefix: string;
    headers: (i: number) => Array<[string, string]>;
    largeValue?: string;
  },
): Promise<void> {
  const { topic, valuePrefix, headers, largeValue } = options;
  const clientAdmin = client.admin();
  await clientAdmin.connect();
  try {
    assert.equal(await clientAdmin.createTopics({ topics: [{ topic, numPartitions: 2 }] }), true);
  } finally {
    await clientAdmin.disconnect();
  }
  const count = 6;
  const producer = client.producer();
  await producer.connect();
  try {
    const sent = await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: count }, (_, i) => ({
        partition: i % 2,
        key: `k${i}`,
        value: `${valuePrefix}-v${i}`,
        headers: Object.fromEntries(headers(i)),
      })),
    });
    assert.deepEqual(sent.map((r) => [r.partition, r.baseOffset, r.errorCode]).sort(), [
      [0, '0', 0],
      [1, '0', 0],
    ]);
    if (largeValue !== undefined) {
      const [big] = await producer.send({
        topic,
        acks: -1,
        messages: [{ partition: 0, key: 'big', value: largeValue }],
      });
      assert.deepEqual([big?.errorCode, big?.baseOffset], [0, String(count / 2)]);
    }
  } finally {
    await producer.disconnect();
  }
  const messages = await readAll(client, topic);
  const read = messages
    .filter((m) => largeValue === undefined || m.key !== 'big')
    .map((m) => ({
      p: m.partition,
      o: Number(m.offset),
      k: m.key,
      v: m.value,
      h: Object.entries(m.headers),
    }));
  assert.deepEqual(read.sort(byPartitionThenOffset), expectedRecords(valuePrefix, count, 2, headers));
  if (largeValue !== undefined) {
    const big = messages.filter((m) => m.key === 'big');
    assert.deepEqual(
      big.map((m) => [m.partition, m.offset, m.value?.length]),
      [[0, String(count / 2), largeValue.length]],
    );
    assert.ok(big[0]?.value === largeValue, 'the large value comes back byte for byte');
  }
}

// --- kcat (librdkafka) ---------------------------------------------------------------------------------------

/** librdkafka's security settings as kcat -X flags: the protocol, then TLS files and SASL login as given. */
export function kcatSecurity(settings: {
  protocol: 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  caPath?: string;
  certPath?: string;
  keyPath?: string;
  sasl?: { mechanism: string; username: string; password: string };
}): string[] {
  const properties = [`security.protocol=${settings.protocol}`];
  if (settings.caPath !== undefined) properties.push(`ssl.ca.location=${settings.caPath}`);
  if (settings.certPath !== undefined) properties.push(`ssl.certificate.location=${settings.certPath}`);
  if (settings.keyPath !== undefined) properties.push(`ssl.key.location=${settings.keyPath}`);
  if (settings.sasl !== undefined) {
    properties.push(
      `sasl.mechanisms=${settings.sasl.mechanism}`,
      `sasl.username=${settings.sasl.username}`,
      `sasl.password=${settings.sasl.password}`,
    );
  }
  return properties.flatMap((property) => ['-X', property]);
}

/** kcat against `bootstrap` (metadata timeout 10 s), which must exit 0. */
export function kcatOk(bootstrap: string, args: string[], input = ''): Promise<ProgramResult> {
  return runProgramOk('kcat', ['-b', bootstrap, '-m', '10', ...args], {
    input,
    timeoutMs: 25_000,
  }).catch((err: unknown) => {
    if (err instanceof ProgramMissingError) throw new Error('kcat is not installed (Debian package kcat)');
    throw err;
  });
}

/** kcat -L that is expected to fail: its result and how long it took, with a metadata timeout of -m seconds. */
export function kcatListTimed(
  bootstrap: string,
  metadataSeconds: number,
  args: string[],
): Promise<{ result: ProgramResult; ms: number }> {
  return elapsedMs(() =>
    runProgram('kcat', ['-b', bootstrap, '-m', String(metadataSeconds), ...args, '-L'], {
      timeoutMs: 20_000,
    }),
  );
}

/**
 * On an existing two-partition `topic`: -L lists the broker (`nodeId` at 127.0.0.1:`port`) and the topic, -P
 * writes six keyed records with the header via=kcat, -C -e reads them back exactly.
 */
export async function kcatRoundTrip(options: {
  bootstrap: string;
  port: number;
  nodeId: number;
  security: string[];
  topic: string;
  valuePrefix: string;
}): Promise<void> {
  const { bootstrap, port, nodeId, security, topic, valuePrefix } = options;
  const listing = JSON.parse((await kcatOk(bootstrap, [...security, '-L', '-J', '-t', topic])).stdout) as {
    brokers: Array<{ id: number; name: string }>;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number }> }>;
  };
  assert.deepEqual(listing.brokers, [{ id: nodeId, name: `127.0.0.1:${port}` }]);
  assert.deepEqual(
    listing.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => [p.partition, p.leader]),
    })),
    [
      {
        topic,
        partitions: [
          [0, nodeId],
          [1, nodeId],
        ],
      },
    ],
  );
  const count = 6;
  for (const partition of [0, 1]) {
    const lines = [];
    for (let i = partition; i < count; i += 2) lines.push(`k${i}:${valuePrefix}-v${i}`);
    await kcatOk(
      bootstrap,
      [...security, '-P', '-t', topic, '-p', String(partition), '-K', ':', '-H', 'via=kcat'],
      `${lines.join('\n')}\n`,
    );
  }
  const { stdout } = await kcatOk(bootstrap, [
    ...security,
    '-C',
    '-t',
    topic,
    '-o',
    'beginning',
    '-e',
    '-f',
    '%p|%o|%k|%s|%h\\n',
  ]);
  const read = stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [p, o, k, v, h] = line.split('|');
      const [name, value] = (h ?? '').split('=');
      return { p: Number(p), o: Number(o), k: k ?? null, v: v ?? null, h: [[name, value]] } as SeenRecord;
    });
  assert.deepEqual(
    read.sort(byPartitionThenOffset),
    expectedRecords(valuePrefix, count, 2, () => [['via', 'kcat']]),
  );
}

// --- confluent-kafka (python, librdkafka) --------------------------------------------------------------------

// argv: bootstrap, topic, JSON of the security settings, count, value prefix, group id. Produces keyed records
// with a header to two partitions, then reads them back by assignment. Count 0: only log in, and report what
// the error callback says (served by poll), then what list_topics does.
const confluentScript = `
import json, sys, time
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
bootstrap, topic, security, count, prefix, group = (sys.argv[1], sys.argv[2], json.loads(sys.argv[3]),
                                                    int(sys.argv[4]), sys.argv[5], sys.argv[6])
def out(step, **fields):
    print(json.dumps(dict(step=step, **fields), sort_keys=True), flush=True)
common = dict(security, **{'bootstrap.servers': bootstrap})
if count == 0:
    errors = []
    producer = Producer(dict(common, error_cb=lambda err: errors.append(err)))
    started = time.time()
    def authentication_errors():
        return [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
    while not authentication_errors() and time.time() - started < 10:
        producer.poll(0.1)
    first = authentication_errors()[:1]
    out('error-callback', message=first[0].str() if first else None, seconds=time.time() - started)
    try:
        producer.list_topics(timeout=2)
        out('list-topics', error=None)
    except Exception as e:
        out('list-topics', error=e.args[0].name())
    sys.exit(0)
failures = []
def on_delivery(err, msg):
    if err is not None:
        failures.append(str(err))
producer = Producer(dict(common, acks='all', **{'message.timeout.ms': 10000}))
for i in range(count):
    producer.produce(topic, key=('k%d' % i).encode(), value=('%s-v%d' % (prefix, i)).encode(), partition=i % 2,
                     headers=[('n', str(i).encode())], on_delivery=on_delivery)
remaining = producer.flush(15)
if remaining or failures:
    sys.exit('delivery failed: remaining=%d failures=%r' % (remaining, failures))
consumer = Consumer(dict(common, **{'group.id': group, 'enable.auto.commit': False}))
consumer.assign([TopicPartition(topic, 0, -2), TopicPartition(topic, 1, -2)])
got = 0
deadline = time.time() + 20
while got < count and time.time() < deadline:
    m = consumer.poll(0.5)
    if m is None:
        continue
    if m.error():
        sys.exit('consumer error: %s' % m.error())
    got += 1
    out('record', p=m.partition(), o=m.offset(), k=m.key().decode(), v=m.value().decode(),
        h=[[name, value.decode()] for name, value in (m.headers() or [])])
consumer.close()
`;

function runConfluent(
  bootstrap: string,
  topic: string,
  security: Record<string, string>,
  count: number,
  valuePrefix: string,
  groupId: string,
): Promise<ProgramResult> {
  return runProgramOk(
    PYTHON,
    ['-c', confluentScript, bootstrap, topic, JSON.stringify(security), String(count), valuePrefix, groupId],
    { timeoutMs: programTimeoutMs },
  );
}

/** On an existing two-partition `topic`: six keyed records with a header, read back exactly by assignment. */
export async function confluentRoundTrip(options: {
  bootstrap: string;
  topic: string;
  security: Record<string, string>;
  valuePrefix: string;
  groupId: string;
}): Promise<void> {
  await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
  const count = 6;
  const { bootstrap, topic, security, valuePrefix, groupId } = options;
  const { stdout } = await runConfluent(bootstrap, topic, security, count, valuePrefix, groupId);
  const read = jsonLines<SeenRecord & { step: string }>(stdout).map(({ step: _step, ...record }) => record);
  assert.deepEqual(read.sort(byPartitionThenOffset), expectedRecords(valuePrefix, count, 2, numbered));
}

/** A confluent-kafka producer that only logs in: the steps 'error-callback' and 'list-topics', and stdout. */
export async function confluentLoginSteps(
  bootstrap: string,
  security: Record<string, string>,
): Promise<{ steps: Array<Record<string, unknown>>; stdout: string }> {
  await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
  const { stdout } = await runConfluent(bootstrap, 'unused', security, 0, 'unused', 'unused');
  return { steps: jsonLines(stdout), stdout };
}

// --- kafka-python --------------------------------------------------------------------------------------------

// argv: bootstrap, topic, JSON of the security keyword arguments, count (0: only try to connect), value prefix.
const kafkaPythonScript = `
import json, sys
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
bootstrap, topic, security, count, prefix = (sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]),
                                             sys.argv[5])
def out(step, **fields):
    print(json.dumps(dict(step=step, **fields), sort_keys=True), flush=True)
common = dict(security, bootstrap_servers=bootstrap, api_version_auto_timeout_ms=5000)
if count == 0:
    try:
        KafkaProducer(**common)
        out('producer', error=None)
    except Exception as e:
        out('producer', error=type(e).__name__)
    sys.exit(0)
producer = KafkaProducer(acks='all', request_timeout_ms=10000, max_block_ms=10000, retries=0, **common)
for i in range(count):
    sent = producer.send(topic, key=('k%d' % i).encode(), value=('%s-v%d' % (prefix, i)).encode(),
                         partition=i % 2, headers=[('n', str(i).encode())]).get(timeout=10)
    out('produce', p=sent.partition, o=sent.offset)
producer.close(10)
consumer = KafkaConsumer(enable_auto_commit=False, consumer_timeout_ms=10000, request_timeout_ms=15000,
                         session_timeout_ms=10000, heartbeat_interval_ms=1000, **common)
partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
consumer.assign(partitions)
consumer.seek_to_beginning(*partitions)
got = 0
for m in consumer:
    got += 1
    out('record', p=m.partition, o=m.offset, k=m.key.decode(), v=m.value.decode(),
        h=[[name, value.decode()] for name, value in m.headers])
    if got == count:
        break
consumer.close()
`;

function runKafkaPython(
  bootstrap: string,
  topic: string,
  security: Record<string, string>,
  count: number,
  valuePrefix: string,
): Promise<ProgramResult> {
  return runProgramOk(
    PYTHON,
    ['-c', kafkaPythonScript, bootstrap, topic, JSON.stringify(security), String(count), valuePrefix],
    { timeoutMs: programTimeoutMs },
  );
}

/**
 * On an existing two-partition `topic`: six keyed records with a header, each acknowledged at the expected
 * partition and offset, read back exactly by assignment.
 */
export async function kafkaPythonRoundTrip(options: {
  bootstrap: string;
  topic: string;
  security: Record<string, string>;
  valuePrefix: string;
}): Promise<void> {
  await assertPythonModule('kafka', 'python3-kafka');
  const count = 6;
  const { bootstrap, topic, security, valuePrefix } = options;
  const steps = jsonLines<{ step: string } & Record<string, unknown>>(
    (await runKafkaPython(bootstrap, topic, security, count, valuePrefix)).stdout,
  );
  assert.deepEqual(
    steps.filter((s) => s.step === 'produce'),
    Array.from({ length: count }, (_, i) => ({ step: 'produce', p: i % 2, o: Math.floor(i / 2) })),
  );
  const read = steps
    .filter((s) => s.step === 'record')
    .map(({ step: _step, ...record }) => record as unknown as SeenRecord);
  assert.deepEqual(read.sort(byPartitionThenOffset), expectedRecords(valuePrefix, count, 2, numbered));
}

/** A kafka-python producer that only connects: its one step (the exception's name, if any) and the time. */
export async function kafkaPythonConnectTimed(
  bootstrap: string,
  security: Record<string, string>,
): Promise<{ steps: unknown[]; ms: number }> {
  await assertPythonModule('kafka', 'python3-kafka');
  const { result, ms } = await elapsedMs(() => runKafkaPython(bootstrap, 'unused', security, 0, 'unused'));
  return { steps: jsonLines(result.stdout), ms };
}

// --- sarama --------------------------------------------------------------------------------------------------

/**
 * Starts building test/interop/sarama/security into `buildDir`. A failed build is reported by the sarama cases
 * that await the program, not here.
 */
export function buildSaramaSecurityProgram(buildDir: string): Promise<string> {
  const program = buildSaramaProgram('test/interop/sarama/security', buildDir, 'sarama-security');
  program.catch(() => {
    // Reported by the cases that await it.
  });
  return program;
}

/** One line the sarama program prints per call. */
export interface SaramaStep {
  step: string;
  err: number;
  msg?: string;
  [field: string]: unknown;
}

/** Runs the sarama program; asserts exit status 0, or 3 (a call failed) when `expectSuccess` is false. */
export async function saramaSteps(
  program: Promise<string> | undefined,
  args: string[],
  expectSuccess: boolean,
): Promise<SaramaStep[]> {
  assert.ok(program, 'the sarama program is being built');
  const result = await runProgram(await program, args, { timeoutMs: programTimeoutMs });
  assert.equal(
    result.code,
    expectSuccess ? 0 : 3,
    `exit code; stderr:\n${result.stderr}\nstdout:\n${result.stdout}`,
  );
  return jsonLines<SaramaStep>(result.stdout);
}

/**
 * On an existing one-partition `topic`: sarama's SyncProducer sends four keyed records (with the header n=<i>
 * unless `withoutHeaders`: Config.Version below 0.11), a partition consumer reads them back exactly.
 */
export async function saramaRoundTrip(
  program: Promise<string> | undefined,
  options: {
    bootstrap: string;
    topic: string;
    valuePrefix: string;
    args: string[];
    withoutHeaders?: boolean;
  },
): Promise<void> {
  const count = 4;
  const { bootstrap, topic, valuePrefix, args } = options;
  const steps = await saramaSteps(
    program,
    [
      'roundtrip',
      '-bootstrap',
      bootstrap,
      '-topic',
      topic,
      '-count',
      String(count),
      '-value-prefix',
      valuePrefix,
      ...args,
    ],
    true,
  );
  assert.deepEqual(steps, [
    { step: 'client', err: 0 },
    ...Array.from({ length: count }, (_, i) => ({ step: 'produce', err: 0, p: 0, o: i })),
    ...expectedRecords(valuePrefix, count, 1, (i) =>
      options.withoutHeaders === true ? [] : numbered(i),
    ).map((record) => ({ step: 'consume', err: 0, ...record })),
  ]);
}

// --- @platformatic/kafka -------------------------------------------------------------------------------------

type PlatformaticSecurity = {
  tls?: { ca: string; cert?: string; key?: string };
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
};

/**
 * Admin creates `topic` with two partitions, a producer sends six keyed records with a header at acks=-1, a
 * group (`groupId`) reads everything back exactly. Client ids start with `clientIdPrefix`.
 */
export async function platformaticRoundTrip(options: {
  bootstrap: string;
  security: PlatformaticSecurity;
  topic: string;
  valuePrefix: string;
  groupId: string;
  clientIdPrefix: string;
}): Promise<void> {
  const { Admin, Consumer, Producer, stringDeserializers, stringSerializers } = await loadPlatformatic();
  const { topic, valuePrefix, clientIdPrefix } = options;
  const common = { bootstrapBrokers: [options.bootstrap], ...options.security };
  const admin = new Admin({ clientId: `${clientIdPrefix}-admin`, ...common });
  try {
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
  } finally {
    await admin.close();
  }
  const count = 6;
  const producer = new Producer({
    clientId: `${clientIdPrefix}-producer`,
    serializers: stringSerializers,
    ...common,
  });
  try {
    await producer.send({
      acks: -1,
      messages: Array.from({ length: count }, (_, i) => ({
        topic,
        partition: i % 2,
        key: `k${i}`,
        value: `${valuePrefix}-v${i}`,
        headers: new Map([['n', String(i)]]),
      })),
    });
  } finally {
    await producer.close();
  }
  const consumer = new Consumer({
    groupId: options.groupId,
    clientId: `${clientIdPrefix}-consumer`,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
    ...common,
  });
  const read: SeenRecord[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    for await (const message of stream) {
      read.push({
        p: message.partition,
        o: Number(message.offset),
        k: message.key,
        v: message.value,
        h: [...message.headers.entries()],
      });
      if (read.length === count) break;
    }
    await stream.close();
  } finally {
    await consumer.close();
  }
  assert.deepEqual(read.sort(byPartitionThenOffset), expectedRecords(valuePrefix, count, 2, numbered));
}

/** Asserts that an Admin with these settings rejects listTopics() with `reason` in its error chain, in time. */
export async function platformaticRefused(options: {
  label: string;
  bootstrap: string;
  security: PlatformaticSecurity;
  retries: number;
  clientId: string;
  reason: RegExp;
  boundMs: number;
}): Promise<void> {
  const { Admin } = await loadPlatformatic();
  const { label, reason } = options;
  const failing = new Admin({
    clientId: options.clientId,
    bootstrapBrokers: [options.bootstrap],
    ...options.security,
    retries: options.retries,
  });
  try {
    const { ms } = await elapsedMs(() =>
      assert.rejects(failing.listTopics(), (err: Error) => {
        const chain = describeErrorChain(err);
        assert.match(chain, reason, `${label}: ${chain}`);
        return true;
      }),
    );
    assert.ok(ms < options.boundMs, `${label}: rejected after ${ms} ms`);
  } finally {
    await failing.close();
  }
}
