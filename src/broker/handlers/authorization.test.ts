import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RequestContext } from '../context.js';
import { type AclBinding, AclOperation, AclPermission, PatternType, ResourceType } from '../security/acl.js';
import { Authorizer } from '../security/authorizer.js';
import { isAuthorizedForAnyResource, topicAuthorization } from './authorization.js';

const { WRITE, READ, ALL } = AclOperation;
const { LITERAL, PREFIXED } = PatternType;
const { ALLOW, DENY } = AclPermission;

function binding(
  resourceName: string,
  patternType: number,
  permission: number,
  options: { operation?: number; principal?: string; host?: string; resourceType?: number } = {},
): AclBinding {
  return {
    resourceType: options.resourceType ?? ResourceType.TOPIC,
    resourceName,
    patternType,
    principal: options.principal ?? 'User:alice',
    host: options.host ?? '*',
    operation: options.operation ?? WRITE,
    permission,
  };
}

/** A request from User:alice at 10.0.0.1 to a broker with the standard authorizer over `acls`. */
function context(
  acls: AclBinding[],
  options: { superUsers?: string[]; allowEveryoneIfNoAclFound?: boolean } = {},
): RequestContext {
  const source = { listAcls: () => acls };
  const authorizer = new Authorizer(source, {
    superUsers: options.superUsers ?? [],
    allowEveryoneIfNoAclFound: options.allowEveryoneIfNoAclFound ?? false,
  });
  const connection = { remoteAddress: '::ffff:10.0.0.1', sasl: { principal: 'alice' }, sslPrincipal: null };
  return { broker: { authorizer, metadata: source }, connection } as unknown as RequestContext;
}

const mayWriteSomeTopic = (ctx: RequestContext) => isAuthorizedForAnyResource(ctx, WRITE, ResourceType.TOPIC);

describe('isAuthorizedForAnyResource (Kafka authorizeByResourceType, KIP-679)', () => {
  test('an ALLOW for the operation or ALL on some topic, literal, prefixed or wildcard', () => {
    assert.equal(mayWriteSomeTopic(context([binding('orders', LITERAL, ALLOW)])), true);
    assert.equal(mayWriteSomeTopic(context([binding('ord', PREFIXED, ALLOW)])), true);
    assert.equal(mayWriteSomeTopic(context([binding('*', LITERAL, ALLOW)])), true);
    assert.equal(mayWriteSomeTopic(context([binding('orders', LITERAL, ALLOW, { operation: ALL })])), true);
  });

  test('nothing that allows it: another operation, principal, host or resource type', () => {
    assert.equal(mayWriteSomeTopic(context([])), false);
    assert.equal(mayWriteSomeTopic(context([binding('orders', LITERAL, ALLOW, { operation: READ })])), false);
    assert.equal(
      mayWriteSomeTopic(context([binding('orders', LITERAL, ALLOW, { principal: 'User:bob' })])),
      false,
    );
    assert.equal(
      mayWriteSomeTopic(context([binding('orders', LITERAL, ALLOW, { host: '10.0.0.2' })])),
      false,
    );
    const group = binding('orders', LITERAL, ALLOW, { resourceType: ResourceType.GROUP });
    assert.equal(mayWriteSomeTopic(context([group])), false);
    // Whoever and wherever: User:* and the client's own host count.
    assert.equal(
      mayWriteSomeTopic(context([binding('orders', LITERAL, ALLOW, { principal: 'User:*' })])),
      true,
    );
    assert.equal(mayWriteSomeTopic(context([binding('orders', LITERAL, ALLOW, { host: '10.0.0.1' })])), true);
  });

  test('a DENY overrules: the same literal, a prefix of the allowed name, or the wildcard', () => {
    const allowOrders = binding('orders', LITERAL, ALLOW);
    assert.equal(mayWriteSomeTopic(context([allowOrders, binding('orders', LITERAL, DENY)])), false);
    assert.equal(mayWriteSomeTopic(context([allowOrders, binding('ord', PREFIXED, DENY)])), false);
    assert.equal(
      mayWriteSomeTopic(context([binding('*', LITERAL, ALLOW), binding('*', LITERAL, DENY)])),
      false,
    );
    // A deny on a longer prefix or another literal leaves the allowed pattern some topic.
    assert.equal(
      mayWriteSomeTopic(context([binding('ord', PREFIXED, ALLOW), binding('orders', PREFIXED, DENY)])),
      true,
    );
    assert.equal(mayWriteSomeTopic(context([allowOrders, binding('other', LITERAL, DENY)])), true);
    // One allowed pattern left is enough.
    const both = [allowOrders, binding('orders', LITERAL, DENY), binding('audit', LITERAL, ALLOW)];
    assert.equal(mayWriteSomeTopic(context(both)), true);
  });

  test('super users, and everyone when no ACL applies and allow.everyone.if.no.acl.found is set', () => {
    assert.equal(
      mayWriteSomeTopic(context([binding('*', LITERAL, DENY)], { superUsers: ['User:alice'] })),
      true,
    );
    assert.equal(mayWriteSomeTopic(context([], { allowEveryoneIfNoAclFound: true })), true);
  });
});

describe('topicAuthorization', () => {
  test('null without an authorizer; with one, each topic is asked once', () => {
    assert.equal(
      topicAuthorization({ broker: { authorizer: null } } as unknown as RequestContext, READ),
      null,
    );
    const asked: string[] = [];
    const ctx = {
      broker: {
        authorizer: {
          authorize: (_principal: string, _host: string, _op: number, _type: number, name: string) => {
            asked.push(name);
            return name === 'orders';
          },
        },
      },
      connection: { remoteAddress: '127.0.0.1', sasl: null, sslPrincipal: null },
    } as unknown as RequestContext;
    const mayRead = topicAuthorization(ctx, READ)!;
    assert.deepEqual(
      ['orders', 'secret', 'orders', 'secret'].map((name) => mayRead(name)),
      [true, false, true, false],
    );
    assert.deepEqual(asked, ['orders', 'secret']);
  });
});
