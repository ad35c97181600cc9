import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SerialQueue } from './serial-queue.js';

/** Writes `contents` to `path` so that a crash leaves either the old or the new file, never a torn one. */
export async function writeFileAtomically(path: string, contents: string | Buffer): Promise<void> {
  await replaceFile(path, contents);
  await syncDirectory(dirname(path));
}

/**
 * Writes `contents` to `path` through a fsynced temporary file and a rename, without syncing the directory:
 * after a crash `path` holds the old contents or the new ones, or is missing if it is new. For files whose
 * loss only costs work (an index rebuilt, a longer recovery). Each directory fsync commits the file system's
 * journal, which holds up every write to it meanwhile.
 */
export async function replaceFile(path: string, contents: string | Buffer): Promise<void> {
  const tmpPath = `${path}.tmp`;
  const file = await open(tmpPath, 'w');
  try {
    await file.writeFile(contents);
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(tmpPath, path);
}

/** Makes renames, creations and deletions inside `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const CHECKPOINT_VERSION = 0;

/** Reads a checkpoint file holding one offset; null when it is missing or unreadable. */
export async function readOffsetCheckpoint(path: string): Promise<number | null> {
  const lines = await readCheckpointLines(path);
  if (lines?.length !== 1) return null;
  const value = Number(lines[0]);
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** The contents of a checkpoint file holding one offset. */
export function offsetCheckpointText(offset: number): string {
  return `${CHECKPOINT_VERSION}\n${offset}\n`;
}

/**
 * A checkpoint file rewritten (atomically) only when its contents change, so that an idle log's open and
 * close cost no fsync for it. Writes go one at a time: two overlapping ones would share the temporary file.
 */
export class CheckpointFile {
  /** What the file holds, or null when unknown (missing, or a write failed midway and left either version). */
  private contents: string | null;
  private readonly writes = new SerialQueue();

  constructor(
    readonly path: string,
    contents: string | null = null,
  ) {
    this.contents = contents;
  }

  /** True when the file is known to hold exactly `contents`. */
  holds(contents: string): boolean {
    return this.contents === contents;
  }

  /**
   * Writes what `render` gives when this write's turn comes; resolves at once if the file holds it already.
   * `mayRevert`: a crash may bring back the previous contents (see replaceFile), for a checkpoint that is
   * correct whenever it is behind.
   */
  write(render: () => string, mayRevert = false): Promise<void> {
    const write = async () => {
      const contents = render();
      if (contents === this.contents) return;
      this.contents = null;
      await (mayRevert ? replaceFile : writeFileAtomically)(this.path, contents);
      this.contents = contents;
    };
    return this.writes.run(write);
  }
}

/** Lines after the version line, or null when the file is missing or not a version-0 checkpoint. */
async function readCheckpointLines(path: string): Promise<string[] | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const lines = text.split('\n').filter((line) => line.length > 0);
  if (lines[0] !== String(CHECKPOINT_VERSION)) return null;
  return lines.slice(1);
}

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

/** OffsetForLeaderEpoch's answer when the epoch is unknown. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

/**
 * Which leader epoch started at which offset, in increasing order of both. Kafka's followers use it to find
 * where their log diverges from the leader's (OffsetForLeaderEpoch).
 */
export class LeaderEpochCache {
  private entries: EpochEntry[] = [];
  private file: CheckpointFile;

  constructor(path: string) {
    this.file = new CheckpointFile(path);
  }

  static async load(path: string): Promise<LeaderEpochCache> {
    const cache = new LeaderEpochCache(path);
    const lines = await readCheckpointLines(path);
    if (!lines) return cache;
    for (const line of lines.slice(1)) {
      const [epoch, startOffset] = line.split(' ').map(Number);
      if (Number.isSafeInteger(epoch) && Number.isSafeInteger(startOffset)) {
        cache.assign(epoch as number, startOffset as number);
      }
    }
    // What reading the file back gives, as it would be written.
    cache.file = new CheckpointFile(path, cache.text());
    return cache;
  }

  get latestEpoch(): number {
    return this.entries.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  /** Records that `epoch` starts at `startOffset`; returns whether anything changed. */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false;
    const latest = this.entries.at(-1);
    if (latest && epoch <= latest.epoch) return false;
    // A new epoch's start can never precede an earlier epoch's: drop entries it supersedes.
    while (this.entries.length > 0 && (this.entries.at(-1) as EpochEntry).startOffset >= startOffset) {
      this.entries.pop();
    }
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** Forgets epochs that start at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.entries.length;
    while (this.entries.length > 0 && (this.entries.at(-1) as EpochEntry).startOffset >= endOffset) {
      this.entries.pop();
    }
    return this.entries.length !== before;
  }

  /** Moves the first epoch's start up to `startOffset`, dropping epochs that ended before it. */
  truncateFromStart(startOffset: number): boolean {
    let changed = false;
    while (this.entries.length > 1 && (this.entries[1] as EpochEntry).startOffset <= startOffset) {
      this.entries.shift();
      changed = true;
    }
    const first = this.entries[0];
    if (first && first.startOffset < startOffset) {
      first.startOffset = startOffset;
      changed = true;
    }
    return changed;
  }

  /** Kafka's OffsetForLeaderEpoch: the end offset of `epoch` as this log knows it. */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    const latest = this.entries.at(-1);
    if (epoch === UNDEFINED_EPOCH || !latest)
      return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (epoch === latest.epoch) return { epoch, endOffset: logEndOffset };
    const higher = this.entries.findIndex((entry) => entry.epoch > epoch);
    if (higher < 0) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const nextStart = (this.entries[higher] as EpochEntry).startOffset;
    const floor = this.entries[higher - 1];
    return floor ? { epoch: floor.epoch, endOffset: nextStart } : { epoch, endOffset: nextStart };
  }

  /** Makes the current entries durable; resolves at once when the file already holds them. */
  persist(): Promise<void> {
    return this.file.write(() => this.text());
  }

  private text(): string {
    const body = this.entries.map((entry) => `${entry.epoch} ${entry.startOffset}\n`).join('');
    return `${CHECKPOINT_VERSION}\n${this.entries.length}\n${body}`;
  }
}
