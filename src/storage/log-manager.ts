import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BufferPool } from '../common/buffer-pool.js';
import { forEachConcurrently } from '../common/concurrency.js';
import type { LogConfig } from './config.js';
import {
  createStorageResources,
  DELETED_SUFFIX,
  PartitionLog,
  type PartitionLogOptions,
  type StorageLogger,
} from './partition-log.js';
import type { StorageResources } from './resources.js';

export interface LogManagerOptions {
  logger?: StorageLogger;
  nowMs?: () => number;
  /** How often retention runs (Kafka's log.retention.check.interval.ms). */
  retentionCheckIntervalMs?: number;
  /** How often recovery points are written (Kafka's log.flush.offset.checkpoint.interval.ms). */
  recoveryPointCheckpointIntervalMs?: number;
  /** Idle idempotent producers are forgotten after this long (producer.id.expiration.ms), with retention. */
  producerIdExpirationMs?: number;
  /** How often logs are checked for flush.ms and segment.ms. */
  flushCheckIntervalMs?: number;
  /** Read handles of sealed segments kept open across all logs. */
  maxOpenFiles?: number;
  /** Loaded indexes of sealed segments across all logs. */
  indexCacheBytes?: number;
  /** Tail cache across all logs, and per log. */
  tailCacheBytes?: number;
  tailCacheBytesPerLog?: number;
  /** Where tail-cache chunks and read windows come from (default: a pool of this manager's own). */
  bufferPool?: BufferPool;
  /** Logs opened (and recovered) at the same time during startup. */
  openConcurrency?: number;
}

const DEFAULT_RETENTION_CHECK_INTERVAL_MS = 5 * 60 * 1000;
const DEFAULT_FLUSH_CHECK_INTERVAL_MS = 1000;
const DEFAULT_RECOVERY_POINT_CHECKPOINT_INTERVAL_MS = 60_000;
const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 24 * 60 * 60 * 1000;

/** `<topic>-<partition>`; topics may contain '-', so the partition follows the last one. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return null;
  const digits = name.slice(dash + 1);
  if (!/^\d+$/.test(digits)) return null;
  const partition = Number(digits);
  if (!Number.isSafeInteger(partition) || partition > 0x7fff_ffff) return null;
  return { topic: name.slice(0, dash), partition };
}

function key(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Owns every partition log under one data directory, and the background retention and flush tasks. */
export class LogManager {
  private readonly logs = new Map<string, { topic: string; partition: number; log: PartitionLog }>();
  private readonly creating = new Map<string, Promise<PartitionLog>>();
  private readonly backgroundDeletes = new Set<Promise<void>>();
  private readonly resources: StorageResources;
  private readonly logger: StorageLogger | undefined;
  private readonly nowMs: () => number;
  private timers: NodeJS.Timeout[] = [];
  private retentionRunning = false;
  private flushRunning = false;
  private checkpointsRunning = false;
  private closed = false;

  private constructor(
    readonly dataDir: string,
    private readonly options: LogManagerOptions,
  ) {
    this.logger = options.logger;
    this.nowMs = options.nowMs ?? Date.now;
    this.resources = createStorageResources({
      ...(options.maxOpenFiles !== undefined && { maxOpenFiles: options.maxOpenFiles }),
      ...(options.indexCacheBytes !== undefined && { indexCacheBytes: options.indexCacheBytes }),
      ...(options.tailCacheBytes !== undefined && { tailCacheBytes: options.tailCacheBytes }),
      ...(options.bufferPool !== undefined && { bufferPool: options.bufferPool }),
    });
  }

  /** Opens and recovers every partition log found in `dataDir`, with `defaults` as their config. */
  static async open(
    dataDir: string,
    defaults: LogConfig,
    options: LogManagerOptions = {},
  ): Promise<LogManager> {
    await mkdir(dataDir, { recursive: true });
    const manager = new LogManager(dataDir, options);
    const found: { name: string; topic: string; partition: number }[] = [];
    for (const entry of await readdir(dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name.endsWith(DELETED_SUFFIX)) {
        manager.removeInBackground(join(dataDir, entry.name));
        continue;
      }
      const parsed = parsePartitionDirName(entry.name);
      if (parsed) found.push({ name: entry.name, ...parsed });
    }
    // Opening a log is a chain of small file operations: 16 at a time keep libuv's threads busy (2,000 new
    // logs opened in 0.18-0.22 s against 0.21-0.49 s with 4, on 2 cores), and recovery scans hold at most 16
    // read windows of 1 MiB.
    try {
      await forEachConcurrently(found, options.openConcurrency ?? 16, async (item) => {
        const log = await PartitionLog.open(join(dataDir, item.name), defaults, manager.logOptions());
        manager.logs.set(key(item.topic, item.partition), {
          topic: item.topic,
          partition: item.partition,
          log,
        });
      });
    } catch (error) {
      await manager.close();
      throw error;
    }
    return manager;
  }

