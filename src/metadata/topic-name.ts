// Kafka's topic name rules.

import { InvalidTopicError } from './errors.js';

export const TOPIC_NAME_MAX_LENGTH = 249;
const LEGAL_CHARS = /^[a-zA-Z0-9._-]+$/;

/** Why `name` is not a legal topic name (INVALID_TOPIC_EXCEPTION), or null when it is. */
export function validateTopicName(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty.";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or "..".';
  if (name.length > TOPIC_NAME_MAX_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${TOPIC_NAME_MAX_LENGTH} characters, topic name: ${name}`;
  }
  if (!LEGAL_CHARS.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

/** Throws InvalidTopicError when `name` is not legal. */
export function checkTopicName(name: string): void {
  const problem = validateTopicName(name);
  if (problem !== null) throw new InvalidTopicError(problem);
}

/** Whether a name contains '.' or '_', which metric names cannot tell apart (worth a warning). */
export function hasCollisionChars(name: string): boolean {
  return name.includes('.') || name.includes('_');
}

/** Two different names that differ only by '.' versus '_' collide; Kafka refuses the second one. */
export function topicNamesCollide(a: string, b: string): boolean {
  return a !== b && unifyCollisionChars(a) === unifyCollisionChars(b);
}

/** Kafka's refusal of `name` when it collides with the existing topic `existing`. */
export function topicCollisionError(name: string, existing: string): InvalidTopicError {
  return new InvalidTopicError(
    `Topic '${name}' collides with existing topic: ${existing} ('.' and '_' are treated alike).`,
  );
}

export function unifyCollisionChars(name: string): string {
  return name.replace(/\./g, '_');
}
