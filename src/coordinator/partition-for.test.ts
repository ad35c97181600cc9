import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { javaStringHashCode, javaUtilsAbs, partitionFor } from './partition-for.js';

// Java's String.hashCode by its definition, s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units reduced to a
// signed 32-bit int, computed with BigInt so that it shares no arithmetic with the implementation.
function referenceHashCode(value: string): number {
  let hash = 0n;
  for (let i = 0; i < value.length; i++) hash = (hash * 31n + BigInt(value.charCodeAt(i))) % 2n ** 32n;
  return Number(BigInt.asIntN(32, hash));
}

function referencePartition(groupId: string, numPartitions: number): number {
  const hash = referenceHashCode(groupId);
  return (hash === -2147483648 ? 0 : Math.abs(hash)) % numPartitions;
}

describe('javaStringHashCode', () => {
  test('matches values Java prints', () => {
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('hello'), 99162322);
    assert.equal(javaStringHashCode('Aa'), 2112);
    assert.equal(javaStringHashCode('BB'), 2112);
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(javaStringHashCode('my-group'), -1906497762);
  });

  test('hashes UTF-16 code units, surrogate pairs as two units', () => {
    assert.equal(javaStringHashCode('é'), 0xe9);
    assert.equal(javaStringHashCode('日本'), 0x65e5 * 31 + 0x672c);
    assert.equal(javaStringHashCode('😀'), 0xd83d * 31 + 0xde00);
  });

  test('agrees with the BigInt definition on many strings', () => {
    const ids = [
      '',
      'a',
      'group-1',
      'console-consumer-12345',
      'Grüße-gruppe',
      '消费者组',
      '🚀🚀🚀',
      'x'.repeat(1000),
    ];
    for (let i = 0; i < 500; i++) ids.push(`group-${i}-${String.fromCharCode(0x20 + ((i * 7919) % 0xd7ff))}`);
    for (const id of ids) assert.equal(javaStringHashCode(id), referenceHashCode(id), id);
  });
});

describe('partitionFor', () => {
  test('abs(hashCode) % n with Integer.MIN_VALUE mapped to 0', () => {
    assert.equal(javaUtilsAbs(-2147483648), 0);
    assert.equal(javaUtilsAbs(-5), 5);
    assert.equal(partitionFor('polygenelubricants', 50), 0);
    assert.equal(partitionFor('polygenelubricants', 7), 0);
  });

  test('fixed ids over 50 partitions (offsets.topic.num.partitions default)', () => {
    const expected: [string, number][] = [
      ['', 0],
      ['hello', 22],
      ['my-group', 12],
      ['test-group', 12],
      ['console-consumer-12345', 6],
      ['日本', 47],
      ['é', 33],
      ['😀', 49],
      ['Grüße-gruppe', 43],
      ['connect-cluster', 13],
    ];
    for (const [groupId, partition] of expected) {
      assert.equal(partitionFor(groupId, 50), partition, groupId);
      assert.equal(partitionFor(groupId, 50), referencePartition(groupId, 50), groupId);
    }
  });

  test('other partition counts follow the same rule', () => {
    for (const n of [1, 3, 16, 200]) {
      for (const id of ['a', 'my-group', '日本', '😀', 'polygenelubricants']) {
        assert.equal(partitionFor(id, n), referencePartition(id, n), `${id} % ${n}`);
      }
    }
  });

  test('rejects a non-positive partition count', () => {
    assert.throws(() => partitionFor('g', 0), RangeError);
  });
});
