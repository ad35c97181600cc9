// The classic group membership APIs (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and group administration
// (ListGroups, DescribeGroups, DeleteGroups). All group state lives in the GroupCoordinator; these handlers
// map each version's fields onto it and shape its answers for the version asked.
import { ErrorCode } from '../../protocol/errors.js';
import {
  DeleteGroupsApi,
  type DeleteGroupsRequest,
  type DeleteGroupsResponse,
  DescribeGroupsApi,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
  HeartbeatApi,
  type HeartbeatRequest,
  type HeartbeatResponse,
  JoinGroupApi,
  type JoinGroupRequest,
  type JoinGroupResponse,
  LeaveGroupApi,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  ListGroupsApi,
  type ListGroupsRequest,
  type ListGroupsResponse,
  SyncGroupApi,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, isAuthorized, type RequestContext, registerHandler } from '../context.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';

const EMPTY_BUFFER = Buffer.alloc(0);

/** Every operation ACLs can grant on a group, as Kafka lists them. */
const GROUP_OPERATIONS = [AclOperation.READ, AclOperation.DELETE, AclOperation.DESCRIBE];
/** The schema's default (INT32 min): authorized operations were not requested or the group failed. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** Kafka's bit field of the group operations the principal may perform: bit (1 << code) per operation. */
function authorizedGroupOperations(ctx: RequestContext, groupId: string): number {
  let bits = 0;
  for (const operation of GROUP_OPERATIONS) {
    if (isAuthorized(ctx, operation, ResourceType.GROUP, groupId)) bits |= 1 << operation;
  }
  return bits;
}

/** Membership APIs (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) need READ on the group. */
function mayReadGroup(ctx: RequestContext, groupId: string): boolean {
  return isAuthorized(ctx, AclOperation.READ, ResourceType.GROUP, groupId);
}

/** Kafka reports a member's host as Java's InetAddress.toString() of the connection: "/" + address. */
function clientHost(ctx: RequestContext): string {
  return `/${ctx.connection.remoteAddress}`;
}

/** JoinGroup v0-v6 have a non-nullable protocol name: Kafka sends '' for none. */
function protocolNameFor(version: number, protocolName: string | null): string | null {
  return version < 7 ? (protocolName ?? '') : protocolName;
}

const joinGroup: ApiHandler<JoinGroupRequest, JoinGroupResponse> = {
  api: JoinGroupApi,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request) {
    const version = ctx.apiVersion;
    if (!mayReadGroup(ctx, request.groupId)) {
      return this.errorResponse(ctx, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    const result = await ctx.broker.groupCoordinator.joinGroup({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: version >= 5 ? request.groupInstanceId : null,
      protocolType: request.protocolType,
      protocols: request.protocols,
      sessionTimeoutMs: request.sessionTimeoutMs,
      // v0 has no rebalance timeout; -1 makes the coordinator use the session timeout, as Kafka does.
      rebalanceTimeoutMs: version >= 1 ? request.rebalanceTimeoutMs : -1,
      clientId: ctx.clientId ?? '',
      clientHost: clientHost(ctx),
      requireKnownMemberId: version >= 4,
      supportSkippingAssignment: version >= 9,
      reason: version >= 8 ? request.reason : null,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      protocolName: protocolNameFor(version, result.protocolName),
      leader: result.leader,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        metadata: m.metadata,
      })),
    };
  },
  errorResponse(ctx, _request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: protocolNameFor(ctx.apiVersion, null),
      leader: '',
      skipAssignment: false,
      memberId: '',
      members: [],
    };
  },
};

const syncGroup: ApiHandler<SyncGroupRequest, SyncGroupResponse> = {
  api: SyncGroupApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const version = ctx.apiVersion;
    // KIP-559: from v5 the client must name the protocol type and name it synced for.
    if (version >= 5 && (request.protocolType === null || request.protocolName === null)) {
      return this.errorResponse(ctx, request, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (!mayReadGroup(ctx, request.groupId)) {
      return this.errorResponse(ctx, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    const result = await ctx.broker.groupCoordinator.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: version >= 3 ? request.groupInstanceId : null,
      protocolType: version >= 5 ? request.protocolType : null,
      protocolName: version >= 5 ? request.protocolName : null,
      assignments: request.assignments,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      protocolType: result.protocolType,
      protocolName: result.protocolName,
      assignment: result.assignment,
    };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER };
  },
};

const heartbeat: ApiHandler<HeartbeatRequest, HeartbeatResponse> = {
  api: HeartbeatApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    if (!mayReadGroup(ctx, request.groupId)) {
      return this.errorResponse(ctx, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    const { errorCode } = await ctx.broker.groupCoordinator.heartbeat({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: ctx.apiVersion >= 3 ? request.groupInstanceId : null,
    });
    return { throttleTimeMs: 0, errorCode };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode };
  },
};

const leaveGroup: ApiHandler<LeaveGroupRequest, LeaveGroupResponse> = {
  api: LeaveGroupApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const version = ctx.apiVersion;
    if (!mayReadGroup(ctx, request.groupId)) {
      return this.errorResponse(ctx, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    // v0-v2 name the one leaving member; v3+ (KIP-345) may remove several, static ones by instance id.
    const leaving =
      version >= 3
        ? request.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            reason: version >= 5 ? m.reason : null,
          }))
        : [{ memberId: request.memberId, groupInstanceId: null, reason: null }];
    const result = await ctx.broker.groupCoordinator.leaveGroup(request.groupId, leaving);
    if (version < 3) {
      // One error only: the group's if any, otherwise the member's.
      const errorCode =
        result.errorCode !== ErrorCode.NONE
          ? result.errorCode
          : (result.members[0]?.errorCode ?? ErrorCode.NONE);
      return { throttleTimeMs: 0, errorCode, members: [] };
    }
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      members: result.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        errorCode: m.errorCode,
      })),
    };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode, members: [] };
  },
};

