// Malformed input on raw sockets must never take the broker down: after each case the process is still alive,
// still answers ApiVersions, and at the end a normal kafkajs client still produces and consumes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { type Broker, disposeAllBrokers, startBroker } from '../helpers/broker.js';
import { createKafka, readAll } from '../helpers/kafka.js';
import { decodeApiVersionsV0, encodeRequest, exchange } from '../helpers/raw.js';

const testTimeoutMs = 30_000;
const apiVersionsKey = 18;
const unsupportedVersionCode = 35;

function sizePrefix(size: number, extra: Buffer = Buffer.alloc(0)): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(size, 0);
  return Buffer.concat([prefix, extra]);
}

describe('garbage on the wire', { timeout: 150_000 }, () => {
  let broker: Broker;

  /** The process is alive and a fresh connection still gets a correct ApiVersions v0 answer. */
  async function assertBrokerHealthy(context: string): Promise<void> {
    assert.equal(broker.isRunning, true, `broker process exited after ${context}:\n${broker.logs()}`);
    const result = await exchange(encodeRequest(apiVersionsKey, 0, 4242, 'health'), {
      port: broker.port,
      expectFrames: 1,
    });
    assert.equal(result.frames.length, 1, `no ApiVersions answer after ${context}`);
    const response = decodeApiVersionsV0(result.frames[0]!);
    assert.equal(response.correlationId, 4242);
    assert.equal(response.errorCode, 0);
  }

  before(async () => {
    broker = await startBroker();
  });

  after(async () => {
    await disposeAllBrokers();
  });

  test('ApiVersions v0 hand-encoded gets error 0 and lists Produce', { timeout: testTimeoutMs }, async () => {
    const result = await exchange(encodeRequest(apiVersionsKey, 0, 7, 'raw-client'), {
      port: broker.port,
      expectFrames: 1,
    });
    assert.equal(result.frames.length, 1);
    const response = decodeApiVersionsV0(result.frames[0]!);
    assert.equal(response.correlationId, 7);
    assert.equal(response.errorCode, 0);
    const byKey = new Map(response.apiKeys.map((k) => [k.apiKey, k]));
    assert.equal(byKey.size, response.apiKeys.length, 'each API key listed once');
    const produce = byKey.get(0);
    assert.ok(produce, `Produce (0) listed: ${JSON.stringify(response.apiKeys)}`);
    assert.ok(produce.minVersion <= produce.maxVersion, 'Produce min <= max');
    const apiVersions = byKey.get(apiVersionsKey);
    assert.ok(apiVersions, 'ApiVersions (18) listed');
    assert.equal(apiVersions.minVersion, 0, 'ApiVersions v0 is supported');
    for (const key of [1, 2, 3]) assert.ok(byKey.has(key), `API key ${key} listed`);
  });

  test('ApiVersions with a null client id is answered', { timeout: testTimeoutMs }, async () => {
    const result = await exchange(encodeRequest(apiVersionsKey, 0, 8, null), {
      port: broker.port,
      expectFrames: 1,
    });
    const response = decodeApiVersionsV0(result.frames[0]!);
    assert.deepEqual([response.correlationId, response.errorCode], [8, 0]);
  });

  test('ApiVersions v99 gets UNSUPPORTED_VERSION in the v0 layout with the API list', {
    timeout: testTimeoutMs,
  }, async () => {
    const result = await exchange(encodeRequest(apiVersionsKey, 99, 99_001, 'future-client'), {
      port: broker.port,
      expectFrames: 1,
    });
    assert.equal(result.frames.length, 1, 'one response frame');
    const response = decodeApiVersionsV0(result.frames[0]!);
    assert.equal(response.correlationId, 99_001);
    assert.equal(response.errorCode, unsupportedVersionCode);
    const apiVersions = response.apiKeys.find((k) => k.apiKey === apiVersionsKey);
    assert.ok(
      apiVersions,
      `ApiVersions (18) listed in the error answer: ${JSON.stringify(response.apiKeys)}`,
    );
    assert.ok(
      response.apiKeys.some((k) => k.apiKey === 0),
      'Produce (0) listed in the error answer',
    );
  });

  test('pipelined and byte-at-a-time requests are answered in order', {
    timeout: testTimeoutMs,
  }, async () => {
    const pipelined = Buffer.concat([1, 2, 3].map((id) => encodeRequest(apiVersionsKey, 0, id, 'pipe')));
    const inOrder = await exchange(pipelined, { port: broker.port, expectFrames: 3 });
    assert.deepEqual(
      inOrder.frames.map((f) => decodeApiVersionsV0(f).correlationId),
      [1, 2, 3],
    );
    const trickled = await exchange(encodeRequest(apiVersionsKey, 0, 55, 'slow'), {
      port: broker.port,
      expectFrames: 1,
      chunkBytes: 1,
      timeoutMs: 5_000,
    });
    assert.equal(decodeApiVersionsV0(trickled.frames[0]!).correlationId, 55);
  });

  test('random bytes do not crash the broker', { timeout: testTimeoutMs }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2_000 }), async (bytes) => {
        await exchange(Buffer.from(bytes), { port: broker.port, timeoutMs: 150 });
        return broker.isRunning;
      }),
      { seed: 20_251_125, numRuns: 25 },
    );
    for (let i = 0; i < 5; i++) await exchange(randomBytes(64 * 1024), { port: broker.port, timeoutMs: 150 });
    await assertBrokerHealthy('random bytes');
  });

  test('an oversize length prefix makes the broker close the connection', {
    timeout: testTimeoutMs,
  }, async () => {
    const result = await exchange(sizePrefix(0x7fffffff, randomBytes(32)), {
      port: broker.port,
      timeoutMs: 5_000,
    });
    assert.equal(result.closedByBroker, true, 'connection closed by the broker');
    assert.equal(result.frames.length, 0);
    await assertBrokerHealthy('a 0x7fffffff size prefix');
  });

  test('a negative length prefix makes the broker close the connection', {
    timeout: testTimeoutMs,
  }, async () => {
    for (const size of [-1, -2_147_483_648]) {
      const result = await exchange(sizePrefix(size, randomBytes(16)), {
        port: broker.port,
        timeoutMs: 5_000,
      });
      assert.equal(result.closedByBroker, true, `connection closed for size ${size}`);
      assert.equal(result.frames.length, 0);
    }
    await assertBrokerHealthy('negative size prefixes');
  });

  test('a truncated frame followed by close is harmless', { timeout: testTimeoutMs }, async () => {
    const full = encodeRequest(apiVersionsKey, 0, 1, 'truncated');
    for (const cut of [2, 4, 6, full.length - 1]) {
      const result = await exchange(full.subarray(0, cut), {
        port: broker.port,
        endAfterWrite: true,
        timeoutMs: 2_000,
      });
      assert.equal(result.frames.length, 0, `no answer to a frame cut at ${cut} bytes`);
    }
    await assertBrokerHealthy('truncated frames');
  });

  test('an unknown API key does not crash the broker', { timeout: testTimeoutMs }, async () => {
    const result = await exchange(encodeRequest(9999, 0, 77, 'unknown-api', randomBytes(20)), {
      port: broker.port,
      timeoutMs: 2_000,
    });
    for (const frame of result.frames)
      assert.equal(frame.readInt32BE(0), 77, 'any answer carries the correlation id');
    await assertBrokerHealthy('API key 9999');
  });

  test('an unsupported version of a known API does not crash the broker', {
    timeout: testTimeoutMs,
  }, async () => {
    for (const [apiKey, version] of [
      [3, 99],
      [0, 1_000],
      [1, -1],
    ] as const) {
      const result = await exchange(encodeRequest(apiKey, version, 88, 'bad-version', randomBytes(40)), {
        port: broker.port,
        timeoutMs: 2_000,
      });
      for (const frame of result.frames) assert.equal(frame.readInt32BE(0), 88);
    }
    await assertBrokerHealthy('unsupported versions');
  });

  test('a known API with a garbage body does not crash the broker', { timeout: testTimeoutMs }, async () => {
    // Metadata v1, Produce v3 and Fetch v4 with bodies that claim huge arrays or strings.
    const lies = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0x00, 0x01]);
    for (const [apiKey, version] of [
      [3, 1],
      [0, 3],
      [1, 4],
      [19, 0],
    ] as const) {
      await exchange(encodeRequest(apiKey, version, 89, 'lying-body', lies), {
        port: broker.port,
        timeoutMs: 1_000,
      });
    }
    await assertBrokerHealthy('garbage request bodies');
  });

  test('after all that, kafkajs still produces and consumes', { timeout: testTimeoutMs }, async () => {
    const kafka = createKafka(broker.bootstrap);
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: 'after-garbage',
        acks: -1,
        messages: [
          { key: 'a', value: 'still' },
          { key: 'b', value: 'works' },
        ].map((m) => ({ ...m, partition: 0 })),
      });
    } finally {
      await producer.disconnect();
    }
    const consumed = await readAll(kafka, 'after-garbage');
    assert.deepEqual(
      consumed.map((m) => [m.partition, m.offset, m.key, m.value]),
      [
        [0, '0', 'a', 'still'],
        [0, '1', 'b', 'works'],
      ],
    );
  });
});
