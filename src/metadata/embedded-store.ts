// Single-node metadata store kept in the data directory:
//
//   <dataDir>/__metadata/meta.properties   node id and cluster id; written once, checked on every start
//   <dataDir>/__metadata/metadata.json     snapshot of topics, brokers and the next free producer id, replaced
//                                          atomically on each write
//
// The snapshot starts with one header line (format, version, body length, CRC-32C of the body) so that a torn
// or bit-flipped file is detected instead of being read as an empty cluster. Writes go through a bounded
// queue: each computes the next state from the current one, makes it durable, and only then makes it visible
// to reads and listeners. Writes queued while one is on disk are applied together and made durable with one
// snapshot write (group commit): a CreateTopics of hundreds of topics costs one fsync pair, not hundreds.

import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { validateTopicConfigs } from '../common/topic-config.js';
import { isUuid, randomUuid } from '../protocol/primitives/uuid.js';
import { crc32c } from '../protocol/records/crc.js';
import { syncDirectory, TEMP_MARKER, writeFileDurably } from './durable-file.js';
import {
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidReplicaAssignmentError,
  MetadataBusyError,
  MetadataCorruptError,
  MetadataIdentityError,
  MetadataUnavailableError,
  ProducerIdsExhaustedError,
  StaleEpochError,
  TopicExistsError,
  UnknownPartitionError,
  UnknownTopicError,
} from './errors.js';
import { checkTopicName, topicCollisionError, topicNamesCollide, unifyCollisionChars } from './topic-name.js';
import type {
  AclRecord,
  BrokerRecord,
  MetadataEvent,
  MetadataStore,
  NewTopic,
  PartitionRecord,
  ProducerIdBlock,
  ScramCredentialKey,
  ScramCredentialRecord,
  ScramMechanismName,
  TopicRecord,
} from './types.js';

export const METADATA_DIR = '__metadata';
export const SNAPSHOT_FILE = 'metadata.json';
export const META_PROPERTIES_FILE = 'meta.properties';
const SNAPSHOT_FORMAT = 'sluice-metadata';
const SNAPSHOT_VERSION = 1;
const META_VERSION = 1;
const INIT_DIR_PREFIX = `${METADATA_DIR}.init-`;
const DEFAULT_MAX_PENDING_WRITES = 1024;

export interface EmbeddedMetadataStoreOptions {
  /** This broker's id; the data directory must belong to it. Default 0. */
  nodeId?: number;
  /** Configured cluster.id: must match the stored one; null/undefined adopts (or first generates) it. */
  clusterId?: string | null;
  /** Receives listener failures. */
  logger?: Logger;
  /** Bound of the write queue. */
  maxPendingWrites?: number;
}

interface Snapshot {
  topics: TopicRecord[];
  brokers: BrokerRecord[];
  /** First producer id never handed out. Snapshots written before producer ids existed lack it: 0. */
  nextProducerId: number;
  /** Snapshots written before SCRAM credentials existed lack them: none. */
  scramCredentials: ScramCredentialRecord[];
  /** Snapshots written before ACLs existed lack them: none. */
  acls: AclRecord[];
}

/** Immutable view served to readers; each write builds a new one. */
class View {
  readonly topicsByName: ReadonlyMap<string, TopicRecord>;
  readonly topicsById: ReadonlyMap<string, TopicRecord>;
  /** Names with '.' mapped to '_', for the collision check. */
  readonly unifiedNames: ReadonlyMap<string, string>;
  readonly topicList: readonly TopicRecord[];
  readonly brokerList: readonly BrokerRecord[];

  readonly scramCredentials: readonly ScramCredentialRecord[];

