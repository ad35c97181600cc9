// DescribeCluster (KIP-700): the brokers and controller, as the Admin client's describeCluster sees them.
// Kafka asks no permission for it; the authorized operations, when requested, are what the authorizer allows.
import { ErrorCode } from '../../protocol/errors.js';
import {
  DescribeClusterApi,
  type DescribeClusterRequest,
  type DescribeClusterResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, brokerAddressFor, registerHandler } from '../context.js';
import { clusterAuthorizedOperations, OPERATIONS_NOT_REQUESTED } from './authorization.js';

const ENDPOINT_BROKERS = 1;

const handler: ApiHandler<DescribeClusterRequest, DescribeClusterResponse> = {
  api: DescribeClusterApi,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    const { metadata } = ctx.broker;
    const endpointType = ctx.apiVersion >= 1 ? request.endpointType : ENDPOINT_BROKERS;
    if (endpointType !== ENDPOINT_BROKERS) {
      // Only brokers are exposed: controller endpoints (type 2) exist in KRaft mode, not here.
      return this.errorResponse(ctx, request, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType,
      clusterId: metadata.clusterId(),
      controllerId: metadata.controllerId(),
      brokers: metadata
        .listBrokers()
        .map((b) => ({ brokerId: b.nodeId, ...brokerAddressFor(ctx, b), rack: b.rack })),
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
        ? clusterAuthorizedOperations(ctx)
        : OPERATIONS_NOT_REQUESTED,
    };
  },
  errorResponse(ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      endpointType: ctx.apiVersion >= 1 ? request.endpointType : ENDPOINT_BROKERS,
      clusterId: ctx.broker.metadata.clusterId(),
      controllerId: -1,
      brokers: [],
      clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
    };
  },
};

export const describeClusterHandler = registerHandler(handler);
