// Idempotent producers through broker crashes: each producer streams keyed records into a 3-partition topic
// while the broker is kill -9'd twice at random moments and restarted on the same port with the same data dir
// (default flush policy: the page cache keeps what was written). Clients reach it through a proxy that drops
// the broker's last answers before each kill, so that some written batches are never acknowledged and come
// back as retries after the restart. Afterwards the log must hold every record the producer acknowledged
// exactly once (at the offset it was told), no record twice, each partition in send order with consecutive
// offsets. (A producer with idempotence off fails this: the retried batches are written twice.)
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { Producer as SluiceProducer } from '../../src/client/index.js';
import { type Broker, disposeAllBrokers, freePort, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { type KcatRecord, kcatReadAll } from '../helpers/kcat.js';
import { assertPythonModule, PYTHON } from '../helpers/python.js';

const PARTITIONS = 3;
const RECORDS = 3_000;
const KEYS = 31;
/** Records are offered in chunks, one every TICK_MS: the stream lasts ~2.4 s, long enough to crash inside. */
const CHUNK = 50;
const TICK_MS = 40;
/** Kill points, as fractions of the stream offered so far: one in each window. */
const KILL_WINDOWS: readonly (readonly [number, number])[] = [
  [0.1, 0.4],
  [0.5, 0.85],
];
/** How long the broker stays dead before the restart begins (at most). */
const MAX_DOWN_MS = 250;
/** A kill comes this long (at most) after the chunk that reaches its kill point: while that is in flight. */
const KILL_DELAY_MAX_MS = 15;
/** Answers are held back this long before the kill: the batches sent meanwhile are written, not acknowledged. */
const HOLD_MS = 60;
/** The producers' delivery timeout: long enough to ride out both restarts. */
const DELIVERY_TIMEOUT_MS = 30_000;
/** Bound on waiting for a producer to report on every record after the stream ended. */
const FINISH_TIMEOUT_MS = 40_000;
const TEST_TIMEOUT_MS = 60_000;

interface StreamRecord {
  index: number;
  key: string;
  value: string;
}

/** An acknowledgement: where the producer was told the record was written (value unknown for kcat). */
interface Ack {
  value?: string;
  /** The record's place in the stream, and when its acknowledgement came, where the producer tells. */
  index?: number;
  atMs?: number;
  partition: number;
  offset: number;
}

interface ProducerReport {
  acked: Ack[];
  /** Values reported as failed (kcat does not say which: it only counts). */
  failedValues: string[];
  failedCount: number;
  /** The producer's own log, for assertion messages. */
  output: string;
}

/** A producer under test: takes records as they come, then reports on each once the stream has ended. */
interface StreamingProducer {
  /** Hands records over; resolves once they are taken (kafkajs: once acknowledged or failed). */
  offer(records: readonly StreamRecord[]): Promise<void>;
  finish(): Promise<ProducerReport>;
}

/**
 * A TCP proxy in front of the broker, the address its metadata advertises. Before each kill it stops passing
 * the broker's answers on, so that the batches the broker writes just before it dies are never acknowledged:
 * after the restart the producer resends them, and only the producer state rebuilt from the log can tell them
 * apart from new ones. (Without it a kill rarely falls between an append and its answer.)
 */
class AnswerHoldingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private holding = false;
  heldBytes = 0;

  private constructor(
    server: Server,
    readonly port: number,
  ) {
    this.server = server;
  }

  static async start(brokerPort: number): Promise<AnswerHoldingProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const proxy = new AnswerHoldingProxy(server, address.port);
    server.on('connection', (client) => proxy.pipe(client, brokerPort));
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private pipe(client: Socket, brokerPort: number): void {
    const upstream = connect({ host: '127.0.0.1', port: brokerPort });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => {
        // The other side is closed with it; the client sees a dropped connection, as with a dead broker.
      });
      socket.once('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (this.holding) this.heldBytes += chunk.length;
      else client.write(chunk);
    });
  }

  /** From now on the broker's answers are dropped (the connections carrying them are cut by release()). */
  hold(): void {
    this.holding = true;
  }

  /**
   * Refuses new connections from now on, as a dead broker's address does, until resume(); resolves once the
   * open ones have ended too.
   */
  stopListening(): Promise<void> {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** With the broker dead: cuts what is left of the connections (answers lost midway) and ends the hold. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
    this.holding = false;
  }

  /** With the broker back: accepts connections again, on the same port. */
  async resume(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.cut();
    if (this.server.listening) await this.stopListening();
  }
}

