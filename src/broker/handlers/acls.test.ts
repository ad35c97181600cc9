import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../protocol/errors.js';
import {
  CreateAclsApi,
  type CreateAclsRequestAclCreation,
  DeleteAclsApi,
  type DeleteAclsRequestDeleteAclsFilter,
  DescribeAclsApi,
  type DescribeAclsRequest,
} from '../../protocol/generated/index.js';
import { advertisedVersions, callApi, dispatcherOver } from './test-support.js';

// Kafka's enum codes (org.apache.kafka.common.acl / resource).
const RESOURCE_ANY = 1;
const RESOURCE_TOPIC = 2;
const RESOURCE_GROUP = 3;
const PATTERN_ANY = 1;
const PATTERN_LITERAL = 3;
const PATTERN_PREFIXED = 4;
const OPERATION_ANY = 1;
const OPERATION_READ = 3;
const OPERATION_WRITE = 4;
const PERMISSION_ANY = 1;
const PERMISSION_DENY = 2;
const PERMISSION_ALLOW = 3;

function broker() {
  const logged: unknown[] = [];
  const services = {
    logger: { error: (fields: unknown, message: string) => logged.push({ fields, message }) },
  };
  return { dispatch: dispatcherOver(services), logged };
}

const describeFilter: DescribeAclsRequest = {
  resourceTypeFilter: RESOURCE_ANY,
  resourceNameFilter: null,
  patternTypeFilter: PATTERN_ANY,
  principalFilter: null,
  hostFilter: null,
  operation: OPERATION_ANY,
  permissionType: PERMISSION_ANY,
};

const creation = (resourceName: string, operation: number): CreateAclsRequestAclCreation => ({
  resourceType: RESOURCE_TOPIC,
  resourceName,
  resourcePatternType: PATTERN_LITERAL,
  principal: 'User:alice',
  host: '*',
  operation,
  permissionType: PERMISSION_ALLOW,
});

const deleteFilter = (resourceNameFilter: string | null): DeleteAclsRequestDeleteAclsFilter => ({
  resourceTypeFilter: RESOURCE_GROUP,
  resourceNameFilter,
  patternTypeFilter: PATTERN_PREFIXED,
  principalFilter: 'User:bob',
  hostFilter: null,
  operation: OPERATION_READ,
  permissionType: PERMISSION_DENY,
});

const securityDisabled = {
  errorCode: ErrorCode.SECURITY_DISABLED,
  errorMessage: 'No Authorizer is configured.',
};

describe('ACL APIs without an authorizer', () => {
  test('DescribeAcls, CreateAcls and DeleteAcls are advertised at versions 0-3', async () => {
    const { dispatch } = broker();
    assert.deepEqual(await advertisedVersions(dispatch, [29, 30, 31]), [
      [29, 0, 3],
      [30, 0, 3],
      [31, 0, 3],
    ]);
  });

  test('DescribeAcls answers SECURITY_DISABLED with no resources, at v0 and v3', async () => {
    const { dispatch, logged } = broker();
    for (const [version, filter] of [
      [0, { ...describeFilter, patternTypeFilter: PATTERN_LITERAL }],
      [3, describeFilter],
      [3, { ...describeFilter, resourceTypeFilter: RESOURCE_TOPIC, resourceNameFilter: 'orders' }],
    ] as const) {
      assert.deepEqual(
        await callApi(dispatch, DescribeAclsApi, version, filter),
        {
          throttleTimeMs: 0,
          errorCode: ErrorCode.SECURITY_DISABLED,
          errorMessage: 'No Authorizer is configured on the broker',
          resources: [],
        },
        `v${version}`,
      );
    }
    assert.deepEqual(logged, []);
  });

  test('CreateAcls answers one SECURITY_DISABLED result per creation, in order, at v0 and v3', async () => {
    const { dispatch } = broker();
    const creations = [creation('orders', OPERATION_READ), creation('payments', OPERATION_WRITE)];
    assert.deepEqual(await callApi(dispatch, CreateAclsApi, 0, { creations }), {
      throttleTimeMs: 0,
      results: [securityDisabled, securityDisabled],
    });
    assert.deepEqual(await callApi(dispatch, CreateAclsApi, 3, { creations: creations.slice(1) }), {
      throttleTimeMs: 0,
      results: [securityDisabled],
    });
    assert.deepEqual(await callApi(dispatch, CreateAclsApi, 3, { creations: [] }), {
      throttleTimeMs: 0,
      results: [],
    });
  });

  test('DeleteAcls answers one SECURITY_DISABLED result per filter, matching no ACL, at v0 and v3', async () => {
    const { dispatch } = broker();
    const disabledFilter = { ...securityDisabled, matchingAcls: [] };
    assert.deepEqual(
      await callApi(dispatch, DeleteAclsApi, 0, {
        filters: [
          { ...deleteFilter('orders'), patternTypeFilter: PATTERN_LITERAL },
          { ...deleteFilter(null), patternTypeFilter: PATTERN_LITERAL },
        ],
      }),
      { throttleTimeMs: 0, filterResults: [disabledFilter, disabledFilter] },
    );
    assert.deepEqual(
      await callApi(dispatch, DeleteAclsApi, 3, {
        filters: [deleteFilter('pay'), deleteFilter(null), deleteFilter('')],
      }),
      { throttleTimeMs: 0, filterResults: [disabledFilter, disabledFilter, disabledFilter] },
    );
  });
});
