import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AclBinding,
  type AclBindingFilter,
  AclOperation,
  AclPermission,
  bindingProblem,
  filterMatches,
  PatternType,
  ResourceType,
} from './acl.js';
import { Authorizer } from './authorizer.js';

const { READ, WRITE, DESCRIBE, ALL, ALTER_CONFIGS, DESCRIBE_CONFIGS, DELETE, CREATE } = AclOperation;
const { TOPIC, GROUP, CLUSTER } = ResourceType;

function acl(partial: Partial<AclBinding>): AclBinding {
  return {
    resourceType: TOPIC,
    resourceName: 'orders',
    patternType: PatternType.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation: READ,
    permission: AclPermission.ALLOW,
    ...partial,
  };
}

function authorizer(acls: AclBinding[], options: { superUsers?: string[]; allowEveryone?: boolean } = {}) {
  let list: readonly AclBinding[] = acls;
  const instance = new Authorizer(
    { listAcls: () => list },
    { superUsers: options.superUsers ?? [], allowEveryoneIfNoAclFound: options.allowEveryone ?? false },
  );
  const can = (principal: string, operation: number, type: number, name: string, host = '10.0.0.1') =>
    instance.authorize(principal, host, operation, type, name);
  return { can, replace: (next: AclBinding[]) => (list = next) };
}

describe('Authorizer', () => {
  test('an ALLOW for the operation, for the principal or User:*, on the literal name or the wildcard', () => {
    const { can } = authorizer([
      acl({}),
      acl({ principal: 'User:*', resourceName: 'public', operation: WRITE }),
      acl({ resourceName: '*', principal: 'User:bob', operation: DESCRIBE }),
    ]);
    assert.equal(can('User:alice', READ, TOPIC, 'orders'), true);
    assert.equal(can('User:alice', WRITE, TOPIC, 'orders'), false);
    assert.equal(can('User:bob', READ, TOPIC, 'orders'), false);
    assert.equal(can('User:carol', WRITE, TOPIC, 'public'), true);
    assert.equal(can('User:bob', DESCRIBE, TOPIC, 'anything'), true);
    assert.equal(can('User:alice', READ, GROUP, 'orders'), false, 'another resource type');
  });

  test('prefixed patterns, hosts, and DENY winning over any ALLOW', () => {
    const { can } = authorizer([
      acl({ resourceName: 'sales-', patternType: PatternType.PREFIXED, operation: ALL }),
      acl({ resourceName: 'sales-secret', operation: READ, permission: AclPermission.DENY }),
      acl({ resourceName: 'ops', principal: 'User:bob', host: '10.0.0.9' }),
    ]);
    assert.equal(can('User:alice', WRITE, TOPIC, 'sales-eu'), true);
    assert.equal(can('User:alice', READ, TOPIC, 'sales-secret'), false);
    assert.equal(can('User:alice', WRITE, TOPIC, 'sales-secret'), true);
    assert.equal(can('User:alice', READ, TOPIC, 'sales'), false, 'shorter than the prefix');
    assert.equal(can('User:bob', READ, TOPIC, 'ops', '10.0.0.9'), true);
    assert.equal(can('User:bob', READ, TOPIC, 'ops', '10.0.0.8'), false);
  });

  test('implied operations: DESCRIBE by READ/WRITE/DELETE/ALTER, DESCRIBE_CONFIGS by ALTER_CONFIGS; DENY ALL', () => {
    const { can } = authorizer([
      acl({ resourceName: 'r', operation: READ }),
      acl({ resourceName: 'd', operation: DELETE }),
      acl({ resourceName: 'c', operation: ALTER_CONFIGS }),
      acl({ resourceName: 'x', operation: ALL }),
      acl({ resourceName: 'x', operation: ALL, permission: AclPermission.DENY, principal: 'User:mallory' }),
      acl({ resourceName: 'x', operation: READ, principal: 'User:mallory' }),
    ]);
    assert.equal(can('User:alice', DESCRIBE, TOPIC, 'r'), true);
    assert.equal(can('User:alice', DESCRIBE, TOPIC, 'd'), true);
    assert.equal(can('User:alice', DESCRIBE_CONFIGS, TOPIC, 'c'), true);
    assert.equal(can('User:alice', DESCRIBE_CONFIGS, TOPIC, 'r'), false);
    assert.equal(can('User:alice', WRITE, TOPIC, 'r'), false, 'READ implies nothing else');
    assert.equal(can('User:alice', CREATE, TOPIC, 'x'), true);
    assert.equal(can('User:mallory', READ, TOPIC, 'x'), false);
  });

  test('super users, resources without ACLs, and a changed ACL list', () => {
    const { can, replace } = authorizer([acl({})], { superUsers: ['User:admin'] });
    assert.equal(can('User:admin', ALTER_CONFIGS, CLUSTER, 'kafka-cluster'), true);
    assert.equal(can('User:alice', READ, TOPIC, 'unmentioned'), false);
    const open = authorizer([acl({})], { allowEveryone: true });
    assert.equal(open.can('User:alice', READ, TOPIC, 'unmentioned'), true);
    assert.equal(open.can('User:bob', READ, TOPIC, 'orders'), false, 'a resource with ACLs follows them');
    replace([acl({ principal: 'User:bob' })]);
    assert.equal(can('User:alice', READ, TOPIC, 'orders'), false);
    assert.equal(can('User:bob', READ, TOPIC, 'orders'), true);
  });
});

