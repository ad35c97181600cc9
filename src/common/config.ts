// Broker configuration: Kafka's setting names, one definition table (type, default, allowed values, doc) that
// drives parsing, DescribeConfigs and the README reference, and a loader that layers
// built-in defaults < config file < SLUICE_* environment variables < command-line flags.

import type { ConfigFile } from './config-file.js';
import { ConfigError } from './config-file.js';
import {
  type AdvertisedEndpoint,
  type CleanupPolicy,
  COMPRESSION_TYPES,
  type CompressionType,
  ConfigSource,
  ConfigType,
  DEFAULT_LISTENER_SECURITY_PROTOCOL_MAP,
  formatEndpoint,
  formatHostPort,
  formatListenerList,
  formatListenerSecurityProtocolMap,
  formatLong,
  type HostPort,
  INT32_MAX,
  type IntRange,
  InvalidValueError,
  isWildcardHost,
  type ListenerEndpoint,
  parseAdvertisedListeners,
  parseBoolean,
  parseCleanupPolicy,
  parseEnum,
  parseEnumIgnoreCase,
  parseInt16,
  parseInt32,
  parseListenerSecurityProtocolMap,
  parseListeners,
  parseLong,
  parseSaslMechanisms,
  parseSaslUsers,
  type SaslMechanism,
  type SaslUser,
  type SecurityProtocol,
  TIMESTAMP_TYPES,
  type TimestampType,
  usesSasl,
  usesTls,
} from './config-values.js';

export { ConfigError } from './config-file.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type ConfigOrigin = 'file' | 'env' | 'flag';

/** A setting the user gave explicitly, with the layer that won. */
export interface ExplicitSetting {
  text: string;
  origin: ConfigOrigin;
  /** Where it was written, for messages: a file path and line, an environment variable or a flag. */
  location: string;
}

/** One listener: where the broker accepts connections, how it secures them, and what clients are told. */
export interface BrokerListener {
  /** Upper-cased name from `listeners` (PLAINTEXT for a bare HOST:PORT); connections report it. */
  name: string;
  /** From `listener.security.protocol.map`: SASL_* listeners require every connection to authenticate first. */
  securityProtocol: SecurityProtocol;
  /** 0.0.0.0 listens on every interface. */
  host: string;
  /** 0 asks the OS for a free port. */
  port: number;
  /** From `advertised.listeners`, or derived from the listener; never a wildcard address. */
  advertisedHost: string;
  /** 0 only when derived from a port-0 listener: advertise the port the listener actually bound. */
  advertisedPort: number;
}

/** Typed broker configuration. Field names are the camelCase of the Kafka names, except where noted. */
export interface BrokerConfig {
  /** From `listeners`, `listener.security.protocol.map` and `advertised.listeners`, in the order listed. */
  listeners: BrokerListener[];
  /** `listener.security.protocol.map`: listener name to security protocol, in the order given. */
  listenerSecurityProtocolMap: Record<string, SecurityProtocol>;
  saslEnabledMechanisms: SaslMechanism[];
  /** `sasl.users`: the accounts a SASL listener accepts, with every enabled mechanism. */
  saslUsers: SaslUser[];
  saslServerMaxReceiveSize: number;
  /** TLS listeners: the broker's key and certificate chain (PEM) or a PKCS12 bundle; null without TLS. */
  sslKeystoreLocation: string | null;
  sslKeystoreType: 'PEM' | 'PKCS12';
  sslKeystorePassword: string | null;
  sslKeyPassword: string | null;
  /** CA certificates (PEM) that client certificates must chain to; null: Node's default CAs. */
  sslTruststoreLocation: string | null;
  sslClientAuth: 'none' | 'requested' | 'required';
  /** True when `authorizer.class.name` names Kafka's standard authorizer: ACLs are enforced. */
  authorizerEnabled: boolean;
  /** `super.users`: principals such as User:admin that every check allows. */
  superUsers: string[];
  allowEveryoneIfNoAclFound: boolean;
  nodeId: number;
  /** `log.dirs` (one directory). */
  dataDir: string;
  autoCreateTopicsEnable: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  logSegmentBytes: number;
  /** `log.roll.ms`, or `log.roll.hours` converted. */
  logRollMs: number;
  logIndexIntervalBytes: number;
  logFlushIntervalMessages: number;
  /** null: no time-based flush. */
  logFlushIntervalMs: number | null;
  /** `log.retention.ms`, or `log.retention.minutes`/`log.retention.hours` converted; -1 keeps forever. */
  logRetentionMs: number;
  /** -1: no size limit. */
  logRetentionBytes: number;
  logRetentionCheckIntervalMs: number;
  logFlushOffsetCheckpointIntervalMs: number;
  producerIdExpirationMs: number;
  logCleanupPolicy: CleanupPolicy;
  logSegmentDeleteDelayMs: number;
  messageMaxBytes: number;
  compressionType: CompressionType;
  logMessageTimestampType: TimestampType;
  minInsyncReplicas: number;
  socketRequestMaxBytes: number;
  connectionsMaxIdleMs: number;
  maxInFlightRequestsPerConnection: number;
  queuedMaxResponseBytes: number;
  queuedMaxRequestBytes: number;
  fetchMemoryBytes: number;
  offsetsTopicNumPartitions: number;
  offsetsTopicReplicationFactor: number;
  offsetsRetentionMinutes: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupInitialRebalanceDelayMs: number;
  groupMaxSize: number;
  transactionStateLogNumPartitions: number;
  transactionStateLogReplicationFactor: number;
  transactionMaxTimeoutMs: number;
  transactionalIdExpirationMs: number;
  transactionAbortTimedOutTransactionCleanupIntervalMs: number;
  logLevel: LogLevel;
  /** null: the metadata store generates one on first start and keeps it. */
  clusterId: string | null;
  shutdownTimeoutMs: number;
  /** Every setting given explicitly, by Kafka name (DescribeConfigs reports these as STATIC_BROKER_CONFIG). */
  explicitSettings: Readonly<Record<string, ExplicitSetting>>;
}

