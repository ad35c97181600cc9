import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import { backoffDelayMs, Cluster, parseBrokerAddress } from './cluster.js';
import {
  ClientClosedError,
  ConfigError,
  ConnectionError,
  CoordinatorError,
  errorFromCode,
  RequestTimeoutError,
  StaleMetadataError,
  TopicError,
} from './errors.js';

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function cluster(port: number, retries = 3): Cluster {
  return new Cluster({
    bootstrap: `127.0.0.1:${port}`,
    connectTimeoutMs: 500,
    retry: { retries, initialBackoffMs: 1, maxBackoffMs: 5 },
  });
}

describe('parseBrokerAddress', () => {
  test('host:port, bare host, bracketed IPv6', () => {
    assert.deepEqual(parseBrokerAddress('kafka-1:9093'), { host: 'kafka-1', port: 9093 });
    assert.deepEqual(parseBrokerAddress(' 10.0.0.1 '), { host: '10.0.0.1', port: 9092 });
    assert.deepEqual(parseBrokerAddress('[::1]:19092'), { host: '::1', port: 19092 });
    assert.deepEqual(parseBrokerAddress('[::1]'), { host: '::1', port: 9092 });
  });

  test('rejects bad ports and empty hosts with ConfigError', () => {
    for (const bad of ['h:0', 'h:70000', 'h:x', ':9092', '']) {
      assert.throws(() => parseBrokerAddress(bad), ConfigError, bad);
    }
  });

  test('Cluster splits a comma-separated bootstrap string and refuses an empty one', () => {
    assert.doesNotThrow(() => new Cluster({ bootstrap: 'a:1,b:2' }));
    assert.throws(() => new Cluster({ bootstrap: ' , ' }), ConfigError);
  });
});

describe('backoffDelayMs', () => {
  test('doubles from the initial delay, capped, with ±20% jitter', () => {
    const middle = () => 0.5;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10].map((attempt) => backoffDelayMs(attempt, 100, 1000, middle)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(
      backoffDelayMs(2, 100, 1000, () => 0),
      320,
    );
    assert.equal(
      backoffDelayMs(2, 100, 1000, () => 1),
      480,
    );
    assert.equal(
      backoffDelayMs(5, 100, 1000, () => 1),
      1000,
      'jitter never exceeds the cap',
    );
  });
});

describe('Cluster.retry', () => {
  test('retries retriable errors until the operation succeeds', async () => {
    const c = cluster(1);
    const attempts: number[] = [];
    const result = await c.retry(async (attempt) => {
      attempts.push(attempt);
      if (attempt < 2) throw new RequestTimeoutError('slow');
      return 'done';
    });
    assert.equal(result, 'done');
    assert.deepEqual(attempts, [0, 1, 2]);
    await c.close();
  });

  test('never retries a non-retriable error or a foreign error', async () => {
    const c = cluster(1);
    let calls = 0;
    await assert.rejects(
      c.retry(async () => {
        calls++;
        throw errorFromCode(ErrorCode.TOPIC_ALREADY_EXISTS);
      }),
      TopicError,
    );
    assert.equal(calls, 1);
    await assert.rejects(
      c.retry(async () => {
        calls++;
        throw new TypeError('bug');
      }),
      TypeError,
    );
    assert.equal(calls, 2);
    await c.close();
  });

  test('gives up after `retries` retries with the last error', async () => {
    const c = cluster(1, 2);
    let calls = 0;
    await assert.rejects(
      c.retry(async () => {
        calls++;
        throw new CoordinatorError(ErrorCode.NOT_COORDINATOR, `attempt ${calls}`, { groupId: 'g' });
      }),
      (error: unknown) => error instanceof CoordinatorError && error.message === 'attempt 3',
    );
    assert.equal(calls, 3);
    let overridden = 0;
    await assert.rejects(
      c.retry(
        async () => {
          overridden++;
          throw new RequestTimeoutError('slow');
        },
        { retries: 0 },
      ),
      RequestTimeoutError,
    );
    assert.equal(overridden, 1);
    await c.close();
  });

  test('keeps retrying when the metadata refresh it attempts for StaleMetadataError fails', async () => {
    const c = cluster(await closedPort(), 2);
    let calls = 0;
    await assert.rejects(
      c.retry(async () => {
        calls++;
        throw new StaleMetadataError(ErrorCode.NOT_LEADER_OR_FOLLOWER, undefined, {
          topic: 't',
          partition: 0,
        });
      }),
      StaleMetadataError,
    );
    assert.equal(calls, 3);
    await c.close();
  });

  test('close() ends a retry that is waiting out its backoff', async () => {
    const c = new Cluster({
      bootstrap: '127.0.0.1:1',
      retry: { retries: 5, initialBackoffMs: 10_000, maxBackoffMs: 10_000 },
    });
    const started = Date.now();
    const running = c.retry(async () => {
      throw new RequestTimeoutError('slow');
    });
    setTimeout(() => void c.close(), 20);
    await assert.rejects(running, ClientClosedError);
    assert.ok(Date.now() - started < 2_000);
    await assert.rejects(
      c.retry(async () => 1),
      ClientClosedError,
    );
  });
});

describe('Cluster.connect', () => {
  test('fails with ConnectionError naming every unreachable bootstrap broker', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const c = new Cluster({ bootstrap: [`127.0.0.1:${a}`, `127.0.0.1:${b}`], connectTimeoutMs: 500 });
    await assert.rejects(c.connect(), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.match(error.message, new RegExp(`${a}.*${b}`));
      return true;
    });
    await c.close();
  });
});
