// DescribeConfigs, AlterConfigs (replace the override set) and IncrementalAlterConfigs (per-key operations)
// for topics; broker configs are described but static (set in the config file, env or flags).
import { brokerConfigEntries, type ConfigEntry, effectiveTopicConfig } from '../../common/topic-config.js';
import { ErrorCode } from '../../protocol/errors.js';
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
import { type ApiHandler, type RequestContext, registerHandler } from '../context.js';
import { type AdminResult, type ConfigOperation, failure } from '../controller.js';

const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
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
      const entries = describeEntries(ctx, resource.resourceType, resource.resourceName);
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

const alterConfigs: ApiHandler<AlterConfigsRequest, AlterConfigsResponse> = {
  api: AlterConfigsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const responses: AlterResponse[] = [];
    for (const resource of request.resources) {
      let result: AdminResult;
      if (resource.resourceType === RESOURCE_TOPIC) {
        const configs: Record<string, string | null> = {};
        for (const c of resource.configs) configs[c.name] = c.value;
        result = await ctx.broker.controller.replaceTopicConfigs(
          resource.resourceName,
          configs,
          request.validateOnly,
        );
      } else if (resource.resourceType === RESOURCE_BROKER) {
        result = staticBrokerConfigs(resource.resourceName);
      } else {
        result = failure(
          ErrorCode.INVALID_REQUEST,
          `Resource type ${resource.resourceType} cannot be altered.`,
        );
      }
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

const incrementalAlterConfigs: ApiHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse> = {
  api: IncrementalAlterConfigsApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const responses: AlterResponse[] = [];
    for (const resource of request.resources) {
      let result: AdminResult;
      if (resource.resourceType === RESOURCE_TOPIC) {
        const invalid = resource.configs.find((c) => OPERATIONS[c.configOperation] === undefined);
        result =
          invalid !== undefined
            ? failure(
                ErrorCode.INVALID_REQUEST,
                `Unknown config operation ${invalid.configOperation} for ${invalid.name}.`,
              )
            : await ctx.broker.controller.alterTopicConfigs(
                resource.resourceName,
                resource.configs.map((c) => ({
                  name: c.name,
                  operation: OPERATIONS[c.configOperation]!,
                  value: c.value,
                })),
                request.validateOnly,
              );
      } else if (resource.resourceType === RESOURCE_BROKER) {
        result = staticBrokerConfigs(resource.resourceName);
      } else {
        result = failure(
          ErrorCode.INVALID_REQUEST,
          `Resource type ${resource.resourceType} cannot be altered.`,
        );
      }
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