  constructor(
    topics: readonly TopicRecord[],
    brokers: readonly BrokerRecord[],
    readonly nextProducerId: number,
    scramCredentials: readonly ScramCredentialRecord[],
    readonly acls: readonly AclRecord[],
  ) {
    this.scramCredentials = Object.freeze(
      [...scramCredentials].sort((a, b) =>
        a.user !== b.user ? (a.user < b.user ? -1 : 1) : a.mechanism < b.mechanism ? -1 : 1,
      ),
    );
    this.topicList = Object.freeze(
      [...topics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    );
    this.brokerList = Object.freeze([...brokers].sort((a, b) => a.nodeId - b.nodeId));
    this.topicsByName = new Map(this.topicList.map((topic) => [topic.name, topic]));
    this.topicsById = new Map(this.topicList.map((topic) => [topic.topicId, topic]));
    this.unifiedNames = new Map(this.topicList.map((topic) => [unifyCollisionChars(topic.name), topic.name]));
  }

  withTopic(topic: TopicRecord): View {
    return new View(
      [...this.topicList.filter((t) => t.name !== topic.name), topic],
      this.brokerList,
      this.nextProducerId,
      this.scramCredentials,
      this.acls,
    );
  }

  withoutTopic(name: string): View {
    return new View(
      this.topicList.filter((t) => t.name !== name),
      this.brokerList,
      this.nextProducerId,
      this.scramCredentials,
      this.acls,
    );
  }

  withBroker(broker: BrokerRecord): View {
    return new View(
      this.topicList,
      [...this.brokerList.filter((b) => b.nodeId !== broker.nodeId), broker],
      this.nextProducerId,
      this.scramCredentials,
      this.acls,
    );
  }

  withNextProducerId(nextProducerId: number): View {
    return new View(this.topicList, this.brokerList, nextProducerId, this.scramCredentials, this.acls);
  }

  withScramCredentials(scramCredentials: readonly ScramCredentialRecord[]): View {
    return new View(this.topicList, this.brokerList, this.nextProducerId, scramCredentials, this.acls);
  }

  withAcls(acls: readonly AclRecord[]): View {
    return new View(
      this.topicList,
      this.brokerList,
      this.nextProducerId,
      this.scramCredentials,
      Object.freeze(acls),
    );
  }

  snapshot(): Snapshot {
    return {
      topics: [...this.topicList],
      brokers: [...this.brokerList],
      nextProducerId: this.nextProducerId,
      scramCredentials: [...this.scramCredentials],
      acls: [...this.acls],
    };
  }
}

interface Change<T> {
  /** undefined: nothing changed, nothing to write. */
  view: View | undefined;
  result: T;
  events: MetadataEvent[];
}

interface QueuedWrite {
  change: (view: View) => Change<unknown>;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

export class EmbeddedMetadataStore implements MetadataStore {
  #view: View;
  /** Writes waiting for the next group; bounded by maxPendingWrites together with the group on disk. */
  #queue: QueuedWrite[] = [];
  #writingGroup = 0;
  /** The loop writing groups while the queue is not empty. */
  #draining: Promise<void> | null = null;
  #snapshotWrites = 0;
  #closed = false;
  /** First disk failure: after it the file may not match memory, so every later write is refused. */
  #failure: Error | undefined;
  readonly #listeners = new Set<(event: MetadataEvent) => void>();

  private constructor(
    private readonly dir: string,
    private readonly nodeId: number,
    private readonly storedClusterId: string,
    snapshot: Snapshot,
    private readonly logger: Logger | undefined,
    private readonly maxPendingWrites: number,
  ) {
    this.#view = new View(
      snapshot.topics.map(freezeTopic),
      snapshot.brokers.map(freezeBroker),
      snapshot.nextProducerId,
      snapshot.scramCredentials.map((credential) => Object.freeze({ ...credential })),
      Object.freeze(snapshot.acls.map((acl) => Object.freeze({ ...acl }))),
    );
  }

