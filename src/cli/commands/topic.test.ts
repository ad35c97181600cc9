import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigEntry } from '../../client/admin.js';
import { UsageError } from '../errors.js';
import { formatCluster } from './cluster.js';
import { configChanges, formatTopicDescription } from './topic.js';

function entry(name: string, value: string | null, isSensitive = false): ConfigEntry {
  return {
    name,
    value,
    source: 'dynamic-topic',
    isDefault: false,
    readOnly: false,
    isSensitive,
    synonyms: [],
    type: 'STRING',
    documentation: null,
  };
}

describe('topic alter', () => {
  test('--config sets and --delete-config deletes', () => {
    assert.deepEqual(
      configChanges({ config: [['retention.ms', '1000']], deleteConfig: ['cleanup.policy'] }),
      [
        { name: 'retention.ms', value: '1000', operation: 'set' },
        { name: 'cleanup.policy', operation: 'delete' },
      ],
    );
    assert.deepEqual(configChanges({}), []);
  });

  test('setting and deleting the same key is a usage error', () => {
    assert.throws(
      () => configChanges({ config: [['a', '1']], deleteConfig: ['a'] }),
      (error: unknown) =>
        error instanceof UsageError && error.message === "config 'a' is both set and deleted",
    );
  });
});

describe('formatTopicDescription', () => {
  test('summary, non-default configs (sensitive hidden), one row per partition', () => {
    const text = formatTopicDescription(
      {
        name: 'orders',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
        isInternal: false,
        partitions: [
          { partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2], isr: [1, 2] },
          { partition: 1, leader: -1, leaderEpoch: 0, replicas: [2, 1], isr: [] },
        ],
      },
      [entry('retention.ms', '1000'), entry('secret', null, true)],
    );
    assert.equal(
      text,
      [
        'Topic: orders  Id: AAAAAAAAAAAAAAAAAAAAAQ  Partitions: 2  Replication factor: 2',
        'Configs: retention.ms=1000, secret=(sensitive)',
        'Partition  Leader  Replicas  ISR',
        '        0       1  1,2       1,2',
        '        1    none  2,1',
      ].join('\n'),
    );
  });

  test('no overrides reads (none)', () => {
    const text = formatTopicDescription({ name: 't', topicId: 'x', isInternal: true, partitions: [] }, []);
    assert.equal(
      text,
      'Topic: t  Id: x  Partitions: 0  Replication factor: 0  Internal\nConfigs: (none)\nPartition  Leader  Replicas  ISR',
    );
  });
});

describe('formatCluster', () => {
  test('brokers with address, rack and the partitions each leads', () => {
    const text = formatCluster(
      {
        clusterId: 'c1',
        controllerId: 2,
        brokers: [
          { nodeId: 1, host: '10.0.0.1', port: 9092, rack: 'r1' },
          { nodeId: 2, host: '::1', port: 9093, rack: null },
        ],
      },
      [
        {
          name: 't',
          topicId: 'x',
          isInternal: false,
          partitions: [
            { partition: 0, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1] },
            { partition: 1, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1] },
          ],
        },
      ],
    );
    assert.equal(
      text,
      [
        'Cluster id: c1',
        'Controller: 2',
        'Broker  Address        Rack  Partitions led',
        '     1  10.0.0.1:9092  r1                 2',
        '     2  [::1]:9093     -                  0',
      ].join('\n'),
    );
  });
});
