// A transactional producer's side of Kafka's transactions (KIP-98): the producer id and epoch come from the
// transaction coordinator (InitProducerId with the transactional id, which fences older instances), every
// partition joins the ongoing transaction (AddPartitionsToTxn) before its first batch is sent, consumed offsets
// join it through AddOffsetsToTxn and TxnOffsetCommit, and EndTxn commits or aborts it all at once.
//
// States, as Java's TransactionManager: uninitialized → ready (initTransactions) → in-transaction
// (beginTransaction) → committing / aborting → ready. A batch or request that fails for good moves the
// transaction to abortable-error (only abortTransaction() is allowed, and it recovers); a fencing or
// authorization failure moves the producer to fatal-error (it can only be closed).
import { ErrorCode, errorInfo } from '../../protocol/errors.js';
import {
  AuthorizationError,
  ConnectionError,
  errorFromCode,
  KafkaClientError,
  ProducerFencedError,
  TransactionAbortedError,
  TransactionStateError,
  UnsupportedVersionError,
} from '../errors.js';
import type { ProducerIdentity, TransactionGate } from './sender.js';

export type TransactionState =
  | 'uninitialized'
  | 'ready'
  | 'in-transaction'
  | 'committing'
  | 'aborting'
  | 'abortable-error'
  | 'fatal-error';

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

/** An offset to commit with the transaction: the next record the group should read. */
export interface TransactionOffset extends TopicPartitionRef {
  offset: number;
  /** Default -1 (unknown). */
  leaderEpoch?: number;
  metadata?: string | null;
}

/**
 * The consumer group the offsets belong to. With a member id and generation (Consumer.groupMetadata()), the
 * group coordinator refuses offsets from a member that has been rebalanced away (KIP-447), so a zombie cannot
 * commit; a group id alone commits without that check.
 */
export interface ConsumerGroupMetadata {
  groupId: string;
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
}

/** The requests a transaction manager sends; the Producer implements them over its Cluster, tests fake them. */
export interface TransactionTarget {
  /** InitProducerId at the transaction coordinator; `current` asks for a new epoch of that producer (KIP-360). */
  initProducerId(
    transactionalId: string,
    transactionTimeoutMs: number,
    current: ProducerIdentity | null,
  ): Promise<{ errorCode: number; identity: ProducerIdentity }>;
  /** AddPartitionsToTxn: one error code per partition asked for. */
  addPartitions(
    transactionalId: string,
    identity: ProducerIdentity,
    partitions: readonly TopicPartitionRef[],
  ): Promise<number[]>;
  addOffsets(transactionalId: string, identity: ProducerIdentity, groupId: string): Promise<number>;
  /** TxnOffsetCommit at the group's coordinator: one error code per offset. */
  commitOffsets(
    transactionalId: string,
    identity: ProducerIdentity,
    group: ConsumerGroupMetadata,
    offsets: readonly TransactionOffset[],
  ): Promise<number[]>;
  endTransaction(transactionalId: string, identity: ProducerIdentity, commit: boolean): Promise<number>;
  /** Forgets a coordinator after NOT_COORDINATOR-like answers or a lost connection. */
  invalidateCoordinator(kind: 'transaction' | 'group', key: string): void;
}

/** What the transaction manager drives in the producer's engine. */
export interface TransactionalEngine {
  useIdentity(identity: ProducerIdentity): void;
  readonly needsNewIdentity: boolean;
  wake(): void;
  failUnsent(error: KafkaClientError): void;
  abortUnsent(error: KafkaClientError): Promise<void>;
  flush(): Promise<void>;
}

export interface TransactionOptions {
  transactionalId: string;
  transactionTimeoutMs: number;
  /** Bound on each coordinator operation, retries included (maxBlockMs). */
  operationTimeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** Java's producer retries CONCURRENT_TRANSACTIONS this quickly: the previous transaction is completing. */
const CONCURRENT_TRANSACTIONS_BACKOFF_MS = 20;

export class TransactionManager implements TransactionGate {
  private stateValue: TransactionState = 'uninitialized';
  private identity: ProducerIdentity | null = null;
  /** Why the transaction (abortable-error) or the producer (fatal-error) cannot go on. */
  private error: KafkaClientError | null = null;
  /** Partitions in the ongoing transaction, by partitionKey. */
  private readonly added = new Set<string>();
  /** Partitions with batches waiting for AddPartitionsToTxn. */
  private readonly toAdd = new Map<string, TopicPartitionRef>();
  private adding: Promise<void> | null = null;
  /** Something joined the transaction at the coordinator: EndTxn must be sent to finish it. */
  private started = false;
  /** A coordinator operation (init, offsets, end) in progress: they run one at a time. */
  private busy = false;

  constructor(
    private readonly options: TransactionOptions,
    private readonly engine: TransactionalEngine,
    private readonly target: TransactionTarget,
  ) {}

  get state(): TransactionState {
    return this.stateValue;
  }

