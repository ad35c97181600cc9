import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../errors.js';
import { ProtocolDecodeError } from './errors.js';
import { Reader } from './reader.js';
import { ZERO_UUID } from './uuid.js';

const bytes = (...values: number[]) => Buffer.from(values);

describe('Reader', () => {
  test('reads fixed-width integers big-endian', () => {
    const r = new Reader(
      bytes(0xff, 0x80, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd),
    );
    assert.equal(r.readInt8(), -1);
    assert.equal(r.readInt16(), -32768);
    assert.equal(r.readInt8(), 0x7f);
    assert.equal(r.readInt32(), -2);
    assert.equal(r.readInt64(), -3n);
    assert.equal(r.remaining, 0);
  });

  test('reads unsigned integers, float64 and bool', () => {
    const buf = Buffer.alloc(2 + 4 + 8 + 2);
    buf.writeUInt16BE(0xfffe, 0);
    buf.writeUInt32BE(0xfffffffe, 2);
    buf.writeDoubleBE(1.5, 6);
    buf[14] = 0;
    buf[15] = 7;
    const r = new Reader(buf);
    assert.equal(r.readUInt16(), 0xfffe);
    assert.equal(r.readUInt32(), 0xfffffffe);
    assert.equal(r.readFloat64(), 1.5);
    assert.equal(r.readBool(), false);
    assert.equal(r.readBool(), true);
  });

  test('reads UUIDs in Kafka text form', () => {
    assert.equal(new Reader(Buffer.alloc(16)).readUuid(), ZERO_UUID);
    const raw = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    assert.equal(new Reader(raw).readUuid(), 'AAECAwQFBgcICQoLDA0ODw');
  });

  test('reads varints', () => {
    const r = new Reader(bytes(0x05, 0x96, 0x01, 0x03, 0x04, 0x03));
    assert.equal(r.readUnsignedVarint(), 5);
    assert.equal(r.readUnsignedVarint(), 150);
    assert.equal(r.readVarint(), -2);
    assert.equal(r.readVarint(), 2);
    assert.equal(r.readVarlong(), -2);
  });

  test('reads strings in all four encodings', () => {
    const r = new Reader(
      Buffer.concat([
        bytes(0x00, 0x02),
        Buffer.from('hi'),
        bytes(0xff, 0xff),
        bytes(0x04),
        Buffer.from('é!'),
        bytes(0x00),
        bytes(0x01),
      ]),
    );
    assert.equal(r.readString(), 'hi');
    assert.equal(r.readNullableString(), null);
    assert.equal(r.readCompactString(), 'é!');
    assert.equal(r.readCompactNullableString(), null);
    assert.equal(r.readCompactString(), '');
  });

  test('bytes come back as subarrays of the input, not copies', () => {
    const input = bytes(0, 0, 0, 3, 9, 8, 7, 0x03, 1, 2, 0xff, 0xff, 0xff, 0xff, 0x00);
    const r = new Reader(input);
    const first = r.readBytes();
    assert.deepEqual([...first], [9, 8, 7]);
    assert.equal(first.buffer, input.buffer);
    assert.equal(first.byteOffset, input.byteOffset + 4);
    const second = r.readCompactBytes();
    assert.deepEqual([...second], [1, 2]);
    assert.equal(second.buffer, input.buffer);
    assert.equal(r.readNullableBytes(), null);
    assert.equal(r.readCompactNullableBytes(), null);
  });

  test('array lengths: -1 and compact 0 are null', () => {
    const r = new Reader(bytes(0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 7, 7));
    assert.equal(r.readArrayLength(), null);
    assert.equal(r.readArrayLength(), 1);
    assert.equal(r.readCompactArrayLength(), null);
    assert.equal(r.readCompactArrayLength(), 2);
  });

  test('skipTaggedFields skips every field by its size', () => {
    const r = new Reader(bytes(0x02, 0x00, 0x01, 0xaa, 0x05, 0x02, 0xbb, 0xcc, 0x42));
    r.skipTaggedFields();
    assert.equal(r.readInt8(), 0x42);
  });

  describe('malformed input throws ProtocolDecodeError', () => {
    const cases: [string, Buffer, (r: Reader) => unknown][] = [
      ['int32 past the end', bytes(0, 0, 0), (r) => r.readInt32()],
      ['int64 past the end', bytes(0, 0, 0, 0, 0, 0, 0), (r) => r.readInt64()],
      ['uuid past the end', Buffer.alloc(15), (r) => r.readUuid()],
      ['string longer than the input', bytes(0, 5, 0x61), (r) => r.readString()],
      ['null non-nullable string', bytes(0xff, 0xff), (r) => r.readString()],
      ['string length -2', bytes(0xff, 0xfe), (r) => r.readNullableString()],
      ['null non-nullable compact string', bytes(0x00), (r) => r.readCompactString()],
      ['bytes length -2', bytes(0xff, 0xff, 0xff, 0xfe), (r) => r.readNullableBytes()],
      ['bytes longer than the input', bytes(0x7f, 0xff, 0xff, 0xff), (r) => r.readBytes()],
      [
        'compact bytes longer than the input',
        bytes(0xff, 0xff, 0xff, 0xff, 0x0f),
        (r) => r.readCompactBytes(),
      ],
      ['truncated varint', bytes(0x80, 0x80), (r) => r.readUnsignedVarint()],
      [
        'varint longer than 5 bytes',
        bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
        (r) => r.readUnsignedVarint(),
      ],
      ['truncated varlong', bytes(0x80), (r) => r.readVarlong()],
      ['array length -2', bytes(0xff, 0xff, 0xff, 0xfe), (r) => r.readArrayLength()],
      ['huge array length', bytes(0x7f, 0xff, 0xff, 0xff, 1, 2), (r) => r.readArrayLength()],
      ['huge compact array length', bytes(0xff, 0xff, 0xff, 0xff, 0x07), (r) => r.readCompactArrayLength()],
      ['skip past the end', bytes(1, 2), (r) => r.skip(3)],
      ['tagged field larger than the input', bytes(0x01, 0x00, 0x09, 0x00), (r) => r.skipTaggedFields()],
    ];
    for (const [name, input, read] of cases) {
      test(name, () => {
        assert.throws(
          () => read(new Reader(input)),
          (error: unknown) =>
            error instanceof ProtocolDecodeError && error.code === ErrorCode.INVALID_REQUEST,
        );
      });
    }
  });

  test('array length equal to the remaining bytes is accepted', () => {
    const r = new Reader(bytes(0, 0, 0, 2, 1, 1));
    assert.equal(r.readArrayLength(), 2);
  });

  test('rejects a start offset outside the buffer', () => {
    assert.throws(() => new Reader(Buffer.alloc(2), 3), ProtocolDecodeError);
  });
});
