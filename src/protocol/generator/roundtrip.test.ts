// Round-trips a pseudo-random sample of every generated message at every valid version. Samples are built
// from the schema, independently of the generated code: only fields present at the version get random
// values (absent ones hold their default, which is what decoding fills in), nullability and tagged fields are
// exercised, and the bytes must decode back to the same value and re-encode to the same bytes.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as generated from '../generated/index.js';
import { ProtocolDecodeError } from '../primitives/errors.js';
import { Reader } from '../primitives/reader.js';
import { ZERO_UUID } from '../primitives/uuid.js';
import { Writer } from '../primitives/writer.js';
import {
  contains,
  DEFAULT_MESSAGES_FOLDER,
  type FieldSpec,
  type FieldType,
  loadMessages,
  type MessageSpec,
  repositoryRoot,
  type StructSpec,
} from './schema.js';

const MESSAGES_FOLDER = path.resolve(repositoryRoot(), DEFAULT_MESSAGES_FOLDER);
const SAMPLES_PER_VERSION = 4;

type Codec = {
  encode(w: Writer, message: unknown, version: number): void;
  decode(r: Reader, version: number): unknown;
};

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

class SampleBuilder {
  private readonly message: MessageSpec;
  private readonly random: () => number;

  constructor(message: MessageSpec, seed: number) {
    this.message = message;
    this.random = rng(seed);
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

function codecFor(message: MessageSpec): Codec {
  if (message.kind === 'request' || message.kind === 'response') {
    const api = generated.API_BY_KEY.get(message.apiKey!);
    assert.ok(api, `no descriptor for API key ${message.apiKey}`);
    return message.kind === 'request'
      ? { encode: api.encodeRequest, decode: api.decodeRequest }
      : { encode: api.encodeResponse, decode: api.decodeResponse };
  }
  const codec = (generated as unknown as Record<string, Codec | undefined>)[`${message.name}Codec`];
  assert.ok(codec, `no codec export for ${message.name}`);
  return codec;
}

function roundTrip(codec: Codec, value: unknown, version: number, where: string): void {
  const w = new Writer(64);
  codec.encode(w, value, version);
  const encoded = w.toBuffer();
  const r = new Reader(encoded);
  const decoded = codec.decode(r, version);
  assert.equal(r.remaining, 0, `${where}: ${r.remaining} bytes left after decoding`);
  assert.deepStrictEqual(decoded, value, where);
  const again = new Writer(64);
  codec.encode(again, decoded, version);
  assert.ok(again.toBuffer().equals(encoded), `${where}: re-encoding changed the bytes`);
}

const messages = await loadMessages(MESSAGES_FOLDER);

test('the schema folder has every message the brief expects', () => {
  const count = (kind: string) => messages.filter((m) => m.kind === kind).length;
  assert.deepEqual([count('request'), count('response'), count('header'), count('data')], [88, 88, 2, 8]);
  assert.equal(generated.API_BY_KEY.size, 88);
  assert.equal(generated.ApiKey.Produce, 0);
  assert.equal(generated.ApiKey.ApiVersions, 18);
  assert.equal(generated.API_BY_KEY.get(generated.ApiKey.Fetch), generated.FetchApi);
});

describe('every message round-trips at every version', () => {
  for (const message of messages) {
    test(message.name, () => {
      const codec = codecFor(message);
      let seed = 1;
      for (const c of message.name) seed = (seed * 31 + c.charCodeAt(0)) >>> 0;
      for (let version = message.validVersions.min; version <= message.validVersions.max; version++) {
        for (let sample = 0; sample < SAMPLES_PER_VERSION; sample++) {
          const builder = new SampleBuilder(message, seed + version * 1000 + sample);
          const value = builder.build(message.root, version);
          roundTrip(codec, value, version, `${message.name} v${version} sample ${sample}`);
        }
      }
    });
  }
});

describe('every message rejects truncated input', () => {
  for (const message of messages) {
    test(message.name, () => {
      const codec = codecFor(message);
      const version = message.validVersions.max;
      const value = new SampleBuilder(message, 7).build(message.root, version);
      const w = new Writer();
      codec.encode(w, value, version);
      const encoded = w.toBuffer();
      // Every proper prefix must fail cleanly; stepping keeps large samples fast.
      const step = Math.max(1, Math.floor(encoded.length / 64));
      for (let length = 0; length < encoded.length; length += step) {
        assert.throws(
          () => codec.decode(new Reader(encoded.subarray(0, length)), version),
          (error: unknown) => error instanceof ProtocolDecodeError,
          `${message.name} v${version} truncated to ${length} of ${encoded.length} bytes`,
        );
      }
    });
  }
});

test('versions outside validVersions are refused on both sides', () => {
  const api = generated.ProduceApi;
  assert.throws(() => api.decodeRequest(new Reader(Buffer.alloc(64)), 12), /version 12 is not supported/);
  assert.throws(() =>
    api.encodeResponse(new Writer(), { responses: [], throttleTimeMs: 0, nodeEndpoints: [] }, -1),
  );
});