/** Settings as parsed, before the listener settings are combined into BrokerListener entries. */
interface SettingValues extends Omit<BrokerConfig, 'listeners' | 'saslUsers' | 'explicitSettings'> {
  listenerEndpoints: ListenerEndpoint[];
  advertisedListeners: AdvertisedEndpoint[] | null;
  saslUsers: SaslUser[] | null;
}

type Field = keyof SettingValues;

interface DefCommon {
  /** Kafka's dotted name. */
  name: string;
  type: ConfigType;
  /** Default as text, exactly as documented; null when unset by default. */
  defaultText: string | null;
  /** Allowed values, for the reference and error messages. */
  valid: string;
  doc: string;
}

/** A setting that fills one BrokerConfig field. */
export interface FieldDef<F extends Field> extends DefCommon {
  kind: 'field';
  field: F;
  parse(text: string): NonNullable<SettingValues[F]>;
  format(value: NonNullable<SettingValues[F]>): string;
}

/** Kafka's coarser-unit alias of a millisecond setting (log.retention.hours for log.retention.ms). */
export interface UnitSynonymDef extends DefCommon {
  kind: 'unit-synonym';
  field: 'logRetentionMs' | 'logRollMs';
  /** Name of the millisecond setting it stands for. */
  synonymOf: string;
  unitMs: number;
  parse(text: string): number;
}

export type BrokerConfigDef = { [F in Field]: FieldDef<F> }[Field] | UnitSynonymDef;

function intDef<F extends Field>(
  name: string,
  field: F,
  defaultText: string | null,
  range: IntRange,
  doc: string,
  type: ConfigType = ConfigType.INT,
): FieldDef<F> {
  const parse = type === ConfigType.LONG ? parseLong : type === ConfigType.SHORT ? parseInt16 : parseInt32;
  const upper =
    range.max ?? (type === ConfigType.LONG ? '...' : type === ConfigType.SHORT ? 32767 : INT32_MAX);
  return {
    kind: 'field',
    name,
    field,
    type,
    defaultText,
    valid: `[${range.min ?? '...'}, ${upper}]`,
    doc,
    parse: (text) => parse(text, range) as NonNullable<SettingValues[F]>,
    format: (value) => formatLong(value as number),
  };
}

function longDef<F extends Field>(
  name: string,
  field: F,
  defaultText: string | null,
  range: IntRange,
  doc: string,
): FieldDef<F> {
  return intDef(name, field, defaultText, range, doc, ConfigType.LONG);
}

function enumDef<F extends Field>(
  name: string,
  field: F,
  defaultText: string,
  allowed: readonly string[],
  doc: string,
  ignoreCase = false,
): FieldDef<F> {
  return {
    kind: 'field',
    name,
    field,
    type: ConfigType.STRING,
    defaultText,
    valid: allowed.join(', '),
    doc,
    parse: (text) =>
      (ignoreCase ? parseEnumIgnoreCase(text, allowed) : parseEnum(text, allowed)) as NonNullable<
        SettingValues[F]
      >,
    format: (value) => String(value),
  };
}

function pathDef<F extends 'sslKeystoreLocation' | 'sslTruststoreLocation'>(
  name: string,
  field: F,
  doc: string,
): FieldDef<F> {
  return {
    kind: 'field',
    name,
    field,
    type: ConfigType.STRING,
    defaultText: null,
    valid: 'a file path',
    doc,
    parse: (text) => {
      const trimmed = text.trim();
      if (trimmed === '') throw new InvalidValueError('a file path');
      return trimmed as NonNullable<SettingValues[F]>;
    },
    format: (value) => value,
  };
}

function passwordDef<F extends 'sslKeystorePassword' | 'sslKeyPassword'>(
  name: string,
  field: F,
  doc: string,
): FieldDef<F> {
  return {
    kind: 'field',
    name,
    field,
    type: ConfigType.PASSWORD,
    defaultText: null,
    valid: 'a password',
    doc: `${doc} Sensitive: DescribeConfigs does not show it.`,
    parse: (text) => {
      if (text === '') throw new InvalidValueError('a non-empty password');
      return text as NonNullable<SettingValues[F]>;
    },
    format: (value) => value,
  };
}

function unitSynonym(
  name: string,
  synonymOf: string,
  field: UnitSynonymDef['field'],
  unitMs: number,
  defaultText: string | null,
  range: IntRange,
  doc: string,
): UnitSynonymDef {
  return {
    kind: 'unit-synonym',
    name,
    synonymOf,
    field,
    unitMs,
    type: ConfigType.INT,
    defaultText,
    valid: `[${range.min ?? '...'}, ${INT32_MAX}]`,
    doc,
    parse: (text) => parseInt32(text, range),
  };
}

/** Kafka's standard authorizer (KRaft) and its ZooKeeper-era predecessor: both mean "enforce ACLs". */
const STANDARD_AUTHORIZERS = [
  'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'kafka.security.authorizer.AclAuthorizer',
];