describe('ACL bindings and filters', () => {
  test("CreateAcls' validity rules", () => {
    assert.equal(bindingProblem(acl({})), null);
    assert.equal(bindingProblem(acl({ resourceType: ResourceType.ANY })), 'Invalid resource type');
    assert.equal(bindingProblem(acl({ patternType: PatternType.MATCH })), 'Invalid pattern type');
    assert.equal(
      bindingProblem(acl({ resourceType: CLUSTER, resourceName: 'other' })),
      'The only valid name for the CLUSTER resource is kafka-cluster',
    );
    assert.match(bindingProblem(acl({ principal: 'alice' })) ?? '', /Could not parse principal from `alice`/);
    assert.equal(bindingProblem(acl({ operation: AclOperation.ANY })), 'Invalid operation');
    assert.equal(bindingProblem(acl({ permission: AclPermission.ANY })), 'Invalid permission type');
    assert.equal(
      bindingProblem(acl({ patternType: PatternType.PREFIXED, resourceName: '*' })),
      'Invalid resource name: a PREFIXED pattern cannot be the wildcard',
    );
  });

  test('ANY, MATCH, LITERAL and PREFIXED pattern filters', () => {
    const literal = acl({ resourceName: 'sales-eu' });
    const wildcard = acl({ resourceName: '*' });
    const prefixed = acl({ resourceName: 'sales-', patternType: PatternType.PREFIXED });
    const all = [literal, wildcard, prefixed];
    const filter = (patternType: number, resourceName: string | null): AclBindingFilter => ({
      resourceType: ResourceType.ANY,
      resourceName,
      patternType,
      principal: null,
      host: null,
      operation: AclOperation.ANY,
      permission: AclPermission.ANY,
    });
    const matching = (f: AclBindingFilter) =>
      all.filter((b) => filterMatches(f, b)).map((b) => b.resourceName);
    assert.deepEqual(matching(filter(PatternType.ANY, null)), ['sales-eu', '*', 'sales-']);
    assert.deepEqual(matching(filter(PatternType.ANY, 'sales-')), ['sales-']);
    assert.deepEqual(matching(filter(PatternType.MATCH, 'sales-eu')), ['sales-eu', '*', 'sales-']);
    assert.deepEqual(matching(filter(PatternType.MATCH, 'other')), ['*']);
    assert.deepEqual(matching(filter(PatternType.LITERAL, null)), ['sales-eu', '*']);
    assert.deepEqual(matching(filter(PatternType.PREFIXED, 'sales-')), ['sales-']);
    assert.equal(filterMatches({ ...filter(PatternType.ANY, null), principal: 'User:bob' }, literal), false);
    assert.equal(filterMatches({ ...filter(PatternType.ANY, null), operation: READ }, literal), true);
  });
});
