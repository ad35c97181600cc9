// The CLI as a child process (`node bin/sluice.js`) against a test broker, for the tests of its security
// flags and commands (sasl, tls, user, acl): one run with the login and TLS variables unset unless a test sets
// them, and the assertions every such test makes on a run's exit status and output.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from './broker.js';
import { type ProgramResult, runProgram } from './process.js';

const bin = join(repoRoot, 'bin', 'sluice.js');

/** The variables through which the CLI takes a login, TLS settings or a user's password: empty means unset. */
const securityVariablesUnset: NodeJS.ProcessEnv = {
  SLUICE_SASL_MECHANISM: '',
  SLUICE_SASL_USERNAME: '',
  SLUICE_SASL_PASSWORD: '',
  SLUICE_TLS: '',
  SLUICE_TLS_CA: '',
  SLUICE_TLS_CERT: '',
  SLUICE_TLS_KEY: '',
  SLUICE_USER_PASSWORD: '',
};

/** Runs the CLI against `bootstrap`; the security variables are unset unless `env` gives them. */
export function runSluice(
  bootstrap: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ProgramResult> {
  return runProgram(process.execPath, [bin, ...args], {
    input: options.input ?? '',
    env: { SLUICE_BOOTSTRAP: bootstrap, ...securityVariablesUnset, ...options.env },
    timeoutMs: options.timeoutMs,
  });
}

/** The command line and its output, as a failed assertion's message. */
export function describeRun(args: string[], result: ProgramResult): string {
  return `sluice ${args.join(' ')}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** Asserts exit status 0 and exactly `stderr` (nothing unless given) on stderr; returns stdout. */
export function assertSucceeded(args: string[], result: ProgramResult, stderr = ''): string {
  assert.equal(result.code, 0, describeRun(args, result));
  assert.equal(result.stderr, stderr, describeRun(args, result));
  return result.stdout;
}

/** Asserts exit status `code`, an empty stdout and on stderr exactly `line`, or one line matching it. */
export function assertFailed(
  args: string[],
  result: ProgramResult,
  code: number,
  line: string | RegExp,
): void {
  const context = describeRun(args, result);
  assert.equal(result.code, code, context);
  assert.equal(result.stdout, '', context);
  if (typeof line === 'string') {
    assert.equal(result.stderr, `${line}\n`, context);
  } else {
    assert.equal(result.stderr.split('\n').length, 2, `expected one line\n${context}`);
    assert.match(result.stderr.trimEnd(), line, context);
  }
}

/** Lines joined as the CLI prints them. */
export function lines(...text: string[]): string {
  return `${text.join('\n')}\n`;
}
