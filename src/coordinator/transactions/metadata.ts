// The state of one transactional id (Kafka's TransactionMetadata): its producer id and epoch, and the
// transaction it has open. Every change goes in two steps: prepare* checks the move and returns the target
// (a TransactionTransition) while marking it pending, so that no other change starts meanwhile; the caller
// writes the target to __transaction_state and, once it is durable, applies it with completeTransition (or
// drops it with abandonTransition). Pure: no I/O, no clock.
//
//   Empty ──AddPartitions──▶ Ongoing ──EndTxn──▶ PrepareCommit ──markers──▶ CompleteCommit
//                               │      └─EndTxn/timeout/fence─▶ PrepareAbort ──markers──▶ CompleteAbort
//   Complete* ──AddPartitions──▶ Ongoing;  Empty/Complete* ──InitProducerId──▶ Empty (epoch bumped)
//   Empty/Complete* ──expiration──▶ Dead (never durable: the id's tombstone is written instead)
import { TRANSACTION_STATES, type TransactionStateName } from '../../protocol/transaction-states.js';
import { TransactionStateError } from './errors.js';

export { TRANSACTION_STATES, type TransactionStateName };

const VALID_PREVIOUS_STATES: Record<TransactionStateName, readonly TransactionStateName[]> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  PrepareAbort: ['Ongoing', 'PrepareEpochFence'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteAbort', 'CompleteCommit'],
  PrepareEpochFence: ['Ongoing'],
};

/** States a transactional id may expire in (no transaction open). */
const EXPIRABLE_STATES: ReadonlySet<TransactionStateName> = new Set([
  'Empty',
  'CompleteCommit',
  'CompleteAbort',
]);

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const MAX_PRODUCER_EPOCH = 32767;

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** The target of a prepared change: the whole state as it will be once written. */
export interface TransactionTransition {
  readonly producerId: number;
  readonly lastProducerId: number;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly state: TransactionStateName;
  readonly partitions: readonly TopicPartition[];
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
}

/**
 * Epochs at or above this are used up: the coordinator keeps the last one (32767) for fencing, so a producer
 * that reaches it gets a new producer id on its next InitProducerId.
 */
export function isEpochExhausted(producerEpoch: number): boolean {
  return producerEpoch >= MAX_PRODUCER_EPOCH - 1;
}

export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export interface TransactionMetadataInit {
  producerId: number;
  lastProducerId?: number;
  producerEpoch: number;
  lastProducerEpoch?: number;
  txnTimeoutMs: number;
  state: TransactionStateName;
  partitions?: readonly TopicPartition[];
  txnStartTimestamp?: number;
  txnLastUpdateTimestamp: number;
}

export type EpochBumpResult = { transition: TransactionTransition } | { errorCode: 'PRODUCER_FENCED' };

export class TransactionMetadata {
  producerId: number;
  lastProducerId: number;
  producerEpoch: number;
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TransactionStateName;
  readonly partitions = new Map<string, TopicPartition>();
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
  /** The state a prepared change moves to, until it is written (or fails). */
  pendingState: TransactionStateName | null = null;
  /**
   * A fence bumped the epoch in memory but its write failed: the next fence reuses that epoch instead of
   * bumping again (the bumped epoch was never handed to a producer, so reusing it is safe).
   */
  hasFailedEpochFence = false;

  constructor(
    readonly transactionalId: string,
    init: TransactionMetadataInit,
  ) {
    this.producerId = init.producerId;
    this.lastProducerId = init.lastProducerId ?? NO_PRODUCER_ID;
    this.producerEpoch = init.producerEpoch;
    this.lastProducerEpoch = init.lastProducerEpoch ?? NO_PRODUCER_EPOCH;
    this.txnTimeoutMs = init.txnTimeoutMs;
    this.state = init.state;
    for (const tp of init.partitions ?? [])
      this.partitions.set(topicPartitionKey(tp.topic, tp.partition), tp);
    this.txnStartTimestamp = init.txnStartTimestamp ?? -1;
    this.txnLastUpdateTimestamp = init.txnLastUpdateTimestamp;
  }

