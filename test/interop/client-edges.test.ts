// Edge cases a client's own test suite reaches for, beyond the everyday use covered by client-usage,
// python-usage, platformatic-usage, groups, kafkajs, kcat and sarama tests: librdkafka static members that
// restart or die, a member that stops polling past max.poll.interval.ms, partitions added while groups
// consume, commits past the log end and with unicode or oversized metadata, out-of-range positions without a
// reset policy, group deletion with and without members, null versus empty keys, values and headers with
// duplicate and unicode header keys through every client, reading from inside a compressed batch and after
// DeleteRecords inside one, LogAppendTime through kafkajs, and admin calls with replica assignments,
// validate_only and unknown config names. Each assertion is on exact content.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, IHeaders, Kafka, Producer } from 'kafkajs';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { CompressionTypes, createKafka, readAll, registerCompressionCodecs } from '../helpers/kafka.js';
import { killLinePrograms, type LineProgram, runProgramOk, spawnLines } from '../helpers/process.js';
import {
  assertPythonModule,
  CONFLUENT_OUTCOME,
  PYTHON,
  type PythonStep,
  runPythonSteps,
} from '../helpers/python.js';
import { waitFor } from '../helpers/wait.js';

const scriptTimeoutMs = 30_000;
const testTimeoutMs = 40_000;
// group.min.session.timeout.ms is lowered so that the session expiry and max.poll.interval.ms cases stay short.
const brokerArgs = [
  '--set',
  'group.initial.rebalance.delay.ms=0',
  '--set',
  'group.min.session.timeout.ms=1000',
];

registerCompressionCodecs();

type Step = PythonStep;

function runScript(script: string, bootstrap: string, prefix: string): Promise<Step[]> {
  return runPythonSteps(script, { bootstrap, prefix, timeoutMs: scriptTimeoutMs });
}

// --- admin ------------------------------------------------------------------------------------------------

const adminScript = `
from kafka import KafkaAdminClient
from kafka.admin import NewTopic, ConfigResource, ConfigResourceType
from kafka.errors import KafkaError
from confluent_kafka.admin import AdminClient, NewTopic as CNewTopic, ConfigResource as CConfigResource
admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
def attempt(step, call):
    try:
        out(step, error=None, value=call())
    except KafkaError as e:
        out(step, error=type(e).__name__)
def created(r): return [[t, e] for t, e, *_ in r.topic_errors]
topic = prefix + '-assigned'
attempt('create-assigned', lambda: created(admin.create_topics([NewTopic(topic, -1, -1, replica_assignments={0: [0], 1: [0], 2: [0]})])))
(d,) = admin.describe_topics([topic])
out('assigned-partitions', value=sorted([p['partition'], p['leader'], p['replicas'], p['isr']] for p in d['partitions']))
attempt('create-assigned-unknown-broker', lambda: created(admin.create_topics([NewTopic(prefix + '-b7', -1, -1, replica_assignments={0: [7]})])))
attempt('create-assigned-gap', lambda: created(admin.create_topics([NewTopic(prefix + '-gap', -1, -1, replica_assignments={0: [0], 2: [0]})])))
attempt('create-validate-only', lambda: created(admin.create_topics([NewTopic(prefix + '-v', 3, 1)], validate_only=True)))
attempt('create-validate-only-existing', lambda: created(admin.create_topics([NewTopic(topic, 3, 1)], validate_only=True)))
out('listed', value=sorted(t for t in admin.list_topics() if t.startswith(prefix)))
def alter(configs):
    r = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=configs)])
    return [[error, name] for error, _, _, name in r.resources]
attempt('alter-unknown-name', lambda: alter({'no.such.config': '1'}))
attempt('alter-broker-name-on-topic', lambda: alter({'log.retention.ms': '1'}))
attempt('alter-valid', lambda: alter({'retention.ms': '1000'}))
c = AdminClient({'bootstrap.servers': bootstrap})
${CONFLUENT_OUTCOME}out('ck-create-assigned', value=outcome(c.create_topics([CNewTopic(prefix + '-ck', 2, replica_assignment=[[0], [0]]),
    CNewTopic(prefix + '-ck-bad', 2, replica_assignment=[[0], [9]])], request_timeout=10)))
md = c.list_topics(topic=prefix + '-ck', timeout=10).topics[prefix + '-ck']
out('ck-assigned-partitions', value=sorted([p.id, p.leader, p.replicas, p.isrs] for p in md.partitions.values()))
out('ck-alter-unknown-name', value=outcome(c.alter_configs([CConfigResource('topic', topic, set_config={'no.such.config': '1'})],
                                                           request_timeout=10)))
e = c.describe_configs([CConfigResource('topic', topic)], request_timeout=10)
(f,) = e.values()
entries = f.result(10)
out('ck-described', value=[entries['retention.ms'].value, entries['retention.ms'].source], unknown='no.such.config' in entries)
`;

