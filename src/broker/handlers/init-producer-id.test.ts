import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AclRecord, ProducerIdBlock } from '../../metadata/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import {
  InitProducerIdApi,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from '../../protocol/generated/index.js';
import { ProducerIdManager } from '../producer-ids.js';
import {
  AclOperation,
  AclPermission,
  CLUSTER_RESOURCE_NAME,
  PatternType,
  ResourceType,
} from '../security/acl.js';
import { allowOnly, type FakeAuthorizer } from './authorizer-test-support.js';
import { advertisedVersions, callApi, type Dispatch, dispatcherOver } from './test-support.js';

/** A broker whose store hands out blocks from `firstProducerId`, or fails every allocation when `failWith`. */
function broker(options: { firstProducerId?: number; failWith?: Error; authorizer?: FakeAuthorizer } = {}) {
  let next = options.firstProducerId ?? 0;
  const allocations: number[] = [];
  const logged: unknown[] = [];
  const allocator = {
    allocateProducerIds(count: number): Promise<ProducerIdBlock> {
      allocations.push(count);
      if (options.failWith) return Promise.reject(options.failWith);
      const block = { firstProducerId: next, lastProducerId: next + count - 1 };
      next += count;
      return Promise.resolve(block);
    },
  };
  const services = {
    producerIds: new ProducerIdManager(allocator),
    logger: { error: (fields: unknown, message: string) => logged.push({ fields, message }) },
    authorizer: options.authorizer,
  };
  return { dispatch: dispatcherOver(services), allocations, logged };
}

function initProducerId(
  dispatch: Dispatch,
  version: number,
  request: Partial<InitProducerIdRequest> = {},
): Promise<InitProducerIdResponse> {
  return callApi(dispatch, InitProducerIdApi, version, {
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
    ...request,
  });
}

const granted = (producerId: bigint) => ({
  throttleTimeMs: 0,
  errorCode: ErrorCode.NONE,
  producerId,
  producerEpoch: 0,
});
const refused = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });

describe('InitProducerId', () => {
  test('is advertised at versions 0-5', async () => {
    const { dispatch } = broker();
    assert.deepEqual(await advertisedVersions(dispatch, [22]), [[22, 0, 5]]);
  });

  test('without a transactional id: a new producer id with epoch 0 on every call, at v0 and at flexible v4', async () => {
    const { dispatch, allocations } = broker({ firstProducerId: 3000 });
    assert.deepEqual(await initProducerId(dispatch, 0), granted(3000n));
    assert.deepEqual(await initProducerId(dispatch, 0), granted(3001n));
    assert.deepEqual(await initProducerId(dispatch, 4), granted(3002n));
    // A producer that asks to keep its id and epoch (KIP-360) still gets a new one: no state is kept for it.
    assert.deepEqual(
      await initProducerId(dispatch, 4, { producerId: 3002n, producerEpoch: 5 }),
      granted(3003n),
    );
    assert.deepEqual(await initProducerId(dispatch, 5), granted(3004n));
    assert.deepEqual(allocations, [1000]);
  });

  test('v3+: a producer id without its epoch, or an epoch without its id, is INVALID_REQUEST', async () => {
    const { dispatch, allocations } = broker();
    for (const version of [3, 5]) {
      for (const half of [
        { producerId: 12n, producerEpoch: -1 },
        { producerId: -1n, producerEpoch: 3 },
      ]) {
        assert.deepEqual(
          await initProducerId(dispatch, version, half),
          refused(ErrorCode.INVALID_REQUEST),
          `v${version} ${half.producerId}/${half.producerEpoch}`,
        );
      }
    }
    assert.deepEqual(allocations, []);
    // Both: an idempotent producer's KIP-360 reset, answered with a new id.
    const reset = await initProducerId(dispatch, 3, { producerId: 12n, producerEpoch: 3 });
    assert.deepEqual([reset.errorCode, reset.producerEpoch], [ErrorCode.NONE, 0]);
  });

  test('concurrent requests get distinct ids', async () => {
    const { dispatch } = broker();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => initProducerId(dispatch, i % 6)),
    );
    assert.deepEqual(
      responses.map((r) => r.producerId).sort((a, b) => Number(a - b)),
      Array.from({ length: 10 }, (_, i) => BigInt(i)),
    );
  });

  test('a store that cannot allocate gives UNKNOWN_SERVER_ERROR and is logged', async () => {
    const failure = new Error('The metadata store is closed.');
    const { dispatch, logged } = broker({ failWith: failure });
    assert.deepEqual(await initProducerId(dispatch, 4), refused(ErrorCode.UNKNOWN_SERVER_ERROR));
    assert.deepEqual(logged, [
      { fields: { err: failure, api: 'InitProducerId' }, message: 'could not allocate a producer id' },
    ]);
  });
});

describe('InitProducerId with an authorizer', () => {
  const IDEMPOTENT_WRITE: [number, number, string] = [
    AclOperation.IDEMPOTENT_WRITE,
    ResourceType.CLUSTER,
    CLUSTER_RESOURCE_NAME,
  ];
  const topicWrite = (principal: string): AclRecord => ({
    resourceType: ResourceType.TOPIC,
    resourceName: 'orders',
    patternType: PatternType.LITERAL,
    principal,
    host: '*',
    operation: AclOperation.WRITE,
    permission: AclPermission.ALLOW,
  });

  test('a transactional id needs WRITE on it, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED', async () => {
    const authorizer = allowOnly([IDEMPOTENT_WRITE]);
    const { dispatch, allocations } = broker({ authorizer });
    assert.deepEqual(
      await initProducerId(dispatch, 4, { transactionalId: 'payments' }),
      refused(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
    );
    assert.deepEqual(authorizer.asked, [[AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, 'payments']]);
    assert.deepEqual(allocations, []);
  });

  test('an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic', async () => {
    const authorizer = allowOnly([], [topicWrite('User:bob')]);
    const { dispatch, allocations } = broker({ authorizer });
    // Refused before the request is looked at further, as Kafka does.
    for (const request of [{}, { producerId: 12n, producerEpoch: -1 }]) {
      assert.deepEqual(
        await initProducerId(dispatch, 4, request),
        refused(ErrorCode.CLUSTER_AUTHORIZATION_FAILED),
      );
    }
    assert.deepEqual(allocations, []);
    authorizer.allowed.push(IDEMPOTENT_WRITE);
    assert.deepEqual(await initProducerId(dispatch, 4), granted(0n));
  });

  test('KIP-679: an ACL allowing WRITE on a topic is enough without IDEMPOTENT_WRITE', async () => {
    const authorizer = allowOnly([], [topicWrite('User:ANONYMOUS')]);
    const { dispatch } = broker({ authorizer });
    assert.deepEqual(await initProducerId(dispatch, 4), granted(0n));
    assert.deepEqual(authorizer.asked, [
      IDEMPOTENT_WRITE,
      // Kafka's authorizeByResourceType first asks for a name no ACL should carry (super users, defaults).
      [AclOperation.WRITE, ResourceType.TOPIC, 'hardcode'],
    ]);
  });
});
