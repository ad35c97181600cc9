// `sluice acl list|add|remove`: the brokers' ACLs, as Kafka's kafka-acls.sh manages them. Each command turns
// its flags into bindings (add) or filters (list, remove): one per resource × principal × host × operation.

import { type Command, InvalidArgumentError } from 'commander';
import {
  ACL_OPERATIONS,
  type AclBinding,
  type AclBindingFilter,
  type AclOperation,
  type AclOperationFilter,
  type AclPatternTypeFilter,
  type AclPermission,
  type AclResourceType,
  CLUSTER_RESOURCE_NAME,
  compareAclBindings,
} from '../../client/admin.js';
import { addClientOptions, type ClientFlags, clientOptions, collect, withAdmin } from '../client-options.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { type CommandIo, formatTable, plural, printOutput, processIo } from '../output.js';

export interface ResourceFlags extends ClientFlags {
  topic?: string[];
  group?: string[];
  transactionalId?: string[];
  cluster?: boolean;
  resourcePatternType?: AclPatternTypeFilter;
}

export interface ListFlags extends ResourceFlags {
  principal?: string[];
}

export interface ChangeFlags extends ResourceFlags {
  allowPrincipal?: string[];
  denyPrincipal?: string[];
  allowHost?: string[];
  denyHost?: string[];
  operation?: AclOperation[];
  producer?: boolean;
  consumer?: boolean;
  idempotent?: boolean;
}

interface Resource {
  type: AclResourceType;
  name: string;
}

/** What a resource type's ACLs can grant, as Kafka's tool checks before adding. */
const OPERATIONS_BY_RESOURCE_TYPE: Record<AclResourceType, readonly AclOperation[]> = {
  topic: ['read', 'write', 'create', 'delete', 'alter', 'describe', 'describe-configs', 'alter-configs'],
  group: ['read', 'delete', 'describe'],
  cluster: [
    'create',
    'alter',
    'describe',
    'cluster-action',
    'describe-configs',
    'alter-configs',
    'idempotent-write',
  ],
  'transactional-id': ['write', 'describe'],
  'delegation-token': ['describe'],
  user: ['create-tokens', 'describe-tokens'],
};

const PATTERN_TYPE_FILTERS: readonly AclPatternTypeFilter[] = ['literal', 'prefixed', 'any', 'match'];

