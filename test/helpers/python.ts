// The Python clients' interpreter, and the check that their Debian packages are installed.
import { ProgramMissingError, runProgram, runProgramOk } from './process.js';

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

/** One step a test script printed: a JSON object naming the step and what it saw. */
export type PythonStep = Record<string, unknown>;

// Every test script starts with this: argv is (bootstrap, prefix, ...) and out() prints one step as a JSON line.
const STEP_PREAMBLE = `
import json, sys, time
bootstrap, prefix = sys.argv[1], sys.argv[2]
def out(step, **fields):
    print(json.dumps(dict(step=step, **fields), sort_keys=True), flush=True)
`;

/** Runs `script` (after the preamble) with argv (bootstrap, prefix, ...extraArgs); resolves with its steps. */
export async function runPythonSteps(
  script: string,
  args: { bootstrap: string; prefix: string; extraArgs?: string[]; timeoutMs: number },
): Promise<PythonStep[]> {
  const result = await runProgramOk(
    PYTHON,
    ['-c', STEP_PREAMBLE + script, args.bootstrap, args.prefix, ...(args.extraArgs ?? [])],
    { timeoutMs: args.timeoutMs },
  );
  return result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as PythonStep);
}

/**
 * Python source of outcome(futures), for test scripts: what the futures of a confluent-kafka AdminClient call
 * came to, by topic or resource name: None for success, else the Kafka error's name.
 */
export const CONFLUENT_OUTCOME = `
def outcome(futures):
    import confluent_kafka, confluent_kafka.admin
    result = {}
    for key, f in futures.items():
        name = key.name if isinstance(key, confluent_kafka.admin.ConfigResource) else key
        try:
            f.result(10)
            result[name] = None
        except confluent_kafka.KafkaException as e:
            result[name] = e.args[0].name()
    return result
`;
