// What handlers ask of the authorizer beyond one isAuthorized call: per-request topic checks that ask once
// per topic name, and Kafka's authorized-operations bit fields (Metadata, DescribeCluster).
import { hostOf, isAuthorized, principalOf, type RequestContext } from '../context.js';
import {
  AclOperation,
  AclPermission,
  CLUSTER_RESOURCE_NAME,
  PatternType,
  ResourceType,
  WILDCARD,
  WILDCARD_PRINCIPAL,
} from '../security/acl.js';

/** Kafka's AclEntry.supportedOperations of a topic: what a topic's authorized-operations field can hold. */
const TOPIC_SUPPORTED_OPERATIONS: readonly number[] = [
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.CREATE,
  AclOperation.DELETE,
  AclOperation.ALTER,
  AclOperation.DESCRIBE,
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
];

/** Kafka's AclEntry.supportedOperations of the cluster. */
const CLUSTER_SUPPORTED_OPERATIONS: readonly number[] = [
  AclOperation.CREATE,
  AclOperation.ALTER,
  AclOperation.DESCRIBE,
  AclOperation.CLUSTER_ACTION,
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
  AclOperation.IDEMPOTENT_WRITE,
];

/**
 * Whether the request's principal may perform `operation` on a topic, asking the authorizer once per name
 * however often the request names it; null when no authorizer is configured, so a handler checks that
 * once per request and skips every per-topic step.
 */
export function topicAuthorization(
  ctx: RequestContext,
  operation: number,
): ((topic: string) => boolean) | null {
  if (!ctx.broker.authorizer) return null;
  const decided = new Map<string, boolean>();
  return (topic) => {
    let allowed = decided.get(topic);
    if (allowed === undefined) {
      allowed = isAuthorized(ctx, operation, ResourceType.TOPIC, topic);
      decided.set(topic, allowed);
    }
    return allowed;
  };
}

/** Whether the request's principal may perform `operation` on the cluster. */
export function isClusterAuthorized(ctx: RequestContext, operation: number): boolean {
  return isAuthorized(ctx, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/**
 * Kafka's authorized-operations field: bit `1 << code` set for each of `supported` the principal may
 * perform on the resource (every one of them without an authorizer).
 */
function authorizedOperations(
  ctx: RequestContext,
  resourceType: number,
  resourceName: string,
  supported: readonly number[],
): number {
  let bits = 0;
  for (const operation of supported) {
    if (isAuthorized(ctx, operation, resourceType, resourceName)) bits |= 1 << operation;
  }
  return bits;
}

/** The authorized-operations fields' value when the client did not ask for them (the schema's default). */
export const OPERATIONS_NOT_REQUESTED = -2147483648;

/** A topic's authorized-operations field (Metadata v8+). */
export function topicAuthorizedOperations(ctx: RequestContext, topic: string): number {
  return authorizedOperations(ctx, ResourceType.TOPIC, topic, TOPIC_SUPPORTED_OPERATIONS);
}

/** The cluster's authorized-operations field as Kafka fills it: none at all without DESCRIBE on the cluster. */
export function clusterAuthorizedOperations(ctx: RequestContext): number {
  if (!isClusterAuthorized(ctx, AclOperation.DESCRIBE)) return 0;
  return authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, CLUSTER_SUPPORTED_OPERATIONS);
}

/**
 * Kafka's Authorizer.authorizeByResourceType (KIP-679): whether some resource of `resourceType` exists, or
 * could, on which the principal may perform `operation`, i.e. an ALLOW binding for it (exactly that
 * operation or ALL) that no DENY binding overrules. Super users, a wildcard ALLOW and the no-ACL default are
 * covered by asking for a name no binding should carry.
 */
export function isAuthorizedForAnyResource(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
): boolean {
  if (isAuthorized(ctx, operation, resourceType, 'hardcode')) return true;
  const principal = principalOf(ctx.connection);
  const host = hostOf(ctx.connection);
  const deniedLiterals = new Set<string>();
  const deniedPrefixes = new Set<string>();
  const allowed: { name: string; literal: boolean }[] = [];
  let wildcardAllowed = false;
  for (const binding of ctx.broker.metadata.listAcls()) {
    if (binding.resourceType !== resourceType) continue;
    if (binding.host !== host && binding.host !== WILDCARD) continue;
    if (binding.principal !== principal && binding.principal !== WILDCARD_PRINCIPAL) continue;
    if (binding.operation !== operation && binding.operation !== AclOperation.ALL) continue;
    const literal = binding.patternType === PatternType.LITERAL;
    if (binding.permission === AclPermission.DENY) {
      if (literal && binding.resourceName === WILDCARD) return false;
      (literal ? deniedLiterals : deniedPrefixes).add(binding.resourceName);
    } else if (binding.permission === AclPermission.ALLOW) {
      if (literal && binding.resourceName === WILDCARD) wildcardAllowed = true;
      else allowed.push({ name: binding.resourceName, literal });
    }
  }
  if (wildcardAllowed) return true;
  return allowed.some(({ name, literal }) => {
    if (literal && deniedLiterals.has(name)) return false;
    for (let end = 1; end <= name.length; end++) if (deniedPrefixes.has(name.slice(0, end))) return false;
    return true;
  });
}
