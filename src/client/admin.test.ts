import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import { ConsumerProtocolAssignmentCodec } from '../protocol/generated/index.js';
import { Writer } from '../protocol/primitives/writer.js';
import {
  ACL_OPERATIONS,
  ACL_RESOURCE_TYPES,
  type AclBinding,
  type AclOperation,
  type AclResourceType,
  Admin,
  aclBindingFromWire,
  aclBindingToWire,
  aclFilterToWire,
  CLUSTER_RESOURCE_NAME,
  compareAclBindings,
  decodeConsumerAssignment,
  scramSaltedPassword,
} from './admin.js';
import {
  ConfigError,
  KafkaAggregateError,
  KafkaClientError,
  UnsupportedSaslMechanismError,
} from './errors.js';

function assignmentBytes(version: number, topics: { topic: string; partitions: number[] }[]): Buffer {
  const w = new Writer();
  w.writeInt16(version);
  ConsumerProtocolAssignmentCodec.encode(
    w,
    { assignedPartitions: topics, userData: null },
    Math.min(version, ConsumerProtocolAssignmentCodec.maxVersion),
  );
  return w.toBuffer();
}

describe('decodeConsumerAssignment', () => {
  const topics = [
    { topic: 'orders', partitions: [0, 2] },
    { topic: 'payments', partitions: [1] },
  ];

  test('reads the version prefix and the assignment of each known version', () => {
    for (const version of [0, 1, 2, 3]) {
      assert.deepEqual(decodeConsumerAssignment(assignmentBytes(version, topics)), topics, `v${version}`);
    }
  });

  test('reads a newer version through the fields it shares with the newest known one', () => {
    const bytes = assignmentBytes(3, topics);
    bytes.writeInt16BE(7, 0);
    assert.deepEqual(decodeConsumerAssignment(bytes), topics);
  });

  test('an empty assignment (member not yet synced) is no partitions; garbage is null', () => {
    assert.deepEqual(decodeConsumerAssignment(Buffer.alloc(0)), []);
    assert.equal(decodeConsumerAssignment(Buffer.from([0, 0, 0, 0, 0, 9])), null);
    assert.equal(decodeConsumerAssignment(Buffer.from([0xff, 0xff, 0, 0, 0, 0])), null);
  });
});

/** RFC 5802's Hi() written out: U1 = HMAC(password, salt + INT(1)), Ui = HMAC(password, Ui-1), XORed together. */
function hi(hash: 'sha256' | 'sha512', password: string, salt: Buffer, iterations: number): Buffer {
  let u = createHmac(hash, password)
    .update(Buffer.concat([salt, Buffer.from([0, 0, 0, 1])]))
    .digest();
  const result = Buffer.from(u);
  for (let i = 1; i < iterations; i++) {
    u = createHmac(hash, password).update(u).digest();
    for (let j = 0; j < result.length; j++) result[j]! ^= u[j]!;
  }
  return result;
}

describe('scramSaltedPassword', () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');

  test('is Hi() of the mechanism: 32 bytes for SCRAM-SHA-256, 64 for SCRAM-SHA-512', async () => {
    const sha256 = await scramSaltedPassword('SCRAM-SHA-256', 'pencil', salt, 4096);
    assert.equal(sha256.length, 32);
    assert.deepEqual(sha256, hi('sha256', 'pencil', salt, 4096));
    const sha512 = await scramSaltedPassword('SCRAM-SHA-512', 'pencil', salt, 8192);
    assert.equal(sha512.length, 64);
    assert.deepEqual(sha512, hi('sha512', 'pencil', salt, 8192));
  });

  test('matches RFC 7677: the client proof of its example exchange', async () => {
    // RFC 7677 section 3: password "pencil", this salt, 4096 iterations, and the messages below.
    const saltedPassword = await scramSaltedPassword('SCRAM-SHA-256', 'pencil', salt, 4096);
    const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const serverNonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${serverNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${serverNonce}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]!));
    assert.equal(proof.toString('base64'), 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  });

  test('non-ASCII passwords are UTF-8', async () => {
    assert.deepEqual(
      await scramSaltedPassword('SCRAM-SHA-256', 'pässwörd ✓', salt, 4096),
      hi('sha256', 'pässwörd ✓', salt, 4096),
    );
  });
});

