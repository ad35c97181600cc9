// ACLs against a real Sluice process (StandardAuthorizer, super user admin, SASL/PLAIN logins), through every
// client CI has: the admin clients manage ACLs exactly as against Kafka (LITERAL and PREFIXED bindings,
// filters, the exact describe and delete results) and refuse a user who may not; producers, consumers and
// admin calls of alice and bob get Kafka's authorization errors where their ACLs say no, as the client
// reports them to its user, and work once the ACLs say yes; the ACLs survive a restart. The authorized-operation
// bit fields, which no CI client asks for, are checked on the wire. One broker for the file: each case uses its
// own topics, groups and transactional ids, and the ACL administration cases use principals nobody logs in as.
// The enforcement cases run in order and build on alice's grants so far (the Metadata case relies on that).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Acl as PlatformaticAcl } from '@platformatic/kafka';
import type { AclEntry, AclFilter, Admin, Consumer, Kafka } from 'kafkajs';
import kafkajs from 'kafkajs';
import { DescribeClusterApi } from '../../src/protocol/generated/describe-cluster.js';
import { MetadataApi } from '../../src/protocol/generated/metadata.js';
import { SaslAuthenticateApi } from '../../src/protocol/generated/sasl-authenticate.js';
import { SaslHandshakeApi } from '../../src/protocol/generated/sasl-handshake.js';
import { ZERO_UUID } from '../../src/protocol/primitives/uuid.js';
import { type Broker, disposeAllBrokers, makeTempDir, startBroker } from '../helpers/broker.js';
import { kafkaErrorTypes } from '../helpers/errors.js';
import { createKafka } from '../helpers/kafka.js';
import { loadPlatformatic } from '../helpers/platformatic.js';
import { type ProgramResult, runProgram, runProgramOk } from '../helpers/process.js';
import { assertPythonModule, PYTHON } from '../helpers/python.js';
import { goMissingReason } from '../helpers/sarama.js';
import { plainToken, RawSaslConnection } from '../helpers/sasl-wire.js';
import {
  buildSaramaSecurityProgram,
  describeErrorChain,
  jsonLines,
  kcatSecurity,
  saramaSteps,
} from '../helpers/secure-clients.js';
import { waitFor } from '../helpers/wait.js';

const {
  AclResourceTypes: Resource,
  AclOperationTypes: Operation,
  AclPermissionTypes: Permission,
  ResourcePatternTypes: Pattern,
} = kafkajs;

const platformatic = await loadPlatformatic();

const testTimeoutMs = 30_000;
const programTimeoutMs = 20_000;

const users = {
  admin: { username: 'admin', password: 'admin-secret' },
  alice: { username: 'alice', password: 'alice-secret' },
  bob: { username: 'bob', password: 'bob-secret' },
};
type UserName = keyof typeof users;

const brokerArgs = [
  '--listen',
  'SASL_PLAINTEXT://127.0.0.1:0',
  '--set',
  'sasl.users=admin:admin-secret,alice:alice-secret,bob:bob-secret',
  '--set',
  'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  '--set',
  'super.users=User:admin',
  // Consumers of one group join alone here: no reason to wait for more members.
  '--set',
  'group.initial.rebalance.delay.ms=0',
];

/** alice's standing grant for the enforcement cases: WRITE on every topic named orders-*. */
const ORDERS_PREFIX = 'orders-';

const TOPIC_AUTHORIZATION_FAILED = 29;
const GROUP_AUTHORIZATION_FAILED = 30;
const CLUSTER_AUTHORIZATION_FAILED = 31;
/** The message Sluice puts in ACL API responses refused for lack of a cluster permission. */
const clusterAuthorizationMessage = 'Cluster authorization failed.';

const saramaSkipReason = await goMissingReason();

/** An ACL as kafkajs takes it; host * and ALLOW unless given. */
function acl(
  resourceType: number,
  resourceName: string,
  principal: string,
  operation: number,
  options: { pattern?: number; permission?: number; host?: string } = {},
): AclEntry {
  return {
    resourceType,
    resourceName,
    resourcePatternType: options.pattern ?? Pattern.LITERAL,
    principal,
    host: options.host ?? '*',
    operation,
    permissionType: options.permission ?? Permission.ALLOW,
  };
}

/** A kafkajs filter matching the topic ACLs of `resourceName` by `pattern` (LITERAL, PREFIXED or MATCH). */
function topicFilter(resourceName: string, pattern: number): AclFilter {
  return {
    resourceType: Resource.TOPIC,
    resourceName,
    resourcePatternType: pattern,
    operation: Operation.ANY,
    permissionType: Permission.ANY,
  };
}

/** A kafkajs filter matching every ACL of one principal. */
function principalFilter(principal: string): AclFilter {
  return {
    resourceType: Resource.ANY,
    resourcePatternType: Pattern.ANY,
    principal,
    operation: Operation.ANY,
    permissionType: Permission.ANY,
  };
}

const everyAcl: AclFilter = {
  resourceType: Resource.ANY,
  resourcePatternType: Pattern.ANY,
  operation: Operation.ANY,
  permissionType: Permission.ANY,
};

/** One consumed record: partition, offset, key, value. */
type Seen = [number, number, string | null, string | null];

const byPartitionThenOffset = (a: Seen, b: Seen) => a[0] - b[0] || a[1] - b[1];

/** Records k<i>/<prefix>-v<i> on partition i % 2, as the producers below write them. */
function expectedRecords(prefix: string, count: number): Seen[] {
  const records: Seen[] = [];
  for (let i = 0; i < count; i++) records.push([i % 2, Math.floor(i / 2), `k${i}`, `${prefix}-v${i}`]);
  return records.sort(byPartitionThenOffset);
}

/** For assert.rejects: the failure carries Kafka errors of one type, `type`, and no other. */
function refusedWith(type: string): (err: unknown) => true {
  return (err) => {
    assert.deepEqual([...new Set(kafkaErrorTypes(err))], [type]);
    return true;
  };
}

/**
 * Subscribes a kafkajs consumer to `topic` and runs it until it has `count` records or crashes for good
 * (kafkajs reports group and fetch failures as crash events, not through run()'s promise).
 */
async function consumeOrCrash(
  consumer: Consumer,
  topic: string,
  count: number,
  timeoutMs = 10_000,
): Promise<{ records: Seen[]; crash: Error | null }> {
  const records: Seen[] = [];
  let removeCrashListener = () => {};
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`consuming ${topic}: ${records.length} of ${count} records in ${timeoutMs} ms`)),
        timeoutMs,
      );
      removeCrashListener = consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return;
        clearTimeout(timer);
        resolve({ records, crash: payload.error });
      });
      consumer
        .subscribe({ topics: [topic], fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              records.push([
                partition,
                Number(message.offset),
                message.key === null ? null : message.key.toString(),
                message.value === null ? null : message.value.toString(),
              ]);
              if (records.length === count) {
                clearTimeout(timer);
                resolve({ records: records.sort(byPartitionThenOffset), crash: null });
              }
            },
          }),
        )
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  } finally {
    removeCrashListener();
  }
}

