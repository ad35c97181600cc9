// Kafka's ACL model: bindings (resource pattern + principal, host, operation, permission), the filters that
// DescribeAcls and DeleteAcls match them with, and the validity rules CreateAcls applies. Codes are Kafka's
// wire values, so bindings travel and persist unchanged.
import type { AclRecord } from '../../metadata/index.js';

export const ResourceType = {
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;
export type ResourceTypeCode = (typeof ResourceType)[keyof typeof ResourceType];

export const PatternType = { ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

export const AclOperation = {
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;
export type AclOperationCode = (typeof AclOperation)[keyof typeof AclOperation];

export const AclPermission = { ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The one resource name of the CLUSTER resource type. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
/** A LITERAL resource name, principal or host that matches every one. */
export const WILDCARD = '*';
export const WILDCARD_PRINCIPAL = 'User:*';

/** A stored ACL: every field concrete (no ANY, no MATCH). */
export type AclBinding = AclRecord;

/** What DescribeAcls and DeleteAcls select with; null strings and ANY codes match everything. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permission: number;
}

const CONCRETE_RESOURCE_TYPES = new Set<number>([
  ResourceType.TOPIC,
  ResourceType.GROUP,
  ResourceType.CLUSTER,
  ResourceType.TRANSACTIONAL_ID,
  ResourceType.DELEGATION_TOKEN,
  ResourceType.USER,
]);

/** Why CreateAcls refuses a binding (Kafka's INVALID_REQUEST messages), or null when it is valid. */
export function bindingProblem(binding: AclBinding): string | null {
  if (!CONCRETE_RESOURCE_TYPES.has(binding.resourceType)) return 'Invalid resource type';
  if (binding.patternType !== PatternType.LITERAL && binding.patternType !== PatternType.PREFIXED) {
    return 'Invalid pattern type';
  }
  if (binding.resourceName === '') return 'Resource name must not be empty';
  if (binding.patternType === PatternType.PREFIXED && binding.resourceName === WILDCARD) {
    return 'Invalid resource name: a PREFIXED pattern cannot be the wildcard';
  }
  if (binding.resourceType === ResourceType.CLUSTER && binding.resourceName !== CLUSTER_RESOURCE_NAME) {
    return `The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`;
  }
  if (principalType(binding.principal) === null) {
    return `Could not parse principal from \`${binding.principal}\` (no colon is present separating the principal type from the principal name)`;
  }
  if (binding.host === '') return 'Host must not be empty';
  if (binding.operation < AclOperation.ALL || binding.operation > AclOperation.DESCRIBE_TOKENS) {
    return 'Invalid operation';
  }
  if (binding.permission !== AclPermission.ALLOW && binding.permission !== AclPermission.DENY) {
    return 'Invalid permission type';
  }
  return null;
}

/** `User:alice` → 'User'; null without a type. */
function principalType(principal: string): string | null {
  const colon = principal.indexOf(':');
  return colon <= 0 ? null : principal.slice(0, colon);
}

/** Why DescribeAcls/DeleteAcls refuse a filter, or null. */
export function filterProblem(filter: AclBindingFilter): string | null {
  if (filter.resourceType < ResourceType.ANY || filter.resourceType > ResourceType.USER) {
    return 'Invalid resource type filter';
  }
  if (filter.patternType < PatternType.ANY || filter.patternType > PatternType.PREFIXED) {
    return 'Invalid pattern type filter';
  }
  if (filter.operation < AclOperation.ANY || filter.operation > AclOperation.DESCRIBE_TOKENS) {
    return 'Invalid operation filter';
  }
  if (filter.permission < AclPermission.ANY || filter.permission > AclPermission.ALLOW) {
    return 'Invalid permission filter';
  }
  return null;
}

/**
 * Kafka's filter semantics: ANY pattern type matches bindings with that exact name; MATCH also matches the
 * bindings that would apply to that name (the literal wildcard and every prefix of it).
 */
export function filterMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  if (filter.resourceType !== ResourceType.ANY && filter.resourceType !== binding.resourceType) return false;
  if (!patternMatches(filter, binding)) return false;
  if (filter.principal !== null && filter.principal !== binding.principal) return false;
  if (filter.host !== null && filter.host !== binding.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== binding.operation) return false;
  return filter.permission === AclPermission.ANY || filter.permission === binding.permission;
}

function patternMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  const name = filter.resourceName;
  switch (filter.patternType) {
    case PatternType.ANY:
      return name === null || name === binding.resourceName;
    case PatternType.MATCH:
      if (name === null) return true;
      if (binding.patternType === PatternType.LITERAL) {
        return binding.resourceName === name || binding.resourceName === WILDCARD;
      }
      return name.startsWith(binding.resourceName);
    default:
      return filter.patternType === binding.patternType && (name === null || name === binding.resourceName);
  }
}