describe('Admin.alterUserScramCredentials before sending', () => {
  // Nothing listens on port 1: these must fail (or finish) without a broker.
  const admin = new Admin({ bootstrap: '127.0.0.1:1', retry: { retries: 0 }, connectTimeoutMs: 500 });
  after(() => admin.close());

  test('nothing to change resolves without a request', async () => {
    await admin.alterUserScramCredentials({});
    await admin.alterUserScramCredentials({ upsertions: [], deletions: [] });
  });

  test('an iteration count it will not derive fails that user, naming it', async () => {
    for (const iterations of [0, -1, 1.5, 16_385, Number.NaN]) {
      await assert.rejects(
        admin.alterUserScramCredentials({
          upsertions: [{ user: 'bob', mechanism: 'SCRAM-SHA-256', password: 'x', iterations }],
        }),
        (error: unknown) => {
          assert.ok(error instanceof KafkaClientError && !(error instanceof KafkaAggregateError));
          assert.equal(error.code, ErrorCode.UNACCEPTABLE_CREDENTIAL);
          assert.equal(error.type, 'UNACCEPTABLE_CREDENTIAL');
          assert.equal(
            error.message,
            `user 'bob': Iterations must be a whole number from 4096 to 16384, not ${iterations}`,
          );
          return true;
        },
      );
    }
  });

  test('an unknown mechanism, and several failed users in one KafkaAggregateError', async () => {
    await assert.rejects(
      admin.alterUserScramCredentials({
        upsertions: [{ user: 'bob', mechanism: 'SCRAM-SHA-1' as 'SCRAM-SHA-256', password: 'x' }],
        deletions: [{ user: 'carol', mechanism: 'MD5' as 'SCRAM-SHA-512' }],
      }),
      (error: unknown) => {
        assert.ok(error instanceof KafkaAggregateError);
        assert.deepEqual(
          error.errors.map((e) => [e instanceof UnsupportedSaslMechanismError, e.message]),
          [
            [
              true,
              "user 'bob': Unknown SCRAM mechanism 'SCRAM-SHA-1'; expected SCRAM-SHA-256 or SCRAM-SHA-512",
            ],
            [true, "user 'carol': Unknown SCRAM mechanism 'MD5'; expected SCRAM-SHA-256 or SCRAM-SHA-512"],
          ],
        );
        return true;
      },
    );
  });
});

