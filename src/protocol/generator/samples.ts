// Pseudo-random values of a message, built from its schema independently of the generated code: only fields
// present at the version get values (absent ones hold their default, which is what decoding fills in), and
// nullability and tagged fields are exercised. The codec round-trip tests use them as they are; the broker's
// hostile-request test steers some fields through `choose` towards values a broker must survive.
import { ZERO_UUID } from '../primitives/uuid.js';
import { contains, type FieldSpec, type FieldType, type MessageSpec, type StructSpec } from './schema.js';

/**
 * Picks a field's value instead of the random one: return undefined to leave the field to the builder.
 * `random` is the builder's own generator, so choices stay reproducible from the seed.
 */
export type ValueChooser = (field: FieldSpec, version: number, random: () => number) => unknown;

/** Deterministic xorshift32, so a failure reproduces. */
function rng(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

export class SampleBuilder {
  private readonly message: MessageSpec;
  private readonly random: () => number;
  private readonly choose: ValueChooser | undefined;

  constructor(message: MessageSpec, seed: number, choose?: ValueChooser) {
    this.message = message;
    this.random = rng(seed);
    this.choose = choose;
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private struct(name: string): StructSpec {
    return name === this.message.name ? this.message.root : this.message.structs.get(name)!;
  }

  build(struct: StructSpec, version: number, depth = 0): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of struct.fields) {
      const present = contains(field.versions, version);
      // A tagged field at its default is simply not sent: cover both.
      const useDefault = !present || (contains(field.taggedVersions, version) && this.chance(0.3));
      out[field.property] = useDefault ? this.defaultOf(field) : this.fieldValue(field, version, depth);
    }
    return out;
  }

  private fieldValue(field: FieldSpec, version: number, depth: number): unknown {
    const chosen = this.choose?.(field, version, this.random);
    if (chosen !== undefined) return chosen;
    if (contains(field.nullableVersions, version) && this.chance(0.25)) return null;
    return this.value(field.type, version, depth);
  }

  private value(type: FieldType, version: number, depth: number): unknown {
    switch (type.kind) {
      case 'bool':
        return this.chance(0.5);
      case 'int8':
        return this.int(-128, 127);
      case 'int16':
        return this.int(-32768, 32767);
      case 'uint16':
        return this.int(0, 0xffff);
      case 'int32':
        return this.int(-0x80000000, 0x7fffffff);
      case 'uint32':
        return this.int(0, 0xffffffff);
      case 'int64':
        return BigInt.asIntN(64, (BigInt(this.int(0, 0xffffffff)) << 32n) | BigInt(this.int(0, 0xffffffff)));
      case 'float64':
        return this.int(-1e6, 1e6) / 8;
      case 'uuid':
        return this.bytes(16).toString('base64url');
      case 'string': {
        const alphabet = ['a', 'Z', '0', '-', '.', 'é', '日', '🚀'];
        let text = '';
        for (let n = this.int(0, 8); n > 0; n--) text += alphabet[this.int(0, alphabet.length - 1)];
        return text;
      }
      case 'bytes':
        return this.bytes(this.int(0, 12));
      case 'records':
        return this.bytes(this.chance(0.1) ? 1500 : this.int(0, 40));
      case 'struct':
        return this.build(this.struct(type.struct), version, depth + 1);
      case 'array': {
        const length = depth > 3 ? 0 : this.int(0, 3);
        const items: unknown[] = [];
        for (let i = 0; i < length; i++) items.push(this.value(type.element, version, depth + 1));
        return items;
      }
    }
  }

  private bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** The field's default, worked out from the schema text (Kafka's rules: zero, empty, or `default`). */
  defaultOf(field: FieldSpec): unknown {
    const raw = field.defaultValue;
    if (raw === 'null') return null;
    switch (field.type.kind) {
      case 'bool':
        return raw === true || raw === 'true';
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'float64':
        return raw === undefined ? 0 : Number(raw);
      case 'int64':
        return raw === undefined ? 0n : BigInt(raw as string | number);
      case 'string':
        return raw === undefined ? '' : String(raw);
      case 'uuid':
        return ZERO_UUID;
      case 'bytes':
      case 'records':
        return Buffer.alloc(0);
      case 'array':
        return [];
      case 'struct': {
        const struct = this.struct(field.type.struct);
        return Object.fromEntries(struct.fields.map((f) => [f.property, this.defaultOf(f)]));
      }
    }
  }
}