const CLUSTER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Every broker setting. Order is the order of DescribeConfigs and of the README reference. */
export const BROKER_CONFIG_DEFS: readonly BrokerConfigDef[] = [
  {
    kind: 'field',
    name: 'listeners',
    field: 'listenerEndpoints',
    type: ConfigType.STRING,
    defaultText: '127.0.0.1:9092',
    valid: '[NAME://]HOST:PORT[,NAME://HOST:PORT...]; names distinct, ports distinct unless 0',
    doc:
      'Addresses the broker accepts client connections on, one listener each. HOST:PORT alone is the ' +
      'PLAINTEXT listener; an empty host or 0.0.0.0 listens on every interface, port 0 on a free port. A ' +
      "listener's name gives its security protocol through listener.security.protocol.map: SSL and SASL_SSL " +
      'listeners speak TLS (ssl.*); on SASL_PLAINTEXT and SASL_SSL listeners every client must authenticate ' +
      '(sasl.enabled.mechanisms, sasl.users).',
    parse: parseListeners,
    format: formatListenerList,
  },
  {
    kind: 'field',
    name: 'advertised.listeners',
    field: 'advertisedListeners',
    type: ConfigType.STRING,
    defaultText: null,
    valid: 'NAME://HOST:PORT[,NAME://HOST:PORT...], names from listeners; HOST:PORT alone with one listener',
    doc:
      'Addresses given to clients (Metadata, FindCoordinator, DescribeCluster), per listener: a client is told ' +
      'the address of the listener it connected to. A listener not named here advertises its own address; ' +
      'a wildcard one (0.0.0.0) advertises 127.0.0.1 and logs a warning. Set it when clients connect through ' +
      'another name (a container, a load balancer).',
    parse: parseAdvertisedListeners,
    format: formatListenerList,
  },
  {
    kind: 'field',
    name: 'listener.security.protocol.map',
    field: 'listenerSecurityProtocolMap',
    type: ConfigType.STRING,
    defaultText: DEFAULT_LISTENER_SECURITY_PROTOCOL_MAP,
    valid: 'NAME:PROTOCOL[,NAME:PROTOCOL...], PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL',
    doc:
      'Security protocol of each listener name. Every name in listeners must be mapped; the default maps ' +
      'each protocol name to itself, so that SASL_SSL://HOST:PORT is a SASL_SSL listener.',
    parse: parseListenerSecurityProtocolMap,
    format: formatListenerSecurityProtocolMap,
  },
  {
    kind: 'field',
    name: 'sasl.enabled.mechanisms',
    field: 'saslEnabledMechanisms',
    type: ConfigType.LIST,
    defaultText: 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    valid: 'a list of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512',
    doc: 'SASL mechanisms a SASL_PLAINTEXT or SASL_SSL listener offers in SaslHandshake.',
    parse: parseSaslMechanisms,
    format: (value) => value.join(','),
  },
  {
    kind: 'field',
    name: 'sasl.users',
    field: 'saslUsers',
    type: ConfigType.PASSWORD,
    defaultText: null,
    valid: 'NAME:PASSWORD[,NAME:PASSWORD...]',
    doc:
      'Sluice-specific. Accounts of a SASL listener; each can log in with every enabled mechanism ' +
      '(SCRAM credentials are derived at start with 4096 iterations). A password may contain ":" but not ",". ' +
      'Sensitive: DescribeConfigs does not show it.',
    parse: parseSaslUsers,
    format: (value) => value.map((user) => `${user.name}:${user.password}`).join(','),
  },
  intDef(
    'sasl.server.max.receive.size',
    'saslServerMaxReceiveSize',
    '524288',
    { min: 1 },
    'Largest frame a SASL listener reads from a connection that has not authenticated yet; a bigger size ' +
      'prefix closes it, so that strangers cannot make the broker buffer socket.request.max.bytes.',
  ),
  pathDef(
    'ssl.keystore.location',
    'sslKeystoreLocation',
    "The broker's private key and certificate chain for SSL and SASL_SSL listeners: one PEM file holding " +
      'both (ssl.keystore.type=PEM), or a PKCS12 file. Read at start.',
  ),
  enumDef(
    'ssl.keystore.type',
    'sslKeystoreType',
    'PEM',
    ['PEM', 'PKCS12'],
    'Format of ssl.keystore.location. Java KeyStores (JKS) are not read: convert them with keytool to PKCS12.',
  ),
  passwordDef('ssl.keystore.password', 'sslKeystorePassword', 'Password of a PKCS12 keystore.'),
  passwordDef(
    'ssl.key.password',
    'sslKeyPassword',
    'Passphrase of an encrypted private key in a PEM keystore.',
  ),
  pathDef(
    'ssl.truststore.location',
    'sslTruststoreLocation',
    'PEM file of the CA certificates that client certificates must chain to (ssl.client.auth). Default: ' +
      "Node's bundled CAs.",
  ),
  enumDef(
    'ssl.client.auth',
    'sslClientAuth',
    'none',
    ['none', 'requested', 'required'],
    'Whether TLS clients must present a certificate: required refuses the handshake without a valid one; ' +
      'requested asks but accepts clients without one.',
  ),
  {
    kind: 'field',
    name: 'authorizer.class.name',
    field: 'authorizerEnabled',
    type: ConfigType.STRING,
    defaultText: '',
    valid: `empty (no authorizer) or ${STANDARD_AUTHORIZERS.join(', ')}`,
    doc:
      "Kafka's ACL authorizer. Empty: every client may do everything and the ACL APIs answer " +
      "SECURITY_DISABLED. Either of Kafka's standard class names enforces the ACLs kept in the metadata store.",
    parse: (text) => {
      const trimmed = text.trim();
      if (trimmed === '') return false;
      if (!STANDARD_AUTHORIZERS.includes(trimmed)) {
        throw new InvalidValueError(`empty or one of ${STANDARD_AUTHORIZERS.join(', ')}`);
      }
      return true;
    },
    format: (enabled) => (enabled ? STANDARD_AUTHORIZERS[0]! : ''),
  },
  {
    kind: 'field',
    name: 'super.users',
    field: 'superUsers',
    type: ConfigType.LIST,
    defaultText: '',
    valid: 'principals separated by semicolons, e.g. User:admin;User:ops',
    doc: 'Principals the authorizer allows everything, whatever the ACLs say.',
    parse: (text) => {
      const principals = text
        .split(';')
        .map((principal) => principal.trim())
        .filter((principal) => principal !== '');
      for (const principal of principals) {
        if (principal.indexOf(':') <= 0)
          throw new InvalidValueError(`TYPE:NAME principals, not ${principal}`);
      }
      return principals;
    },
    format: (principals) => principals.join(';'),
  },
  {
    kind: 'field',
    name: 'allow.everyone.if.no.acl.found',
    field: 'allowEveryoneIfNoAclFound',
    type: ConfigType.BOOLEAN,
    defaultText: 'false',
    valid: 'true, false',
    doc: 'With the authorizer on: allow access to a resource that no ACL mentions (default: deny it).',
    parse: parseBoolean,
    format: String,
  },
  intDef('node.id', 'nodeId', '0', { min: 0 }, 'Id of this broker. The data directory records it.'),
  {
    kind: 'field',
    name: 'log.dirs',
    field: 'dataDir',
    type: ConfigType.STRING,
    defaultText: './data',
    valid: 'a directory path (one)',
    doc: 'Directory holding partition logs and the metadata store.',
    parse: (text) => {
      const trimmed = text.trim();
      if (trimmed === '') throw new InvalidValueError('a directory path');
      if (trimmed.includes(','))
        throw new InvalidValueError('one directory path; Sluice uses a single log dir');
      return trimmed;
    },
    format: (value) => value,
  },
  {
    kind: 'field',
    name: 'auto.create.topics.enable',
    field: 'autoCreateTopicsEnable',
    type: ConfigType.BOOLEAN,
    defaultText: 'true',
    valid: 'true, false',
    doc: 'Create a topic when a client asks Metadata for one that does not exist.',
    parse: parseBoolean,
    format: String,
  },
  intDef('num.partitions', 'numPartitions', '1', { min: 1 }, 'Partition count of auto-created topics.'),
  intDef(
    'default.replication.factor',
    'defaultReplicationFactor',
    '1',
    { min: 1, max: 32767 },
    'Replication factor of auto-created topics.',
  ),
  intDef(
    'log.segment.bytes',
    'logSegmentBytes',
    '1073741824',
    { min: 14 },
    'Maximum size of one log segment.',
  ),
  longDef('log.roll.ms', 'logRollMs', '604800000', { min: 1 }, 'Roll a new segment after this long.'),
  unitSynonym(
    'log.roll.hours',
    'log.roll.ms',
    'logRollMs',
    HOUR_MS,
    '168',
    { min: 1 },
    'log.roll.ms in hours; used when log.roll.ms is not set.',
  ),
  intDef(
    'log.index.interval.bytes',
    'logIndexIntervalBytes',
    '4096',
    { min: 0 },
    'Bytes of records between two offset index entries.',
  ),
  longDef(
    'log.flush.interval.messages',
    'logFlushIntervalMessages',
    '9223372036854775807',
    { min: 1 },
    'fsync a partition after this many messages (the default leaves flushing to the OS).',
  ),
  longDef(
    'log.flush.interval.ms',
    'logFlushIntervalMs',
    null,
    { min: 0 },
    'fsync a partition when its oldest unflushed message is this old (unset: never by time).',
  ),
  longDef(
    'log.retention.ms',
    'logRetentionMs',
    '604800000',
    { min: -1 },
    'Delete segments older than this; -1 keeps them forever.',
  ),
  unitSynonym(
    'log.retention.minutes',
    'log.retention.ms',
    'logRetentionMs',
    MINUTE_MS,
    null,
    { min: -1 },
    'log.retention.ms in minutes; used when log.retention.ms is not set.',
  ),
  unitSynonym(
    'log.retention.hours',
    'log.retention.ms',
    'logRetentionMs',
    HOUR_MS,
    '168',
    { min: -1 },
    'log.retention.ms in hours; used when neither log.retention.ms nor log.retention.minutes is set.',
  ),
  longDef(
    'log.retention.bytes',
    'logRetentionBytes',
    '-1',
    {},
    'Delete oldest segments while a partition is larger than this; -1: no size limit.',
  ),
  longDef(
    'log.retention.check.interval.ms',
    'logRetentionCheckIntervalMs',
    '300000',
    { min: 1 },
    'How often retention is enforced.',
  ),
  longDef(
    'log.flush.offset.checkpoint.interval.ms',
    'logFlushOffsetCheckpointIntervalMs',
    '60000',
    { min: 1 },
    "How often each partition's recovery point (where recovery after a crash starts) is written; also at shutdown and flushes.",
  ),
  longDef(
    'producer.id.expiration.ms',
    'producerIdExpirationMs',
    '86400000',
    { min: 1 },
    "How long a partition keeps an idle idempotent producer's sequence state (checked with retention).",
  ),
  {
    kind: 'field',
    name: 'log.cleanup.policy',
    field: 'logCleanupPolicy',
    type: ConfigType.LIST,
    defaultText: 'delete',
    valid: 'delete, compact, compact,delete',
    doc: 'Default cleanup policy of topics.',
    parse: parseCleanupPolicy,
    format: String,
  },
  longDef(
    'log.segment.delete.delay.ms',
    'logSegmentDeleteDelayMs',
    '60000',
    { min: 0 },
    'Wait this long before deleting the files of a removed segment (lets in-flight reads finish).',
  ),
  intDef(
    'message.max.bytes',
    'messageMaxBytes',
    '1048588',
    { min: 0 },
    'Largest record batch the broker accepts (topic override: max.message.bytes).',
  ),
  enumDef(
    'compression.type',
    'compressionType',
    'producer',
    COMPRESSION_TYPES,
    'Compression of stored batches; producer keeps what the producer sent.',
    true,
  ),
  enumDef(
    'log.message.timestamp.type',
    'logMessageTimestampType',
    'CreateTime',
    TIMESTAMP_TYPES,
    'Timestamp stored in batches: the producer’s (CreateTime) or the broker’s append time (LogAppendTime).',
  ),
  intDef(
    'min.insync.replicas',
    'minInsyncReplicas',
    '1',
    { min: 1 },
    'Fewest in-sync replicas for an acks=all produce to succeed.',
  ),
  intDef(
    'socket.request.max.bytes',
    'socketRequestMaxBytes',
    '104857600',
    { min: 1 },
    'Largest request the broker reads; a bigger size prefix closes the connection.',
  ),
  longDef(
    'connections.max.idle.ms',
    'connectionsMaxIdleMs',
    '600000',
    { min: -1 },
    'Close connections idle for this long; -1 never.',
  ),
  intDef(
    'max.in.flight.requests.per.connection',
    'maxInFlightRequestsPerConnection',
    '100',
    { min: 1 },
    'Sluice-specific (broker side). Requests read from one connection and not yet answered; at the limit ' +
      'the broker stops reading that socket until responses go out (they keep their order).',
  ),
  longDef(
    'queued.max.request.bytes',
    'queuedMaxRequestBytes',
    // Kafka's default is -1. Sluice bounds it: a Produce frame stays in memory until its records are written,
    // and librdkafka pipelines up to max.in.flight.requests.per.connection per connection. 32 MiB is twice
    // what the ingest bench keeps in flight at full speed (4 connections x 4 requests x 1 MiB).
    '33554432',
    { min: -1 },
    'Bytes of requests read from all connections and not yet answered; at the limit no connection reads ' +
      'another request until answers bring it back under (one request may go past it). -1: no limit.',
  ),
  longDef(
    'queued.max.response.bytes',
    'queuedMaxResponseBytes',
    '67108864',
    { min: 1 },
    'Sluice-specific. Response bytes queued for one connection that the client has not read yet; above ' +
      'this the broker stops reading that socket until the backlog drains.',
  ),
  longDef(
    'fetch.memory.bytes',
    'fetchMemoryBytes',
    // 16 MiB: catch-up fetch measured the same ~1 GB/s as with 32 MiB, and peak RSS 20-30 MB lower.
    '16777216',
    { min: 1048576 },
    'Sluice-specific. Record bytes that all Fetch responses together may hold in memory until written to ' +
      'their sockets (Sluice reads records into memory; Kafka uses sendfile). Under pressure a fetch gets ' +
      'a smaller response instead of the broker growing. The broker also keeps this many bytes of free ' +
      'buffers for reuse, plus the 16 MiB its tail caches of recent records hold.',
  ),
  intDef(
    'offsets.topic.num.partitions',
    'offsetsTopicNumPartitions',
    '50',
    { min: 1 },
    'Partitions of __consumer_offsets (fixed once the topic exists).',
  ),
  intDef(
    'offsets.topic.replication.factor',
    'offsetsTopicReplicationFactor',
    '1',
    { min: 1, max: 32767 },
    'Replication factor of __consumer_offsets.',
    ConfigType.SHORT,
  ),
  intDef(
    'offsets.retention.minutes',
    'offsetsRetentionMinutes',
    '10080',
    { min: 1 },
    'Keep committed offsets of an empty group this long.',
  ),
  intDef(
    'group.min.session.timeout.ms',
    'groupMinSessionTimeoutMs',
    '6000',
    { min: 0 },
    'Smallest session timeout a consumer may ask for.',
  ),
  intDef(
    'group.max.session.timeout.ms',
    'groupMaxSessionTimeoutMs',
    '1800000',
    { min: 0 },
    'Largest session timeout a consumer may ask for.',
  ),
  intDef(
    'group.initial.rebalance.delay.ms',
    'groupInitialRebalanceDelayMs',
    '3000',
    { min: 0 },
    'Wait this long for more members before the first rebalance of an empty group.',
  ),
  intDef(
    'group.max.size',
    'groupMaxSize',
    '2147483647',
    { min: 1 },
    'Most members one consumer group may have.',
  ),
  intDef(
    'transaction.state.log.num.partitions',
    'transactionStateLogNumPartitions',
    '50',
    { min: 1 },
    'Partitions of __transaction_state (fixed once the topic exists).',
  ),
  intDef(
    'transaction.state.log.replication.factor',
    'transactionStateLogReplicationFactor',
    '1',
    { min: 1, max: 32767 },
    'Replication factor of __transaction_state.',
    ConfigType.SHORT,
  ),
  intDef(
    'transaction.max.timeout.ms',
    'transactionMaxTimeoutMs',
    '900000',
    { min: 1 },
    'Largest transaction timeout a producer may ask for; InitProducerId above it fails with ' +
      'INVALID_TRANSACTION_TIMEOUT.',
  ),
  intDef(
    'transactional.id.expiration.ms',
    'transactionalIdExpirationMs',
    '604800000',
    { min: 1 },
    'Forget a transactional id (and its producer id) after it has had no transaction for this long.',
  ),
  intDef(
    'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    'transactionAbortTimedOutTransactionCleanupIntervalMs',
    '10000',
    { min: 1 },
    'How often transactions open longer than their timeout are aborted (fencing their producer).',
  ),
  enumDef('log.level', 'logLevel', 'info', LOG_LEVELS, 'Sluice-specific. Broker log verbosity.'),
  {
    kind: 'field',
    name: 'cluster.id',
    field: 'clusterId',
    type: ConfigType.STRING,
    defaultText: null,
    valid: '1-64 characters of [A-Za-z0-9_-]',
    doc:
      'Cluster id reported to clients. Unset: generated on first start and kept in the data directory; ' +
      'a set value must match the one kept there.',
    parse: (text) => {
      const trimmed = text.trim();
      if (!CLUSTER_ID_PATTERN.test(trimmed)) throw new InvalidValueError('1-64 characters of [A-Za-z0-9_-]');
      return trimmed;
    },
    format: (value) => value,
  },
  longDef(
    'shutdown.timeout.ms',
    'shutdownTimeoutMs',
    '30000',
    { min: 1 },
    'Sluice-specific. Longest a graceful shutdown may take before the process exits with an error.',
  ),
];

