// `sluice acl list|add|remove`: how the flags become bindings and filters (in process), then end to end with
// `node bin/sluice.js` as a child process against a SASL_PLAINTEXT broker running Kafka's standard authorizer:
// exact tables, the broker's refusals as one line with exit status 1, command-line mistakes with exit status 2,
// and ACLs added by the CLI letting alice produce and consume with the CLI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  bindingsToAdd,
  type ChangeFlags,
  formatAclTable,
  listFilters,
  parseOperation,
  parsePatternType,
  parsePrincipal,
  removalFilters,
} from '../../src/cli/commands/acl.js';
import { UsageError } from '../../src/cli/errors.js';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import type { ProgramResult } from '../helpers/process.js';
import { assertFailed, assertSucceeded, lines, runSluice } from '../helpers/sluice-cli.js';

describe('acl flags to bindings and filters', () => {
  const usage = (run: () => unknown, message: string) =>
    assert.throws(run, (error: unknown) => error instanceof UsageError && error.message === message);

  test('add: resource × operation × principal × host, defaults literal and *', () => {
    assert.deepEqual(
      bindingsToAdd({
        topic: ['a', 'b'],
        operation: ['read', 'write'],
        allowPrincipal: ['User:alice'],
        denyPrincipal: ['User:eve'],
        denyHost: ['10.0.0.1', '10.0.0.2'],
      }).map((b) => [b.resourceName, b.operation, b.principal, b.permission, b.host, b.patternType]),
      [
        ['a', 'read', 'User:alice', 'allow', '*', 'literal'],
        ['a', 'read', 'User:eve', 'deny', '10.0.0.1', 'literal'],
        ['a', 'read', 'User:eve', 'deny', '10.0.0.2', 'literal'],
        ['a', 'write', 'User:alice', 'allow', '*', 'literal'],
        ['a', 'write', 'User:eve', 'deny', '10.0.0.1', 'literal'],
        ['a', 'write', 'User:eve', 'deny', '10.0.0.2', 'literal'],
        ['b', 'read', 'User:alice', 'allow', '*', 'literal'],
        ['b', 'read', 'User:eve', 'deny', '10.0.0.1', 'literal'],
        ['b', 'read', 'User:eve', 'deny', '10.0.0.2', 'literal'],
        ['b', 'write', 'User:alice', 'allow', '*', 'literal'],
        ['b', 'write', 'User:eve', 'deny', '10.0.0.1', 'literal'],
        ['b', 'write', 'User:eve', 'deny', '10.0.0.2', 'literal'],
      ],
    );
    assert.deepEqual(bindingsToAdd({ cluster: true, operation: ['all'], allowPrincipal: ['User:ops'] }), [
      {
        resourceType: 'cluster',
        resourceName: 'kafka-cluster',
        patternType: 'literal',
        principal: 'User:ops',
        host: '*',
        operation: 'all',
        permission: 'allow',
      },
    ]);
  });

  test('add: a resource, operation or principal named twice is one ACL', () => {
    assert.deepEqual(
      bindingsToAdd({
        topic: ['t', 't'],
        operation: ['read', 'read'],
        allowPrincipal: ['User:a', 'User:a'],
        allowHost: ['*', '*'],
      }),
      [
        {
          resourceType: 'topic',
          resourceName: 't',
          patternType: 'literal',
          principal: 'User:a',
          host: '*',
          operation: 'read',
          permission: 'allow',
        },
      ],
    );
  });

  test('--producer and --consumer: the operations kafka-acls.sh grants', () => {
    const grants = (flags: ChangeFlags) =>
      bindingsToAdd({ allowPrincipal: ['User:a'], ...flags }).map(
        (b) => `${b.resourceType}:${b.resourceName} ${b.operation}`,
      );
    assert.deepEqual(grants({ producer: true, topic: ['t'] }), [
      'topic:t write',
      'topic:t describe',
      'topic:t create',
    ]);
    assert.deepEqual(grants({ producer: true, topic: ['t'], transactionalId: ['x'], idempotent: true }), [
      'topic:t write',
      'topic:t describe',
      'topic:t create',
      'transactional-id:x write',
      'transactional-id:x describe',
      'cluster:kafka-cluster idempotent-write',
    ]);
    assert.deepEqual(grants({ consumer: true, topic: ['t'], group: ['g'] }), [
      'topic:t read',
      'topic:t describe',
      'group:g read',
    ]);
    assert.deepEqual(grants({ producer: true, consumer: true, topic: ['t'], group: ['g'] }), [
      'topic:t write',
      'topic:t describe',
      'topic:t create',
      'topic:t read',
      'group:g read',
    ]);
  });

  test('add: mistakes in the flags are usage errors', () => {
    const alice = { allowPrincipal: ['User:alice'] };
    usage(
      () => bindingsToAdd({ ...alice, operation: ['read'] }),
      'name the resources: --topic, --group, --transactional-id or --cluster',
    );
    usage(
      () => bindingsToAdd({ topic: ['t'], operation: ['read'] }),
      'acl add needs --allow-principal or --deny-principal',
    );
    usage(
      () => bindingsToAdd({ ...alice, topic: ['t'] }),
      'acl add needs --operation, --producer or --consumer',
    );
    usage(
      () => bindingsToAdd({ ...alice, group: ['g'], operation: ['write'] }),
      'operation write does not apply to a group; it takes all, read, delete, describe',
    );
    usage(
      () => bindingsToAdd({ ...alice, topic: ['t'], operation: ['read'], resourcePatternType: 'match' }),
      'acl add needs --resource-pattern-type literal or prefixed',
    );
    usage(() => bindingsToAdd({ ...alice, consumer: true, topic: ['t'] }), '--consumer needs --group');
    usage(
      () => bindingsToAdd({ ...alice, producer: true, group: ['g'] }),
      '--producer and --consumer need --topic',
    );
    usage(
      () => bindingsToAdd({ ...alice, producer: true, topic: ['t'], operation: ['read'] }),
      '--operation cannot go with --producer or --consumer',
    );
    usage(
      () => bindingsToAdd({ ...alice, topic: ['t'], idempotent: true }),
      '--idempotent goes with --producer',
    );
    usage(
      () => bindingsToAdd({ topic: ['t'], operation: ['read'], allowHost: ['h'], denyPrincipal: ['User:x'] }),
      '--allow-host needs --allow-principal',
    );
  });

  test('remove: what is not given matches everything; list: no resource lists every one', () => {
    assert.deepEqual(removalFilters({ topic: ['t'] }), [
      {
        resourceType: 'topic',
        resourceName: 't',
        patternType: 'literal',
        principal: null,
        host: null,
        operation: 'any',
        permission: 'any',
      },
    ]);
    assert.deepEqual(
      removalFilters({
        group: ['g'],
        allowPrincipal: ['User:a'],
        operation: ['read'],
        resourcePatternType: 'match',
      }),
      [
        {
          resourceType: 'group',
          resourceName: 'g',
          patternType: 'match',
          principal: 'User:a',
          host: null,
          operation: 'read',
          permission: 'allow',
        },
      ],
    );
    usage(() => removalFilters({}), 'name the resources: --topic, --group, --transactional-id or --cluster');
    assert.deepEqual(listFilters({}), [{ patternType: 'any' }]);
    assert.deepEqual(listFilters({ resourcePatternType: 'prefixed', principal: ['User:a'] }), [
      { patternType: 'prefixed', principal: 'User:a' },
    ]);
    assert.deepEqual(listFilters({ topic: ['t'], cluster: true }), [
      { resourceType: 'topic', resourceName: 't', patternType: 'literal' },
      { resourceType: 'cluster', resourceName: 'kafka-cluster', patternType: 'literal' },
    ]);
  });

  test('parsers take Kafka spellings; the table has one row per ACL', () => {
    assert.deepEqual(
      ['Read', 'DescribeConfigs', 'describe_configs', 'IDEMPOTENT_WRITE', 'cluster-action', 'All'].map(
        parseOperation,
      ),
      ['read', 'describe-configs', 'describe-configs', 'idempotent-write', 'cluster-action', 'all'],
    );
    assert.throws(() => parseOperation('peek'), InvalidArgumentError);
    assert.throws(() => parseOperation('any'), InvalidArgumentError);
    assert.equal(parsePatternType('PREFIXED'), 'prefixed');
    assert.throws(() => parsePatternType('regex'), InvalidArgumentError);
    assert.equal(parsePrincipal('User:CN=alice,O=example'), 'User:CN=alice,O=example');
    for (const bad of ['alice', ':alice', 'User:'])
      assert.throws(() => parsePrincipal(bad), InvalidArgumentError);
    assert.equal(
      formatAclTable([
        {
          resourceType: 'transactional-id',
          resourceName: 'tx',
          patternType: 'prefixed',
          principal: 'User:bob',
          host: '*',
          operation: 'write',
          permission: 'deny',
        },
      ]),
      [
        'RESOURCE             PATTERN   PRINCIPAL  HOST  OPERATION  PERMISSION',
        'transactional-id:tx  prefixed  User:bob   *     write      deny',
      ].join('\n'),
    );
  });
});

