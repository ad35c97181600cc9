import { randomBytes } from 'node:crypto';

// Kafka UUIDs travel as 16 raw bytes and are shown as URL-safe base64 without padding (22 characters), the
// form Kafka's Uuid.toString() prints and its tools accept. We keep them in that text form end to end.

/** The all-zero UUID Kafka uses for "no topic id". */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Kafka reserves this one for the __cluster_metadata topic. */
export const METADATA_TOPIC_UUID = 'AAAAAAAAAAAAAAAAAAAAAQ';

export const UUID_TEXT_LENGTH = 22;
export const UUID_BYTE_LENGTH = 16;

/**
 * A fresh random UUID that is neither reserved nor starts with '-' (Kafka avoids those because command-line
 * tools would read them as options).
 */
export function randomUuid(): string {
  for (;;) {
    const text = randomBytes(UUID_BYTE_LENGTH).toString('base64url');
    if (text !== ZERO_UUID && text !== METADATA_TOPIC_UUID && !text.startsWith('-')) return text;
  }
}

/** True when `text` is the canonical 22-character form of some 16 bytes. */
export function isUuid(text: string): boolean {
  if (text.length !== UUID_TEXT_LENGTH) return false;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === UUID_BYTE_LENGTH && bytes.toString('base64url') === text;
}
