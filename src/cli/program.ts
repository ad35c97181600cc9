// The `sluice` command tree and its error policy: user mistakes (bad flag, bad setting) print one line to
// stderr and exit 2; a broker that fails to start exits 1; help and --version exit 0. Each subcommand lives
// in its own file under commands/ and registers itself here.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { KafkaClientError } from '../client/errors.js';
import { ConfigError } from '../common/config-file.js';
import { registerAclCommand } from './commands/acl.js';
import { registerClusterCommand } from './commands/cluster.js';
import { registerConsumeCommand } from './commands/consume.js';
import { registerGroupCommand } from './commands/group.js';
import { registerPerfCommand } from './commands/perf.js';
import { registerProduceCommand } from './commands/produce.js';
import { registerStartCommand, StartFailedError } from './commands/start.js';
import { registerTopicCommand } from './commands/topic.js';
import { registerTransactionCommand } from './commands/transaction.js';
import { registerUserCommand } from './commands/user.js';
import type { CliContext } from './context.js';
import { CommandFailedError, describeFailure, UsageError } from './errors.js';

import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-status.js';

export function buildProgram(context: CliContext): Command {
  const program = new Command('sluice')
    .description('Event streaming broker that speaks the Apache Kafka wire protocol')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      outputError: (text) => context.printError(`sluice: ${text.trim().replace(/\s*\n\s*/g, ' ')}`),
    })
    .showSuggestionAfterError();
  registerStartCommand(program, context);
  registerTopicCommand(program, context);
  registerProduceCommand(program, context);
  registerConsumeCommand(program, context);
  registerGroupCommand(program, context);
  registerTransactionCommand(program, context);
  registerUserCommand(program, context);
  registerAclCommand(program, context);
  registerClusterCommand(program, context);
  registerPerfCommand(program, context);
  program.addHelpText(
    'after',
    `
Examples:
  $ sluice start --listen 127.0.0.1:9092 --data-dir ./data
  $ sluice topic create orders --partitions 3
  $ printf 'k1:hello\\nk2:world\\n' | sluice produce --topic orders --key-separator :
  $ sluice consume --topic orders --from earliest --exit-at-end
  $ sluice group describe billing
  $ sluice transaction list --state Ongoing
  $ sluice acl add --allow-principal User:alice --operation read --topic orders
  $ sluice perf produce --topic orders --count 100000
  $ sluice start --help

Client commands reach the brokers in --bootstrap, else $SLUICE_BOOTSTRAP, else 127.0.0.1:9092.
Exit status: 0 done, 1 the broker refused or could not be reached, 2 a mistake in the command line.`,
  );
  return program;
}

/** Runs one command line (`argv` as in process.argv) and returns the exit status for the setup phase. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const program = buildProgram(context);
  try {
    await program.parseAsync([...argv]);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help text).
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      context.printError(`sluice: ${error.message}`);
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      context.printError(`sluice: ${error.message}`);
      return EXIT_USAGE;
    }
    // Client commands: a broker's refusal or an unreachable broker is one line, not a stack trace.
    if (error instanceof CommandFailedError || error instanceof KafkaClientError) {
      context.printError(`sluice: ${describeFailure(error)}`);
      return EXIT_FAILURE;
    }
    if (error instanceof StartFailedError) {
      context.printError(`sluice: ${error.message}`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}

/** Version from package.json, found by walking up from this file (src/cli in dev, dist/src/cli when built). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'sluice' && pkg.version) return pkg.version;
    } catch {
      // not here; keep walking up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
