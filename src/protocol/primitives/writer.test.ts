import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolEncodeError } from './errors.js';
import { Reader } from './reader.js';
import { isUuid, randomUuid, ZERO_UUID } from './uuid.js';
import { MIN_REFERENCED_CHUNK_BYTES, nonNull, Writer } from './writer.js';

const hex = (w: Writer) => w.toBuffer().toString('hex');

describe('Writer', () => {
  test('writes fixed-width values big-endian', () => {
    const w = new Writer();
    w.writeInt8(-1);
    w.writeInt16(-32768);
    w.writeInt32(-2);
    w.writeInt64(-3n);
    w.writeUInt16(0xfffe);
    w.writeUInt32(0xfffffffe);
    w.writeBool(true);
    w.writeBool(false);
    w.writeFloat64(1.5);
    assert.equal(hex(w), 'ff8000fffffffefffffffffffffffdfffefffffffe01003ff8000000000000');
    assert.equal(w.length, 31);
  });

  test('int64 matches writeBigInt64BE across the safe range, its edges and beyond', () => {
    const values = [
      0n,
      1n,
      -1n,
      4294967295n,
      4294967296n,
      -4294967296n,
      -4294967297n,
      2n ** 53n - 1n,
      -(2n ** 53n) + 1n,
      2n ** 53n,
      -(2n ** 53n),
      2n ** 63n - 1n,
      -(2n ** 63n),
      1_700_000_000_123n,
      -1_700_000_000_123n,
    ];
    for (let i = 0; i < 2000; i++) {
      const magnitude = BigInt(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER));
      values.push(i % 2 === 0 ? magnitude : -magnitude);
    }
    for (const value of values) {
      const w = new Writer();
      w.writeInt64(value);
      const expected = Buffer.alloc(8);
      expected.writeBigInt64BE(value);
      assert.deepEqual(w.toBuffer(), expected, String(value));
    }
  });

  test('writes varints', () => {
    const w = new Writer();
    w.writeUnsignedVarint(5);
    w.writeUnsignedVarint(150);
    w.writeVarint(-2);
    w.writeVarlong(-2);
    assert.equal(hex(w), '0596010303');
  });

  test('writes strings in all four encodings', () => {
    const w = new Writer();
    w.writeString('hi');
    w.writeNullableString(null);
    w.writeCompactString('é!');
    w.writeCompactNullableString(null);
    w.writeCompactString('');
    assert.equal(hex(w), '00026869ffff04c3a92100' + '01');
  });

  test('compact strings whose length needs a multi-byte varint', () => {
    const text = 'x'.repeat(200);
    const w = new Writer(16);
    w.writeCompactString(text);
    const out = w.toBuffer();
    assert.equal(out.subarray(0, 2).toString('hex'), 'c901');
    assert.equal(new Reader(out).readCompactString(), text);
  });

  test('multi-byte UTF-8 survives both string encodings', () => {
    const text = 'día 日本 🚀';
    const w = new Writer(8);
    w.writeString(text);
    w.writeCompactString(text);
    const r = new Reader(w.toBuffer());
    assert.equal(r.readString(), text);
    assert.equal(r.readCompactString(), text);
    assert.equal(r.remaining, 0);
  });

  test('rejects strings too long for an int16 length', () => {
    assert.throws(() => new Writer().writeString('x'.repeat(0x8000)), ProtocolEncodeError);
  });

  test('writes bytes, arrays lengths and null markers', () => {
    const w = new Writer();
    w.writeBytes(Buffer.from([9, 8]));
    w.writeNullableBytes(null);
    w.writeCompactBytes(Buffer.from([7]));
    w.writeCompactNullableBytes(null);
    w.writeArrayLength(2);
    w.writeArrayLength(null);
    w.writeCompactArrayLength(2);
    w.writeCompactArrayLength(null);
    assert.equal(hex(w), '000000020908ffffffff020700' + '00000002ffffffff0300');
  });

  test('UUIDs: Kafka text form to 16 bytes, malformed text rejected', () => {
    const w = new Writer();
    w.writeUuid('AAECAwQFBgcICQoLDA0ODw');
    w.writeUuid(ZERO_UUID);
    assert.equal(hex(w), `000102030405060708090a0b0c0d0e0f${'00'.repeat(16)}`);
    assert.throws(() => new Writer().writeUuid('too-short'), ProtocolEncodeError);
    assert.throws(() => new Writer().writeUuid('!!!!!!!!!!!!!!!!!!!!!!'), ProtocolEncodeError);
  });

  test('randomUuid gives canonical, non-reserved ids', () => {
    for (let i = 0; i < 100; i++) {
      const id = randomUuid();
      assert.ok(isUuid(id), id);
      assert.notEqual(id, ZERO_UUID);
      assert.ok(!id.startsWith('-'));
    }
    assert.equal(isUuid('AAECAwQFBgcICQoLDA0ODx'), false);
  });

  test('small raw writes are copied into the scratch buffer', () => {
    const small = Buffer.from([1, 2, 3]);
    const w = new Writer();
    w.writeInt8(0);
    w.writeRaw(small);
    small[0] = 99;
    const chunks = w.toChunks();
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]!.toString('hex'), '00010203');
  });

  test('large raw writes are appended by reference between merged small writes', () => {
    const big = Buffer.alloc(MIN_REFERENCED_CHUNK_BYTES, 0xab);
    const w = new Writer();
    w.writeInt32(1);
    w.writeInt16(2);
    w.writeRaw(big);
    w.writeInt8(3);
    w.writeInt8(4);
    const chunks = w.toChunks();
    assert.equal(chunks.length, 3);
    assert.equal(chunks[0]!.toString('hex'), '000000010002');
    assert.equal(chunks[1], big);
    assert.equal(chunks[2]!.toString('hex'), '0304');
    assert.equal(w.length, 6 + big.length + 2);
    const whole = w.toBuffer();
    assert.equal(whole.length, w.length);
    assert.equal(whole.subarray(6, 6 + big.length).equals(big), true);
  });

  test('records: one buffer or a list of chunks, with the total length first', () => {
    const a = Buffer.alloc(2000, 1);
    const b = Buffer.alloc(10, 2);
    const w = new Writer();
    w.writeRecords([a, b]);
    w.writeCompactRecords([b]);
    w.writeRecords(null);
    w.writeCompactRecords(null);
    const chunks = w.toChunks();
    assert.equal(chunks[1], a);
    const r = new Reader(w.toBuffer());
    const first = r.readNullableBytes();
    assert.ok(first !== null);
    assert.equal(first.equals(Buffer.concat([a, b])), true);
    assert.equal(r.readCompactNullableBytes()?.equals(b), true);
    assert.equal(r.readNullableBytes(), null);
    assert.equal(r.readCompactNullableBytes(), null);
    assert.equal(r.remaining, 0);
  });

  test('grows past its initial capacity without losing earlier bytes', () => {
    const w = new Writer(16);
    for (let i = 0; i < 50_000; i++) w.writeInt32(i);
    const r = new Reader(w.toBuffer());
    for (let i = 0; i < 50_000; i++) assert.equal(r.readInt32(), i);
    assert.equal(w.length, 200_000);
  });

  test('toChunks can be called before more writes', () => {
    const w = new Writer();
    w.writeInt8(1);
    const early = w.toChunks();
    w.writeInt8(2);
    assert.equal(Buffer.concat(early).toString('hex'), '01');
    assert.equal(hex(w), '0102');
  });

  test('nonNull passes values and rejects null', () => {
    assert.equal(nonNull('x', 'field'), 'x');
    assert.throws(() => nonNull(null, 'Foo.bar'), /Foo\.bar is not nullable/);
  });
});
