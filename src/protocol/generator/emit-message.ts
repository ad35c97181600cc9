// Turns one MessageSpec into TypeScript: interfaces for the message and its structs, and an encode/decode
// function pair per struct. Version checks are resolved at generation time wherever the version range of the
// surrounding struct makes them constant, so most fields compile to one straight read or write call.

import {
  type FieldSpec,
  type FieldType,
  formatVersions,
  intersect,
  isEverNullable,
  type MessageSpec,
  type StructSpec,
  type VersionRange,
} from './schema.js';

/** A version condition resolved against the versions a piece of code can run at. */
type Condition = true | false | string;

export interface EmittedMessage {
  /** Interfaces of the message and all its structs. */
  readonly types: string;
  /** Encode/decode functions and their helpers (default factories, default checks). */
  readonly functions: string;
  /** TypeScript type of the decoded message, e.g. `FetchResponse`. */
  readonly decodedType: string;
  /** TypeScript type the encoder accepts, e.g. `FetchResponse<RecordsPayload>`. */
  readonly encodedType: string;
  readonly encodeFunction: string;
  readonly decodeFunction: string;
}

const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'new',
  'null',
  'return',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'yield',
  'let',
  'static',
  'implements',
  'interface',
  'package',
  'private',
  'protected',
  'public',
  'await',
  // Names the generated functions use for their own locals.
  'r',
  'v',
  'w',
  'm',
  'i',
  'item',
  'items',
  'tag',
  'size',
  'start',
  'tagged',
  'flexible',
  'taggedFieldCount',
  'taggedIndex',
]);

export function emitMessage(message: MessageSpec): EmittedMessage {
  return new MessageEmitter(message).emit();
}

class MessageEmitter {
  private readonly message: MessageSpec;
  /** The versions each struct can be encoded or decoded at (hull over all places it is used). */
  private readonly structVersions = new Map<string, VersionRange>();
  /** Structs whose interface takes the records type parameter (they contain records, maybe nested). */
  private readonly recordsStructs = new Set<string>();
  private readonly defaultFactoriesNeeded = new Set<string>();
  private readonly defaultChecksNeeded = new Set<string>();

  constructor(message: MessageSpec) {
    this.message = message;
    this.collectStructVersions(message.root, message.validVersions);
    this.collectRecordsStructs();
  }

  emit(): EmittedMessage {
    const { root } = this.message;
    const structs = [root, ...this.message.structs.values()];
    const types = structs.map((struct) => this.emitInterface(struct)).join('\n');
    const codecs: string[] = [];
    for (const struct of structs) {
      const versions = this.versionsOf(struct);
      if (versions === null) continue;
      codecs.push(this.emitEncoder(struct, versions), this.emitDecoder(struct, versions));
    }
    // Default factories and checks are requested while emitting codecs, and may request more of themselves.
    const helpers: string[] = [];
    const emittedFactories = new Set<string>();
    const emittedChecks = new Set<string>();
    for (let progress = true; progress; ) {
      progress = false;
      for (const name of [...this.defaultFactoriesNeeded].sort()) {
        if (emittedFactories.has(name)) continue;
        emittedFactories.add(name);
        helpers.push(this.emitDefaultFactory(this.struct(name)));
        progress = true;
      }
      for (const name of [...this.defaultChecksNeeded].sort()) {
        if (emittedChecks.has(name)) continue;
        emittedChecks.add(name);
        helpers.push(this.emitDefaultCheck(this.struct(name)));
        progress = true;
      }
    }
    const rootType = this.typeName(root.name);
    const hasRecords = this.recordsStructs.has(root.name);
    return {
      types,
      functions: [...codecs, ...helpers].join('\n'),
      decodedType: rootType,
      encodedType: hasRecords ? `${rootType}<RecordsPayload>` : rootType,
      encodeFunction: `encode${rootType}`,
      decodeFunction: `decode${rootType}`,
    };
  }

