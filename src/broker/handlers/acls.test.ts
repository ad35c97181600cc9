import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EmbeddedMetadataStore } from '../../metadata/index.js';
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

describe('ACL APIs with the authorizer', () => {
  let dir: string;
  let store: EmbeddedMetadataStore;
  let allowCluster = true;
  let dispatch: ReturnType<typeof dispatcherOver>;
  const clusterChecks: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-acls-'));
    store = await EmbeddedMetadataStore.open(dir);
    dispatch = dispatcherOver({
      metadata: store,
      logger: { error: () => {} },
      authorizer: {
        authorize: (principal: string, _host: string, operation: number, type: number, name: string) => {
          clusterChecks.push(`${principal} ${operation} ${type} ${name}`);
          return allowCluster;
        },
      },
    });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stored = () =>
    store
      .listAcls()
      .map((a) => `${a.resourceType}/${a.patternType}/${a.resourceName} ${a.principal} ${a.operation}`);

  test('CreateAcls stores valid bindings and refuses the others one by one', async () => {
    const response = await callApi(dispatch, CreateAclsApi, 3, {
      creations: [
        creation('orders', OPERATION_READ),
        { ...creation('sales-', OPERATION_WRITE), resourcePatternType: PATTERN_PREFIXED },
        { ...creation('x', OPERATION_READ), principal: 'alice' },
        { ...creation('x', OPERATION_ANY) },
        creation('orders', OPERATION_READ),
      ],
    });
    assert.deepEqual(response.results, [
      { errorCode: ErrorCode.NONE, errorMessage: null },
      { errorCode: ErrorCode.NONE, errorMessage: null },
      {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage:
          'Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)',
      },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid operation' },
      { errorCode: ErrorCode.NONE, errorMessage: null },
    ]);
    assert.deepEqual(stored(), ['2/3/orders User:alice 3', '2/4/sales- User:alice 4']);
    assert.equal(clusterChecks.at(-1), 'User:ANONYMOUS 7 4 kafka-cluster');
  });

  test('DescribeAcls groups matching bindings by resource pattern; v0 filters are LITERAL', async () => {
    const all = await callApi(dispatch, DescribeAclsApi, 3, describeFilter);
    assert.deepEqual(all, {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      resources: [
        {
          resourceType: RESOURCE_TOPIC,
          resourceName: 'orders',
          patternType: PATTERN_LITERAL,
          acls: [
            {
              principal: 'User:alice',
              host: '*',
              operation: OPERATION_READ,
              permissionType: PERMISSION_ALLOW,
            },
          ],
        },
        {
          resourceType: RESOURCE_TOPIC,
          resourceName: 'sales-',
          patternType: PATTERN_PREFIXED,
          acls: [
            {
              principal: 'User:alice',
              host: '*',
              operation: OPERATION_WRITE,
              permissionType: PERMISSION_ALLOW,
            },
          ],
        },
      ],
    });
    const match = await callApi(dispatch, DescribeAclsApi, 3, {
      ...describeFilter,
      resourceTypeFilter: RESOURCE_TOPIC,
      resourceNameFilter: 'sales-eu',
      patternTypeFilter: 2,
    });
    assert.deepEqual(
      match.resources.map((r) => r.resourceName),
      ['sales-'],
    );
    const v0 = await callApi(dispatch, DescribeAclsApi, 0, describeFilter);
    assert.deepEqual(
      v0.resources.map((r) => r.resourceName),
      ['orders'],
    );
  });

  test('DeleteAcls removes what each filter matches and reports it', async () => {
    const response = await callApi(dispatch, DeleteAclsApi, 3, {
      filters: [
        { ...describeFilter, resourceNameFilter: 'orders' },
        { ...describeFilter, resourceNameFilter: 'nothing' },
      ],
    });
    assert.deepEqual(response.filterResults, [
      {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        matchingAcls: [
          {
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            resourceType: RESOURCE_TOPIC,
            resourceName: 'orders',
            patternType: PATTERN_LITERAL,
            principal: 'User:alice',
            host: '*',
            operation: OPERATION_READ,
            permissionType: PERMISSION_ALLOW,
          },
        ],
      },
      { errorCode: ErrorCode.NONE, errorMessage: null, matchingAcls: [] },
    ]);
    assert.deepEqual(stored(), ['2/4/sales- User:alice 4']);
  });

  test('without DESCRIBE / ALTER on the cluster: CLUSTER_AUTHORIZATION_FAILED and nothing changes', async () => {
    allowCluster = false;
    try {
      const failed = {
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed.',
      };
      assert.deepEqual(
        (await callApi(dispatch, CreateAclsApi, 3, { creations: [creation('t', OPERATION_READ)] })).results,
        [failed],
      );
      assert.deepEqual(
        (await callApi(dispatch, DeleteAclsApi, 3, { filters: [describeFilter] })).filterResults,
        [{ ...failed, matchingAcls: [] }],
      );
      const described = await callApi(dispatch, DescribeAclsApi, 3, describeFilter);
      assert.deepEqual(
        [described.errorCode, described.resources],
        [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, []],
      );
      assert.deepEqual(stored(), ['2/4/sales- User:alice 4']);
    } finally {
      allowCluster = true;
    }
  });

  test('an invalid filter is INVALID_REQUEST', async () => {
    const described = await callApi(dispatch, DescribeAclsApi, 3, { ...describeFilter, operation: 99 });
    assert.deepEqual(
      [described.errorCode, described.errorMessage],
      [ErrorCode.INVALID_REQUEST, 'Invalid operation filter'],
    );
  });
});
