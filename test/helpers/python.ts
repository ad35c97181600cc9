// The Python clients' interpreter, and the check that their Debian packages are installed.
import { ProgramMissingError, runProgram } from './process.js';

// Debian's interpreter: python3-kafka and python3-confluent-kafka install for it, not for a python3 that
// pyenv or a venv may put first on PATH.
export const PYTHON = '/usr/bin/python3';

/** Fails (never skips) when a module is missing: CI installs the Debian packages. */
export async function assertPythonModule(module: string, debianPackage: string): Promise<void> {
  let result: Awaited<ReturnType<typeof runProgram>>;
  try {
    result = await runProgram(PYTHON, ['-c', `import ${module}`], { timeoutMs: 10_000 });
  } catch (err) {
    if (err instanceof ProgramMissingError) throw new Error(`${PYTHON} is not installed`);
    throw err;
  }
  if (result.code !== 0) {
    throw new Error(
      `${PYTHON} cannot import ${module} (install Debian package ${debianPackage}):\n${result.stderr}`,
    );
  }
}