function recordsFor(prefix: string): StreamRecord[] {
  return Array.from({ length: RECORDS }, (_, i) => ({
    index: i,
    key: `k${i % KEYS}`,
    value: `${prefix}-${i}`,
  }));
}

function randomBetween(low: number, high: number): number {
  return low + Math.random() * (high - low);
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface CrashRun {
  report: ProducerReport;
  killPoints: number[];
  killedAtMs: number[];
  restartMs: number[];
  /** Acknowledgements that came after a kill for records offered before it: what the kills interrupted. */
  interrupted: number | undefined;
}

/**
 * Streams the records through `producer`; once the stream passes each kill point, a few milliseconds after
 * the chunk is handed over (while it is being sent), the proxy holds back answers for HOLD_MS, then the broker
 * gets SIGKILL and is relaunched on the same port and data dir after a random pause. Kills and restarts run
 * one after the other, beside the stream.
 */
async function streamThroughCrashes(
  broker: Broker,
  proxy: AnswerHoldingProxy,
  producer: StreamingProducer,
  records: readonly StreamRecord[],
): Promise<CrashRun> {
  const killPoints = KILL_WINDOWS.map(([low, high]) => Math.round(randomBetween(low, high) * records.length));
  const killedAtMs: number[] = [];
  const restartMs: number[] = [];
  const offeredAtMs: number[] = [];
  let crashes: Promise<void> = Promise.resolve();
  let crashError: unknown;
  const crash = async () => {
    await sleep(randomBetween(0, KILL_DELAY_MAX_MS));
    proxy.hold();
    await sleep(HOLD_MS);
    // Closed first: a client must not reconnect (and retry) before the broker is dead.
    const stopped = proxy.stopListening();
    await broker.kill9();
    proxy.cut();
    await withTimeout(stopped, 5_000, 'proxy connections closed');
    const killedMs = Date.now();
    killedAtMs.push(killedMs);
    await sleep(randomBetween(0, MAX_DOWN_MS));
    await broker.launch();
    await proxy.resume();
    restartMs.push(Date.now() - killedMs);
  };
  let nextKill = 0;
  for (let start = 0; start < records.length; start += CHUNK) {
    const chunk = records.slice(start, start + CHUNK);
    const nowMs = Date.now();
    for (let i = 0; i < chunk.length; i++) offeredAtMs.push(nowMs);
    // Scheduled before the chunk is handed over: a producer whose offer waits for acknowledgements (kafkajs)
    // is then sending it when the kill comes.
    const offered = start + chunk.length;
    while (nextKill < killPoints.length && offered >= (killPoints[nextKill] ?? 0)) {
      nextKill++;
      crashes = crashes.then(crash).catch((error: unknown) => {
        crashError ??= error;
      });
    }
    await producer.offer(chunk);
    await sleep(TICK_MS);
  }
  await crashes;
  if (crashError !== undefined) throw crashError;
  const report = await withTimeout(producer.finish(), FINISH_TIMEOUT_MS, 'producer finish');
  let interrupted: number | undefined;

  if (report.acked.every((ack) => ack.index !== undefined && ack.atMs !== undefined)) {
    interrupted = report.acked.filter((ack) =>
      killedAtMs.some((killMs) => (offeredAtMs[ack.index ?? 0] ?? 0) < killMs && killMs < (ack.atMs ?? 0)),
    ).length;
  }
  return { report, killPoints, killedAtMs, restartMs, interrupted };
}

interface Verdict {
  present: number;
  acked: number;
  failed: number;
  presentUnacknowledged: number;
}

/**
 * The log against what the producer reported. Every record present once, each partition in send order with
 * consecutive offsets; every acknowledgement at a distinct offset holding its record; every record reported on
 * exactly once (acknowledged or failed).
 */
function verify(
  prefix: string,
  log: readonly KcatRecord[],
  report: ProducerReport,
  context: string,
): Verdict {
  const valuePattern = new RegExp(`^${prefix}-(\\d+)$`);
  const indexOf = (value: string | null): number => {
    const match = value === null ? null : valuePattern.exec(value);
    assert.ok(match, `${context}: unexpected value ${JSON.stringify(value)} in the log`);
    return Number(match[1]);
  };
  const counts = new Map<number, number>();
  const byPartition = new Map<number, KcatRecord[]>();
  for (const record of log) {
    const index = indexOf(record.value);
    counts.set(index, (counts.get(index) ?? 0) + 1);
    const records = byPartition.get(record.partition);
    if (records === undefined) byPartition.set(record.partition, [record]);
    else records.push(record);
  }
  const duplicates = [...counts].filter(([, count]) => count > 1).map(([index]) => `${prefix}-${index}`);
  assert.deepEqual(duplicates, [], `${context}: records written more than once`);

  const logAt = new Map<string, string | null>();
  for (const [partition, records] of byPartition) {
    assert.deepEqual(
      records.map((record) => Number(record.offset)),
      records.map((_, i) => i),
      `${context}: partition ${partition} offsets`,
    );
    const indexes = records.map((record) => indexOf(record.value));
    const outOfOrder = indexes.findIndex((index, i) => i > 0 && index <= (indexes[i - 1] ?? -1));
    assert.equal(
      outOfOrder,
      -1,
      `${context}: partition ${partition} out of send order at offset ${outOfOrder}: ` +
        `${JSON.stringify(indexes.slice(Math.max(0, outOfOrder - 3), outOfOrder + 3))}`,
    );
    for (const record of records) logAt.set(`${partition}/${record.offset}`, record.value);
  }

  const ackedOffsets = new Set<string>();
  const ackedValues = new Set<string>();
  for (const ack of report.acked) {
    const at = `${ack.partition}/${ack.offset}`;
    assert.ok(!ackedOffsets.has(at), `${context}: two acknowledgements for offset ${at}`);
    ackedOffsets.add(at);
    assert.ok(logAt.has(at), `${context}: acknowledged offset ${at} (${ack.value ?? '?'}) is not in the log`);
    if (ack.value !== undefined) {
      assert.equal(logAt.get(at), ack.value, `${context}: what the log holds at acknowledged offset ${at}`);
      assert.ok(!ackedValues.has(ack.value), `${context}: ${ack.value} acknowledged twice`);
      ackedValues.add(ack.value);
    }
  }
  for (const value of report.failedValues) {
    assert.ok(!ackedValues.has(value), `${context}: ${value} reported both acknowledged and failed`);
  }
  assert.equal(
    report.acked.length + report.failedCount,
    RECORDS,
    `${context}: records reported on (acknowledged ${report.acked.length}, failed ${report.failedCount})`,
  );
  return {
    present: log.length,
    acked: report.acked.length,
    failed: report.failedCount,
    presentUnacknowledged: log.length - report.acked.length,
  };
}

/** A program reading records from stdin as they are offered; killed in after() should it outlive its test. */
const runningPrograms = new Set<ChildProcess>();

interface StdinProgram {
  write(text: string): void;
  /** Ends stdin and waits (bounded) for the exit. */
  finish(timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startStdinProgram(command: string, args: string[]): StdinProgram {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  runningPrograms.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.on('error', () => {
    // An early exit shows in the exit code and stderr.
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      runningPrograms.delete(child);
      resolve(code);
    });
  });
  return {
    write: (text) => {
      child.stdin.write(text);
    },
    finish: async (timeoutMs) => {
      child.stdin.end();
      try {
        const code = await withTimeout(exited, timeoutMs, `${command} exit`);
        return { code, stdout, stderr };
      } catch (error) {
        child.kill('SIGKILL');
        throw new Error(
          `${(error as Error).message}\nstdout tail:\n${stdout.slice(-4000)}\nstderr tail:\n${stderr.slice(-4000)}`,
        );
      }
    },
  };
}

function sluiceProducer(bootstrap: string, topic: string): StreamingProducer {
  // Default options (idempotent, 5 batches in flight per partition) but a delivery timeout the test can afford.
  const producer = new SluiceProducer({
    bootstrap,
    clientId: 'idempotent-crash',
    requestTimeoutMs: 10_000,
    deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
  });
  const acked: Ack[] = [];
  const failedValues: string[] = [];
  const errors = new Map<string, number>();
  const reports: Promise<void>[] = [];
  const connected = producer.connect();
  return {
    offer: async (records) => {
      await connected;
      for (const record of records) {
        // One send per record: each gets its own acknowledgement (or failure).
        reports.push(
          producer.send({ topic, messages: [record] }).then(
            ([metadata]) => {
              assert.ok(metadata);
              acked.push({
                value: record.value,
                partition: metadata.partition,
                offset: metadata.offset,
                index: record.index,
                atMs: Date.now(),
              });
            },
            (error: unknown) => {
              failedValues.push(record.value);
              const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
              errors.set(name, (errors.get(name) ?? 0) + 1);
            },
          ),
        );
      }
    },
    finish: async () => {
      await Promise.all(reports);
      await producer.close();
      return {
        acked,
        failedValues,
        failedCount: failedValues.length,
        output: [...errors].map(([error, count]) => `${count} × ${error}`).join('\n'),
      };
    },
  };
}

// confluent-kafka: one JSON line per delivery report (exact per-record acknowledgements) and per error event.
const PYTHON_PRODUCER = `
import json, sys, time
from confluent_kafka import Producer
bootstrap, topic, timeout_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
def out(**fields):
    sys.stdout.write(json.dumps(fields, sort_keys=True) + '\\n')
def on_delivery(err, msg):
    value = msg.value().decode()
    if err is None:
        out(ack=value, p=msg.partition(), o=msg.offset(), t=time.time() * 1000)
    else:
        out(failed=value, error=err.name())
def on_error(err):
    out(event=err.name(), fatal=err.fatal(), reason=err.str())
producer = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'acks': 'all',
                     'message.timeout.ms': timeout_ms, 'linger.ms': 5, 'reconnect.backoff.max.ms': 1000,
                     'error_cb': on_error})
while True:
    line = sys.stdin.readline()
    if not line:
        break
    key, value = line.rstrip('\\n').split(':', 1)
    producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    producer.poll(0)
left = producer.flush(timeout_ms / 1000 + 5)
out(done=True, left=left)
sys.stdout.flush()
`;

interface PythonLine {
  ack?: string;
  p?: number;
  o?: number;
  t?: number;
  failed?: string;
  error?: string;
  event?: string;
  fatal?: boolean;
  reason?: string;
  done?: boolean;
  left?: number;
}

function pythonProducer(bootstrap: string, topic: string): StreamingProducer {
  const program = startStdinProgram(PYTHON, [
    '-c',
    PYTHON_PRODUCER,
    bootstrap,
    topic,
    String(DELIVERY_TIMEOUT_MS),
  ]);
  return {
    offer: async (records) => {
      program.write(records.map((record) => `${record.key}:${record.value}\n`).join(''));
    },
    finish: async () => {
      const { code, stdout, stderr } = await program.finish(FINISH_TIMEOUT_MS);
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as PythonLine);
      const events = lines.filter((line) => line.event !== undefined);
      const output = `exit ${code}\nevents: ${JSON.stringify(events)}\nstderr:\n${stderr.slice(-4000)}`;
      assert.equal(code, 0, output);
      assert.deepEqual(lines.at(-1), { done: true, left: 0 }, output);
      assert.deepEqual(
        events.filter((event) => event.fatal),
        [],
        `fatal errors: ${output}`,
      );
      const failedValues = lines.flatMap((line) => (line.failed === undefined ? [] : [line.failed]));
      return {
        acked: lines.flatMap((line) =>
          line.ack === undefined
            ? []
            : [
                {
                  value: line.ack,
                  partition: line.p ?? -1,
                  offset: line.o ?? -1,
                  index: Number(line.ack.slice('python-'.length)),
                  atMs: line.t ?? 0,
                },
              ],
        ),
        failedValues,
        failedCount: failedValues.length,
        output,
      };
    },
  };
}

