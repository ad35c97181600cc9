// Entry point of the `sluice` executable (bin/sluice.js).

import { EXIT_FAILURE } from './exit-status.js';
import { dieWithSupervisor, relaunch, runtimeToRelaunch } from './runtime.js';

/** A reader that goes away (`sluice ... | head`) ends the command quietly, as with other Unix tools. */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}

async function main(): Promise<number> {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  const runtime = runtimeToRelaunch(process.argv, process.env);
  if (runtime !== null) return relaunch(process.argv, runtime);
  dieWithSupervisor(process.env);
  // Loaded only here, so that a process that merely supervises a relaunched one stays small.
  const { runCli } = await import('./program.js');
  return runCli(process.argv, {
    // Loaded on demand so that --help and configuration mistakes answer without loading the broker.
    startBroker: async (config, logger) => (await import('../broker/broker.js')).startBroker(config, logger),
    env: process.env,
    process,
    printError: (line) => process.stderr.write(`${line}\n`),
    logDestinationOption: () => ({}),
  });
}

const status = await main().catch((error: unknown) => {
  // A bug rather than a user mistake: show everything.
  console.error(error);
  return EXIT_FAILURE;
});
if (status !== 0) process.exit(status);
