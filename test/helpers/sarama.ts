// sarama (Go) test programs, built offline against Debian's sarama sources (golang-github-shopify-sarama-dev).
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './broker.js';
import { ProgramMissingError, runProgram, runProgramOk } from './process.js';

const SARAMA_SOURCE_DIR = '/usr/share/gocode/src/github.com/Shopify/sarama';
const BUILD_TIMEOUT_MS = 120_000;
const SHARED_GO_CACHE = join(tmpdir(), `sluice-test-gocache-${process.getuid?.() ?? 'user'}`);

/** Why sarama cases must be skipped (Go itself is missing), or undefined. CI installs golang-go. */
export async function goMissingReason(): Promise<string | undefined> {
  try {
    const result = await runProgram('go', ['version'], { timeoutMs: 10_000 });
    return result.code === 0 ? undefined : `"go version" failed: ${result.stderr}`;
  } catch (err) {
    if (err instanceof ProgramMissingError) {
      return 'go is not installed (apt-get install golang-go golang-github-shopify-sarama-dev)';
    }
    throw err;
  }
}

/**
 * Builds the Go program in `sourceDir` (relative to the repository, its .go files only) into `buildDir`, and
 * returns its path. GOPATH mode against Debian's sources: no module proxy, no network. The test files build
 * about a dozen programs against the same sarama sources, so they share one Go build cache in the temp dir
 * (safe for concurrent builds): sarama and its cgo zstd compile once per machine instead of once per program
 * (6.2 s against 1.7 s a build here). It is a cache, kept between runs, and never touches $HOME.
 */
export async function buildSaramaProgram(sourceDir: string, buildDir: string, name: string): Promise<string> {
  if (!existsSync(SARAMA_SOURCE_DIR)) {
    throw new Error(`${SARAMA_SOURCE_DIR} is missing (apt-get install golang-github-shopify-sarama-dev)`);
  }
  const dir = join(repoRoot, sourceDir);
  const sources = readdirSync(dir)
    .filter((file) => file.endsWith('.go'))
    .map((file) => join(dir, file));
  const program = join(buildDir, name);
  await runProgramOk('go', ['build', '-o', program, ...sources], {
    timeoutMs: BUILD_TIMEOUT_MS,
    env: {
      GO111MODULE: 'off',
      GOPATH: '/usr/share/gocode',
      GOFLAGS: '',
      GOPROXY: 'off',
      GOCACHE: SHARED_GO_CACHE,
    },
  });
  return program;
}
