// A minimal Kafka broker for client micro-benchmarks: it answers ApiVersions, Metadata (one broker, one topic)
// and Produce (every batch accepted, offsets counted per partition), and nothing else. It runs in its own process
// (bench/client/produce.ts forks it), so the client's CPU figures hold only the client's work.
//   node dist/bench/client/fake-broker.js --partitions 8
// Prints `port N` on stdout once listening.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { ResponseFrameDecoder } from '../../src/client/connection.js';
import {
  ApiVersionsApi,
  MetadataApi,
  ProduceApi,
  type ProduceResponse,
  ResponseHeaderCodec,
  readRequestHeader,
  responseHeaderVersion,
} from '../../src/protocol/generated/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { RECORD_COUNT_OFFSET } from '../../src/protocol/records/index.js';

export const FAKE_TOPIC = 'bench';
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const NO_TIMESTAMP = -1n;

/** What the broker saw, printed to stderr on exit: how the producer batched. */
const seen = { produceRequests: 0, batches: 0, records: 0, bytes: 0 };

function serve(partitions: number): net.Server {
  const nextOffsets = new Array<bigint>(partitions).fill(0n);
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const decoder = new ResponseFrameDecoder(MAX_FRAME_BYTES, (frame) => {
      const reader = new Reader(frame);
      const header = readRequestHeader(reader);
      const version = header.requestApiVersion;
      const w = new Writer();
      w.writeInt32(0);
      ResponseHeaderCodec.encode(
        w,
        { correlationId: header.correlationId },
        responseHeaderVersion(header.requestApiKey, version),
      );
      if (header.requestApiKey === ApiVersionsApi.key) {
        ApiVersionsApi.encodeResponse(
          w,
          {
            errorCode: 0,
            apiKeys: [
              { apiKey: ProduceApi.key, minVersion: 3, maxVersion: ProduceApi.maxVersion },
              { apiKey: MetadataApi.key, minVersion: 0, maxVersion: MetadataApi.maxVersion },
              { apiKey: ApiVersionsApi.key, minVersion: 0, maxVersion: 3 },
            ],
            throttleTimeMs: 0,
            supportedFeatures: [],
            finalizedFeaturesEpoch: -1n,
            finalizedFeatures: [],
            zkMigrationReady: false,
          },
          Math.min(version, 3),
        );
      } else if (header.requestApiKey === MetadataApi.key) {
        const address = server.address() as net.AddressInfo;
        MetadataApi.encodeResponse(
          w,
          {
            throttleTimeMs: 0,
            brokers: [{ nodeId: 0, host: address.address, port: address.port, rack: null }],
            clusterId: 'fake',
            controllerId: 0,
            topics: [
              {
                errorCode: 0,
                name: FAKE_TOPIC,
                topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
                isInternal: false,
                partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
                  errorCode: 0,
                  partitionIndex,
                  leaderId: 0,
                  leaderEpoch: 0,
                  replicaNodes: [0],
                  isrNodes: [0],
                  offlineReplicas: [],
                })),
                topicAuthorizedOperations: -2147483648,
              },
            ],
            clusterAuthorizedOperations: -2147483648,
          },
          version,
        );
      } else if (header.requestApiKey === ProduceApi.key) {
        const request = ProduceApi.decodeRequest(reader, version);
        seen.produceRequests++;
        seen.bytes += frame.length;
        if (request.acks === 0) return;
        const response: ProduceResponse = { responses: [], throttleTimeMs: 0, nodeEndpoints: [] };
        for (const topic of request.topicData) {
          const partitionResponses = topic.partitionData.map((data) => {
            const baseOffset = nextOffsets[data.index] ?? 0n;
            const records = data.records;
            const count = records === null ? 0 : records.readInt32BE(RECORD_COUNT_OFFSET);
            nextOffsets[data.index] = baseOffset + BigInt(count);
            seen.batches++;
            seen.records += count;
            return {
              index: data.index,
              errorCode: 0,
              baseOffset,
              logAppendTimeMs: NO_TIMESTAMP,
              logStartOffset: 0n,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
            };
          });
          response.responses.push({ name: topic.name, partitionResponses });
        }
        ProduceApi.encodeResponse(w, response, version);
      } else {
        socket.destroy(new Error(`the fake broker does not answer API key ${header.requestApiKey}`));
        return;
      }
      const frameOut = w.toBuffer();
      frameOut.writeInt32BE(frameOut.length - 4, 0);
      socket.write(frameOut);
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => socket.destroy());
  });
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { partitions: { type: 'string', default: '8' } } });
  const server = serve(Number(values.partitions));
  server.listen(0, '127.0.0.1', () => {
    console.log(`port ${(server.address() as net.AddressInfo).port}`);
  });
  // The parent closes our stdin when it is done.
  process.stdin.resume();
  process.stdin.on('end', () => {
    const perRequest = (n: number) => (seen.produceRequests === 0 ? 0 : n / seen.produceRequests).toFixed(1);
    process.stderr.write(
      `fake broker: ${seen.produceRequests} Produce requests, ${perRequest(seen.batches)} batches and ${perRequest(seen.records)} records each, ${(seen.records / Math.max(1, seen.batches)).toFixed(1)} records per batch\n`,
    );
    process.exit(0);
  });
}
