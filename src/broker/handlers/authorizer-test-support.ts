// Test-only: a fake authorizer for handler tests that allows exactly what it is told and records each question,
// so a test can check both the answer a client gets and which permissions the handler asked for.
import type { AclBinding } from '../security/acl.js';
import { anyResourceAllows } from '../security/authorizer.js';

/** [operation, resourceType, resourceName] as handlers ask the authorizer (Kafka's codes). */
export type Permission = readonly [operation: number, resourceType: number, resourceName: string];

export interface FakeAuthorizer {
  authorize(principal: string, host: string, operation: number, resourceType: number, name: string): boolean;
  /** KIP-679 over `acls`, asking `authorize` for single names as the real authorizer does. */
  authorizeByResourceType(principal: string, host: string, operation: number, resourceType: number): boolean;
  /** What it allows; tests may change it. */
  allowed: Permission[];
  /** Every question asked, in order. */
  readonly asked: Permission[];
}

/**
 * Allows exactly `allowed` (no implied operations: tests name each one the handler should ask); `acls` are the
 * bindings a by-resource-type check (KIP-679) scans.
 */
export function allowOnly(allowed: readonly Permission[], acls: readonly AclBinding[] = []): FakeAuthorizer {
  const fake: FakeAuthorizer = {
    allowed: [...allowed],
    asked: [],
    authorize(_principal, _host, operation, resourceType, name) {
      fake.asked.push([operation, resourceType, name]);
      return fake.allowed.some(
        ([op, type, resource]) => op === operation && type === resourceType && resource === name,
      );
    },
    authorizeByResourceType(principal, host, operation, resourceType) {
      return anyResourceAllows(acls, principal, host, operation, resourceType, (name) =>
        fake.authorize(principal, host, operation, resourceType, name),
      );
    },
  };
  return fake;
}
