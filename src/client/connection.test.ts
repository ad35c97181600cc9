import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { FrameDecoder } from '../broker/frame-decoder.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  ApiVersionsApi,
  type ApiVersionsResponse,
  type RequestHeader,
  readRequestHeader,
} from '../protocol/generated/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { type ApiDescriptor, BrokerConnection, ResponseFrameDecoder } from './connection.js';
import {
  ClientClosedError,
  ConnectionError,
  ProtocolError,
  RequestTimeoutError,
  UnsupportedVersionError,
} from './errors.js';

// A test API on key 12 (Heartbeat's key, non-flexible up to v3): the request carries an int32 the fake broker
// echoes back; the broker's behaviour per request is chosen by the test through `answer`.
interface Echo {
  value: number;
}
const EchoApi: ApiDescriptor<Echo, Echo> = {
  key: 12,
  name: 'Echo',
  minVersion: 0,
  maxVersion: 3,
  encodeRequest: (w, request) => w.writeInt32(request.value),
  decodeResponse: (r) => ({ value: r.readInt32() }),
};

type Answer = { delayMs?: number; chunked?: boolean; correlationId?: number } | 'ignore' | 'hang-up';

interface FakeBrokerOptions {
  /** Highest ApiVersions version served; newer requests get the v0-layout UNSUPPORTED_VERSION answer. */
  apiVersionsMax?: number;
  /** Leave ApiVersions out of the advertised list (a broker that gives no hint). */
  omitApiVersionsKey?: boolean;
  /** Answer ApiVersions this much later. */
  apiVersionsDelayMs?: number;
  answer?: (value: number, header: RequestHeader) => Answer;
}

interface Received {
  header: RequestHeader;
  body: Buffer;
}

class FakeBroker {
  readonly server: net.Server;
  readonly received: Received[] = [];
  readonly answered: number[] = [];
  readonly sockets = new Set<net.Socket>();
  private readonly chunkedWrites = new Map<net.Socket, Promise<void>>();
  port = 0;