describe('ACL interop', { timeout: 240_000 }, () => {
  let broker: Broker;
  let admin: Admin;
  let workDir: string;
  let saramaProgram: Promise<string> | undefined;

  const kafkaAs = (user: UserName, retries = 1): Kafka =>
    createKafka(broker.bootstrap, {
      sasl: { mechanism: 'plain', ...users[user] },
      retry: { retries, initialRetryTime: 100, maxRetryTime: 500 },
    });

  const grant = async (...acls: AclEntry[]) => {
    assert.equal(await admin.createAcls({ acl: acls }), true, 'ACLs created');
  };

  const createTopics = async (...topics: string[]) => {
    assert.equal(
      await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 2 })) }),
      true,
      `created ${topics.join(', ')}`,
    );
  };

  const connectAdmin = async () => {
    admin = kafkaAs('admin', 3).admin();
    await admin.connect();
  };

  const kcatAuth = (user: UserName) =>
    kcatSecurity({ protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', ...users[user] } });
  const kcat = (user: UserName, args: string[], input = ''): Promise<ProgramResult> =>
    runProgram('kcat', ['-b', broker.bootstrap, '-m', '5', ...kcatAuth(user), ...args], {
      input,
      timeoutMs: programTimeoutMs,
    });

  before(async () => {
    workDir = await makeTempDir('sluice-acls-');
    if (saramaSkipReason === undefined) {
      // Built in the background while the other clients run; the sarama case waits for it.
      saramaProgram = buildSaramaSecurityProgram(workDir);
    }
    broker = await startBroker({ args: brokerArgs });
    await connectAdmin();
  });

  after(async () => {
    await admin?.disconnect().catch(() => {});
    await saramaProgram?.catch(() => {});
    await disposeAllBrokers();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  describe('ACL administration', () => {
    test('kafkajs: createAcls LITERAL and PREFIXED, describeAcls with exact results per filter, deleteAcls', {
      timeout: testTimeoutMs,
    }, async () => {
      const principal = 'User:kjs-admin';
      const literalRead = acl(Resource.TOPIC, 'kjs-literal', principal, Operation.READ);
      const prefixedWrite = acl(Resource.TOPIC, 'kjs-prefix-', principal, Operation.WRITE, {
        pattern: Pattern.PREFIXED,
      });
      const groupDeny = acl(Resource.GROUP, 'kjs-group', principal, Operation.DESCRIBE, {
        permission: Permission.DENY,
        host: '10.0.0.1',
      });
      const clusterIdempotent = acl(Resource.CLUSTER, 'kafka-cluster', principal, Operation.IDEMPOTENT_WRITE);
      // The same binding twice in one request and again later: Kafka stores it once.
      assert.equal(
        await admin.createAcls({
          acl: [literalRead, prefixedWrite, literalRead, groupDeny, clusterIdempotent],
        }),
        true,
      );
      assert.equal(await admin.createAcls({ acl: [prefixedWrite] }), true);

      const resource = (entry: AclEntry) => ({
        resourceType: entry.resourceType,
        resourceName: entry.resourceName,
        resourcePatternType: entry.resourcePatternType,
        acls: [
          {
            principal: entry.principal,
            host: entry.host,
            operation: entry.operation,
            permissionType: entry.permissionType,
          },
        ],
      });
      const sortResources = (resources: Array<{ resourceType: number; resourceName: string }>) =>
        [...resources].sort(
          (a, b) => a.resourceType - b.resourceType || a.resourceName.localeCompare(b.resourceName),
        );

      const all = await admin.describeAcls(principalFilter(principal));
      assert.deepEqual(
        sortResources(all.resources),
        sortResources([literalRead, prefixedWrite, groupDeny, clusterIdempotent].map(resource)),
      );
      // MATCH: the bindings that apply to a topic named kjs-prefix-orders (the prefixed one), not the literal.
      assert.deepEqual(await admin.describeAcls(topicFilter('kjs-prefix-orders', Pattern.MATCH)), {
        resources: [resource(prefixedWrite)],
      });
      // LITERAL with a name: exactly that binding; PREFIXED with the literal's name: nothing.
      assert.deepEqual(await admin.describeAcls(topicFilter('kjs-literal', Pattern.LITERAL)), {
        resources: [resource(literalRead)],
      });
      assert.deepEqual(await admin.describeAcls(topicFilter('kjs-literal', Pattern.PREFIXED)), {
        resources: [],
      });
      // Operation, permission and host filters.
      assert.deepEqual(
        await admin.describeAcls({
          ...principalFilter(principal),
          permissionType: Permission.DENY,
          host: '10.0.0.1',
        }),
        { resources: [resource(groupDeny)] },
      );
      assert.deepEqual(
        await admin.describeAcls({ ...principalFilter(principal), operation: Operation.IDEMPOTENT_WRITE }),
        { resources: [resource(clusterIdempotent)] },
      );

      // Delete the topic ACLs of the principal (both pattern types) plus a filter that matches nothing.
      const deleted = await admin.deleteAcls({
        filters: [
          { ...principalFilter(principal), resourceType: Resource.TOPIC },
          { ...principalFilter('User:nobody') },
        ],
      });
      const matching = (entry: AclEntry) => ({ errorCode: 0, errorMessage: null, ...entry });
      assert.deepEqual(
        {
          ...deleted,
          filterResponses: deleted.filterResponses.map((f) => ({
            ...f,
            matchingAcls: [...f.matchingAcls].sort((a, b) => a.resourceName.localeCompare(b.resourceName)),
          })),
        },
        {
          filterResponses: [
            {
              errorCode: 0,
              errorMessage: null,
              matchingAcls: [matching(literalRead), matching(prefixedWrite)],
            },
            { errorCode: 0, errorMessage: null, matchingAcls: [] },
          ],
        },
      );
      assert.deepEqual(
        sortResources((await admin.describeAcls(principalFilter(principal))).resources),
        sortResources([groupDeny, clusterIdempotent].map(resource)),
      );
      await admin.deleteAcls({ filters: [principalFilter(principal)] });
      assert.deepEqual(await admin.describeAcls(principalFilter(principal)), { resources: [] });
    });

    test('kafkajs: a user who is not a super user gets CLUSTER_AUTHORIZATION_FAILED from create, describe and delete', {
      timeout: testTimeoutMs,
    }, async () => {
      const aliceAdmin = kafkaAs('alice').admin();
      await aliceAdmin.connect();
      try {
        const refused = (err: unknown) => {
          assert.equal((err as Error).name, 'KafkaJSProtocolError');
          assert.equal((err as { type?: string }).type, 'CLUSTER_AUTHORIZATION_FAILED');
          return true;
        };
        await assert.rejects(
          aliceAdmin.createAcls({
            acl: [acl(Resource.CLUSTER, 'kafka-cluster', 'User:alice', Operation.ALL)],
          }),
          refused,
        );
        await assert.rejects(aliceAdmin.describeAcls(everyAcl), refused);
        await assert.rejects(aliceAdmin.deleteAcls({ filters: [everyAcl] }), refused);
      } finally {
        await aliceAdmin.disconnect();
      }
      assert.deepEqual(await admin.describeAcls(principalFilter('User:alice')), { resources: [] });
    });

    test('kafka-python 2.0.2: create_acls, describe_acls (principal and MATCH filters), delete_acls; alice refused', {
      timeout: testTimeoutMs,
    }, async () => {
      await assertPythonModule('kafka', 'python3-kafka');
      const script = `
import json, sys
from kafka.admin import (KafkaAdminClient, ACL, ACLFilter, ACLOperation, ACLPermissionType, ResourcePattern,
                         ResourcePatternFilter, ResourceType, ACLResourcePatternType)
bootstrap = sys.argv[1]
def out(step, **fields):
    print(json.dumps(dict(step=step, **fields), sort_keys=True), flush=True)
def client(user, password):
    return KafkaAdminClient(bootstrap_servers=bootstrap, security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN',
                            sasl_plain_username=user, sasl_plain_password=password, request_timeout_ms=10000,
                            api_version_auto_timeout_ms=5000)
def show(acl):
    p = acl.resource_pattern
    return [p.resource_type.name, p.resource_name, p.pattern_type.name, acl.principal, acl.host,
            acl.operation.name, acl.permission_type.name]
def principal_filter(principal, resource_type=ResourceType.ANY):
    return ACLFilter(principal, None, ACLOperation.ANY, ACLPermissionType.ANY,
                     ResourcePatternFilter(resource_type, None, ACLResourcePatternType.ANY))
admin = client('admin', 'admin-secret')
acls = [ACL('User:kp', '*', ACLOperation.READ, ACLPermissionType.ALLOW,
            ResourcePattern(ResourceType.TOPIC, 'kp-literal', ACLResourcePatternType.LITERAL)),
        ACL('User:kp', '*', ACLOperation.WRITE, ACLPermissionType.DENY,
            ResourcePattern(ResourceType.TOPIC, 'kp-prefix-', ACLResourcePatternType.PREFIXED)),
        ACL('User:kp', '127.0.0.1', ACLOperation.READ, ACLPermissionType.ALLOW,
            ResourcePattern(ResourceType.GROUP, 'kp-group', ACLResourcePatternType.LITERAL))]
result = admin.create_acls(acls)
out('create', succeeded=[show(a) for a in result['succeeded']], failed=[[show(a), e.__name__] for a, e in result['failed']])
found, error = admin.describe_acls(principal_filter('User:kp'))
out('describe', acls=sorted(show(a) for a in found), error=error.__name__)
found, error = admin.describe_acls(ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                                             ResourcePatternFilter(ResourceType.TOPIC, 'kp-prefix-abc', ACLResourcePatternType.MATCH)))
out('describe-match', acls=[show(a) for a in found], error=error.__name__)
results = admin.delete_acls([principal_filter('User:kp', ResourceType.TOPIC)])
out('delete', results=[[sorted([show(a), e.__name__] for a, e in matched), error.__name__] for _f, matched, error in results])
found, error = admin.describe_acls(principal_filter('User:kp'))
out('describe-after-delete', acls=[show(a) for a in found], error=error.__name__)
admin.delete_acls([principal_filter('User:kp')])
alice = client('alice', 'alice-secret')
result = alice.create_acls([ACL('User:alice', '*', ACLOperation.ALL, ACLPermissionType.ALLOW,
                                ResourcePattern(ResourceType.CLUSTER, 'kafka-cluster', ACLResourcePatternType.LITERAL))])
out('alice-create', succeeded=len(result['succeeded']), failed=[e.__name__ for _a, e in result['failed']])
try:
    alice.describe_acls(principal_filter(None))
    out('alice-describe', error=None)
except Exception as e:
    out('alice-describe', error=type(e).__name__)
results = alice.delete_acls([principal_filter(None)])
out('alice-delete', results=[[len(matched), error.__name__] for _f, matched, error in results])
admin.close()
alice.close()
`;
      const { stdout } = await runProgramOk(PYTHON, ['-c', script, broker.bootstrap], {
        timeoutMs: programTimeoutMs,
      });
      const literal = ['TOPIC', 'kp-literal', 'LITERAL', 'User:kp', '*', 'READ', 'ALLOW'];
      const prefixed = ['TOPIC', 'kp-prefix-', 'PREFIXED', 'User:kp', '*', 'WRITE', 'DENY'];
      const group = ['GROUP', 'kp-group', 'LITERAL', 'User:kp', '127.0.0.1', 'READ', 'ALLOW'];
      assert.deepEqual(jsonLines(stdout), [
        { step: 'create', succeeded: [literal, prefixed, group], failed: [] },
        { step: 'describe', acls: [group, literal, prefixed], error: 'NoError' },
        { step: 'describe-match', acls: [prefixed], error: 'NoError' },
        {
          step: 'delete',
          results: [
            [
              [
                [literal, 'NoError'],
                [prefixed, 'NoError'],
              ],
              'NoError',
            ],
          ],
        },
        { step: 'describe-after-delete', acls: [group], error: 'NoError' },
        { step: 'alice-create', succeeded: 0, failed: ['ClusterAuthorizationFailedError'] },
        { step: 'alice-describe', error: 'ClusterAuthorizationFailedError' },
        { step: 'alice-delete', results: [[0, 'ClusterAuthorizationFailedError']] },
      ]);
      assert.deepEqual(await admin.describeAcls(principalFilter('User:kp')), { resources: [] });
    });

    test('sarama 1.22.1 ClusterAdmin: CreateACL, ListAcls, DeleteACL (v0, LITERAL); alice refused with 31', {
      timeout: 150_000,
      skip: saramaSkipReason ?? false,
    }, async () => {
      const sarama = (args: string[]) => saramaSteps(saramaProgram, args, true);
      const principal = 'User:sarama-admin';
      // A PREFIXED binding of the same principal: v0 filters are LITERAL, so sarama neither lists nor deletes it.
      const prefixed = acl(Resource.TOPIC, 'sarama-acl-', principal, Operation.WRITE, {
        pattern: Pattern.PREFIXED,
      });
      await grant(prefixed);
      const login = (user: UserName) => [
        '-bootstrap',
        broker.bootstrap,
        '-user',
        users[user].username,
        '-password',
        users[user].password,
        '-prefix',
        'sarama-acl',
        '-principal',
        principal,
      ];
      // Codes: TOPIC 2, GROUP 3; READ 3, DESCRIBE 8, ALL 2; DENY 2, ALLOW 3. sarama decodes no pattern type at v0.
      const topicRead = [2, 'sarama-acl-topic', 0, principal, '*', 3, 3];
      const groupDeny = [3, 'sarama-acl-group', 0, principal, '*', 8, 2];
      assert.deepEqual(await sarama(['admin', ...login('admin')]), [
        { step: 'cluster-admin', err: 0 },
        { step: 'create-topic-acl', err: 0 },
        { step: 'create-group-acl', err: 0 },
        { step: 'list', err: 0, acls: [topicRead, groupDeny] },
        { step: 'delete', err: 0, matching: [[...topicRead, 0]] },
        { step: 'list-after-delete', err: 0, acls: [groupDeny] },
      ]);
      // What sarama stored, seen by kafkajs: LITERAL bindings, the PREFIXED one untouched.
      const remaining = await admin.describeAcls(principalFilter(principal));
      assert.deepEqual(
        [...remaining.resources].sort((a, b) => a.resourceType - b.resourceType),
        [
          {
            resourceType: Resource.TOPIC,
            resourceName: 'sarama-acl-',
            resourcePatternType: Pattern.PREFIXED,
            acls: [{ principal, host: '*', operation: Operation.WRITE, permissionType: Permission.ALLOW }],
          },
          {
            resourceType: Resource.GROUP,
            resourceName: 'sarama-acl-group',
            resourcePatternType: Pattern.LITERAL,
            acls: [{ principal, host: '*', operation: Operation.DESCRIBE, permissionType: Permission.DENY }],
          },
        ],
      );
      // ClusterAdmin drops the per-creation and per-filter codes; the responses themselves carry 31.
      assert.deepEqual(await sarama(['denied', ...login('alice')]), [
        { step: 'cluster-admin', err: 0 },
        { step: 'admin-create', err: 0 },
        { step: 'admin-list', err: 0, acls: [] },
        { step: 'admin-delete', err: 0, matching: 0 },
        { step: 'create-response', err: CLUSTER_AUTHORIZATION_FAILED, msg: clusterAuthorizationMessage },
        {
          step: 'describe-response',
          err: CLUSTER_AUTHORIZATION_FAILED,
          msg: clusterAuthorizationMessage,
          resources: 0,
        },
        {
          step: 'delete-response',
          err: CLUSTER_AUTHORIZATION_FAILED,
          msg: clusterAuthorizationMessage,
          matching: 0,
        },
      ]);
      await admin.deleteAcls({ filters: [principalFilter(principal)] });
      assert.deepEqual(await admin.describeAcls(principalFilter(principal)), { resources: [] });
    });

    test('@platformatic/kafka 2.12.1: createAcls, describeAcls, deleteAcls (MATCH); alice refused with CLUSTER_AUTHORIZATION_FAILED', {
      timeout: testTimeoutMs,
    }, async () => {
      const {
        Admin: PlatformaticAdmin,
        ResourceTypes,
        ResourcePatternTypes,
        AclOperations,
        AclPermissionTypes,
      } = platformatic;
      const adminAs = (user: UserName) =>
        new PlatformaticAdmin({
          clientId: 'acls-test',
          bootstrapBrokers: [broker.bootstrap],
          sasl: { mechanism: 'PLAIN', ...users[user] },
          retries: 1,
        });
      const principal = 'User:platformatic-admin';
      const topicDescribe: PlatformaticAcl = {
        resourceType: ResourceTypes.TOPIC,
        resourceName: 'pf-literal',
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal,
        host: '*',
        operation: AclOperations.DESCRIBE,
        permissionType: AclPermissionTypes.ALLOW,
      };
      const transactionalWrite: PlatformaticAcl = {
        resourceType: ResourceTypes.TRANSACTIONAL_ID,
        resourceName: 'pf-tx-',
        resourcePatternType: ResourcePatternTypes.PREFIXED,
        principal,
        host: '*',
        operation: AclOperations.WRITE,
        permissionType: AclPermissionTypes.ALLOW,
      };
      const filter = {
        resourceType: ResourceTypes.ANY,
        resourceName: null,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal,
        host: null,
        operation: AclOperations.ANY,
        permissionType: AclPermissionTypes.ANY,
      };
      const client = adminAs('admin');
      try {
        await client.createAcls({ creations: [topicDescribe, transactionalWrite] });
        const described = await client.describeAcls({ filter });
        const split = ({ principal: p, host, operation, permissionType, ...target }: PlatformaticAcl) => ({
          ...target,
          acls: [{ principal: p, host, operation, permissionType }],
        });
        assert.deepEqual(
          [...described].sort((a, b) => a.resourceType - b.resourceType),
          [split(topicDescribe), split(transactionalWrite)],
        );
        assert.deepEqual(
          await client.deleteAcls({
            filters: [
              {
                ...filter,
                resourceType: ResourceTypes.TRANSACTIONAL_ID,
                resourceName: 'pf-tx-42',
                resourcePatternType: ResourcePatternTypes.MATCH,
                principal: null,
              },
            ],
          }),
          [transactionalWrite],
        );
        assert.deepEqual(await client.describeAcls({ filter }), [split(topicDescribe)]);
        await client.deleteAcls({ filters: [filter] });
        assert.deepEqual(await client.describeAcls({ filter }), []);
      } finally {
        await client.close();
      }

      const refusedClient = adminAs('alice');
      try {
        const calls: Array<[string, () => Promise<unknown>]> = [
          [
            'createAcls',
            () => refusedClient.createAcls({ creations: [{ ...topicDescribe, principal: 'User:alice' }] }),
          ],
          ['describeAcls', () => refusedClient.describeAcls({ filter })],
          ['deleteAcls', () => refusedClient.deleteAcls({ filters: [filter] })],
        ];
        for (const [label, call] of calls) {
          await assert.rejects(call(), (err: Error) => {
            const chain = describeErrorChain(err, { apiId: true });
            assert.ok(
              chain.endsWith(`Error: ${clusterAuthorizationMessage} [CLUSTER_AUTHORIZATION_FAILED]`),
              `${label}: ${chain}`,
            );
            return true;
          });
        }
      } finally {
        await refusedClient.close();
      }
    });
  });

  describe('enforcement', () => {
    before(async () => {
      await grant(
        acl(Resource.TOPIC, ORDERS_PREFIX, 'User:alice', Operation.WRITE, { pattern: Pattern.PREFIXED }),
      );
    });

    test('Metadata hides what alice may not DESCRIBE: kafkajs listTopics and kcat -L; a named hidden topic is TOPIC_AUTHORIZATION_FAILED', {
      timeout: testTimeoutMs,
    }, async () => {
      const topics = {
        described: 'vis-described',
        readable: 'vis-readable-1',
        hostBound: 'vis-host-bound',
        otherHost: 'vis-other-host',
        hidden: 'vis-hidden',
        orders: `${ORDERS_PREFIX}vis`,
      };
      await createTopics(...Object.values(topics));
      await grant(
        acl(Resource.TOPIC, topics.described, 'User:alice', Operation.DESCRIBE),
        // READ implies DESCRIBE; a PREFIXED pattern covers the topic.
        acl(Resource.TOPIC, 'vis-readable-', 'User:alice', Operation.READ, { pattern: Pattern.PREFIXED }),
        // Host-bound bindings: the client connects from 127.0.0.1.
        acl(Resource.TOPIC, topics.hostBound, 'User:alice', Operation.DESCRIBE, { host: '127.0.0.1' }),
        acl(Resource.TOPIC, topics.otherHost, 'User:alice', Operation.DESCRIBE, { host: '10.9.8.7' }),
        // bob's grant on the hidden topic does not show it to alice.
        acl(Resource.TOPIC, topics.hidden, 'User:bob', Operation.DESCRIBE),
      );
      const visible = [topics.described, topics.readable, topics.hostBound, topics.orders].sort();

      const everyTopic = await admin.listTopics();
      for (const topic of Object.values(topics)) assert.ok(everyTopic.includes(topic), topic);
      const aliceAdmin = kafkaAs('alice').admin();
      await aliceAdmin.connect();
      try {
        // alice's grants so far: WRITE on orders-* and the ones above, so this is her whole view.
        assert.deepEqual(
          (await aliceAdmin.listTopics()).sort(),
          everyTopic.filter((t) => t.startsWith(ORDERS_PREFIX) || visible.includes(t)).sort(),
        );
        await assert.rejects(aliceAdmin.fetchTopicMetadata({ topics: [topics.hidden] }), (err: Error) => {
          assert.equal(err.name, 'KafkaJSProtocolError');
          assert.equal((err as { type?: string }).type, 'TOPIC_AUTHORIZATION_FAILED');
          return true;
        });
        assert.deepEqual(
          (await aliceAdmin.fetchTopicMetadata({ topics: [topics.described] })).topics.map((t) => [
            t.name,
            t.partitions.map((p) => p.partitionId).sort(),
          ]),
          [[topics.described, [0, 1]]],
        );
      } finally {
        await aliceAdmin.disconnect();
      }

      const listing = await kcat('alice', ['-L', '-J']);
      assert.equal(listing.code, 0, listing.stderr);
      const listed = (JSON.parse(listing.stdout) as { topics: Array<{ topic: string }> }).topics
        .map((t) => t.topic)
        .filter((t) => t.startsWith('vis-') || t === topics.orders)
        .sort();
      assert.deepEqual(listed, visible);
      const named = await kcat('alice', ['-L', '-t', topics.hidden]);
      assert.equal(named.code, 0, named.stderr);
      assert.match(
        named.stdout,
        /topic "vis-hidden" with 0 partitions: Broker: Topic authorization failed/,
        named.stdout,
      );
    });

    test('kafkajs: alice produces to orders-* (prefixed WRITE); without READ her group consumer crashes with TOPIC_AUTHORIZATION_FAILED; with READ it reads back exactly', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `${ORDERS_PREFIX}kafkajs`;
      const groupId = 'acl-kafkajs-orders';
      await createTopics(topic);
      await grant(acl(Resource.GROUP, groupId, 'User:alice', Operation.READ));
      const kafka = kafkaAs('alice');
      const producer = kafka.producer();
      await producer.connect();
      try {
        const sent = await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: 6 }, (_, i) => ({
            partition: i % 2,
            key: `k${i}`,
            value: `kafkajs-v${i}`,
          })),
        });
        assert.deepEqual(sent.map((r) => [r.partition, r.errorCode, r.baseOffset]).sort(), [
          [0, 0, '0'],
          [1, 0, '0'],
        ]);
        // Not orders-*: the whole send fails with the topic's authorization error.
        await assert.rejects(
          producer.send({ topic: 'vis-described', messages: [{ value: 'x' }] }),
          refusedWith('TOPIC_AUTHORIZATION_FAILED'),
        );
      } finally {
        await producer.disconnect();
      }

      const consumer = kafka.consumer({
        groupId,
        maxWaitTimeInMs: 200,
        heartbeatInterval: 500,
        retry: { retries: 1, initialRetryTime: 100 },
      });
      await consumer.connect();
      try {
        const denied = await consumeOrCrash(consumer, topic, 6);
        assert.deepEqual(denied.records, []);
        assert.equal(denied.crash?.name, 'KafkaJSNonRetriableError');
        assert.equal(denied.crash?.message, 'Not authorized to access topics: [Topic authorization failed]');
        assert.deepEqual(kafkaErrorTypes(denied.crash), ['TOPIC_AUTHORIZATION_FAILED']);

        await grant(acl(Resource.TOPIC, topic, 'User:alice', Operation.READ));
        // kafkajs disconnects a consumer that crashed for good; its user connects and runs it again.
        await consumer.connect();
        const allowed = await consumeOrCrash(consumer, topic, 6);
        assert.equal(allowed.crash, null);
        assert.deepEqual(allowed.records, expectedRecords('kafkajs', 6));
      } finally {
        await consumer.disconnect();
      }
    });

    test('kcat: -P to orders-* works; -C without READ exits 1 with "Topic authorization failed"; -G without a group ACL fails in FindCoordinator, with DESCRIBE only in JoinGroup; with READ both read back', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `${ORDERS_PREFIX}kcat`;
      const groupId = 'acl-kcat-group';
      await createTopics(topic);
      for (const partition of [0, 1]) {
        const lines = [0, 1, 2, 3, 4, 5].filter((i) => i % 2 === partition).map((i) => `k${i}:kcat-v${i}`);
        const produced = await kcat(
          'alice',
          ['-P', '-t', topic, '-p', String(partition), '-K', ':'],
          `${lines.join('\n')}\n`,
        );
        assert.equal(produced.code, 0, produced.stderr);
      }
      const refusedProduce = await kcat('alice', ['-P', '-t', 'vis-described', '-K', ':'], 'k:v\n');
      assert.equal(refusedProduce.code, 1);
      assert.match(
        refusedProduce.stderr,
        /Delivery failed for message: Broker: Topic authorization failed/,
        refusedProduce.stderr,
      );

      const format = ['-f', '%p|%o|%k|%s\\n'];
      const readByAssignment = () => kcat('alice', ['-C', '-t', topic, '-o', 'beginning', '-e', ...format]);
      const readByGroup = () => kcat('alice', ['-G', groupId, '-o', 'beginning', '-e', ...format, topic]);
      const parse = (stdout: string): Seen[] =>
        stdout
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => {
            const [p, o, k, v] = line.split('|');
            return [Number(p), Number(o), k ?? null, v ?? null] as Seen;
          })
          .sort(byPartitionThenOffset);

      const deniedFetch = await readByAssignment();
      assert.equal(deniedFetch.code, 1);
      assert.equal(deniedFetch.stdout, '');
      assert.match(
        deniedFetch.stderr,
        /ERROR: Topic orders-kcat \[[01]\] error: Fetch from broker \d+ failed: Broker: Topic authorization failed/,
        deniedFetch.stderr,
      );

      const noGroupAcl = await readByGroup();
      assert.equal(noGroupAcl.code, 1);
      assert.match(
        noGroupAcl.stderr,
        /ERROR: Consumer error: FindCoordinator response error: Group authorization failed\./,
        noGroupAcl.stderr,
      );
      await grant(acl(Resource.GROUP, groupId, 'User:alice', Operation.DESCRIBE));
      const describeOnly = await readByGroup();
      assert.equal(describeOnly.code, 1);
      assert.match(
        describeOnly.stderr,
        /ERROR: Consumer error: JoinGroup failed: Broker: Group authorization failed/,
        describeOnly.stderr,
      );

      await grant(
        acl(Resource.TOPIC, topic, 'User:alice', Operation.READ),
        acl(Resource.GROUP, groupId, 'User:alice', Operation.READ),
      );
      const byAssignment = await readByAssignment();
      assert.equal(byAssignment.code, 0, byAssignment.stderr);
      assert.deepEqual(parse(byAssignment.stdout), expectedRecords('kcat', 6));
      const byGroup = await readByGroup();
      assert.equal(byGroup.code, 0, byGroup.stderr);
      assert.deepEqual(parse(byGroup.stdout), expectedRecords('kcat', 6));
    });

    test('confluent-kafka: idempotent produce to orders-* works, elsewhere TOPIC_AUTHORIZATION_FAILED; the consumer sees 29 and 30 until READ on topic and group is granted, then reads back exactly', {
      timeout: testTimeoutMs,
    }, async () => {
      await assertPythonModule('confluent_kafka', 'python3-confluent-kafka');
      const topic = `${ORDERS_PREFIX}confluent`;
      const groupId = 'acl-confluent-group';
      const deniedMarker = join(workDir, 'confluent-denied');
      const grantedMarker = join(workDir, 'confluent-granted');
      await createTopics(topic);
      const script = `
import json, os, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition
bootstrap, topic, forbidden, group, denied_marker, granted_marker = sys.argv[1:7]
def out(step, **fields):
    print(json.dumps(dict(step=step, **fields), sort_keys=True), flush=True)
auth = {'bootstrap.servers': bootstrap, 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN',
        'sasl.username': 'alice', 'sasl.password': 'alice-secret'}
reports = []
def on_delivery(err, msg):
    # A refused message has no partition or offset to report.
    reports.append([msg.topic(), err.name()] if err else [msg.topic(), None, msg.partition(), msg.offset()])
producer = Producer(dict(auth, acks='all', **{'enable.idempotence': True, 'message.timeout.ms': 10000}))
for i in range(6):
    producer.produce(topic, key=b'k%d' % i, value=b'confluent-v%d' % i, partition=i % 2, on_delivery=on_delivery)
out('flush', remaining=producer.flush(15), reports=sorted(reports, key=lambda r: (r[2], r[3])))
reports.clear()
refused = Producer(dict(auth, **{'message.timeout.ms': 5000}))
refused.produce(forbidden, value=b'x', on_delivery=on_delivery)
out('flush-forbidden', remaining=refused.flush(10), reports=reports)
consumer = Consumer(dict(auth, **{'group.id': group, 'enable.auto.commit': False}))
consumer.assign([TopicPartition(topic, 0, -2), TopicPartition(topic, 1, -2)])
codes = set()
deadline = time.time() + 10
while len(codes) < 2 and time.time() < deadline:
    m = consumer.poll(0.2)
    if m is not None and m.error():
        codes.add(m.error().code())
    elif m is not None:
        out('unexpected-record', p=m.partition(), o=m.offset())
out('denied', codes=sorted(codes))
open(denied_marker, 'w').close()
deadline = time.time() + 10
while not os.path.exists(granted_marker) and time.time() < deadline:
    time.sleep(0.05)
records = []
deadline = time.time() + 10
while len(records) < 6 and time.time() < deadline:
    m = consumer.poll(0.2)
    if m is None or m.error():
        continue
    records.append([m.partition(), m.offset(), m.key().decode(), m.value().decode()])
out('records', records=sorted(records))
consumer.close()
`;
      const run = runProgramOk(
        PYTHON,
        ['-c', script, broker.bootstrap, topic, 'vis-described', groupId, deniedMarker, grantedMarker],
        { timeoutMs: programTimeoutMs },
      );
      let finished = false;
      run
        .catch(() => {
          // Awaited below, after the grant, which reports the script's failure.
        })
        .finally(() => {
          finished = true;
        });
      // The grant follows the consumer's refusals: the script says when it has seen them.
      await waitFor(
        () => existsSync(deniedMarker) || finished,
        15_000,
        () => 'the confluent-kafka consumer never reported its refusals',
      );
      await grant(
        acl(Resource.TOPIC, topic, 'User:alice', Operation.READ),
        acl(Resource.GROUP, groupId, 'User:alice', Operation.READ),
      );
      await writeFile(grantedMarker, 'granted');
      const { stdout } = await run;
      assert.deepEqual(jsonLines(stdout), [
        {
          step: 'flush',
          remaining: 0,
          reports: [
            [topic, null, 0, 0],
            [topic, null, 0, 1],
            [topic, null, 0, 2],
            [topic, null, 1, 0],
            [topic, null, 1, 1],
            [topic, null, 1, 2],
          ],
        },
        { step: 'flush-forbidden', remaining: 0, reports: [['vis-described', 'TOPIC_AUTHORIZATION_FAILED']] },
        { step: 'denied', codes: [TOPIC_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED] },
        { step: 'records', records: expectedRecords('confluent', 6) },
      ]);
    });

    test('kafkajs groups: no group ACL hides the coordinator; DESCRIBE only fails JoinGroup with GROUP_AUTHORIZATION_FAILED; READ joins; listGroups shows only describable groups', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `${ORDERS_PREFIX}groups`;
      await createTopics(topic);
      await grant(
        acl(Resource.TOPIC, topic, 'User:alice', Operation.READ),
        acl(Resource.TOPIC, topic, 'User:bob', Operation.READ),
        acl(Resource.GROUP, 'acl-kjs-bob', 'User:bob', Operation.READ),
        acl(Resource.GROUP, 'acl-kjs-describe-only', 'User:alice', Operation.DESCRIBE),
      );
      const producer = kafkaAs('alice').producer();
      await producer.connect();
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: [0, 1].map((i) => ({ partition: i, key: `k${i}`, value: `groups-v${i}` })),
        });
      } finally {
        await producer.disconnect();
      }
      const consumerOf = (user: UserName, groupId: string) =>
        kafkaAs(user).consumer({
          groupId,
          maxWaitTimeInMs: 200,
          heartbeatInterval: 500,
          retry: { retries: 1, initialRetryTime: 100 },
        });

      // FindCoordinator answers GROUP_AUTHORIZATION_FAILED (no DESCRIBE on the group); kafkajs reports any
      // FindCoordinator error as "Failed to find group coordinator", as it does against Kafka.
      const noAcl = consumerOf('alice', 'acl-kjs-no-acl');
      await noAcl.connect();
      try {
        const { records, crash } = await consumeOrCrash(noAcl, topic, 2);
        assert.deepEqual(records, []);
        assert.deepEqual(
          [crash?.name, crash?.message],
          ['KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator'],
        );
      } finally {
        await noAcl.disconnect();
      }

      const describeOnly = consumerOf('alice', 'acl-kjs-describe-only');
      await describeOnly.connect();
      try {
        const denied = await consumeOrCrash(describeOnly, topic, 2);
        assert.deepEqual(denied.records, []);
        assert.deepEqual(
          [denied.crash?.name, denied.crash?.message],
          ['KafkaJSProtocolError', 'Not authorized to access group: Group authorization failed'],
        );
        assert.deepEqual(kafkaErrorTypes(denied.crash), ['GROUP_AUTHORIZATION_FAILED']);
        await grant(acl(Resource.GROUP, 'acl-kjs-describe-only', 'User:alice', Operation.READ));
        await describeOnly.connect();
        const allowed = await consumeOrCrash(describeOnly, topic, 2);
        assert.deepEqual(allowed, {
          records: [
            [0, 0, 'k0', 'groups-v0'],
            [1, 0, 'k1', 'groups-v1'],
          ],
          crash: null,
        });
      } finally {
        await describeOnly.disconnect();
      }

      const bob = consumerOf('bob', 'acl-kjs-bob');
      await bob.connect();
      try {
        assert.equal((await consumeOrCrash(bob, topic, 2)).records.length, 2);
      } finally {
        await bob.disconnect();
      }
      const ours = (groups: Array<{ groupId: string }>) =>
        groups
          .map((g) => g.groupId)
          .filter((g) => g.startsWith('acl-kjs-'))
          .sort();
      assert.deepEqual(ours((await admin.listGroups()).groups), ['acl-kjs-bob', 'acl-kjs-describe-only']);
      const aliceAdmin = kafkaAs('alice').admin();
      await aliceAdmin.connect();
      try {
        assert.deepEqual(ours((await aliceAdmin.listGroups()).groups), ['acl-kjs-describe-only']);
      } finally {
        await aliceAdmin.disconnect();
      }
    });

    test('a DENY binding overrides every ALLOW: kafkajs and kcat produce refused despite prefixed WRITE and literal ALL, reads still allowed; a User:* DENY refuses alice and bob', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `${ORDERS_PREFIX}denied`;
      const shared = 'denyall-shared';
      await createTopics(topic, shared);
      await grant(
        acl(Resource.TOPIC, topic, 'User:alice', Operation.ALL),
        acl(Resource.TOPIC, topic, 'User:alice', Operation.WRITE, { permission: Permission.DENY }),
        acl(Resource.TOPIC, shared, 'User:alice', Operation.READ),
        acl(Resource.TOPIC, shared, 'User:bob', Operation.READ),
        acl(Resource.TOPIC, 'denyall-', 'User:*', Operation.READ, {
          pattern: Pattern.PREFIXED,
          permission: Permission.DENY,
        }),
      );
      const producer = kafkaAs('alice').producer();
      await producer.connect();
      try {
        await assert.rejects(
          producer.send({ topic, messages: [{ value: 'x' }] }),
          refusedWith('TOPIC_AUTHORIZATION_FAILED'),
        );
      } finally {
        await producer.disconnect();
      }
      const refused = await kcat('alice', ['-P', '-t', topic, '-p', '0'], 'x\n');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /Delivery failed for message: Broker: Topic authorization failed/);

      const adminProducer = kafkaAs('admin').producer();
      await adminProducer.connect();
      try {
        for (const t of [topic, shared]) {
          await adminProducer.send({
            topic: t,
            acks: -1,
            messages: [{ partition: 0, key: 'k0', value: 'by-admin' }],
          });
        }
      } finally {
        await adminProducer.disconnect();
      }
      // ALL still grants READ: the DENY names WRITE only.
      const read = await kcat('alice', ['-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%p|%o|%k|%s\\n']);
      assert.equal(read.code, 0, read.stderr);
      assert.equal(read.stdout, '0|0|k0|by-admin\n');
      for (const user of ['alice', 'bob'] as const) {
        const deniedRead = await kcat(user, ['-C', '-t', shared, '-o', 'beginning', '-e']);
        assert.equal(deniedRead.code, 1, `${user}: ${deniedRead.stdout}`);
        assert.match(
          deniedRead.stderr,
          /Fetch from broker \d+ failed: Broker: Topic authorization failed/,
          user,
        );
      }
    });

    test('kafkajs transactions: no ACL on the transactional id hides its coordinator; DESCRIBE only gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED; WRITE commits and read_committed reads it', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `${ORDERS_PREFIX}txn`;
      await createTopics(topic);
      const kafka = kafkaAs('alice');
      const runTransaction = async (transactionalId: string, values: string[]) => {
        const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        try {
          const transaction = await producer.transaction();
          await transaction.send({
            topic,
            messages: values.map((value, i) => ({ partition: 0, key: `k${i}`, value })),
          });
          await transaction.commit();
        } finally {
          await producer.disconnect();
        }
      };
      // FindCoordinator for the id needs DESCRIBE on it; kafkajs turns that refusal into "not found".
      await assert.rejects(runTransaction('acl-txn-none', ['never']), (err: Error) => {
        assert.deepEqual(
          [err.name, err.message],
          ['KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator'],
        );
        return true;
      });
      await grant(acl(Resource.TRANSACTIONAL_ID, 'acl-txn-alice', 'User:alice', Operation.DESCRIBE));
      await assert.rejects(runTransaction('acl-txn-alice', ['never']), (err: Error) => {
        assert.deepEqual(
          [err.name, err.message],
          ['KafkaJSProtocolError', 'Transactional Id authorization failed'],
        );
        assert.deepEqual(kafkaErrorTypes(err), ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);
        return true;
      });
      await grant(acl(Resource.TRANSACTIONAL_ID, 'acl-txn-alice', 'User:alice', Operation.WRITE));
      await runTransaction('acl-txn-alice', ['txn-v0', 'txn-v1']);
      // The commit marker takes offset 2: read the two records with a read_committed group consumer.
      const reader = kafkaAs('admin', 3).consumer({ groupId: 'acl-txn-reader', maxWaitTimeInMs: 200 });
      await reader.connect();
      try {
        assert.deepEqual(await consumeOrCrash(reader, topic, 2), {
          records: [
            [0, 0, 'k0', 'txn-v0'],
            [0, 1, 'k1', 'txn-v1'],
          ],
          crash: null,
        });
      } finally {
        await reader.disconnect();
      }
    });

    test('idempotent producers (KIP-679): alice with WRITE on a topic pattern initializes and writes; bob without any WRITE gets CLUSTER_AUTHORIZATION_FAILED until IDEMPOTENT_WRITE', {
      timeout: testTimeoutMs,
    }, async () => {
      const topic = `${ORDERS_PREFIX}idempotent`;
      const bobTopic = 'bob-idempotent';
      await createTopics(topic, bobTopic);
      const idempotentProducer = (user: UserName) =>
        kafkaAs(user).producer({ idempotent: true, maxInFlightRequests: 1 });
      const alice = idempotentProducer('alice');
      await alice.connect();
      try {
        for (let batch = 0; batch < 2; batch++) {
          const sent = await alice.send({
            topic,
            messages: [0, 1].map((i) => ({ partition: 0, key: `k${i}`, value: `idem-${batch}-${i}` })),
          });
          assert.deepEqual(
            sent.map((r) => [r.partition, r.errorCode, r.baseOffset]),
            [[0, 0, String(batch * 2)]],
          );
        }
      } finally {
        await alice.disconnect();
      }

      await grant(acl(Resource.TOPIC, bobTopic, 'User:bob', Operation.DESCRIBE));
      const bob = idempotentProducer('bob');
      try {
        await assert.rejects(
          (async () => {
            await bob.connect();
            await bob.send({ topic: bobTopic, messages: [{ partition: 0, value: 'x' }] });
          })(),
          (err: Error) => {
            assert.deepEqual(
              [err.name, err.message],
              ['KafkaJSProtocolError', 'Cluster authorization failed'],
            );
            assert.deepEqual(kafkaErrorTypes(err), ['CLUSTER_AUTHORIZATION_FAILED']);
            return true;
          },
        );
      } finally {
        await bob.disconnect();
      }
      // IDEMPOTENT_WRITE on the cluster lets the producer start; the topic still needs WRITE.
      await grant(acl(Resource.CLUSTER, 'kafka-cluster', 'User:bob', Operation.IDEMPOTENT_WRITE));
      const bobAgain = idempotentProducer('bob');
      await bobAgain.connect();
      try {
        await assert.rejects(
          bobAgain.send({ topic: bobTopic, messages: [{ partition: 0, value: 'x' }] }),
          refusedWith('TOPIC_AUTHORIZATION_FAILED'),
        );
        await grant(acl(Resource.TOPIC, bobTopic, 'User:bob', Operation.WRITE));
        const sent = await bobAgain.send({
          topic: bobTopic,
          messages: [{ partition: 1, value: 'bob-idem' }],
        });
        assert.deepEqual(
          sent.map((r) => [r.partition, r.errorCode, r.baseOffset]),
          [[1, 0, '0']],
        );
      } finally {
        await bobAgain.disconnect();
      }
    });

    test('kafkajs admin: createTopics without CREATE is TOPIC_AUTHORIZATION_FAILED, with a prefixed CREATE it works; deleteTopics, createPartitions and describeConfigs need DELETE, ALTER and DESCRIBE_CONFIGS', {
      timeout: testTimeoutMs,
    }, async () => {
      const aliceAdmin = kafkaAs('alice').admin();
      await aliceAdmin.connect();
      try {
        const topic = 'alice-new-1';
        await assert.rejects(
          aliceAdmin.createTopics({ topics: [{ topic, numPartitions: 2 }] }),
          (err: Error) => {
            assert.equal(err.name, 'KafkaJSAggregateError');
            assert.deepEqual(
              (err as Error & { errors: Array<Error & { type?: string }> }).errors.map((e) => [
                e.name,
                e.type,
              ]),
              [['KafkaJSCreateTopicError', 'TOPIC_AUTHORIZATION_FAILED']],
            );
            return true;
          },
        );
        assert.equal((await admin.listTopics()).includes(topic), false);

        await grant(
          acl(Resource.TOPIC, 'alice-new-', 'User:alice', Operation.CREATE, { pattern: Pattern.PREFIXED }),
          acl(Resource.TOPIC, 'alice-new-', 'User:alice', Operation.DESCRIBE, { pattern: Pattern.PREFIXED }),
        );
        assert.equal(await aliceAdmin.createTopics({ topics: [{ topic, numPartitions: 2 }] }), true);
        assert.deepEqual(
          (await admin.fetchTopicMetadata({ topics: [topic] })).topics.map((t) => [
            t.name,
            t.partitions.length,
          ]),
          [[topic, 2]],
        );

        await assert.rejects(
          aliceAdmin.createPartitions({ topicPartitions: [{ topic, count: 3 }] }),
          refusedWith('TOPIC_AUTHORIZATION_FAILED'),
        );
        await assert.rejects(
          aliceAdmin.describeConfigs({
            resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
            includeSynonyms: false,
          }),
          refusedWith('TOPIC_AUTHORIZATION_FAILED'),
        );
        await assert.rejects(
          aliceAdmin.deleteTopics({ topics: [topic] }),
          refusedWith('TOPIC_AUTHORIZATION_FAILED'),
        );
        await grant(acl(Resource.TOPIC, topic, 'User:alice', Operation.DELETE));
        await aliceAdmin.deleteTopics({ topics: [topic] });
        assert.equal((await admin.listTopics()).includes(topic), false);
      } finally {
        await aliceAdmin.disconnect();
      }
    });
    test('@platformatic/kafka: group offsets need DESCRIBE (list, unauthorized topics omitted) and READ on group and topic (alter); describeGroups reports the allowed operations; produce needs WRITE', {
      timeout: testTimeoutMs,
    }, async () => {
      const { Admin: PlatformaticAdmin, Producer, stringSerializers } = platformatic;
      const topic = `${ORDERS_PREFIX}platformatic`;
      const groupId = 'acl-platformatic-group';
      await createTopics(topic);
      const common = (user: UserName) => ({
        clientId: 'acls-test',
        bootstrapBrokers: [broker.bootstrap],
        sasl: { mechanism: 'PLAIN' as const, ...users[user] },
        retries: 1,
      });
      const superAdmin = new PlatformaticAdmin(common('admin'));
      const alice = new PlatformaticAdmin(common('alice'));
      const producer = new Producer({ ...common('alice'), serializers: stringSerializers });
      const rejectsWith = async (work: Promise<unknown>, ending: string) =>
        assert.rejects(work, (err: Error) => {
          const chain = describeErrorChain(err, { apiId: true });
          assert.ok(chain.endsWith(ending), chain);
          return true;
        });
      const plainOffsets = (groups: Awaited<ReturnType<typeof alice.listConsumerGroupOffsets>>) =>
        groups.map((g) => ({
          groupId: g.groupId,
          topics: g.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset)]),
          })),
        }));
      const alter = (client: typeof alice, offset: bigint) =>
        client.alterConsumerGroupOffsets({
          groupId,
          topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset }] }],
        });
      try {
        await superAdmin.alterConsumerGroupOffsets({
          groupId,
          topics: [
            { name: topic, partitionOffsets: [{ partition: 0, offset: 1n }] },
            { name: 'vis-hidden', partitionOffsets: [{ partition: 1, offset: 2n }] },
          ],
        });
        assert.deepEqual(plainOffsets(await superAdmin.listConsumerGroupOffsets({ groups: [groupId] })), [
          {
            groupId,
            topics: [
              { name: topic, partitions: [[0, 1]] },
              { name: 'vis-hidden', partitions: [[1, 2]] },
            ],
          },
        ]);
        // FindCoordinator refuses a group alice may not DESCRIBE.
        await rejectsWith(
          alice.listConsumerGroupOffsets({ groups: [groupId] }),
          'Error: Group authorization failed. [GROUP_AUTHORIZATION_FAILED]',
        );
        await grant(acl(Resource.GROUP, groupId, 'User:alice', Operation.DESCRIBE));
        // An all-topics OffsetFetch leaves out the topic alice may not DESCRIBE.
        assert.deepEqual(plainOffsets(await alice.listConsumerGroupOffsets({ groups: [groupId] })), [
          { groupId, topics: [{ name: topic, partitions: [[0, 1]] }] },
        ]);
        const operations = async (client: typeof alice) =>
          (await client.describeGroups({ groups: [groupId], includeAuthorizedOperations: true })).get(groupId)
            ?.authorizedOperations;
        // Kafka's bit per operation: READ 1 << 3, DELETE 1 << 6, DESCRIBE 1 << 8.
        assert.equal(await operations(alice), 1 << 8);
        await rejectsWith(
          alter(alice, 0n),
          'Error: Group authorization failed. [GROUP_AUTHORIZATION_FAILED]',
        );
        await grant(acl(Resource.GROUP, groupId, 'User:alice', Operation.READ));
        assert.equal(await operations(alice), (1 << 3) | (1 << 8));
        assert.equal(await operations(superAdmin), (1 << 3) | (1 << 6) | (1 << 8));
        // READ on the group, but only WRITE on the topic.
        await rejectsWith(
          alter(alice, 0n),
          'Error: Topic authorization failed. [TOPIC_AUTHORIZATION_FAILED]',
        );
        await grant(acl(Resource.TOPIC, topic, 'User:alice', Operation.READ));
        await alter(alice, 0n);
        assert.deepEqual(plainOffsets(await alice.listConsumerGroupOffsets({ groups: [groupId] })), [
          { groupId, topics: [{ name: topic, partitions: [[0, 0]] }] },
        ]);
        await rejectsWith(
          alice.deleteGroups({ groups: [groupId] }),
          'Error: Group authorization failed. [GROUP_AUTHORIZATION_FAILED]',
        );

        const sent = await producer.send({
          acks: -1,
          messages: [{ topic, partition: 1, key: 'k', value: 'platformatic' }],
        });
        assert.deepEqual(sent.offsets, [{ topic, partition: 1, offset: 0n }]);
        await rejectsWith(
          producer.send({
            acks: -1,
            messages: [{ topic: 'vis-described', partition: 0, key: 'k', value: 'v' }],
          }),
          'Error: Topic authorization failed. [TOPIC_AUTHORIZATION_FAILED]',
        );
      } finally {
        await producer.close();
        await alice.close();
        await superAdmin.close();
      }
    });
    test('raw protocol: Metadata v8+ and DescribeCluster authorized-operation bit fields come from the ACLs', {
      timeout: testTimeoutMs,
    }, async () => {
      // No CI client asks for these fields, so this speaks the protocol itself, logged in as alice and admin.
      const openAs = async (user: UserName) => {
        const connection = await RawSaslConnection.open(broker.port);
        await connection.call(SaslHandshakeApi, 1, { mechanism: 'PLAIN' });
        const login = await connection.call(SaslAuthenticateApi, 2, {
          authBytes: plainToken(users[user].username, users[user].password),
        });
        assert.equal(login.errorCode, 0);
        return connection;
      };
      const bits = (...operations: number[]) => operations.reduce((sum, op) => sum | (1 << op), 0);
      const request = (topics: string[]) => ({
        topics: topics.map((name) => ({ topicId: ZERO_UUID, name })),
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: true,
        includeTopicAuthorizedOperations: true,
      });
      // alice by now: WRITE on orders-*, READ on orders-kafkajs; DESCRIBE on vis-described; nothing on the cluster.
      const seen: Array<[UserName, number, Array<[string, number, number]>, number]> = [];
      for (const user of ['alice', 'admin'] as const) {
        const connection = await openAs(user);
        try {
          for (const version of [8, 12]) {
            const response = await connection.call(
              MetadataApi,
              version,
              request([`${ORDERS_PREFIX}kafkajs`, 'vis-described', 'vis-hidden']),
            );
            seen.push([
              user,
              version,
              response.topics.map((t) => [t.name ?? '', t.errorCode, t.topicAuthorizedOperations]),
              response.clusterAuthorizedOperations,
            ]);
          }
          const cluster = await connection.call(DescribeClusterApi, 0, {
            includeClusterAuthorizedOperations: true,
            endpointType: 1,
          });
          seen.push([user, -1, [], cluster.clusterAuthorizedOperations]);
        } finally {
          connection.close();
        }
      }
      const {
        READ,
        WRITE,
        CREATE,
        DELETE,
        ALTER,
        DESCRIBE,
        CLUSTER_ACTION,
        DESCRIBE_CONFIGS,
        ALTER_CONFIGS,
        IDEMPOTENT_WRITE,
      } = Operation;
      const everyTopicOperation = bits(
        READ,
        WRITE,
        CREATE,
        DELETE,
        ALTER,
        DESCRIBE,
        DESCRIBE_CONFIGS,
        ALTER_CONFIGS,
      );
      const everyClusterOperation = bits(
        CREATE,
        ALTER,
        DESCRIBE,
        CLUSTER_ACTION,
        DESCRIBE_CONFIGS,
        ALTER_CONFIGS,
        IDEMPOTENT_WRITE,
      );
      /** The fields' schema default: -2^31. Metadata v11+ no longer carries the cluster field at all. */
      const notRequested = -2147483648;
      const aliceTopics: Array<[string, number, number]> = [
        [`${ORDERS_PREFIX}kafkajs`, 0, bits(READ, WRITE, DESCRIBE)],
        ['vis-described', 0, bits(DESCRIBE)],
        // As Kafka: a topic refused for DESCRIBE keeps the field's default, the operations are not computed.
        ['vis-hidden', TOPIC_AUTHORIZATION_FAILED, notRequested],
      ];
      const adminTopics: Array<[string, number, number]> = [
        [`${ORDERS_PREFIX}kafkajs`, 0, everyTopicOperation],
        ['vis-described', 0, everyTopicOperation],
        ['vis-hidden', 0, everyTopicOperation],
      ];
      assert.deepEqual(seen, [
        ['alice', 8, aliceTopics, 0],
        ['alice', 12, aliceTopics, notRequested],
        ['alice', -1, [], 0],
        ['admin', 8, adminTopics, everyClusterOperation],
        ['admin', 12, adminTopics, notRequested],
        ['admin', -1, [], everyClusterOperation],
      ]);
    });
  });

  describe('restart', () => {
    test('ACLs survive a broker restart: the same describe result, and the same decisions for alice', {
      timeout: testTimeoutMs,
    }, async () => {
      const sortResources = (
        resources: Array<{ resourceType: number; resourceName: string; resourcePatternType: number }>,
      ) =>
        [...resources].sort(
          (a, b) =>
            a.resourceType - b.resourceType ||
            a.resourcePatternType - b.resourcePatternType ||
            a.resourceName.localeCompare(b.resourceName),
        );
      const before = sortResources((await admin.describeAcls(everyAcl)).resources);
      assert.ok(
        before.some((r) => r.resourceName === ORDERS_PREFIX && r.resourcePatternType === Pattern.PREFIXED),
        JSON.stringify(before),
      );
      await admin.disconnect();
      await broker.restart();
      await connectAdmin();
      assert.deepEqual(sortResources((await admin.describeAcls(everyAcl)).resources), before);

      const kafka = kafkaAs('alice');
      const producer = kafka.producer();
      await producer.connect();
      try {
        const [sent] = await producer.send({
          topic: `${ORDERS_PREFIX}kafkajs`,
          acks: -1,
          messages: [{ partition: 0, key: 'k6', value: 'after-restart' }],
        });
        assert.deepEqual([sent?.errorCode, sent?.baseOffset], [0, '3']);
        await assert.rejects(
          producer.send({ topic: `${ORDERS_PREFIX}denied`, messages: [{ value: 'x' }] }),
          refusedWith('TOPIC_AUTHORIZATION_FAILED'),
        );
      } finally {
        await producer.disconnect();
      }
      const aliceAdmin = kafka.admin();
      await aliceAdmin.connect();
      try {
        await assert.rejects(aliceAdmin.fetchTopicMetadata({ topics: ['vis-hidden'] }), (err) => {
          assert.deepEqual(kafkaErrorTypes(err), ['TOPIC_AUTHORIZATION_FAILED']);
          return true;
        });
        await assert.rejects(aliceAdmin.describeAcls(everyAcl), (err) => {
          assert.deepEqual(kafkaErrorTypes(err), ['CLUSTER_AUTHORIZATION_FAILED']);
          return true;
        });
      } finally {
        await aliceAdmin.disconnect();
      }
      const read = await kcat('alice', [
        '-C',
        '-t',
        `${ORDERS_PREFIX}kcat`,
        '-p',
        '0',
        '-o',
        'beginning',
        '-e',
        '-f',
        '%o|%s\\n',
      ]);
      assert.equal(read.code, 0, read.stderr);
      assert.equal(read.stdout, '0|kcat-v0\n1|kcat-v2\n2|kcat-v4\n');
    });
  });
});
