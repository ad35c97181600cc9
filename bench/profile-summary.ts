// Summarises a V8 .cpuprofile (from `node --cpu-prof`) as the functions with the most self time, optionally
// restricted to a time window. Profile timestamps and process.hrtime both read CLOCK_MONOTONIC on Linux, so a
// window recorded by the bench in hrtime microseconds selects the samples of one phase.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileWindow {
  startMicros: number;
  endMicros: number;
}

export interface FunctionSelfTime {
  name: string;
  location: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  top: FunctionSelfTime[];
}

export async function summariseCpuProfile(
  file: string,
  window: ProfileWindow | null,
  limit: number,
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfMicros = new Map<string, { name: string; location: string; micros: number }>();
  let totalMicros = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window !== null && (at < window.startMicros || at > window.endMicros)) continue;
    const frame = frames.get(profile.samples[i]!);
    if (frame === undefined) continue;
    const name = frame.functionName || '(anonymous)';
    const location = frame.url ? `${shortenUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name}\0${location}`;
    const entry = selfMicros.get(key) ?? { name, location, micros: 0 };
    entry.micros += delta;
    selfMicros.set(key, entry);
    totalMicros += delta;
  }
  const top = [...selfMicros.values()]
    .sort((a, b) => b.micros - a.micros)
    .slice(0, limit)
    .map((entry) => ({
      name: entry.name,
      location: entry.location,
      selfMs: entry.micros / 1000,
      percent: totalMicros > 0 ? (entry.micros / totalMicros) * 100 : 0,
    }));
  return { totalMs: totalMicros / 1000, top };
}

export function renderProfileSummary(title: string, summary: ProfileSummary): string {
  const lines = summary.top.map(
    (entry) =>
      `  ${entry.percent.toFixed(1).padStart(5)}%  ${entry.selfMs.toFixed(0).padStart(7)} ms  ${entry.name}  ${entry.location}`,
  );
  return [`${title} (${summary.totalMs.toFixed(0)} ms of samples, self time):`, ...lines].join('\n');
}

function shortenUrl(url: string): string {
  const marker = url.lastIndexOf('/node_modules/');
  if (marker >= 0) return url.slice(marker + 1);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}
