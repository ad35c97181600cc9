// The accounts a SASL listener accepts. Passwords are kept only as digests (PLAIN) and as SCRAM's stored and
// server keys, so that nothing in memory can be replayed as a password.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { SaslUser } from '../../common/config-values.js';
import type { MetadataStore, ScramCredentialRecord } from '../../metadata/index.js';

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

/** Bytes of the mechanism's digest: the length of its salted password, stored key and server key. */
export function scramKeyBytes(mechanism: ScramMechanism): number {
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
    scramKeyBytes(mechanism),
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

/** Where credentials managed at run time (AlterUserScramCredentials) live: the metadata store. */
export type DynamicCredentialStore = Pick<MetadataStore, 'getScramCredential' | 'listScramCredentials'>;

export interface UserCredentialsOptions {
  /** SCRAM mechanisms to derive for the configured users. Default: both. */
  scramMechanisms?: readonly ScramMechanism[];
  iterations?: number;
  /** Tests pass a fixed salt (RFC 7677's example); in service every credential gets a random one. */
  newSalt?: () => Buffer;
  dynamic?: DynamicCredentialStore;
}

/** A digest no password has, compared against when the user is unknown so that both cases take as long. */
const UNKNOWN_USER_DIGEST = randomBytes(32);

/**
 * The accounts a SASL listener accepts: those of `sasl.users` (fixed while the broker runs) and, for every
 * other name, the SCRAM credentials stored through AlterUserScramCredentials.
 */
export class UserCredentials {
  private constructor(
    private readonly accounts: ReadonlyMap<string, Account>,
    private readonly dynamic: DynamicCredentialStore | null,
  ) {}

  /** Derives every configured user's SCRAM credentials (fresh random salts) for the given mechanisms. */
  static async fromUsers(
    users: readonly SaslUser[],
    options: UserCredentialsOptions = {},
  ): Promise<UserCredentials> {
    const mechanisms = options.scramMechanisms ?? SCRAM_MECHANISMS;
    const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
    const newSalt = options.newSalt ?? (() => randomBytes(SALT_BYTES));
    const accounts = new Map<string, Account>();
    for (const user of users) {
      const scram = new Map<ScramMechanism, ScramCredential>();
      for (const mechanism of mechanisms) {
        scram.set(mechanism, await scramCredential(mechanism, user.password, newSalt(), iterations));
      }
      accounts.set(user.name, { passwordDigest: passwordDigest(user.password), scram });
    }
    return new UserCredentials(accounts, options.dynamic ?? null);
  }

  /**
   * PLAIN's check. A configured user's password is compared by digest, in time independent of where it
   * differs; a user with stored SCRAM credentials is checked by deriving the stored key from the password.
   */
  async verifyPassword(user: string, password: string): Promise<boolean> {
    const account = this.accounts.get(user);
    if (account !== undefined || this.dynamic === null) {
      const matches = timingSafeEqual(
        account?.passwordDigest ?? UNKNOWN_USER_DIGEST,
        passwordDigest(password),
      );
      return account !== undefined && matches;
    }
    const stored = this.dynamic.listScramCredentials().find((credential) => credential.user === user);
    if (stored === undefined) {
      timingSafeEqual(UNKNOWN_USER_DIGEST, passwordDigest(password));
      return false;
    }
    const expected = decodeCredential(stored);
    const derived = await scramCredential(stored.mechanism, password, expected.salt, expected.iterations);
    return timingSafeEqual(derived.storedKey, expected.storedKey);
  }

  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    const account = this.accounts.get(user);
    if (account !== undefined) return account.scram.get(mechanism);
    const stored = this.dynamic?.getScramCredential(user, mechanism);
    return stored === undefined ? undefined : decodeCredential(stored);
  }
}

function decodeCredential(record: ScramCredentialRecord): ScramCredential {
  return {
    salt: Buffer.from(record.salt, 'base64'),
    iterations: record.iterations,
    storedKey: Buffer.from(record.storedKey, 'base64'),
    serverKey: Buffer.from(record.serverKey, 'base64'),
  };
}
