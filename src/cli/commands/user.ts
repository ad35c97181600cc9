// `sluice user list|set|delete`: SCRAM accounts kept by the brokers (KIP-554), as Kafka's
// `kafka-configs --entity-type users` manages them. The password is salted here; only the salted form is sent.

import { type Command, InvalidArgumentError } from 'commander';
import {
  DEFAULT_SCRAM_ITERATIONS,
  MAX_SCRAM_ITERATIONS,
  SCRAM_MECHANISMS,
  type ScramMechanism,
  type UserScramCredentials,
} from '../../client/admin.js';
import { KafkaClientError } from '../../client/errors.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  addClientOptions,
  type ClientFlags,
  clientOptions,
  integerIn,
  withAdmin,
} from '../client-options.js';
import type { CliContext } from '../context.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { type CommandIo, formatTable, printOutput, processIo } from '../output.js';

/** Where `user set` finds the password when --password is not given: out of shell history and `ps`. */
export const USER_PASSWORD_ENV = 'SLUICE_USER_PASSWORD';

interface SetFlags extends ClientFlags {
  mechanism: ScramMechanism;
  iterations?: number;
  password?: string;
}

interface DeleteFlags extends ClientFlags {
  mechanism?: ScramMechanism;
}

const MECHANISM_CHOICES = SCRAM_MECHANISMS.join(', ');

export function registerUserCommand(
  program: Command,
  context: CliContext,
  io: CommandIo = processIo(),
): void {
  const user = program
    .command('user')
    .description('List, set and delete the SCRAM credentials users log in with')
    .addHelpText(
      'after',
      `
Examples:
  $ sluice user list
  $ SLUICE_USER_PASSWORD=bob-secret sluice user set bob --mechanism SCRAM-SHA-256 --iterations 8192
  $ sluice user delete bob

Users of the broker's sasl.users setting are listed too, but can only be changed in its configuration.`,
    );

  addClientOptions(
    user
      .command('list')
      .description('List users with the mechanism and iteration count of each credential, sorted')
      .argument('[user...]', 'only these users (default: all)'),
  )
    .addHelpText('after', '\nExamples:\n  $ sluice user list\n  $ sluice user list alice bob')
    .action((users: string[], flags: ClientFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        const described = await admin.describeUserScramCredentials([...new Set(users)]);
        printOutput(io, formatUserList(described));
      }),
    );

  addClientOptions(
    user
      .command('set')
      .description("Add or replace a user's SCRAM credential for one mechanism")
      .argument('<user>', 'user name')
      .requiredOption('--mechanism <mechanism>', `SCRAM mechanism: ${MECHANISM_CHOICES}`, parseScramMechanism)
      .option(
        '--iterations <n>',
        `PBKDF2 iterations, ${DEFAULT_SCRAM_ITERATIONS} to ${MAX_SCRAM_ITERATIONS} (default: ${DEFAULT_SCRAM_ITERATIONS})`,
        integerIn(DEFAULT_SCRAM_ITERATIONS, MAX_SCRAM_ITERATIONS),
      )
      .option(
        '--password <password>',
        `the new password (default: $${USER_PASSWORD_ENV}, which stays out of shell history and the process list)`,
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ SLUICE_USER_PASSWORD=bob-secret sluice user set bob --mechanism SCRAM-SHA-256
  $ sluice user set carol --mechanism SCRAM-SHA-512 --iterations 8192 --password carol-secret

The user can log in with that mechanism, and with PLAIN, from the next connection on.`,
    )
    .action((name: string, flags: SetFlags) => {
      const password = flags.password ?? nonEmpty(context.env[USER_PASSWORD_ENV]);
      if (password === undefined) {
        throw new UsageError(`user set needs the new password: --password or $${USER_PASSWORD_ENV}`);
      }
      const iterations = flags.iterations ?? DEFAULT_SCRAM_ITERATIONS;
      return withAdmin(clientOptions(flags, context.env), async (admin) => {
        await admin.alterUserScramCredentials({
          upsertions: [{ user: name, mechanism: flags.mechanism, password, iterations }],
        });
        printOutput(io, `Set the ${flags.mechanism} credential of user '${name}' (${iterations} iterations)`);
      });
    });

  addClientOptions(
    user
      .command('delete')
      .description("Delete a user's SCRAM credentials: one mechanism's, or all of them")
      .argument('<user>', 'user name')
      .option(
        '--mechanism <mechanism>',
        `only this mechanism's credential: ${MECHANISM_CHOICES} (default: all)`,
        parseScramMechanism,
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ sluice user delete bob
  $ sluice user delete bob --mechanism SCRAM-SHA-512

Connections already logged in stay open; the user's next login fails.`,
    )
    .action((name: string, flags: DeleteFlags) =>
      withAdmin(clientOptions(flags, context.env), async (admin) => {
        let mechanisms: ScramMechanism[];
        if (flags.mechanism === undefined) {
          const [described] = await admin.describeUserScramCredentials([name]).catch((error: unknown) => {
            throw notFound(error, `user '${name}' has no SCRAM credentials (RESOURCE_NOT_FOUND)`);
          });
          mechanisms = described?.credentials.map((c) => c.mechanism) ?? [];
        } else {
          mechanisms = [flags.mechanism];
        }
        await admin
          .alterUserScramCredentials({
            deletions: mechanisms.map((mechanism) => ({ user: name, mechanism })),
          })
          .catch((error: unknown) => {
            throw notFound(
              error,
              `user '${name}' has no ${mechanisms.join(' or ')} credential (RESOURCE_NOT_FOUND)`,
            );
          });
        const credentials = mechanisms.length === 1 ? 'credential' : 'credentials';
        printOutput(io, `Deleted the ${mechanisms.join(' and ')} ${credentials} of user '${name}'`);
      }),
    );
}

/** --mechanism: Kafka's names, in any letter case. */
export function parseScramMechanism(text: string): ScramMechanism {
  const wanted = text.trim().toUpperCase();
  const found = SCRAM_MECHANISMS.find((mechanism) => mechanism === wanted);
  if (found === undefined) throw new InvalidArgumentError(`expected one of ${MECHANISM_CHOICES}`);
  return found;
}

/** An empty variable counts as unset, as for the other SLUICE_* variables. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** A missing user or credential says so in the user's terms; other failures pass through. */
function notFound(error: unknown, message: string): unknown {
  if (error instanceof KafkaClientError && error.code === ErrorCode.RESOURCE_NOT_FOUND) {
    return new CommandFailedError(message);
  }
  return error;
}

/**
 * One row per credential:
 * ```
 * USER   MECHANISM      ITERATIONS
 * alice  SCRAM-SHA-256        4096
 * ```
 */
export function formatUserList(users: readonly UserScramCredentials[]): string {
  const rows = users.flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, String(c.iterations)]));
  if (rows.length === 0) return 'No SCRAM users.';
  return formatTable(['USER', 'MECHANISM', 'ITERATIONS'], rows, [2]);
}
