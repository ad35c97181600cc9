// The broker's API table: every API it serves and the versions it advertises.
import type { RegisteredHandler } from '../context.js';
import { createAclsHandler, deleteAclsHandler, describeAclsHandler } from './acls.js';
import { apiVersionsHandler } from './api-versions.js';
import { alterConfigsHandler, describeConfigsHandler, incrementalAlterConfigsHandler } from './configs.js';
import { deleteRecordsHandler } from './delete-records.js';
import { describeClusterHandler } from './describe-cluster.js';
import { describeProducersHandler } from './describe-producers.js';
import { fetchHandler } from './fetch.js';
import { findCoordinatorHandler } from './find-coordinator.js';
import {
  deleteGroupsHandler,
  describeGroupsHandler,
  heartbeatHandler,
  joinGroupHandler,
  leaveGroupHandler,
  listGroupsHandler,
  syncGroupHandler,
} from './groups.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { listOffsetsHandler } from './list-offsets.js';
import { describeLogDirsHandler } from './log-dirs.js';
import { metadataHandler } from './metadata.js';
import { offsetCommitHandler, offsetDeleteHandler, offsetFetchHandler } from './offsets.js';
import { produceHandler } from './produce.js';
import { saslAuthenticateHandler, saslHandshakeHandler } from './sasl.js';
import {
  alterUserScramCredentialsHandler,
  describeUserScramCredentialsHandler,
} from './scram-credentials.js';
import { createPartitionsHandler, createTopicsHandler, deleteTopicsHandler } from './topics.js';
import {
  addOffsetsToTxnHandler,
  addPartitionsToTxnHandler,
  describeTransactionsHandler,
  endTxnHandler,
  listTransactionsHandler,
} from './transactions.js';
import { txnOffsetCommitHandler } from './txn-offset-commit.js';

export function brokerHandlers(): RegisteredHandler[] {
  const handlers: RegisteredHandler[] = [
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    metadataHandler,
    createTopicsHandler,
    deleteTopicsHandler,
    createPartitionsHandler,
    deleteRecordsHandler,
    describeConfigsHandler,
    alterConfigsHandler,
    incrementalAlterConfigsHandler,
    describeClusterHandler,
    describeLogDirsHandler,
    describeAclsHandler,
    createAclsHandler,
    deleteAclsHandler,
    findCoordinatorHandler,
    joinGroupHandler,
    syncGroupHandler,
    heartbeatHandler,
    leaveGroupHandler,
    listGroupsHandler,
    describeGroupsHandler,
    deleteGroupsHandler,
    offsetCommitHandler,
    offsetFetchHandler,
    offsetDeleteHandler,
    txnOffsetCommitHandler,
    initProducerIdHandler,
    addPartitionsToTxnHandler,
    addOffsetsToTxnHandler,
    endTxnHandler,
    listTransactionsHandler,
    describeTransactionsHandler,
    describeProducersHandler,
    saslHandshakeHandler,
    saslAuthenticateHandler,
    describeUserScramCredentialsHandler,
    alterUserScramCredentialsHandler,
  ];
  handlers.push(apiVersionsHandler(handlers));
  return handlers;
}
