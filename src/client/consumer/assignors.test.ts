import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cooperativeStickyAssignor,
  kafkajsRoundRobinAssignor,
  type MemberSubscription,
  rangeAssignor,
  rebalanceProtocolOf,
  roundRobinAssignor,
  type TopicPartitionsMap,
  toTopicPartitionsList,
} from './assignors.js';

function member(
  memberId: string,
  topics: string[],
  owned: Record<string, number[]> = {},
  generationId = -1,
  groupInstanceId: string | null = null,
): MemberSubscription {
  return {
    memberId,
    groupInstanceId,
    topics,
    ownedPartitions: Object.entries(owned).map(([topic, partitions]) => ({ topic, partitions })),
    generationId,
    userData: null,
  };
}

/** Assignment as plain objects for exact comparison. */
function plain(result: Map<string, TopicPartitionsMap>): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const [memberId, assignment] of [...result].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[memberId] = Object.fromEntries([...assignment].filter(([, p]) => p.length > 0).sort());
  }
  return out;
}

function counts(result: Map<string, TopicPartitionsMap>): number[] {
  return [...result.values()].map((a) => [...a.values()].reduce((n, p) => n + p.length, 0));
}

/** Checks no partition is assigned twice and returns the set of "topic-partition" assigned. */
function assigned(result: Map<string, TopicPartitionsMap>): Set<string> {
  const seen = new Set<string>();
  for (const assignment of result.values()) {
    for (const [topic, partitions] of assignment) {
      for (const p of partitions) {
        const key = `${topic}-${p}`;
        assert.ok(!seen.has(key), `${key} assigned twice`);
        seen.add(key);
      }
    }
  }
  return seen;
}

function allPartitions(partitionCounts: Map<string, number>): Set<string> {
  const all = new Set<string>();
  for (const [topic, n] of partitionCounts) for (let p = 0; p < n; p++) all.add(`${topic}-${p}`);
  return all;
}

/** The partitions each member owns after an assignment, as the next subscription's ownedPartitions. */
function ownedFrom(result: Map<string, TopicPartitionsMap>, memberId: string): Record<string, number[]> {
  return Object.fromEntries(toTopicPartitionsList(result.get(memberId)!).map((t) => [t.topic, t.partitions]));
}

describe('range', () => {
  test('contiguous ranges per topic, extras to the first members', () => {
    const result = rangeAssignor.assign(
      [member('c2', ['t1', 't2']), member('c1', ['t1', 't2']), member('c3', ['t1'])],
      new Map([
        ['t1', 7],
        ['t2', 3],
      ]),
    );
    assert.deepEqual(plain(result), {
      c1: { t1: [0, 1, 2], t2: [0, 1] },
      c2: { t1: [3, 4], t2: [2] },
      c3: { t1: [5, 6] },
    });
  });

  test('static members sort before dynamic ones, by instance id', () => {
    const result = rangeAssignor.assign(
      [
        member('a', ['t']),
        member('z', ['t'], {}, -1, 'instance-1'),
        member('b', ['t'], {}, -1, 'instance-0'),
      ],
      new Map([['t', 3]]),
    );
    assert.deepEqual(plain(result), { a: { t: [2] }, b: { t: [0] }, z: { t: [1] } });
  });

  test('ignores topics that do not exist and gives every member an entry', () => {
    const result = rangeAssignor.assign([member('a', ['missing']), member('b', ['t'])], new Map([['t', 2]]));
    assert.deepEqual(plain(result), { a: {}, b: { t: [0, 1] } });
  });
});

describe('roundrobin', () => {
  test('deals (topic, partition) in order over sorted members', () => {
    const result = roundRobinAssignor.assign(
      [member('c1', ['t0', 't1']), member('c0', ['t0', 't1'])],
      new Map([
        ['t1', 2],
        ['t0', 3],
      ]),
    );
    assert.deepEqual(plain(result), { c0: { t0: [0, 2], t1: [1] }, c1: { t0: [1], t1: [0] } });
  });

  test('skips members not subscribed to a topic', () => {
    const result = roundRobinAssignor.assign(
      [member('a', ['t0']), member('b', ['t0', 't1']), member('c', ['t0', 't1', 't2'])],
      new Map([
        ['t0', 1],
        ['t1', 2],
        ['t2', 3],
      ]),
    );
    assert.deepEqual(plain(result), { a: { t0: [0] }, b: { t1: [0] }, c: { t1: [1], t2: [0, 1, 2] } });
  });

  test('the kafkajs alias uses kafkajs protocol name and subscription v0', () => {
    assert.equal(kafkajsRoundRobinAssignor.name, 'RoundRobinAssigner');
    assert.equal(kafkajsRoundRobinAssignor.subscriptionVersion, 0);
    const members = [member('m1', ['t']), member('m0', ['t'])];
    assert.deepEqual(
      plain(kafkajsRoundRobinAssignor.assign(members, new Map([['t', 4]]))),
      plain(roundRobinAssignor.assign(members, new Map([['t', 4]]))),
    );
  });
});

