// How client commands fail. A mistake in the command line is exit status 2 (UsageError). A broker or runtime problem is one readable line on stderr and exit status 1.
// Kafka's error name goes in the line so that it can be looked up, but the stack trace stays out: these are
// expected outcomes (unknown topic, unreachable broker), not bugs.

import { KafkaAggregateError, KafkaClientError } from '../client/errors.js';
import { ErrorCode } from '../protocol/errors.js';

/** The command line asks for something impossible (conflicting or missing flags); exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A client command could not do its job for a reason already worded for the user; exit status 1. */
export class CommandFailedError extends Error {
  override name = 'CommandFailedError';
}

/** One line describing a failure of a client command (without the `sluice: ` prefix). */
export function describeFailure(error: CommandFailedError | KafkaClientError): string {
  if (error instanceof KafkaAggregateError) return error.errors.map(describeClientError).join('; ');
  if (error instanceof KafkaClientError) return describeClientError(error);
  return error.message;
}

function describeClientError(error: KafkaClientError): string {
  // The broker's text for this code speaks of "this broker"; for a whole topic, say what it means.
  if (
    error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION &&
    error.topic !== undefined &&
    error.partition === undefined
  ) {
    return `topic '${error.topic}' does not exist (${error.type})`;
  }
  let subject = '';
  if (error.topic !== undefined && !error.message.includes(`'${error.topic}'`)) {
    subject =
      error.partition === undefined ? `topic '${error.topic}': ` : `${error.topic}-${error.partition}: `;
  } else if (error.groupId !== undefined && !error.message.includes(`'${error.groupId}'`)) {
    subject = `group '${error.groupId}': `;
  }
  const message = error.message.replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
  const name = message.includes(error.type) ? '' : ` (${error.type})`;
  return `${subject}${message}${name}`;
}
