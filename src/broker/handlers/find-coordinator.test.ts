import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import { FindCoordinatorApi } from '../../protocol/generated/index.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { type FakeAuthorizer, grantsOnly } from './coordinator-acl-test-support.js';
import { callApi, dispatcherOver } from './test-support.js';

const { DESCRIBE, READ, WRITE } = AclOperation;
const { GROUP, TRANSACTIONAL_ID } = ResourceType;
const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

/** Broker 1 leads every partition of both internal topics, which exist once created. */
function broker(authorizer: FakeAuthorizer) {
  const created: string[] = [];
  const internalTopic = (name: string) => ({
    ensureCreated(exists: boolean) {
      if (!exists) created.push(name);
      return Promise.resolve(ErrorCode.NONE);
    },
  });
  const services = {
    metadata: {
      getTopic: (name: string) => (created.includes(name) ? { partitions: [{ leader: 1 }] } : undefined),
      listBrokers: () => [{ nodeId: 1, host: 'broker-1', port: 9092 }],
    },
    offsetsTopic: internalTopic('__consumer_offsets'),
    transactionStateTopic: internalTopic('__transaction_state'),
    groupCoordinator: { partitionFor: () => 0 },
    transactionCoordinator: { partitionFor: () => 0 },
    authorizer,
  };
  return { dispatch: dispatcherOver(services), created };
}

const found = { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: 1, host: 'broker-1', port: 9092 };
const notFound = (errorCode: number, errorMessage: string | null) => ({
  errorCode,
  errorMessage,
  nodeId: -1,
  host: '',
  port: -1,
});

describe('FindCoordinator with an authorizer', () => {
  test('v0-v3: DESCRIBE on the group or transactional id, else its error and message; nothing created', async () => {
    const { dispatch, created } = await broker(
      grantsOnly([READ, GROUP, 'g'], [WRITE, TRANSACTIONAL_ID, 'tx']),
    );
    const find = (version: number, keyType: number, key: string) =>
      callApi(dispatch, FindCoordinatorApi, version, { key, keyType, coordinatorKeys: [] });
    assert.deepEqual(await find(3, KEY_TYPE_GROUP, 'g'), {
      throttleTimeMs: 0,
      ...notFound(ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.'),
      coordinators: [],
    });
    // v0 has no error message on the wire.
    const v0 = await find(0, KEY_TYPE_GROUP, 'g');
    assert.deepEqual(
      [v0.errorCode, v0.nodeId, v0.host, v0.port],
      [ErrorCode.GROUP_AUTHORIZATION_FAILED, -1, '', -1],
    );
    assert.deepEqual(await find(2, KEY_TYPE_TRANSACTION, 'tx'), {
      throttleTimeMs: 0,
      ...notFound(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional Id authorization failed.'),
      coordinators: [],
    });
    assert.deepEqual(created, []);
  });

  test('v0-v3: an authorized key finds its coordinator', async () => {
    const { dispatch, created } = await broker(
      grantsOnly([DESCRIBE, GROUP, 'g'], [DESCRIBE, TRANSACTIONAL_ID, 'tx']),
    );
    for (const [keyType, key] of [
      [KEY_TYPE_GROUP, 'g'],
      [KEY_TYPE_TRANSACTION, 'tx'],
    ] as const) {
      assert.deepEqual(
        await callApi(dispatch, FindCoordinatorApi, 3, { key, keyType, coordinatorKeys: [] }),
        {
          throttleTimeMs: 0,
          ...found,
          coordinators: [],
        },
      );
    }
    assert.deepEqual(created, ['__consumer_offsets', '__transaction_state']);
  });

  test('v4+: each key is authorized on its own', async () => {
    const { dispatch } = await broker(grantsOnly([DESCRIBE, GROUP, 'g'], [DESCRIBE, TRANSACTIONAL_ID, 'tx']));
    const groups = await callApi(dispatch, FindCoordinatorApi, 4, {
      key: '',
      keyType: KEY_TYPE_GROUP,
      coordinatorKeys: ['secret', 'g'],
    });
    assert.deepEqual(groups.coordinators, [
      { key: 'secret', ...notFound(ErrorCode.GROUP_AUTHORIZATION_FAILED, null) },
      { key: 'g', ...found },
    ]);
    const transactions = await callApi(dispatch, FindCoordinatorApi, 5, {
      key: '',
      keyType: KEY_TYPE_TRANSACTION,
      coordinatorKeys: ['tx', 'g'],
    });
    assert.deepEqual(transactions.coordinators, [
      { key: 'tx', ...found },
      { key: 'g', ...notFound(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, null) },
    ]);
  });
});

describe('FindCoordinator with several listeners', () => {
  test("the coordinator's address for the listener the request came in on", async () => {
    const services = {
      metadata: {
        getTopic: () => ({ partitions: [{ leader: 1 }] }),
        listBrokers: () => [
          {
            nodeId: 1,
            host: 'broker-1',
            port: 9092,
            rack: null,
            endpoints: [
              { listener: 'INTERNAL', host: 'broker-1', port: 9092 },
              { listener: 'EXTERNAL', host: 'broker-1.example.com', port: 19092 },
            ],
          },
        ],
      },
      offsetsTopic: { ensureCreated: () => Promise.resolve(ErrorCode.NONE) },
      transactionStateTopic: { ensureCreated: () => Promise.resolve(ErrorCode.NONE) },
      groupCoordinator: { partitionFor: () => 0 },
      transactionCoordinator: { partitionFor: () => 0 },
      authorizer: null,
    };
    const dispatch = dispatcherOver(services);
    const external = { host: 'broker-1.example.com', port: 19092 };
    const v3 = await callApi(
      dispatch,
      FindCoordinatorApi,
      3,
      { key: 'g', keyType: KEY_TYPE_GROUP, coordinatorKeys: [] },
      { listener: 'EXTERNAL' },
    );
    assert.deepEqual(
      [v3.errorCode, v3.nodeId, v3.host, v3.port],
      [ErrorCode.NONE, 1, external.host, external.port],
    );
    const v4 = await callApi(
      dispatch,
      FindCoordinatorApi,
      4,
      { key: '', keyType: KEY_TYPE_TRANSACTION, coordinatorKeys: ['tx'] },
      { listener: 'EXTERNAL' },
    );
    assert.deepEqual(v4.coordinators, [{ key: 'tx', ...found, ...external }]);
    const internal = await callApi(
      dispatch,
      FindCoordinatorApi,
      3,
      { key: 'g', keyType: KEY_TYPE_GROUP, coordinatorKeys: [] },
      { listener: 'INTERNAL' },
    );
    assert.deepEqual([internal.host, internal.port], ['broker-1', 9092]);
  });
});