/**
 * kcat -P: with -vvv it prints each delivery's partition and offset (not the record), and each failure as
 * "Delivery failed for message". -E keeps it alive while the only broker is down.
 */
function kcatProducer(bootstrap: string, topic: string): StreamingProducer {
  const program = startStdinProgram('kcat', [
    '-b',
    bootstrap,
    '-P',
    '-t',
    topic,
    '-K',
    ':',
    '-E',
    '-v',
    '-v',
    '-v',
    '-X',
    'enable.idempotence=true',
    '-X',
    `message.timeout.ms=${DELIVERY_TIMEOUT_MS}`,
    '-X',
    'reconnect.backoff.max.ms=1000',
    '-X',
    'linger.ms=5',
  ]);
  return {
    offer: async (records) => {
      program.write(records.map((record) => `${record.key}:${record.value}\n`).join(''));
    },
    finish: async () => {
      const { code, stderr } = await program.finish(FINISH_TIMEOUT_MS);
      const acked = [...stderr.matchAll(/Message delivered to partition (\d+) \(offset (-?\d+)\)/g)].map(
        (match) => ({ partition: Number(match[1]), offset: Number(match[2]) }),
      );
      const failedCount = [...stderr.matchAll(/Delivery failed for message/g)].length;
      const output = `exit ${code}\nstderr (without deliveries):\n${stderr
        .split('\n')
        .filter((line) => !line.includes('Message delivered'))
        .join('\n')
        .slice(-6000)}`;
      assert.doesNotMatch(stderr, /FATAL|[Ff]atal error/, output);
      assert.equal(code, failedCount === 0 ? 0 : 1, output);
      return { acked, failedValues: [], failedCount, output };
    },
  };
}

