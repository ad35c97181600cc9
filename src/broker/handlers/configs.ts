// DescribeConfigs, AlterConfigs (replace the override set) and IncrementalAlterConfigs (per-key operations)
// for topics; broker configs are described but static (set in the config file, env or flags). With an
// authorizer, as Kafka: DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic, or on the cluster for broker-wide
// resources.
import { brokerConfigEntries, type ConfigEntry, effectiveTopicConfig } from '../../common/topic-config.js';
import { ErrorCode, errorInfo } from '../../protocol/errors.js';
import {
  AlterConfigsApi,
  type AlterConfigsRequest,
  type AlterConfigsResponse,
  DescribeConfigsApi,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  IncrementalAlterConfigsApi,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, isAuthorized, type RequestContext, registerHandler } from '../context.js';
import { type AdminResult, type ConfigOperation, failure } from '../controller.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../security/acl.js';

// Kafka's ConfigResource.Type codes.
const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
const RESOURCE_BROKER_LOGGER = 8;
const RESOURCE_CLIENT_METRICS = 16;

/** Config resources whose ACL is the cluster's, per API (legacy AlterConfigs rejects BROKER_LOGGER first). */
const DESCRIBED_ON_CLUSTER = new Set([RESOURCE_BROKER, RESOURCE_BROKER_LOGGER, RESOURCE_CLIENT_METRICS]);
const ALTERED_ON_CLUSTER = new Set([RESOURCE_BROKER, RESOURCE_CLIENT_METRICS]);
const INCREMENTALLY_ALTERED_ON_CLUSTER = DESCRIBED_ON_CLUSTER;

/**
 * Kafka's refusal of `operation` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on a config resource, or null when it
 * is allowed or its type is governed by no ACL (such a resource fails on its own).
 */