  /**
   * Opens the store under `<dataDir>/__metadata`, creating it (with a new cluster id unless one is configured)
   * on first use. Throws MetadataCorruptError if the files exist but cannot be trusted, and
   * MetadataIdentityError if they belong to another node id or cluster id.
   */
  static async open(
    dataDir: string,
    options: EmbeddedMetadataStoreOptions = {},
  ): Promise<EmbeddedMetadataStore> {
    const nodeId = options.nodeId ?? 0;
    const dir = join(dataDir, METADATA_DIR);
    await mkdir(dataDir, { recursive: true });
    await removeLeftovers(dataDir, (name) => name.startsWith(INIT_DIR_PREFIX));
    if (!(await exists(dir))) {
      await refuseOrphanedPartitionData(dataDir);
      await initialize(dataDir, nodeId, options.clusterId ?? randomUuid());
    }
    await removeLeftovers(dir, (name) => name.includes(TEMP_MARKER));

    const meta = await readMetaProperties(join(dir, META_PROPERTIES_FILE));
    if (meta.nodeId !== nodeId) {
      throw new MetadataIdentityError(
        `Data directory ${dataDir} belongs to node ${meta.nodeId}, but this broker is node.id ${nodeId}. ` +
          'Use that node id or another data directory.',
      );
    }
    if (options.clusterId != null && options.clusterId !== meta.clusterId) {
      throw new MetadataIdentityError(
        `Data directory ${dataDir} belongs to cluster ${meta.clusterId}, but cluster.id is set to ` +
          `${options.clusterId}. Remove the setting or use another data directory.`,
      );
    }
    const snapshot = await readSnapshot(join(dir, SNAPSHOT_FILE));
    return new EmbeddedMetadataStore(
      dir,
      nodeId,
      meta.clusterId,
      snapshot,
      options.logger,
      options.maxPendingWrites ?? DEFAULT_MAX_PENDING_WRITES,
    );
  }

  clusterId(): string {
    return this.storedClusterId;
  }

  controllerId(): number {
    return this.nodeId;
  }

  listTopics(): readonly TopicRecord[] {
    return this.#view.topicList;
  }

  getTopic(name: string): TopicRecord | undefined {
    return this.#view.topicsByName.get(name);
  }

  getTopicById(topicId: string): TopicRecord | undefined {
    return this.#view.topicsById.get(topicId);
  }

  listBrokers(): readonly BrokerRecord[] {
    return this.#view.brokerList;
  }