// --- offsets and groups -----------------------------------------------------------------------------------

const offsetsScript = String.raw`
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition as KTP, OffsetAndMetadata
from kafka.admin import NewTopic
from kafka.errors import KafkaError
from confluent_kafka import Consumer, TopicPartition
topic = prefix + '-t'
admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
admin.create_topics([NewTopic(topic, 2, 1)])
producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', retries=0, max_block_ms=10000)
for i in range(10):
    producer.send(topic, value=b'v%d' % i, partition=i % 2)
producer.flush(10)
producer.close(10)
p0, p1 = KTP(topic, 0), KTP(topic, 1)
def kp(group, **extra):
    conf = dict(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, consumer_timeout_ms=8000,
                request_timeout_ms=15000, session_timeout_ms=6000, heartbeat_interval_ms=500)
    conf.update(extra)
    return KafkaConsumer(**conf)
def attempt(step, call):
    try:
        out(step, error=None, value=call())
    except KafkaError as e:
        out(step, error=type(e).__name__)
# A group that never committed: OffsetFetch answers -1, which kafka-python reports as None.
c = kp(prefix + '-kp')
out('kp-never-committed', value=[c.committed(p0), c.committed(p1)])
# Commits past the log end are accepted (as Kafka does); unicode metadata comes back byte for byte.
c.commit({p0: OffsetAndMetadata(100, 'far-\u00e9\u2713'), p1: OffsetAndMetadata(3, '')})
out('kp-committed', value=[c.committed(p0), c.committed(p1)],
    listed=sorted([tp.partition, o.offset, o.metadata] for tp, o in admin.list_consumer_group_offsets(prefix + '-kp').items()))
# Metadata over offset.metadata.max.bytes (4096) is refused and the old commit stays.
attempt('kp-metadata-too-large', lambda: c.commit({p1: OffsetAndMetadata(4, 'm' * 5000)}))
out('kp-after-too-large', value=c.committed(p1))
c.close()
# A member resuming from past the log end falls back to auto_offset_reset; p1 resumes at its commit.
g = kp(prefix + '-kp', auto_offset_reset='earliest')
g.subscribe([topic])
got = []
for m in g:
    got.append([m.partition, m.offset])
    if len(got) == 7: break
out('kp-resume', value=sorted(got), position=[g.position(p0), g.position(p1)])
g.close()
# Without a reset policy an out-of-range position is the application's error, raised by poll().
c = kp(None, auto_offset_reset='none')
c.assign([p0])
c.seek(p0, 50)
try:
    c.poll(timeout_ms=5000)
    out('kp-out-of-range', error=None)
except KafkaError as e:
    out('kp-out-of-range', error=type(e).__name__)
c.close()
# Group deletion: refused while the group has a member, done for an empty one, which then reads as Dead.
live = kp(prefix + '-live', auto_offset_reset='earliest')
live.subscribe([topic])
deadline = time.time() + 10
while not live.assignment() and time.time() < deadline:
    live.poll(timeout_ms=100)
live.commit({p0: OffsetAndMetadata(1, '')})
groups = [prefix + '-kp', prefix + '-live']
def described(): return sorted([d.group, d.state, len(d.members)] for d in admin.describe_consumer_groups(groups))
out('kp-describe', value=described())
out('kp-delete', value=sorted([g, e.__name__] for g, e in admin.delete_consumer_groups(groups)))
out('kp-after-delete', value=described(),
    offsets=[sorted([tp.partition, o.offset] for tp, o in admin.list_consumer_group_offsets(g).items()) for g in groups])
live.close()
def ck(group, **extra):
    conf = {'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False, 'session.timeout.ms': 6000}
    conf.update(extra)
    return Consumer(conf)
def offsets(tps): return [[tp.partition, tp.offset] for tp in tps]
both = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
c = ck(prefix + '-ck')
# librdkafka reports "no committed offset" as OFFSET_INVALID (-1001).
out('ck-never-committed', value=offsets(c.committed(both, timeout=10)))
c.commit(offsets=[TopicPartition(topic, 0, 100), TopicPartition(topic, 1, 2)], asynchronous=False)
out('ck-committed', value=offsets(c.committed(both, timeout=10)))
c.close()
def drain(c, n, timeout=10):
    got, errors = [], []
    deadline = time.time() + timeout
    while len(got) + len(errors) < n and time.time() < deadline:
        m = c.poll(0.1)
        if m is None: continue
        if m.error(): errors.append(m.error().name())
        else: got.append([m.partition(), m.offset()])
    return sorted(got), errors
c = ck(prefix + '-ck', **{'auto.offset.reset': 'earliest'})
c.subscribe([topic])
out('ck-resume', value=drain(c, 8))
c.close()
# auto.offset.reset=error with nothing committed: an error event per partition, not a hang.
c = ck(prefix + '-ck-error', **{'auto.offset.reset': 'error'})
c.subscribe([topic])
out('ck-no-commit-reset-error', value=drain(c, 2))
c.close()
# An empty topic: both offsets 0, no offset for any timestamp, nothing to read at the end.
empty = prefix + '-empty'
admin.create_topics([NewTopic(empty, 1, 1)])
k = kp(None)
e0 = KTP(empty, 0)
out('kp-empty', begin=k.beginning_offsets([e0])[e0], end=k.end_offsets([e0])[e0], times=k.offsets_for_times({e0: 0})[e0])
k.assign([e0])
k.seek_to_end(e0)
out('kp-empty-read', position=k.position(e0), records=sum(len(v) for v in k.poll(timeout_ms=500).values()))
k.close()
c = ck(prefix + '-empty')
out('ck-empty', watermarks=list(c.get_watermark_offsets(TopicPartition(empty, 0), timeout=10)),
    times=offsets(c.offsets_for_times([TopicPartition(empty, 0, 0)], timeout=10)))
c.close()
`;