const DEFS_BY_NAME = new Map<string, BrokerConfigDef>(BROKER_CONFIG_DEFS.map((def) => [def.name, def]));

/** Defs filling each field, most specific first (ms before minutes before hours). */
const DEFS_BY_FIELD = new Map<Field, BrokerConfigDef[]>();
for (const def of BROKER_CONFIG_DEFS) {
  const list = DEFS_BY_FIELD.get(def.field) ?? [];
  list.push(def);
  DEFS_BY_FIELD.set(def.field, list);
}
for (const list of DEFS_BY_FIELD.values()) list.sort((a, b) => unitOf(a) - unitOf(b));

function unitOf(def: BrokerConfigDef): number {
  return def.kind === 'unit-synonym' ? def.unitMs : 1;
}

export function getBrokerConfigDef(name: string): BrokerConfigDef | undefined {
  return DEFS_BY_NAME.get(name);
}

/**
 * The environment variable for a setting: `SLUICE_` + the name upper-cased with dots as underscores
 * (`log.segment.bytes` → `SLUICE_LOG_SEGMENT_BYTES`). No Kafka name contains an underscore, so the mapping
 * is one-to-one.
 */
export function envVarName(configName: string): string {
  return `SLUICE_${configName.toUpperCase().replace(/\./g, '_')}`;
}

