// Kafka's standard authorizer: a request is allowed when no DENY binding matches it and an ALLOW binding does
// (for the operation itself, ALL, or an operation that implies it), for the principal (or User:*) and host
// (or *), on a literal, wildcard or prefixed pattern of the resource. Super users are always allowed;
// resources without any binding follow allow.everyone.if.no.acl.found.
import type { AclBinding } from './acl.js';
import { AclOperation, AclPermission, PatternType, WILDCARD, WILDCARD_PRINCIPAL } from './acl.js';

/** Where the bindings live (the metadata store): a new list object whenever they change. */
export interface AclSource {
  listAcls(): readonly AclBinding[];
}

export interface AuthorizerOptions {
  /** Principals allowed everything, e.g. ['User:admin']. */
  superUsers: readonly string[];
  allowEveryoneIfNoAclFound: boolean;
}

/** Kafka's implications: DESCRIBE is allowed by any of these, DESCRIBE_CONFIGS by ALTER_CONFIGS. */
const IMPLIED_BY: ReadonlyMap<number, readonly number[]> = new Map([
  [
    AclOperation.DESCRIBE,
    [AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER],
  ],
  [AclOperation.DESCRIBE_CONFIGS, [AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]],
]);

/** Bindings of one resource type, split by how their pattern matches a name. */
interface TypeIndex {
  literal: Map<string, AclBinding[]>;
  prefixed: AclBinding[];
}

/**
 * Kafka's Authorizer.authorizeByResourceType (KIP-679): whether some resource of `resourceType` exists, or
 * could, on which the principal may perform `operation`, i.e. an ALLOW binding for it (exactly that
 * operation or ALL) that no DENY binding overrules. `authorize` is the full check of one name: super users, a
 * wildcard ALLOW and the no-ACL default are covered by asking it for a name no binding should carry, as
 * Kafka's default implementation does.
 */
export function anyResourceAllows(
  bindings: readonly AclBinding[],
  principal: string,
  host: string,
  operation: number,
  resourceType: number,
  authorize: (name: string) => boolean,
): boolean {
  if (authorize('hardcode')) return true;
  const deniedLiterals = new Set<string>();
  const deniedPrefixes = new Set<string>();
  const allowed: { name: string; literal: boolean }[] = [];
  let wildcardAllowed = false;
  for (const binding of bindings) {
    if (binding.resourceType !== resourceType || !appliesTo(binding, principal, host)) continue;
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

/** Whether a binding names this principal (or User:*) and host (or *). */
function appliesTo(binding: AclBinding, principal: string, host: string): boolean {
  return (
    (binding.principal === principal || binding.principal === WILDCARD_PRINCIPAL) &&
    (binding.host === host || binding.host === WILDCARD)
  );
}

export class Authorizer {
  private indexedFrom: readonly AclBinding[] | null = null;
  private index = new Map<number, TypeIndex>();
  private readonly superUsers: ReadonlySet<string>;

  constructor(
    private readonly source: AclSource,
    private readonly options: AuthorizerOptions,
  ) {
    this.superUsers = new Set(options.superUsers);
  }

  authorize(principal: string, host: string, operation: number, resourceType: number, name: string): boolean {
    if (this.superUsers.has(principal)) return true;
    const bindings = this.bindingsFor(resourceType, name);
    if (bindings.length === 0) return this.options.allowEveryoneIfNoAclFound;
    for (const binding of bindings) {
      if (
        binding.permission === AclPermission.DENY &&
        (binding.operation === operation || binding.operation === AclOperation.ALL) &&
        appliesTo(binding, principal, host)
      ) {
        return false;
      }
    }
    const allowedBy = IMPLIED_BY.get(operation) ?? [operation];
    for (const binding of bindings) {
      if (
        binding.permission === AclPermission.ALLOW &&
        (binding.operation === AclOperation.ALL || allowedBy.includes(binding.operation)) &&
        appliesTo(binding, principal, host)
      ) {
        return true;
      }
    }
    return false;
  }

  /** Kafka's authorizeByResourceType (KIP-679); see anyResourceAllows. */
  authorizeByResourceType(principal: string, host: string, operation: number, resourceType: number): boolean {
    return anyResourceAllows(this.source.listAcls(), principal, host, operation, resourceType, (name) =>
      this.authorize(principal, host, operation, resourceType, name),
    );
  }

  /** Every binding whose pattern covers `name`: literal, the wildcard, and every matching prefix. */
  private bindingsFor(resourceType: number, name: string): AclBinding[] {
    const index = this.indexOf(resourceType);
    if (index === undefined) return [];
    const found = [...(index.literal.get(name) ?? []), ...(index.literal.get(WILDCARD) ?? [])];
    for (const binding of index.prefixed) if (name.startsWith(binding.resourceName)) found.push(binding);
    return found;
  }

  private indexOf(resourceType: number): TypeIndex | undefined {
    const bindings = this.source.listAcls();
    // The store hands out a new frozen list on every change, so identity says whether the index is current.
    if (bindings !== this.indexedFrom) {
      this.index = new Map();
      for (const binding of bindings) {
        let index = this.index.get(binding.resourceType);
        if (index === undefined) {
          index = { literal: new Map(), prefixed: [] };
          this.index.set(binding.resourceType, index);
        }
        if (binding.patternType === PatternType.PREFIXED) index.prefixed.push(binding);
        else {
          const list = index.literal.get(binding.resourceName) ?? [];
          list.push(binding);
          index.literal.set(binding.resourceName, list);
        }
      }
      this.indexedFrom = bindings;
    }
    return this.index.get(resourceType);
  }
}