// --- records ----------------------------------------------------------------------------------------------

const recordsScript = String.raw`
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer, TopicPartition as KTP
topic = prefix + '-t'
admin = AdminClient({'bootstrap.servers': bootstrap})
admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(10)
u = lambda s: s.encode('utf-8')
records = [
    (None, None, []),
    (b'k', None, []),
    (b'', b'', []),
    (None, b'', [('empty', b'')]),
    (u('\u043a\u043b\u044e\u0447-\U0001f511'), u('\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435 \u2713'),
     [('dup', b'1'), ('\u00fc-h', u('\u00f6')), ('dup', b'2'), ('nullh', None), ('dup', b'')]),
]
# Partition 0: one lz4 batch from librdkafka. Partition 1: one gzip batch from kafka-python, which refuses a
# record with neither key nor value and header values of None.
p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 200, 'compression.codec': 'lz4', 'acks': 'all'})
for key, value, headers in records:
    p.produce(topic, key=key, value=value, headers=headers, partition=0, timestamp=1600000000000)
if p.flush(10): sys.exit('flush failed')
kp = KafkaProducer(bootstrap_servers=bootstrap, acks='all', linger_ms=200, compression_type='gzip', retries=0, max_block_ms=10000)
fs = [kp.send(topic, key=key, value=value, headers=[(k, v) for k, v in headers if v is not None], partition=1,
              timestamp_ms=1600000000000)
      for key, value, headers in records[1:]]
kp.flush(10)
out('kafka-python-produced', value=[f.get(10).offset for f in fs])
kp.close(10)
s = lambda b: None if b is None else b.decode('utf-8')
def row(partition, offset, key, value, headers):
    return [partition, offset, s(key), s(value), [[k, s(v)] for k, v in (headers or [])]]
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': prefix + '-ck', 'enable.auto.commit': False})
c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING), TopicPartition(topic, 1, OFFSET_BEGINNING)])
got = []
deadline = time.time() + 10
while len(got) < 9 and time.time() < deadline:
    m = c.poll(0.1)
    if m is None: continue
    if m.error(): sys.exit('consumer error %s' % m.error())
    got.append(row(m.partition(), m.offset(), m.key(), m.value(), m.headers()))
c.close()
out('confluent', value=sorted(got))
k = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=8000)
k.assign([KTP(topic, 0), KTP(topic, 1)])
k.seek_to_beginning()
got = []
for m in k:
    got.append(row(m.partition, m.offset, m.key, m.value, m.headers))
    if len(got) == 9: break
k.close()
out('kafka-python', value=sorted(got))
`;

type Row = [number, number, string | null, string | null, Array<[string, string | null]>];

const unicodeKey = 'ключ-🔑';
const unicodeValue = 'значение ✓';
const duplicateHeaders: Array<[string, string | null]> = [
  ['dup', '1'],
  ['ü-h', 'ö'],
  ['dup', '2'],
  ['nullh', null],
  ['dup', ''],
];

/** What every reader must see: partition 0 as librdkafka wrote it, partition 1 as kafka-python could. */
const expectedRows: Row[] = [
  [0, 0, null, null, []],
  [0, 1, 'k', null, []],
  [0, 2, '', '', []],
  [0, 3, null, '', [['empty', '']]],
  [0, 4, unicodeKey, unicodeValue, duplicateHeaders],
  [1, 0, 'k', null, []],
  [1, 1, '', '', []],
  [1, 2, null, '', [['empty', '']]],
  [1, 3, unicodeKey, unicodeValue, duplicateHeaders.filter(([, v]) => v !== null)],
];

// --- reading from inside a compressed batch ---------------------------------------------------------------