  createTopic(topic: NewTopic): Promise<TopicRecord> {
    return this.#write((view) => {
      checkTopicName(topic.name);
      if (view.topicsByName.has(topic.name)) throw new TopicExistsError(topic.name);
      const collidesWith = view.unifiedNames.get(unifyCollisionChars(topic.name));
      if (collidesWith !== undefined && topicNamesCollide(topic.name, collidesWith)) {
        throw topicCollisionError(topic.name, collidesWith);
      }
      checkPartitions(topic.name, topic.partitions, 0);
      checkConfigs(topic.configs);
      let topicId = randomUuid();
      while (view.topicsById.has(topicId)) topicId = randomUuid();
      const created = freezeTopic({
        name: topic.name,
        topicId,
        partitions: topic.partitions.map(copyPartition),
        configs: { ...topic.configs },
        createdAtMs: Date.now(),
        internal: topic.internal,
      });
      return {
        view: view.withTopic(created),
        result: created,
        events: [{ type: 'topic-created', topic: created }],
      };
    });
  }

  deleteTopic(name: string): Promise<TopicRecord> {
    return this.#write((view) => {
      const topic = requireTopic(view, name);
      return { view: view.withoutTopic(name), result: topic, events: [{ type: 'topic-deleted', topic }] };
    });
  }

  createPartitions(name: string, added: PartitionRecord[]): Promise<TopicRecord> {
    return this.#write((view) => {
      const topic = requireTopic(view, name);
      if (added.length === 0) {
        throw new InvalidPartitionsError(
          `Topic '${name}' already has ${topic.partitions.length} partitions.`,
        );
      }
      checkPartitions(name, added, topic.partitions.length);
      const copies = added.map(copyPartition);
      const updated = freezeTopic({ ...topic, partitions: [...topic.partitions, ...copies] });
      const addedFrozen = updated.partitions.slice(topic.partitions.length);
      return {
        view: view.withTopic(updated),
        result: updated,
        events: [{ type: 'partitions-created', topic: updated, added: addedFrozen }],
      };
    });
  }

  alterTopicConfigs(name: string, configs: Record<string, string>): Promise<TopicRecord> {
    return this.#write((view) => {
      const previous = requireTopic(view, name);
      checkConfigs(configs);
      const updated = freezeTopic({ ...previous, configs: { ...configs } });
      return {
        view: view.withTopic(updated),
        result: updated,
        events: [{ type: 'topic-configs-altered', topic: updated, previous }],
      };
    });
  }

  updatePartition(name: string, partition: PartitionRecord): Promise<void> {
    return this.#write((view) => {
      const topic = requireTopic(view, name);
      const previous = topic.partitions[partition.partition];
      if (!Number.isInteger(partition.partition) || previous === undefined) {
        throw new UnknownPartitionError(name, partition.partition);
      }
      checkPartition(name, partition, partition.partition);
      if (
        partition.leaderEpoch < previous.leaderEpoch ||
        partition.partitionEpoch < previous.partitionEpoch
      ) {
        throw new StaleEpochError(
          `Update of ${name}-${partition.partition} has leader epoch ${partition.leaderEpoch} and partition ` +
            `epoch ${partition.partitionEpoch}, older than the stored ${previous.leaderEpoch} and ` +
            `${previous.partitionEpoch}.`,
        );
      }
      const partitions = [...topic.partitions];
      partitions[partition.partition] = copyPartition(partition);
      const updated = freezeTopic({ ...topic, partitions });
      const stored = updated.partitions[partition.partition]!;
      return {
        view: view.withTopic(updated),
        result: undefined,
        events: [{ type: 'partition-updated', topic: updated, partition: stored, previous }],
      };
    });
  }

  registerBroker(broker: BrokerRecord): Promise<void> {
    checkBroker(broker);
    return this.#write((view) => {
      const existing = view.brokerList.find((b) => b.nodeId === broker.nodeId);
      // Every start registers again; an unchanged record needs no disk write and no event.
      if (existing && sameBroker(existing, broker)) return { view: undefined, result: undefined, events: [] };
      const stored = freezeBroker(copyBroker(broker));
      return {
        view: view.withBroker(stored),
        result: undefined,
        events: [{ type: 'broker-registered', broker: stored }],
      };
    });
  }

  allocateProducerIds(count: number): Promise<ProducerIdBlock> {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`bad producer id count ${count}`);
    return this.#write((view) => {
      const firstProducerId = view.nextProducerId;
      const lastProducerId = firstProducerId + count - 1;
      // Producer ids are int64 on the wire but numbers here: past 2^53 they would silently stop being
      // distinct, so the store refuses instead. At a million ids a second that is 285 years away.
      if (!Number.isSafeInteger(lastProducerId + 1)) throw new ProducerIdsExhaustedError(firstProducerId);
      // No event: producer ids change nothing a listener watches.
      return {
        view: view.withNextProducerId(lastProducerId + 1),
        result: { firstProducerId, lastProducerId },
        events: [],
      };
    });
  }

  listScramCredentials(): readonly ScramCredentialRecord[] {
    return this.#view.scramCredentials;
  }

  getScramCredential(user: string, mechanism: ScramMechanismName): ScramCredentialRecord | undefined {
    return this.#view.scramCredentials.find((c) => c.user === user && c.mechanism === mechanism);
  }

  alterScramCredentials(
    upserts: readonly ScramCredentialRecord[],
    deletions: readonly ScramCredentialKey[],
  ): Promise<void> {
    const changed = [...deletions, ...upserts];
    const stored = upserts.map((credential) => Object.freeze({ ...credential }));
    return this.#write((view) => {
      if (changed.length === 0) return { view: undefined, result: undefined, events: [] };
      const kept = view.scramCredentials.filter(
        (c) => !changed.some((key) => key.user === c.user && key.mechanism === c.mechanism),
      );
      // No event: credentials are read at each login, nothing subscribes to them.
      return { view: view.withScramCredentials([...kept, ...stored]), result: undefined, events: [] };
    });
  }

  listAcls(): readonly AclRecord[] {
    return this.#view.acls;
  }

  alterAcls(added: readonly AclRecord[], removed: readonly AclRecord[]): Promise<void> {
    const adding = added.map((acl) => Object.freeze({ ...acl }));
    return this.#write((view) => {
      const kept = view.acls.filter((acl) => !removed.some((gone) => sameAcl(gone, acl)));
      for (const acl of adding) if (!kept.some((existing) => sameAcl(existing, acl))) kept.push(acl);
      if (kept.length === view.acls.length && kept.every((acl, i) => acl === view.acls[i])) {
        return { view: undefined, result: undefined, events: [] };
      }
      // No event: the authorizer reads the list at each check.
      return { view: view.withAcls(kept), result: undefined, events: [] };
    });
  }

  /** Snapshot files written since open: one per group of writes that changed something. */
  get snapshotWrites(): number {
    return this.#snapshotWrites;
  }

  onChange(listener: (event: MetadataEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#draining;
  }

  /** Queues a write; `change` runs when the write's turn comes, on the view every earlier write left. */
  #write<T>(change: (view: View) => Change<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new MetadataUnavailableError('The metadata store is closed.'));
    if (this.#queue.length + this.#writingGroup >= this.maxPendingWrites) {
      return Promise.reject(new MetadataBusyError(this.maxPendingWrites));
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ change, resolve: resolve as (result: unknown) => void, reject });
      this.#draining ??= this.#drain();
    });
  }

  /**
   * Applies every queued change in order on a working view (a change that throws fails alone), makes the
   * result durable with one snapshot write, then publishes it: the view, the events in order, the results.
   */
  async #drain(): Promise<void> {
    // Writes queued in the same turn (a loop over a request's topics) join the first group. Also, #draining
    // is assigned before this loop can end and clear it.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      this.#writingGroup = group.length;
      let view = this.#view;
      const applied: { write: QueuedWrite; change: Change<unknown> }[] = [];
      for (const write of group) {
        if (this.#failure) {
          write.reject(
            new MetadataUnavailableError('An earlier metadata write failed; restart the broker.', {
              cause: this.#failure,
            }),
          );
          continue;
        }
        try {
          const change = write.change(view);
          if (change.view !== undefined) view = change.view;
          applied.push({ write, change });
        } catch (error) {
          write.reject(error);
        }
      }
      if (view !== this.#view) {
        try {
          this.#snapshotWrites++;
          await writeFileDurably(this.dir, SNAPSHOT_FILE, encodeSnapshot(view.snapshot()));
        } catch (error) {
          this.#failure = error as Error;
          const failure = new MetadataUnavailableError(`Writing ${join(this.dir, SNAPSHOT_FILE)} failed.`, {
            cause: error,
          });
          for (const { write } of applied) write.reject(failure);
          continue;
        }
        this.#view = view;
      }
      for (const { change } of applied) for (const event of change.events) this.#emit(event);
      for (const { write, change } of applied) write.resolve(change.result);
    }
    this.#writingGroup = 0;
    this.#draining = null;
  }

  #emit(event: MetadataEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A broken listener must not undo a durable write or starve the other listeners.
        if (this.logger)
          this.logger.error({ err: error, event: event.type }, 'metadata change listener failed');
        else process.emitWarning(`metadata change listener failed: ${String(error)}`);
      }
    }
  }
}

