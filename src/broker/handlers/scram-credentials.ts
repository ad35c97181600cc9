// DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554): SCRAM accounts managed at run time,
// kept in the metadata store and usable by the next login. Accounts of `sasl.users` are listed too but come
// from the broker's configuration, so they cannot be altered here. With an authorizer, as Kafka: describing
// needs DESCRIBE on the cluster, altering ALTER on the cluster.
import type { ScramCredentialKey, ScramCredentialRecord } from '../../metadata/index.js';
import { ErrorCode, errorInfo } from '../../protocol/errors.js';
import {
  AlterUserScramCredentialsApi,
  type AlterUserScramCredentialsRequest,
  type AlterUserScramCredentialsResponse,
  DescribeUserScramCredentialsApi,
  type DescribeUserScramCredentialsRequest,
  type DescribeUserScramCredentialsResponse,
} from '../../protocol/generated/index.js';
import { type ApiHandler, type BrokerServices, registerHandler } from '../context.js';
import { AclOperation } from '../security/acl.js';
import {
  DEFAULT_SCRAM_ITERATIONS,
  SCRAM_MECHANISMS,
  type ScramMechanism,
  scramCredentialFromSaltedPassword,
  scramKeyBytes,
} from '../security/index.js';
import { isClusterAuthorized } from './authorization.js';

/** Kafka's ScramMechanism type codes. */
const MECHANISM_CODES: Record<ScramMechanism, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };
/** Kafka's bounds on a credential's iteration count. */
const MAX_ITERATIONS = 16_384;

function mechanismOf(code: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((mechanism) => MECHANISM_CODES[mechanism] === code);
}

type CredentialInfo = { mechanism: number; iterations: number };

/** Every described user: configured ones first (their mechanisms as enabled), then the stored ones. */
function allCredentials(broker: BrokerServices): Map<string, CredentialInfo[]> {
  const users = new Map<string, CredentialInfo[]>();
  const configured = SCRAM_MECHANISMS.filter((m) => broker.config.saslEnabledMechanisms.includes(m));
  for (const { name } of broker.config.saslUsers) {
    users.set(
      name,
      configured.map((mechanism) => ({
        mechanism: MECHANISM_CODES[mechanism],
        iterations: DEFAULT_SCRAM_ITERATIONS,
      })),
    );
  }
  for (const credential of broker.metadata.listScramCredentials()) {
    if (configuredUser(broker, credential.user)) continue;
    const infos = users.get(credential.user) ?? [];
    infos.push({ mechanism: MECHANISM_CODES[credential.mechanism], iterations: credential.iterations });
    users.set(credential.user, infos);
  }
  return users;
}

function configuredUser(broker: BrokerServices, user: string): boolean {
  return broker.config.saslUsers.some((configured) => configured.name === user);
}

const describe: ApiHandler<DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse> = {
  api: DescribeUserScramCredentialsApi,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    if (!isClusterAuthorized(ctx, AclOperation.DESCRIBE)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      const errorMessage = errorInfo(errorCode).message;
      // Kafka's error answer: the error at the top, and again for each user asked about.
      return {
        throttleTimeMs: 0,
        errorCode,
        errorMessage,
        results: (request.users ?? []).map(({ name }) => ({
          user: name,
          errorCode,
          errorMessage,
          credentialInfos: [],
        })),
      };
    }
    const credentials = allCredentials(ctx.broker);
    const requested = request.users ?? [];
    if (requested.length === 0) {
      return response(
        [...credentials].map(([user, infos]) => ({
          user,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          credentialInfos: infos,
        })),
      );
    }
    const counts = new Map<string, number>();
    for (const { name } of requested) counts.set(name, (counts.get(name) ?? 0) + 1);
    return response(
      [...counts].map(([user, count]) => {
        if (count > 1) {
          return failure(
            user,
            ErrorCode.DUPLICATE_RESOURCE,
            'Cannot describe SCRAM credentials for the same user twice in a single request',
          );
        }
        const infos = credentials.get(user);
        if (infos === undefined || infos.length === 0) {
          return failure(
            user,
            ErrorCode.RESOURCE_NOT_FOUND,
            'Attempt to describe a user credential that does not exist',
          );
        }
        return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos };
      }),
    );
  },
  errorResponse(_ctx, _request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, results: [] };
  },
};

function response(
  results: DescribeUserScramCredentialsResponse['results'],
): DescribeUserScramCredentialsResponse {
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
}

function failure(user: string, errorCode: number, errorMessage: string) {
  return { user, errorCode, errorMessage, credentialInfos: [] };
}

type Upsertion = AlterUserScramCredentialsRequest['upsertions'][number];
type Deletion = AlterUserScramCredentialsRequest['deletions'][number];

interface UserAlteration {
  deletions: Deletion[];
  upsertions: Upsertion[];
}