describe('ACL names and Kafka wire codes', () => {
  // Kafka's codes: ResourceType, PatternType, AclOperation and AclPermissionType.
  const resourceTypes: [AclResourceType, number][] = [
    ['topic', 2],
    ['group', 3],
    ['cluster', 4],
    ['transactional-id', 5],
    ['delegation-token', 6],
    ['user', 7],
  ];
  const operations: [AclOperation, number][] = [
    ['all', 2],
    ['read', 3],
    ['write', 4],
    ['create', 5],
    ['delete', 6],
    ['alter', 7],
    ['describe', 8],
    ['cluster-action', 9],
    ['describe-configs', 10],
    ['alter-configs', 11],
    ['idempotent-write', 12],
    ['create-tokens', 13],
    ['describe-tokens', 14],
  ];
  const binding: AclBinding = {
    resourceType: 'topic',
    resourceName: 'orders',
    patternType: 'prefixed',
    principal: 'User:alice',
    host: '10.0.0.1',
    operation: 'read',
    permission: 'deny',
  };

  test('every resource type and operation to its code and back', () => {
    assert.deepEqual(
      [...ACL_RESOURCE_TYPES],
      resourceTypes.map(([t]) => t),
    );
    assert.deepEqual(
      [...ACL_OPERATIONS],
      operations.map(([o]) => o),
    );
    for (const [resourceType, code] of resourceTypes) {
      const wire = aclBindingToWire({ ...binding, resourceType });
      assert.equal(wire.resourceType, code, resourceType);
      assert.deepEqual(aclBindingFromWire({ ...wire, patternType: wire.resourcePatternType }), {
        ...binding,
        resourceType,
      });
    }
    for (const [operation, code] of operations) {
      const wire = aclBindingToWire({ ...binding, operation });
      assert.equal(wire.operation, code, operation);
      assert.equal(
        aclBindingFromWire({ ...wire, patternType: wire.resourcePatternType })?.operation,
        operation,
      );
    }
  });

  test('a binding: pattern types literal 3 and prefixed 4, permissions deny 2 and allow 3, defaults', () => {
    assert.deepEqual(aclBindingToWire(binding), {
      resourceType: 2,
      resourceName: 'orders',
      resourcePatternType: 4,
      principal: 'User:alice',
      host: '10.0.0.1',
      operation: 3,
      permissionType: 2,
    });
    assert.deepEqual(
      aclBindingToWire({
        resourceType: 'cluster',
        resourceName: CLUSTER_RESOURCE_NAME,
        principal: 'User:*',
        operation: 'idempotent-write',
        permission: 'allow',
      }),
      {
        resourceType: 4,
        resourceName: 'kafka-cluster',
        resourcePatternType: 3,
        principal: 'User:*',
        host: '*',
        operation: 12,
        permissionType: 3,
      },
    );
  });

  test('a filter: everything left out is ANY (code 1) or null; match is 2', () => {
    assert.deepEqual(aclFilterToWire({}), {
      resourceTypeFilter: 1,
      resourceNameFilter: null,
      patternTypeFilter: 1,
      principalFilter: null,
      hostFilter: null,
      operation: 1,
      permissionType: 1,
    });
    assert.deepEqual(
      aclFilterToWire({
        resourceType: 'group',
        resourceName: 'billing',
        patternType: 'match',
        principal: 'User:bob',
        host: '*',
        operation: 'describe',
        permission: 'allow',
      }),
      {
        resourceTypeFilter: 3,
        resourceNameFilter: 'billing',
        patternTypeFilter: 2,
        principalFilter: 'User:bob',
        hostFilter: '*',
        operation: 8,
        permissionType: 3,
      },
    );
    assert.equal(aclFilterToWire({ patternType: 'literal' }).patternTypeFilter, 3);
    assert.equal(aclFilterToWire({ patternType: 'prefixed', permission: 'deny' }).patternTypeFilter, 4);
  });

  test('codes that are not a concrete binding (ANY, MATCH, UNKNOWN 0, a newer one) decode to null', () => {
    const wire = { ...aclBindingToWire(binding), patternType: 4 };
    assert.notEqual(aclBindingFromWire(wire), null);
    for (const change of [
      { resourceType: 1 },
      { resourceType: 0 },
      { resourceType: 8 },
      { patternType: 1 },
      { patternType: 2 },
      { patternType: 5 },
      { operation: 1 },
      { operation: 15 },
      { permissionType: 1 },
      { permissionType: 0 },
    ]) {
      assert.equal(aclBindingFromWire({ ...wire, ...change }), null, JSON.stringify(change));
    }
  });

  test('an unknown name is a ConfigError naming the choices; filter-only names do not bind', () => {
    const refused = (run: () => unknown, message: string) =>
      assert.throws(run, (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.code, ErrorCode.INVALID_REQUEST);
        assert.equal(error.message, message);
        return true;
      });
    refused(
      () => aclBindingToWire({ ...binding, resourceType: 'any' as AclResourceType }),
      "Unknown resource type 'any'; expected one of topic, group, cluster, transactional-id, delegation-token, user",
    );
    refused(
      () => aclBindingToWire({ ...binding, patternType: 'match' as 'literal' }),
      "Unknown pattern type 'match'; expected one of literal, prefixed",
    );
    refused(
      () => aclBindingToWire({ ...binding, permission: 'any' as 'allow' }),
      "Unknown permission 'any'; expected one of allow, deny",
    );
    refused(
      () => aclFilterToWire({ operation: 'READ' as 'read' }),
      `Unknown operation 'READ'; expected one of any, ${ACL_OPERATIONS.join(', ')}`,
    );
  });

  test('compareAclBindings: resource type by code, then name, pattern, principal, host, operation, permission', () => {
    const a = (change: Partial<AclBinding>): AclBinding => ({ ...binding, ...change });
    const sorted = [
      a({ resourceType: 'cluster', resourceName: 'kafka-cluster' }),
      a({ resourceName: 'b', permission: 'allow' }),
      a({ resourceType: 'group' }),
      a({ resourceName: 'b', operation: 'all' }),
      a({ resourceName: 'b', patternType: 'literal' }),
      a({ resourceName: 'a' }),
      a({ resourceName: 'b', principal: 'User:zed' }),
      a({ resourceName: 'b', host: '*' }),
      a({ resourceName: 'b' }),
    ].sort(compareAclBindings);
    assert.deepEqual(
      sorted.map((b) => [
        b.resourceType,
        b.resourceName,
        b.patternType,
        b.principal,
        b.host,
        b.operation,
        b.permission,
      ]),
      [
        ['topic', 'a', 'prefixed', 'User:alice', '10.0.0.1', 'read', 'deny'],
        ['topic', 'b', 'literal', 'User:alice', '10.0.0.1', 'read', 'deny'],
        ['topic', 'b', 'prefixed', 'User:alice', '*', 'read', 'deny'],
        ['topic', 'b', 'prefixed', 'User:alice', '10.0.0.1', 'all', 'deny'],
        ['topic', 'b', 'prefixed', 'User:alice', '10.0.0.1', 'read', 'deny'],
        ['topic', 'b', 'prefixed', 'User:alice', '10.0.0.1', 'read', 'allow'],
        ['topic', 'b', 'prefixed', 'User:zed', '10.0.0.1', 'read', 'deny'],
        ['group', 'orders', 'prefixed', 'User:alice', '10.0.0.1', 'read', 'deny'],
        ['cluster', 'kafka-cluster', 'prefixed', 'User:alice', '10.0.0.1', 'read', 'deny'],
      ],
    );
  });
});

