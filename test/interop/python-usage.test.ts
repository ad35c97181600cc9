// The Python clients used the way their users use them, against a real Sluice process: kafka-python 2.0.2
// (python3-kafka) and confluent-kafka 1.7 on librdkafka 2.0.2 (python3-confluent-kafka). Admin calls and the
// errors users hit, consumer offset management (commit/committed/position, seek, offsets_for_times, watermarks,
// pause/resume, auto.offset.reset), groups of two members that split partitions and rebalance when one leaves,
// and producer options (codecs, acks, null keys and values, timestamps, message size limits, old formats).
// Each script prints one JSON object per step; the test compares the whole sequence with what Kafka answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { assertPythonModule, CONFLUENT_OUTCOME, type PythonStep, runPythonSteps } from '../helpers/python.js';

const scriptTimeoutMs = 40_000;
const testTimeoutMs = 45_000;

type Step = PythonStep;

function runScript(script: string, bootstrap: string, prefix: string): Promise<Step[]> {
  return runPythonSteps(script, { bootstrap, prefix, timeoutMs: scriptTimeoutMs });
}

/** The single step named `step`; fails when it is missing or repeated. */
function stepOf(steps: Step[], step: string): Step {
  const found = steps.filter((s) => s.step === step);
  assert.equal(found.length, 1, `expected exactly one "${step}" step in ${JSON.stringify(steps)}`);
  return found[0]!;
}

// Five records on partition 0 with a null key (i=1), a null value (i=2) and explicit CreateTime timestamps.
const sampleCount = 5;
const sampleTimestampMs = 1_600_000_000_000;
const pythonSample = `
def sample_key(i): return None if i == 1 else b'k%d' % i
def sample_value(i): return None if i == 2 else b'value-%d-' % i + b'x' * 50
def sample_timestamp(i): return ${sampleTimestampMs} + i
`;

/** [offset, key, value, timestamp] of each sample record as the scripts print them. */
function sampleRecords(): Array<[number, string | null, string | null, number]> {
  return Array.from({ length: sampleCount }, (_, i) => [
    i,
    i === 1 ? null : `k${i}`,
    i === 2 ? null : `value-${i}-${'x'.repeat(50)}`,
    sampleTimestampMs + i,
  ]);
}

// --- kafka-python -------------------------------------------------------------------------------------------

const kafkaPythonAdminScript = `
from kafka import KafkaAdminClient
from kafka.admin import NewTopic, NewPartitions, ConfigResource, ConfigResourceType
from kafka.errors import KafkaError
admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
topic = prefix + '-t'
def attempt(step, call):
    try:
        call()
        out(step, error=None)
    except KafkaError as e:
        out(step, error=type(e).__name__)
r = admin.create_topics([NewTopic(topic, 2, 1, topic_configs={'retention.ms': '3600000', 'max.message.bytes': '2000000'})])
out('create', errors=[[t, e] for t, e, *_ in r.topic_errors])
attempt('create-existing', lambda: admin.create_topics([NewTopic(topic, 2, 1)]))
attempt('create-zero-partitions', lambda: admin.create_topics([NewTopic(prefix + '-zero', 0, 1)]))
attempt('create-bad-config', lambda: admin.create_topics([NewTopic(prefix + '-conf', 1, 1, topic_configs={'retention.ms': 'soon'})]))
def describe(names, synonyms=False):
    configs = {name: None for name in names}
    r = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=configs)], include_synonyms=synonyms)
    (error, _, _, name, entries), = r[0].resources
    return error, name, sorted(list(e) for e in entries)
out('describe', value=describe(['retention.ms', 'max.message.bytes', 'cleanup.policy']))
out('describe-synonyms', value=describe(['retention.ms'], synonyms=True))
r = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={'retention.ms': '7200000'})])
out('alter', value=[[error, name] for error, _, _, name in r.resources])
# AlterConfigs replaces the topic's whole set of overrides: max.message.bytes goes back to its default.
out('describe-after-alter', value=describe(['retention.ms', 'max.message.bytes']))
r = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, prefix + '-missing')])
out('describe-missing', value=[[error, name] for error, _, _, name, _ in r[0].resources])
r = admin.create_partitions({topic: NewPartitions(4)})
out('create-partitions', errors=[[t, e] for t, e, *_ in r.topic_errors])
attempt('shrink-partitions', lambda: admin.create_partitions({topic: NewPartitions(2)}))
attempt('partitions-of-missing', lambda: admin.create_partitions({prefix + '-missing': NewPartitions(2)}))
(described,) = admin.describe_topics([topic])
out('describe-topics', error=described['error_code'], partitions=sorted(p['partition'] for p in described['partitions']),
    leaders=sorted(set(p['leader'] for p in described['partitions'])))
out('list-topics', value=sorted(t for t in admin.list_topics() if t.startswith(prefix)))
r = admin.delete_topics([topic])
out('delete', errors=[list(x) for x in r.topic_error_codes])
attempt('delete-missing', lambda: admin.delete_topics([topic]))
out('list-after-delete', value=sorted(t for t in admin.list_topics() if t.startswith(prefix)))
out('describe-unknown-group', value=[[d.group, d.state, d.members] for d in admin.describe_consumer_groups([prefix + '-nogroup'])])
out('offsets-unknown-group', value=sorted(admin.list_consumer_group_offsets(prefix + '-nogroup').items()))
out('delete-unknown-group', value=[[g, e.__name__] for g, e in admin.delete_consumer_groups([prefix + '-nogroup'])])
admin.close()
`;