const midBatchScript = `
from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
from kafka import KafkaConsumer, TopicPartition as KTP
from kafka import codec
topics = sys.argv[3].split(',')
# kafka-python decodes snappy, lz4 and zstd only when their optional Python modules are installed.
readable = {'gzip': codec.has_gzip(), 'snappy': codec.has_snappy(), 'lz4': codec.has_lz4(), 'zstd': codec.has_zstd()}
out('kafka-python-codecs', value=sorted(name for name, ok in readable.items() if ok))
for topic in topics:
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': topic + '-kafkajs', 'enable.auto.commit': False})
    out('watermarks', topic=topic, value=[list(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)) for p in (0, 1)])
    c.assign([TopicPartition(topic, 0, 4), TopicPartition(topic, 1, OFFSET_BEGINNING)])
    got = []
    deadline = time.time() + 10
    while len(got) < 23 and time.time() < deadline:
        m = c.poll(0.1)
        if m is None: continue
        if m.error(): sys.exit('consumer error %s' % m.error())
        got.append([m.partition(), m.offset(), m.value().decode()])
    # The kafkajs member of this group will start at this commit, inside the first batch of partition 0.
    c.commit(offsets=[TopicPartition(topic, 0, 4)], asynchronous=False)
    c.close()
    out('confluent', topic=topic, value=got)
    if not readable[topic.split('-')[-1]]: continue
    k = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=8000)
    k.assign([KTP(topic, 0), KTP(topic, 1)])
    out('beginning-offsets', topic=topic, value=[o for _, o in sorted(k.beginning_offsets([KTP(topic, 0), KTP(topic, 1)]).items())])
    k.seek(KTP(topic, 0), 4)
    k.seek_to_beginning(KTP(topic, 1))
    got = []
    for m in k:
        got.append([m.partition, m.offset, m.value.decode()])
        if len(got) == 23: break
    k.close()
    out('kafka-python', topic=topic, value=got)
`;

// --- group members ----------------------------------------------------------------------------------------

// One librdkafka group member per process, so that a test can SIGKILL it. Prints its rebalance callbacks,
// errors and records as JSON lines; on SIGUSR1 it stops polling for 8 s (to overrun max.poll.interval.ms).
const memberScript = `
import json, signal, sys, time
from confluent_kafka import Consumer
bootstrap, group, instance, topics, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(','), json.loads(sys.argv[5])
def out(**fields): print(json.dumps(fields, sort_keys=True), flush=True)
def parts(ps): return sorted([p.topic, p.partition] for p in ps)
conf = {'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': False,
        'heartbeat.interval.ms': 250, 'partition.assignment.strategy': 'range'}
if instance: conf['group.instance.id'] = instance
conf.update(extra)
c = Consumer(conf)
c.subscribe(topics, on_assign=lambda _, ps: out(event='assign', partitions=parts(ps)),
            on_revoke=lambda _, ps: out(event='revoke', partitions=parts(ps)))
stall = []
signal.signal(signal.SIGUSR1, lambda *_: stall.append(True))
while True:
    if stall:
        stall.clear()
        out(event='stall')
        time.sleep(8)
    m = c.poll(0.1)
    if m is None: continue
    if m.error(): out(event='error', name=m.error().name())
    else: out(event='record', topic=m.topic(), partition=m.partition(), offset=m.offset())
`;

interface MemberEvent {
  event: 'assign' | 'revoke' | 'error' | 'record' | 'stall';
  partitions?: Array<[string, number]>;
  name?: string;
  topic?: string;
  partition?: number;
  offset?: number;
}

function memberEvents(member: LineProgram): MemberEvent[] {
  return member.lines.map((line) => JSON.parse(line) as MemberEvent);
}

/** Partition numbers of the member's latest assignment; null before its first. */
function assigned(member: LineProgram): number[] | null {
  const last = memberEvents(member)
    .filter((e) => e.event === 'assign')
    .at(-1);
  return last === undefined ? null : (last.partitions ?? []).map(([, p]) => p).sort((a, b) => a - b);
}

function rebalanceEvents(member: LineProgram): MemberEvent[] {
  return memberEvents(member).filter((e) => e.event === 'assign' || e.event === 'revoke');
}

function recordPartitions(member: LineProgram): number[] {
  return memberEvents(member)
    .filter((e) => e.event === 'record')
    .map((e) => e.partition ?? -1)
    .sort((a, b) => a - b);
}