function requireTopic(view: View, name: string): TopicRecord {
  const topic = view.topicsByName.get(name);
  if (!topic) throw new UnknownTopicError(name);
  return topic;
}

function checkConfigs(configs: Record<string, string>): void {
  for (const value of Object.values(configs)) {
    if (typeof value !== 'string') throw new InvalidConfigError('Topic config values must be strings.');
  }
  const validation = validateTopicConfigs(configs);
  if (!validation.ok) throw new InvalidConfigError(validation.message);
}

function checkPartitions(
  topic: string,
  partitions: readonly PartitionRecord[],
  firstPartition: number,
): void {
  if (firstPartition === 0 && partitions.length === 0) {
    throw new InvalidPartitionsError(`Topic '${topic}' needs at least one partition.`);
  }
  partitions.forEach((partition, index) => {
    if (partition.partition !== firstPartition + index) {
      throw new InvalidPartitionsError(
        `Partitions of '${topic}' must be numbered consecutively from ${firstPartition}; found ` +
          `${partition.partition} at position ${index}.`,
      );
    }
    checkPartition(topic, partition, firstPartition + index);
  });
}

function checkPartition(topic: string, partition: PartitionRecord, number: number): void {
  const where = `${topic}-${number}`;
  const isBrokerId = (id: number) => Number.isInteger(id) && id >= 0;
  if (!Array.isArray(partition.replicas) || partition.replicas.length === 0) {
    throw new InvalidReplicaAssignmentError(`Partition ${where} has no replicas.`);
  }
  if (
    !partition.replicas.every(isBrokerId) ||
    new Set(partition.replicas).size !== partition.replicas.length
  ) {
    throw new InvalidReplicaAssignmentError(`Replicas of ${where} must be distinct broker ids.`);
  }
  if (partition.leader !== -1 && !partition.replicas.includes(partition.leader)) {
    throw new InvalidReplicaAssignmentError(
      `Leader ${partition.leader} of ${where} is not one of its replicas.`,
    );
  }
  if (
    !Array.isArray(partition.isr) ||
    !partition.isr.every((id) => partition.replicas.includes(id)) ||
    new Set(partition.isr).size !== partition.isr.length
  ) {
    throw new InvalidReplicaAssignmentError(`ISR of ${where} must be distinct replicas of the partition.`);
  }
  for (const [label, epoch] of [
    ['leader epoch', partition.leaderEpoch],
    ['partition epoch', partition.partitionEpoch],
  ] as const) {
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new InvalidPartitionsError(`The ${label} of ${where} must be a non-negative integer.`);
    }
  }
}