const listGroups: ApiHandler<ListGroupsRequest, ListGroupsResponse> = {
  api: ListGroupsApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const version = ctx.apiVersion;
    const result = await ctx.broker.groupCoordinator.listGroups({
      statesFilter: version >= 4 ? request.statesFilter : [],
      typesFilter: version >= 5 ? request.typesFilter : [],
    });
    // DESCRIBE on the cluster lists every group (Kafka keeps this for compatibility); otherwise only the
    // groups the principal may describe.
    const listsAll = isAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
    const listed = listsAll
      ? result.groups
      : result.groups.filter((g) => isAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId));
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      groups: listed.map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType,
        groupState: g.groupState,
        groupType: g.groupType,
      })),
    };
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode, groups: [] };
  },
};

/** A group answered with an error alone, as Kafka's DescribeGroupsResponse.groupError. */
function describeGroupError(groupId: string, errorCode: number): DescribeGroupsResponse['groups'][number] {
  return {
    errorCode,
    groupId,
    groupState: '',
    protocolType: '',
    protocolData: '',
    members: [],
    authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

const describeGroups: ApiHandler<DescribeGroupsRequest, DescribeGroupsResponse> = {
  api: DescribeGroupsApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const includeOperations = ctx.apiVersion >= 3 && request.includeAuthorizedOperations;
    // As Kafka: the groups the principal may not describe come first, then the coordinator's answers.
    const denied: DescribeGroupsResponse['groups'] = [];
    const authorized: string[] = [];
    for (const groupId of request.groups) {
      if (isAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) authorized.push(groupId);
      else denied.push(describeGroupError(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED));
    }
    const described = await ctx.broker.groupCoordinator.describeGroups(authorized);
    return {
      throttleTimeMs: 0,
      groups: denied.concat(
        described.map((g) => ({
          errorCode: g.errorCode,
          groupId: g.groupId,
          groupState: g.groupState,
          protocolType: g.protocolType,
          protocolData: g.protocolData,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.memberMetadata,
            memberAssignment: m.memberAssignment,
          })),
          authorizedOperations:
            includeOperations && g.errorCode === ErrorCode.NONE
              ? authorizedGroupOperations(ctx, g.groupId)
              : AUTHORIZED_OPERATIONS_OMITTED,
        })),
      ),
    };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => describeGroupError(groupId, errorCode)),
    };
  },
};

const deleteGroups: ApiHandler<DeleteGroupsRequest, DeleteGroupsResponse> = {
  api: DeleteGroupsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    // Each group once; the coordinator answers those the principal may delete, the others follow.
    const authorized: string[] = [];
    const denied: string[] = [];
    for (const groupId of new Set(request.groupsNames)) {
      if (isAuthorized(ctx, AclOperation.DELETE, ResourceType.GROUP, groupId)) authorized.push(groupId);
      else denied.push(groupId);
    }
    const results = await ctx.broker.groupCoordinator.deleteGroups(authorized);
    return {
      throttleTimeMs: 0,
      results: results
        .map((r) => ({ groupId: r.groupId, errorCode: r.errorCode }))
        .concat(denied.map((groupId) => ({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED }))),
    };
  },
  errorResponse(_ctx, request, errorCode) {
    return { throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({ groupId, errorCode })) };
  },
};

export const joinGroupHandler = registerHandler(joinGroup);
export const syncGroupHandler = registerHandler(syncGroup);
export const heartbeatHandler = registerHandler(heartbeat);
export const leaveGroupHandler = registerHandler(leaveGroup);
export const listGroupsHandler = registerHandler(listGroups);
export const describeGroupsHandler = registerHandler(describeGroups);
export const deleteGroupsHandler = registerHandler(deleteGroups);