/** kafkajs: one send per chunk, awaited (maxInFlightRequests 1); a chunk is acknowledged or failed as a whole. */
function kafkajsProducer(bootstrap: string, topic: string): StreamingProducer {
  const kafka = createKafka(bootstrap, {
    retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 1_000 },
    requestTimeout: 10_000,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const connected = producer.connect();
  const acked: Ack[] = [];
  const failedValues: string[] = [];
  const errors: string[] = [];
  return {
    offer: async (records) => {
      await connected;
      try {
        const metadata = await producer.send({
          topic,
          acks: -1,
          compression: kafkajs.CompressionTypes.None,
          messages: records.map((record) => ({ key: record.key, value: record.value })),
        });
        // kafkajs reports one base offset per partition; each record's offset follows from its partition
        // (kafkajs's partitioner) and its place among that partition's records of the send.
        const atMs = Date.now();
        const next = new Map(metadata.map((m) => [m.partition, Number(m.baseOffset)]));
        for (const record of records) {
          const partition = partitionOfKafkajs(record.key);
          const offset = next.get(partition);
          assert.ok(
            offset !== undefined,
            `no metadata for partition ${partition}: ${JSON.stringify(metadata)}`,
          );
          next.set(partition, offset + 1);
          acked.push({ value: record.value, partition, offset, index: record.index, atMs });
        }
      } catch (error) {
        failedValues.push(...records.map((record) => record.value));
        errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
    },
    finish: async () => {
      await producer.disconnect();
      return { acked, failedValues, failedCount: failedValues.length, output: errors.join('\n') };
    },
  };
}

/** kafkajs's default partitioner for a keyed record: murmur2 of the key, positive, modulo the partitions. */
function partitionOfKafkajs(key: string): number {
  const partitioner = kafkajs.Partitioners.DefaultPartitioner();
  return partitioner({
    topic: '',
    partitionMetadata: Array.from({ length: PARTITIONS }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });
}

describe('idempotent producers through kill -9 of the broker', { timeout: 5 * TEST_TIMEOUT_MS }, () => {
  let broker: Broker;
  let proxy: AnswerHoldingProxy;

  before(async () => {
    // The broker listens on a fixed port (the later --listen wins over the helper's 127.0.0.1:0, and every
    // relaunch keeps it); clients know it only as the proxy's address, which its metadata advertises.
    const brokerPort = await freePort();
    proxy = await AnswerHoldingProxy.start(brokerPort);
    broker = await startBroker({
      args: ['--listen', `127.0.0.1:${brokerPort}`, '--advertised-listener', proxy.address],
    });
  });

  after(async () => {
    for (const child of runningPrograms) child.kill('SIGKILL');
    await disposeAllBrokers();
    await proxy?.close();
  });

  async function createTopic(topic: string): Promise<void> {
    if (!broker.isRunning) await broker.launch();
    const admin = createKafka(broker.bootstrap).admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] }), true);
    } finally {
      await admin.disconnect();
    }
  }

  const cases: {
    name: string;
    prefix: string;
    make: (bootstrap: string, topic: string) => StreamingProducer;
  }[] = [
    {
      name: "Sluice's own Producer (idempotent by default, 5 in flight)",
      prefix: 'sluice',
      make: sluiceProducer,
    },
    { name: "confluent-kafka (python) {'enable.idempotence': True}", prefix: 'python', make: pythonProducer },
    { name: 'kcat -P -X enable.idempotence=true', prefix: 'kcat', make: kcatProducer },
    {
      name: 'kafkajs producer({ idempotent: true, maxInFlightRequests: 1 })',
      prefix: 'kafkajs',
      make: kafkajsProducer,
    },
  ];

  for (const { name, prefix, make } of cases) {
    test(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      if (prefix === 'python') await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
      const topic = `idempotent-crash-${prefix}`;
      await createTopic(topic);
      const port = broker.port;
      const records = recordsFor(prefix);
      const startedMs = Date.now();
      const heldBytesBefore = proxy.heldBytes;
      const run = await streamThroughCrashes(broker, proxy, make(proxy.address, topic), records);
      assert.equal(broker.port, port, 'the broker came back on the same port');
      const log = await kcatReadAll(proxy.address, topic);
      const context = `${prefix} (kills after ${run.killPoints.join(', ')} records offered)\n${run.report.output}\n`;
      const verdict = verify(prefix, log, run.report, context);
      t.diagnostic(
        `${prefix}: ${verdict.acked} acknowledged, ${verdict.failed} failed, ${verdict.present} in the log ` +
          `(${verdict.presentUnacknowledged} not acknowledged), 0 duplicates; ${run.restartMs.length} restarts ` +
          `(${run.interrupted ?? 'unknown'} acknowledgements came after a kill for records offered before it) ` +
          `after ${run.killPoints.join(', ')} records offered, down ${run.restartMs.join(', ')} ms; ` +
          `${proxy.heldBytes - heldBytesBefore} bytes of answers held back; ${Date.now() - startedMs} ms in all`,
      );
    });
  }
});
