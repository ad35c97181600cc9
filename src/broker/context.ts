// What a request handler can reach: the broker's services, the connection it came on and its header.
// Handlers stay thin; the state they act on lives in these services.
import type { BrokerConfig } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { GroupCoordinator } from '../coordinator/index.js';
import type { TransactionCoordinator } from '../coordinator/transactions/index.js';
import type { BrokerEndpoint, BrokerRecord, MetadataStore } from '../metadata/index.js';
import type { Reader } from '../protocol/primitives/reader.js';
import type { Writer } from '../protocol/primitives/writer.js';
import type { Controller } from './controller.js';
import type { OffsetsTopic } from './offsets-topic.js';
import type { ProducerIdManager } from './producer-ids.js';
import type { ReplicaManager } from './replica-manager.js';
import type { Authorizer } from './security/authorizer.js';
import type { ConnectionInfo } from './server.js';
import type { TransactionStateTopic } from './transaction-state-topic.js';

export interface BrokerServices {
  readonly nodeId: number;
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly metadata: MetadataStore;
  readonly replicaManager: ReplicaManager;
  readonly controller: Controller;
  readonly groupCoordinator: GroupCoordinator;
  readonly offsetsTopic: OffsetsTopic;
  readonly transactionCoordinator: TransactionCoordinator;
  readonly transactionStateTopic: TransactionStateTopic;
  /** Hands out producer ids to idempotent producers (InitProducerId). */
  readonly producerIds: ProducerIdManager;
  /** Where clients of each listener reach this broker, as registered in the metadata store. */
  readonly advertised: readonly BrokerEndpoint[];
  /** null (or absent in handler tests): no authorizer, every request is allowed. */
  readonly authorizer?: Authorizer | null;
}

/** Kafka's principal of a connection that did not authenticate. */
export const ANONYMOUS_PRINCIPAL = 'User:ANONYMOUS';

/** Who the request comes from, as ACLs name it: the SASL user, else the TLS certificate, else ANONYMOUS. */
export function principalOf(connection: ConnectionInfo): string {
  const user = connection.sasl?.principal;
  if (user != null) return `User:${user}`;
  return connection.sslPrincipal ?? ANONYMOUS_PRINCIPAL;
}

/** The client's IP as ACL hosts name it (an IPv4 client of a dual-stack listener without its ::ffff: prefix). */
export function hostOf(connection: ConnectionInfo): string {
  const address = connection.remoteAddress;
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Where the client of this request reaches `broker`: as in Kafka, the broker's endpoint for the listener the
 * request came in on, so that a client keeps to its listener; the record's own address if it has none.
 */
export function brokerAddressFor(ctx: RequestContext, broker: BrokerRecord): { host: string; port: number } {
  const listener = ctx.connection.listener;
  const endpoint = broker.endpoints?.find((candidate) => candidate.listener === listener);
  const { host, port } = endpoint ?? broker;
  return { host, port };
}

/**
 * Whether the request's principal may perform `operation` (AclOperation) on the resource (ResourceType and
 * name). Always true without an authorizer, at the cost of one property read.
 */
export function isAuthorized(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
  resourceName: string,
): boolean {
  const authorizer = ctx.broker.authorizer;
  if (!authorizer) return true;
  return authorizer.authorize(
    principalOf(ctx.connection),
    hostOf(ctx.connection),
    operation,
    resourceType,
    resourceName,
  );
}

export interface RequestContext {
  readonly broker: BrokerServices;
  readonly connection: ConnectionInfo;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Runs `release` once the response is written to the socket, or dropped (memory the response holds). */
  releaseAfterResponse(release: () => void): void;
  /** Ends the connection once this response is written (a failed SASL authentication). */
  closeConnectionAfterResponse(): void;
}

interface ApiCodec<Req, Res> {
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  decodeRequest(r: Reader, version: number): Req;
  encodeResponse(w: Writer, msg: Res, version: number): void;
}

/**
 * One Kafka API as this broker serves it. `minVersion..maxVersion` is what ApiVersions advertises; a request
 * outside it but inside the schema is answered by `errorResponse` with UNSUPPORTED_VERSION.
 * `handle` returning null sends no response (Produce with acks=0).
 */
export interface ApiHandler<Req, Res> {
  readonly api: ApiCodec<Req, Res>;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: RequestContext, request: Req): Promise<Res | null> | Res | null;
  errorResponse(ctx: RequestContext, request: Req, errorCode: number): Res;
}

/** A handler with its message types erased, so handlers of every API fit in one table. */
export interface RegisteredHandler {
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly schemaMinVersion: number;
  readonly schemaMaxVersion: number;
  /** Decodes, handles, and returns the body encoder (or null for no response). */
  process(ctx: RequestContext, body: Reader): Promise<((w: Writer) => void) | null>;
  /** Decodes and returns the encoder of an error answer for this request. */
  reject(ctx: RequestContext, body: Reader, errorCode: number): (w: Writer) => void;
}

export function registerHandler<Req, Res>(handler: ApiHandler<Req, Res>): RegisteredHandler {
  const { api } = handler;
  return {
    key: api.key,
    name: api.name,
    minVersion: handler.minVersion,
    maxVersion: handler.maxVersion,
    schemaMinVersion: api.minVersion,
    schemaMaxVersion: api.maxVersion,
    async process(ctx, body) {
      const request = api.decodeRequest(body, ctx.apiVersion);
      const response = await handler.handle(ctx, request);
      if (response === null) return null;
      return (w) => api.encodeResponse(w, response, ctx.apiVersion);
    },
    reject(ctx, body, errorCode) {
      const response = handler.errorResponse(ctx, api.decodeRequest(body, ctx.apiVersion), errorCode);
      return (w) => api.encodeResponse(w, response, ctx.apiVersion);
    },
  };
}
