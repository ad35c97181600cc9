// Reads Kafka's message schema files (clients/src/main/resources/common/message/*.json) into a small typed
// model. The files are JSON with `//` comments; everything the generator and the round-trip tests need to
// know about a message is resolved here once: version ranges, struct definitions, nullability, tags.

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the schemas live by default, relative to the repository root. */
export const DEFAULT_MESSAGES_FOLDER = '../shared/kafka-protocol/messages';

/** The folder holding package.json above this file, in src/ or compiled in dist/. */
export function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error('cannot find the repository root (no package.json above the generator)');
    dir = parent;
  }
  return dir;
}

/** An inclusive version range; `max` is Infinity for open ranges such as "3+". */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export type PrimitiveKind =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type FieldType =
  | { readonly kind: PrimitiveKind }
  | { readonly kind: 'struct'; readonly struct: string }
  | { readonly kind: 'array'; readonly element: FieldType };

export interface FieldSpec {
  readonly name: string;
  /** Kafka's camelCase field name, used as the TypeScript property name. */
  readonly property: string;
  readonly type: FieldType;
  readonly versions: VersionRange | null;
  readonly nullableVersions: VersionRange | null;
  readonly taggedVersions: VersionRange | null;
  readonly tag: number | null;
  /** Per-field override of the message's flexible versions (RequestHeader.ClientId uses "none"). */
  readonly flexibleVersions: VersionRange | null | undefined;
  readonly defaultValue: string | number | boolean | undefined;
  readonly about: string | undefined;
}

export interface StructSpec {
  /** The name in the schema, e.g. TopicProduceData. */
  readonly name: string;
  readonly versions: VersionRange | null;
  readonly fields: readonly FieldSpec[];
}

export type MessageKind = 'request' | 'response' | 'header' | 'data';

export interface MessageSpec {
  readonly name: string;
  readonly kind: MessageKind;
  readonly apiKey: number | null;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange | null;
  readonly deprecatedVersions: VersionRange | null;
  readonly latestVersionUnstable: boolean;
  readonly listeners: readonly string[];
  /** The message's own top-level struct, named like the message. */
  readonly root: StructSpec;
  /** Every nested and common struct, by schema name. */
  readonly structs: ReadonlyMap<string, StructSpec>;
}

const PRIMITIVE_KINDS: ReadonlySet<string> = new Set<PrimitiveKind>([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'records',
  'uuid',
]);

/** Removes `//` comments that are outside string literals. Line breaks are kept so JSON errors keep their line. */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\' && i + 1 < text.length) out += text[++i];
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      if (i < text.length) out += '\n';
    } else {
      out += ch;
    }
  }
  return out;
}

/** Parses "none", "N", "N+", "A-B". */
export function parseVersions(text: string): VersionRange | null {
  const trimmed = text.trim();
  if (trimmed === 'none') return null;
  let match = /^(\d+)\+$/.exec(trimmed);
  if (match) return { min: Number(match[1]), max: Infinity };
  match = /^(\d+)-(\d+)$/.exec(trimmed);
  if (match) return { min: Number(match[1]), max: Number(match[2]) };
  match = /^(\d+)$/.exec(trimmed);
  if (match) return { min: Number(match[1]), max: Number(match[1]) };
  throw new Error(`invalid version range '${text}'`);
}

export function intersect(a: VersionRange | null, b: VersionRange | null): VersionRange | null {
  if (a === null || b === null) return null;
  const min = Math.max(a.min, b.min);
  const max = Math.min(a.max, b.max);
  return min <= max ? { min, max } : null;
}

export function contains(range: VersionRange | null, version: number): boolean {
  return range !== null && version >= range.min && version <= range.max;
}

export function formatVersions(range: VersionRange | null): string {
  if (range === null) return 'none';
  if (range.max === Infinity) return `${range.min}+`;
  return range.min === range.max ? `${range.min}` : `${range.min}-${range.max}`;
}

/** Kafka's camelCase rule: lower-case the first letter only (KRaftVersion → kRaftVersion). */
export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: string | number | boolean;
  about?: string;
  fields?: RawField[];
}

interface RawMessage {
  name: string;
  type: MessageKind;
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  deprecatedVersions?: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: RawField[];
  commonStructs?: { name: string; versions: string; fields: RawField[] }[];
}