  get isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  get isExpirationAllowed(): boolean {
    return EXPIRABLE_STATES.has(this.state);
  }

  hasPartition(topic: string, partition: number): boolean {
    return this.partitions.has(topicPartitionKey(topic, partition));
  }

  /** Every partition of `partitions` is already in the transaction. */
  containsAll(partitions: readonly TopicPartition[]): boolean {
    return partitions.every((tp) => this.hasPartition(tp.topic, tp.partition));
  }

  /** A marker for `tp` is durable: the partition no longer waits for one (DescribeTransactions shows the rest). */
  removePartition(tp: TopicPartition): void {
    if (this.state !== 'PrepareCommit' && this.state !== 'PrepareAbort') {
      throw new TransactionStateError(
        `${this.transactionalId}: removing partition ${tp.topic}-${tp.partition} in state ${this.state}`,
      );
    }
    this.partitions.delete(topicPartitionKey(tp.topic, tp.partition));
  }

  /**
   * Fencing (InitProducerId during a transaction, or its timeout): the epoch goes up by one so the current
   * producer is fenced, and the transaction is then aborted with that epoch (see the coordinator).
   */
  prepareFenceProducerEpoch(): TransactionTransition {
    if (this.producerEpoch >= MAX_PRODUCER_EPOCH) {
      throw new TransactionStateError(`${this.transactionalId}: cannot fence epoch ${this.producerEpoch}`);
    }
    const bumpedEpoch = this.hasFailedEpochFence ? this.producerEpoch : this.producerEpoch + 1;
    return this.prepareTransitionTo(
      'PrepareEpochFence',
      this.producerId,
      bumpedEpoch,
      NO_PRODUCER_EPOCH,
      this.txnTimeoutMs,
      this.partitionList(),
      this.txnStartTimestamp,
      this.txnLastUpdateTimestamp,
    );
  }

