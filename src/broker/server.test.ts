import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestMemory } from './request-memory.js';
import { SaslSession, UserCredentials } from './security/index.js';
import {
  KafkaServer,
  RAW_SASL_TOKEN,
  type RequestHandler,
  type ResponseChunks,
  type ServerLogger,
  type ServerOptions,
} from './server.js';

const WAIT_LIMIT_MS = 5000;

interface LogEntry {
  level: string;
  context: Record<string, unknown>;
  message: string;
}

function recordingLogger(): ServerLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (context: Record<string, unknown>, message: string) => {
    entries.push({ level, context, message });
  };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function request(correlationId: number, extra: Buffer = Buffer.alloc(0), apiKey = 18): Buffer {
  const frame = Buffer.alloc(4 + 8 + extra.length);
  frame.writeInt32BE(8 + extra.length, 0);
  frame.writeInt16BE(apiKey, 4);
  frame.writeInt16BE(3, 6);
  frame.writeInt32BE(correlationId, 8);
  extra.copy(frame, 12);
  return frame;
}

function correlationIdBytes(correlationId: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(correlationId, 0);
  return buffer;
}

/** Echo: the correlation id, then the request body after the 8 header bytes. */
function echo(payload: Buffer): Buffer[] {
  return [payload.subarray(4, 8), payload.subarray(8)];
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Response {
  correlationId: number;
  bytes: number;
  /** Kept only for small responses. */
  body: Buffer | null;
}

const KEEP_BODY_BYTES = 4096;

/** A test client with a streaming response reader that does not keep large bodies. */
class TestClient {
  readonly responses: Response[] = [];
  readonly events: string[] = [];
  private header = Buffer.alloc(8);
  private headerFilled = 0;
  private remaining = 0;
  private current: Response | null = null;
  private bodyParts: Buffer[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('end', () => this.events.push('end'));
    socket.on('error', (error: NodeJS.ErrnoException) => this.events.push(`error:${error.code}`));
    this.closed = once(socket, 'close').then(() => {
      this.events.push('close');
    });
  }

  static async connect(port: number): Promise<TestClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new TestClient(socket);
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  async waitForResponses(count: number): Promise<Response[]> {
    await until(() => this.responses.length >= count || this.events.includes('close'), `${count} responses`);
    return this.responses;
  }

  async waitClosed(): Promise<void> {
    await Promise.race([
      this.closed,
      sleep(WAIT_LIMIT_MS, undefined, { ref: false }).then(() => {
        throw new Error('timed out waiting for the server to close the connection');
      }),
    ]);
  }

  private read(chunk: Buffer): void {
    let position = 0;
    while (position < chunk.length) {
      if (this.current === null) {
        const copied = chunk.copy(this.header, this.headerFilled, position, position + 8 - this.headerFilled);
        this.headerFilled += copied;
        position += copied;
        if (this.headerFilled < 8) return;
        const size = this.header.readInt32BE(0);
        this.current = { correlationId: this.header.readInt32BE(4), bytes: size, body: null };
        this.remaining = size - 4;
        this.headerFilled = 0;
        this.bodyParts = [];
      }
      const take = Math.min(this.remaining, chunk.length - position);
      if (this.current.bytes <= KEEP_BODY_BYTES)
        this.bodyParts.push(chunk.subarray(position, position + take));
      position += take;
      this.remaining -= take;
      if (this.remaining === 0) {
        if (this.current.bytes <= KEEP_BODY_BYTES) this.current.body = Buffer.concat(this.bodyParts);
        this.responses.push(this.current);
        this.events.push(`response:${this.current.correlationId}`);
        this.current = null;
      }
    }
  }
}

describe('KafkaServer', () => {
  const servers: KafkaServer[] = [];
  const clients: TestClient[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => process.off('unhandledRejection', onUnhandled));

  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    await Promise.all(servers.splice(0).map((server) => server.close(1000)));
    assert.deepEqual(unhandled, []);
  });

  async function start(
    handler: RequestHandler,
    overrides: Partial<ServerOptions> = {},
  ): Promise<{ server: KafkaServer; port: number; logger: ReturnType<typeof recordingLogger> }> {
    const logger = recordingLogger();
    const server = new KafkaServer({
      host: '127.0.0.1',
      port: 0,
      handler,
      logger,
      maxRequestBytes: 1024 * 1024,
      maxInFlightRequests: 100,
      maxQueuedResponseBytes: 8 * 1024 * 1024,
      idleTimeoutMs: 60_000,
      ...overrides,
    });
    servers.push(server);
    const address = await server.listen();
    assert.equal(address.host, '127.0.0.1');
    return { server, port: address.port, logger };
  }

  async function client(port: number): Promise<TestClient> {
    const created = await TestClient.connect(port);
    clients.push(created);
    return created;
  }

  test('passes request fields and connection info to the handler, and counts traffic', async () => {
    const seen: Array<[number, number, number, number, string, string]> = [];
    const { server, port } = await start(
      (request, connection) => {
        seen.push([
          request.apiKey,
          request.apiVersion,
          request.correlationId,
          request.payload.length,
          connection.listener,
          connection.remoteAddress,
        ]);
        return echo(request.payload);
      },
      { listenerName: 'INTERNAL' },
    );
    const c = await client(port);
    c.send(request(77, Buffer.from('hello'), 3));
    const [response] = await c.waitForResponses(1);
    assert.deepEqual(seen, [[3, 3, 77, 13, 'INTERNAL', '127.0.0.1']]);
    assert.deepEqual(response, { correlationId: 77, bytes: 9, body: Buffer.from('hello') });
    const stats = server.stats();
    assert.equal(stats.connectionsAccepted, 1);
    assert.equal(stats.connectionsOpen, 1);
    assert.equal(stats.requestsReceived, 1);
    assert.equal(stats.responsesSent, 1);
    assert.equal(stats.bytesIn, 17);
    assert.equal(stats.bytesOut, 13);
    assert.equal(stats.framesRejected, 0);
    assert.equal(server.connectionCount, 1);
  });

  test('after a SASL v0 handshake the next frame is a raw token, however short, then requests again', async () => {
    const credentials = await UserCredentials.fromUsers([{ name: 'a', password: 'b' }], {
      scramMechanisms: [],
    });
    const seen: Array<[number, string]> = [];
    const { port } = await start(
      async (request, connection) => {
        const sasl = connection.sasl!;
        seen.push([request.apiKey, request.payload.toString('latin1')]);
        if (request.apiKey === RAW_SASL_TOKEN) {
          assert.ok((await sasl.authenticate(request.payload)).ok);
          return [correlationIdBytes(900)];
        }
        if (request.apiKey === 17) sasl.handshake('PLAIN', 0);
        return echo(request.payload);
      },
      { createSaslSession: () => new SaslSession({ enabledMechanisms: ['PLAIN'], credentials }) },
    );
    const c = await client(port);
    c.send(request(1, Buffer.alloc(0), 17));
    await c.waitForResponses(1);
    const token = Buffer.from('\0a\0b', 'latin1');
    const sizePrefix = Buffer.alloc(4);
    sizePrefix.writeInt32BE(token.length, 0);
    c.send(sizePrefix, token, request(2, Buffer.from('x'), 3));
    const responses = await c.waitForResponses(3);
    assert.deepEqual(
      responses.map((r) => r.correlationId),
      [1, 900, 2],
    );
    assert.deepEqual(
      seen.map(([apiKey]) => apiKey),
      [17, RAW_SASL_TOKEN, 3],
    );
    assert.equal(seen[1]![1], '\0a\0b');
  });

  test('before SASL authentication a frame above maxUnauthenticatedRequestBytes closes the connection', async () => {
    const credentials = await UserCredentials.fromUsers([{ name: 'a', password: 'b' }], {
      scramMechanisms: [],
    });
    const { port, server } = await start((request) => echo(request.payload), {
      createSaslSession: () => new SaslSession({ enabledMechanisms: ['PLAIN'], credentials }),
      maxUnauthenticatedRequestBytes: 1000,
    });
    const small = await client(port);
    small.send(request(1, Buffer.alloc(900), 18));
    assert.equal((await small.waitForResponses(1))[0]!.correlationId, 1);
    const large = await client(port);
    large.send(request(2, Buffer.alloc(1100), 18));
    await large.waitClosed();
    assert.deepEqual(large.responses, []);
    assert.equal(server.stats().framesRejected, 1);
  });

  test('a response marked closeConnection is written, then the connection ends', async () => {
    const { port, server } = await start((request) => {
      const chunks: ResponseChunks = echo(request.payload);
      chunks.closeConnection = true;
      return chunks;
    });
    const c = await client(port);
    c.send(request(5, Buffer.from('bye')));
    await c.waitClosed();
    assert.deepEqual(c.responses, [{ correlationId: 5, bytes: 7, body: Buffer.from('bye') }]);
    assert.deepEqual(c.events, ['response:5', 'end', 'close']);
    await until(() => server.connectionCount === 0, 'the server to drop the connection');
  });

  test('responses keep request order when handlers finish in reverse order', async () => {
    const count = 20;
    const { port } = await start(async (request) => {
      await sleep((count - request.correlationId) * 3);
      return echo(request.payload);
    });
    const c = await client(port);
    c.send(...Array.from({ length: count }, (_, id) => request(id, Buffer.from(`body-${id}`))));
    const responses = await c.waitForResponses(count);
    assert.deepEqual(
      responses.map((response) => [response.correlationId, response.body?.toString()]),
      Array.from({ length: count }, (_, id) => [id, `body-${id}`]),
    );
  });

  test('onWritten runs once per response: after it is written, or when the connection closes first', async () => {
    let written = 0;
    let dropped = 0;
    let finishLate: (() => void) | null = null;
    const { port } = await start((request) => {
      if (request.correlationId === 1) {
        return new Promise((resolve) => {
          finishLate = () => resolve(Object.assign([correlationIdBytes(1)], { onWritten: () => dropped++ }));
        });
      }
      return Object.assign(echo(request.payload), { onWritten: () => written++ });
    });
    const c = await client(port);
    c.send(request(0, Buffer.from('a')));
    await c.waitForResponses(1);
    await until(() => written === 1, 'onWritten after the response was written');
    c.send(request(1));
    await until(() => finishLate !== null, 'the slow handler to start');
    c.socket.destroy();
    await sleep(20);
    finishLate!();
    await until(() => dropped === 1, 'onWritten for a response to a closed connection');
    await sleep(20);
    assert.deepEqual([written, dropped], [1, 1]);
  });

  test('a null response sends nothing but keeps the order of the others', async () => {
    const { port } = await start((request) => {
      const id = request.correlationId;
      if (id % 3 === 0) return null; // synchronous null
      if (id % 3 === 1) return sleep((30 - id) * 2).then(() => null); // late null
      return sleep((id * 7) % 11).then(() => [correlationIdBytes(id)]);
    });
    const c = await client(port);
    c.send(...Array.from({ length: 30 }, (_, id) => request(id)));
    const expected = Array.from({ length: 30 }, (_, id) => id).filter((id) => id % 3 === 2);
    await c.waitForResponses(expected.length);
    await sleep(50);
    assert.deepEqual(
      c.responses.map((response) => response.correlationId),
      expected,
    );
  });

  test('many requests in one chunk never exceed maxInFlightRequests and are all answered in order', async () => {
    let running = 0;
    let maxRunning = 0;
    const { server, port } = await start(
      async (request) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(1);
        running--;
        return [request.payload.subarray(4, 8)];
      },
      { maxInFlightRequests: 4 },
    );
    const c = await client(port);
    const count = 500;
    // Produce requests: the only ones that run side by side.
    c.send(...Array.from({ length: count }, (_, id) => request(id, Buffer.alloc(0), 0)));
    const responses = await c.waitForResponses(count);
    assert.deepEqual(
      responses.map((response) => response.correlationId),
      Array.from({ length: count }, (_, id) => id),
    );
    assert.equal(maxRunning, 4);
    assert.ok(server.stats().readPauses > 0);
  });

  test('maxQueuedRequestBytes bounds the request bytes held across connections; every request is answered', async () => {
    let heldBytes = 0;
    let maxHeldBytes = 0;
    const { port } = await start(
      async (request) => {
        heldBytes += request.payload.length;
        maxHeldBytes = Math.max(maxHeldBytes, heldBytes);
        await sleep(2);
        heldBytes -= request.payload.length;
        return [request.payload.subarray(4, 8)];
      },
      { maxInFlightRequests: 100, maxQueuedRequestBytes: 100_000 },
    );
    // Three connections pipelining 40 Produce requests of ~10 kB each: 1.2 MB if nothing held them back.
    const clients = await Promise.all([client(port), client(port), client(port)]);
    const count = 40;
    for (const c of clients) {
      c.send(...Array.from({ length: count }, (_, id) => request(id, Buffer.alloc(10_000), 0)));
    }
    for (const c of clients) {
      const responses = await c.waitForResponses(count);
      assert.deepEqual(
        responses.map((response) => response.correlationId),
        Array.from({ length: count }, (_, id) => id),
      );
    }
    // At the bound, each connection may still have one more frame decoded from the chunk it was reading.
    assert.ok(maxHeldBytes <= 100_000 + clients.length * 10_008, `held up to ${maxHeldBytes} bytes`);
    assert.ok(maxHeldBytes >= 50_000, `held only ${maxHeldBytes} bytes: the bound should not starve them`);
  });

  test('a shared requestMemory bounds the request bytes of several servers together', async () => {
    let heldBytes = 0;
    let maxHeldBytes = 0;
    const handler: RequestHandler = async (request) => {
      heldBytes += request.payload.length;
      maxHeldBytes = Math.max(maxHeldBytes, heldBytes);
      await sleep(2);
      heldBytes -= request.payload.length;
      return [request.payload.subarray(4, 8)];
    };
    const requestMemory = new RequestMemory(100_000);
    const ports = await Promise.all([
      start(handler, { requestMemory }).then((started) => started.port),
      start(handler, { requestMemory }).then((started) => started.port),
    ]);
    // One connection per server pipelining 40 Produce requests of ~10 kB: 100 kB each would fit a bound per server.
    const clients = await Promise.all(ports.map((port) => client(port)));
    const count = 40;
    for (const c of clients) {
      c.send(...Array.from({ length: count }, (_, id) => request(id, Buffer.alloc(10_000), 0)));
    }
    for (const c of clients) assert.equal((await c.waitForResponses(count)).length, count);
    assert.ok(maxHeldBytes <= 100_000 + clients.length * 10_008, `held up to ${maxHeldBytes} bytes`);
    assert.equal(requestMemory.usedBytes, 0);
  });

  test('one request larger than maxQueuedRequestBytes is still served', async () => {
    const { port } = await start((request) => [request.payload.subarray(4, 8)], {
      maxQueuedRequestBytes: 1_000,
    });
    const c = await client(port);
    c.send(request(1, Buffer.alloc(50_000), 0), request(2, Buffer.alloc(50_000), 0));
    const responses = await c.waitForResponses(2);
    assert.deepEqual(
      responses.map((response) => response.correlationId),
      [1, 2],
    );
  });

  test('a request starts once the earlier ones finished; consecutive Produce requests run together', async () => {
    const events: string[] = [];
    const { port } = await start(async (request) => {
      const id = request.correlationId;
      events.push(`start ${id}`);
      await sleep(id === 1 ? 30 : 5);
      events.push(`end ${id}`);
      return [request.payload.subarray(4, 8)];
    });
    const c = await client(port);
    const produce = 0;
    const listOffsets = 2;
    c.send(
      request(1, Buffer.alloc(0), produce),
      request(2, Buffer.alloc(0), produce),
      request(3, Buffer.alloc(0), listOffsets),
      request(4, Buffer.alloc(0), produce),
      request(5, Buffer.alloc(0), listOffsets),
    );
    const responses = await c.waitForResponses(5);
    assert.deepEqual(
      responses.map((response) => response.correlationId),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(events, [
      'start 1',
      'start 2',
      'end 2',
      'end 1',
      'start 3',
      'end 3',
      'start 4',
      'end 4',
      'start 5',
      'end 5',
    ]);
  });

  test('synchronous handlers answer a burst of small requests in order', async () => {
    const { port } = await start((request) => echo(request.payload), { maxInFlightRequests: 3 });
    const c = await client(port);
    const count = 2000;
    c.send(...Array.from({ length: count }, (_, id) => request(id, Buffer.from([id & 0xff]))));
    const responses = await c.waitForResponses(count);
    assert.equal(responses.length, count);
    assert.ok(
      responses.every((response, id) => response.correlationId === id && response.body?.[0] === (id & 0xff)),
    );
  });

  describe('bad input closes only that connection', () => {
    const badStreams: Array<{ name: string; bytes: Buffer }> = [
      { name: 'HTTP request', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') },
      { name: 'negative size', bytes: Buffer.from([0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0]) },
      { name: 'oversize prefix', bytes: Buffer.from([0x00, 0x10, 0x00, 0x01]) },
      { name: 'size below 8', bytes: Buffer.from([0, 0, 0, 4, 0, 1, 0, 2]) },
      { name: 'good frame, then garbage', bytes: Buffer.concat([request(1), Buffer.from([0x80, 0, 0, 0])]) },
    ];
    for (const { name, bytes } of badStreams) {
      test(name, async () => {
        const { server, port, logger } = await start((request) => echo(request.payload));
        const bystander = await client(port);
        const bad = await client(port);
        bad.send(bytes);
        await bad.waitClosed();
        assert.equal(server.stats().framesRejected, 1);
        assert.equal(logger.entries.filter((entry) => entry.message === 'rejected request frame').length, 1);
        bystander.send(request(5));
        assert.deepEqual(
          (await bystander.waitForResponses(1)).map((response) => response.correlationId),
          [5],
        );
        const fresh = await client(port);
        fresh.send(request(6));
        assert.deepEqual(
          (await fresh.waitForResponses(1)).map((response) => response.correlationId),
          [6],
        );
        await until(() => server.connectionCount === 2, 'the bad connection to be removed');
      });
    }

    test('a truncated frame followed by the client closing is cleaned up', async () => {
      const { server, port } = await start((request) => echo(request.payload));
      const truncated = await client(port);
      truncated.socket.end(request(1, Buffer.alloc(100)).subarray(0, 50));
      await truncated.waitClosed();
      await until(() => server.connectionCount === 0, 'the connection to be removed');
      assert.equal(server.stats().requestsReceived, 0);
      const fresh = await client(port);
      fresh.send(request(2));
      assert.deepEqual(
        (await fresh.waitForResponses(1)).map((response) => response.correlationId),
        [2],
      );
    });

    test('a client that half-closes still gets the responses to requests already sent', async () => {
      const { server, port } = await start(async (request) => {
        await sleep(20);
        return echo(request.payload);
      });
      const c = await client(port);
      c.socket.end(Buffer.concat([request(1), request(2), request(3), request(4)]));
      await c.waitClosed();
      assert.deepEqual(
        c.responses.map((response) => response.correlationId),
        [1, 2, 3, 4],
      );
      await until(() => server.connectionCount === 0, 'the connection to be removed');
    });
  });

  for (const mode of ['throws', 'rejects', 'returns garbage'] as const) {
    test(`a handler that ${mode} closes only that connection`, async () => {
      const { server, port, logger } = await start(async (request) => {
        if (request.apiKey !== 99) return echo(request.payload);
        if (mode === 'rejects') {
          await sleep(5);
          throw new Error('boom');
        }
        if (mode === 'returns garbage') return 'not a response' as unknown as Buffer[];
        throw new Error('boom');
      });
      const bystander = await client(port);
      const victim = await client(port);
      victim.send(request(1), request(2, Buffer.alloc(0), 99), request(3));
      await victim.waitClosed();
      assert.equal(server.stats().handlerErrors, 1);
      assert.equal(logger.entries.filter((entry) => entry.level === 'error').length, 1);
      bystander.send(request(10), request(11));
      assert.deepEqual(
        (await bystander.waitForResponses(2)).map((response) => response.correlationId),
        [10, 11],
      );
    });
  }

  test('a synchronous throw closes the connection without crashing the server', async () => {
    const { server, port } = await start((request) => {
      if (request.correlationId === 2) throw new Error('sync boom');
      return echo(request.payload);
    });
    const victim = await client(port);
    victim.send(request(1), request(2), request(3));
    await victim.waitClosed();
    assert.equal(server.stats().handlerErrors, 1);
    const fresh = await client(port);
    fresh.send(request(4));
    assert.deepEqual(
      (await fresh.waitForResponses(1)).map((response) => response.correlationId),
      [4],
    );
  });

  test('a handler returning undefined synchronously closes the connection without crashing the server', async () => {
    const { server, port } = await start((request) =>
      request.correlationId === 2 ? (undefined as unknown as null) : echo(request.payload),
    );
    const victim = await client(port);
    victim.send(request(1), request(2), request(3));
    await victim.waitClosed();
    assert.equal(server.stats().handlerErrors, 1);
    assert.equal(server.stats().requestsReceived, 2);
  });

  test('a client that does not read makes the server stop reading; everything arrives once it reads', async () => {
    const responseBytes = 1024 * 1024;
    const bigChunk = Buffer.alloc(responseBytes - 4, 0x61);
    const maxInFlightRequests = 8;
    const maxQueuedResponseBytes = 4 * 1024 * 1024;
    const { server, port } = await start((request) => [request.payload.subarray(4, 8), bigChunk], {
      maxInFlightRequests,
      maxQueuedResponseBytes,
    });
    const c = await client(port);
    c.socket.pause();
    const count = 100;
    c.send(...Array.from({ length: count }, (_, id) => request(id)));
    let received = -1;
    let stableSinceMs = Date.now();
    await until(() => {
      const now = server.stats().requestsReceived;
      if (now !== received) {
        received = now;
        stableSinceMs = Date.now();
      }
      return Date.now() - stableSinceMs > 200;
    }, 'the server to stop reading');
    const stats = server.stats();
    if (process.env.SHOW_STATS) console.error(stats);
    assert.ok(stats.requestsReceived < count, `read ${stats.requestsReceived} of ${count} requests`);
    assert.equal(stats.readPausedConnections, 1);
    assert.ok(stats.inFlightRequests <= maxInFlightRequests);
    assert.ok(
      stats.queuedResponseBytes <= maxQueuedResponseBytes + maxInFlightRequests * (responseBytes + 4),
      `queued ${stats.queuedResponseBytes} bytes`,
    );
    c.socket.resume();
    const responses = await c.waitForResponses(count);
    assert.deepEqual(
      responses.map((response) => [response.correlationId, response.bytes]),
      Array.from({ length: count }, (_, id) => [id, responseBytes]),
    );
    assert.equal(server.stats().readPausedConnections, 0);
  });

  test('idle connections are closed after idleTimeoutMs; busy ones are not', async () => {
    const idleTimeoutMs = 100;
    const { server, port } = await start(
      async (request) => {
        await sleep(300);
        return echo(request.payload);
      },
      { idleTimeoutMs },
    );
    const startedMs = Date.now();
    const idle = await client(port);
    const busy = await client(port);
    busy.send(request(1));
    await idle.waitClosed();
    const elapsedMs = Date.now() - startedMs;
    assert.ok(elapsedMs >= idleTimeoutMs - 5 && elapsedMs < 1000, `closed after ${elapsedMs} ms`);
    assert.deepEqual(
      (await busy.waitForResponses(1)).map((response) => response.correlationId),
      [1],
    );
    assert.equal(busy.events.includes('close'), false);
    await busy.waitClosed();
    assert.equal(server.stats().idleConnectionsClosed, 2);
  });

  test('graceful close lets an in-flight request finish and flush before ending the socket', async () => {
    let handlerStarted = false;
    const { server, port } = await start(async (request) => {
      handlerStarted = true;
      await sleep(200);
      return echo(request.payload);
    });
    const c = await client(port);
    c.send(request(9, Buffer.from('last words')));
    await until(() => handlerStarted, 'the handler to start');
    const closeStartedMs = Date.now();
    await server.close(5000);
    const closeTookMs = Date.now() - closeStartedMs;
    assert.ok(closeTookMs >= 150 && closeTookMs < 2000, `close took ${closeTookMs} ms`);
    await c.waitClosed();
    assert.deepEqual(c.events.slice(0, 2), ['response:9', 'end']);
    assert.deepEqual(c.responses[0]?.body, Buffer.from('last words'));
    assert.equal(server.connectionCount, 0);
    const refused = connect({ host: '127.0.0.1', port });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED');
  });

  test('graceful close destroys what is left after the timeout', async () => {
    const { server, port } = await start(() => new Promise<Buffer[] | null>(() => {}));
    const c = await client(port);
    c.send(request(1));
    await until(() => server.stats().requestsReceived === 1, 'the request');
    const closeStartedMs = Date.now();
    await server.close(100);
    const closeTookMs = Date.now() - closeStartedMs;
    assert.ok(closeTookMs >= 90 && closeTookMs < 1000, `close took ${closeTookMs} ms`);
    await c.waitClosed();
    assert.equal(c.responses.length, 0);
    assert.equal(server.connectionCount, 0);
  });

  test('close with no connections resolves, and twice returns the same promise', async () => {
    const { server } = await start(() => null);
    const first = server.close(1000);
    assert.equal(server.close(1000), first);
    await first;
  });

  test('rejects unusable options and reports a port already in use', async () => {
    const handler = () => null;
    const base = {
      host: '127.0.0.1',
      port: 0,
      handler,
      logger: recordingLogger(),
      maxRequestBytes: 100,
      maxInFlightRequests: 1,
      maxQueuedResponseBytes: 100,
      idleTimeoutMs: 100,
    };
    assert.throws(() => new KafkaServer({ ...base, maxInFlightRequests: 0 }), /maxInFlightRequests/);
    assert.throws(() => new KafkaServer({ ...base, idleTimeoutMs: Number.NaN }), /idleTimeoutMs/);
    const { port } = await start(handler);
    const second = new KafkaServer({ ...base, port });
    await assert.rejects(second.listen(), { code: 'EADDRINUSE' });
  });
});