export function parseMessage(text: string, source: string): MessageSpec {
  let raw: RawMessage;
  try {
    raw = JSON.parse(stripJsonComments(text)) as RawMessage;
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  const validVersions = parseVersions(raw.validVersions);
  if (validVersions === null) throw new Error(`${source}: validVersions is none`);
  const structs = new Map<string, StructSpec>();

  const defineStruct = (name: string, versions: VersionRange | null, fields: RawField[]): void => {
    if (structs.has(name) || name === raw.name) throw new Error(`${source}: struct ${name} is defined twice`);
    structs.set(name, { name, versions, fields: fields.map(convertField) });
  };

  function convertField(field: RawField): FieldSpec {
    const where = `${source}: field ${field.name}`;
    if (field.versions === undefined) throw new Error(`${where} has no versions`);
    const versions = parseVersions(field.versions);
    const type = parseType(field.type, where);
    const elementType = type.kind === 'array' ? type.element : type;
    if (field.fields !== undefined) {
      if (elementType.kind !== 'struct') throw new Error(`${where} has fields but type ${field.type}`);
      defineStruct(elementType.struct, versions, field.fields);
    }
    const taggedVersions = field.taggedVersions === undefined ? null : parseVersions(field.taggedVersions);
    if ((taggedVersions === null) !== (field.tag === undefined)) {
      throw new Error(`${where} needs both tag and taggedVersions`);
    }
    if (taggedVersions !== null && taggedVersions.max !== Infinity) {
      throw new Error(`${where} has closed taggedVersions`);
    }
    if (type.kind === 'records' && taggedVersions !== null)
      throw new Error(`${where}: records cannot be tagged`);
    return {
      name: field.name,
      property: camelCase(field.name),
      type,
      versions,
      nullableVersions: field.nullableVersions === undefined ? null : parseVersions(field.nullableVersions),
      taggedVersions,
      tag: field.tag ?? null,
      flexibleVersions:
        field.flexibleVersions === undefined ? undefined : parseVersions(field.flexibleVersions),
      defaultValue: field.default,
      about: field.about,
    };
  }

  for (const common of raw.commonStructs ?? []) {
    defineStruct(common.name, parseVersions(common.versions), common.fields);
  }
  const root: StructSpec = { name: raw.name, versions: validVersions, fields: raw.fields.map(convertField) };
  for (const struct of [root, ...structs.values()]) {
    for (const field of struct.fields) {
      const element = field.type.kind === 'array' ? field.type.element : field.type;
      if (element.kind === 'struct' && !structs.has(element.struct)) {
        throw new Error(`${source}: struct ${element.struct} is used but never defined`);
      }
    }
  }
  return {
    name: raw.name,
    kind: raw.type,
    apiKey: raw.apiKey ?? null,
    validVersions,
    flexibleVersions: parseVersions(raw.flexibleVersions),
    deprecatedVersions: raw.deprecatedVersions === undefined ? null : parseVersions(raw.deprecatedVersions),
    latestVersionUnstable: raw.latestVersionUnstable ?? false,
    listeners: raw.listeners ?? [],
    root,
    structs,
  };
}

function parseType(text: string, where: string): FieldType {
  if (text.startsWith('[]')) {
    const element = parseType(text.slice(2), where);
    if (element.kind === 'array') throw new Error(`${where}: nested arrays are not allowed`);
    if (element.kind === 'records') throw new Error(`${where}: arrays of records are not allowed`);
    return { kind: 'array', element };
  }
  if (PRIMITIVE_KINDS.has(text)) return { kind: text as PrimitiveKind };
  if (/^[A-Z][A-Za-z0-9]*$/.test(text)) return { kind: 'struct', struct: text };
  throw new Error(`${where}: unknown type ${text}`);
}

/** Loads every *.json file of a Kafka message folder, sorted by file name for a stable output order. */
export async function loadMessages(folder: string): Promise<MessageSpec[]> {
  const names = (await readdir(folder)).filter((name) => name.endsWith('.json')).sort();
  const messages: MessageSpec[] = [];
  for (const name of names) {
    messages.push(parseMessage(await readFile(path.join(folder, name), 'utf8'), name));
  }
  return messages;
}

/** Whether a field is nullable in some version in which it is present. */
export function isEverNullable(field: FieldSpec): boolean {
  return intersect(field.versions, field.nullableVersions) !== null;
}
