// What admin tools ask a broker beyond topics and groups: the log directories and partition sizes
// (DescribeLogDirs, as kafka-log-dirs.sh and UIs such as AKHQ, kafka-ui or Redpanda Console show them) and ACLs,
// which a broker without an authorizer refuses with SECURITY_DISABLED. Driven through the clients' own admin
// calls against a real Sluice process: @platformatic/kafka (DescribeLogDirs v4 and the ACL APIs at v3),
// kafka-python 2.0.2 (ACL APIs at v1) and kafkajs 2.2.4 (ACL APIs at v1).
//
// Of the installed clients only @platformatic/kafka has a DescribeLogDirs call: kafka-python gained
// describe_log_dirs after 2.0.2, confluent-kafka 1.7 and kafkajs have none, nor has Debian's sarama 1.22.1.
// confluent-kafka 1.7 has no ACL calls either (they came in 1.9).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Admin as KafkajsAdmin } from 'kafkajs';
import kafkajs from 'kafkajs';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka } from '../helpers/kafka.js';
import { loadPlatformatic } from '../helpers/platformatic.js';
import { assertPythonModule, runPythonSteps } from '../helpers/python.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const platformatic = await loadPlatformatic();
const { Admin } = platformatic;

const testTimeoutMs = 20_000;
const TOPIC = 'admin-tools-t';
const RECORDS = 5;

const kafkaPythonAclScript = `
from kafka import KafkaAdminClient
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern,
    ResourcePatternFilter, ResourceType)
from kafka.errors import KafkaError
admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
topic = prefix + '-t'
acl_filter = ACLFilter(principal=None, host='*', operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
    resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, topic, ACLResourcePatternType.LITERAL))
try:
    admin.describe_acls(acl_filter)
    out('describe', error=None)
except KafkaError as e:
    out('describe', error=type(e).__name__, errno=e.errno)
acl = ACL(principal='User:alice', host='*', operation=ACLOperation.READ, permission_type=ACLPermissionType.ALLOW,
    resource_pattern=ResourcePattern(ResourceType.TOPIC, topic, ACLResourcePatternType.LITERAL))
r = admin.create_acls([acl])
out('create', succeeded=len(r['succeeded']), failed=[[a.principal, e.__name__] for a, e in r['failed']])
r = admin.delete_acls([acl_filter])
out('delete', value=[[f.resource_pattern.resource_name, matched, e.__name__] for f, matched, e in r])
admin.close()
`;