/** Kafka's checks of one user's alterations; any failure rejects all of that user's changes. */
function checkAlteration(
  broker: BrokerServices,
  user: string,
  alteration: UserAlteration,
): { errorCode: number; errorMessage: string } | null {
  if (user === '')
    return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Username must not be empty' };
  const all = [...alteration.deletions, ...alteration.upsertions];
  if (all.some((change) => mechanismOf(change.mechanism) === undefined)) {
    return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' };
  }
  if (new Set(all.map((change) => change.mechanism)).size < all.length) {
    return {
      errorCode: ErrorCode.DUPLICATE_RESOURCE,
      errorMessage: 'A user credential cannot be altered twice in the same request',
    };
  }
  if (configuredUser(broker, user)) {
    return {
      errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL,
      errorMessage: `User ${user} is defined by the broker setting sasl.users; change it there`,
    };
  }
  for (const upsertion of alteration.upsertions) {
    const mechanism = mechanismOf(upsertion.mechanism)!;
    if (upsertion.iterations < DEFAULT_SCRAM_ITERATIONS) {
      return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too few iterations' };
    }
    if (upsertion.iterations > MAX_ITERATIONS) {
      return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too many iterations' };
    }
    if (upsertion.salt.length === 0) {
      return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Salt must not be empty' };
    }
    if (upsertion.saltedPassword.length !== scramKeyBytes(mechanism)) {
      return {
        errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL,
        errorMessage: `A ${mechanism} salted password is ${scramKeyBytes(mechanism)} bytes`,
      };
    }
  }
  for (const deletion of alteration.deletions) {
    if (broker.metadata.getScramCredential(user, mechanismOf(deletion.mechanism)!) === undefined) {
      return {
        errorCode: ErrorCode.RESOURCE_NOT_FOUND,
        errorMessage: 'Attempt to delete a user credential that does not exist',
      };
    }
  }
  return null;
}

const alter: ApiHandler<AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse> = {
  api: AlterUserScramCredentialsApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    if (!isClusterAuthorized(ctx, AclOperation.ALTER)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return alterErrorResponse(request, errorCode, errorInfo(errorCode).message);
    }
    const { metadata } = ctx.broker;
    const byUser = new Map<string, UserAlteration>();
    const alterationOf = (user: string) => {
      let alteration = byUser.get(user);
      if (alteration === undefined) {
        alteration = { deletions: [], upsertions: [] };
        byUser.set(user, alteration);
      }
      return alteration;
    };
    for (const deletion of request.deletions) alterationOf(deletion.name).deletions.push(deletion);
    for (const upsertion of request.upsertions) alterationOf(upsertion.name).upsertions.push(upsertion);

    const results: AlterUserScramCredentialsResponse['results'] = [];
    const upserts: ScramCredentialRecord[] = [];
    const deletions: ScramCredentialKey[] = [];
    const accepted: AlterUserScramCredentialsResponse['results'] = [];
    for (const [user, alteration] of byUser) {
      const problem = checkAlteration(ctx.broker, user, alteration);
      if (problem !== null) {
        results.push({ user, ...problem });
        continue;
      }
      for (const deletion of alteration.deletions) {
        deletions.push({ user, mechanism: mechanismOf(deletion.mechanism)! });
      }
      for (const upsertion of alteration.upsertions) {
        const mechanism = mechanismOf(upsertion.mechanism)!;
        const credential = scramCredentialFromSaltedPassword(
          mechanism,
          upsertion.saltedPassword,
          upsertion.salt,
          upsertion.iterations,
        );
        upserts.push({
          user,
          mechanism,
          salt: credential.salt.toString('base64'),
          iterations: credential.iterations,
          storedKey: credential.storedKey.toString('base64'),
          serverKey: credential.serverKey.toString('base64'),
        });
      }
      const result = { user, errorCode: ErrorCode.NONE, errorMessage: null };
      results.push(result);
      accepted.push(result);
    }
    try {
      await metadata.alterScramCredentials(upserts, deletions);
    } catch (error) {
      ctx.broker.logger.error({ err: error }, 'storing SCRAM credentials failed');
      for (const result of accepted) {
        result.errorCode = ErrorCode.UNKNOWN_SERVER_ERROR;
        result.errorMessage = 'The credentials could not be stored';
      }
    }
    return { throttleTimeMs: 0, results };
  },
  errorResponse(_ctx, request, errorCode) {
    return alterErrorResponse(request, errorCode, null);
  },
};

/** Every user the request alters, in name order as Kafka lists them, failed with `errorCode`. */
function alterErrorResponse(
  request: AlterUserScramCredentialsRequest,
  errorCode: number,
  errorMessage: string | null,
): AlterUserScramCredentialsResponse {
  const users = new Set([...request.deletions, ...request.upsertions].map((change) => change.name));
  return {
    throttleTimeMs: 0,
    results: [...users].sort().map((user) => ({ user, errorCode, errorMessage })),
  };
}

export const describeUserScramCredentialsHandler = registerHandler(describe);
export const alterUserScramCredentialsHandler = registerHandler(alter);
