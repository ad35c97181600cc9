import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { murmur2, partitionForKey, toPositive } from './murmur2.js';

const require = createRequire(import.meta.url);
// kafkajs's Java-compatible (Long-based) murmur2 and its DefaultPartitioner, the references we must match.
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;
const kafkajsDefaultPartitioner = (
  require('kafkajs') as {
    Partitioners: {
      DefaultPartitioner: () => (args: {
        topic: string;
        partitionMetadata: { partitionId: number; leader: number }[];
        message: { key: Buffer | string };
      }) => number;
    };
  }
).Partitioners.DefaultPartitioner();

function fixedKeys(): (string | Buffer)[] {
  const keys: (string | Buffer)[] = [
    '',
    'a',
    'ab',
    'abc',
    'abcd',
    'abcde',
    'key-1',
    'order-42',
    'ünïcødé',
    '日本語',
  ];
  for (let i = 0; i < 300; i++) keys.push(`user-${i}`);
  // Deterministic byte keys of every length 0..40, with high bytes (sign-extension traps).
  for (let length = 0; length <= 40; length++) {
    const key = Buffer.alloc(length);
    for (let i = 0; i < length; i++) key[i] = (i * 97 + length * 31 + 200) & 0xff;
    keys.push(key);
  }
  return keys;
}

describe('murmur2', () => {
  test('known Java values', () => {
    // Values from Kafka's UtilsTest.testMurmur2 (Java).
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, expected] of cases) assert.equal(murmur2(Buffer.from(key)), expected, key);
  });

  test('equals kafkajs murmur2 on a fixed key set', () => {
    for (const key of fixedKeys()) {
      const bytes = typeof key === 'string' ? Buffer.from(key) : key;
      assert.equal(murmur2(bytes), kafkajsMurmur2(key), `key ${bytes.toString('hex')}`);
    }
  });

  test('hashes a sub-range as if it were its own buffer', () => {
    const inner = Buffer.from('order-42');
    const framed = Buffer.concat([Buffer.from([1, 2, 3]), inner, Buffer.from([9])]);
    assert.equal(murmur2(framed, 3, 3 + inner.length), murmur2(inner));
  });

  test('partitionForKey equals kafkajs DefaultPartitioner', () => {
    for (const partitionCount of [1, 3, 7, 12, 100]) {
      const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
        partitionId,
        leader: 0,
      }));
      for (const key of fixedKeys()) {
        const expected = kafkajsDefaultPartitioner({ topic: 't', partitionMetadata, message: { key } });
        assert.equal(partitionForKey(key, partitionCount), expected);
      }
    }
  });

  test('toPositive clears the sign bit', () => {
    assert.equal(toPositive(-1563381124), 584102524);
    assert.equal(toPositive(-2147483648), 0);
    assert.equal(toPositive(5), 5);
  });
});