describe('Admin ACL calls before sending', () => {
  // Nothing listens on port 1: these must fail (or finish) without a broker.
  const admin = new Admin({ bootstrap: '127.0.0.1:1', retry: { retries: 0 }, connectTimeoutMs: 500 });
  after(() => admin.close());

  test('nothing to create or delete resolves without a request', async () => {
    await admin.createAcls([]);
    assert.deepEqual(await admin.deleteAcls([]), []);
  });

  test('bindings with unknown names fail each, naming the binding, without a request', async () => {
    await assert.rejects(
      admin.createAcls([
        {
          ...{ resourceType: 'topic', resourceName: 't', principal: 'User:a', permission: 'allow' },
          operation: 'peek' as 'read',
        },
        {
          resourceType: 'queue' as 'topic',
          resourceName: 'q',
          principal: 'User:a',
          operation: 'read',
          permission: 'allow',
        },
      ]),
      (error: unknown) => {
        assert.ok(error instanceof KafkaAggregateError);
        assert.deepEqual(
          error.errors.map((e) => [e.type, e.message]),
          [
            [
              'INVALID_REQUEST',
              `ACL allow User:a peek on literal topic 't' from host *: Unknown operation 'peek'; expected one of ${ACL_OPERATIONS.join(', ')}`,
            ],
            [
              'INVALID_REQUEST',
              "ACL allow User:a read on literal queue 'q' from host *: Unknown resource type 'queue'; expected one of topic, group, cluster, transactional-id, delegation-token, user",
            ],
          ],
        );
        return true;
      },
    );
  });
});
