import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { readRequestHeader } from '../../src/protocol/generated/headers.js';
import {
  FindCoordinatorApi,
  HeartbeatApi,
  type HeartbeatRequest,
  JoinGroupApi,
  type JoinGroupRequest,
  LeaveGroupApi,
  OffsetCommitApi,
  type OffsetCommitResponse,
} from '../../src/protocol/generated/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import {
  ApiClient,
  encodeApiRequest,
  findGroupCoordinator,
  KafkaResponseError,
  parseApiResponse,
} from './api-client.js';
import { ResponseFormatError } from './codec.js';
import { KafkaConnection } from './connection.js';

const HEARTBEAT: HeartbeatRequest = { groupId: 'g', generationId: 7, memberId: 'm-1', groupInstanceId: null };

describe('encodeApiRequest', () => {
  test('Heartbeat v4: size, header v2 with client id and tagged fields, compact body', () => {
    const frame = encodeApiRequest(HeartbeatApi, 4, 0x01020304, HEARTBEAT);
    const expected = Buffer.concat([
      Buffer.from([0, 0, 0, 35]), // size of what follows
      Buffer.from([0, 12, 0, 4, 1, 2, 3, 4]), // api key 12, version 4, correlation id
      Buffer.from([0, 12]),
      Buffer.from('sluice-bench'), // client id: int16 length even in header v2
      Buffer.from([0]), // header tagged fields
      Buffer.from([2]),
      Buffer.from('g'), // compact group id
      Buffer.from([0, 0, 0, 7]), // generation id
      Buffer.from([4]),
      Buffer.from('m-1'), // compact member id
      Buffer.from([0]), // null group instance id
      Buffer.from([0]), // body tagged fields
    ]);
    assert.deepEqual(frame, expected);
  });

  test('the broker-side decoders read back what was encoded, flexible and not', () => {
    const join: JoinGroupRequest = {
      groupId: 'bench',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 20_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from([0, 0, 1, 2]) }],
      reason: null,
    };
    const frame = encodeApiRequest(JoinGroupApi, 9, 42, join);
    assert.equal(frame.readInt32BE(0), frame.length - 4);
    const reader = new Reader(frame, 4);
    assert.deepEqual(readRequestHeader(reader), {
      requestApiKey: 11,
      requestApiVersion: 9,
      correlationId: 42,
      clientId: 'sluice-bench',
    });
    assert.deepEqual(JoinGroupApi.decodeRequest(reader, 9), join);
    assert.equal(reader.remaining, 0);

    const leave = encodeApiRequest(LeaveGroupApi, 2, 5, { groupId: 'bench', memberId: 'm-9', members: [] });
    const leaveReader = new Reader(leave, 4);
    assert.equal(readRequestHeader(leaveReader).correlationId, 5);
    assert.deepEqual(LeaveGroupApi.decodeRequest(leaveReader, 2), {
      groupId: 'bench',
      memberId: 'm-9',
      members: [],
    });
    assert.equal(leaveReader.remaining, 0);
  });
});

/** A response frame body after the correlation id, as KafkaConnection hands it to the parser. */
function responsePayload(flexible: boolean, encodeBody: (writer: Writer) => void): Buffer {
  const writer = new Writer();
  if (flexible) writer.writeUnsignedVarint(0);
  encodeBody(writer);
  return writer.toBuffer();
}

describe('parseApiResponse', () => {
  const commit: OffsetCommitResponse = {
    throttleTimeMs: 0,
    topics: [{ name: 't', partitions: [{ partitionIndex: 3, errorCode: ErrorCode.NONE }] }],
  };

  test('skips the flexible response header tagged fields (OffsetCommit v8)', () => {
    const payload = responsePayload(true, (w) => OffsetCommitApi.encodeResponse(w, commit, 8));
    assert.deepEqual(parseApiResponse(OffsetCommitApi, 8, payload), commit);
  });

  test('reads a non-flexible body right after the correlation id (OffsetCommit v7)', () => {
    const payload = responsePayload(false, (w) => OffsetCommitApi.encodeResponse(w, commit, 7));
    assert.deepEqual(parseApiResponse(OffsetCommitApi, 7, payload), commit);
  });

  test('bytes left after the body are an error', () => {
    const payload = responsePayload(false, (w) => {
      OffsetCommitApi.encodeResponse(w, commit, 7);
      w.writeInt8(0);
    });
    assert.throws(
      () => parseApiResponse(OffsetCommitApi, 7, payload),
      new ResponseFormatError('OffsetCommit v7 response has 1 trailing bytes'),
    );
  });
});