const ENV_PREFIX = 'SLUICE_';
const DEF_NAMES_BY_ENV = new Map(BROKER_CONFIG_DEFS.map((def) => [envVarName(def.name), def.name]));

export interface LoadBrokerConfigOptions {
  /** Settings from the command line, by Kafka name (the CLI maps --listen and friends onto these). */
  flags?: Readonly<Record<string, string>>;
  /** Usually process.env. Empty values count as unset. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A parsed config file (see readConfigFile). */
  file?: ConfigFile;
  /** Receives non-fatal remarks (an unknown SLUICE_* variable, a wildcard listener advertised as 127.0.0.1). */
  warn?: (message: string) => void;
}

interface Layer {
  origin: ConfigOrigin;
  entries: Map<string, ExplicitSetting>;
}

/** Builds the typed configuration; throws ConfigError naming the key for anything it cannot accept. */
export function loadBrokerConfig(options: LoadBrokerConfigOptions = {}): BrokerConfig {
  const warn = options.warn ?? (() => {});
  const layers = [fileLayer(options.file), envLayer(options.env ?? {}, warn), flagLayer(options.flags ?? {})];

  const explicitSettings: Record<string, ExplicitSetting> = {};
  for (const layer of layers) {
    for (const [name, setting] of layer.entries) {
      // Every given value must be valid, even one a higher layer overrides.
      parseSetting(DEFS_BY_NAME.get(name)!, setting);
      explicitSettings[name] = setting;
    }
  }

  const values: Record<string, unknown> = {};
  for (const [field, defs] of DEFS_BY_FIELD) values[field] = resolveField(defs, layers);
  const { listenerEndpoints, advertisedListeners, saslUsers, ...rest } = values as unknown as SettingValues;
  const listeners = resolveListeners(
    listenerEndpoints,
    advertisedListeners,
    rest.listenerSecurityProtocolMap,
    explicitSettings,
    warn,
  );
  for (const listener of listeners) {
    const described = `listener ${listener.name} (${formatEndpoint(listener)}) is ${listener.securityProtocol}`;
    if (usesTls(listener.securityProtocol) && rest.sslKeystoreLocation === null) {
      throw new ConfigError(
        `${described}, but ssl.keystore.location is not set: a TLS listener needs the broker's key and ` +
          'certificate',
      );
    }
    if (usesSasl(listener.securityProtocol) && saslUsers === null) {
      throw new ConfigError(
        `${described}, but sasl.users is not set: nobody could log in. Set sasl.users=NAME:PASSWORD[,...]`,
      );
    }
  }

  const config: BrokerConfig = {
    ...rest,
    listeners,
    saslUsers: saslUsers ?? [],
    explicitSettings,
  };
  if (config.groupMinSessionTimeoutMs > config.groupMaxSessionTimeoutMs) {
    throw new ConfigError(
      `group.min.session.timeout.ms (${config.groupMinSessionTimeoutMs}) must not exceed ` +
        `group.max.session.timeout.ms (${config.groupMaxSessionTimeoutMs})`,
    );
  }
  return config;
}