  // ---- analysis -------------------------------------------------------------------------------------------

  private struct(name: string): StructSpec {
    if (name === this.message.root.name) return this.message.root;
    const struct = this.message.structs.get(name);
    if (struct === undefined) throw new Error(`${this.message.name}: unknown struct ${name}`);
    return struct;
  }

  private versionsOf(struct: StructSpec): VersionRange | null {
    if (struct === this.message.root) return this.message.validVersions;
    return this.structVersions.get(struct.name) ?? null;
  }

  private collectStructVersions(struct: StructSpec, versions: VersionRange): void {
    for (const field of struct.fields) {
      const element = elementType(field.type);
      if (element.kind !== 'struct') continue;
      const child = this.struct(element.struct);
      const used = intersect(intersect(field.versions, versions), child.versions);
      if (used === null) continue;
      const known = this.structVersions.get(child.name);
      const hull =
        known === undefined
          ? used
          : { min: Math.min(known.min, used.min), max: Math.max(known.max, used.max) };
      if (known !== undefined && known.min === hull.min && known.max === hull.max) continue;
      this.structVersions.set(child.name, hull);
      this.collectStructVersions(child, hull);
    }
  }

  private collectRecordsStructs(): void {
    const structs = [this.message.root, ...this.message.structs.values()];
    for (let changed = true; changed; ) {
      changed = false;
      for (const struct of structs) {
        if (this.recordsStructs.has(struct.name)) continue;
        const hasRecords = struct.fields.some((field) => {
          const element = elementType(field.type);
          return (
            element.kind === 'records' ||
            (element.kind === 'struct' && this.recordsStructs.has(element.struct))
          );
        });
        if (hasRecords) {
          this.recordsStructs.add(struct.name);
          changed = true;
        }
      }
    }
  }

  private typeName(structName: string): string {
    return structName === this.message.name ? structName : `${this.message.name}${structName}`;
  }

  private flexibleVersionsOf(field: FieldSpec): VersionRange | null {
    return field.flexibleVersions === undefined ? this.message.flexibleVersions : field.flexibleVersions;
  }

  /** `range` restricted to `within`, as code: true/false when constant there, else a comparison on `v`. */
  private condition(range: VersionRange | null, within: VersionRange): Condition {
    const overlap = intersect(range, within);
    if (overlap === null) return false;
    if (overlap.min === within.min && overlap.max === within.max) return true;
    const flexible = this.message.flexibleVersions;
    if (
      flexible !== null &&
      overlap.min === flexible.min &&
      overlap.max === within.max &&
      range === flexible
    ) {
      return 'flexible';
    }
    const parts: string[] = [];
    if (overlap.min > within.min) parts.push(`v >= ${overlap.min}`);
    if (overlap.max < within.max) parts.push(`v <= ${overlap.max}`);
    return parts.join(' && ');
  }

  // ---- types ----------------------------------------------------------------------------------------------

  private emitInterface(struct: StructSpec): string {
    const name = this.typeName(struct.name);
    const generic = this.recordsStructs.has(struct.name) ? '<R extends RecordsPayload = Buffer>' : '';
    if (struct.fields.length === 0) return `export type ${name} = Record<string, never>;\n`;
    const lines = [`export interface ${name}${generic} {`];
    for (const field of struct.fields) {
      lines.push(
        `  /** ${fieldDoc(field, this.flexibleVersionsOf(field), this.message.flexibleVersions)} */`,
      );
      lines.push(`  ${field.property}: ${this.tsType(field)};`);
    }
    lines.push('}', '');
    return lines.join('\n');
  }

  private tsType(field: FieldSpec, recordsType = 'R'): string {
    const base = this.tsBaseType(field.type, recordsType);
    return isEverNullable(field) ? `${base} | null` : base;
  }