function checkBroker(broker: BrokerRecord): void {
  if (!Number.isInteger(broker.nodeId) || broker.nodeId < 0)
    throw new RangeError(`bad node id ${broker.nodeId}`);
  checkAddress(broker);
  const listeners = new Set<string>();
  for (const endpoint of broker.endpoints ?? []) {
    if (
      typeof endpoint.listener !== 'string' ||
      endpoint.listener === '' ||
      listeners.has(endpoint.listener)
    ) {
      throw new RangeError(`bad or repeated listener name ${JSON.stringify(endpoint.listener)}`);
    }
    listeners.add(endpoint.listener);
    checkAddress(endpoint);
  }
}

function checkAddress(address: { host: string; port: number }): void {
  if (typeof address.host !== 'string' || address.host === '')
    throw new RangeError('broker host must be set');
  if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) {
    throw new RangeError(`bad broker port ${address.port}`);
  }
}

function sameBroker(a: BrokerRecord, b: BrokerRecord): boolean {
  const endpointsA = a.endpoints ?? [];
  const endpointsB = b.endpoints ?? [];
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.rack === b.rack &&
    endpointsA.length === endpointsB.length &&
    endpointsA.every((endpoint, index) => {
      const other = endpointsB[index]!;
      return (
        endpoint.listener === other.listener && endpoint.host === other.host && endpoint.port === other.port
      );
    })
  );
}

function copyBroker(broker: BrokerRecord): BrokerRecord {
  const { nodeId, host, port, rack, endpoints } = broker;
  const copy: BrokerRecord = { nodeId, host, port, rack };
  if (endpoints !== undefined) {
    copy.endpoints = endpoints.map(({ listener, host, port }) => ({ listener, host, port }));
  }
  return copy;
}

function copyPartition(partition: PartitionRecord): PartitionRecord {
  return {
    partition: partition.partition,
    replicas: [...partition.replicas],
    leader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    isr: [...partition.isr],
    partitionEpoch: partition.partitionEpoch,
  };
}

/** Records handed to readers are frozen so that no caller can change the store's state behind its back. */
function freezeTopic(topic: TopicRecord): TopicRecord {
  for (const partition of topic.partitions) {
    Object.freeze(partition.replicas);
    Object.freeze(partition.isr);
    Object.freeze(partition);
  }
  Object.freeze(topic.partitions);
  Object.freeze(topic.configs);
  return Object.freeze(topic);
}

function freezeBroker(broker: BrokerRecord): BrokerRecord {
  if (broker.endpoints !== undefined) {
    for (const endpoint of broker.endpoints) Object.freeze(endpoint);
    Object.freeze(broker.endpoints);
  }
  return Object.freeze(broker);
}

