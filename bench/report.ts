// The results table printed at the end of a run, and the static figures it is compared with.

import type { Metric, Target } from './phase.js';
import type { ResourceSummary } from './process-sampler.js';

/** Measured once on this machine with other software; static, for scale only. */
export const REFERENCE_FIGURES: readonly { name: string; value: string }[] = [
  { name: 'Node loopback TCP', value: '2.0 GB/s' },
  { name: 'durable sequential disk writes', value: '2.0 GB/s' },
  { name: 'Redis Streams produce', value: '115 MB/s' },
  { name: 'RabbitMQ streams', value: '97 MB/s' },
  { name: 'NATS JetStream replay', value: '257 MB/s' },
  { name: 'best peer e2e p99', value: '3.1 ms' },
];

/** Which reference figure sits beside which metric in the table. */
const REFERENCE_BY_METRIC: Record<string, string> = {
  'ingest-acks1 throughput': 'Redis Streams produce 115 MB/s; RabbitMQ streams 97 MB/s',
  'ingest-acksall throughput': 'durable disk writes 2.0 GB/s; loopback TCP 2.0 GB/s',
  'catch-up throughput': 'NATS JetStream replay 257 MB/s',
  'latency e2e p99': 'best peer 3.1 ms',
};

export const RSS_TARGET_MB = 150;

export interface PhaseReport {
  name: string;
  description: string;
  metrics: Metric[];
  broker: ResourceSummary | null;
  /** The bench process's own CPU, to show whether the client could have been the bottleneck. */
  clientCpuPercent: number;
  /**
   * CPU used by everything else on the machine meanwhile (from /proc/stat); well above a few percent means
   * the figures were taken on a busy machine and are not comparable.
   */
  otherCpuPercent: number;
  elapsedSeconds: number;
  error?: string;
  details?: Record<string, unknown>;
}

export function verdict(value: number, target: Target | undefined): string {
  if (target === undefined) return '';
  const met = target.comparison === 'atLeast' ? value >= target.value : value <= target.value;
  if (met) return 'met';
  const ratio = target.comparison === 'atLeast' ? value / target.value : target.value / value;
  return `MISS (${(ratio * 100).toFixed(0)}% of target)`;
}

function formatTarget(target: Target | undefined, unit: string): string {
  if (target === undefined) return '';
  return `${target.comparison === 'atLeast' ? '>=' : '<='} ${target.value} ${unit}`;
}

function formatValue(value: number, unit: string): string {
  const digits = unit === 'ms' ? 3 : value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${unit}`;
}

export function renderTable(phases: readonly PhaseReport[]): string {
  const header = ['phase', 'metric', 'Sluice', 'target', 'result', 'reference (this machine, static)'];
  const rows: string[][] = [];
  for (const phase of phases) {
    if (phase.error !== undefined) {
      rows.push([phase.name, 'FAILED', phase.error.split('\n')[0]!.slice(0, 80), '', '', '']);
    }
    for (const metric of phase.metrics) {
      rows.push([
        phase.name,
        metric.name,
        formatValue(metric.value, metric.unit),
        formatTarget(metric.target, metric.unit),
        verdict(metric.value, metric.target),
        REFERENCE_BY_METRIC[`${phase.name} ${metric.name}`] ?? '',
      ]);
    }
    if (phase.broker !== null) {
      const rssTarget: Target = { comparison: 'atMost', value: RSS_TARGET_MB };
      rows.push([
        phase.name,
        'broker RSS peak / mean',
        `${phase.broker.rssPeakMB.toFixed(0)} / ${phase.broker.rssMeanMB.toFixed(0)} MB`,
        `< ${RSS_TARGET_MB} MB`,
        verdict(phase.broker.rssPeakMB, rssTarget),
        '',
      ]);
      rows.push([
        phase.name,
        'CPU broker / bench / other',
        `${phase.broker.cpuPercent.toFixed(0)}% / ${phase.clientCpuPercent.toFixed(0)}% / ${phase.otherCpuPercent.toFixed(0)}%`,
        '',
        phase.otherCpuPercent > 10 ? 'NOISY: other processes were busy' : '',
        '',
      ]);
    }
  }
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const separator = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  const references = REFERENCE_FIGURES.map((figure) => `${figure.name} ${figure.value}`).join('; ');
  return [
    line(header),
    separator,
    ...rows.map(line),
    '',
    'MB/s = 10^6 bytes of record values per second (1 KiB values; batch framing adds ~1%).',
    'CPU: 100% = one core (2 cores); "other" = the rest of the machine, where more than ~10% means a noisy run.',
    `Reference figures measured earlier on this machine (static): ${references}.`,
  ].join('\n');
}