export function registerAclCommand(program: Command, context: CliContext, io: CommandIo = processIo()): void {
  const acl = program
    .command('acl')
    .description('List, add and remove the ACLs of brokers that run an authorizer')
    .addHelpText(
      'after',
      `
Examples:
  $ sluice acl list
  $ sluice acl add --allow-principal User:alice --operation read --operation describe --topic orders
  $ sluice acl add --allow-principal User:bob --producer --topic orders --transactional-id billing
  $ sluice acl add --allow-principal User:carol --consumer --topic orders --group billing
  $ sluice acl remove --allow-principal User:alice --topic orders

Principals are Type:name, e.g. User:alice; User:* is every user. Changing ACLs needs ALTER on the cluster,
listing them DESCRIBE (super.users may do both).`,
    );

  addClientOptions(
    addResourceOptions(
      acl
        .command('list')
        .description('List ACLs, one per line, sorted by resource, principal, host and operation')
        .option(
          '--principal <principal>',
          'only the ACLs of this principal; repeatable',
          collect(parsePrincipal),
        ),
      'any (every ACL) without a resource, literal with one',
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice acl list
  $ sluice acl list --topic orders
  $ sluice acl list --topic orders --resource-pattern-type match
  $ sluice acl list --principal User:alice
  $ sluice acl list --resource-pattern-type prefixed

--resource-pattern-type match lists every ACL that applies to the named resource: its literal ACLs, those of
the wildcard * and every prefixed ACL whose prefix the name starts with.`,
    )
    .action((flags: ListFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const found = new Map<string, AclBinding>();
        for (const filter of listFilters(flags)) {
          for (const binding of await admin.describeAcls(filter)) found.set(bindingKey(binding), binding);
        }
        const bindings = [...found.values()].sort(compareAclBindings);
        printOutput(io, bindings.length === 0 ? 'No ACLs.' : formatAclTable(bindings));
      }),
    );

  addClientOptions(
    addChangeOptions(
      acl.command('add').description('Add ACLs: one per resource, principal, host and operation'),
      'literal',
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice acl add --allow-principal User:alice --operation read --operation describe --topic orders
  $ sluice acl add --allow-principal User:alice --operation write --topic orders- --resource-pattern-type prefixed
  $ sluice acl add --deny-principal User:mallory --deny-host 10.0.0.7 --operation all --topic '*'
  $ sluice acl add --allow-principal User:ops --operation alter --operation describe --cluster
  $ sluice acl add --allow-principal User:bob --producer --topic orders --idempotent
  $ sluice acl add --allow-principal User:carol --consumer --topic orders --group billing

--producer grants WRITE, DESCRIBE and CREATE on the topics (with --transactional-id also WRITE and DESCRIBE on
the ids, with --idempotent IDEMPOTENT_WRITE on the cluster); --consumer grants READ and DESCRIBE on the
topics and READ on the groups.`,
    )
    .action((flags: ChangeFlags) => {
      const bindings = bindingsToAdd(flags);
      return withAdmin(clientOptions(flags, context.env), async (admin) => {
        await admin.createAcls(bindings);
        const added = [...bindings].sort(compareAclBindings);
        printOutput(io, `Added ${plural(added.length, 'ACL')}:\n${formatAclTable(added)}`);
      });
    });

  addClientOptions(
    addChangeOptions(
      acl
        .command('remove')
        .description(
          'Remove the ACLs of the resources; --allow-principal, --deny-principal, --operation and the host ' +
            'flags narrow down which',
        ),
      'literal',
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice acl remove --topic orders
  $ sluice acl remove --allow-principal User:alice --operation write --topic orders
  $ sluice acl remove --allow-principal User:carol --consumer --topic orders --group billing
  $ sluice acl remove --topic orders- --resource-pattern-type prefixed

Without principals, operations or hosts, every ACL of the resources goes; the removed ACLs are printed.
--resource-pattern-type match removes every ACL that applies to the resource (prefixed and * ones too).`,
    )
    .action((flags: ChangeFlags) => {
      const filters = removalFilters(flags);
      return withAdmin(clientOptions(flags, context.env), async (admin) => {
        const removed = await admin.deleteAcls(filters);
        printOutput(
          io,
          removed.length === 0
            ? 'No ACLs matched; nothing was removed.'
            : `Removed ${plural(removed.length, 'ACL')}:\n${formatAclTable(removed)}`,
        );
      });
    });
}

function addResourceOptions(command: Command, patternDefault: string): Command {
  return command
    .option(
      '--topic <topic>',
      'a topic (or with prefixed: a topic name prefix); repeatable',
      collect(parseName),
    )
    .option('--group <group>', 'a consumer group (or prefix); repeatable', collect(parseName))
    .option('--transactional-id <id>', 'a transactional id (or prefix); repeatable', collect(parseName))
    .option('--cluster', 'the cluster')
    .option(
      '--resource-pattern-type <type>',
      `literal, prefixed, any or match (default: ${patternDefault})`,
      parsePatternType,
    );
}

function addChangeOptions(command: Command, patternDefault: string): Command {
  return addResourceOptions(command, patternDefault)
    .option(
      '--allow-principal <principal>',
      'principal to allow, e.g. User:alice; repeatable',
      collect(parsePrincipal),
    )
    .option('--deny-principal <principal>', 'principal to deny; repeatable', collect(parsePrincipal))
    .option(
      '--allow-host <host>',
      'host the allow principals apply to; repeatable (default: *, every host)',
      collect(parseName),
    )
    .option(
      '--deny-host <host>',
      'host the deny principals apply to; repeatable (default: *, every host)',
      collect(parseName),
    )
    .option(
      '--operation <operation>',
      `operation, repeatable: ${ACL_OPERATIONS.join(', ')}`,
      collect(parseOperation),
    )
    .option('--producer', 'the operations a producer needs (WRITE, DESCRIBE, CREATE on the topics)')
    .option(
      '--consumer',
      'the operations a consumer needs (READ, DESCRIBE on the topics, READ on the groups)',
    )
    .option('--idempotent', 'with --producer: IDEMPOTENT_WRITE on the cluster');
}

/** The resources the flags name, in flag order: topics, groups, transactional ids, the cluster. */
export function selectedResources(flags: ResourceFlags): Resource[] {
  return [
    ...(flags.topic ?? []).map((name): Resource => ({ type: 'topic', name })),
    ...(flags.group ?? []).map((name): Resource => ({ type: 'group', name })),
    ...(flags.transactionalId ?? []).map((name): Resource => ({ type: 'transactional-id', name })),
    ...(flags.cluster ? [{ type: 'cluster', name: CLUSTER_RESOURCE_NAME } satisfies Resource] : []),
  ];
}

/** `acl list`: every resource × principal; without a resource, every resource of the pattern type. */
export function listFilters(flags: ListFlags): AclBindingFilter[] {
  const resources = selectedResources(flags);
  const patternType = flags.resourcePatternType ?? (resources.length === 0 ? 'any' : 'literal');
  const resourceFilters: AclBindingFilter[] =
    resources.length === 0
      ? [{ patternType }]
      : resources.map((r) => ({ resourceType: r.type, resourceName: r.name, patternType }));
  const principals = flags.principal ?? [];
  if (principals.length === 0) return resourceFilters;
  return resourceFilters.flatMap((filter) => principals.map((principal) => ({ ...filter, principal })));
}

/** `acl add`: every resource × operation × principal × host; the operations checked against the resources. */
export function bindingsToAdd(flags: ChangeFlags): AclBinding[] {
  const patternType = flags.resourcePatternType ?? 'literal';
  if (patternType !== 'literal' && patternType !== 'prefixed') {
    throw new UsageError('acl add needs --resource-pattern-type literal or prefixed');
  }
  const principals = principalsOf(flags);
  if (principals.length === 0) throw new UsageError('acl add needs --allow-principal or --deny-principal');
  const grants = resourceOperations(flags);
  if (grants.length === 0) throw new UsageError('acl add needs --operation, --producer or --consumer');
  for (const { resource, operation } of grants) {
    const supported = OPERATIONS_BY_RESOURCE_TYPE[resource.type];
    if (operation !== 'all' && !supported.includes(operation)) {
      throw new UsageError(
        `operation ${operation} does not apply to a ${resource.type}; it takes ${['all', ...supported].join(', ')}`,
      );
    }
  }
  const bindings = grants.flatMap(({ resource, operation }) =>
    principals.map(
      ({ principal, permission, host }): AclBinding => ({
        resourceType: resource.type,
        resourceName: resource.name,
        patternType,
        principal,
        host: host ?? '*',
        operation,
        permission,
      }),
    ),
  );
  // A resource or principal named twice asks for the same ACL twice.
  return [...new Map(bindings.map((binding) => [bindingKey(binding), binding])).values()];
}

/** `acl remove`: like add, but principals, operations and hosts left out match every one. */
export function removalFilters(flags: ChangeFlags): AclBindingFilter[] {
  const patternType = flags.resourcePatternType ?? 'literal';
  const principals = principalsOf(flags);
  const named = resourceOperations(flags);
  const grants: { resource: Resource; operation: AclOperationFilter }[] =
    named.length > 0 ? named : selectedResources(flags).map((resource) => ({ resource, operation: 'any' }));
  const who: { principal: string | null; permission: AclPermission | 'any'; host: string | null }[] =
    principals.length > 0 ? principals : [{ principal: null, permission: 'any', host: null }];
  return grants.flatMap(({ resource, operation }) =>
    who.map(
      ({ principal, permission, host }): AclBindingFilter => ({
        resourceType: resource.type,
        resourceName: resource.name,
        patternType,
        principal,
        host,
        operation,
        permission,
      }),
    ),
  );
}

/** Allow then deny principals, each with each of its hosts (null: none given). */
function principalsOf(
  flags: ChangeFlags,
): { principal: string; permission: AclPermission; host: string | null }[] {
  const allow = flags.allowPrincipal ?? [];
  const deny = flags.denyPrincipal ?? [];
  if (flags.allowHost !== undefined && allow.length === 0)
    throw new UsageError('--allow-host needs --allow-principal');
  if (flags.denyHost !== undefined && deny.length === 0)
    throw new UsageError('--deny-host needs --deny-principal');
  const withHosts = (principals: string[], permission: AclPermission, hosts: string[] | undefined) =>
    principals.flatMap((principal) => (hosts ?? [null]).map((host) => ({ principal, permission, host })));
  return [...withHosts(allow, 'allow', flags.allowHost), ...withHosts(deny, 'deny', flags.denyHost)];
}

/**
 * The operations per resource: --operation on every named resource, or what --producer / --consumer need;
 * none when neither is given.
 */
function resourceOperations(flags: ChangeFlags): { resource: Resource; operation: AclOperation }[] {
  const resources = selectedResources(flags);
  if (resources.length === 0) {
    throw new UsageError('name the resources: --topic, --group, --transactional-id or --cluster');
  }
  if (flags.idempotent && !flags.producer) throw new UsageError('--idempotent goes with --producer');
  if (!flags.producer && !flags.consumer) {
    const operations = flags.operation ?? [];
    return resources.flatMap((resource) => operations.map((operation) => ({ resource, operation })));
  }
  if (flags.operation !== undefined)
    throw new UsageError('--operation cannot go with --producer or --consumer');
  if (flags.cluster) throw new UsageError('--producer and --consumer take no --cluster (see --idempotent)');
  if (!flags.topic) throw new UsageError('--producer and --consumer need --topic');
  if (flags.consumer && !flags.group) throw new UsageError('--consumer needs --group');
  if (flags.group && !flags.consumer) throw new UsageError('--group goes with --consumer, not --producer');
  if (flags.transactionalId && !flags.producer) {
    throw new UsageError('--transactional-id goes with --producer, not --consumer');
  }
  const operationsOf = (resource: Resource): AclOperation[] => {
    switch (resource.type) {
      case 'topic':
        return [
          ...(flags.producer ? (['write', 'describe', 'create'] as const) : []),
          ...(flags.consumer ? (['read', 'describe'] as const) : []),
        ].filter((operation, i, all) => all.indexOf(operation) === i);
      case 'group':
        return ['read'];
      case 'transactional-id':
        return ['write', 'describe'];
      default:
        return [];
    }
  };
  const grants = resources.flatMap((resource) =>
    operationsOf(resource).map((operation) => ({ resource, operation })),
  );
  if (flags.idempotent) {
    grants.push({
      resource: { type: 'cluster', name: CLUSTER_RESOURCE_NAME },
      operation: 'idempotent-write',
    });
  }
  return grants;
}

function bindingKey(b: AclBinding): string {
  return JSON.stringify([
    b.resourceType,
    b.resourceName,
    b.patternType,
    b.principal,
    b.host,
    b.operation,
    b.permission,
  ]);
}

/** Kafka's spellings too: Read, DescribeConfigs, describe_configs, IDEMPOTENT_WRITE. */
export function parseOperation(text: string): AclOperation {
  const wanted = text.trim().toLowerCase().replaceAll(/[-_]/g, '');
  const found = ACL_OPERATIONS.find((operation) => operation.replaceAll('-', '') === wanted);
  if (found === undefined) throw new InvalidArgumentError(`expected one of ${ACL_OPERATIONS.join(', ')}`);
  return found;
}

export function parsePatternType(text: string): AclPatternTypeFilter {
  const wanted = text.trim().toLowerCase();
  const found = PATTERN_TYPE_FILTERS.find((type) => type === wanted);
  if (found === undefined)
    throw new InvalidArgumentError(`expected one of ${PATTERN_TYPE_FILTERS.join(', ')}`);
  return found;
}

/** Type:name, as Kafka parses principals: the type before the first colon, both non-empty. */
export function parsePrincipal(text: string): string {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new InvalidArgumentError('expected a principal of the form Type:name, e.g. User:alice');
  }
  return text;
}

function parseName(text: string): string {
  if (text === '') throw new InvalidArgumentError('expected a non-empty value');
  return text;
}

/**
 * One row per ACL:
 * ```
 * RESOURCE      PATTERN  PRINCIPAL   HOST  OPERATION  PERMISSION
 * topic:orders  literal  User:alice  *     read       allow
 * ```
 */
export function formatAclTable(bindings: readonly AclBinding[]): string {
  return formatTable(
    ['RESOURCE', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'],
    bindings.map((b) => [
      `${b.resourceType}:${b.resourceName}`,
      b.patternType,
      b.principal,
      b.host,
      b.operation,
      b.permission,
    ]),
  );
}
