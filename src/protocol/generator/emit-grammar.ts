// The wire layout of a message per version, written as a comment block at the top of each generated file so
// a reader can see, say, Produce v9 without opening the schema. Consecutive versions with the same layout
// are shown once.

import { contains, type FieldSpec, type FieldType, type MessageSpec, type StructSpec } from './schema.js';

export function grammarComment(message: MessageSpec): string[] {
  const groups: { from: number; to: number; lines: string[] }[] = [];
  for (let version = message.validVersions.min; version <= message.validVersions.max; version++) {
    const lines = structLines(message, message.root, version, '  ');
    const last = groups.at(-1);
    if (last !== undefined && sameLines(last.lines, lines)) last.to = version;
    else groups.push({ from: version, to: version, lines });
  }
  const out: string[] = [];
  for (const group of groups) {
    const versions = group.from === group.to ? `v${group.from}` : `v${group.from}-v${group.to}`;
    const flexible = contains(message.flexibleVersions, group.from) ? ' (flexible)' : '';
    out.push(`${message.name} ${versions}${flexible}:`, ...group.lines, '');
  }
  return out;
}

function structLines(message: MessageSpec, struct: StructSpec, version: number, indent: string): string[] {
  const lines: string[] = [];
  for (const field of struct.fields) {
    if (!contains(field.versions, version)) continue;
    const tagged = contains(field.taggedVersions, version);
    const flexible = tagged || contains(fieldFlexibleVersions(message, field), version);
    const nullable = contains(field.nullableVersions, version);
    const tag = tagged ? ` [tag ${field.tag}]` : '';
    lines.push(`${indent}${field.property}: ${wireType(field.type, flexible, nullable)}${tag}`);
    const element = field.type.kind === 'array' ? field.type.element : field.type;
    if (element.kind === 'struct') {
      const nested = message.structs.get(element.struct);
      if (nested !== undefined) lines.push(...structLines(message, nested, version, `${indent}  `));
    }
  }
  if (contains(message.flexibleVersions, version)) lines.push(`${indent}_tagged_fields`);
  return lines;
}

function fieldFlexibleVersions(message: MessageSpec, field: FieldSpec) {
  return field.flexibleVersions === undefined ? message.flexibleVersions : field.flexibleVersions;
}

function wireType(type: FieldType, flexible: boolean, nullable: boolean): string {
  const compact = flexible ? 'COMPACT_' : '';
  const maybeNull = nullable ? 'NULLABLE_' : '';
  switch (type.kind) {
    case 'bool':
      return 'BOOLEAN';
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint16':
    case 'uint32':
    case 'float64':
    case 'uuid':
      return type.kind.toUpperCase();
    case 'string':
    case 'bytes':
    case 'records':
      return `${compact}${maybeNull}${type.kind.toUpperCase()}`;
    case 'struct':
      return `${maybeNull}${type.struct}`;
    case 'array': {
      const element =
        type.element.kind === 'struct' ? type.element.struct : wireType(type.element, flexible, false);
      return `${compact}${maybeNull}ARRAY[${element}]`;
    }
  }
}

function sameLines(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((line, index) => line === b[index]);
}
