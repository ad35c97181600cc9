// What handlers ask of the authorizer beyond one isAuthorized call: per-request topic checks that ask once
// per topic name, and Kafka's authorized-operations bit fields (Metadata, DescribeCluster).
import { hostOf, isAuthorized, principalOf, type RequestContext } from '../context.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';

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

/** Kafka's authorizeByResourceType (KIP-679) for the request's principal; true without an authorizer. */
export function isAuthorizedForAnyResource(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
): boolean {
  const authorizer = ctx.broker.authorizer;
  if (!authorizer) return true;
  return authorizer.authorizeByResourceType(
    principalOf(ctx.connection),
    hostOf(ctx.connection),
    operation,
    resourceType,
  );
}