const kafkaPythonConsumerScript = `
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition, OffsetAndMetadata
from kafka.admin import NewTopic
admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
topic = prefix + '-t'
admin.create_topics([NewTopic(topic, 2, 1)])
base = 1700000000000
producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', retries=0, max_block_ms=10000)
for i in range(10):
    producer.send(topic, key=b'k%d' % i, value=b'v%d' % i, partition=i % 2, timestamp_ms=base + i * 1000).get(timeout=10)
p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
def kv(m): return [m.partition, m.offset, m.value.decode(), m.timestamp, m.timestamp_type]
def consume(c, n):
    got = []
    for m in c:
        got.append(kv(m))
        if len(got) == n: break
    return got
def consumer(**extra):
    conf = dict(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=8000, request_timeout_ms=15000,
                session_timeout_ms=10000, heartbeat_interval_ms=500)
    conf.update(extra)
    return KafkaConsumer(**conf)
group = prefix + '-manual'
c = consumer(group_id=group)
out('partitions-for-topic', value=sorted(c.partitions_for_topic(topic)))
out('beginning-offsets', value=sorted([tp.partition, o] for tp, o in c.beginning_offsets([p0, p1]).items()))
out('end-offsets', value=sorted([tp.partition, o] for tp, o in c.end_offsets([p0, p1]).items()))
r = c.offsets_for_times({p0: base + 3500, p1: base + 1000})
out('offsets-for-times', value=sorted([tp.partition, o.offset, o.timestamp] for tp, o in r.items()))
r = c.offsets_for_times({p0: base + 99000, p1: 0})
out('offsets-for-times-edges', value=sorted([tp.partition, None if o is None else [o.offset, o.timestamp]] for tp, o in r.items()))
c.assign([p0, p1])
c.seek(p0, 3)
c.seek_to_end(p1)
out('position', value=[c.position(p0), c.position(p1)])
out('after-seek', value=consume(c, 2))
c.commit({p0: OffsetAndMetadata(4, 'meta-p0'), p1: OffsetAndMetadata(2, None)})
out('committed', value=[c.committed(p0), c.committed(p1)])
c.seek_to_beginning(p0)
c.pause(p0)
out('paused', value=sorted(tp.partition for tp in c.paused()))
out('poll-while-paused', value=sum(len(v) for v in c.poll(timeout_ms=500).values()))
c.resume(p0)
c.seek(p1, 4)
out('after-resume', value=sorted(consume(c, 6)))
c.close()
out('group-offsets', value=sorted([tp.partition, o.offset, o.metadata] for tp, o in admin.list_consumer_group_offsets(group).items()))
# A member that subscribes to the group starts where the commit left off.
g = consumer(group_id=group, auto_offset_reset='earliest')
g.subscribe([topic])
out('resume-from-commit', value=sorted(consume(g, 4)), assignment=sorted(tp.partition for tp in g.assignment()))
g.commit()
out('committed-after-subscribe', value=[g.committed(p0), g.committed(p1)])
out('list-groups', value=sorted(list(x) for x in admin.list_consumer_groups() if x[0].startswith(prefix)))
(d,) = admin.describe_consumer_groups([group])
out('describe-group', state=d.state, protocol_type=d.protocol_type, protocol=d.protocol, members=len(d.members),
    assignment=[[t, sorted(ps)] for m in d.members for t, ps in m.member_assignment.assignment])
g.close()
(d,) = admin.describe_consumer_groups([group])
out('describe-group-after-close', state=d.state, members=len(d.members))
# auto_offset_reset=latest starts at the end: only a record produced after the reset is read.
latest = consumer(group_id=prefix + '-latest', auto_offset_reset='latest')
latest.subscribe([topic])
deadline = time.time() + 10
while not latest.assignment() and time.time() < deadline:
    latest.poll(timeout_ms=100)
out('latest-position', value=[latest.position(p0), latest.position(p1)])
producer.send(topic, value=b'after-reset', partition=0, timestamp_ms=base + 10000).get(timeout=10)
out('latest-read', value=consume(latest, 1))
latest.close()
earliest = consumer(group_id=prefix + '-earliest', auto_offset_reset='earliest')
earliest.subscribe([topic])
out('earliest-read', value=len(consume(earliest, 11)), position=[earliest.position(p0), earliest.position(p1)])
earliest.close()
# Auto-commit commits on close even before its interval.
auto = consumer(group_id=prefix + '-auto', auto_offset_reset='earliest', enable_auto_commit=True, auto_commit_interval_ms=60000)
auto.subscribe([topic])
consume(auto, 11)
auto.close()
out('auto-commit-on-close', value=sorted([tp.partition, o.offset] for tp, o in admin.list_consumer_group_offsets(prefix + '-auto').items()))
producer.close(10)
admin.close()
`;

const kafkaPythonGroupScript = `
import threading
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
topic = prefix + '-t'
group = prefix + '-group'
admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
admin.create_topics([NewTopic(topic, 4, 1)])
producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', retries=0, max_block_ms=10000)
def produce(start, end):
    for i in range(start, end):
        producer.send(topic, value=b'v%d' % i, partition=i % 4)
    producer.flush(10)
def member():
    return KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset='earliest', enable_auto_commit=False,
                         session_timeout_ms=6000, heartbeat_interval_ms=500, max_poll_interval_ms=20000, request_timeout_ms=21000)
# kafka-python joins and rebalances inside poll(), so each member polls in its own thread.
members = {'a': member(), 'b': member()}
seen = {'a': [], 'b': []}
stop = threading.Event()
leave_b = threading.Event()
failures = []
def run(name):
    c = members[name]
    try:
        while not stop.is_set():
            if name == 'b' and leave_b.is_set():
                c.close()
                return
            for tp, ms in c.poll(timeout_ms=100).items():
                seen[name].extend([m.partition, m.offset] for m in ms)
                c.commit()
    except Exception as e:
        failures.append(repr(e))
threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in members]
for t in threads: t.start()
def parts(name): return sorted(tp.partition for tp in members[name].assignment())
def wait(pred, what):
    deadline = time.time() + 20
    while time.time() < deadline and not failures:
        if pred(): return
        time.sleep(0.05)
    out('timeout', what=what, failures=failures, a=parts('a'), seen=seen)
    sys.exit(1)
wait(lambda: len(parts('a')) == 2 and len(parts('b')) == 2, 'split')
produce(0, 8)
wait(lambda: len(seen['a']) + len(seen['b']) == 8, 'consume split')
out('split', value=sorted([parts('a'), parts('b')]),
    each_read_its_own=[sorted(seen[n]) == [[p, o] for p in parts(n) for o in (0, 1)] for n in ('a', 'b')])
(d,) = admin.describe_consumer_groups([group])
out('describe', state=d.state, members=len(d.members),
    assignments=sorted(sorted(p for _, ps in m.member_assignment.assignment for p in ps) for m in d.members))
leave_b.set()
wait(lambda: parts('a') == [0, 1, 2, 3], 'rebalance after leave')
produce(8, 12)
wait(lambda: len(seen['a']) + len(seen['b']) == 12, 'consume after leave')
stop.set()
for t in threads: t.join(10)
members['a'].close()
out('after-leave', assignment=parts('a'), all_records=sorted(seen['a'] + seen['b']), failures=failures)
out('group-offsets', value=sorted([tp.partition, o.offset] for tp, o in admin.list_consumer_group_offsets(group).items()))
producer.close(10)
admin.close()
`;