// ---- files ----

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function removeLeftovers(dir: string, isLeftover: (name: string) => boolean): Promise<void> {
  for (const name of await readdir(dir)) {
    if (isLeftover(name)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Partition directories (`<topic>-<n>`) without a metadata store mean the metadata was lost; starting with
 * empty metadata would orphan (and could later delete) that data.
 */
async function refuseOrphanedPartitionData(dataDir: string): Promise<void> {
  const entries = await readdir(dataDir, { withFileTypes: true });
  const partitionDir = entries.find(
    (entry) => entry.isDirectory() && /^[a-zA-Z0-9._-]+-\d+$/.test(entry.name),
  );
  if (partitionDir) {
    throw new MetadataCorruptError(
      `Data directory ${dataDir} holds partition data (${partitionDir.name}) but no ${METADATA_DIR} directory; ` +
        'refusing to start with empty metadata over it. Restore __metadata or use another data directory.',
    );
  }
}

/** Builds both files in a scratch directory and renames it into place, so a crash leaves all or nothing. */
async function initialize(dataDir: string, nodeId: number, clusterId: string): Promise<void> {
  const scratch = join(dataDir, `${INIT_DIR_PREFIX}${process.pid}-${Date.now()}`);
  await mkdir(scratch);
  await writeFileDurably(scratch, META_PROPERTIES_FILE, encodeMetaProperties(nodeId, clusterId));
  await writeFileDurably(
    scratch,
    SNAPSHOT_FILE,
    encodeSnapshot({ topics: [], brokers: [], nextProducerId: 0, scramCredentials: [], acls: [] }),
  );
  await rename(scratch, join(dataDir, METADATA_DIR));
  await syncDirectory(dataDir);
}

function encodeMetaProperties(nodeId: number, clusterId: string): string {
  return [
    '# Identity of this Sluice data directory; checked on every start. Do not edit.',
    `version=${META_VERSION}`,
    `node.id=${nodeId}`,
    `cluster.id=${clusterId}`,
    '',
  ].join('\n');
}

async function readMetaProperties(path: string): Promise<{ nodeId: number; clusterId: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new MetadataCorruptError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const equals = trimmed.indexOf('=');
    if (equals > 0) values.set(trimmed.slice(0, equals).trim(), trimmed.slice(equals + 1).trim());
  }
  const version = values.get('version');
  const nodeIdText = values.get('node.id');
  const clusterId = values.get('cluster.id');
  if (version !== String(META_VERSION) || !nodeIdText || !/^\d+$/.test(nodeIdText) || !clusterId) {
    throw new MetadataCorruptError(
      `${path} is damaged or from an unknown version (expected version=${META_VERSION}, node.id and cluster.id).`,
    );
  }
  return { nodeId: Number(nodeIdText), clusterId };
}

/** Header line `{"format","version","bodyBytes","crc32c"}` then the JSON body. */
export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const body = Buffer.from(JSON.stringify(snapshot), 'utf8');
  const header = JSON.stringify({
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    bodyBytes: body.length,
    crc32c: crc32c(body),
  });
  return Buffer.concat([Buffer.from(`${header}\n`, 'utf8'), body]);
}

async function readSnapshot(path: string): Promise<Snapshot> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw new MetadataCorruptError(
      `Cannot read the metadata snapshot ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); ` +
        'refusing to start with empty metadata over an existing data directory.',
      { cause: error },
    );
  }
  return decodeSnapshot(path, data);
}

export function decodeSnapshot(path: string, data: Buffer): Snapshot {
  const corrupt = (reason: string) =>
    new MetadataCorruptError(
      `Metadata snapshot ${path} is corrupt: ${reason}. Refusing to start; restore the file from a backup ` +
        'or move the data directory aside.',
    );
  const newline = data.indexOf(0x0a);
  if (newline < 0) throw corrupt('no header line');
  let header: { format?: unknown; version?: unknown; bodyBytes?: unknown; crc32c?: unknown };
  try {
    header = JSON.parse(data.subarray(0, newline).toString('utf8'));
  } catch {
    throw corrupt('unreadable header');
  }
  if (header.format !== SNAPSHOT_FORMAT) throw corrupt('not a Sluice metadata file');
  if (header.version !== SNAPSHOT_VERSION) throw corrupt(`unsupported version ${String(header.version)}`);
  const body = data.subarray(newline + 1);
  if (body.length !== header.bodyBytes) {
    throw corrupt(`body is ${body.length} bytes, header says ${String(header.bodyBytes)}`);
  }
  if (crc32c(body) !== header.crc32c) throw corrupt('checksum mismatch');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw corrupt('body is not JSON');
  }
  const problem = describeSnapshotProblem(parsed);
  if (problem) throw corrupt(problem);
  const snapshot = parsed as Omit<Snapshot, 'nextProducerId' | 'scramCredentials' | 'acls'> &
    Partial<Pick<Snapshot, 'nextProducerId' | 'scramCredentials' | 'acls'>>;
  return {
    ...snapshot,
    nextProducerId: snapshot.nextProducerId ?? 0,
    scramCredentials: snapshot.scramCredentials ?? [],
    acls: snapshot.acls ?? [],
  };
}

