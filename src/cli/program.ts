// The `sluice` command tree and its error policy: user mistakes (bad flag, bad setting) print one line to
// stderr and exit 2; a broker that fails to start exits 1; help and --version exit 0. Each subcommand lives
// in its own file under commands/ and registers itself here.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../common/config-file.js';
import { registerStartCommand, StartFailedError } from './commands/start.js';
import type { CliContext } from './context.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

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
  program.addHelpText(
    'after',
    '\nExamples:\n  $ sluice start --listen 127.0.0.1:9092 --data-dir ./data\n  $ sluice start --help',
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