  private tsBaseType(type: FieldType, recordsType: string): string {
    switch (type.kind) {
      case 'bool':
        return 'boolean';
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'float64':
        return 'number';
      case 'int64':
        return 'bigint';
      case 'string':
      case 'uuid':
        return 'string';
      case 'bytes':
        return 'Buffer';
      case 'records':
        return recordsType;
      case 'struct': {
        const name = this.typeName(type.struct);
        return this.recordsStructs.has(type.struct) ? `${name}<${recordsType}>` : name;
      }
      case 'array':
        return `${this.tsBaseType(type.element, recordsType)}[]`;
    }
  }

  /** The type a struct encoder accepts: records may be a list of chunks. */
  private encodedStructType(structName: string): string {
    const name = this.typeName(structName);
    return this.recordsStructs.has(structName) ? `${name}<RecordsPayload>` : name;
  }

  // ---- defaults -------------------------------------------------------------------------------------------

  /** The field's default as a fresh TypeScript value (Kafka's `default`, else zero/empty). */
  private defaultExpression(field: FieldSpec): string {
    const raw = field.defaultValue;
    const where = `${this.message.name}.${field.name}`;
    const nullDefault = raw === 'null';
    if (nullDefault && !isEverNullable(field))
      throw new Error(`${where}: default null on a non-nullable field`);
    if (nullDefault) return 'null';
    const type = field.type;
    switch (type.kind) {
      case 'bool':
        if (raw === undefined) return 'false';
        if (raw === true || raw === 'true') return 'true';
        if (raw === false || raw === 'false') return 'false';
        throw new Error(`${where}: bad bool default ${raw}`);
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
        return raw === undefined ? '0' : String(parseInteger(raw, where));
      case 'int64':
        return raw === undefined ? '0n' : `${BigInt(parseInteger(raw, where))}n`;
      case 'float64':
        return raw === undefined ? '0' : String(Number(raw));
      case 'string':
        return JSON.stringify(raw === undefined ? '' : String(raw));
      case 'uuid':
        if (raw !== undefined) throw new Error(`${where}: uuid defaults are not supported`);
        return 'ZERO_UUID';
      case 'bytes':
      case 'records':
        if (raw !== undefined) throw new Error(`${where}: only null is supported as a ${type.kind} default`);
        return 'Buffer.alloc(0)';
      case 'array':
        if (raw !== undefined) throw new Error(`${where}: only null is supported as an array default`);
        return '[]';
      case 'struct':
        if (raw !== undefined) throw new Error(`${where}: only null is supported as a struct default`);
        this.defaultFactoriesNeeded.add(type.struct);
        return `default${this.typeName(type.struct)}()`;
    }
  }

  /** Code that is true when `value` differs from the field's default (decides whether a tagged field is sent). */
  private differsFromDefault(field: FieldSpec, value: string): string {
    const def = this.defaultExpression(field);
    if (def === 'null') return `${value} !== null`;
    const orNull = isEverNullable(field) ? `${value} === null || ` : '';
    switch (field.type.kind) {
      case 'bytes':
      case 'records':
      case 'array':
        return `${orNull}${value}.length > 0`;
      case 'struct':
        this.defaultChecksNeeded.add(field.type.struct);
        return `${orNull}!isDefault${this.typeName(field.type.struct)}(${value})`;
      default:
        return `${value} !== ${def}`;
    }
  }

  private emitDefaultFactory(struct: StructSpec): string {
    const name = this.typeName(struct.name);
    const lines = [`function default${name}(): ${name} {`, '  return {'];
    for (const field of struct.fields) lines.push(`    ${field.property}: ${this.defaultExpression(field)},`);
    lines.push('  };', '}', '');
    return lines.join('\n');
  }

