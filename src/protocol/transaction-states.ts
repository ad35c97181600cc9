// The states of a transactional id on its coordinator, as Kafka names them on the wire (ListTransactions,
// DescribeTransactions) and orders them: the index is the status __transaction_state stores.
export const TRANSACTION_STATES = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
] as const;

export type TransactionStateName = (typeof TRANSACTION_STATES)[number];
