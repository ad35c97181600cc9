// Cluster metadata: records, the store contract, the embedded single-node store and placement helpers.

export { assignReplicas, newPartitionRecords } from './assign-replicas.js';
export {
  decodeSnapshot,
  EmbeddedMetadataStore,
  type EmbeddedMetadataStoreOptions,
  encodeSnapshot,
  META_PROPERTIES_FILE,
  METADATA_DIR,
  SNAPSHOT_FILE,
} from './embedded-store.js';
export * from './errors.js';
export {
  checkTopicName,
  hasCollisionChars,
  TOPIC_NAME_MAX_LENGTH,
  topicCollisionError,
  topicNamesCollide,
  unifyCollisionChars,
  validateTopicName,
} from './topic-name.js';
export type {
  AclRecord,
  BrokerEndpoint,
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
