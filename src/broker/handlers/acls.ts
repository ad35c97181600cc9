// DescribeAcls, CreateAcls and DeleteAcls. Sluice has no authorizer, so, like a Kafka broker without
// `authorizer.class.name`, it answers every ACL request with SECURITY_DISABLED: admin tools then show "ACLs
// are not enabled" instead of an empty list that would suggest nothing is restricted.
import { ErrorCode } from '../../protocol/errors.js';
import {
  CreateAclsApi,
  type CreateAclsRequest,
  type CreateAclsResponse,
  DeleteAclsApi,
  type DeleteAclsRequest,
  type DeleteAclsResponse,
  DescribeAclsApi,
  type DescribeAclsRequest,
  type DescribeAclsResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, registerHandler } from '../context.js';

// Kafka's own two wordings: DescribeAcls sets its message by hand, Create/DeleteAcls carry the message of the
// SecurityDisabledException they fail with. Clients show these strings to users, so they are kept verbatim.
export const DESCRIBE_ACLS_DISABLED_MESSAGE = 'No Authorizer is configured on the broker';
export const ALTER_ACLS_DISABLED_MESSAGE = 'No Authorizer is configured.';

const describeAcls: ApiHandler<DescribeAclsRequest, DescribeAclsResponse> = {
  api: DescribeAclsApi,
  minVersion: 0,
  maxVersion: 3,
  handle(ctx, request) {
    return {
      ...this.errorResponse(ctx, request, ErrorCode.SECURITY_DISABLED),
      errorMessage: DESCRIBE_ACLS_DISABLED_MESSAGE,
    };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, resources: [] };
  },
};

const createAcls: ApiHandler<CreateAclsRequest, CreateAclsResponse> = {
  api: CreateAclsApi,
  minVersion: 0,
  maxVersion: 3,
  handle(_ctx, request) {
    return creationResults(request, ErrorCode.SECURITY_DISABLED, ALTER_ACLS_DISABLED_MESSAGE);
  },
  errorResponse(_ctx, request, errorCode) {
    return creationResults(request, errorCode, null);
  },
};

const deleteAcls: ApiHandler<DeleteAclsRequest, DeleteAclsResponse> = {
  api: DeleteAclsApi,
  minVersion: 0,
  maxVersion: 3,
  handle(_ctx, request) {
    return filterResults(request, ErrorCode.SECURITY_DISABLED, ALTER_ACLS_DISABLED_MESSAGE);
  },
  errorResponse(_ctx, request, errorCode) {
    return filterResults(request, errorCode, null);
  },
};

/** One result per requested creation, in request order: clients pair them up by position. */
function creationResults(
  request: CreateAclsRequest,
  errorCode: number,
  errorMessage: string | null,
): CreateAclsResponse {
  return { throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage })) };
}

/** One result per filter, in request order, none of which matched an ACL. */
function filterResults(
  request: DeleteAclsRequest,
  errorCode: number,
  errorMessage: string | null,
): DeleteAclsResponse {
  return {
    throttleTimeMs: 0,
    filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
  };
}

export const describeAclsHandler = registerHandler(describeAcls);
export const createAclsHandler = registerHandler(createAcls);
export const deleteAclsHandler = registerHandler(deleteAcls);