describe('client edge cases', { timeout: 150_000 }, () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  const startMember = (group: string, instance: string, topic: string, extra: Record<string, unknown>) =>
    spawnLines(PYTHON, ['-c', memberScript, broker.bootstrap, group, instance, topic, JSON.stringify(extra)]);

  const describeMembers = (members: Record<string, LineProgram>) => () =>
    Object.entries(members)
      .map(([name, m]) => `${name}: ${m.lines.join(' ')} ${m.stderr().slice(-2000)}`)
      .join('\n');

  before(async () => {
    await assertPythonModule('kafka', 'python3-kafka');
    await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
    broker = await startBroker({ args: brokerArgs });
    kafka = createKafka(broker.bootstrap);
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  after(async () => {
    killLinePrograms();
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await disposeAllBrokers();
  });

  test('admin: replica assignments, validate_only, unknown config names (kafka-python and confluent-kafka)', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(adminScript, broker.bootstrap, 'cea');
    assert.deepEqual(steps, [
      { step: 'create-assigned', error: null, value: [['cea-assigned', 0]] },
      // [partition, leader, replicas, isr]
      {
        step: 'assigned-partitions',
        value: [
          [0, 0, [0], [0]],
          [1, 0, [0], [0]],
          [2, 0, [0], [0]],
        ],
      },
      { step: 'create-assigned-unknown-broker', error: 'InvalidReplicationAssignmentError' },
      { step: 'create-assigned-gap', error: 'InvalidReplicationAssignmentError' },
      { step: 'create-validate-only', error: null, value: [['cea-v', 0]] },
      { step: 'create-validate-only-existing', error: 'TopicAlreadyExistsError' },
      { step: 'listed', value: ['cea-assigned'] },
      // AlterConfigs answers per resource: 40 is INVALID_CONFIG, for unknown names and broker-only names alike.
      { step: 'alter-unknown-name', error: null, value: [[40, 'cea-assigned']] },
      { step: 'alter-broker-name-on-topic', error: null, value: [[40, 'cea-assigned']] },
      { step: 'alter-valid', error: null, value: [[0, 'cea-assigned']] },
      { step: 'ck-create-assigned', value: { 'cea-ck': null, 'cea-ck-bad': 'INVALID_REPLICA_ASSIGNMENT' } },
      {
        step: 'ck-assigned-partitions',
        value: [
          [0, 0, [0], [0]],
          [1, 0, [0], [0]],
        ],
      },
      { step: 'ck-alter-unknown-name', value: { 'cea-assigned': 'INVALID_CONFIG' } },
      // The refused change left the earlier override (source 1: dynamic topic config) alone.
      { step: 'ck-described', value: ['1000', 1], unknown: false },
    ]);
    assert.deepEqual((await admin.listTopics()).filter((t) => t.startsWith('cea-')).sort(), [
      'cea-assigned',
      'cea-ck',
    ]);
  });

  test('offsets: never committed, past the log end, unicode and oversized metadata, no reset policy, group deletion', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(offsetsScript, broker.bootstrap, 'ceo');
    assert.deepEqual(steps, [
      { step: 'kp-never-committed', value: [null, null] },
      {
        step: 'kp-committed',
        value: [100, 3],
        listed: [
          [0, 100, 'far-é✓'],
          [1, 3, ''],
        ],
      },
      { step: 'kp-metadata-too-large', error: 'OffsetMetadataTooLargeError' },
      { step: 'kp-after-too-large', value: 3 },
      // Partition 0 holds offsets 0-4 and partition 1 offsets 0-4; p0 restarts at 0, p1 at its commit (3).
      {
        step: 'kp-resume',
        value: [
          [0, 0],
          [0, 1],
          [0, 2],
          [0, 3],
          [0, 4],
          [1, 3],
          [1, 4],
        ],
        position: [5, 5],
      },
      { step: 'kp-out-of-range', error: 'OffsetOutOfRangeError' },
      {
        step: 'kp-describe',
        value: [
          ['ceo-kp', 'Empty', 0],
          ['ceo-live', 'Stable', 1],
        ],
      },
      {
        step: 'kp-delete',
        value: [
          ['ceo-kp', 'NoError'],
          ['ceo-live', 'NonEmptyGroupError'],
        ],
      },
      {
        step: 'kp-after-delete',
        value: [
          ['ceo-kp', 'Dead', 0],
          ['ceo-live', 'Stable', 1],
        ],
        offsets: [[], [[0, 1]]],
      },
      {
        step: 'ck-never-committed',
        value: [
          [0, -1001],
          [1, -1001],
        ],
      },
      {
        step: 'ck-committed',
        value: [
          [0, 100],
          [1, 2],
        ],
      },
      {
        step: 'ck-resume',
        value: [
          [
            [0, 0],
            [0, 1],
            [0, 2],
            [0, 3],
            [0, 4],
            [1, 2],
            [1, 3],
            [1, 4],
          ],
          [],
        ],
      },
      { step: 'ck-no-commit-reset-error', value: [[], ['_AUTO_OFFSET_RESET', '_AUTO_OFFSET_RESET']] },
      { step: 'kp-empty', begin: 0, end: 0, times: null },
      { step: 'kp-empty-read', position: 0, records: 0 },
      { step: 'ck-empty', watermarks: [0, 0], times: [[0, -1]] },
    ]);
  });

  test('null versus empty keys and values, unicode, and duplicate, null and unicode headers, through every client', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(recordsScript, broker.bootstrap, 'cer');
    assert.deepEqual(steps, [
      { step: 'kafka-python-produced', value: [0, 1, 2, 3] },
      { step: 'confluent', value: expectedRows },
      { step: 'kafka-python', value: expectedRows },
    ]);
    const topic = 'cer-t';

    const { stdout } = await runProgramOk(
      'kcat',
      ['-b', broker.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-J'],
      { timeoutMs: scriptTimeoutMs },
    );
    const kcatRows = stdout
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const r = JSON.parse(line) as {
          partition: number;
          offset: number;
          key: string | null;
          payload: string | null;
          headers?: Array<string | null>;
        };
        const headers: Array<[string, string | null]> = [];
        for (let i = 0; i + 1 < (r.headers?.length ?? 0); i += 2) {
          headers.push([r.headers![i] as string, r.headers![i + 1] ?? null]);
        }
        return [r.partition, r.offset, r.key, r.payload, headers] as Row;
      })
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assert.deepEqual(kcatRows, expectedRows);

    // kafkajs gathers headers into an object: a repeated key becomes an array of its values in record order.
    const consumer = kafka.consumer({ groupId: 'cer-kafkajs', maxWaitTimeInMs: 100 });
    const received: Array<[number, number, string | null, string | null, IHeaders]> = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push([
            partition,
            Number(message.offset),
            message.key === null ? null : message.key.toString(),
            message.value === null ? null : message.value.toString(),
            message.headers ?? {},
          ]);
        },
      });
      await waitFor(
        () => received.length >= expectedRows.length,
        15_000,
        () => `kafkajs got ${JSON.stringify(received)}`,
      );
    } finally {
      await consumer.disconnect();
    }
    const text = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(text) : Buffer.isBuffer(v) ? v.toString() : (v ?? null);
    assert.deepEqual(
      received
        .sort((a, b) => a[0] - b[0] || a[1] - b[1])
        .map(([p, o, k, v, h]) => [
          p,
          o,
          k,
          v,
          Object.entries(h).map(([name, value]) => [name, text(value)]),
        ]),
      [
        [0, 0, null, null, []],
        [0, 1, 'k', null, []],
        [0, 2, '', '', []],
        [0, 3, null, '', [['empty', '']]],
        [
          0,
          4,
          unicodeKey,
          unicodeValue,
          [
            ['dup', ['1', '2', '']],
            ['ü-h', 'ö'],
            ['nullh', null],
          ],
        ],
        [1, 0, 'k', null, []],
        [1, 1, '', '', []],
        [1, 2, null, '', [['empty', '']]],
        [
          1,
          3,
          unicodeKey,
          unicodeValue,
          [
            ['dup', ['1', '2', '']],
            ['ü-h', 'ö'],
          ],
        ],
      ],
    );
  });

  test('reading from inside a compressed batch, and after DeleteRecords inside one: every client skips the earlier records', {
    timeout: testTimeoutMs,
  }, async () => {
    const codecs = {
      gzip: CompressionTypes.GZIP,
      snappy: CompressionTypes.Snappy,
      lz4: CompressionTypes.LZ4,
      zstd: CompressionTypes.ZSTD,
    };
    const topics = Object.keys(codecs).map((codec) => `cem-${codec}`);
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 2 })) });
    for (const [codec, compression] of Object.entries(codecs)) {
      const topic = `cem-${codec}`;
      // One send is one batch per partition: offsets 0-9, then 10-14.
      for (const [from, to] of [
        [0, 10],
        [10, 15],
      ] as const) {
        const messages = [0, 1].flatMap((partition) =>
          Array.from({ length: to - from }, (_, i) => ({ partition, value: `p${partition}-v${from + i}` })),
        );
        await producer.send({ topic, acks: -1, compression, messages });
      }
      // kafkajs's admin finds partition leaders in its cached metadata only; fetching offsets loads the topic's.
      await admin.fetchTopicOffsets(topic);
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '3' }] });
    }
    // Partition 0 read from offset 4, partition 1 from its log start offset 3.
    const expected = [
      ...Array.from({ length: 11 }, (_, i) => [0, 4 + i, `p0-v${4 + i}`]),
      ...Array.from({ length: 12 }, (_, i) => [1, 3 + i, `p1-v${3 + i}`]),
    ];
    const byPosition = (a: unknown[], b: unknown[]) =>
      (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number);

    const [codecStep, ...steps] = await runPythonSteps(midBatchScript, {
      bootstrap: broker.bootstrap,
      prefix: 'cem',
      extraArgs: [topics.join(',')],
      timeoutMs: scriptTimeoutMs,
    });
    const pythonCodecs = codecStep?.value as string[];
    assert.ok(pythonCodecs.includes('gzip'), `kafka-python reads gzip: ${JSON.stringify(codecStep)}`);
    assert.deepEqual(
      steps.map((s) =>
        s.step === 'confluent' || s.step === 'kafka-python'
          ? { ...s, value: (s.value as unknown[][]).sort(byPosition) }
          : s,
      ),
      Object.keys(codecs).flatMap((codec) => [
        // Partition 1's log start offset is inside its first batch.
        {
          step: 'watermarks',
          topic: `cem-${codec}`,
          value: [
            [0, 15],
            [3, 15],
          ],
        },
        { step: 'confluent', topic: `cem-${codec}`, value: expected },
        ...(pythonCodecs.includes(codec)
          ? [
              { step: 'beginning-offsets', topic: `cem-${codec}`, value: [0, 3] },
              { step: 'kafka-python', topic: `cem-${codec}`, value: expected },
            ]
          : []),
      ]),
    );

    for (const topic of topics) {
      const kcatRead = async (partition: number, offset: string) => {
        const { stdout } = await runProgramOk(
          'kcat',
          [
            '-b',
            broker.bootstrap,
            '-C',
            '-t',
            topic,
            '-p',
            String(partition),
            '-o',
            offset,
            '-e',
            '-q',
            '-f',
            '%p %o %s\\n',
          ],
          { timeoutMs: scriptTimeoutMs },
        );
        return stdout
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => {
            const [p, o, v] = line.split(' ');
            return [Number(p), Number(o), v];
          });
      };
      assert.deepEqual(
        [...(await kcatRead(0, '4')), ...(await kcatRead(1, 'beginning'))],
        expected,
        `kcat ${topic}`,
      );
      // The offset librdkafka committed inside a batch is where a kafkajs member of the group starts.
      const read = await readAll(kafka, topic, { groupId: `${topic}-kafkajs` });
      assert.deepEqual(
        read.map((m) => [m.partition, Number(m.offset), m.value]).sort(byPosition),
        expected,
        `kafkajs ${topic}`,
      );
    }
  });

  test('librdkafka static member: restarted within its session it gets its partitions back without a rebalance; killed, they move after the session', {
    timeout: 60_000,
  }, async () => {
    const topic = 'ces-t';
    const group = 'ces-g';
    const sessionTimeoutMs = 6_000;
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const conf = { 'session.timeout.ms': sessionTimeoutMs };
    const members: Record<string, LineProgram> = {};
    const state = describeMembers(members);
    members.a = startMember(group, 'instance-a', topic, conf);
    await waitFor(() => assigned(members.a!)?.length === 4, 15_000, state);
    members.b = startMember(group, 'instance-b', topic, conf);
    await waitFor(
      () => assigned(members.a!)?.length === 2 && assigned(members.b!)?.length === 2,
      15_000,
      state,
    );
    const halfOfA = assigned(members.a)!;
    const halfOfB = assigned(members.b)!;
    assert.deepEqual([...halfOfA, ...halfOfB].sort(), [0, 1, 2, 3]);
    const bRebalances = rebalanceEvents(members.b).length;

    // kill -9 and start again under the same group.instance.id before the session ends.
    members.a.child.kill('SIGKILL');
    await members.a.exited;
    members.a2 = startMember(group, 'instance-a', topic, conf);
    await waitFor(() => assigned(members.a2!) !== null, 15_000, state);
    assert.deepEqual(assigned(members.a2), halfOfA, 'the restarted static member has its old partitions');

    await producer.send({
      topic,
      acks: -1,
      messages: [0, 1, 2, 3].map((partition) => ({ partition, value: `r${partition}` })),
    });
    await waitFor(
      () => recordPartitions(members.a2!).length + recordPartitions(members.b!).length === 4,
      15_000,
      state,
    );
    assert.deepEqual(recordPartitions(members.a2), halfOfA);
    assert.deepEqual(recordPartitions(members.b), halfOfB);
    assert.equal(rebalanceEvents(members.b).length, bRebalances, `b was not rebalanced: ${state()}`);
    const { groups } = await admin.describeGroups([group]);
    assert.deepEqual([groups[0]?.state, groups[0]?.members.length], ['Stable', 2]);

    // Killed for good: the static member keeps its partitions until its session times out, then b has all.
    members.a2.child.kill('SIGKILL');
    await members.a2.exited;
    await sleep(1_000);
    assert.equal(
      rebalanceEvents(members.b).length,
      bRebalances,
      `no rebalance before the session ends: ${state()}`,
    );
    await waitFor(() => assigned(members.b!)?.length === 4, sessionTimeoutMs + 15_000, state);
    assert.deepEqual(rebalanceEvents(members.b).slice(bRebalances), [
      { event: 'revoke', partitions: halfOfB.map((p) => [topic, p]) },
      { event: 'assign', partitions: [0, 1, 2, 3].map((p) => [topic, p]) },
    ]);
    members.b.child.kill('SIGKILL');
  });

  test('librdkafka member that stops polling past max.poll.interval.ms leaves the group and rejoins when it polls again', {
    timeout: 45_000,
  }, async () => {
    const topic = 'cep-t';
    const group = 'cep-g';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    // librdkafka requires max.poll.interval.ms >= session.timeout.ms.
    const conf = { 'session.timeout.ms': 2_000, 'max.poll.interval.ms': 3_000 };
    const members: Record<string, LineProgram> = {};
    const state = describeMembers(members);
    members.slow = startMember(group, '', topic, conf);
    await waitFor(() => assigned(members.slow!)?.length === 2, 15_000, state);
    members.steady = startMember(group, '', topic, conf);
    await waitFor(
      () => assigned(members.slow!)?.length === 1 && assigned(members.steady!)?.length === 1,
      15_000,
      state,
    );
    members.slow.child.kill('SIGUSR1');
    // While the slow member sleeps (8 s), librdkafka leaves the group on its behalf and steady takes both.
    await waitFor(() => assigned(members.steady!)?.length === 2, 15_000, state);
    assert.ok(
      memberEvents(members.slow).some((e) => e.event === 'stall'),
      `steady took over only after the slow member stopped polling: ${state()}`,
    );
    // Back in poll(): the application hears _MAX_POLL_EXCEEDED, and the member rejoins.
    await waitFor(
      () => assigned(members.slow!)?.length === 1 && assigned(members.steady!)?.length === 1,
      20_000,
      state,
    );
    const afterStall = memberEvents(members.slow).slice(
      memberEvents(members.slow).findIndex((e) => e.event === 'stall'),
    );
    assert.deepEqual(
      afterStall.filter((e) => e.event === 'error').map((e) => e.name),
      ['_MAX_POLL_EXCEEDED'],
    );
    members.slow.child.kill('SIGKILL');
    members.steady.child.kill('SIGKILL');
  });

  test('partitions added by CreatePartitions while groups consume reach librdkafka and kafkajs members', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'ceg-t';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const members: Record<string, LineProgram> = {};
    const state = describeMembers(members);
    members.rdkafka = startMember('ceg-rdkafka', '', topic, {
      'session.timeout.ms': 6_000,
      'topic.metadata.refresh.interval.ms': 500,
    });
    const watcher = createKafka(broker.bootstrap, { retry: { retries: 5, initialRetryTime: 100 } });
    const consumer = watcher.consumer({
      groupId: 'ceg-kafkajs',
      metadataMaxAge: 500,
      maxWaitTimeInMs: 100,
      heartbeatInterval: 300,
    });
    let kafkajsAssignment: number[] = [];
    const kafkajsRecords: string[] = [];
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      kafkajsAssignment = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          kafkajsRecords.push(`${partition}:${message.offset}:${message.value?.toString()}`);
        },
      });
      await waitFor(
        () => assigned(members.rdkafka!)?.length === 2 && kafkajsAssignment.length === 2,
        15_000,
        () => `kafkajs ${kafkajsAssignment}; ${state()}`,
      );
      await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
      await waitFor(
        () => assigned(members.rdkafka!)?.length === 4 && kafkajsAssignment.length === 4,
        20_000,
        () => `kafkajs ${kafkajsAssignment}; ${state()}`,
      );
      // A producer that starts now sees four partitions.
      const late = watcher.producer();
      await late.connect();
      await late.send({
        topic,
        acks: -1,
        messages: [0, 1, 2, 3].map((partition) => ({ partition, value: `r${partition}` })),
      });
      await late.disconnect();
      await waitFor(
        () => recordPartitions(members.rdkafka!).length === 4 && kafkajsRecords.length === 4,
        15_000,
        () => `kafkajs ${kafkajsRecords}; ${state()}`,
      );
      assert.deepEqual(recordPartitions(members.rdkafka), [0, 1, 2, 3]);
      assert.deepEqual(kafkajsRecords.sort(), ['0:0:r0', '1:0:r1', '2:0:r2', '3:0:r3']);
    } finally {
      await consumer.disconnect();
      members.rdkafka.child.kill('SIGKILL');
    }
  });

  test('LogAppendTime: kafkajs reads the broker’s append time, not the producer’s timestamps', {
    timeout: testTimeoutMs,
  }, async () => {
    const topic = 'cel-t';
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
        },
      ],
    });
    const beforeMs = Date.now();
    const [answer] = await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: [
        { value: 'a', timestamp: '1000' },
        { value: 'b', timestamp: '2000' },
      ],
    });
    const afterMs = Date.now();
    const appendTime = Number(answer?.logAppendTime);
    assert.ok(
      beforeMs <= appendTime && appendTime <= afterMs,
      `append time ${appendTime} not in [${beforeMs}, ${afterMs}]`,
    );
    const read = await readAll(kafka, topic);
    assert.deepEqual(
      read.map((m) => [m.offset, m.value, Number(m.timestamp)]),
      [
        ['0', 'a', appendTime],
        ['1', 'b', appendTime],
      ],
    );
  });
});