/**
 * A one-connection fake broker: answers each Heartbeat v4 with `errorCodes` in turn and FindCoordinator v4
 * with COORDINATOR_NOT_AVAILABLE once, then this address. Records the correlation ids it saw.
 */
async function fakeBroker(errorCodes: number[]) {
  const correlationIds: number[] = [];
  let coordinatorLookups = 0;
  const server = net.createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        const reader = new Reader(pending.subarray(4, 4 + size));
        pending = pending.subarray(4 + size);
        const header = readRequestHeader(reader);
        correlationIds.push(header.correlationId);
        const writer = new Writer();
        writer.writeInt32(0);
        writer.writeInt32(header.correlationId);
        writer.writeUnsignedVarint(0);
        if (header.requestApiKey === HeartbeatApi.key) {
          HeartbeatApi.decodeRequest(reader, header.requestApiVersion);
          const errorCode = errorCodes.shift() ?? ErrorCode.NONE;
          HeartbeatApi.encodeResponse(writer, { throttleTimeMs: 0, errorCode }, header.requestApiVersion);
        } else {
          const request = FindCoordinatorApi.decodeRequest(reader, header.requestApiVersion);
          const loading = coordinatorLookups++ === 0;
          const { port } = server.address() as net.AddressInfo;
          FindCoordinatorApi.encodeResponse(
            writer,
            {
              throttleTimeMs: 0,
              errorCode: 0,
              errorMessage: null,
              nodeId: 0,
              host: '',
              port: 0,
              coordinators: [
                {
                  key: request.coordinatorKeys[0]!,
                  nodeId: 1,
                  host: '127.0.0.1',
                  port,
                  errorCode: loading ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.NONE,
                  errorMessage: null,
                },
              ],
            },
            header.requestApiVersion,
          );
        }
        const frame = writer.toBuffer();
        frame.writeInt32BE(frame.length - 4, 0);
        socket.write(frame);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const client = new ApiClient(await KafkaConnection.connect('127.0.0.1', port, { maxInFlight: 4 }));
  return { server, client, port, correlationIds };
}

describe('ApiClient', () => {
  test('numbers requests, times them, and decodes pipelined answers in order', async () => {
    const { server, client, correlationIds } = await fakeBroker([
      ErrorCode.NONE,
      ErrorCode.REBALANCE_IN_PROGRESS,
    ]);
    try {
      const [first, second] = await Promise.all([
        client.callTimed(HeartbeatApi, 4, HEARTBEAT),
        client.callTimed(HeartbeatApi, 4, HEARTBEAT),
      ]);
      assert.equal(first.response.errorCode, ErrorCode.NONE);
      assert.equal(second.response.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
      assert.ok(first.sentAtMs <= first.receivedAtMs);
      assert.ok(second.sentAtMs <= second.receivedAtMs);
      assert.deepEqual(await client.call(HeartbeatApi, 4, HEARTBEAT), { throttleTimeMs: 0, errorCode: 0 });
      assert.deepEqual(correlationIds, [1, 2, 3]);
    } finally {
      client.close();
      server.close();
    }
  });

  test('findGroupCoordinator retries while the coordinator is loading', async () => {
    const { server, client, port, correlationIds } = await fakeBroker([]);
    try {
      assert.deepEqual(await findGroupCoordinator(client, 'g', 5_000), {
        nodeId: 1,
        host: '127.0.0.1',
        port,
      });
      assert.equal(correlationIds.length, 2);
    } finally {
      client.close();
      server.close();
    }
  });

  test('KafkaResponseError names the error code', () => {
    const error = new KafkaResponseError('member 3 JoinGroup', ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(error.message, 'member 3 JoinGroup: UNKNOWN_MEMBER_ID (25)');
    assert.equal(error.errorCode, 25);
  });
});