  /** Code that is true when `value` equals the field's default. */
  private equalsDefault(field: FieldSpec, value: string): string {
    const def = this.defaultExpression(field);
    if (def === 'null') return `${value} === null`;
    const notNull = isEverNullable(field) ? `${value} !== null && ` : '';
    switch (field.type.kind) {
      case 'bytes':
      case 'records':
      case 'array':
        return `${notNull}${value}.length === 0`;
      case 'struct':
        this.defaultChecksNeeded.add(field.type.struct);
        return `${notNull}isDefault${this.typeName(field.type.struct)}(${value})`;
      default:
        return `${value} === ${def}`;
    }
  }

  private emitDefaultCheck(struct: StructSpec): string {
    const name = this.typeName(struct.name);
    const checks = struct.fields.map((field) => {
      const check = this.equalsDefault(field, `m.${field.property}`);
      return check.includes(' && ') ? `(${check})` : check;
    });
    return [
      `function isDefault${name}(m: ${this.encodedStructType(struct.name)}): boolean {`,
      `  return ${checks.length === 0 ? 'true' : checks.join(' && ')};`,
      '}',
      '',
    ].join('\n');
  }

  // ---- encoding -------------------------------------------------------------------------------------------

  private emitEncoder(struct: StructSpec, versions: VersionRange): string {
    const name = this.typeName(struct.name);
    const body: string[] = [];
    const taggedFields: FieldSpec[] = [];
    for (const field of struct.fields) {
      const untagged = intersect(untaggedVersions(field), versions);
      if (untagged !== null) {
        const label = `${name}.${field.property}`;
        const statements = this.writeValue(
          'w',
          field,
          field.type,
          `m.${field.property}`,
          untagged,
          label,
          false,
        );
        body.push(...guard(this.condition(untagged, versions), statements));
      }
      if (intersect(intersect(field.versions, field.taggedVersions), versions) !== null)
        taggedFields.push(field);
    }
    const flexible = this.condition(this.message.flexibleVersions, versions);
    const flexibleVersions = intersect(this.message.flexibleVersions, versions);
    if (flexibleVersions !== null) {
      body.push(...guard(flexible, this.writeTaggedFields(name, taggedFields, flexibleVersions)));
    }
    const message = body.some((line) => /\bm\b/.test(line)) ? 'm' : '_m';
    const head = `encode${name}(w: Writer, ${message}: ${this.encodedStructType(struct.name)}`;
    return this.functionText(struct, versions, head, 'void', body);
  }

  private writeTaggedFields(structType: string, fields: FieldSpec[], versions: VersionRange): string[] {
    if (fields.length === 0) return ['w.writeUnsignedVarint(0);'];
    const sorted = [...fields].sort((a, b) => a.tag! - b.tag!);
    const present = sorted.map((field) => {
      const range = intersect(field.taggedVersions, versions);
      const conditions: string[] = [];
      const versionCondition = this.condition(range, versions);
      if (versionCondition !== true) conditions.push(String(versionCondition));
      conditions.push(this.differsFromDefault(field, `m.${field.property}`));
      return conditions.map((c) => (conditions.length > 1 ? `(${c})` : c)).join(' && ');
    });
    const lines = ['let taggedFieldCount = 0;'];
    for (const condition of present) lines.push(`if (${condition}) taggedFieldCount++;`);
    lines.push('w.writeUnsignedVarint(taggedFieldCount);');
    sorted.forEach((field, index) => {
      const range = intersect(intersect(field.versions, field.taggedVersions), versions)!;
      const label = `${structType}.${field.property}`;
      lines.push(`if (${present[index]}) {`);
      lines.push(`  w.writeUnsignedVarint(${field.tag});`);
      lines.push('  const tagged = new Writer(64);');
      for (const line of this.writeValue(
        'tagged',
        field,
        field.type,
        `m.${field.property}`,
        range,
        label,
        true,
      )) {
        lines.push(`  ${line}`);
      }
      lines.push('  w.writeUnsignedVarint(tagged.length);');
      lines.push('  w.writeRawChunks(tagged.toChunks());');
      lines.push('}');
    });
    return lines;
  }