/** Shape check of a decoded snapshot; returns what is wrong, or undefined. */
function describeSnapshotProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'body is not an object';
  const { topics, brokers, nextProducerId, scramCredentials, acls } = value as {
    topics?: unknown;
    brokers?: unknown;
    nextProducerId?: unknown;
    scramCredentials?: unknown;
    acls?: unknown;
  };
  if (!Array.isArray(topics) || !Array.isArray(brokers)) return 'missing topics or brokers';
  // A damaged counter could hand out ids already in use, so it must be exact, not just present.
  if (
    nextProducerId !== undefined &&
    !(Number.isSafeInteger(nextProducerId) && (nextProducerId as number) >= 0)
  ) {
    return `next producer id ${JSON.stringify(nextProducerId)} is not a non-negative safe integer`;
  }
  const isInt = (n: unknown) => Number.isInteger(n);
  const isIntArray = (a: unknown) => Array.isArray(a) && a.every(isInt);
  for (const topic of topics as Partial<TopicRecord>[]) {
    const ok =
      typeof topic.name === 'string' &&
      typeof topic.topicId === 'string' &&
      isUuid(topic.topicId) &&
      isInt(topic.createdAtMs) &&
      typeof topic.internal === 'boolean' &&
      typeof topic.configs === 'object' &&
      topic.configs !== null &&
      Array.isArray(topic.partitions) &&
      topic.partitions.every(
        (p, index) =>
          p.partition === index &&
          isIntArray(p.replicas) &&
          isIntArray(p.isr) &&
          isInt(p.leader) &&
          isInt(p.leaderEpoch) &&
          isInt(p.partitionEpoch),
      );
    if (!ok) return `topic entry ${JSON.stringify(topic.name ?? null)} is malformed`;
  }
  for (const broker of brokers as Partial<BrokerRecord>[]) {
    const ok =
      isInt(broker.nodeId) &&
      typeof broker.host === 'string' &&
      isInt(broker.port) &&
      (broker.rack === null || typeof broker.rack === 'string') &&
      (broker.endpoints === undefined ||
        (Array.isArray(broker.endpoints) &&
          broker.endpoints.every(
            (endpoint) =>
              typeof endpoint.listener === 'string' &&
              typeof endpoint.host === 'string' &&
              isInt(endpoint.port),
          )));
    if (!ok) return 'broker entry is malformed';
  }
  if (scramCredentials !== undefined) {
    if (!Array.isArray(scramCredentials)) return 'SCRAM credentials are not a list';
    for (const credential of scramCredentials as Partial<ScramCredentialRecord>[]) {
      const ok =
        typeof credential.user === 'string' &&
        (credential.mechanism === 'SCRAM-SHA-256' || credential.mechanism === 'SCRAM-SHA-512') &&
        isInt(credential.iterations) &&
        typeof credential.salt === 'string' &&
        typeof credential.storedKey === 'string' &&
        typeof credential.serverKey === 'string';
      if (!ok) return `SCRAM credential of ${JSON.stringify(credential.user ?? null)} is malformed`;
    }
  }
  if (acls !== undefined) {
    if (!Array.isArray(acls)) return 'ACLs are not a list';
    for (const acl of acls as Partial<AclRecord>[]) {
      const ok =
        isInt(acl.resourceType) &&
        typeof acl.resourceName === 'string' &&
        isInt(acl.patternType) &&
        typeof acl.principal === 'string' &&
        typeof acl.host === 'string' &&
        isInt(acl.operation) &&
        isInt(acl.permission);
      if (!ok) return `ACL ${JSON.stringify(acl)} is malformed`;
    }
  }
  return undefined;
}

function sameAcl(a: AclRecord, b: AclRecord): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permission === b.permission
  );
}
