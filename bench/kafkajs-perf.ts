// The kafkajs side of the client comparison: the same work as `sluice perf produce|consume`, in its own process,
// ending with one JSON line on stdout ({ records, bytes, elapsedMs, latencyMs }).
//   node dist/bench/kafkajs-perf.js produce --bootstrap HOST:PORT --topic T --count N [--record-size 1024]
//   node dist/bench/kafkajs-perf.js consume --bootstrap HOST:PORT --topic T --count N --group G
// The producer sends batches of --batch-records messages with --in-flight sends outstanding (kafkajs's
// throughput comes from batching in send(); one message per send is far slower), acks=-1, DefaultPartitioner.
// The consumer uses eachBatch in a fresh group from the beginning; its clock starts when the group is joined.
import { randomFillSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Message, Partitioners } from 'kafkajs';

export interface KafkajsPerfResult {
  records: number;
  bytes: number;
  elapsedMs: number;
  /** Send→acknowledgement of whole send() calls (producer only). */
  sendLatencyMs?: { p50: number; p99: number; max: number };
}

const CLIENT_ID = 'sluice-bench-kafkajs';

function parseOptions() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      bootstrap: { type: 'string' },
      topic: { type: 'string' },
      count: { type: 'string' },
      group: { type: 'string' },
      'record-size': { type: 'string', default: '1024' },
      'batch-records': { type: 'string', default: '1000' },
      'in-flight': { type: 'string', default: '4' },
    },
  });
  const mode = positionals[0];
  if (mode !== 'produce' && mode !== 'consume') throw new Error('the first argument is produce or consume');
  if (values.bootstrap === undefined || values.topic === undefined || values.count === undefined) {
    throw new Error('--bootstrap, --topic and --count are required');
  }
  const integer = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
    return value;
  };
  return {
    mode,
    bootstrap: values.bootstrap,
    topic: values.topic,
    count: integer('count', values.count),
    group: values.group ?? `${CLIENT_ID}-${Date.now()}`,
    recordSize: integer('record-size', values['record-size']),
    batchRecords: integer('batch-records', values['batch-records']),
    inFlight: integer('in-flight', values['in-flight']),
  } as const;
}

type Options = ReturnType<typeof parseOptions>;

async function produce(kafka: Kafka, options: Options): Promise<KafkajsPerfResult> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  // Letters, as `sluice perf produce` writes.
  const payload = Buffer.alloc(options.recordSize);
  randomFillSync(payload);
  for (let i = 0; i < payload.length; i++) payload[i] = 65 + (payload[i]! % 26);
  const sendLatenciesMs: number[] = [];
  let sent = 0;
  let acknowledged = 0;
  await producer.connect();
  try {
    const startMs = performance.now();
    const sender = async () => {
      while (sent < options.count) {
        const size = Math.min(options.batchRecords, options.count - sent);
        sent += size;
        const messages: Message[] = new Array(size);
        for (let i = 0; i < size; i++) messages[i] = { value: payload };
        const sentAtMs = performance.now();
        await producer.send({ topic: options.topic, acks: -1, messages });
        sendLatenciesMs.push(performance.now() - sentAtMs);
        acknowledged += size;
      }
    };
    await Promise.all(Array.from({ length: options.inFlight }, sender));
    const elapsedMs = performance.now() - startMs;
    sendLatenciesMs.sort((a, b) => a - b);
    const at = (quantile: number) =>
      sendLatenciesMs[Math.max(0, Math.ceil(quantile * sendLatenciesMs.length) - 1)] ?? 0;
    return {
      records: acknowledged,
      bytes: acknowledged * options.recordSize,
      elapsedMs,
      sendLatencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) },
    };
  } finally {
    await producer.disconnect();
  }
}

async function consume(kafka: Kafka, options: Options): Promise<KafkajsPerfResult> {
  const consumer = kafka.consumer({ groupId: options.group });
  let records = 0;
  let bytes = 0;
  let joinedAtMs: number | null = null;
  let lastRecordAtMs = 0;
  let done!: () => void;
  const allArrived = new Promise<void>((resolve) => {
    done = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAtMs ??= performance.now();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          if (records >= options.count) break;
          records += 1;
          bytes += (message.value?.length ?? 0) + (message.key?.length ?? 0);
        }
        lastRecordAtMs = performance.now();
        if (records >= options.count) done();
      },
    });
    // The parent process bounds the run; kafkajs cannot be stopped from inside its own eachBatch.
    await allArrived;
  } finally {
    await consumer.disconnect();
  }
  return { records, bytes, elapsedMs: lastRecordAtMs - (joinedAtMs ?? lastRecordAtMs) };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const kafka = new Kafka({ clientId: CLIENT_ID, brokers: [options.bootstrap], logLevel: logLevel.NOTHING });
  const result = options.mode === 'produce' ? await produce(kafka, options) : await consume(kafka, options);
  console.log(JSON.stringify(result));
}

await main();