  /**
   * Statements writing `value` (of `type`, belonging to `field`) with writer `w`, valid for `versions`.
   * Array elements pass the element type with the field's flexibility and no nullability.
   */
  private writeValue(
    w: string,
    field: FieldSpec,
    type: FieldType,
    value: string,
    versions: VersionRange,
    label: string,
    tagged: boolean,
    isElement = false,
  ): string[] {
    const flexible: Condition = tagged ? true : this.condition(this.flexibleVersionsOf(field), versions);
    const nullable: Condition = isElement ? false : this.condition(field.nullableVersions, versions);
    const everNullable = !isElement && isEverNullable(field);
    const pick = (compact: string, plain: string) =>
      flexible === true ? compact : flexible === false ? plain : null;

    switch (type.kind) {
      case 'bool':
        return [`${w}.writeBool(${value});`];
      case 'int8':
        return [`${w}.writeInt8(${value});`];
      case 'int16':
        return [`${w}.writeInt16(${value});`];
      case 'uint16':
        return [`${w}.writeUInt16(${value});`];
      case 'int32':
        return [`${w}.writeInt32(${value});`];
      case 'uint32':
        return [`${w}.writeUInt32(${value});`];
      case 'int64':
        return [`${w}.writeInt64(${value});`];
      case 'float64':
        return [`${w}.writeFloat64(${value});`];
      case 'uuid':
        return [`${w}.writeUuid(${value});`];
      case 'string':
      case 'bytes':
      case 'records': {
        const suffix = type.kind === 'string' ? 'String' : type.kind === 'bytes' ? 'Bytes' : 'Records';
        // Records have no non-nullable writer of their own: the nullable one plus nonNull() covers it.
        const nullableMethod = (compact: boolean) =>
          `${compact ? 'writeCompact' : 'write'}${type.kind === 'records' ? '' : 'Nullable'}${suffix}`;
        const plainMethod = (compact: boolean) => `${compact ? 'writeCompact' : 'write'}${suffix}`;
        const call = (compact: boolean, allowNull: boolean) => {
          if (!everNullable) return `${w}.${plainMethod(compact)}(${value});`;
          if (allowNull) return `${w}.${nullableMethod(compact)}(${value});`;
          return `${w}.${plainMethod(compact)}(nonNull(${value}, '${label}'));`;
        };
        const byFlexibility = (allowNull: boolean) =>
          choose(flexible, call(true, allowNull), call(false, allowNull), pick);
        if (!everNullable || nullable === true) return byFlexibility(true);
        if (nullable === false) return byFlexibility(false);
        return [
          `if (${nullable}) {`,
          ...indent(byFlexibility(true)),
          '} else {',
          ...indent(byFlexibility(false)),
          '}',
        ];
      }
      case 'struct': {
        const call = `encode${this.typeName(type.struct)}(${w}, ${value}, v);`;
        if (!everNullable) return [call];
        const marker = (present: boolean) =>
          tagged ? `${w}.writeUnsignedVarint(${present ? 1 : 0});` : `${w}.writeInt8(${present ? 1 : -1});`;
        if (nullable === false)
          return [`encode${this.typeName(type.struct)}(${w}, nonNull(${value}, '${label}'), v);`];
        const nullCheck = nullable === true ? `${value} === null` : `${value} === null && ${nullable}`;
        const present = nullable === true ? value : `nonNull(${value}, '${label}')`;
        return [
          `if (${nullCheck}) {`,
          `  ${marker(false)}`,
          '} else {',
          `  ${marker(true)}`,
          `  encode${this.typeName(type.struct)}(${w}, ${present}, v);`,
          '}',
        ];
      }
      case 'array': {
        const writeLength = (length: string) =>
          choose(
            flexible,
            `${w}.writeCompactArrayLength(${length});`,
            `${w}.writeArrayLength(${length});`,
            pick,
          );
        const items = everNullable ? 'items' : value;
        const loop = [
          ...writeLength(`${items}.length`),
          `for (const item of ${items}) {`,
          ...indent(this.writeValue(w, field, type.element, 'item', versions, label, tagged, true)),
          '}',
        ];
        if (!everNullable) return loop;
        const present = nullable === true ? value : `nonNull(${value}, '${label}')`;
        const nonNullBranch = [`const items = ${present};`, ...loop];
        if (nullable === false) return ['{', ...indent(nonNullBranch), '}'];
        const nullCheck = nullable === true ? `${value} === null` : `${value} === null && ${nullable}`;
        return [
          `if (${nullCheck}) {`,
          ...indent(writeLength('null')),
          '} else {',
          ...indent(nonNullBranch),
          '}',
        ];
      }
    }
  }

