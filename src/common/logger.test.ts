import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './logger.js';

test('createLogger writes JSON lines at or above the level', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'warn', name: 'test', destination });
  logger.info('hidden');
  logger.warn({ topic: 'orders' }, 'visible');
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(entry.level, 40);
  assert.equal(entry.name, 'test');
  assert.equal(entry.topic, 'orders');
  assert.equal(entry.msg, 'visible');
});
