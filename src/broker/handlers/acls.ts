// DescribeAcls, CreateAcls and DeleteAcls. Without an authorizer (authorizer.class.name empty) they answer
// SECURITY_DISABLED as Kafka does, so admin tools say "ACLs are not enabled" instead of showing an empty list
// that would suggest nothing is restricted. With one, the ACLs live in the metadata store; reading them takes
// DESCRIBE on the cluster and changing them ALTER, as in Kafka.
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
import { type ApiHandler, isAuthorized, type RequestContext, registerHandler } from '../context.js';
import {
  type AclBinding,
  type AclBindingFilter,
  AclOperation,
  bindingProblem,
  CLUSTER_RESOURCE_NAME,
  filterMatches,
  filterProblem,
  PatternType,
  ResourceType,
} from '../security/acl.js';

// Kafka's own two wordings: DescribeAcls sets its message by hand, Create/DeleteAcls carry the message of the
// SecurityDisabledException they fail with. Clients show these strings to users, so they are kept verbatim.
export const DESCRIBE_ACLS_DISABLED_MESSAGE = 'No Authorizer is configured on the broker';
export const ALTER_ACLS_DISABLED_MESSAGE = 'No Authorizer is configured.';
const CLUSTER_AUTHORIZATION_MESSAGE = 'Cluster authorization failed.';

function authorizerEnabled(ctx: RequestContext): boolean {
  return Boolean(ctx.broker.authorizer);
}

function mayOnCluster(ctx: RequestContext, operation: number): boolean {
  return isAuthorized(ctx, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/** v0 requests have no pattern type field: Kafka reads them as LITERAL. */
function patternOf(ctx: RequestContext, patternType: number): number {
  return ctx.apiVersion === 0 ? PatternType.LITERAL : patternType;
}

const describeAcls: ApiHandler<DescribeAclsRequest, DescribeAclsResponse> = {
  api: DescribeAclsApi,
  minVersion: 0,
  maxVersion: 3,
  handle(ctx, request) {
    if (!authorizerEnabled(ctx)) {
      return {
        ...this.errorResponse(ctx, request, ErrorCode.SECURITY_DISABLED),
        errorMessage: DESCRIBE_ACLS_DISABLED_MESSAGE,
      };
    }
    if (!mayOnCluster(ctx, AclOperation.DESCRIBE)) {
      return {
        ...this.errorResponse(ctx, request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED),
        errorMessage: CLUSTER_AUTHORIZATION_MESSAGE,
      };
    }
    const filter: AclBindingFilter = {
      resourceType: request.resourceTypeFilter,
      resourceName: request.resourceNameFilter,
      patternType: patternOf(ctx, request.patternTypeFilter),
      principal: request.principalFilter,
      host: request.hostFilter,
      operation: request.operation,
      permission: request.permissionType,
    };
    const problem = filterProblem(filter);
    if (problem !== null) {
      return { ...this.errorResponse(ctx, request, ErrorCode.INVALID_REQUEST), errorMessage: problem };
    }
    // One entry per resource pattern, its ACLs in the order they were created.
    const resources = new Map<string, DescribeAclsResponse['resources'][number]>();
    for (const acl of ctx.broker.metadata.listAcls()) {
      if (!filterMatches(filter, acl)) continue;
      const key = `${acl.resourceType}\u0000${acl.patternType}\u0000${acl.resourceName}`;
      let resource = resources.get(key);
      if (resource === undefined) {
        resource = {
          resourceType: acl.resourceType,
          resourceName: acl.resourceName,
          patternType: acl.patternType,
          acls: [],
        };
        resources.set(key, resource);
      }
      resource.acls.push({
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation,
        permissionType: acl.permission,
      });
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      resources: [...resources.values()],
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
  async handle(ctx, request) {
    if (!authorizerEnabled(ctx)) {
      return creationResults(request, ErrorCode.SECURITY_DISABLED, ALTER_ACLS_DISABLED_MESSAGE);
    }
    if (!mayOnCluster(ctx, AclOperation.ALTER)) {
      return creationResults(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_MESSAGE);
    }
    const results: CreateAclsResponse['results'] = [];
    const valid: AclBinding[] = [];
    for (const creation of request.creations) {
      const binding: AclBinding = {
        resourceType: creation.resourceType,
        resourceName: creation.resourceName,
        patternType: patternOf(ctx, creation.resourcePatternType),
        principal: creation.principal,
        host: creation.host,
        operation: creation.operation,
        permission: creation.permissionType,
      };
      const problem = bindingProblem(binding);
      if (problem === null) valid.push(binding);
      results.push(
        problem === null
          ? { errorCode: ErrorCode.NONE, errorMessage: null }
          : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem },
      );
    }
    try {
      await ctx.broker.metadata.alterAcls(valid, []);
    } catch (error) {
      ctx.broker.logger.error({ err: error }, 'storing ACLs failed');
      return creationResults(request, ErrorCode.UNKNOWN_SERVER_ERROR, 'The ACLs could not be stored');
    }
    return { throttleTimeMs: 0, results };
  },
  errorResponse(_ctx, request, errorCode) {
    return creationResults(request, errorCode, null);
  },
};

const deleteAcls: ApiHandler<DeleteAclsRequest, DeleteAclsResponse> = {
  api: DeleteAclsApi,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    if (!authorizerEnabled(ctx)) {
      return filterResults(request, ErrorCode.SECURITY_DISABLED, ALTER_ACLS_DISABLED_MESSAGE);
    }
    if (!mayOnCluster(ctx, AclOperation.ALTER)) {
      return filterResults(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_MESSAGE);
    }
    const acls = ctx.broker.metadata.listAcls();
    const removed = new Set<AclBinding>();
    const filterResultsList: DeleteAclsResponse['filterResults'] = request.filters.map((requested) => {
      const filter: AclBindingFilter = {
        resourceType: requested.resourceTypeFilter,
        resourceName: requested.resourceNameFilter,
        patternType: patternOf(ctx, requested.patternTypeFilter),
        principal: requested.principalFilter,
        host: requested.hostFilter,
        operation: requested.operation,
        permission: requested.permissionType,
      };
      const problem = filterProblem(filter);
      if (problem !== null) {
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, matchingAcls: [] };
      }
      const matching = acls.filter((acl) => filterMatches(filter, acl));
      for (const acl of matching) removed.add(acl);
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        matchingAcls: matching.map((acl) => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: acl.resourceType,
          resourceName: acl.resourceName,
          patternType: acl.patternType,
          principal: acl.principal,
          host: acl.host,
          operation: acl.operation,
          permissionType: acl.permission,
        })),
      };
    });
    try {
      await ctx.broker.metadata.alterAcls([], [...removed]);
    } catch (error) {
      ctx.broker.logger.error({ err: error }, 'deleting ACLs failed');
      return filterResults(request, ErrorCode.UNKNOWN_SERVER_ERROR, 'The ACLs could not be deleted');
    }
    return { throttleTimeMs: 0, filterResults: filterResultsList };
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
