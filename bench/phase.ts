// The contract between the bench driver (main.ts) and each phase. A phase is one measurement with its own
// file under phases/; adding a phase (consumer-group join time, offset commit throughput, ...) means writing
// one more `Phase` and listing it in main.ts.
import type { KafkaConnection } from './wire/connection.js';

export interface BrokerAddress {
  host: string;
  port: number;
}

/** A topic an earlier phase filled, for phases that read it back. */
export interface IngestedTopic {
  topic: string;
  /** Next offset per partition index, i.e. the log end offset after the writes. */
  logEndOffsets: number[];
  valueBytes: number;
}

export interface PhaseContext {
  broker: BrokerAddress;
  /** Shorter durations and sample counts for a smoke run. */
  quick: boolean;
  /** Written by ingest phases, read by later phases. */
  ingested: IngestedTopic[];
  connect(options?: { maxInFlight?: number; maxResponseBytes?: number }): Promise<KafkaConnection>;
  /** Creates a topic and waits until every partition has a leader. */
  createTopic(topic: string, partitions: number): Promise<void>;
  log(message: string): void;
}

export type Comparison = 'atLeast' | 'atMost';

export interface Target {
  comparison: Comparison;
  value: number;
}

export interface Metric {
  name: string;
  value: number;
  unit: string;
  target?: Target;
}

export interface PhaseOutcome {
  metrics: Metric[];
  /** Extra figures kept in the JSON results only. */
  details?: Record<string, unknown>;
}

export interface Phase {
  name: string;
  description: string;
  /** Phases that must run first (for their side effects on the broker or the context). */
  needs: readonly string[];
  run(context: PhaseContext): Promise<PhaseOutcome>;
}
