import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeClusterApi } from '../../protocol/generated/index.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';
import { OPERATIONS_NOT_REQUESTED } from './authorization.js';
import { allowOnly } from './authorizer-test-support.js';
import { callApi, dispatcherOver } from './test-support.js';

const { CREATE, ALTER, DESCRIBE } = AclOperation;
const cluster = (operation: number) => [operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME] as const;

function broker(authorizer: ReturnType<typeof allowOnly> | null) {
  return dispatcherOver({
    authorizer,
    metadata: {
      clusterId: () => 'cluster',
      controllerId: () => 1,
      listBrokers: () => [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
    },
  });
}

const describeCluster = (dispatch: ReturnType<typeof broker>, includeClusterAuthorizedOperations: boolean) =>
  callApi(dispatch, DescribeClusterApi, 1, { includeClusterAuthorizedOperations, endpointType: 1 });

test('DescribeCluster asks no permission; its authorized operations are what the authorizer allows', async () => {
  const authorizer = allowOnly([]);
  const dispatch = broker(authorizer);
  const answer = await describeCluster(dispatch, false);
  assert.deepEqual(
    [answer.errorCode, answer.brokers.length, answer.clusterAuthorizedOperations],
    [ErrorCode.NONE, 1, OPERATIONS_NOT_REQUESTED],
  );
  assert.deepEqual(authorizer.asked, []);
  // Without DESCRIBE on the cluster: none at all, whatever else is allowed.
  authorizer.allowed.push(cluster(ALTER));
  assert.equal((await describeCluster(dispatch, true)).clusterAuthorizedOperations, 0);
  authorizer.allowed.push(cluster(DESCRIBE), cluster(CREATE));
  assert.equal(
    (await describeCluster(dispatch, true)).clusterAuthorizedOperations,
    (1 << CREATE) | (1 << ALTER) | (1 << DESCRIBE),
  );
});

test('DescribeCluster without an authorizer: every cluster operation', async () => {
  const every = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);
  assert.equal((await describeCluster(broker(null), true)).clusterAuthorizedOperations, every);
});

test("DescribeCluster answers each broker's address for the listener the request came in on", async () => {
  const dispatch = dispatcherOver({
    authorizer: null,
    metadata: {
      clusterId: () => 'cluster',
      controllerId: () => 1,
      listBrokers: () => [
        {
          nodeId: 1,
          host: '127.0.0.1',
          port: 9092,
          rack: null,
          endpoints: [
            { listener: 'PLAINTEXT', host: '127.0.0.1', port: 9092 },
            { listener: 'SASL_SSL', host: 'broker.example.com', port: 9094 },
          ],
        },
        { nodeId: 2, host: 'old-host', port: 9093, rack: null },
      ],
    },
  });
  const brokersOn = async (listener: string) =>
    (
      await callApi(
        dispatch,
        DescribeClusterApi,
        1,
        { includeClusterAuthorizedOperations: false, endpointType: 1 },
        { listener },
      )
    ).brokers;
  assert.deepEqual(await brokersOn('SASL_SSL'), [
    { brokerId: 1, host: 'broker.example.com', port: 9094, rack: null },
    { brokerId: 2, host: 'old-host', port: 9093, rack: null },
  ]);
  assert.deepEqual(await brokersOn('PLAINTEXT'), [
    { brokerId: 1, host: '127.0.0.1', port: 9092, rack: null },
    { brokerId: 2, host: 'old-host', port: 9093, rack: null },
  ]);
});
