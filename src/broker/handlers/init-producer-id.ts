// InitProducerId: gives an idempotent producer a producer id with epoch 0. Its batches carry the id and
// per-partition sequence numbers, which let the partition leader recognise a retried batch it already
// appended. With a transactional id the transaction coordinator answers: the id's producer id with a bumped
// epoch, which fences any older producer instance of that id (and aborts its open transaction).
// With an authorizer, as Kafka: a transactional id needs WRITE on it; an idempotent producer needs
// IDEMPOTENT_WRITE on the cluster or (KIP-679) WRITE on some topic.
import { ErrorCode } from '../../protocol/errors.js';
import {
  InitProducerIdApi,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, isAuthorized, type RequestContext, registerHandler } from '../context.js';
import { AclOperation, ResourceType } from '../security/acl.js';
import { isAuthorizedForAnyResource, isClusterAuthorized } from './authorization.js';

const NO_PRODUCER_ID = -1n;
const NO_PRODUCER_EPOCH = -1;

/** The authorization error of the request, or NONE. */
function authorizationError(ctx: RequestContext, transactionalId: string | null): number {
  if (transactionalId !== null) {
    return isAuthorized(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)
      ? ErrorCode.NONE
      : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  }
  return isClusterAuthorized(ctx, AclOperation.IDEMPOTENT_WRITE) ||
    isAuthorizedForAnyResource(ctx, AclOperation.WRITE, ResourceType.TOPIC)
    ? ErrorCode.NONE
    : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
}

const handler: ApiHandler<InitProducerIdRequest, InitProducerIdResponse> = {
  api: InitProducerIdApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const refused = authorizationError(ctx, request.transactionalId);
    if (refused !== ErrorCode.NONE) return this.errorResponse(ctx, request, refused);
    // v3+ (KIP-360): a producer names its current id and epoch together, or neither; Kafka refuses half of it.
    if (
      ctx.apiVersion >= 3 &&
      (request.producerId === NO_PRODUCER_ID) !== (request.producerEpoch === NO_PRODUCER_EPOCH)
    ) {
      return this.errorResponse(ctx, request, ErrorCode.INVALID_REQUEST);
    }
    if (request.transactionalId !== null) {
      const expected =
        request.producerId === NO_PRODUCER_ID
          ? null
          : { producerId: Number(request.producerId), producerEpoch: request.producerEpoch };
      const result = await ctx.broker.transactionCoordinator.initProducerId(
        request.transactionalId,
        request.transactionTimeoutMs,
        expected,
      );
      // PRODUCER_FENCED came with v4; older clients know the same condition as INVALID_PRODUCER_EPOCH.
      const errorCode =
        ctx.apiVersion < 4 && result.errorCode === ErrorCode.PRODUCER_FENCED
          ? ErrorCode.INVALID_PRODUCER_EPOCH
          : result.errorCode;
      return {
        throttleTimeMs: 0,
        errorCode,
        producerId: BigInt(result.producerId),
        producerEpoch: result.producerEpoch,
      };
    }
    // Without a transactional id there is no producer state to resume or fence: like Kafka, hand out a new
    // producer id whatever producer id and epoch a v3+ request carries (KIP-360).
    let producerId: number;
    try {
      producerId = await ctx.broker.producerIds.nextProducerId();
    } catch (error) {
      // The store is closed or failed on disk: a retry would not fare better, and a retriable code would
      // keep the producer retrying quietly.
      ctx.broker.logger.error({ err: error, api: 'InitProducerId' }, 'could not allocate a producer id');
      return this.errorResponse(ctx, request, ErrorCode.UNKNOWN_SERVER_ERROR);
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(producerId), producerEpoch: 0 };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
  },
};

export const initProducerIdHandler = registerHandler(handler);
