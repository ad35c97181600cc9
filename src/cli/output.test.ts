import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import type { ConsumerMessage } from '../client/consumer/message.js';
import { ConnectionError, KafkaAggregateError, StaleMetadataError, TopicError } from '../client/errors.js';
import { ErrorCode } from '../protocol/errors.js';
import { CommandFailedError, describeFailure } from './errors.js';
import { InFlightLimit } from './in-flight.js';
import { formatMessage, formatTable, LineWriter } from './output.js';
import { ProgressLine, RateMeter } from './progress.js';

function message(overrides: Partial<ConsumerMessage> = {}): ConsumerMessage {
  return {
    topic: 't',
    partition: 1,
    offset: 7,
    timestamp: 1_700_000_000_000,
    key: Buffer.from('k'),
    value: Buffer.from('v "q"'),
    headers: [],
    ...overrides,
  };
}

describe('formatTable', () => {
  test('pads columns, right-aligns the chosen ones, trims line ends', () => {
    assert.equal(
      formatTable(
        ['Name', 'N', 'Note'],
        [
          ['a', '1', ''],
          ['long-name', '100', 'x'],
        ],
        [1],
      ),
      ['Name         N  Note', 'a            1', 'long-name  100  x'].join('\n'),
    );
  });

  test('a table without rows is its header', () => {
    assert.equal(formatTable(['A', 'B'], []), 'A  B');
  });
});

describe('formatMessage', () => {
  const plain = { format: 'plain' as const, printKey: false, keySeparator: '\t' };

  test('plain: the value, or key + separator + value; null prints as null', () => {
    assert.equal(formatMessage(message(), plain), 'v "q"');
    assert.equal(formatMessage(message(), { ...plain, printKey: true, keySeparator: ' => ' }), 'k => v "q"');
    assert.equal(
      formatMessage(message({ key: null, value: null }), { ...plain, printKey: true }),
      'null\tnull',
    );
  });

  test('json: every field, UTF-8 text, headers as an object (repeated names as arrays)', () => {
    const line = formatMessage(
      message({
        headers: [
          { key: 'a', value: Buffer.from('1') },
          { key: 'b', value: null },
          { key: 'a', value: Buffer.from('2') },
          { key: 'a', value: Buffer.from('3') },
        ],
      }),
      { ...plain, format: 'json' },
    );
    assert.equal(
      line,
      '{"topic":"t","partition":1,"offset":7,"timestamp":1700000000000,"key":"k","value":"v \\"q\\"","headers":{"a":["1","2","3"],"b":null}}',
    );
    assert.equal(
      formatMessage(message({ key: null, value: null }), { ...plain, format: 'json' }),
      '{"topic":"t","partition":1,"offset":7,"timestamp":1700000000000,"key":null,"value":null,"headers":{}}',
    );
  });
});

describe('LineWriter', () => {
  test('waits for drain when the stream is full, and writes every line', async () => {
    const stream = new PassThrough({ highWaterMark: 4 });
    const writer = new LineWriter(stream);
    let written = '';
    const pending = writer.writeLine('first line');
    let resolved = false;
    void pending.then(() => {
      resolved = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(resolved, false);
    stream.on('data', (chunk: Buffer) => {
      written += chunk.toString();
    });
    await pending;
    await writer.writeLine('second');
    assert.equal(written, 'first line\nsecond\n');
  });

  test('a broken pipe turns `closed` on instead of throwing', async () => {
    const stream = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const writer = new LineWriter(stream);
    await writer.writeLine('x');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writer.closed, true);
    await writer.writeLine('ignored');
  });
});

describe('describeFailure', () => {
  test('Kafka errors carry their name; unknown topics say so', () => {
    assert.equal(
      describeFailure(
        new StaleMetadataError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          'This server does not host this topic-partition.',
          {
            topic: 'nope',
          },
        ),
      ),
      "topic 'nope' does not exist (UNKNOWN_TOPIC_OR_PARTITION)",
    );
    assert.equal(
      describeFailure(new ConnectionError('cannot connect to 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1')),
      'cannot connect to 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 (CONNECTION_ERROR)',
    );
    assert.equal(describeFailure(new CommandFailedError('plain words')), 'plain words');
  });

  test('aggregate errors list each item with its subject, on one line', () => {
    const error = new KafkaAggregateError('createTopics', [
      new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'a' already exists.", { topic: 'a' }),
      new TopicError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be\nlarger than 0.', {
        topic: 'b',
      }),
    ]);
    assert.equal(
      describeFailure(error),
      "Topic 'a' already exists (TOPIC_ALREADY_EXISTS); topic 'b': Number of partitions must be larger than 0 (INVALID_PARTITIONS)",
    );
  });
});

describe('InFlightLimit', () => {
  test('roomForMore waits below the bound; allSettled waits for everything', async () => {
    const limit = new InFlightLimit(2);
    const releases: (() => void)[] = [];
    const work = () => new Promise<void>((resolve) => releases.push(resolve));
    limit.add(work());
    limit.add(work());
    assert.equal(limit.size, 2);
    let room = false;
    const waiting = limit.roomForMore().then(() => {
      room = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(room, false);
    releases[0]!();
    await waiting;
    assert.equal(limit.size, 1);
    let settled = false;
    const all = limit.allSettled().then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    releases[1]!();
    await all;
    assert.equal(limit.size, 0);
  });
});

describe('progress', () => {
  test('RateMeter measures per second since the previous call', () => {
    const meter = new RateMeter(1_000);
    assert.equal(meter.rate(500, 1_500), 1_000);
    assert.equal(meter.rate(700, 2_500), 200);
    assert.equal(meter.rate(700, 2_500), 0);
  });

  test('ProgressLine: a line per interval off a terminal; in place on one, erased at stop', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    // Waits for lines rather than a fixed time: timers run late on a busy machine.
    const untilLines = async (wanted: number) => {
      const deadline = Date.now() + 5_000;
      while (lines.length < wanted && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    let n = 0;
    const plainLine = new ProgressLine(sink, () => `tick ${++n}`, 5);
    plainLine.start();
    await untilLines(2);
    plainLine.stop();
    const count = lines.length;
    assert.ok(count >= 2, `expected at least 2 lines, got ${count}`);
    assert.deepEqual(lines.slice(0, 2), ['tick 1\n', 'tick 2\n']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(lines.length, count);

    lines.length = 0;
    const tty = Object.assign(sink, { isTTY: true });
    const ttyLine = new ProgressLine(tty, () => 'live', 5);
    ttyLine.start();
    await untilLines(1);
    ttyLine.stop();
    assert.equal(lines[0], '\rlive\x1b[K');
    assert.equal(lines.at(-1), '\r\x1b[K');
  });
});