const kafkaPythonProducerScript = `
import importlib
from kafka import KafkaConsumer, KafkaProducer, TopicPartition, KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError
${pythonSample}
codecs = ['none', 'gzip']
for codec, module in (('snappy', 'snappy'), ('lz4', 'lz4.frame'), ('zstd', 'zstandard')):
    try:
        importlib.import_module(module)
        codecs.append(codec)
    except ImportError:
        pass
out('codecs', value=codecs)
def read(topics, count_each, **extra):
    conf = dict(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=8000)
    conf.update(extra)
    c = KafkaConsumer(**conf)
    tps = [TopicPartition(t, 0) for t in topics]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    got = {t: [] for t in topics}
    for m in c:
        got[m.topic].append(m)
        if sum(len(v) for v in got.values()) == count_each * len(topics): break
    c.close()
    return got
def short(m):
    return [m.offset, None if m.key is None else m.key.decode(), None if m.value is None else m.value.decode(), m.timestamp]
# Every codec with every acks setting; lingering puts the five records in one batch. Topics are auto-created.
topics = []
for codec in codecs:
    for acks in (0, 1, 'all'):
        topic = '%s-%s-%s' % (prefix, codec, acks)
        topics.append(topic)
        p = KafkaProducer(bootstrap_servers=bootstrap, acks=acks, compression_type=None if codec == 'none' else codec,
                          linger_ms=50, retries=0, max_block_ms=10000)
        futures = [p.send(topic, key=sample_key(i), value=sample_value(i), partition=0, timestamp_ms=sample_timestamp(i))
                   for i in range(${sampleCount})]
        p.flush(10)
        out('produce', topic=topic, offsets=[f.get(timeout=10).offset for f in futures])
        p.close(10)
for topic, records in read(topics, ${sampleCount}).items():
    out('consume', topic=topic, records=[short(m) for m in records])
# Older wire formats, which users get by pinning api_version: magic 0 (0.9), magic 1 (0.10.1), v2 (0.11).
topics = []
for version in ((0, 9), (0, 10, 1), (0, 11)):
    for codec in (None, 'gzip'):
        topic = '%s-v%s-%s' % (prefix, '.'.join(map(str, version)), codec or 'none')
        topics.append(topic)
        p = KafkaProducer(bootstrap_servers=bootstrap, acks=1, api_version=version, compression_type=codec, linger_ms=50,
                          retries=0, max_block_ms=10000)
        stamp = (lambda i: {}) if version == (0, 9) else (lambda i: {'timestamp_ms': sample_timestamp(i)})
        futures = [p.send(topic, key=sample_key(i), value=sample_value(i), partition=0, **stamp(i)) for i in range(4)]
        p.flush(10)
        out('produce-old', topic=topic, offsets=[f.get(timeout=10).offset for f in futures])
        p.close(10)
for topic, records in read(topics, 4, api_version=(0, 10, 1)).items():
    out('consume-old', topic=topic, records=[short(m) for m in records])
# A record near the default message.max.bytes (1048588) is stored; one over it is refused by the broker.
topic = prefix + '-large'
p = KafkaProducer(bootstrap_servers=bootstrap, acks='all', retries=0, max_request_size=3 * 1024 * 1024, max_block_ms=10000)
out('large', offset=p.send(topic, value=b'a' * 1040000, partition=0).get(timeout=10).offset)
try:
    p.send(topic, value=b'b' * 1100000, partition=0).get(timeout=10)
    out('too-large', error=None)
except KafkaError as e:
    out('too-large', error=type(e).__name__)
out('after-too-large', offset=p.send(topic, value=b'small', partition=0).get(timeout=10).offset)
p.close(10)
# A fetch size below the record's size still returns it (the first batch always comes back whole).
records = read([topic], 2, max_partition_fetch_bytes=10000, fetch_max_bytes=10000)[topic]
out('large-read', value=[[m.offset, len(m.value)] for m in records])
# LogAppendTime: the broker's append time replaces the producer's timestamp and comes back in the ack.
admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
topic = prefix + '-append-time'
admin.create_topics([NewTopic(topic, 1, 1, topic_configs={'message.timestamp.type': 'LogAppendTime'})])
admin.close()
p = KafkaProducer(bootstrap_servers=bootstrap, acks=1, retries=0, max_block_ms=10000)
before = int(time.time() * 1000)
acked = p.send(topic, value=b'x', timestamp_ms=1000, partition=0).get(timeout=10)
p.close(10)
(m,) = read([topic], 1)[topic]
out('append-time', acked_in_range=before <= acked.timestamp <= int(time.time() * 1000),
    consumed=[m.timestamp_type, m.timestamp == acked.timestamp])
`;

// --- confluent-kafka ----------------------------------------------------------------------------------------

const confluentAdminScript = `
from confluent_kafka.admin import AdminClient, NewTopic, NewPartitions, ConfigResource
admin = AdminClient({'bootstrap.servers': bootstrap})
${CONFLUENT_OUTCOME}t1, t2 = prefix + '-a', prefix + '-b'
out('create', value=outcome(admin.create_topics([
    NewTopic(t1, 3, 1, config={'retention.ms': '3600000', 'max.message.bytes': '2000000'}),
    NewTopic(t2, 1, 1)], request_timeout=10)))
out('create-errors', value=outcome(admin.create_topics([
    NewTopic(t1, 3, 1), NewTopic(prefix + '-zero', 0, 1), NewTopic(prefix + '-conf', 1, 1, config={'retention.ms': 'soon'})],
    request_timeout=10)))
out('validate-only', value=outcome(admin.create_topics([NewTopic(prefix + '-v', 2, 1)], validate_only=True, request_timeout=10)),
    created=(prefix + '-v') in admin.list_topics(timeout=10).topics)
md = admin.list_topics(timeout=10)
out('list-topics', value={t: sorted(md.topics[t].partitions) for t in md.topics if t.startswith(prefix)},
    brokers=len(md.brokers), leaders=sorted(set(p.leader for p in md.topics[t1].partitions.values())))
# AdminClient is a producer handle: allow.auto.create.topics defaults to true, so asking creates the topic.
md = admin.list_topics(topic=prefix + '-auto', timeout=10)
entry = md.topics[prefix + '-auto']
out('list-topic-auto-created', partitions=sorted(entry.partitions), error=None if entry.error is None else entry.error.name())
def describe(resource):
    (f,) = admin.describe_configs([resource], request_timeout=10).values()
    return f.result(10)
e = describe(ConfigResource('topic', t1))
out('describe', value={name: [e[name].value, e[name].is_default, e[name].source]
                       for name in ('retention.ms', 'max.message.bytes', 'cleanup.policy')})
out('alter', value=outcome(admin.alter_configs([ConfigResource('topic', t1, set_config={'retention.ms': '7200000'})], request_timeout=10)))
e = describe(ConfigResource('topic', t1))
out('describe-after-alter', value={name: [e[name].value, e[name].is_default, e[name].source]
                                   for name in ('retention.ms', 'max.message.bytes')})
out('alter-errors', value=outcome(admin.alter_configs([
    ConfigResource('topic', t1, set_config={'retention.ms': 'x'}),
    ConfigResource('topic', prefix + '-missing', set_config={'retention.ms': '1'})], request_timeout=10)))
out('describe-missing', value=outcome(admin.describe_configs([ConfigResource('topic', prefix + '-missing')], request_timeout=10)))
e = describe(ConfigResource('broker', '0'))
out('describe-broker', value=[e['message.max.bytes'].value, e['auto.create.topics.enable'].value, e['num.partitions'].value])
out('create-partitions', value=outcome(admin.create_partitions([NewPartitions(t1, 5)], request_timeout=10)))
out('create-partitions-errors', value=outcome(admin.create_partitions([NewPartitions(t2, 1), NewPartitions(prefix + '-missing', 3)],
                                                                     request_timeout=10)))
out('partitions-after', value=sorted(admin.list_topics(topic=t1, timeout=10).topics[t1].partitions))
out('delete', value=outcome(admin.delete_topics([t1, t2], request_timeout=10)))
out('delete-missing', value=outcome(admin.delete_topics([t1], request_timeout=10)))
out('list-after-delete', value=sorted(t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)))
out('list-unknown-group', value=admin.list_groups(prefix + '-nogroup', timeout=10))
`;

