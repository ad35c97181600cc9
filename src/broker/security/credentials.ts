// The accounts a SASL listener accepts. Passwords are kept only as digests (PLAIN) and as SCRAM's stored and
// server keys, so that nothing in memory can be replayed as a password.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { SaslUser } from '../../common/config-values.js';

const pbkdf2Async = promisify(pbkdf2);

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Kafka's minimum (and kafka-configs' default) iteration count for SCRAM credentials. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

const SALT_BYTES = 32;

/** What RFC 5802 has the server keep per user: enough to verify a proof and to sign, not to log in. */
export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function scramHashName(mechanism: ScramMechanism): 'sha256' | 'sha512' {
  return mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
}

function hashLength(mechanism: ScramMechanism): number {
  return mechanism === 'SCRAM-SHA-256' ? 32 : 64;
}

/** RFC 5802 section 3: the stored and server keys of a salted password. */
export function scramCredentialFromSaltedPassword(
  mechanism: ScramMechanism,
  saltedPassword: Buffer,
  salt: Buffer,
  iterations: number,
): ScramCredential {
  const hash = scramHashName(mechanism);
  const clientKey = createHmac(hash, saltedPassword).update('Client Key').digest();
  return {
    salt,
    iterations,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: createHmac(hash, saltedPassword).update('Server Key').digest(),
  };
}

export async function scramCredential(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<ScramCredential> {
  const saltedPassword = await pbkdf2Async(
    Buffer.from(password, 'utf8'),
    salt,
    iterations,
    hashLength(mechanism),
    scramHashName(mechanism),
  );
  return scramCredentialFromSaltedPassword(mechanism, saltedPassword, salt, iterations);
}

function passwordDigest(password: string): Buffer {
  return createHash('sha256').update(password, 'utf8').digest();
}

interface Account {
  passwordDigest: Buffer;
  scram: Map<ScramMechanism, ScramCredential>;
}

/** A digest no password has, compared against when the user is unknown so that both cases take as long. */
const UNKNOWN_USER_DIGEST = randomBytes(32);

export class UserCredentials {
  private constructor(private readonly accounts: ReadonlyMap<string, Account>) {}

  /** Derives every user's SCRAM credentials (fresh random salts) for the given mechanisms. */
  static async fromUsers(
    users: readonly SaslUser[],
    scramMechanisms: readonly ScramMechanism[] = SCRAM_MECHANISMS,
    iterations = DEFAULT_SCRAM_ITERATIONS,
    newSalt: () => Buffer = () => randomBytes(SALT_BYTES),
  ): Promise<UserCredentials> {
    const accounts = new Map<string, Account>();
    for (const user of users) {
      const scram = new Map<ScramMechanism, ScramCredential>();
      for (const mechanism of scramMechanisms) {
        scram.set(mechanism, await scramCredential(mechanism, user.password, newSalt(), iterations));
      }
      accounts.set(user.name, { passwordDigest: passwordDigest(user.password), scram });
    }
    return new UserCredentials(accounts);
  }

  get userCount(): number {
    return this.accounts.size;
  }

  /** PLAIN's check, in time independent of where the password differs. */
  verifyPassword(user: string, password: string): boolean {
    const account = this.accounts.get(user);
    const matches = timingSafeEqual(account?.passwordDigest ?? UNKNOWN_USER_DIGEST, passwordDigest(password));
    return account !== undefined && matches;
  }

  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.accounts.get(user)?.scram.get(mechanism);
  }
}
