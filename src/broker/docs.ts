// README sections generated from the code, so the documented API versions and settings cannot drift.
import { renderConfigReference } from '../common/config.js';
import { brokerHandlers } from './handlers/index.js';

export function renderApiVersionsTable(): string {
  const rows = brokerHandlers()
    .sort((a, b) => a.key - b.key)
    .map((h) => `| ${h.key} | ${h.name} | ${h.minVersion}–${h.maxVersion} |`);
  return ['| Key | API | Versions |', '|---:|---|---|', ...rows].join('\n');
}

export function renderReadmeSections(): Record<string, string> {
  return { 'api-versions': renderApiVersionsTable(), 'config-reference': renderConfigReference() };
}

/** Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` for each section. */
export function replaceSections(text: string, sections: Record<string, string>): string {
  let out = text;
  for (const [name, body] of Object.entries(sections)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} ... ${end} markers`);
    out = `${out.slice(0, from + start.length)}\n${body.trimEnd()}\n${out.slice(to)}`;
  }
  return out;
}