  /** Why send() may not run now, or null: records are accepted only inside a transaction. */
  sendRefusal(): KafkaClientError | null {
    const state = this.stateValue;
    if (state === 'in-transaction') return null;
    if ((state === 'abortable-error' || state === 'fatal-error') && this.error !== null) return this.error;
    return new TransactionStateError(
      `send() needs an ongoing transaction (call beginTransaction() first); the producer is ${state}`,
    );
  }

  // ----------------------------------------------------------------------------------- the sender's gate

  admit(topic: string, partition: number): boolean {
    const state = this.stateValue;
    if (state !== 'in-transaction' && state !== 'committing') return false;
    const key = partitionKey(topic, partition);
    if (this.added.has(key)) return true;
    if (!this.toAdd.has(key)) {
      this.toAdd.set(key, { topic, partition });
      // Started after the sender's drain, so that every partition it found waiting goes in one request.
      this.adding ??= Promise.resolve()
        .then(() => this.addPartitions())
        .finally(() => {
          this.adding = null;
        });
    }
    return false;
  }

  batchFailed(error: KafkaClientError): void {
    const state = this.stateValue;
    if (state !== 'in-transaction' && state !== 'committing') return;
    // Outside the sender's own loop: failing the other batches re-enters it.
    queueMicrotask(() => this.failTransaction(error));
  }

  // ------------------------------------------------------------------------------------ the public API

  async initTransactions(): Promise<void> {
    this.requireState('initTransactions()', ['uninitialized']);
    await this.exclusive(async () => {
      this.identity = await this.requestIdentity(null);
      this.engine.useIdentity(this.identity);
      this.stateValue = 'ready';
    });
  }

  beginTransaction(): void {
    this.requireState('beginTransaction()', ['ready']);
    this.stateValue = 'in-transaction';
  }

  async sendOffsets(offsets: readonly TransactionOffset[], group: ConsumerGroupMetadata): Promise<void> {
    this.requireState('sendOffsetsToTransaction()', ['in-transaction']);
    if (offsets.length === 0) return;
    await this.exclusive(async () => {
      const identity = this.identity!;
      const { transactionalId } = this.options;
      try {
        await this.retrying('AddOffsetsToTxn', 'transaction', transactionalId, async () =>
          this.target.addOffsets(transactionalId, identity, group.groupId),
        );
        this.started = true;
        await this.retrying('TxnOffsetCommit', 'group', group.groupId, async () =>
          firstError(await this.target.commitOffsets(transactionalId, identity, group, offsets)),
        );
      } catch (error) {
        throw this.failTransaction(asClientError(error));
      }
    });
  }

  async commitTransaction(): Promise<void> {
    this.requireState('commitTransaction()', ['in-transaction']);
    this.stateValue = 'committing';
    await this.engine.flush();
    await this.adding;
    // A batch that failed during the flush has already moved the transaction to an error state.
    if (this.stateValue !== 'committing') throw this.error!;
    await this.exclusive(async () => {
      try {
        if (this.started) await this.end(true);
      } catch (error) {
        throw this.failTransaction(asClientError(error));
      }
      this.finishTransaction();
    });
  }

  async abortTransaction(): Promise<void> {
    this.requireState('abortTransaction()', ['in-transaction', 'abortable-error']);
    this.stateValue = 'aborting';
    await this.engine.abortUnsent(new TransactionAbortedError());
    await this.adding;
    await this.exclusive(async () => {
      try {
        if (this.started) await this.end(false);
        // A batch failed after taking its sequence: the broker's sequences and ours differ, so a new epoch
        // (KIP-360) starts every partition at 0 again.
        if (this.engine.needsNewIdentity) {
          this.identity = await this.requestIdentity(this.identity);
          this.engine.useIdentity(this.identity);
        }
      } catch (error) {
        const failure = asClientError(error);
        if (isFatal(failure)) throw this.fatal(failure);
        // The abort can be tried again.
        this.stateValue = 'abortable-error';
        this.error = failure;
        throw failure;
      }
      this.finishTransaction();
    });
  }

  // ------------------------------------------------------------------------------------------ internals

  private finishTransaction(): void {
    this.added.clear();
    this.toAdd.clear();
    this.started = false;
    this.error = null;
    this.stateValue = 'ready';
  }

  private requireState(operation: string, allowed: readonly TransactionState[]): void {
    const state = this.stateValue;
    if (allowed.includes(state)) return;
    if (state === 'fatal-error' && this.error !== null) throw this.error;
    if (state === 'abortable-error' && this.error !== null && operation !== 'beginTransaction()') {
      throw this.error;
    }
    throw new TransactionStateError(`${operation} is not allowed while the producer is ${state}`);
  }

  private async exclusive(operation: () => Promise<void>): Promise<void> {
    if (this.busy) {
      throw new TransactionStateError('another transactional operation of this producer is in progress');
    }
    this.busy = true;
    try {
      await operation();
    } finally {
      this.busy = false;
    }
  }