  /**
   * InitProducerId without a transaction open. Without an expected epoch the epoch is bumped (a new
   * producer instance). With one (KIP-360): the current epoch (or none yet) bumps it, the previous epoch is
   * a retry of a bump that succeeded and gets the current epoch again, anything else is fenced.
   */
  prepareIncrementProducerEpoch(
    newTxnTimeoutMs: number,
    expectedProducerEpoch: number | null,
    nowMs: number,
  ): EpochBumpResult {
    let nextEpoch: number;
    let lastEpoch: number;
    if (expectedProducerEpoch === null) {
      nextEpoch = this.producerEpoch + 1;
      lastEpoch = NO_PRODUCER_EPOCH;
    } else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedProducerEpoch === this.producerEpoch) {
      nextEpoch = this.producerEpoch + 1;
      lastEpoch = this.producerEpoch;
    } else if (expectedProducerEpoch === this.lastProducerEpoch) {
      nextEpoch = this.producerEpoch;
      lastEpoch = this.lastProducerEpoch;
    } else {
      return { errorCode: 'PRODUCER_FENCED' };
    }
    if (nextEpoch !== this.producerEpoch && this.isProducerEpochExhausted) {
      throw new TransactionStateError(
        `${this.transactionalId}: no epochs left for producer id ${this.producerId}; rotate the producer id`,
      );
    }
    return {
      transition: this.prepareTransitionTo(
        'Empty',
        this.producerId,
        nextEpoch,
        lastEpoch,
        newTxnTimeoutMs,
        [],
        -1,
        nowMs,
      ),
    };
  }

  /** Epochs used up: a new producer id with epoch 0. `recordLastEpoch` lets a retry of this call be recognised. */
  prepareProducerIdRotation(
    newProducerId: number,
    newTxnTimeoutMs: number,
    nowMs: number,
    recordLastEpoch: boolean,
  ): TransactionTransition {
    if (this.state === 'Ongoing' || this.state === 'PrepareCommit' || this.state === 'PrepareAbort') {
      throw new TransactionStateError(
        `${this.transactionalId}: cannot rotate the producer id during a transaction (${this.state})`,
      );
    }
    return this.prepareTransitionTo(
      'Empty',
      newProducerId,
      0,
      recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      newTxnTimeoutMs,
      [],
      -1,
      nowMs,
    );
  }

  prepareAddPartitions(added: readonly TopicPartition[], nowMs: number): TransactionTransition {
    const starting =
      this.state === 'Empty' || this.state === 'CompleteCommit' || this.state === 'CompleteAbort';
    const partitions = new Map(this.partitions);
    for (const tp of added) partitions.set(topicPartitionKey(tp.topic, tp.partition), tp);
    return this.prepareTransitionTo(
      'Ongoing',
      this.producerId,
      this.producerEpoch,
      this.lastProducerEpoch,
      this.txnTimeoutMs,
      [...partitions.values()],
      starting ? nowMs : this.txnStartTimestamp,
      nowMs,
    );
  }

  prepareAbortOrCommit(newState: 'PrepareCommit' | 'PrepareAbort', nowMs: number): TransactionTransition {
    return this.prepareTransitionTo(
      newState,
      this.producerId,
      this.producerEpoch,
      this.lastProducerEpoch,
      this.txnTimeoutMs,
      this.partitionList(),
      this.txnStartTimestamp,
      nowMs,
    );
  }

  /** Markers are written: the transaction becomes CompleteCommit/CompleteAbort with no partitions. */
  prepareComplete(nowMs: number): TransactionTransition {
    const newState = this.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort';
    // The prepare record was durable, so an epoch fence that failed earlier has now been written.
    this.hasFailedEpochFence = false;
    return this.prepareTransitionTo(
      newState,
      this.producerId,
      this.producerEpoch,
      this.lastProducerEpoch,
      this.txnTimeoutMs,
      [],
      this.txnStartTimestamp,
      nowMs,
    );
  }

  prepareDead(): TransactionTransition {
    return this.prepareTransitionTo(
      'Dead',
      this.producerId,
      this.producerEpoch,
      this.lastProducerEpoch,
      this.txnTimeoutMs,
      [],
      this.txnStartTimestamp,
      this.txnLastUpdateTimestamp,
    );
  }

  /**
   * An epoch fence turns into the abort it prepared: the fenced epoch becomes current (in memory, before
   * the PrepareAbort carrying it is written; a producer with the old epoch is refused from now on).
   */
  beginFencedAbort(bumpedEpoch: number): void {
    if (this.pendingState !== 'PrepareEpochFence') {
      throw new TransactionStateError(`${this.transactionalId}: no epoch fence is pending`);
    }
    this.pendingState = null;
    this.producerEpoch = bumpedEpoch;
    this.lastProducerEpoch = NO_PRODUCER_EPOCH;
  }

  /** The prepared change was written: apply it, after checking it is the change that was prepared. */
  completeTransition(transition: TransactionTransition): void {
    const toState = this.pendingState;
    if (toState === null) {
      throw new TransactionStateError(
        `${this.transactionalId}: completing a transition that was not prepared`,
      );
    }
    if (toState !== transition.state) this.transitionFailure(transition);
    switch (toState) {
      case 'Empty':
        if (
          (this.producerEpoch !== transition.producerEpoch && !this.isValidEpochBump(transition)) ||
          transition.partitions.length > 0 ||
          transition.txnStartTimestamp !== -1
        ) {
          this.transitionFailure(transition);
        }
        this.txnTimeoutMs = transition.txnTimeoutMs;
        this.producerEpoch = transition.producerEpoch;
        this.lastProducerEpoch = transition.lastProducerEpoch;
        this.producerId = transition.producerId;
        this.lastProducerId = transition.lastProducerId;
        break;
      case 'Ongoing':
        if (
          !this.isSameProducer(transition) ||
          !this.isSubsetOf(transition.partitions) ||
          this.txnTimeoutMs !== transition.txnTimeoutMs
        ) {
          this.transitionFailure(transition);
        }
        this.txnStartTimestamp = transition.txnStartTimestamp;
        for (const tp of transition.partitions) {
          this.partitions.set(topicPartitionKey(tp.topic, tp.partition), tp);
        }
        break;
      case 'PrepareCommit':
      case 'PrepareAbort':
        if (
          !this.isSameProducer(transition) ||
          transition.partitions.length !== this.partitions.size ||
          !this.containsAll(transition.partitions) ||
          this.txnTimeoutMs !== transition.txnTimeoutMs ||
          this.txnStartTimestamp !== transition.txnStartTimestamp
        ) {
          this.transitionFailure(transition);
        }
        break;
      case 'CompleteCommit':
      case 'CompleteAbort':
        if (
          !this.isSameProducer(transition) ||
          this.txnTimeoutMs !== transition.txnTimeoutMs ||
          transition.txnStartTimestamp === -1
        ) {
          this.transitionFailure(transition);
        }
        this.txnStartTimestamp = transition.txnStartTimestamp;
        this.partitions.clear();
        break;
      // A fence is never written (it turns into PrepareAbort), and an expiry ends with the id removed.
      case 'PrepareEpochFence':
      case 'Dead':
        this.transitionFailure(transition);
    }
    this.txnLastUpdateTimestamp = transition.txnLastUpdateTimestamp;
    this.pendingState = null;
    this.state = toState;
  }

  /** The prepared change could not be written: nothing changes and the id accepts requests again. */
  abandonTransition(): void {
    this.pendingState = null;
  }

  /** The state as stored in __transaction_state (a transition's target, or the current state). */
  toTransition(): TransactionTransition {
    return {
      producerId: this.producerId,
      lastProducerId: this.lastProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      txnTimeoutMs: this.txnTimeoutMs,
      state: this.state,
      partitions: this.partitionList(),
      txnStartTimestamp: this.txnStartTimestamp,
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
    };
  }

  partitionList(): TopicPartition[] {
    return [...this.partitions.values()];
  }

  private prepareTransitionTo(
    newState: TransactionStateName,
    newProducerId: number,
    newEpoch: number,
    newLastEpoch: number,
    newTxnTimeoutMs: number,
    newPartitions: readonly TopicPartition[],
    newTxnStartTimestamp: number,
    updateTimestamp: number,
  ): TransactionTransition {
    if (this.pendingState !== null) {
      throw new TransactionStateError(
        `${this.transactionalId}: preparing ${newState} while ${this.pendingState} is pending`,
      );
    }
    if (newProducerId < 0) throw new TransactionStateError(`illegal new producer id ${newProducerId}`);
    if (newState !== 'Dead' && newEpoch < 0) {
      throw new TransactionStateError(`illegal new producer epoch ${newEpoch}`);
    }
    if (!VALID_PREVIOUS_STATES[newState].includes(this.state)) {
      throw new TransactionStateError(`${this.transactionalId}: ${newState} cannot follow ${this.state}`);
    }
    this.pendingState = newState;
    return {
      producerId: newProducerId,
      lastProducerId: this.producerId,
      producerEpoch: newEpoch,
      lastProducerEpoch: newLastEpoch,
      txnTimeoutMs: newTxnTimeoutMs,
      state: newState,
      partitions: newPartitions,
      txnStartTimestamp: newTxnStartTimestamp,
      txnLastUpdateTimestamp: updateTimestamp,
    };
  }

  private isSubsetOf(partitions: readonly TopicPartition[]): boolean {
    const keys = new Set(partitions.map((tp) => topicPartitionKey(tp.topic, tp.partition)));
    for (const key of this.partitions.keys()) if (!keys.has(key)) return false;
    return true;
  }

  private isSameProducer(transition: TransactionTransition): boolean {
    return transition.producerEpoch === this.producerEpoch && transition.producerId === this.producerId;
  }

  private isValidEpochBump(transition: TransactionTransition): boolean {
    return (
      transition.producerEpoch === this.producerEpoch + 1 ||
      (transition.producerEpoch === 0 && transition.producerId !== this.producerId)
    );
  }

  private transitionFailure(transition: TransactionTransition): never {
    throw new TransactionStateError(
      `${this.transactionalId}: written transition to ${transition.state} (producer ${transition.producerId}, ` +
        `epoch ${transition.producerEpoch}) does not match the prepared one from ${this.state}`,
    );
  }
}