/**
 * Combines the three listener settings: each listener's security protocol from the map, and its advertised
 * address from advertised.listeners or, when not named there, from its own address.
 */
function resolveListeners(
  endpoints: readonly ListenerEndpoint[],
  advertised: readonly AdvertisedEndpoint[] | null,
  protocolMap: Readonly<Record<string, SecurityProtocol>>,
  explicitSettings: Readonly<Record<string, ExplicitSetting>>,
  warn: (message: string) => void,
): BrokerListener[] {
  const whereOf = (name: string) => explicitSettings[name]?.location ?? 'default';
  const names = endpoints.map((endpoint) => endpoint.name).join(', ');
  const advertisedByName = new Map<string, AdvertisedEndpoint>();
  for (const entry of advertised ?? []) {
    const invalid = (reason: string) =>
      new ConfigError(
        `Invalid value "${formatEndpoint(entry)}" for advertised.listeners ` +
          `(${whereOf('advertised.listeners')}): ${reason}`,
      );
    if (isWildcardHost(entry.host)) {
      throw invalid('clients cannot connect to a wildcard address; give a host name or IP they can reach');
    }
    if (entry.port === 0) throw invalid('expected a port in [1, 65535]');
    if (entry.name === null && endpoints.length > 1) {
      throw invalid(
        `with several listeners (${names}) each advertised address needs its listener name (NAME://)`,
      );
    }
    const name = entry.name ?? endpoints[0]!.name;
    if (!endpoints.some((endpoint) => endpoint.name === name)) {
      throw invalid(`${name} is not a listener name; listeners defines ${names}`);
    }
    advertisedByName.set(name, entry);
  }
  return endpoints.map((endpoint) => {
    const securityProtocol = Object.hasOwn(protocolMap, endpoint.name)
      ? protocolMap[endpoint.name]
      : undefined;
    if (securityProtocol === undefined) {
      throw new ConfigError(
        `No security protocol for listener ${endpoint.name} of listeners (${whereOf('listeners')}): ` +
          `listener.security.protocol.map (${whereOf('listener.security.protocol.map')}) is ` +
          `${formatListenerSecurityProtocolMap(protocolMap)}; add ${endpoint.name}:PROTOCOL with PROTOCOL one ` +
          'of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL',
      );
    }
    const address =
      advertisedByName.get(endpoint.name) ?? advertiseListener(endpoint, endpoints.length, warn);
    return {
      name: endpoint.name,
      securityProtocol,
      host: endpoint.host,
      port: endpoint.port,
      advertisedHost: address.host,
      advertisedPort: address.port,
    };
  });
}