  // ---- decoding -------------------------------------------------------------------------------------------

  private emitDecoder(struct: StructSpec, versions: VersionRange): string {
    const name = this.typeName(struct.name);
    const body: string[] = [];
    const locals = new Map<FieldSpec, string>();
    const taggedFields: FieldSpec[] = [];
    for (const field of struct.fields) {
      const local = localName(field.property);
      locals.set(field, local);
      const label = `${name}.${field.property}`;
      const untagged = intersect(untaggedVersions(field), versions);
      const taggedRange = intersect(intersect(field.versions, field.taggedVersions), versions);
      if (taggedRange !== null) taggedFields.push(field);
      const presence = this.condition(untagged, versions);
      const expression = untagged === null ? null : this.readExpression(field, field.type, untagged, false);
      if (presence === true && expression !== null && taggedRange === null) {
        body.push(`const ${local} = ${expression};`);
        continue;
      }
      if (presence === true && taggedRange === null) {
        // Always read here: no default needed, the statements below assign on every path.
        body.push(`let ${local}: ${this.tsType(field, 'Buffer')};`);
      } else {
        body.push(`let ${local}: ${this.tsType(field, 'Buffer')} = ${this.defaultExpression(field)};`);
      }
      if (untagged === null) continue;
      const statements =
        expression !== null
          ? [`${local} = ${expression};`]
          : this.readStatements(local, field, field.type, untagged, label, false);
      body.push(...guard(presence, statements));
    }
    const flexible = this.condition(this.message.flexibleVersions, versions);
    const flexibleVersions = intersect(this.message.flexibleVersions, versions);
    if (flexibleVersions !== null) {
      body.push(...guard(flexible, this.readTaggedFields(taggedFields, locals, flexibleVersions, name)));
    }
    const properties = struct.fields.map((field) => {
      const local = locals.get(field)!;
      return local === field.property ? local : `${field.property}: ${local}`;
    });
    body.push(`return { ${properties.join(', ')} };`);
    return this.functionText(struct, versions, `decode${name}(r: Reader`, name, body);
  }

  private readTaggedFields(
    fields: FieldSpec[],
    locals: Map<FieldSpec, string>,
    versions: VersionRange,
    structType: string,
  ): string[] {
    if (fields.length === 0) return ['r.skipTaggedFields();'];
    const lines = [
      'const taggedFieldCount = r.readUnsignedVarint();',
      'for (let taggedIndex = 0; taggedIndex < taggedFieldCount; taggedIndex++) {',
      '  const tag = r.readUnsignedVarint();',
      '  const size = r.readUnsignedVarint();',
      '  switch (tag) {',
    ];
    for (const field of [...fields].sort((a, b) => a.tag! - b.tag!)) {
      const range = intersect(intersect(field.versions, field.taggedVersions), versions)!;
      const local = locals.get(field)!;
      const label = `${structType}.${field.property}`;
      const expression = this.readExpression(field, field.type, range, true);
      const read =
        expression !== null
          ? [`${local} = ${expression};`]
          : this.readStatements(local, field, field.type, range, label, true);
      const body = [
        'const start = r.offset;',
        ...read,
        `if (r.offset - start !== size) throw new ProtocolDecodeError('${label}: tagged field size mismatch');`,
        'break;',
      ];
      const versionCondition = this.condition(range, versions);
      lines.push(`    case ${field.tag}: {`);
      if (versionCondition === true) {
        lines.push(...indent(body, 6));
      } else {
        // Outside its versions the tag is unknown, and unknown tags are skipped.
        lines.push(
          `      if (${versionCondition}) {`,
          ...indent(body, 8),
          '      }',
          '      r.skip(size);',
          '      break;',
        );
      }
      lines.push('    }');
    }
    lines.push('    default:', '      r.skip(size);', '  }', '}');
    return lines;
  }

