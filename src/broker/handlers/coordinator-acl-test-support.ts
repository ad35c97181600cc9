// Test-only: a fake authorizer for the group, offset and transaction handler tests. It grants exactly the
// listed (operation, resource type, name) triples, with none of the real authorizer's implications, so a
// test shows which operation a handler asks for.

export type Grant = readonly [operation: number, resourceType: number, name: string];

export interface FakeAuthorizer {
  authorize(principal: string, host: string, operation: number, resourceType: number, name: string): boolean;
  /** Every question asked, as [principal, host, operation, resourceType, name]. */
  readonly asked: [string, string, number, number, string][];
}

export function grantsOnly(...grants: Grant[]): FakeAuthorizer {
  const asked: FakeAuthorizer['asked'] = [];
  return {
    asked,
    authorize(principal, host, operation, resourceType, name) {
      asked.push([principal, host, operation, resourceType, name]);
      return grants.some(
        ([op, type, granted]) => op === operation && type === resourceType && granted === name,
      );
    },
  };
}