describe('cooperative-sticky', () => {
  const partitionCounts = new Map([
    ['a', 4],
    ['b', 3],
  ]);

  test('first assignment is balanced and complete', () => {
    const result = cooperativeStickyAssignor.assign(
      [member('m1', ['a', 'b']), member('m2', ['a', 'b']), member('m3', ['a', 'b'])],
      partitionCounts,
    );
    assert.deepEqual(assigned(result), allPartitions(partitionCounts));
    assert.deepEqual(
      counts(result).sort((x, y) => x - y),
      [2, 2, 3],
    );
  });

  test('a joining member: owners keep what stays, moving partitions wait one round (two phases)', () => {
    const first = cooperativeStickyAssignor.assign(
      [member('m1', ['a', 'b']), member('m2', ['a', 'b'])],
      partitionCounts,
    );
    assert.deepEqual(assigned(first), allPartitions(partitionCounts));
    const owned1 = ownedFrom(first, 'm1');
    const owned2 = ownedFrom(first, 'm2');

    // m3 joins; m1 and m2 report what they own (generation 1).
    const second = cooperativeStickyAssignor.assign(
      [member('m1', ['a', 'b'], owned1, 1), member('m2', ['a', 'b'], owned2, 1), member('m3', ['a', 'b'])],
      partitionCounts,
    );
    const phase1 = assigned(second);
    // Nothing moves straight to m3: it only gets partitions nobody owned (none here).
    assert.deepEqual(plain(second).m3, {});
    // m1 and m2 keep a subset of what they owned; the rest is revoked.
    for (const [id, owned] of [
      ['m1', owned1],
      ['m2', owned2],
    ] as const) {
      for (const [topic, partitions] of second.get(id)!) {
        for (const p of partitions)
          assert.ok(owned[topic]?.includes(p), `${id} got ${topic}-${p} it did not own`);
      }
    }
    const revoked = [...allPartitions(partitionCounts)].filter((tp) => !phase1.has(tp));
    assert.equal(revoked.length, 2, 'm3 is owed 2 of 7 partitions');

    // Follow-up rebalance after the owners revoked: the revoked partitions go to m3, nothing else moves.
    const third = cooperativeStickyAssignor.assign(
      [
        member('m1', ['a', 'b'], ownedFrom(second, 'm1'), 2),
        member('m2', ['a', 'b'], ownedFrom(second, 'm2'), 2),
        member('m3', ['a', 'b'], {}, -1),
      ],
      partitionCounts,
    );
    assert.deepEqual(assigned(third), allPartitions(partitionCounts));
    assert.deepEqual(plain(third).m1, plain(second).m1);
    assert.deepEqual(plain(third).m2, plain(second).m2);
    assert.deepEqual(
      new Set(
        toTopicPartitionsList(third.get('m3')!).flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`)),
      ),
      new Set(revoked),
    );
    assert.deepEqual(
      counts(third).sort((x, y) => x - y),
      [2, 2, 3],
    );
  });

  test('a leaving member: survivors keep everything and take the orphans at once', () => {
    const owned = {
      m1: { a: [0, 1], b: [0] },
      m2: { a: [2], b: [1] },
      m3: { a: [3], b: [2] },
    };
    const result = cooperativeStickyAssignor.assign(
      [member('m1', ['a', 'b'], owned.m1, 4), member('m2', ['a', 'b'], owned.m2, 4)],
      partitionCounts,
    );
    assert.deepEqual(assigned(result), allPartitions(partitionCounts));
    // Orphans go to the least loaded survivor, ties by member order: a-3 to m2, then b-2 to m1.
    assert.deepEqual(plain(result), { m1: { a: [0, 1], b: [0, 2] }, m2: { a: [2, 3], b: [1] } });
  });

  test('a stale claim loses to the claim with the newer generation', () => {
    const result = cooperativeStickyAssignor.assign(
      [member('m1', ['a'], { a: [0, 1] }, 3), member('m2', ['a'], { a: [1, 2, 3] }, 5)],
      new Map([['a', 4]]),
    );
    assert.deepEqual(plain(result), { m1: { a: [0] }, m2: { a: [1, 2] } });
  });

  test('a member that owned less than its share keeps all of it', () => {
    const result = cooperativeStickyAssignor.assign(
      [member('m1', ['a', 'b'], { a: [0, 1, 2] }, 1), member('m2', ['a', 'b'])],
      partitionCounts,
    );
    // a-3, b-0, b-1 go to m2 (least loaded), then b-2 to m1 on the tie.
    assert.deepEqual(plain(result), { m1: { a: [0, 1, 2], b: [2] }, m2: { a: [3], b: [0, 1] } });
  });

  test('respects different subscriptions and still balances', () => {
    const result = cooperativeStickyAssignor.assign(
      [member('m1', ['a']), member('m2', ['a', 'b'])],
      partitionCounts,
    );
    assert.deepEqual(assigned(result), allPartitions(partitionCounts));
    assert.deepEqual(plain(result), { m1: { a: [0, 2, 3] }, m2: { a: [1], b: [0, 1, 2] } });
  });

  test('two members owning the same partitions keep them through an unchanged rebalance', () => {
    const owned = { m1: { a: [1, 3], b: [0, 2] }, m2: { a: [0, 2], b: [1] } };
    const result = cooperativeStickyAssignor.assign(
      [member('m1', ['a', 'b'], owned.m1, 7), member('m2', ['a', 'b'], owned.m2, 7)],
      partitionCounts,
    );
    assert.deepEqual(plain(result), owned);
  });

  test('protocol: cooperative only when every offered assignor is', () => {
    assert.equal(rebalanceProtocolOf([cooperativeStickyAssignor]), 'cooperative');
    assert.equal(rebalanceProtocolOf([cooperativeStickyAssignor, rangeAssignor]), 'eager');
    assert.equal(rebalanceProtocolOf([]), 'eager');
  });
});
