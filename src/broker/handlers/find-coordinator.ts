// FindCoordinator: a group's coordinator is the leader of its __consumer_offsets partition, a transactional
// id's the leader of its __transaction_state partition. Both topics are created on first use. v4+ looks up
// many keys at once (KIP-699).
import { ErrorCode } from '../../protocol/errors.js';
import {
  FindCoordinatorApi,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
} from '../../protocol/generated/index.js';
import {
  type ApiHandler,
  brokerAddressFor,
  isAuthorized,
  type RequestContext,
  registerHandler,
} from '../context.js';
import { OFFSETS_TOPIC } from '../offsets-topic.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { TRANSACTION_STATE_TOPIC } from '../transaction-state-topic.js';

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

interface Lookup {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

function failed(errorCode: number, errorMessage: string | null = null): Lookup {
  return { errorCode, errorMessage, nodeId: -1, host: '', port: -1 };
}

async function findGroupCoordinator(ctx: RequestContext, groupId: string): Promise<Lookup> {
  const { metadata, offsetsTopic, groupCoordinator } = ctx.broker;
  const created = await offsetsTopic.ensureCreated(metadata.getTopic(OFFSETS_TOPIC) !== undefined);
  if (created !== ErrorCode.NONE) return failed(created);
  return leaderOf(ctx, OFFSETS_TOPIC, groupCoordinator.partitionFor(groupId));
}

async function findTransactionCoordinator(ctx: RequestContext, transactionalId: string): Promise<Lookup> {
  const { metadata, transactionStateTopic, transactionCoordinator } = ctx.broker;
  const created = await transactionStateTopic.ensureCreated(
    metadata.getTopic(TRANSACTION_STATE_TOPIC) !== undefined,
  );
  if (created !== ErrorCode.NONE) return failed(created);
  return leaderOf(ctx, TRANSACTION_STATE_TOPIC, transactionCoordinator.partitionFor(transactionalId));
}

function leaderOf(ctx: RequestContext, topic: string, partitionIndex: number): Lookup {
  const { metadata } = ctx.broker;
  const partition = metadata.getTopic(topic)?.partitions[partitionIndex];
  const leader =
    partition === undefined ? undefined : metadata.listBrokers().find((b) => b.nodeId === partition.leader);
  if (leader === undefined) return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    nodeId: leader.nodeId,
    ...brokerAddressFor(ctx, leader),
  };
}

/**
 * A key the principal may not DESCRIBE fails before anything is created. Kafka puts its error's message in
 * the single-key answer (v0-v3) only.
 */
function unauthorized(ctx: RequestContext, errorCode: number, message: string): Lookup {
  return failed(errorCode, ctx.apiVersion < 4 ? message : null);
}

function find(ctx: RequestContext, keyType: number, key: string): Promise<Lookup> {
  if (keyType === KEY_TYPE_GROUP && !isAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key)) {
    return Promise.resolve(
      unauthorized(ctx, ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.'),
    );
  }
  if (
    keyType === KEY_TYPE_TRANSACTION &&
    !isAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)
  ) {
    return Promise.resolve(
      unauthorized(
        ctx,
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        'Transactional Id authorization failed.',
      ),
    );
  }
  if (keyType === KEY_TYPE_TRANSACTION) return findTransactionCoordinator(ctx, key);
  if (keyType !== KEY_TYPE_GROUP) {
    // Share groups (2) belong to a feature this broker does not run yet.
    return Promise.resolve(
      failed(ErrorCode.INVALID_REQUEST, `coordinator key type ${keyType} is not supported`),
    );
  }
  return findGroupCoordinator(ctx, key);
}

const handler: ApiHandler<FindCoordinatorRequest, FindCoordinatorResponse> = {
  api: FindCoordinatorApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const keyType = ctx.apiVersion >= 1 ? request.keyType : KEY_TYPE_GROUP;
    if (ctx.apiVersion >= 4) {
      const coordinators = [];
      for (const key of request.coordinatorKeys)
        coordinators.push({ key, ...(await find(ctx, keyType, key)) });
      return { ...this.errorResponse(ctx, request, ErrorCode.NONE), coordinators };
    }
    const found = await find(ctx, keyType, request.key);
    return { throttleTimeMs: 0, ...found, coordinators: [] };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      nodeId: -1,
      host: '',
      port: -1,
      coordinators: request.coordinatorKeys.map((key) => ({ key, ...failed(errorCode) })),
    };
  },
};

export const findCoordinatorHandler = registerHandler(handler);