const confluentConsumerScript = `
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaException, OFFSET_END
from confluent_kafka.admin import AdminClient, NewTopic
topic = prefix + '-t'
admin = AdminClient({'bootstrap.servers': bootstrap})
admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(10)
base = 1700000000000
producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 5})
def produce(i, partition, value):
    producer.produce(topic, key=b'k%d' % i, value=value, partition=partition, timestamp=base + i * 1000)
    if producer.flush(10): sys.exit('flush failed')
for i in range(10):
    producer.produce(topic, key=b'k%d' % i, value=b'v%d' % i, partition=i % 2, timestamp=base + i * 1000)
if producer.flush(10): sys.exit('flush failed')
p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
def kv(m): return [m.partition(), m.offset(), m.value().decode(), list(m.timestamp())]
def drain(c, n, timeout=10):
    got = []
    deadline = time.time() + timeout
    while len(got) < n and time.time() < deadline:
        m = c.poll(0.1)
        if m is None: continue
        if m.error(): sys.exit('consumer error: %s' % m.error())
        got.append(kv(m))
    return got
def offsets(tps): return [[tp.partition, tp.offset] for tp in tps]
group = prefix + '-manual'
conf = {'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False, 'session.timeout.ms': 6000}
c = Consumer(conf)
out('watermarks', value=[list(c.get_watermark_offsets(p0, timeout=10)), list(c.get_watermark_offsets(p1, timeout=10))])
out('offsets-for-times', value=offsets(c.offsets_for_times([TopicPartition(topic, 0, base + 3500), TopicPartition(topic, 1, base + 1000)], timeout=10)))
out('offsets-for-times-edges', value=offsets(c.offsets_for_times([TopicPartition(topic, 0, base + 99000), TopicPartition(topic, 1, -1)], timeout=10)))
c.assign([TopicPartition(topic, 0, 3), TopicPartition(topic, 1, OFFSET_END)])
out('after-assign-at', value=drain(c, 2))
out('position', value=offsets(c.position([p0, p1])))
# librdkafka looks p1's OFFSET_END up in the background, and that answer can overtake a seek issued before it
# arrived: p1 then sits at its end and after-seek reads nothing (it happened in 2 of some 20 CI runs). Let the
# lookup land first.
time.sleep(1)
c.seek(TopicPartition(topic, 1, 1))
out('after-seek', value=drain(c, 4))
out('commit', value=[[tp.partition, tp.offset, tp.error] for tp in c.commit(offsets=[TopicPartition(topic, 0, 4), TopicPartition(topic, 1, 2)], asynchronous=False)])
out('committed', value=offsets(c.committed([p0, p1], timeout=10)))
try:
    c.commit(offsets=[TopicPartition(prefix + '-missing', 0, 5)], asynchronous=False)
    out('commit-missing-topic', error=None)
except KafkaException as e:
    out('commit-missing-topic', error=e.args[0].name())
c.pause([p0])
c.seek(TopicPartition(topic, 0, 0))
c.seek(TopicPartition(topic, 1, 3))
out('while-paused', value=drain(c, 10, timeout=1.5))
c.resume([p0])
out('after-resume', value=sorted(drain(c, 5)))
c.close()
# A member that subscribes to the group starts where the commit left off.
c = Consumer(dict(conf, **{'auto.offset.reset': 'earliest'}))
c.subscribe([topic])
out('resume-from-commit', value=sorted(drain(c, 4)))
c.commit(asynchronous=False)
out('committed-after-subscribe', value=offsets(c.committed([p0, p1], timeout=10)))
(g,) = admin.list_groups(group, timeout=10)
out('list-group', state=g.state, protocol_type=g.protocol_type, protocol=g.protocol, members=len(g.members))
out('list-groups', value=sorted(x.id for x in admin.list_groups(timeout=10) if x.id.startswith(prefix)))
c.close()
(g,) = admin.list_groups(group, timeout=10)
out('list-group-after-close', state=g.state, members=len(g.members))
# auto.offset.reset=latest: nothing old is read, a record produced afterwards is.
c = Consumer(dict(conf, **{'group.id': prefix + '-latest', 'auto.offset.reset': 'latest'}))
c.subscribe([topic])
out('latest-old', value=drain(c, 1, timeout=2))
produce(10, 0, b'after-reset')
out('latest-new', value=drain(c, 1))
c.close()
c = Consumer(dict(conf, **{'group.id': prefix + '-earliest', 'auto.offset.reset': 'earliest'}))
c.subscribe([topic])
out('earliest', value=len(drain(c, 11)), position=offsets(c.position([p0, p1])))
c.close()
# Offsets stored by the application, committed by the auto-commit timer.
c = Consumer(dict(conf, **{'group.id': prefix + '-stored', 'auto.offset.reset': 'earliest', 'enable.auto.commit': True,
                           'enable.auto.offset.store': False, 'auto.commit.interval.ms': 100}))
c.assign([TopicPartition(topic, 0, 0)])
stored = []
deadline = time.time() + 10
while len(stored) < 3 and time.time() < deadline:
    m = c.poll(0.1)
    if m is None or m.error(): continue
    stored.append(m.offset())
    c.store_offsets(message=m)
committed = []
deadline = time.time() + 5
while committed != [[0, 3]] and time.time() < deadline:
    time.sleep(0.1)
    committed = offsets(c.committed([p0], timeout=10))
out('stored-offsets-committed', value=committed)
c.close()
# auto.offset.reset=error reports the out-of-range position to the application.
c = Consumer(dict(conf, **{'group.id': prefix + '-error', 'auto.offset.reset': 'error'}))
c.assign([TopicPartition(topic, 0, 50)])
error = None
deadline = time.time() + 10
while error is None and time.time() < deadline:
    m = c.poll(0.1)
    if m is not None and m.error(): error = m.error().name()
out('out-of-range', value=error)
c.close()
`;