  /** A single expression reading a value, or null when the type needs statements (arrays). */
  private readExpression(
    field: FieldSpec,
    type: FieldType,
    versions: VersionRange,
    tagged: boolean,
    isElement = false,
  ): string | null {
    const flexible: Condition = tagged ? true : this.condition(this.flexibleVersionsOf(field), versions);
    const nullable: Condition = isElement ? false : this.condition(field.nullableVersions, versions);
    switch (type.kind) {
      case 'bool':
        return 'r.readBool()';
      case 'int8':
        return 'r.readInt8()';
      case 'int16':
        return 'r.readInt16()';
      case 'uint16':
        return 'r.readUInt16()';
      case 'int32':
        return 'r.readInt32()';
      case 'uint32':
        return 'r.readUInt32()';
      case 'int64':
        return 'r.readInt64()';
      case 'float64':
        return 'r.readFloat64()';
      case 'uuid':
        return 'r.readUuid()';
      case 'string':
      case 'bytes':
      case 'records': {
        const suffix = type.kind === 'string' ? 'String' : 'Bytes';
        const method = (compact: boolean, allowNull: boolean) =>
          `r.read${compact ? 'Compact' : ''}${allowNull ? 'Nullable' : ''}${suffix}()`;
        const byFlexibility = (allowNull: boolean) =>
          ternary(flexible, method(true, allowNull), method(false, allowNull));
        return ternary(nullable, byFlexibility(true), byFlexibility(false));
      }
      case 'struct': {
        const call = `decode${this.typeName(type.struct)}(r, v)`;
        if (nullable === false) return call;
        const marker = tagged ? 'r.readUnsignedVarint() === 0' : 'r.readInt8() < 0';
        return ternary(nullable, `${marker} ? null : ${call}`, call);
      }
      case 'array':
        return null;
    }
  }

  private readStatements(
    target: string,
    field: FieldSpec,
    type: FieldType,
    versions: VersionRange,
    label: string,
    tagged: boolean,
  ): string[] {
    if (type.kind !== 'array') throw new Error(`${label}: statements are only needed for arrays`);
    const flexible: Condition = tagged ? true : this.condition(this.flexibleVersionsOf(field), versions);
    const nullable: Condition = this.condition(field.nullableVersions, versions);
    const lengthVar = `${target}Length`;
    const element = this.readExpression(field, type.element, versions, tagged, true);
    if (element === null) throw new Error(`${label}: nested arrays are not supported`);
    const lines = [
      `const ${lengthVar} = ${ternary(flexible, 'r.readCompactArrayLength()', 'r.readArrayLength()')};`,
    ];
    const nullError = `throw new ProtocolDecodeError(\`${label} is null but not nullable at version \${v}\`);`;
    if (nullable === true) lines.push(`if (${lengthVar} === null) {`, `  ${target} = null;`, '} else {');
    else if (nullable === false) lines.push(`if (${lengthVar} === null) ${nullError}`, '{');
    else
      lines.push(
        `if (${lengthVar} === null) {`,
        `  if (!(${nullable})) ${nullError}`,
        `  ${target} = null;`,
        '} else {',
      );
    lines.push(
      `  const items: ${this.tsBaseType(type.element, 'Buffer')}[] = [];`,
      `  for (let i = 0; i < ${lengthVar}; i++) items.push(${element});`,
      `  ${target} = items;`,
      '}',
    );
    return lines;
  }