describe('admin tools', { timeout: 60_000 }, () => {
  let broker: Broker;

  before(async () => {
    await assertPythonModule('kafka', 'python3-kafka');
    broker = await startBroker();
    const kafka = createKafka(broker.bootstrap);
    const admin = kafka.admin();
    const producer = kafka.producer();
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({
        topic: TOPIC,
        messages: Array.from({ length: RECORDS }, (_, i) => ({ partition: 0, value: `value-${i}` })),
      });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  after(async () => {
    await disposeAllBrokers();
  });

  test('@platformatic/kafka describeLogDirs: the data dir, its file system, and the size of each partition', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = new Admin({
      clientId: 'admin-tools',
      bootstrapBrokers: [broker.bootstrap],
      retries: 2,
      retryDelay: 100,
    });
    try {
      const described = await admin.describeLogDirs({
        topics: [
          { name: TOPIC, partitions: [0, 1, 7] },
          { name: 'admin-tools-missing', partitions: [0] },
        ],
      });
      assert.equal(described.length, 1);
      const [{ broker: nodeId, throttleTimeMs, results }] = described as [(typeof described)[number]];
      assert.deepEqual([nodeId, throttleTimeMs, results.length], [0, 0, 1]);
      const [result] = results as [(typeof results)[number]];
      assert.equal(result.logDir, broker.dataDir);
      assert.ok(
        result.totalBytes > 0n && result.usableBytes > 0n,
        `${result.totalBytes} ${result.usableBytes}`,
      );
      assert.ok(result.usableBytes <= result.totalBytes);
      assert.equal(result.topics.length, 1);
      const [topic] = result.topics as [(typeof result.topics)[number]];
      assert.equal(topic.name, TOPIC);
      const [written, empty] = topic.partitions as [
        (typeof topic.partitions)[number],
        (typeof topic.partitions)[number],
      ];
      assert.equal(topic.partitions.length, 2);
      // One batch of five small records: more than its 61-byte header, less than a kilobyte.
      assert.ok(written.partitionSize > 61n && written.partitionSize < 1024n, `${written.partitionSize}`);
      assert.deepEqual(
        { ...written, partitionSize: 0n },
        { partitionIndex: 0, partitionSize: 0n, offsetLag: 0n, isFutureKey: false },
      );
      assert.deepEqual(empty, { partitionIndex: 1, partitionSize: 0n, offsetLag: 0n, isFutureKey: false });
    } finally {
      await admin.close();
    }
  });

  test("@platformatic/kafka describeAcls, createAcls and deleteAcls fail with SECURITY_DISABLED and Kafka's messages", {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = new Admin({
      clientId: 'admin-tools',
      bootstrapBrokers: [broker.bootstrap],
      retries: 2,
      retryDelay: 100,
    });
    const { ResourceTypes, ResourcePatternTypes, AclOperations, AclPermissionTypes } = platformatic;
    const filter = {
      resourceType: ResourceTypes.TOPIC,
      resourceName: null,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal: null,
      host: null,
      operation: AclOperations.ANY,
      permissionType: AclPermissionTypes.ANY,
    };
    const acl = {
      resourceType: ResourceTypes.TOPIC,
      resourceName: TOPIC,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: 'User:alice',
      host: '*',
      operation: AclOperations.READ,
      permissionType: AclPermissionTypes.ALLOW,
    };
    const disabled = (serverErrorMessage: string) => [['SECURITY_DISABLED', 54, serverErrorMessage]];
    try {
      assert.deepEqual(
        await protocolErrorsOf(admin.describeAcls({ filter })),
        disabled('No Authorizer is configured on the broker'),
      );
      assert.deepEqual(
        await protocolErrorsOf(admin.createAcls({ creations: [acl] })),
        disabled('No Authorizer is configured.'),
      );
      assert.deepEqual(
        await protocolErrorsOf(admin.deleteAcls({ filters: [filter] })),
        disabled('No Authorizer is configured.'),
      );
    } finally {
      await admin.close();
    }
  });

  test('kafka-python describe_acls raises SecurityDisabledError; create_acls and delete_acls report it per entry', {
    timeout: testTimeoutMs,
  }, async () => {
    const steps = await runPythonSteps(kafkaPythonAclScript, {
      bootstrap: broker.bootstrap,
      prefix: 'kpacl',
      timeoutMs: testTimeoutMs - 2_000,
    });
    assert.deepEqual(steps, [
      { step: 'describe', error: 'SecurityDisabledError', errno: 54 },
      { step: 'create', succeeded: 0, failed: [['User:alice', 'SecurityDisabledError']] },
      { step: 'delete', value: [['kpacl-t', [], 'SecurityDisabledError']] },
    ]);
  });

  test('kafkajs describeAcls, createAcls and deleteAcls reject with the protocol error SECURITY_DISABLED', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin: KafkajsAdmin = createKafka(broker.bootstrap).admin();
    await admin.connect();
    try {
      const securityDisabled = {
        name: 'KafkaJSProtocolError',
        type: 'SECURITY_DISABLED',
        code: 54,
        retriable: false,
        // kafkajs names the error itself; the broker's message is not passed on.
        message: 'Security features are disabled',
      };
      const entry = {
        resourceType: AclResourceTypes.TOPIC,
        resourceName: TOPIC,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: 'User:alice',
        host: '*',
        operation: AclOperationTypes.READ,
        permissionType: AclPermissionTypes.ALLOW,
      };
      await assert.rejects(
        admin.describeAcls({
          ...entry,
          resourcePatternType: ResourcePatternTypes.ANY,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        }),
        securityDisabled,
      );
      await assert.rejects(admin.createAcls({ acl: [entry] }), securityDisabled);
      await assert.rejects(admin.deleteAcls({ filters: [entry] }), securityDisabled);
    } finally {
      await admin.disconnect();
    }
  });
});

/**
 * [apiId, apiCode, serverErrorMessage] of each Kafka error code that a failed @platformatic/kafka call carries,
 * however deeply it wraps them (one aggregate per broker, one per response).
 */
async function protocolErrorsOf(call: Promise<unknown>): Promise<unknown[][]> {
  const found: unknown[][] = [];
  const visit = (error: unknown) => {
    if (!(error instanceof Error)) return;
    const fields = error as Error & {
      code?: unknown;
      apiId?: unknown;
      apiCode?: unknown;
      serverErrorMessage?: unknown;
    };
    if (fields.code === 'PLT_KFK_PROTOCOL') {
      found.push([fields.apiId, fields.apiCode, fields.serverErrorMessage]);
    }
    if ('errors' in error && Array.isArray(error.errors)) error.errors.forEach(visit);
  };
  await assert.rejects(call, (error: unknown) => {
    visit(error);
    return true;
  });
  return found;
}