const confluentGroupScript = `
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({'bootstrap.servers': bootstrap})
producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all'})
for strategy in ('range', 'cooperative-sticky'):
    topic = '%s-%s' % (prefix, strategy)
    admin.create_topics([NewTopic(topic, 4, 1)])[topic].result(10)
    def produce(start, end):
        for i in range(start, end):
            producer.produce(topic, value=b'v%d' % i, partition=i % 4)
        if producer.flush(10): sys.exit('flush failed')
    events = {'a': [], 'b': []}
    def member(name):
        c = Consumer({'bootstrap.servers': bootstrap, 'group.id': topic, 'auto.offset.reset': 'earliest',
                      'enable.auto.commit': False, 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500,
                      'partition.assignment.strategy': strategy})
        # An incremental rebalance may call on_assign with nothing new: only real changes are recorded.
        def on_assign(consumer, partitions):
            if partitions: events[name].append(['assign', sorted(tp.partition for tp in partitions)])
        def on_revoke(consumer, partitions):
            if partitions: events[name].append(['revoke', sorted(tp.partition for tp in partitions)])
        c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        return c
    members = {'a': member('a')}
    seen = {'a': [], 'b': []}
    # librdkafka rebalances in its own threads; one thread polling both members in turn is enough.
    def poll_until(pred, what):
        deadline = time.time() + 20
        while time.time() < deadline:
            for name, c in members.items():
                m = c.poll(0.05)
                if m is None: continue
                if m.error(): sys.exit('%s: %s' % (name, m.error()))
                seen[name].append([m.partition(), m.offset()])
                c.commit(message=m, asynchronous=False)
            if pred(): return
        out('timeout', what=what, strategy=strategy, events=events, seen=seen)
        sys.exit(1)
    def parts(name): return sorted(tp.partition for tp in members[name].assignment())
    poll_until(lambda: parts('a') == [0, 1, 2, 3], 'first member')
    members['b'] = member('b')
    poll_until(lambda: len(parts('a')) == 2 and len(parts('b')) == 2, 'split')
    a_split, b_split = parts('a'), parts('b')
    produce(0, 8)
    poll_until(lambda: len(seen['a']) + len(seen['b']) == 8, 'consume split')
    out('split', strategy=strategy, value=sorted([a_split, b_split]),
        each_read_its_own=[sorted(seen[n]) == [[p, o] for p in parts(n) for o in (0, 1)] for n in ('a', 'b')])
    members.pop('b').close()
    poll_until(lambda: parts('a') == [0, 1, 2, 3], 'rebalance after leave')
    produce(8, 12)
    poll_until(lambda: len(seen['a']) + len(seen['b']) == 12, 'consume after leave')
    if strategy == 'range':
        # Eager: every rebalance takes all partitions away first.
        expected_a = [['assign', [0, 1, 2, 3]], ['revoke', [0, 1, 2, 3]], ['assign', a_split], ['revoke', a_split], ['assign', [0, 1, 2, 3]]]
        expected_b = [['assign', b_split], ['revoke', b_split]]
    else:
        # Cooperative: a keeps its half throughout; only the moved partitions are revoked and assigned.
        expected_a = [['assign', [0, 1, 2, 3]], ['revoke', b_split], ['assign', b_split]]
        expected_b = [['assign', b_split], ['revoke', b_split]]
    out('rebalance-callbacks', strategy=strategy, a_as_expected=events['a'] == expected_a,
        b_as_expected=events['b'] == expected_b, events=events if events['a'] != expected_a or events['b'] != expected_b else None)
    out('after-leave', strategy=strategy, assignment=parts('a'), all_records=sorted(seen['a'] + seen['b']),
        committed=[tp.offset for tp in members['a'].committed([TopicPartition(topic, p) for p in range(4)], timeout=10)])
    members['a'].close()
`;

const confluentProducerScript = `
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, NewTopic
${pythonSample}
def produce(conf, topic, items):
    reports = []
    def on_delivery(err, msg):
        reports.append([None if err is None else err.name(), msg.offset()])
    full = {'bootstrap.servers': bootstrap, 'linger.ms': 20, 'message.timeout.ms': 10000}
    full.update(conf)
    p = Producer(full)
    for key, value, ts in items:
        p.produce(topic, key=key, value=value, partition=0, on_delivery=on_delivery, **({'timestamp': ts} if ts else {}))
    return reports, p.flush(15)
def read(topics, count_each, **conf):
    full = {'bootstrap.servers': bootstrap, 'group.id': prefix + '-reader', 'enable.auto.commit': False}
    full.update(conf)
    c = Consumer(full)
    c.assign([TopicPartition(t, 0, OFFSET_BEGINNING) for t in topics])
    got = {t: [] for t in topics}
    deadline = time.time() + 15
    while sum(len(v) for v in got.values()) < count_each * len(topics) and time.time() < deadline:
        m = c.poll(0.1)
        if m is None: continue
        if m.error(): sys.exit('consumer error: %s' % m.error())
        got[m.topic()].append(m)
    c.close()
    return got
def short(m):
    return [m.offset(), None if m.key() is None else m.key().decode(), None if m.value() is None else m.value().decode(),
            m.timestamp()[1]]
items = [(sample_key(i), sample_value(i), sample_timestamp(i)) for i in range(${sampleCount})]
# Every codec librdkafka has with every acks setting; the topics are auto-created by the producer.
topics = []
for codec in ('none', 'gzip', 'snappy', 'lz4', 'zstd'):
    for acks in ('0', '1', 'all'):
        topic = '%s-%s-%s' % (prefix, codec, acks)
        topics.append(topic)
        reports, left = produce({'compression.codec': codec, 'acks': acks}, topic, items)
        out('produce', topic=topic, reports=reports, left=left)
for topic, records in read(topics, ${sampleCount}).items():
    out('consume', topic=topic, records=[short(m) for m in records], types=sorted(set(m.timestamp()[0] for m in records)))
# Near the default message.max.bytes (1048588) is stored; over it the broker answers MSG_SIZE_TOO_LARGE.
topic = prefix + '-large'
big = {'message.max.bytes': 3 * 1024 * 1024, 'acks': 'all'}
out('large', value=produce(big, topic, [(None, b'a' * 1040000, None)]))
out('too-large', value=produce(big, topic, [(None, b'b' * 1100000, None)]))
out('after-too-large', value=produce(big, topic, [(None, b'small', None)]))
# A fetch limit below the record's size still returns it (the first batch always comes back whole).
records = read([topic], 2, **{'max.partition.fetch.bytes': 10000})[topic]
out('large-read', value=[[m.offset(), len(m.value())] for m in records])
# LogAppendTime: the delivery report and the consumer see the broker's append time, not the producer's.
admin = AdminClient({'bootstrap.servers': bootstrap})
topic = prefix + '-append-time'
admin.create_topics([NewTopic(topic, 1, 1, config={'message.timestamp.type': 'LogAppendTime'})])[topic].result(10)
reports = []
p = Producer({'bootstrap.servers': bootstrap, 'acks': 'all'})
before = int(time.time() * 1000)
p.produce(topic, value=b'x', timestamp=1000, headers=[('nothing', None), ('empty', b'')], partition=0,
          on_delivery=lambda err, m: reports.append([err, m.timestamp()]))
p.flush(10)
now = int(time.time() * 1000)
((err, (ts_type, ts)),) = reports
(m,) = read([topic], 1)[topic]
out('append-time', error=err, acked_type=ts_type, acked_in_range=before <= ts <= now, consumed_type=m.timestamp()[0],
    consumed_same=m.timestamp()[1] == ts, headers=[[k, None if v is None else v.decode()] for k, v in m.headers()])
`;

