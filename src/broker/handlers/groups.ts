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
import { type ApiHandler, type RequestContext, registerHandler } from '../context.js';

const EMPTY_BUFFER = Buffer.alloc(0);

// AclOperation codes READ (3), DELETE (6) and DESCRIBE (8): every operation a group supports. Without an
// authorizer Kafka grants them all; the schema's default (INT32 min) means "not requested".
const GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

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
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      groups: result.groups.map((g) => ({
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

const describeGroups: ApiHandler<DescribeGroupsRequest, DescribeGroupsResponse> = {
  api: DescribeGroupsApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const includeOperations = ctx.apiVersion >= 3 && request.includeAuthorizedOperations;
    const described = await ctx.broker.groupCoordinator.describeGroups(request.groups);
    return {
      throttleTimeMs: 0,
      groups: described.map((g) => ({
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
            ? GROUP_AUTHORIZED_OPERATIONS
            : AUTHORIZED_OPERATIONS_OMITTED,
      })),
    };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => ({
        errorCode,
        groupId,
        groupState: '',
        protocolType: '',
        protocolData: '',
        members: [],
        authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      })),
    };
  },
};

const deleteGroups: ApiHandler<DeleteGroupsRequest, DeleteGroupsResponse> = {
  api: DeleteGroupsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const results = await ctx.broker.groupCoordinator.deleteGroups(request.groupsNames);
    return {
      throttleTimeMs: 0,
      results: results.map((r) => ({ groupId: r.groupId, errorCode: r.errorCode })),
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
