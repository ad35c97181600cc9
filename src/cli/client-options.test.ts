import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  clientOptions,
  collect,
  integerIn,
  onInterrupt,
  parseAcks,
  parseAssignment,
  parseBootstrap,
  parseCompression,
  parseSeparator,
  parseStartPosition,
  parseTimestamp,
  positiveNumber,
} from './client-options.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';

const invalid = (fn: () => unknown, message: string) =>
  assert.throws(fn, (error: unknown) => error instanceof InvalidArgumentError && error.message === message);

describe('bootstrap', () => {
  test('--bootstrap wins over SLUICE_BOOTSTRAP, which wins over the default', () => {
    const env = { SLUICE_BOOTSTRAP: 'env-host:9093' };
    assert.equal(clientOptions({ bootstrap: 'flag:1' }, env).bootstrap, 'flag:1');
    assert.equal(clientOptions({}, env).bootstrap, 'env-host:9093');
    assert.equal(clientOptions({}, {}).bootstrap, '127.0.0.1:9092');
    assert.equal(clientOptions({}, { SLUICE_BOOTSTRAP: '  ' }).bootstrap, '127.0.0.1:9092');
  });

  test('lists are trimmed; bad entries are usage errors', () => {
    assert.equal(parseBootstrap('a:1, b:2 ,[::1]:3'), 'a:1,b:2,[::1]:3');
    invalid(() => parseBootstrap('a:1,,b:2'), 'expected host:port[,host:port...]');
    invalid(() => parseBootstrap('a:99999'), "'a:99999' is not host:port");
    assert.throws(
      () => clientOptions({}, { SLUICE_BOOTSTRAP: 'h:0' }),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message === "SLUICE_BOOTSTRAP=h:0 is invalid: 'h:0' is not host:port",
    );
  });
});

describe('value parsers', () => {
  test('integerIn', () => {
    assert.equal(integerIn(1, 10)('7'), 7);
    assert.equal(integerIn(0)(' 0 '), 0);
    invalid(() => integerIn(1, 10)('11'), 'expected a whole number from 1 to 10');
    invalid(() => integerIn(1)('0'), 'expected a whole number ≥ 1');
    invalid(() => integerIn(0)('1.5'), 'expected a whole number ≥ 0');
    invalid(() => integerIn(0)('1e3'), 'expected a whole number ≥ 0');
    invalid(() => integerIn(0)('99999999999999999999'), 'expected a whole number ≥ 0');
  });

  test('positiveNumber', () => {
    assert.equal(positiveNumber('2.5'), 2.5);
    invalid(() => positiveNumber('0'), 'expected a number > 0');
    invalid(() => positiveNumber('-1'), 'expected a number > 0');
    invalid(() => positiveNumber('fast'), 'expected a number > 0');
  });

  test('collect appends parsed values', () => {
    const parse = collect(parseAssignment);
    assert.deepEqual(parse('b=2', parse('a=1', undefined)), [
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  test('parseAssignment splits at the first =', () => {
    assert.deepEqual(parseAssignment('a=b=c'), ['a', 'b=c']);
    assert.deepEqual(parseAssignment('empty='), ['empty', '']);
    invalid(() => parseAssignment('=x'), 'expected key=value');
    invalid(() => parseAssignment('novalue'), 'expected key=value');
  });

  test('parseAcks', () => {
    assert.equal(parseAcks('0'), 0);
    assert.equal(parseAcks('1'), 1);
    assert.equal(parseAcks('all'), -1);
    assert.equal(parseAcks('ALL'), -1);
    assert.equal(parseAcks('-1'), -1);
    invalid(() => parseAcks('2'), 'expected 0, 1 or all');
  });

  test('parseCompression', () => {
    assert.equal(parseCompression('ZSTD'), 'zstd');
    invalid(() => parseCompression('brotli'), 'expected one of none, gzip, snappy, lz4, zstd');
  });

  test('parseTimestamp: milliseconds or ISO 8601', () => {
    assert.equal(parseTimestamp('1714521600000'), 1_714_521_600_000);
    assert.equal(parseTimestamp('2024-05-01T00:00:00Z'), 1_714_521_600_000);
    assert.equal(parseTimestamp('2024-05-01T02:00:00+02:00'), 1_714_521_600_000);
    assert.equal(parseTimestamp('2024-05-01'), 1_714_521_600_000);
    invalid(() => parseTimestamp('yesterday'), 'expected milliseconds since the epoch or an ISO 8601 date');
    invalid(() => parseTimestamp('2024-13-45'), 'expected milliseconds since the epoch or an ISO 8601 date');
  });

  test('parseStartPosition', () => {
    assert.deepEqual(parseStartPosition('earliest'), { kind: 'earliest' });
    assert.deepEqual(parseStartPosition('latest'), { kind: 'latest' });
    assert.deepEqual(parseStartPosition('42'), { kind: 'offset', offset: 42 });
    assert.deepEqual(parseStartPosition('@1714521600000'), {
      kind: 'timestamp',
      timestamp: 1_714_521_600_000,
    });
    assert.deepEqual(parseStartPosition('2024-05-01T00:00:00Z'), {
      kind: 'timestamp',
      timestamp: 1_714_521_600_000,
    });
    invalid(
      () => parseStartPosition('soon'),
      'expected earliest, latest, an offset, @<ms since the epoch> or an ISO 8601 date',
    );
  });

  test('parseSeparator understands \\t', () => {
    assert.equal(parseSeparator('\\t'), '\t');
    assert.equal(parseSeparator('::'), '::');
    invalid(() => parseSeparator(''), 'expected a non-empty separator');
  });
});

describe('onInterrupt', () => {
  test('the first signal stops, the second exits 130; removing the handlers detaches them', () => {
    const listeners = new Map<string, ((signal: NodeJS.Signals) => void)[]>();
    const exits: number[] = [];
    const context = {
      process: {
        on: (signal: string, listener: (signal: NodeJS.Signals) => void) =>
          listeners.set(signal, [...(listeners.get(signal) ?? []), listener]),
        removeListener: (signal: string, listener: (signal: NodeJS.Signals) => void) =>
          listeners.set(
            signal,
            (listeners.get(signal) ?? []).filter((l) => l !== listener),
          ),
        exit: (code: number) => exits.push(code),
      },
    } as unknown as CliContext;
    let stops = 0;
    const remove = onInterrupt(context, () => stops++);
    listeners.get('SIGINT')![0]!('SIGINT');
    assert.equal(stops, 1);
    assert.deepEqual(exits, []);
    listeners.get('SIGTERM')![0]!('SIGTERM');
    assert.equal(stops, 1);
    assert.deepEqual(exits, [130]);
    remove();
    assert.equal(listeners.get('SIGINT')!.length, 0);
    assert.equal(listeners.get('SIGTERM')!.length, 0);
  });
});
