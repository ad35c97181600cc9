// Producer ids for InitProducerId. An id must never be handed out twice in the cluster's lifetime, and taking
// ids from the metadata store is a durable write (an fsync pair), so the broker takes them in blocks and
// hands them out one by one from memory. A restart abandons the rest of the current block: ids are plentiful,
// a reused one would let a new producer's batches be taken for another's duplicates.
import type { ProducerIdBlock } from '../metadata/index.js';

/** Ids taken from the store at once; Kafka's controller hands brokers blocks of the same size. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/** The part of the MetadataStore this needs. */
export interface ProducerIdAllocator {
  allocateProducerIds(count: number): Promise<ProducerIdBlock>;
}

export class ProducerIdManager {
  /** Next id to hand out from the current block; past `#lastInBlock` the block is used up. */
  #next = 0;
  #lastInBlock = -1;
  /** The store call under way, shared by every caller that finds the block used up meanwhile. */
  #fetching: Promise<void> | null = null;

  constructor(
    private readonly allocator: ProducerIdAllocator,
    private readonly blockSize = PRODUCER_ID_BLOCK_SIZE,
  ) {}

  /** Rejects with the store's error when a new block cannot be taken; a later call tries again. */
  async nextProducerId(): Promise<number> {
    // A loop, not one check: callers waiting on a fetch take its ids in turn, and those left over when it is
    // used up (more waiters than ids) start the next fetch.
    while (this.#next > this.#lastInBlock) {
      this.#fetching ??= this.#fetchBlock();
      await this.#fetching;
    }
    return this.#next++;
  }

  async #fetchBlock(): Promise<void> {
    try {
      const block = await this.allocator.allocateProducerIds(this.blockSize);
      // An empty block would make nextProducerId fetch forever.
      if (block.lastProducerId < block.firstProducerId) {
        throw new RangeError(
          `producer id block ${block.firstProducerId}..${block.lastProducerId} from the store is empty`,
        );
      }
      this.#next = block.firstProducerId;
      this.#lastInBlock = block.lastProducerId;
    } finally {
      this.#fetching = null;
    }
  }
}