const regexSubscriptionScript = `
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
admin = AdminClient({'bootstrap.servers': bootstrap})
producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all'})
def create_and_fill(names):
    for f in admin.create_topics([NewTopic(prefix + n, 2 if n == '-x2' else 1, 1) for n in names]).values(): f.result(10)
    for n in names: producer.produce(prefix + n, value=n.encode(), partition=0)
    if producer.flush(10): sys.exit('flush failed')
create_and_fill(['-x1', '-x2', '-other'])
# A topic that matches the pattern and is created after the subscription joins it on the next metadata refresh.
def follow(consumer_poll, assignment, later_topic):
    got = []
    created = False
    deadline = time.time() + 20
    while len(got) < 3 and time.time() < deadline:
        got.extend(consumer_poll())
        if len(got) == 2 and not created:
            create_and_fill([later_topic])
            created = True
    return sorted(got), sorted(assignment())
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': prefix + '-ck', 'auto.offset.reset': 'earliest',
              'topic.metadata.refresh.interval.ms': 300})
c.subscribe(['^' + prefix + '-x.*'])
def ck_poll():
    m = c.poll(0.1)
    return [] if m is None or m.error() else [[m.topic(), m.value().decode()]]
got, assignment = follow(ck_poll, lambda: [[tp.topic, tp.partition] for tp in c.assignment()], '-x3')
out('confluent', records=got, assignment=assignment)
c.close()
k = KafkaConsumer(bootstrap_servers=bootstrap, group_id=prefix + '-kp', auto_offset_reset='earliest', metadata_max_age_ms=300,
                  session_timeout_ms=6000, heartbeat_interval_ms=500)
k.subscribe(pattern='^' + prefix + '-x[124]')
def kp_poll():
    return [[m.topic, m.value.decode()] for ms in k.poll(timeout_ms=100).values() for m in ms]
got, assignment = follow(kp_poll, lambda: [[tp.topic, tp.partition] for tp in k.assignment()], '-x4')
out('kafka-python', records=got, assignment=assignment)
k.close()
`;

