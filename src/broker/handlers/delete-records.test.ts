import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import { DeleteRecordsApi } from '../../protocol/generated/index.js';
import { makeBatch } from '../../storage/test-support.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { allowOnly } from './authorizer-test-support.js';
import { type DataPathBroker, startDataPath } from './data-path-test-support.js';
import { callApi } from './test-support.js';

const TOPIC = 'events';

describe('DeleteRecords with an authorizer', () => {
  const DELETE = AclOperation.DELETE;
  const authorizer = allowOnly([[DELETE, ResourceType.TOPIC, TOPIC]]);
  let broker: DataPathBroker;
  before(async () => {
    broker = await startDataPath(
      [
        { name: TOPIC, partitions: 1 },
        { name: 'secret', partitions: 1 },
      ],
      { authorizer },
    );
    for (const topic of [TOPIC, 'secret']) {
      const outcome = await broker.replicaManager.appendRecords(
        topic,
        0,
        makeBatch({ records: 3 }),
        -1,
        9,
        null,
      );
      assert.equal(outcome.errorCode, ErrorCode.NONE);
    }
  });
  after(async () => {
    await broker.close();
  });

  test('a topic without DELETE: TOPIC_AUTHORIZATION_FAILED, its log untouched; the others are deleted', async () => {
    const upTo = (name: string) => ({ name, partitions: [{ partitionIndex: 0, offset: 2n }] });
    const response = await callApi(broker.dispatch, DeleteRecordsApi, 2, {
      topics: [upTo(TOPIC), upTo('secret'), upTo('missing')],
      timeoutMs: 5000,
    });
    assert.deepEqual(
      response.topics.map((t) => [
        t.name,
        t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark]),
      ]),
      [
        [TOPIC, [[0, ErrorCode.NONE, 2n]]],
        ['secret', [[0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n]]],
        ['missing', [[0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n]]],
      ],
    );
    assert.equal(broker.replicaManager.get(TOPIC, 0)!.log.logStartOffset, 2);
    assert.equal(broker.replicaManager.get('secret', 0)!.log.logStartOffset, 0);
    assert.deepEqual(authorizer.asked, [
      [DELETE, ResourceType.TOPIC, TOPIC],
      [DELETE, ResourceType.TOPIC, 'secret'],
      [DELETE, ResourceType.TOPIC, 'missing'],
    ]);
  });
});