  private logOptions(): PartitionLogOptions {
    return {
      resources: this.resources,
      nowMs: this.nowMs,
      ...(this.logger && { logger: this.logger }),
      ...(this.options.tailCacheBytesPerLog !== undefined && {
        tailCacheBytes: this.options.tailCacheBytesPerLog,
      }),
    };
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(key(topic, partition))?.log;
  }

  async getOrCreate(topic: string, partition: number, config: LogConfig): Promise<PartitionLog> {
    if (this.closed) throw new Error('log manager is closed');
    const k = key(topic, partition);
    const existing = this.logs.get(k);
    if (existing) return existing.log;
    let creating = this.creating.get(k);
    if (!creating) {
      creating = PartitionLog.open(join(this.dataDir, k), config, this.logOptions())
        .then((log) => {
          this.logs.set(k, { topic, partition, log });
          return log;
        })
        .finally(() => this.creating.delete(k));
      this.creating.set(k, creating);
    }
    return creating;
  }

  /** Takes the log offline, renames its directory to `*.deleted` and removes it in the background. */
  async deletePartition(topic: string, partition: number): Promise<void> {
    const k = key(topic, partition);
    const entry = this.logs.get(k);
    if (!entry) return;
    this.logs.delete(k);
    await entry.log.detach();
    const doomed = join(this.dataDir, `${k}.${randomBytes(4).toString('hex')}${DELETED_SUFFIX}`);
    await rename(entry.log.dir, doomed);
    this.removeInBackground(doomed);
  }

  private removeInBackground(path: string): void {
    const removal = rm(path, { recursive: true, force: true })
      .catch((error: unknown) =>
        this.logger?.error({ path, err: error }, 'could not remove deleted log directory'),
      )
      .finally(() => this.backgroundDeletes.delete(removal));
    this.backgroundDeletes.add(removal);
  }

  *all(): Iterable<[string, number, PartitionLog]> {
    for (const { topic, partition, log } of this.logs.values()) yield [topic, partition, log];
  }

  /** Starts retention, the flush.ms / segment.ms checks and the recovery-point checkpoints. */
  startBackgroundTasks(): void {
    if (this.timers.length > 0 || this.closed) return;
    const retention = setInterval(
      () => void this.runRetention(),
      this.options.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_INTERVAL_MS,
    );
    const flush = setInterval(
      () => void this.runFlushAndRoll(),
      this.options.flushCheckIntervalMs ?? DEFAULT_FLUSH_CHECK_INTERVAL_MS,
    );
    const checkpoints = setInterval(
      () => void this.runRecoveryPointCheckpoints(),
      this.options.recoveryPointCheckpointIntervalMs ?? DEFAULT_RECOVERY_POINT_CHECKPOINT_INTERVAL_MS,
    );
    retention.unref();
    flush.unref();
    checkpoints.unref();
    this.timers = [retention, flush, checkpoints];
  }

  /**
   * Writes the recovery points that moved since they were last written, one log at a time. As in Kafka they
   * are not written at every roll: each write is a fsync, and a roll's were holding up the appends.
   */
  async runRecoveryPointCheckpoints(): Promise<void> {
    if (this.checkpointsRunning) return;
    this.checkpointsRunning = true;
    try {
      for (const [topic, partition, log] of [...this.all()]) {
        try {
          await log.checkpointRecoveryPointIfMoved();
        } catch (error) {
          this.logger?.error({ topic, partition, err: error }, 'recovery point checkpoint failed');
        }
      }
    } finally {
      this.checkpointsRunning = false;
    }
  }

  /** One retention pass over every log; returns the segments deleted. */
  async runRetention(): Promise<number> {
    if (this.retentionRunning) return 0;
    this.retentionRunning = true;
    let deleted = 0;
    try {
      for (const [topic, partition, log] of [...this.all()]) {
        try {
          log.expireProducers(
            this.nowMs(),
            this.options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS,
          );
          deleted += await log.enforceRetention(this.nowMs());
        } catch (error) {
          this.logger?.error({ topic, partition, err: error }, 'retention failed');
        }
      }
    } finally {
      this.retentionRunning = false;
    }
    return deleted;
  }

  /** Flushes logs whose flush.ms has passed and rolls active segments older than segment.ms. */
  async runFlushAndRoll(): Promise<void> {
    if (this.flushRunning) return;
    this.flushRunning = true;
    try {
      for (const [topic, partition, log] of [...this.all()]) {
        const nowMs = this.nowMs();
        log.rollIfExpired(nowMs);
        if (!log.flushDue(nowMs)) continue;
        try {
          await log.flush();
        } catch (error) {
          this.logger?.error({ topic, partition, err: error }, 'time-based flush failed');
        }
      }
    } finally {
      this.flushRunning = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await Promise.allSettled([...this.creating.values()]);
    const logs = [...this.logs.values()];
    this.logs.clear();
    await Promise.all(logs.map(({ log }) => log.close()));
    await Promise.all([...this.backgroundDeletes]);
  }
}