  constructor(private readonly options: FakeBrokerOptions = {}) {
    this.server = net.createServer((socket) => this.serve(socket));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  connection(overrides: Partial<ConstructorParameters<typeof BrokerConnection>[0]> = {}): BrokerConnection {
    return new BrokerConnection({
      host: '127.0.0.1',
      port: this.port,
      nodeId: 1,
      clientId: 'test-client',
      connectTimeoutMs: 2_000,
      requestTimeoutMs: 2_000,
      ...overrides,
    });
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const decoder = new FrameDecoder(1024 * 1024, (frame) => {
      const r = new Reader(frame);
      const header = readRequestHeader(r);
      this.received.push({ header, body: frame.subarray(r.offset) });
      this.handle(socket, header, r);
      return true;
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  }

  private handle(socket: net.Socket, header: RequestHeader, r: Reader): void {
    if (header.requestApiKey === ApiVersionsApi.key) {
      const max = this.options.apiVersionsMax ?? 4;
      const apiKeys = [{ apiKey: 12, minVersion: 0, maxVersion: 2 }];
      if (!this.options.omitApiVersionsKey) apiKeys.push({ apiKey: 18, minVersion: 0, maxVersion: max });
      const unsupported = header.requestApiVersion > max;
      const response: ApiVersionsResponse = {
        errorCode: unsupported ? ErrorCode.UNSUPPORTED_VERSION : ErrorCode.NONE,
        apiKeys,
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1n,
        finalizedFeatures: [],
        zkMigrationReady: false,
      };
      const w = new Writer();
      w.writeInt32(header.correlationId);
      ApiVersionsApi.encodeResponse(w, response, unsupported ? 0 : header.requestApiVersion);
      setTimeout(() => this.write(socket, w.toBuffer(), false), this.options.apiVersionsDelayMs ?? 0);
      return;
    }
    const value = r.readInt32();
    const answer = this.options.answer?.(value, header) ?? {};
    if (answer === 'ignore') return;
    if (answer === 'hang-up') {
      socket.destroy();
      return;
    }
    const w = new Writer();
    w.writeInt32(answer.correlationId ?? header.correlationId);
    w.writeInt32(value);
    const send = () => {
      this.answered.push(value);
      this.write(socket, w.toBuffer(), answer.chunked ?? false);
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  }

  private write(socket: net.Socket, payload: Buffer, chunked: boolean): void {
    const frame = Buffer.alloc(4 + payload.length);
    frame.writeInt32BE(payload.length, 0);
    payload.copy(frame, 4);
    if (!chunked) {
      socket.write(frame);
      return;
    }
    // One byte per write, each in its own tick, so the client sees many small chunks; frames stay in order.
    const previous = this.chunkedWrites.get(socket) ?? Promise.resolve();
    const done = previous.then(async () => {
      for (let index = 0; index < frame.length && !socket.destroyed; index++) {
        socket.write(frame.subarray(index, index + 1));
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    this.chunkedWrites.set(socket, done);
  }
}

const brokers: FakeBroker[] = [];
const connections: BrokerConnection[] = [];
async function fakeBroker(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const broker = await new FakeBroker(options).start();
  brokers.push(broker);
  return broker;
}
async function connected(broker: FakeBroker, overrides = {}): Promise<BrokerConnection> {
  const connection = broker.connection(overrides);
  connections.push(connection);
  await connection.connect();
  return connection;
}

after(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await Promise.all(brokers.map((b) => b.stop()));
});

describe('ResponseFrameDecoder', () => {
  const frames = [Buffer.from([0, 0, 0, 7, 1]), Buffer.from([0, 0, 0, 9]), Buffer.alloc(300, 0xab)];
  const stream = Buffer.concat(
    frames.flatMap((f) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(f.length, 0);
      return [size, f];
    }),
  );

  test('decodes frames fed one byte at a time', () => {
    const out: Buffer[] = [];
    const decoder = new ResponseFrameDecoder(1024, (f) => out.push(Buffer.from(f)));
    for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1));
    assert.deepEqual(out, frames);
  });

  test('decodes many frames in one chunk and frames split at every position', () => {
    for (let split = 0; split <= stream.length; split++) {
      const out: Buffer[] = [];
      const decoder = new ResponseFrameDecoder(1024, (f) => out.push(Buffer.from(f)));
      decoder.push(stream.subarray(0, split));
      decoder.push(stream.subarray(split));
      assert.deepEqual(out, frames, `split at ${split}`);
    }
  });

  test('reads in place: frames survive the reuse of the read buffer, and a large frame is read into itself', () => {
    const big = Buffer.alloc(200_000, 0xcd);
    const bigSize = Buffer.alloc(4);
    bigSize.writeInt32BE(big.length, 0);
    const all = Buffer.concat([stream, bigSize, big, stream]);
    for (const readBytes of [1, 5, 1000, 70_000]) {
      const out: Buffer[] = [];
      const decoder = new ResponseFrameDecoder(1_000_000, (f) => out.push(f));
      const targets = new Set<ArrayBufferLike>();
      let position = 0;
      while (position < all.length) {
        const target = decoder.readTarget();
        const bytes = Math.min(readBytes, target.length, all.length - position);
        all.copy(target, 0, position, position + bytes);
        targets.add(target.buffer);
        decoder.onRead(bytes, target);
        position += bytes;
      }
      assert.deepEqual(out, [...frames, big, ...frames], `reads of ${readBytes} bytes`);
      assert.ok(targets.has(out[frames.length]!.buffer), 'the big frame was the read target');
    }
  });

  test('rejects a negative, too small or too large size prefix', () => {
    for (const size of [-1, 3, 1025]) {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(size, 0);
      const decoder = new ResponseFrameDecoder(1024, () => assert.fail('no frame expected'));
      assert.throws(() => decoder.push(prefix), ProtocolError, `size ${size}`);
    }
  });
});

describe('BrokerConnection', () => {
  test('negotiates with ApiVersions v3, sending the software name and version', async () => {
    const broker = await fakeBroker();
    const connection = await connected(broker);
    assert.equal(connection.isConnected, true);
    const first = broker.received[0]!;
    assert.equal(first.header.requestApiKey, 18);
    assert.equal(first.header.requestApiVersion, 3);
    assert.equal(first.header.clientId, 'test-client');
    const request = ApiVersionsApi.decodeRequest(new Reader(first.body), 3);
    assert.equal(request.clientSoftwareName, 'sluice');
    assert.equal(request.clientSoftwareVersion, '0.1.0');
    assert.deepEqual(connection.apiVersions.get(12), { min: 0, max: 2 });
  });

  test('falls back to the broker-advertised ApiVersions version after UNSUPPORTED_VERSION (v0 layout)', async () => {
    const broker = await fakeBroker({ apiVersionsMax: 2 });
    const connection = await connected(broker);
    assert.deepEqual(
      broker.received.map((r) => r.header.requestApiVersion),
      [3, 2],
    );
    assert.deepEqual(connection.apiVersions.get(12), { min: 0, max: 2 });
    assert.deepEqual((await connection.send(EchoApi, { value: 5 })).value, 5);
  });

  test('falls back to ApiVersions v0 when the error answer does not list ApiVersions', async () => {
    const broker = await fakeBroker({ apiVersionsMax: 0, omitApiVersionsKey: true });
    await connected(broker);
    assert.deepEqual(
      broker.received.map((r) => r.header.requestApiVersion),
      [3, 0],
    );
  });

  test('a connection is not reported connected until its versions are known', async () => {
    const broker = await fakeBroker({ apiVersionsDelayMs: 100 });
    const connection = broker.connection({});
    connections.push(connection);
    const first = connection.connect();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(connection.isConnected, false);
    const second = connection.connect();
    await Promise.all([first, second]);
    assert.equal(connection.isConnected, true);
    assert.equal(connection.versionFor({ key: 12, minVersion: 0, maxVersion: 4 }), 2);
  });

  test('versionFor picks the highest common version and honours clientMax', async () => {
    const broker = await fakeBroker();
    const connection = await connected(broker);
    assert.equal(connection.versionFor(EchoApi), 2);
    assert.equal(connection.versionFor(EchoApi, 1), 1);
    assert.equal(connection.versionFor({ ...EchoApi, maxVersion: 1 }), 1);
    assert.throws(() => connection.versionFor({ ...EchoApi, minVersion: 3 }), UnsupportedVersionError);
    assert.throws(() => connection.versionFor({ ...EchoApi, key: 99 }), UnsupportedVersionError);
    await assert.rejects(connection.send({ ...EchoApi, key: 99 }, { value: 1 }), UnsupportedVersionError);
  });

  test('matches pipelined responses by correlation id, whatever order they come in', async () => {
    const delays = new Map([
      [1, 80],
      [2, 0],
      [3, 40],
    ]);
    const broker = await fakeBroker({ answer: (value) => ({ delayMs: delays.get(value) ?? 0 }) });
    const connection = await connected(broker);
    const results = await Promise.all([1, 2, 3].map((value) => connection.send(EchoApi, { value })));
    assert.deepEqual(
      results.map((r) => r.value),
      [1, 2, 3],
    );
    assert.deepEqual(broker.answered, [2, 3, 1]);
    assert.equal(connection.inFlightCount, 0);
    const ids = broker.received.slice(1).map((r) => r.header.correlationId);
    assert.equal(new Set(ids).size, 3);
    assert.deepEqual(
      broker.received.slice(1).map((r) => r.header.requestApiVersion),
      [2, 2, 2],
    );
  });

  test('reassembles responses that arrive one byte per chunk', async () => {
    const broker = await fakeBroker({ answer: () => ({ chunked: true }) });
    const connection = await connected(broker);
    const results = await Promise.all([7, 8].map((value) => connection.send(EchoApi, { value })));
    assert.deepEqual(
      results.map((r) => r.value),
      [7, 8],
    );
  });

  test('times out one request, discards its late response and stays usable', async () => {
    const broker = await fakeBroker({ answer: (value) => ({ delayMs: value === 1 ? 150 : 0 }) });
    const connection = await connected(broker);
    const started = Date.now();
    await assert.rejects(connection.send(EchoApi, { value: 1 }, { timeoutMs: 40 }), (error: unknown) => {
      assert.ok(error instanceof RequestTimeoutError);
      assert.equal(error.code, -1);
      assert.equal(error.type, 'REQUEST_TIMEOUT');
      assert.equal(error.retriable, true);
      return true;
    });
    assert.ok(Date.now() - started < 140, 'the timeout fired before the response came');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(broker.answered, [1]);
    assert.equal(connection.isConnected, true);
    assert.equal((await connection.send(EchoApi, { value: 2 })).value, 2);
  });

  test('socket loss rejects every request in flight with ConnectionError; connect() works again', async () => {
    let hangUp = true;
    const broker = await fakeBroker({
      answer: (value) => (value === 3 && hangUp ? 'hang-up' : value < 3 ? 'ignore' : {}),
    });
    const connection = await connected(broker);
    const pending = [1, 2].map((value) => connection.send(EchoApi, { value }));
    const trigger = connection.send(EchoApi, { value: 3 });
    const outcomes = await Promise.allSettled([...pending, trigger]);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(outcome.reason instanceof ConnectionError, String(outcome.reason));
      assert.equal(outcome.reason.retriable, true);
    }
    assert.equal(connection.isConnected, false);
    assert.equal(connection.inFlightCount, 0);
    await assert.rejects(connection.send(EchoApi, { value: 4 }), ConnectionError);
    hangUp = false;
    await connection.connect();
    assert.equal((await connection.send(EchoApi, { value: 4 })).value, 4);
  });

  test('expectResponse: false resolves once written and leaves nothing in flight', async () => {
    const broker = await fakeBroker({ answer: () => 'ignore' });
    const connection = await connected(broker);
    assert.equal(await connection.send(EchoApi, { value: 9 }, { expectResponse: false }), undefined);
    assert.equal(connection.inFlightCount, 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(broker.received.at(-1)?.body.readInt32BE(0), 9);
  });

  test('correlation ids wrap from 2^31-1 to 0', async () => {
    const broker = await fakeBroker();
    const connection = await connected(broker);
    (connection as unknown as { nextCorrelationId: number }).nextCorrelationId = 0x7ffffffe;
    await Promise.all([1, 2].map((value) => connection.send(EchoApi, { value })));
    assert.deepEqual(
      broker.received.slice(-2).map((r) => r.header.correlationId),
      [0x7fffffff, 0],
    );
  });

  test('a response nobody asked for desynchronises the connection: everything in flight fails', async () => {
    const broker = await fakeBroker({
      answer: (value) => (value === 1 ? { correlationId: 424242 } : 'ignore'),
    });
    const connection = await connected(broker);
    const waiting = assert.rejects(connection.send(EchoApi, { value: 2 }), ConnectionError);
    await assert.rejects(connection.send(EchoApi, { value: 1 }), ConnectionError);
    await waiting;
    assert.equal(connection.isConnected, false);
  });

  test('connect to a closed port fails with ConnectionError; close() makes the connection unusable', async () => {
    const broker = await fakeBroker();
    const port = broker.port;
    await broker.stop();
    brokers.splice(brokers.indexOf(broker), 1);
    const connection = new BrokerConnection({
      host: '127.0.0.1',
      port,
      nodeId: -1,
      clientId: 'c',
      connectTimeoutMs: 1_000,
      requestTimeoutMs: 1_000,
    });
    await assert.rejects(connection.connect(), ConnectionError);
    await connection.close();
    await assert.rejects(connection.connect(), ClientClosedError);
  });

  test('close() rejects requests in flight with ClientClosedError', async () => {
    const broker = await fakeBroker({ answer: () => 'ignore' });
    const connection = await connected(broker);
    const waiting = assert.rejects(connection.send(EchoApi, { value: 1 }), ClientClosedError);
    await connection.close();
    await waiting;
    await assert.rejects(connection.send(EchoApi, { value: 1 }), ClientClosedError);
  });
});