let broker: Broker;
let brokerWithoutAuthorizer: Broker;

const asAdmin = ['--sasl-mechanism', 'plain', '--sasl-username', 'admin', '--sasl-password', 'admin-secret'];
const asAlice = [
  '--sasl-mechanism',
  'scram-sha-256',
  '--sasl-username',
  'alice',
  '--sasl-password',
  'alice-secret',
];

/** The CLI against `target`; SASL variables are empty (unset), so each command logs in with its own flags. */
function sluice(args: string[], options: { input?: string; target?: Broker } = {}): Promise<ProgramResult> {
  return runSluice((options.target ?? broker).bootstrap, args, { ...options, timeoutMs: 15_000 });
}

/** Asserts exit status 0 and an empty stderr; returns stdout. */
async function ok(args: string[], options: { input?: string } = {}): Promise<string> {
  return assertSucceeded(args, await sluice(args, options));
}

/** Asserts this exit status, an empty stdout and exactly `line` on stderr. */
async function fails(
  args: string[],
  code: number,
  line: string,
  options: { input?: string; target?: Broker } = {},
): Promise<void> {
  assertFailed(args, await sluice(args, options), code, line);
}

describe('sluice acl against a broker', { timeout: 60_000 }, () => {
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
    await disposeAllBrokers();
  });

  test('add, list with filters, remove: exact tables', async () => {
    assert.equal(await ok(['acl', 'list', ...asAdmin]), 'No ACLs.\n');
    const [readers, producer, consumer, denied] = await Promise.all([
      ok([
        'acl',
        'add',
        '--allow-principal',
        'User:alice',
        '--operation',
        'read',
        '--operation',
        'DescribeConfigs',
        '--topic',
        'orders',
        '--topic',
        'payments',
        ...asAdmin,
      ]),
      ok([
        'acl',
        'add',
        '--allow-principal',
        'User:bob',
        '--producer',
        '--topic',
        'orders',
        '--transactional-id',
        'tx',
        '--idempotent',
        ...asAdmin,
      ]),
      ok([
        'acl',
        'add',
        '--allow-principal',
        'User:carol',
        '--consumer',
        '--topic',
        'orders-',
        '--group',
        'billing',
        '--resource-pattern-type',
        'prefixed',
        ...asAdmin,
      ]),
      ok([
        'acl',
        'add',
        '--deny-principal',
        'User:mallory',
        '--deny-host',
        '10.0.0.7',
        '--operation',
        'all',
        '--topic',
        '*',
        ...asAdmin,
      ]),
    ]);
    assert.equal(
      readers,
      lines(
        'Added 4 ACLs:',
        'RESOURCE        PATTERN  PRINCIPAL   HOST  OPERATION         PERMISSION',
        'topic:orders    literal  User:alice  *     read              allow',
        'topic:orders    literal  User:alice  *     describe-configs  allow',
        'topic:payments  literal  User:alice  *     read              allow',
        'topic:payments  literal  User:alice  *     describe-configs  allow',
      ),
    );
    assert.equal(
      producer,
      lines(
        'Added 6 ACLs:',
        'RESOURCE               PATTERN  PRINCIPAL  HOST  OPERATION         PERMISSION',
        'topic:orders           literal  User:bob   *     write             allow',
        'topic:orders           literal  User:bob   *     create            allow',
        'topic:orders           literal  User:bob   *     describe          allow',
        'cluster:kafka-cluster  literal  User:bob   *     idempotent-write  allow',
        'transactional-id:tx    literal  User:bob   *     write             allow',
        'transactional-id:tx    literal  User:bob   *     describe          allow',
      ),
    );
    assert.equal(
      consumer,
      lines(
        'Added 3 ACLs:',
        'RESOURCE       PATTERN   PRINCIPAL   HOST  OPERATION  PERMISSION',
        'topic:orders-  prefixed  User:carol  *     read       allow',
        'topic:orders-  prefixed  User:carol  *     describe   allow',
        'group:billing  prefixed  User:carol  *     read       allow',
      ),
    );
    assert.equal(
      denied,
      lines(
        'Added 1 ACL:',
        'RESOURCE  PATTERN  PRINCIPAL     HOST      OPERATION  PERMISSION',
        'topic:*   literal  User:mallory  10.0.0.7  all        deny',
      ),
    );

    const [all, match, literal, bob, prefixed] = await Promise.all([
      ok(['acl', 'list', ...asAdmin]),
      ok(['acl', 'list', '--topic', 'orders-eu', '--resource-pattern-type', 'match', ...asAdmin]),
      ok(['acl', 'list', '--topic', 'orders', '--principal', 'User:alice', ...asAdmin]),
      ok(['acl', 'list', '--principal', 'User:bob', '--cluster', '--transactional-id', 'tx', ...asAdmin]),
      ok(['acl', 'list', '--resource-pattern-type', 'prefixed', ...asAdmin]),
    ]);
    assert.equal(
      all,
      lines(
        'RESOURCE               PATTERN   PRINCIPAL     HOST      OPERATION         PERMISSION',
        'topic:*                literal   User:mallory  10.0.0.7  all               deny',
        'topic:orders           literal   User:alice    *         read              allow',
        'topic:orders           literal   User:alice    *         describe-configs  allow',
        'topic:orders           literal   User:bob      *         write             allow',
        'topic:orders           literal   User:bob      *         create            allow',
        'topic:orders           literal   User:bob      *         describe          allow',
        'topic:orders-          prefixed  User:carol    *         read              allow',
        'topic:orders-          prefixed  User:carol    *         describe          allow',
        'topic:payments         literal   User:alice    *         read              allow',
        'topic:payments         literal   User:alice    *         describe-configs  allow',
        'group:billing          prefixed  User:carol    *         read              allow',
        'cluster:kafka-cluster  literal   User:bob      *         idempotent-write  allow',
        'transactional-id:tx    literal   User:bob      *         write             allow',
        'transactional-id:tx    literal   User:bob      *         describe          allow',
      ),
    );
    assert.equal(
      match,
      lines(
        'RESOURCE       PATTERN   PRINCIPAL     HOST      OPERATION  PERMISSION',
        'topic:*        literal   User:mallory  10.0.0.7  all        deny',
        'topic:orders-  prefixed  User:carol    *         read       allow',
        'topic:orders-  prefixed  User:carol    *         describe   allow',
      ),
    );
    assert.equal(
      literal,
      lines(
        'RESOURCE      PATTERN  PRINCIPAL   HOST  OPERATION         PERMISSION',
        'topic:orders  literal  User:alice  *     read              allow',
        'topic:orders  literal  User:alice  *     describe-configs  allow',
      ),
    );
    assert.equal(
      bob,
      lines(
        'RESOURCE               PATTERN  PRINCIPAL  HOST  OPERATION         PERMISSION',
        'cluster:kafka-cluster  literal  User:bob   *     idempotent-write  allow',
        'transactional-id:tx    literal  User:bob   *     write             allow',
        'transactional-id:tx    literal  User:bob   *     describe          allow',
      ),
    );
    assert.equal(
      prefixed,
      lines(
        'RESOURCE       PATTERN   PRINCIPAL   HOST  OPERATION  PERMISSION',
        'topic:orders-  prefixed  User:carol  *     read       allow',
        'topic:orders-  prefixed  User:carol  *     describe   allow',
        'group:billing  prefixed  User:carol  *     read       allow',
      ),
    );

    assert.equal(
      await ok([
        'acl',
        'remove',
        '--allow-principal',
        'User:bob',
        '--operation',
        'write',
        '--topic',
        'orders',
        '--transactional-id',
        'tx',
        ...asAdmin,
      ]),
      lines(
        'Removed 2 ACLs:',
        'RESOURCE             PATTERN  PRINCIPAL  HOST  OPERATION  PERMISSION',
        'topic:orders         literal  User:bob   *     write      allow',
        'transactional-id:tx  literal  User:bob   *     write      allow',
      ),
    );
    assert.equal(
      await ok(['acl', 'remove', '--topic', 'orders', ...asAdmin]),
      lines(
        'Removed 4 ACLs:',
        'RESOURCE      PATTERN  PRINCIPAL   HOST  OPERATION         PERMISSION',
        'topic:orders  literal  User:alice  *     read              allow',
        'topic:orders  literal  User:alice  *     describe-configs  allow',
        'topic:orders  literal  User:bob    *     create            allow',
        'topic:orders  literal  User:bob    *     describe          allow',
      ),
    );
    assert.equal(
      await ok(['acl', 'remove', '--topic', 'orders', ...asAdmin]),
      'No ACLs matched; nothing was removed.\n',
    );
    assert.equal(
      await ok([
        'acl',
        'remove',
        '--allow-principal',
        'User:carol',
        '--consumer',
        '--topic',
        'orders-',
        '--group',
        'billing',
        '--resource-pattern-type',
        'prefixed',
        ...asAdmin,
      ]),
      lines(
        'Removed 3 ACLs:',
        'RESOURCE       PATTERN   PRINCIPAL   HOST  OPERATION  PERMISSION',
        'topic:orders-  prefixed  User:carol  *     read       allow',
        'topic:orders-  prefixed  User:carol  *     describe   allow',
        'group:billing  prefixed  User:carol  *     read       allow',
      ),
    );
    assert.equal(
      await ok([
        'acl',
        'remove',
        '--topic',
        '*',
        '--topic',
        'payments',
        '--cluster',
        '--transactional-id',
        'tx',
        ...asAdmin,
      ]),
      lines(
        'Removed 5 ACLs:',
        'RESOURCE               PATTERN  PRINCIPAL     HOST      OPERATION         PERMISSION',
        'topic:*                literal  User:mallory  10.0.0.7  all               deny',
        'topic:payments         literal  User:alice    *         read              allow',
        'topic:payments         literal  User:alice    *         describe-configs  allow',
        'cluster:kafka-cluster  literal  User:bob      *         idempotent-write  allow',
        'transactional-id:tx    literal  User:bob      *         describe          allow',
      ),
    );
    assert.equal(await ok(['acl', 'list', ...asAdmin]), 'No ACLs.\n');
  });

  test('refusals: one line, exit status 1; command-line mistakes: exit status 2', async () => {
    await Promise.all([
      fails(
        [
          'acl',
          'add',
          '--allow-principal',
          'User:x',
          '--operation',
          'read',
          '--topic',
          '*',
          '--resource-pattern-type',
          'prefixed',
          ...asAdmin,
        ],
        1,
        "sluice: ACL allow User:x read on prefixed topic '*' from host *: Invalid resource name: a PREFIXED pattern cannot be the wildcard (INVALID_REQUEST)",
      ),
      fails(
        ['acl', 'list', ...asAlice],
        1,
        'sluice: Cluster authorization failed (CLUSTER_AUTHORIZATION_FAILED)',
      ),
      fails(
        ['acl', 'add', '--allow-principal', 'User:alice', '--operation', 'all', '--cluster', ...asAlice],
        1,
        'sluice: Cluster authorization failed (CLUSTER_AUTHORIZATION_FAILED)',
      ),
      fails(
        ['acl', 'list'],
        1,
        'sluice: the broker has no authorizer, so ACLs are not enabled (SECURITY_DISABLED)',
        { target: brokerWithoutAuthorizer },
      ),
      fails(
        ['acl', 'remove', '--cluster'],
        1,
        'sluice: the broker has no authorizer, so ACLs are not enabled (SECURITY_DISABLED)',
        { target: brokerWithoutAuthorizer },
      ),
      fails(
        ['acl', 'add', '--allow-principal', 'User:x', '--operation', 'write', '--group', 'g', ...asAdmin],
        2,
        'sluice: operation write does not apply to a group; it takes all, read, delete, describe',
      ),
      fails(
        ['acl', 'add', '--allow-principal', 'alice', '--operation', 'read', '--topic', 't', ...asAdmin],
        2,
        "sluice: error: option '--allow-principal <principal>' argument 'alice' is invalid. expected a principal of the form Type:name, e.g. User:alice",
      ),
      fails(
        ['acl', 'add', '--allow-principal', 'User:x', '--operation', 'peek', '--topic', 't', ...asAdmin],
        2,
        "sluice: error: option '--operation <operation>' argument 'peek' is invalid. expected one of all, read, write, create, delete, alter, describe, cluster-action, describe-configs, alter-configs, idempotent-write, create-tokens, describe-tokens",
      ),
      fails(
        ['acl', 'remove', '--allow-principal', 'User:x', ...asAdmin],
        2,
        'sluice: name the resources: --topic, --group, --transactional-id or --cluster',
      ),
    ]);
    assert.equal(await ok(['acl', 'list', ...asAdmin]), 'No ACLs.\n');
  });

  test('--help shows examples', async () => {
    const [help, addHelp] = await Promise.all([ok(['acl', '--help']), ok(['acl', 'add', '--help'])]);
    assert.match(
      help,
      /\$ sluice acl add --allow-principal User:alice --operation read --operation describe --topic orders\n/,
    );
    assert.match(addHelp, /--producer +the operations a producer needs/);
    assert.match(
      addHelp,
      /\$ sluice acl add --allow-principal User:carol --consumer --topic orders --group billing\n/,
    );
    assert.match(addHelp, /--sasl-mechanism <mechanism>/);
  });

  test('enforcement: ACLs added with the CLI let alice produce and consume with the CLI', async () => {
    await ok(['topic', 'create', 'alice-orders', '--partitions', '1', ...asAdmin]);
    const produce = ['produce', '--topic', 'alice-orders', ...asAlice];
    await fails(
      produce,
      1,
      "sluice: topic 'alice-orders': Not authorized to access the topic (TOPIC_AUTHORIZATION_FAILED)",
      {
        input: 'refused\n',
      },
    );
    await ok([
      'acl',
      'add',
      '--allow-principal',
      'User:alice',
      '--producer',
      '--topic',
      'alice-orders',
      ...asAdmin,
    ]);
    // The summary goes to stderr, as the CLI's progress output does.
    const produced = await sluice(produce, { input: 'first\nsecond\n' });
    assert.deepEqual(
      [produced.code, produced.stdout, produced.stderr],
      [0, '', "Produced 2 records to 'alice-orders': partition 0 offsets 0-1\n"],
    );
    const consume = [
      'consume',
      '--topic',
      'alice-orders',
      '--group',
      'alice-group',
      '--from',
      'earliest',
      '--exit-at-end',
      ...asAlice,
    ];
    await fails(
      consume,
      1,
      "sluice: group 'alice-group': Not authorized to access the group (GROUP_AUTHORIZATION_FAILED)",
    );
    await ok([
      'acl',
      'add',
      '--allow-principal',
      'User:alice',
      '--consumer',
      '--topic',
      'alice-orders',
      '--group',
      'alice-group',
      ...asAdmin,
    ]);
    assert.equal(await ok(consume), 'first\nsecond\n');
  });
});