function advertiseListener(
  listener: ListenerEndpoint,
  listenerCount: number,
  warn: (message: string) => void,
): HostPort {
  if (!isWildcardHost(listener.host)) return { host: listener.host, port: listener.port };
  const which =
    listenerCount === 1 ? `listeners is ${formatHostPort(listener)}` : `listener ${formatEndpoint(listener)}`;
  warn(
    `${which}, which clients cannot connect to; advertising 127.0.0.1:${listener.port}. Set ` +
      'advertised.listeners to the address clients should use.',
  );
  return { host: '127.0.0.1', port: listener.port };
}

function fileLayer(file: ConfigFile | undefined): Layer {
  const entries = new Map<string, ExplicitSetting>();
  if (!file) return { origin: 'file', entries };
  for (const [name, text] of Object.entries(file.entries)) {
    const line = file.lines[name];
    const location =
      line === undefined ? `config file ${file.path}` : `config file ${file.path} line ${line}`;
    if (!DEFS_BY_NAME.has(name)) throw unknownKey(name, location);
    if (text !== null) entries.set(name, { text, origin: 'file', location });
  }
  return { origin: 'file', entries };
}

function envLayer(env: Readonly<Record<string, string | undefined>>, warn: (message: string) => void): Layer {
  const entries = new Map<string, ExplicitSetting>();
  for (const [variable, text] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || text === undefined || text === '') continue;
    const name = DEF_NAMES_BY_ENV.get(variable);
    if (name === undefined) {
      warn(`Ignoring environment variable ${variable}: it names no broker setting`);
      continue;
    }
    entries.set(name, { text, origin: 'env', location: `environment variable ${variable}` });
  }
  return { origin: 'env', entries };
}

function flagLayer(flags: Readonly<Record<string, string>>): Layer {
  const entries = new Map<string, ExplicitSetting>();
  for (const [name, text] of Object.entries(flags)) {
    const location = `command-line setting ${name}`;
    if (!DEFS_BY_NAME.has(name)) throw unknownKey(name, location);
    entries.set(name, { text, origin: 'flag', location });
  }
  return { origin: 'flag', entries };
}

function unknownKey(name: string, location: string): ConfigError {
  const suggestion = closestName(name);
  const hint = suggestion ? ` (did you mean ${suggestion}?)` : '';
  return new ConfigError(`Unknown broker setting "${name}" in ${location}${hint}`);
}

function closestName(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of DEFS_BY_NAME.keys()) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function parseSetting(def: BrokerConfigDef, setting: ExplicitSetting): unknown {
  try {
    return def.parse(setting.text);
  } catch (error) {
    if (error instanceof InvalidValueError) {
      // A password is never echoed, not even a malformed one.
      const shown = def.type === ConfigType.PASSWORD ? '' : ` "${setting.text}"`;
      throw new ConfigError(`Invalid value${shown} for ${def.name} (${setting.location}): ${error.message}`);
    }
    throw error;
  }
}

/**
 * The highest layer that sets any name of the field wins; within that layer the most specific unit wins
 * (log.retention.ms over log.retention.minutes over log.retention.hours, as in Kafka).
 */