function configAuthorizationFailure(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
  resourceName: string,
  onCluster: ReadonlySet<number>,
): AdminResult | null {
  let errorCode: number;
  if (resourceType === RESOURCE_TOPIC) {
    if (isAuthorized(ctx, operation, ResourceType.TOPIC, resourceName)) return null;
    errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  } else if (onCluster.has(resourceType)) {
    if (isAuthorized(ctx, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) return null;
    errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  } else {
    return null;
  }
  return failure(errorCode, errorInfo(errorCode).message);
}
// ConfigSource.DEFAULT_CONFIG: DescribeConfigs v0 reports it as is_default.
const SOURCE_DEFAULT = 5;

type DescribeResult = DescribeConfigsResponse['results'][number];
type DescribedConfig = DescribeResult['configs'][number];

function describeEntries(
  ctx: RequestContext,
  resourceType: number,
  resourceName: string,
): ConfigEntry[] | AdminResult {
  const { metadata, config, nodeId } = ctx.broker;
  if (resourceType === RESOURCE_TOPIC) {
    const topic = metadata.getTopic(resourceName);
    if (topic === undefined) {
      return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${resourceName} does not exist.`);
    }
    return effectiveTopicConfig(config, topic.configs);
  }
  if (resourceType === RESOURCE_BROKER) {
    if (resourceName !== '' && resourceName !== String(nodeId)) {
      return failure(
        ErrorCode.INVALID_REQUEST,
        `Unexpected broker id, expected ${nodeId} or empty string, but received ${resourceName}`,
      );
    }
    return brokerConfigEntries(config);
  }
  return failure(
    ErrorCode.INVALID_REQUEST,
    `Resource type ${resourceType} is not supported by DescribeConfigs here.`,
  );
}

function toDescribed(
  entry: ConfigEntry,
  includeSynonyms: boolean,
  includeDocumentation: boolean,
): DescribedConfig {
  return {
    name: entry.name,
    value: entry.sensitive ? null : entry.value,
    readOnly: entry.readOnly,
    isDefault: entry.source === SOURCE_DEFAULT,
    configSource: entry.source,
    isSensitive: entry.sensitive,
    synonyms: includeSynonyms
      ? entry.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source }))
      : [],
    configType: entry.type,
    documentation: includeDocumentation ? entry.documentation : null,
  };
}

const describeConfigs: ApiHandler<DescribeConfigsRequest, DescribeConfigsResponse> = {
  api: DescribeConfigsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    const includeSynonyms = ctx.apiVersion >= 1 && request.includeSynonyms;
    const includeDocumentation = ctx.apiVersion >= 3 && request.includeDocumentation;
    const results = request.resources.map((resource): DescribeResult => {
      const entries =
        configAuthorizationFailure(
          ctx,
          AclOperation.DESCRIBE_CONFIGS,
          resource.resourceType,
          resource.resourceName,
          DESCRIBED_ON_CLUSTER,
        ) ?? describeEntries(ctx, resource.resourceType, resource.resourceName);
      if (!Array.isArray(entries)) {
        return {
          ...entries,
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
          configs: [],
        };
      }
      const wanted = resource.configurationKeys === null ? null : new Set(resource.configurationKeys);
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        configs: entries
          .filter((e) => wanted === null || wanted.has(e.name))
          .map((e) => toDescribed(e, includeSynonyms, includeDocumentation)),
      };
    });
    return { throttleTimeMs: 0, results };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: request.resources.map((r) => ({
        errorCode,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: [],
      })),
    };
  },
};

function staticBrokerConfigs(resourceName: string): AdminResult {
  return failure(
    ErrorCode.INVALID_REQUEST,
    `Broker configs of '${resourceName}' are static in this version: set them in the config file, SLUICE_* environment or flags.`,
  );
}

type AlterResponse = AlterConfigsResponse['responses'][number];

function alterResult(resourceType: number, resourceName: string, result: AdminResult): AlterResponse {
  return { errorCode: result.errorCode, errorMessage: result.errorMessage, resourceType, resourceName };
}

/** AlterConfigs of one resource: its whole set of overrides replaced. */
async function replaceConfigs(
  ctx: RequestContext,
  resource: AlterConfigsRequest['resources'][number],
  validateOnly: boolean,
): Promise<AdminResult> {
  if (resource.resourceType === RESOURCE_TOPIC) {
    const configs: Record<string, string | null> = {};
    for (const c of resource.configs) configs[c.name] = c.value;
    return ctx.broker.controller.replaceTopicConfigs(resource.resourceName, configs, validateOnly);
  }
  if (resource.resourceType === RESOURCE_BROKER) return staticBrokerConfigs(resource.resourceName);
  return failure(ErrorCode.INVALID_REQUEST, `Resource type ${resource.resourceType} cannot be altered.`);
}

const alterConfigs: ApiHandler<AlterConfigsRequest, AlterConfigsResponse> = {
  api: AlterConfigsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const responses: AlterResponse[] = [];
    for (const resource of request.resources) {
      const result =
        configAuthorizationFailure(
          ctx,
          AclOperation.ALTER_CONFIGS,
          resource.resourceType,
          resource.resourceName,
          ALTERED_ON_CLUSTER,
        ) ?? (await replaceConfigs(ctx, resource, request.validateOnly));
      responses.push(alterResult(resource.resourceType, resource.resourceName, result));
    }
    return { throttleTimeMs: 0, responses };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      responses: request.resources.map((r) =>
        alterResult(r.resourceType, r.resourceName, { errorCode, errorMessage: null }),
      ),
    };
  },
};

const OPERATIONS: readonly ConfigOperation[] = ['set', 'delete', 'append', 'subtract'];

/** IncrementalAlterConfigs of one resource: each key set, deleted, appended to or subtracted from. */
async function alterConfigsIncrementally(
  ctx: RequestContext,
  resource: IncrementalAlterConfigsRequest['resources'][number],
  validateOnly: boolean,
): Promise<AdminResult> {
  if (resource.resourceType === RESOURCE_TOPIC) {
    const invalid = resource.configs.find((c) => OPERATIONS[c.configOperation] === undefined);
    if (invalid !== undefined) {
      return failure(
        ErrorCode.INVALID_REQUEST,
        `Unknown config operation ${invalid.configOperation} for ${invalid.name}.`,
      );
    }
    return ctx.broker.controller.alterTopicConfigs(
      resource.resourceName,
      resource.configs.map((c) => ({
        name: c.name,
        operation: OPERATIONS[c.configOperation]!,
        value: c.value,
      })),
      validateOnly,
    );
  }
  if (resource.resourceType === RESOURCE_BROKER) return staticBrokerConfigs(resource.resourceName);
  return failure(ErrorCode.INVALID_REQUEST, `Resource type ${resource.resourceType} cannot be altered.`);
}

const incrementalAlterConfigs: ApiHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse> = {
  api: IncrementalAlterConfigsApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const responses: AlterResponse[] = [];
    for (const resource of request.resources) {
      const result =
        configAuthorizationFailure(
          ctx,
          AclOperation.ALTER_CONFIGS,
          resource.resourceType,
          resource.resourceName,
          INCREMENTALLY_ALTERED_ON_CLUSTER,
        ) ?? (await alterConfigsIncrementally(ctx, resource, request.validateOnly));
      responses.push(alterResult(resource.resourceType, resource.resourceName, result));
    }
    return { throttleTimeMs: 0, responses };
  },
  errorResponse(_ctx, request, errorCode) {
    return {
      throttleTimeMs: 0,
      responses: request.resources.map((r) =>
        alterResult(r.resourceType, r.resourceName, { errorCode, errorMessage: null }),
      ),
    };
  },
};

export const describeConfigsHandler = registerHandler(describeConfigs);
export const alterConfigsHandler = registerHandler(alterConfigs);
export const incrementalAlterConfigsHandler = registerHandler(incrementalAlterConfigs);
