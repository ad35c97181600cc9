// Regenerates the README sections that mirror the code (supported API versions, configuration reference).
// `npm run docs`; test/readme.test.ts fails when the README is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderReadmeSections, replaceSections } from '../src/broker/docs.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = replaceSections(before, renderReadmeSections());
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README.md is up to date' : 'README.md updated');
