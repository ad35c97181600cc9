// Round-trips pseudo-random samples (samples.ts: built from the schemas, independently of the generated code)
// of every generated message at every valid version: the bytes must decode back to the same value and
// re-encode to the same bytes.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as generated from '../generated/index.js';
import { ProtocolDecodeError } from '../primitives/errors.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import { SampleBuilder } from './samples.js';
import { DEFAULT_MESSAGES_FOLDER, loadMessages, type MessageSpec, repositoryRoot } from './schema.js';

const MESSAGES_FOLDER = path.resolve(repositoryRoot(), DEFAULT_MESSAGES_FOLDER);
const SAMPLES_PER_VERSION = 4;

type Codec = {
  encode(w: Writer, message: unknown, version: number): void;
  decode(r: Reader, version: number): unknown;
};

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
