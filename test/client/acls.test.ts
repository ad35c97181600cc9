// ACLs managed from the Sluice Admin against a Sluice broker process running Kafka's standard authorizer
// (SASL_PLAINTEXT, super user admin): exact bindings created, described through every kind of filter and
// deleted; the broker's refusals of bad bindings, of a principal that is not allowed, and of a broker without
// an authorizer arrive as typed errors carrying its words.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  type AclBinding,
  Admin,
  AuthorizationError,
  ConfigError,
  KafkaAggregateError,
  type KafkaClientError,
  type NewAclBinding,
  Producer,
  type SaslOptions,
  SecurityDisabledError,
} from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { clientTracker } from '../helpers/sluice-clients.js';

const testTimeoutMs = 20_000;
const asAdmin: SaslOptions = { mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' };
const asAlice: SaslOptions = { mechanism: 'plain', username: 'alice', password: 'alice-secret' };

let broker: Broker;
let brokerWithoutAuthorizer: Broker;
const { track, closeAll } = clientTracker();

before(async () => {
  [broker, brokerWithoutAuthorizer] = await Promise.all([
    startBroker({
      args: [
        '--listen',
        'SASL_PLAINTEXT://127.0.0.1:0',
        '--set',
        'sasl.users=admin:admin-secret,alice:alice-secret',
        '--set',
        'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        '--set',
        'super.users=User:admin',
      ],
    }),
    startBroker(),
  ]);
});

after(async () => {
  await closeAll();
  await disposeAllBrokers();
});

async function connectedAdmin(sasl: SaslOptions | null = asAdmin, target: Broker = broker): Promise<Admin> {
  // No retries: nothing here is expected to be retriable, and a refusal must surface at once.
  const admin = track(
    new Admin({
      bootstrap: target.bootstrap,
      ...(sasl === null ? {} : { sasl }),
      retry: { retries: 0 },
    }),
  );
  await admin.connect();
  return admin;
}

/** A full binding; the fields not given are User:alice, every host, allow READ on the literal topic 'orders'. */
function acl(change: Partial<AclBinding> = {}): AclBinding {
  return {
    resourceType: 'topic',
    resourceName: 'orders',
    patternType: 'literal',
    principal: 'User:alice',
    host: '*',
    operation: 'read',
    permission: 'allow',
    ...change,
  };
}

/** Asserts a single (not aggregate) typed error of this class, code and exact message. */
function typedError(family: new (...args: never[]) => KafkaClientError, code: number, message: string) {
  return (error: unknown) => {
    assert.ok(error instanceof family, String(error));
    assert.ok(!(error instanceof KafkaAggregateError), `expected one error, got ${error.message}`);
    assert.deepEqual([error.code, error.message, error.retriable], [code, message, false]);
    return true;
  };
}

/** Every ACL of the broker, then deleting them all (each test starts from none). */
async function deleteEverything(admin: Admin): Promise<AclBinding[]> {
  return admin.deleteAcls([{}]);
}

describe('ACLs through the Admin', { timeout: 90_000 }, () => {
  // A failed test must not leave its ACLs to the next one.
  afterEach(async () => {
    await deleteEverything(await connectedAdmin());
  });

  test('created bindings are described flattened and sorted, with defaults filled in', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = await connectedAdmin();
    assert.deepEqual(await admin.describeAcls(), []);
    const created: NewAclBinding[] = [
      {
        resourceType: 'group',
        resourceName: 'billing',
        principal: 'User:alice',
        operation: 'read',
        permission: 'allow',
      },
      acl({ operation: 'write', permission: 'deny', host: '10.0.0.7' }),
      acl(),
      acl({ resourceName: 'orders-', patternType: 'prefixed', principal: 'User:bob', operation: 'describe' }),
      acl({ resourceType: 'cluster', resourceName: 'kafka-cluster', operation: 'idempotent-write' }),
      acl({ resourceType: 'transactional-id', resourceName: 'tx-1', operation: 'write' }),
      acl({ resourceName: '*', principal: 'User:*', operation: 'describe' }),
      acl({ resourceType: 'user', resourceName: 'User:bob', operation: 'describe-tokens' }),
      acl({ resourceType: 'delegation-token', resourceName: 'token-1', operation: 'describe' }),
      // Creating what exists already changes nothing.
      acl(),
    ];
    await admin.createAcls(created);
    const everything = [
      acl({ resourceName: '*', principal: 'User:*', operation: 'describe' }),
      acl(),
      acl({ host: '10.0.0.7', operation: 'write', permission: 'deny' }),
      acl({ resourceName: 'orders-', patternType: 'prefixed', principal: 'User:bob', operation: 'describe' }),
      acl({ resourceType: 'group', resourceName: 'billing' }),
      acl({ resourceType: 'cluster', resourceName: 'kafka-cluster', operation: 'idempotent-write' }),
      acl({ resourceType: 'transactional-id', resourceName: 'tx-1', operation: 'write' }),
      acl({ resourceType: 'delegation-token', resourceName: 'token-1', operation: 'describe' }),
      acl({ resourceType: 'user', resourceName: 'User:bob', operation: 'describe-tokens' }),
    ];
    assert.deepEqual(await admin.describeAcls(), everything);
    assert.deepEqual(await admin.describeAcls({}), everything);
    assert.deepEqual(await deleteEverything(admin), everything);
    assert.deepEqual(await admin.describeAcls(), []);
  });

  test('filters: resource type, exact name, literal, prefixed, match, principal, host, operation, permission', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = await connectedAdmin();
    const literalOrders = acl();
    const denyWrite = acl({ operation: 'write', permission: 'deny', host: '10.0.0.7' });
    const prefixOrd = acl({ resourceName: 'ord', patternType: 'prefixed', principal: 'User:bob' });
    const prefixOrders = acl({ resourceName: 'orders', patternType: 'prefixed', operation: 'describe' });
    const wildcard = acl({ resourceName: '*', principal: 'User:*', operation: 'describe' });
    const payments = acl({ resourceName: 'payments' });
    const group = acl({ resourceType: 'group', resourceName: 'orders' });
    const prefixOther = acl({ resourceName: 'pay', patternType: 'prefixed' });
    await admin.createAcls([
      literalOrders,
      denyWrite,
      prefixOrd,
      prefixOrders,
      wildcard,
      payments,
      group,
      prefixOther,
    ]);

    const described = (filter: Parameters<Admin['describeAcls']>[0]) => admin.describeAcls(filter);
    assert.deepEqual(await described({ resourceType: 'group' }), [group]);
    // any: both pattern types, exactly this name, every resource type.
    assert.deepEqual(await described({ resourceName: 'orders' }), [
      literalOrders,
      denyWrite,
      prefixOrders,
      group,
    ]);
    assert.deepEqual(
      await described({ resourceType: 'topic', resourceName: 'orders', patternType: 'literal' }),
      [literalOrders, denyWrite],
    );
    assert.deepEqual(await described({ resourceType: 'topic', patternType: 'prefixed' }), [
      prefixOrd,
      prefixOrders,
      prefixOther,
    ]);
    // match: what applies to topic 'orders-eu': the wildcard and the prefixes it starts with, not 'orders' itself.
    assert.deepEqual(
      await described({ resourceType: 'topic', resourceName: 'orders-eu', patternType: 'match' }),
      [wildcard, prefixOrd, prefixOrders],
    );
    assert.deepEqual(
      await described({ resourceType: 'topic', resourceName: 'orders', patternType: 'match' }),
      [wildcard, prefixOrd, literalOrders, denyWrite, prefixOrders],
    );
    assert.deepEqual(await described({ principal: 'User:bob' }), [prefixOrd]);
    assert.deepEqual(await described({ host: '10.0.0.7' }), [denyWrite]);
    assert.deepEqual(await described({ operation: 'describe' }), [wildcard, prefixOrders]);
    assert.deepEqual(await described({ permission: 'deny' }), [denyWrite]);
    assert.deepEqual(await described({ resourceType: 'transactional-id' }), []);

    // Deleting: each filter's ACLs, each ACL once although two filters select it; the rest stay.
    assert.deepEqual(
      await admin.deleteAcls([
        { resourceType: 'topic', resourceName: 'orders', patternType: 'match', operation: 'describe' },
        { resourceType: 'topic', resourceName: 'orders', patternType: 'prefixed' },
        { principal: 'User:nobody' },
      ]),
      [wildcard, prefixOrders],
    );
    assert.deepEqual(
      await admin.deleteAcls([{ resourceType: 'topic', resourceName: 'orders-eu', patternType: 'match' }]),
      [prefixOrd],
    );
    assert.deepEqual(await admin.deleteAcls([{ principal: 'User:nobody' }]), []);
    assert.deepEqual(await admin.describeAcls(), [literalOrders, denyWrite, prefixOther, payments, group]);
    assert.deepEqual(await deleteEverything(admin), [literalOrders, denyWrite, prefixOther, payments, group]);
  });

  test('bindings the broker refuses fail with its message, one error or an aggregate; the valid ones are created', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = await connectedAdmin();
    await assert.rejects(
      admin.createAcls([acl({ principal: 'alice' })]),
      typedError(
        ConfigError,
        ErrorCode.INVALID_REQUEST,
        "ACL allow alice read on literal topic 'orders' from host *: Could not parse principal from `alice` " +
          '(no colon is present separating the principal type from the principal name)',
      ),
    );
    await assert.rejects(
      admin.createAcls([
        acl({ resourceType: 'cluster', resourceName: 'my-cluster', operation: 'alter' }),
        acl({ resourceName: 'valid' }),
        acl({ resourceName: '*', patternType: 'prefixed' }),
        acl({ resourceName: '' }),
      ]),
      (error: unknown) => {
        assert.ok(error instanceof KafkaAggregateError, String(error));
        assert.deepEqual(
          error.errors.map((e) => [e instanceof ConfigError, e.code, e.message]),
          [
            [
              true,
              ErrorCode.INVALID_REQUEST,
              "ACL allow User:alice alter on literal cluster 'my-cluster' from host *: " +
                'The only valid name for the CLUSTER resource is kafka-cluster',
            ],
            [
              true,
              ErrorCode.INVALID_REQUEST,
              "ACL allow User:alice read on prefixed topic '*' from host *: " +
                'Invalid resource name: a PREFIXED pattern cannot be the wildcard',
            ],
            [
              true,
              ErrorCode.INVALID_REQUEST,
              "ACL allow User:alice read on literal topic '' from host *: Resource name must not be empty",
            ],
          ],
        );
        return true;
      },
    );
    assert.deepEqual(await admin.describeAcls(), [acl({ resourceName: 'valid' })]);
    assert.deepEqual(await deleteEverything(admin), [acl({ resourceName: 'valid' })]);
  });

  test('a broker without an authorizer: SecurityDisabledError from every ACL call', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = await connectedAdmin(null, brokerWithoutAuthorizer);
    const disabled = typedError(
      SecurityDisabledError,
      ErrorCode.SECURITY_DISABLED,
      'the broker has no authorizer, so ACLs are not enabled',
    );
    await assert.rejects(admin.describeAcls(), disabled);
    await assert.rejects(admin.createAcls([acl(), acl({ operation: 'write' })]), disabled);
    await assert.rejects(admin.deleteAcls([{}, { resourceType: 'group' }]), disabled);
    assert.equal(new SecurityDisabledError().type, 'SECURITY_DISABLED');
  });

  test('alice, not a super user and without ACLs on the cluster: AuthorizationError, nothing changes', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = await connectedAdmin();
    const alice = await connectedAdmin(asAlice);
    await admin.createAcls([acl()]);
    const refused = typedError(
      AuthorizationError,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      'Cluster authorization failed.',
    );
    await assert.rejects(alice.describeAcls(), refused);
    await assert.rejects(
      alice.createAcls([acl({ principal: 'User:alice', operation: 'all' }), acl({ operation: 'alter' })]),
      refused,
    );
    await assert.rejects(alice.deleteAcls([{}]), refused);
    // DESCRIBE on the cluster lets her list, not change.
    await admin.createAcls([
      acl({ resourceType: 'cluster', resourceName: 'kafka-cluster', operation: 'describe' }),
    ]);
    const both = [
      acl(),
      acl({ resourceType: 'cluster', resourceName: 'kafka-cluster', operation: 'describe' }),
    ];
    assert.deepEqual(await alice.describeAcls(), both);
    await assert.rejects(alice.deleteAcls([{}]), refused);
    assert.deepEqual(await deleteEverything(admin), both);
  });

  test('enforcement: alice produces only where she has WRITE', {
    timeout: testTimeoutMs,
  }, async () => {
    const admin = await connectedAdmin();
    await admin.createTopics([
      { topic: 'alice-writes', numPartitions: 1 },
      { topic: 'alice-reads', numPartitions: 1 },
    ]);
    await admin.createAcls([
      acl({ resourceName: 'alice-writes', operation: 'write' }),
      acl({ resourceName: 'alice-reads', operation: 'read' }),
    ]);
    const producer = track(
      new Producer({
        bootstrap: broker.bootstrap,
        sasl: asAlice,
        lingerMs: 1,
        retries: 0,
        idempotent: false,
      }),
    );
    await producer.connect();
    const [written] = await producer.send({ topic: 'alice-writes', messages: [{ value: 'allowed' }] });
    assert.deepEqual([written?.partition, written?.offset], [0, 0]);
    await assert.rejects(
      producer.send({ topic: 'alice-reads', messages: [{ value: 'refused', partition: 0 }] }),
      (error: unknown) => {
        assert.ok(error instanceof AuthorizationError, String(error));
        assert.equal(error.code, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        return true;
      },
    );
    await deleteEverything(admin);
  });
});
