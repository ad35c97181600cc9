// Entry point of the `sluice` executable (bin/sluice.js).

import { dieWithSupervisor, relaunchBroker, shouldRelaunchBroker } from './broker-runtime.js';
import { EXIT_FAILURE, runCli } from './program.js';

async function main(): Promise<number> {
  if (shouldRelaunchBroker(process.argv, process.env)) return relaunchBroker(process.argv);
  dieWithSupervisor(process.env);
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