  // ---- shared ---------------------------------------------------------------------------------------------

  /**
   * Wraps a codec body into `function <head>, v: number): <result>`. The root struct checks the version; the
   * `flexible` flag is declared only where used, and an unused version parameter is named `_v`.
   */
  private functionText(
    struct: StructSpec,
    versions: VersionRange,
    head: string,
    result: string,
    body: string[],
  ): string {
    const text = body.join('\n');
    const prelude: string[] = [];
    if (struct === this.message.root) {
      prelude.push(
        `if (v < ${versions.min} || v > ${versions.max}) {`,
        `  throw new UnsupportedVersionError(\`${this.message.name} version \${v} is not supported\`);`,
        '}',
      );
    }
    const flexible = this.message.flexibleVersions;
    if (flexible !== null && /\bflexible\b/.test(text))
      prelude.push(`const flexible = v >= ${flexible.min};`);
    const usesVersion = prelude.length > 0 || /\bv\b/.test(text);
    return [
      `function ${head}, ${usesVersion ? 'v' : '_v'}: number): ${result} {`,
      ...indent([...prelude, ...body]),
      '}',
      '',
    ].join('\n');
  }
}

function elementType(type: FieldType): FieldType {
  return type.kind === 'array' ? type.element : type;
}

/** The versions in which the field is a regular (untagged) field. taggedVersions are always open-ended. */
function untaggedVersions(field: FieldSpec): VersionRange | null {
  if (field.taggedVersions === null) return field.versions;
  return intersect(field.versions, { min: 0, max: field.taggedVersions.min - 1 });
}

function localName(property: string): string {
  return RESERVED_WORDS.has(property) ? `${property}Value` : property;
}

function guard(condition: Condition, statements: string[]): string[] {
  if (condition === true) return statements;
  if (condition === false) return [];
  if (statements.length === 1) return [`if (${condition}) ${statements[0]}`];
  return [`if (${condition}) {`, ...indent(statements), '}'];
}

function choose(
  condition: Condition,
  whenTrue: string,
  whenFalse: string,
  pick: (compact: string, plain: string) => string | null,
): string[] {
  const constant = pick(whenTrue, whenFalse);
  if (constant !== null) return [constant];
  return [`if (${condition}) ${whenTrue}`, `else ${whenFalse}`];
}

function ternary(condition: Condition, whenTrue: string, whenFalse: string): string {
  if (condition === true) return whenTrue;
  if (condition === false) return whenFalse;
  return `${condition} ? ${whenTrue} : ${whenFalse}`;
}

function indent(lines: string[], spaces = 2): string[] {
  const pad = ' '.repeat(spaces);
  return lines.map((line) => pad + line);
}

function parseInteger(raw: string | number | boolean, where: string): number {
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isSafeInteger(value)) throw new Error(`${where}: bad integer default ${raw}`);
  return value;
}

function fieldDoc(
  field: FieldSpec,
  flexible: VersionRange | null,
  messageFlexible: VersionRange | null,
): string {
  const notes = [`versions ${formatVersions(field.versions)}`];
  if (field.nullableVersions !== null) notes.push(`nullable ${formatVersions(field.nullableVersions)}`);
  if (field.taggedVersions !== null)
    notes.push(`tag ${field.tag} in ${formatVersions(field.taggedVersions)}`);
  if (flexible !== messageFlexible) notes.push(`flexible ${formatVersions(flexible)}`);
  if (field.defaultValue !== undefined) notes.push(`default ${String(field.defaultValue)}`);
  const about = (field.about ?? '').replaceAll('*/', '* /').trim();
  return `${about}${about.endsWith('.') || about === '' ? '' : '.'} (${notes.join(', ')})`.trim();
}
