// Reads the one-row table `sluice perf produce|consume` prints on stdout:
//   Records  Elapsed s  Records/s  MB/s  Avg ms  p50 ms  p95 ms  p99 ms  p99.9 ms  Max ms
//    500000     1.912   261506.2  267.78   ...
// Column titles contain single spaces, so columns are split on runs of two or more.

export class PerfTableError extends Error {
  override name = 'PerfTableError';
}

export interface PerfFigures {
  records: number;
  elapsedSeconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  /** Latency in ms by column title: 'Avg ms', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'Max ms'. */
  latencyMs: Record<string, number>;
}

const REQUIRED_COLUMNS = ['Records', 'Elapsed s', 'Records/s', 'MB/s'] as const;

export function parsePerfTable(stdoutLines: readonly string[]): PerfFigures {
  const headerIndex = stdoutLines.findIndex((line) => line.trimStart().startsWith('Records  '));
  const header = headerIndex < 0 ? undefined : stdoutLines[headerIndex];
  const row = headerIndex < 0 ? undefined : stdoutLines[headerIndex + 1];
  if (header === undefined || row === undefined) {
    throw new PerfTableError(`no perf table in the output:\n${stdoutLines.slice(-5).join('\n')}`);
  }
  const titles = header.trim().split(/ {2,}/);
  const cells = row.trim().split(/\s+/).map(Number);
  if (cells.length !== titles.length || cells.some((cell) => !Number.isFinite(cell))) {
    throw new PerfTableError(`the perf table row does not match its header:\n${header}\n${row}`);
  }
  const byTitle = new Map(titles.map((title, column) => [title, cells[column]!]));
  for (const title of REQUIRED_COLUMNS) {
    if (!byTitle.has(title)) throw new PerfTableError(`the perf table has no '${title}' column:\n${header}`);
  }
  const latencyMs: Record<string, number> = {};
  for (const [title, value] of byTitle) if (title.endsWith(' ms')) latencyMs[title] = value;
  return {
    records: byTitle.get('Records')!,
    elapsedSeconds: byTitle.get('Elapsed s')!,
    recordsPerSecond: byTitle.get('Records/s')!,
    megabytesPerSecond: byTitle.get('MB/s')!,
    latencyMs,
  };
}
