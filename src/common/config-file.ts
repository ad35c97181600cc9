// Reading a broker config file: Java `.properties` (what Kafka's server.properties uses) or a flat `.json`
// object keyed by the same dotted names. Parsing is separate from reading so that it can be tested on text.

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

/** A user mistake in configuration: the CLI prints `message` as one line and exits with status 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Entries as written in the file: a null value (JSON only) means "not set here". */
export interface ConfigFile {
  path: string;
  entries: Record<string, string | null>;
  /** 1-based line of each key in a properties file, for error messages. */
  lines: Record<string, number>;
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new ConfigError(`Cannot read config file ${path}: ${reason}`);
  }
  return parseConfigFileText(path, text);
}

export function parseConfigFileText(path: string, text: string): ConfigFile {
  return extname(path).toLowerCase() === '.json' ? parseJsonConfig(path, text) : parseProperties(path, text);
}

function parseJsonConfig(path: string, text: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`Config file ${path} must hold one JSON object of "name": value pairs`);
  }
  const entries: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === null) entries[key] = null;
    else if (typeof value === 'string') entries[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') entries[key] = String(value);
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      entries[key] = value.join(',');
    else {
      throw new ConfigError(
        `Config file ${path}: "${key}" must be a string, number, boolean, null or list of strings`,
      );
    }
  }
  return { path, entries, lines: {} };
}

/**
 * The subset of java.util.Properties that config files use: `#`/`!` comments, `key=value`, `key: value` or
 * `key value`, backslash line continuation and the usual escapes. A line with a key and no value is an error
 * here (Java would store an empty string), because it is almost always a mistake in a broker config.
 */
function parseProperties(path: string, text: string): ConfigFile {
  const entries: Record<string, string | null> = {};
  const lines: Record<string, number> = {};
  const physical = text.split(/\r\n|\r|\n/);
  for (let index = 0; index < physical.length; index++) {
    const lineNumber = index + 1;
    let logical = physical[index]!.replace(/^[ \t\f]+/, '');
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue;
    while (endsWithContinuation(logical) && index + 1 < physical.length) {
      index++;
      logical = logical.slice(0, -1) + physical[index]!.replace(/^[ \t\f]+/, '');
    }
    if (endsWithContinuation(logical)) logical = logical.slice(0, -1);
    const separator = findSeparator(logical);
    if (separator < 0) {
      throw new ConfigError(
        `Config file ${path} line ${lineNumber}: "${logical.trim()}" has no value (expected key=value)`,
      );
    }
    const key = unescapeProperties(logical.slice(0, separator).trimEnd());
    let valueStart = separator;
    while (valueStart < logical.length && /[ \t\f]/.test(logical[valueStart]!)) valueStart++;
    if (valueStart < logical.length && /[=:]/.test(logical[valueStart]!)) valueStart++;
    const value = unescapeProperties(logical.slice(valueStart).replace(/^[ \t\f]+/, '')).trimEnd();
    if (value === '') {
      throw new ConfigError(
        `Config file ${path} line ${lineNumber}: "${key}" has no value (expected key=value)`,
      );
    }
    entries[key] = value;
    lines[key] = lineNumber;
  }
  return { path, entries, lines };
}

function endsWithContinuation(line: string): boolean {
  let backslashes = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** Index of the first unescaped `=`, `:` or whitespace that ends the key. */
function findSeparator(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === '\\') {
      i++;
      continue;
    }
    if (char === '=' || char === ':' || char === ' ' || char === '\t' || char === '\f') return i;
  }
  return -1;
}

function unescapeProperties(text: string): string {
  return text.replace(/\\(u[0-9A-Fa-f]{4}|.)/g, (_match, escaped: string) => {
    if (escaped.length === 5) return String.fromCharCode(Number.parseInt(escaped.slice(1), 16));
    if (escaped === 'n') return '\n';
    if (escaped === 't') return '\t';
    if (escaped === 'r') return '\r';
    if (escaped === 'f') return '\f';
    return escaped;
  });
}
