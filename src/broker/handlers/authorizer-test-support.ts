// Test-only: a fake authorizer for handler tests that allows exactly what it is told and records each question,
// so a test can check both the answer a client gets and which permissions the handler asked for.

/** [operation, resourceType, resourceName] as handlers ask the authorizer (Kafka's codes). */
export type Permission = readonly [operation: number, resourceType: number, resourceName: string];

export interface FakeAuthorizer {
  authorize(principal: string, host: string, operation: number, resourceType: number, name: string): boolean;
  /** What it allows; tests may change it. */
  allowed: Permission[];
  /** Every question asked, in order. */
  readonly asked: Permission[];
}

/** Allows exactly `allowed` (no implied operations: tests name each one the handler should ask). */
export function allowOnly(allowed: readonly Permission[]): FakeAuthorizer {
  const fake: FakeAuthorizer = {
    allowed: [...allowed],
    asked: [],
    authorize(_principal, _host, operation, resourceType, name) {
      fake.asked.push([operation, resourceType, name]);
      return fake.allowed.some(
        ([op, type, resource]) => op === operation && type === resourceType && resource === name,
      );
    },
  };
  return fake;
}