describe('python clients in everyday use', { timeout: 300_000 }, () => {
  let broker: Broker;

  before(async () => {
    await assertPythonModule('kafka', 'python3-kafka');
    await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
    // Groups form at once instead of after Kafka's 3 s initial delay, which keeps the group tests short.
    broker = await startBroker({ args: ['--set', 'group.initial.rebalance.delay.ms=0'] });
  });

  after(async () => {
    await disposeAllBrokers();
  });

  test('kafka-python admin: topics, configs, partitions and the errors users hit', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(kafkaPythonAdminScript, broker.bootstrap, 'kpa');
    assert.deepEqual(steps, [
      { step: 'create', errors: [['kpa-t', 0]] },
      { step: 'create-existing', error: 'TopicAlreadyExistsError' },
      { step: 'create-zero-partitions', error: 'InvalidPartitionsError' },
      { step: 'create-bad-config', error: 'InvalidConfigurationError' },
      // DescribeConfigs v1 entries: [name, value, read_only, config_source, is_sensitive, synonyms], where
      // source 1 is a topic override and 5 a default; synonyms only when asked for.
      {
        step: 'describe',
        value: [
          0,
          'kpa-t',
          [
            ['cleanup.policy', 'delete', false, 5, false, []],
            ['max.message.bytes', '2000000', false, 1, false, []],
            ['retention.ms', '3600000', false, 1, false, []],
          ],
        ],
      },
      {
        step: 'describe-synonyms',
        value: [
          0,
          'kpa-t',
          [
            [
              'retention.ms',
              '3600000',
              false,
              1,
              false,
              [
                ['retention.ms', '3600000', 1],
                ['log.retention.ms', '604800000', 5],
              ],
            ],
          ],
        ],
      },
      { step: 'alter', value: [[0, 'kpa-t']] },
      {
        step: 'describe-after-alter',
        value: [
          0,
          'kpa-t',
          [
            ['max.message.bytes', '1048588', false, 5, false, []],
            ['retention.ms', '7200000', false, 1, false, []],
          ],
        ],
      },
      { step: 'describe-missing', value: [[3, 'kpa-missing']] },
      { step: 'create-partitions', errors: [['kpa-t', 0]] },
      { step: 'shrink-partitions', error: 'InvalidPartitionsError' },
      { step: 'partitions-of-missing', error: 'UnknownTopicOrPartitionError' },
      { step: 'describe-topics', error: 0, partitions: [0, 1, 2, 3], leaders: [0] },
      { step: 'list-topics', value: ['kpa-t'] },
      { step: 'delete', errors: [['kpa-t', 0]] },
      { step: 'delete-missing', error: 'UnknownTopicOrPartitionError' },
      { step: 'list-after-delete', value: [] },
      { step: 'describe-unknown-group', value: [['kpa-nogroup', 'Dead', []]] },
      { step: 'offsets-unknown-group', value: [] },
      { step: 'delete-unknown-group', value: [['kpa-nogroup', 'GroupIdNotFoundError']] },
    ]);
  });

  test('kafka-python consumer: offsets, seek, pause/resume, commits and auto.offset.reset', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(kafkaPythonConsumerScript, broker.bootstrap, 'kpc');
    const base = 1_700_000_000_000;
    // Record i went to partition i % 2 at offset floor(i / 2) with CreateTime base + i s (timestamp type 0).
    const rec = (i: number) => [i % 2, Math.floor(i / 2), `v${i}`, base + i * 1000, 0];
    assert.deepEqual(steps, [
      { step: 'partitions-for-topic', value: [0, 1] },
      {
        step: 'beginning-offsets',
        value: [
          [0, 0],
          [1, 0],
        ],
      },
      {
        step: 'end-offsets',
        value: [
          [0, 5],
          [1, 5],
        ],
      },
      {
        step: 'offsets-for-times',
        value: [
          [0, 2, base + 4000],
          [1, 0, base + 1000],
        ],
      },
      {
        step: 'offsets-for-times-edges',
        value: [
          [0, null],
          [1, [0, base + 1000]],
        ],
      },
      { step: 'position', value: [3, 5] },
      { step: 'after-seek', value: [rec(6), rec(8)] },
      { step: 'committed', value: [4, 2] },
      { step: 'paused', value: [0] },
      { step: 'poll-while-paused', value: 0 },
      { step: 'after-resume', value: [rec(0), rec(2), rec(4), rec(6), rec(8), rec(9)] },
      // Kafka stores a null commit metadata as the empty string.
      {
        step: 'group-offsets',
        value: [
          [0, 4, 'meta-p0'],
          [1, 2, ''],
        ],
      },
      { step: 'resume-from-commit', value: [rec(8), rec(5), rec(7), rec(9)], assignment: [0, 1] },
      { step: 'committed-after-subscribe', value: [5, 5] },
      { step: 'list-groups', value: [['kpc-manual', 'consumer']] },
      {
        step: 'describe-group',
        state: 'Stable',
        protocol_type: 'consumer',
        protocol: 'range',
        members: 1,
        assignment: [['kpc-t', [0, 1]]],
      },
      { step: 'describe-group-after-close', state: 'Empty', members: 0 },
      { step: 'latest-position', value: [5, 5] },
      { step: 'latest-read', value: [[0, 5, 'after-reset', base + 10_000, 0]] },
      { step: 'earliest-read', value: 11, position: [6, 5] },
      {
        step: 'auto-commit-on-close',
        value: [
          [0, 6],
          [1, 5],
        ],
      },
    ]);
  });

  test('kafka-python group: two members split four partitions and one takes all when the other leaves', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(kafkaPythonGroupScript, broker.bootstrap, 'kpg');
    const allRecords = [0, 1, 2, 3].flatMap((p) => [0, 1, 2].map((o) => [p, o]));
    assert.deepEqual(steps, [
      {
        step: 'split',
        value: [
          [0, 1],
          [2, 3],
        ],
        each_read_its_own: [true, true],
      },
      {
        step: 'describe',
        state: 'Stable',
        members: 2,
        assignments: [
          [0, 1],
          [2, 3],
        ],
      },
      { step: 'after-leave', assignment: [0, 1, 2, 3], all_records: allRecords, failures: [] },
      {
        step: 'group-offsets',
        value: [
          [0, 3],
          [1, 3],
          [2, 3],
          [3, 3],
        ],
      },
    ]);
  });

  test('kafka-python producer: codecs, acks, null keys and values, timestamps, size limits, old formats', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(kafkaPythonProducerScript, broker.bootstrap, 'kpp');
    const codecs = stepOf(steps, 'codecs').value as string[];
    // none and gzip need nothing beyond kafka-python; snappy, lz4 and zstd only when their modules exist.
    assert.deepEqual(codecs.slice(0, 2), ['none', 'gzip']);
    const topics = codecs.flatMap((codec) => ['0', '1', 'all'].map((acks) => [`kpp-${codec}-${acks}`, acks]));
    const oldTopics = ['0.9', '0.10.1', '0.11'].flatMap((v) => ['none', 'gzip'].map((c) => `kpp-v${v}-${c}`));
    const records = sampleRecords();
    assert.deepEqual(steps, [
      { step: 'codecs', value: codecs },
      // acks=0 gets no answer, so the client reports offset -1.
      ...topics.map(([topic, acks]) => ({
        step: 'produce',
        topic,
        offsets: acks === '0' ? [-1, -1, -1, -1, -1] : [0, 1, 2, 3, 4],
      })),
      ...topics.map(([topic]) => ({ step: 'consume', topic, records })),
      ...oldTopics.map((topic) => ({ step: 'produce-old', topic, offsets: [0, 1, 2, 3] })),
      // Magic 0 records carry no timestamp (-1).
      ...oldTopics.map((topic) => ({
        step: 'consume-old',
        topic,
        records: records
          .slice(0, 4)
          .map(([o, k, v, ts]) => [o, k, v, topic.startsWith('kpp-v0.9-') ? -1 : ts]),
      })),
      { step: 'large', offset: 0 },
      { step: 'too-large', error: 'MessageSizeTooLargeError' },
      { step: 'after-too-large', offset: 1 },
      {
        step: 'large-read',
        value: [
          [0, 1_040_000],
          [1, 5],
        ],
      },
      // Timestamp type 1 is LogAppendTime.
      { step: 'append-time', acked_in_range: true, consumed: [1, true] },
    ]);
  });

  test('confluent-kafka admin: topics, configs, partitions and the errors users hit', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(confluentAdminScript, broker.bootstrap, 'cka');
    // ConfigEntry.source: 1 = dynamic topic config, 5 = default.
    assert.deepEqual(steps, [
      { step: 'create', value: { 'cka-a': null, 'cka-b': null } },
      {
        step: 'create-errors',
        value: {
          'cka-a': 'TOPIC_ALREADY_EXISTS',
          'cka-zero': 'INVALID_PARTITIONS',
          'cka-conf': 'INVALID_CONFIG',
        },
      },
      { step: 'validate-only', value: { 'cka-v': null }, created: false },
      { step: 'list-topics', value: { 'cka-a': [0, 1, 2], 'cka-b': [0] }, brokers: 1, leaders: [0] },
      { step: 'list-topic-auto-created', partitions: [0], error: null },
      {
        step: 'describe',
        value: {
          'retention.ms': ['3600000', false, 1],
          'max.message.bytes': ['2000000', false, 1],
          'cleanup.policy': ['delete', true, 5],
        },
      },
      { step: 'alter', value: { 'cka-a': null } },
      {
        step: 'describe-after-alter',
        value: { 'retention.ms': ['7200000', false, 1], 'max.message.bytes': ['1048588', true, 5] },
      },
      { step: 'alter-errors', value: { 'cka-a': 'INVALID_CONFIG', 'cka-missing': 'UNKNOWN_TOPIC_OR_PART' } },
      { step: 'describe-missing', value: { 'cka-missing': 'UNKNOWN_TOPIC_OR_PART' } },
      { step: 'describe-broker', value: ['1048588', 'true', '1'] },
      { step: 'create-partitions', value: { 'cka-a': null } },
      {
        step: 'create-partitions-errors',
        value: { 'cka-b': 'INVALID_PARTITIONS', 'cka-missing': 'UNKNOWN_TOPIC_OR_PART' },
      },
      { step: 'partitions-after', value: [0, 1, 2, 3, 4] },
      { step: 'delete', value: { 'cka-a': null, 'cka-b': null } },
      { step: 'delete-missing', value: { 'cka-a': 'UNKNOWN_TOPIC_OR_PART' } },
      { step: 'list-after-delete', value: ['cka-auto'] },
      { step: 'list-unknown-group', value: [] },
    ]);
  });

  test('confluent-kafka consumer: watermarks, offsets_for_times, seek, pause/resume, commits, resets', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(confluentConsumerScript, broker.bootstrap, 'ckc');
    const base = 1_700_000_000_000;
    // Record i went to partition i % 2 at offset floor(i / 2); timestamp type 1 is CreateTime in librdkafka.
    const rec = (i: number) => [i % 2, Math.floor(i / 2), `v${i}`, [1, base + i * 1000]];
    const pairs = (...values: number[][]) => values;
    assert.deepEqual(steps, [
      { step: 'watermarks', value: pairs([0, 5], [0, 5]) },
      { step: 'offsets-for-times', value: pairs([0, 2], [1, 0]) },
      // Past the last timestamp: -1 (the end); timestamp -1 asks for the end offset.
      { step: 'offsets-for-times-edges', value: pairs([0, -1], [1, 5]) },
      { step: 'after-assign-at', value: [rec(6), rec(8)] },
      // position() is the next offset after the last consumed message; -1001 (invalid) before any.
      { step: 'position', value: pairs([0, 5], [1, -1001]) },
      { step: 'after-seek', value: [rec(3), rec(5), rec(7), rec(9)] },
      {
        step: 'commit',
        value: [
          [0, 4, null],
          [1, 2, null],
        ],
      },
      { step: 'committed', value: pairs([0, 4], [1, 2]) },
      { step: 'commit-missing-topic', error: 'UNKNOWN_TOPIC_OR_PART' },
      { step: 'while-paused', value: [rec(7), rec(9)] },
      { step: 'after-resume', value: [rec(0), rec(2), rec(4), rec(6), rec(8)] },
      { step: 'resume-from-commit', value: [rec(8), rec(5), rec(7), rec(9)] },
      { step: 'committed-after-subscribe', value: pairs([0, 5], [1, 5]) },
      { step: 'list-group', state: 'Stable', protocol_type: 'consumer', protocol: 'range', members: 1 },
      { step: 'list-groups', value: ['ckc-manual'] },
      { step: 'list-group-after-close', state: 'Empty', members: 0 },
      { step: 'latest-old', value: [] },
      { step: 'latest-new', value: [[0, 5, 'after-reset', [1, base + 10_000]]] },
      { step: 'earliest', value: 11, position: pairs([0, 6], [1, 5]) },
      { step: 'stored-offsets-committed', value: pairs([0, 3]) },
      { step: 'out-of-range', value: '_AUTO_OFFSET_RESET' },
    ]);
  });

  test('confluent-kafka group: range and cooperative-sticky members split partitions and rebalance on leave', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(confluentGroupScript, broker.bootstrap, 'ckg');
    const allRecords = [0, 1, 2, 3].flatMap((p) => [0, 1, 2].map((o) => [p, o]));
    const expected = (strategy: string, split: number[][]) => [
      { step: 'split', strategy, value: split, each_read_its_own: [true, true] },
      { step: 'rebalance-callbacks', strategy, a_as_expected: true, b_as_expected: true, events: null },
      {
        step: 'after-leave',
        strategy,
        assignment: [0, 1, 2, 3],
        all_records: allRecords,
        committed: [3, 3, 3, 3],
      },
    ];
    // The sticky assignor may hand either half to either member; only its shape is fixed.
    const stickySplit = stepOf(
      steps.filter((s) => s.strategy === 'cooperative-sticky'),
      'split',
    ).value as number[][];
    assert.deepEqual(stickySplit.flat().sort(), [0, 1, 2, 3]);
    assert.deepEqual(
      stickySplit.map((half) => half.length),
      [2, 2],
    );
    assert.deepEqual(steps, [
      ...expected('range', [
        [0, 1],
        [2, 3],
      ]),
      ...expected('cooperative-sticky', stickySplit),
    ]);
  });

  test('confluent-kafka producer: codecs, acks, null keys and values, timestamps, size limits', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(confluentProducerScript, broker.bootstrap, 'ckp');
    const topics = ['none', 'gzip', 'snappy', 'lz4', 'zstd'].flatMap((codec) =>
      ['0', '1', 'all'].map((acks) => [`ckp-${codec}-${acks}`, acks]),
    );
    const records = sampleRecords();
    assert.deepEqual(steps, [
      // acks=0 gets no answer: the delivery report has no offset (-1001 in librdkafka, None in Python).
      ...topics.map(([topic, acks]) => ({
        step: 'produce',
        topic,
        reports: records.map(([offset]) => [null, acks === '0' ? null : offset]),
        left: 0,
      })),
      // Timestamp type 1 is CreateTime.
      ...topics.map(([topic]) => ({ step: 'consume', topic, records, types: [1] })),
      { step: 'large', value: [[[null, 0]], 0] },
      { step: 'too-large', value: [[['MSG_SIZE_TOO_LARGE', null]], 0] },
      { step: 'after-too-large', value: [[[null, 1]], 0] },
      {
        step: 'large-read',
        value: [
          [0, 1_040_000],
          [1, 5],
        ],
      },
      // Timestamp type 2 is LogAppendTime.
      {
        step: 'append-time',
        error: null,
        acked_type: 2,
        acked_in_range: true,
        consumed_type: 2,
        consumed_same: true,
        headers: [
          ['nothing', null],
          ['empty', ''],
        ],
      },
    ]);
  });

  test('regex subscriptions of both clients pick up matching topics, including one created later', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runScript(regexSubscriptionScript, broker.bootstrap, 'rx');
    const parts = (...names: string[]) =>
      names.flatMap((n) =>
        n === '-x2'
          ? [
              ['rx-x2', 0],
              ['rx-x2', 1],
            ]
          : [[`rx${n}`, 0]],
      );
    assert.deepEqual(steps, [
      {
        step: 'confluent',
        records: [
          ['rx-x1', '-x1'],
          ['rx-x2', '-x2'],
          ['rx-x3', '-x3'],
        ],
        assignment: parts('-x1', '-x2', '-x3'),
      },
      {
        step: 'kafka-python',
        records: [
          ['rx-x1', '-x1'],
          ['rx-x2', '-x2'],
          ['rx-x4', '-x4'],
        ],
        assignment: parts('-x1', '-x2', '-x4'),
      },
    ]);
  });
});
