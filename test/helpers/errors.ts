// kafkajs wraps broker errors (retries exceeded, aggregate errors per topic); these helpers look through the
// wrapping for the Kafka error type so a test can assert the broker's actual error code.

interface ErrorLike {
  type?: unknown;
  cause?: unknown;
  errors?: unknown;
  originalError?: unknown;
}

/** Every `type` (Kafka error name such as 'TOPIC_ALREADY_EXISTS') found in the error and what it wraps. */
export function kafkaErrorTypes(err: unknown, depth = 0): string[] {
  if (err === null || typeof err !== 'object' || depth > 8) return [];
  const e = err as ErrorLike;
  const types: string[] = typeof e.type === 'string' ? [e.type] : [];
  types.push(...kafkaErrorTypes(e.cause, depth + 1), ...kafkaErrorTypes(e.originalError, depth + 1));
  if (Array.isArray(e.errors)) for (const inner of e.errors) types.push(...kafkaErrorTypes(inner, depth + 1));
  return types;
}

/** An assert.rejects validator: passes if the error (or something it wraps) has the given Kafka error type. */
export function hasKafkaErrorType(type: string): (err: unknown) => boolean {
  return (err: unknown) => {
    const types = kafkaErrorTypes(err);
    if (types.includes(type)) return true;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new Error(`expected Kafka error ${type}, got [${types.join(', ')}] (${message})`);
  };
}