  /** Moves to abortable-error (or fatal-error) with `error`, failing the records not yet sent. */
  private failTransaction(error: KafkaClientError): KafkaClientError {
    if (isFatal(error)) return this.fatal(error);
    const state = this.stateValue;
    if (state === 'in-transaction' || state === 'committing') {
      this.stateValue = 'abortable-error';
      this.error = error;
      this.engine.failUnsent(error);
    }
    return error;
  }

  private fatal(error: KafkaClientError): KafkaClientError {
    this.stateValue = 'fatal-error';
    this.error = error;
    this.engine.failUnsent(error);
    return error;
  }

  private async requestIdentity(current: ProducerIdentity | null): Promise<ProducerIdentity> {
    const { transactionalId, transactionTimeoutMs } = this.options;
    let identity: ProducerIdentity | null = null;
    try {
      await this.retrying('InitProducerId', 'transaction', transactionalId, async () => {
        const answer = await this.target.initProducerId(transactionalId, transactionTimeoutMs, current);
        if (answer.errorCode === ErrorCode.NONE) identity = answer.identity;
        return answer.errorCode;
      });
    } catch (error) {
      throw this.fatal(asClientError(error));
    }
    return identity!;
  }

  private async end(commit: boolean): Promise<void> {
    const { transactionalId } = this.options;
    const identity = this.identity!;
    await this.retrying('EndTxn', 'transaction', transactionalId, () =>
      this.target.endTransaction(transactionalId, identity, commit),
    );
  }

  /** Adds the waiting partitions to the transaction, in rounds until none wait, then wakes the sender. */
  private async addPartitions(): Promise<void> {
    const { transactionalId } = this.options;
    while (this.toAdd.size > 0) {
      const state = this.stateValue;
      if (state !== 'in-transaction' && state !== 'committing') return;
      const round = [...this.toAdd.values()];
      try {
        await this.retrying('AddPartitionsToTxn', 'transaction', transactionalId, async () =>
          firstError(await this.target.addPartitions(transactionalId, this.identity!, round)),
        );
      } catch (error) {
        this.failTransaction(asClientError(error));
        return;
      }
      if (this.stateValue !== 'in-transaction' && this.stateValue !== 'committing') return;
      this.started = true;
      for (const partition of round) {
        const key = partitionKey(partition.topic, partition.partition);
        this.toAdd.delete(key);
        this.added.add(key);
      }
      this.engine.wake();
    }
  }

  /**
   * Runs `attempt` until it answers NONE, retrying retriable answers (coordinator moved or loading, concurrent
   * transactions, lost connections) with backoff for at most operationTimeoutMs; throws the last error.
   */
  private async retrying(
    name: string,
    coordinator: 'transaction' | 'group',
    key: string,
    attempt: () => Promise<number>,
  ): Promise<void> {
    const deadlineMs = Date.now() + this.options.operationTimeoutMs;
    for (let attempts = 1; ; attempts++) {
      let error: KafkaClientError;
      try {
        const code = await attempt();
        if (code === ErrorCode.NONE) return;
        error = errorFromCode(code, `${name}: ${errorInfo(code).message}`);
      } catch (thrown) {
        error = asClientError(thrown);
      }
      if (
        error instanceof ConnectionError ||
        error.code === ErrorCode.NOT_COORDINATOR ||
        error.code === ErrorCode.COORDINATOR_NOT_AVAILABLE
      ) {
        this.target.invalidateCoordinator(coordinator, key);
      }
      const delayMs =
        error.code === ErrorCode.CONCURRENT_TRANSACTIONS
          ? CONCURRENT_TRANSACTIONS_BACKOFF_MS
          : Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** (attempts - 1));
      if (!error.retriable || Date.now() + delayMs >= deadlineMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Fenced by a newer instance, not authorized, or a broker without transactions: the producer must be closed. */
function isFatal(error: KafkaClientError): boolean {
  return (
    error instanceof ProducerFencedError ||
    error instanceof AuthorizationError ||
    error instanceof UnsupportedVersionError ||
    error.code === ErrorCode.INVALID_TXN_STATE ||
    error.code === ErrorCode.INVALID_PRODUCER_ID_MAPPING
  );
}

/** The first error code other than NONE (OPERATION_NOT_ATTEMPTED only names partitions another one failed). */
function firstError(codes: readonly number[]): number {
  let notAttempted = false;
  for (const code of codes) {
    if (code === ErrorCode.OPERATION_NOT_ATTEMPTED) notAttempted = true;
    else if (code !== ErrorCode.NONE) return code;
  }
  return notAttempted ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.NONE;
}

function asClientError(error: unknown): KafkaClientError {
  if (error instanceof KafkaClientError) return error;
  return new KafkaClientError({
    code: -1,
    type: 'TRANSACTION_FAILED',
    retriable: false,
    message: error instanceof Error ? error.message : String(error),
    cause: error,
  });
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