function resolveField(defs: readonly BrokerConfigDef[], layers: readonly Layer[]): unknown {
  for (let index = layers.length - 1; index >= 0; index--) {
    for (const def of defs) {
      const setting = layers[index]!.entries.get(def.name);
      if (setting === undefined) continue;
      const value = parseSetting(def, setting);
      return def.kind === 'unit-synonym' ? toMs(value as number, def.unitMs) : value;
    }
  }
  const primary = defs[0]!;
  return primary.defaultText === null ? null : primary.parse(primary.defaultText);
}

function toMs(value: number, unitMs: number): number {
  if (value < 0) return value;
  return Math.min(value * unitMs, Number.MAX_SAFE_INTEGER);
}

/** One entry of a DescribeConfigs answer. */
export interface ConfigEntry {
  name: string;
  value: string | null;
  source: ConfigSource;
  readOnly: boolean;
  sensitive: boolean;
  type: ConfigType;
  documentation: string;
  /** The settings the value could come from, highest precedence first, including the entry itself. */
  synonyms: { name: string; value: string | null; source: ConfigSource }[];
}

/**
 * Broker configs as DescribeConfigs (resource type BROKER = 4) reports them. All are static (read-only): a
 * running Sluice broker does not change its own settings.
 */
export function brokerConfigEntries(config: BrokerConfig): ConfigEntry[] {
  return BROKER_CONFIG_DEFS.map((def) => {
    // As Kafka: a password's entry and synonyms say where it comes from, never what it is.
    const sensitive = def.type === ConfigType.PASSWORD;
    const synonyms = brokerSynonyms(config, def).map((synonym) =>
      sensitive ? { ...synonym, value: null } : synonym,
    );
    return {
      name: def.name,
      value: sensitive ? null : describedValue(config, def),
      source: synonyms[0]!.source,
      readOnly: true,
      sensitive,
      type: def.type,
      documentation: def.doc,
      synonyms,
    };
  });
}

function describedValue(config: BrokerConfig, def: BrokerConfigDef): string | null {
  if (def.kind === 'unit-synonym') return config.explicitSettings[def.name]?.text.trim() ?? def.defaultText;
  return formatFieldValue(def, settingValue(config, def.field));
}

function settingValue<F extends Field>(config: BrokerConfig, field: F): SettingValues[F] {
  if (field === 'listenerEndpoints') return listenerEndpointsOf(config) as SettingValues[F];
  if (field === 'advertisedListeners') return advertisedEndpointsOf(config) as SettingValues[F];
  return config[
    field as Exclude<F, 'listenerEndpoints' | 'advertisedListeners'>
  ] as unknown as SettingValues[F];
}

function listenerEndpointsOf(config: BrokerConfig): ListenerEndpoint[] {
  return config.listeners.map(({ name, host, port }) => ({ name, host, port }));
}

function advertisedEndpointsOf(config: BrokerConfig): ListenerEndpoint[] {
  return config.listeners.map(({ name, advertisedHost, advertisedPort }) => ({
    name,
    host: advertisedHost,
    port: advertisedPort,
  }));
}

function formatFieldValue<F extends Field>(def: FieldDef<F>, value: SettingValues[F]): string | null {
  return value === null ? null : def.format(value as NonNullable<SettingValues[F]>);
}

/**
 * Synonyms of a broker setting: the explicitly set names of its field in resolution order, then the built-in
 * default. A millisecond setting lists its minute/hour aliases; an alias lists only itself.
 */
export function brokerSynonyms(config: BrokerConfig, def: BrokerConfigDef): ConfigEntry['synonyms'] {
  const names =
    def.kind === 'unit-synonym' ? [def] : orderedByPrecedence(config, DEFS_BY_FIELD.get(def.field)!);
  const synonyms: ConfigEntry['synonyms'] = [];
  for (const member of names) {
    const setting = config.explicitSettings[member.name];
    if (setting) {
      synonyms.push({
        name: member.name,
        value: setting.text.trim(),
        source: ConfigSource.STATIC_BROKER_CONFIG,
      });
    }
  }
  // Kafka's default for advertised.listeners is the listeners themselves: show what that resolves to.
  const defaultValue =
    def.kind === 'field' && def.field === 'advertisedListeners'
      ? formatListenerList(advertisedEndpointsOf(config))
      : def.defaultText;
  synonyms.push({ name: def.name, value: defaultValue, source: ConfigSource.DEFAULT_CONFIG });
  return synonyms;
}

const ORIGIN_RANK: Record<ConfigOrigin, number> = { flag: 0, env: 1, file: 2 };

function orderedByPrecedence(config: BrokerConfig, defs: readonly BrokerConfigDef[]): BrokerConfigDef[] {
  const rank = (def: BrokerConfigDef) => {
    const setting = config.explicitSettings[def.name];
    return setting ? ORIGIN_RANK[setting.origin] : 3;
  };
  return [...defs].sort((a, b) => rank(a) - rank(b) || unitOf(a) - unitOf(b));
}

/** The README's configuration reference: one Markdown table row per setting. */
export function renderConfigReference(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = BROKER_CONFIG_DEFS.map((def) => {
    const typeName = Object.entries(ConfigType)
      .find(([, code]) => code === def.type)![0]
      .toLowerCase();
    const defaultText = def.defaultText === null ? '(unset)' : `\`${def.defaultText}\``;
    return `| \`${def.name}\` | ${typeName} | ${cell(defaultText)} | ${cell(def.valid)} | \`${envVarName(def.name)}\` | ${cell(def.doc)} |`;
  });
  return [
    '| Setting | Type | Default | Valid values | Environment variable | Description |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
