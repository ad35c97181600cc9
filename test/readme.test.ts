import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderReadmeSections, replaceSections } from '../src/broker/docs.js';

test('README sections generated from the code are up to date (npm run docs)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(replaceSections(readme, renderReadmeSections()), readme);
});
