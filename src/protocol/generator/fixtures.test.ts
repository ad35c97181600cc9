// Golden bytes written out by hand from the schemas, one comment per field. Round-trip tests cannot catch a
// codec that is consistently wrong on both sides; these can.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ApiVersionsApi,
  type ApiVersionsResponse,
  FetchApi,
  type FetchResponse,
  MetadataApi,
  type MetadataRequest,
  ProduceApi,
  type ProduceRequest,
  type RequestHeader,
  RequestHeaderCodec,
  ResponseHeaderCodec,
  readRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../generated/index.js';
import { ProtocolDecodeError, ProtocolEncodeError } from '../primitives/errors.js';
import { Reader } from '../primitives/reader.js';
import type { RecordsPayload } from '../primitives/writer.js';
import { Writer } from '../primitives/writer.js';

/** Joins hex fragments, ignoring spaces, so each fixture line can carry one field. */
function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replaceAll(' ', ''), 'hex');
}

const SLUICE = '73 6c 75 69 63 65'; // "sluice"

function encode(write: (w: Writer) => void): Buffer {
  const w = new Writer();
  write(w);
  return w.toBuffer();
}

function assertDecodeErrorOnEveryPrefix(bytes: Buffer, decode: (r: Reader) => unknown): void {
  for (let length = 0; length < bytes.length; length++) {
    assert.throws(
      () => decode(new Reader(bytes.subarray(0, length))),
      ProtocolDecodeError,
      `prefix of ${length} bytes`,
    );
  }
}

describe('request headers', () => {
  const v1Header: RequestHeader = {
    requestApiKey: 18,
    requestApiVersion: 0,
    correlationId: 1,
    clientId: 'sluice',
  };
  const v1Bytes = hex(
    '00 12', // requestApiKey = 18 (ApiVersions)
    '00 00', // requestApiVersion = 0
    '00 00 00 01', // correlationId = 1
    '00 06',
    SLUICE, // clientId: int16 length + "sluice"
  );
  const v2Header: RequestHeader = {
    requestApiKey: 3,
    requestApiVersion: 12,
    correlationId: 7,
    clientId: 'sluice',
  };
  const v2Bytes = hex(
    '00 03', // requestApiKey = 3 (Metadata)
    '00 0c', // requestApiVersion = 12
    '00 00 00 07', // correlationId = 7
    '00 06',
    SLUICE, // clientId keeps its int16 length in v2 (flexibleVersions "none")
    '00', // no tagged fields
  );

  test('v1 encodes and decodes', () => {
    assert.deepEqual(
      encode((w) => RequestHeaderCodec.encode(w, v1Header, 1)),
      v1Bytes,
    );
    assert.deepEqual(RequestHeaderCodec.decode(new Reader(v1Bytes), 1), v1Header);
  });

  test('v2 with client id and empty tagged fields', () => {
    assert.deepEqual(
      encode((w) => RequestHeaderCodec.encode(w, v2Header, 2)),
      v2Bytes,
    );
    const r = new Reader(v2Bytes);
    assert.deepEqual(RequestHeaderCodec.decode(r, 2), v2Header);
    assert.equal(r.remaining, 0);
  });

  test('v0 has no client id', () => {
    const header = { requestApiKey: 7, requestApiVersion: 0, correlationId: 5, clientId: '' };
    const bytes = hex('00 07', '00 00', '00 00 00 05');
    assert.deepEqual(
      encode((w) => RequestHeaderCodec.encode(w, header, 0)),
      bytes,
    );
    assert.deepEqual(readRequestHeader(new Reader(bytes)), header);
  });

  test('readRequestHeader picks the header version from key and version', () => {
    assert.deepEqual(readRequestHeader(new Reader(v1Bytes)), v1Header);
    const r = new Reader(v2Bytes);
    assert.deepEqual(readRequestHeader(r), v2Header);
    assert.equal(r.remaining, 0, 'v2 tagged fields consumed');
  });

  test('readRequestHeader reads header v1 for unknown keys and versions', () => {
    const unknownVersion = hex('00 12', '00 63', '00 00 00 09', '00 06', SLUICE, '00', '07'); // ApiVersions v99
    const r = new Reader(unknownVersion);
    assert.deepEqual(readRequestHeader(r), {
      requestApiKey: 18,
      requestApiVersion: 99,
      correlationId: 9,
      clientId: 'sluice',
    });
    assert.equal(r.remaining, 2, 'the would-be tagged fields are left for the body');
    const unknownKey = hex('03 e7', '00 00', '00 00 00 01', 'ff ff'); // key 999, null client id
    assert.deepEqual(readRequestHeader(new Reader(unknownKey)), {
      requestApiKey: 999,
      requestApiVersion: 0,
      correlationId: 1,
      clientId: null,
    });
    assert.throws(() => readRequestHeader(new Reader(hex('00 12 00'))), ProtocolDecodeError);
  });

  test('header version rules', () => {
    assert.equal(requestHeaderVersion(7, 0), 0); // ControlledShutdown v0
    assert.equal(requestHeaderVersion(7, 1), 1);
    assert.equal(requestHeaderVersion(0, 8), 1);
    assert.equal(requestHeaderVersion(0, 9), 2);
    assert.equal(requestHeaderVersion(18, 3), 2);
    assert.equal(requestHeaderVersion(999, 0), 1);
    assert.equal(responseHeaderVersion(18, 3), 0); // ApiVersions: always v0
    assert.equal(responseHeaderVersion(18, 4), 0);
    assert.equal(responseHeaderVersion(3, 8), 0);
    assert.equal(responseHeaderVersion(3, 9), 1);
    assert.equal(responseHeaderVersion(17, 1), 0); // SaslHandshake is never flexible
  });

  test('response header v1 ends with tagged fields', () => {
    assert.deepEqual(
      encode((w) => ResponseHeaderCodec.encode(w, { correlationId: 258 }, 1)),
      hex('00 00 01 02', '00'),
    );
    assert.deepEqual(
      encode((w) => ResponseHeaderCodec.encode(w, { correlationId: 258 }, 0)),
      hex('00 00 01 02'),
    );
  });
});

describe('ApiVersions', () => {
  test('v0 request has an empty body', () => {
    const body = encode((w) =>
      ApiVersionsApi.encodeRequest(w, { clientSoftwareName: '', clientSoftwareVersion: '' }, 0),
    );
    assert.equal(body.length, 0);
    assert.deepEqual(ApiVersionsApi.decodeRequest(new Reader(body), 0), {
      clientSoftwareName: '',
      clientSoftwareVersion: '',
    });
  });

  test('v3 request: compact strings and tagged fields', () => {
    const request = { clientSoftwareName: 'sluice', clientSoftwareVersion: '0.1.0' };
    const bytes = hex(
      '07',
      SLUICE, // clientSoftwareName: compact length 6 + 1
      '06 30 2e 31 2e 30', // clientSoftwareVersion: compact length 5 + 1, "0.1.0"
      '00', // no tagged fields
    );
    assert.deepEqual(
      encode((w) => ApiVersionsApi.encodeRequest(w, request, 3)),
      bytes,
    );
    assert.deepEqual(ApiVersionsApi.decodeRequest(new Reader(bytes), 3), request);
    assertDecodeErrorOnEveryPrefix(bytes, (r) => ApiVersionsApi.decodeRequest(r, 3));
  });

  const apiKeys = [
    { apiKey: 0, minVersion: 0, maxVersion: 11 },
    { apiKey: 18, minVersion: 0, maxVersion: 4 },
  ];

  test('v0 response', () => {
    const response: ApiVersionsResponse = {
      errorCode: 0,
      apiKeys,
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    };
    const bytes = hex(
      '00 00', // errorCode
      '00 00 00 02', // apiKeys: int32 count
      '00 00  00 00  00 0b', // Produce 0..11
      '00 12  00 00  00 04', // ApiVersions 0..4
    );
    assert.deepEqual(
      encode((w) => ApiVersionsApi.encodeResponse(w, response, 0)),
      bytes,
    );
    assert.deepEqual(ApiVersionsApi.decodeResponse(new Reader(bytes), 0), response);
  });

  const v3Response: ApiVersionsResponse = {
    errorCode: 0,
    apiKeys,
    throttleTimeMs: 0,
    supportedFeatures: [{ name: 'x', minVersion: 1, maxVersion: 5 }],
    finalizedFeaturesEpoch: 5n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
  const v3Bytes = hex(
    '00 00', // errorCode
    '03', // apiKeys: compact count 2 + 1
    '00 00  00 00  00 0b  00', // Produce 0..11, no tagged fields
    '00 12  00 00  00 04  00', // ApiVersions 0..4, no tagged fields
    '00 00 00 00', // throttleTimeMs
    '02', // two tagged fields (finalizedFeatures and zkMigrationReady are at their defaults)
    '00 08', // tag 0 supportedFeatures, 8 bytes:
    '02  02 78  00 01  00 05  00', //   compact count 1; name "x"; min 1; max 5; no tagged fields
    '01 08', // tag 1 finalizedFeaturesEpoch, 8 bytes:
    '00 00 00 00 00 00 00 05', //   5
  );

  test('v3 response: compact array and tagged fields', () => {
    assert.deepEqual(
      encode((w) => ApiVersionsApi.encodeResponse(w, v3Response, 3)),
      v3Bytes,
    );
    const r = new Reader(v3Bytes);
    assert.deepEqual(ApiVersionsApi.decodeResponse(r, 3), v3Response);
    assert.equal(r.remaining, 0);
    assertDecodeErrorOnEveryPrefix(v3Bytes, (reader) => ApiVersionsApi.decodeResponse(reader, 3));
  });

  test('unknown tags are skipped; a known tag with the wrong size is rejected', () => {
    const withUnknownTag = Buffer.concat([
      v3Bytes.subarray(0, 21),
      hex('03'), // three tagged fields now
      v3Bytes.subarray(22),
      hex('09 02 ab cd'), // tag 9 (unknown), 2 bytes
    ]);
    assert.deepEqual(ApiVersionsApi.decodeResponse(new Reader(withUnknownTag), 3), v3Response);
    const badSize = Buffer.from(v3Bytes);
    badSize[v3Bytes.length - 9] = 0x09; // tag 1 claims 9 bytes for an int64
    assert.throws(() => ApiVersionsApi.decodeResponse(new Reader(badSize), 3), ProtocolDecodeError);
  });
});

describe('Metadata', () => {
  const oneTopic = (version: number): MetadataRequest => ({
    topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 't' }],
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: version >= 8,
  });

  test('v1 request', () => {
    const bytes = hex(
      '00 00 00 01', // topics: int32 count 1
      '00 01 74', // name "t"
    );
    assert.deepEqual(
      encode((w) => MetadataApi.encodeRequest(w, oneTopic(1), 1)),
      bytes,
    );
    assert.deepEqual(MetadataApi.decodeRequest(new Reader(bytes), 1), {
      ...oneTopic(1),
      includeTopicAuthorizedOperations: false,
    });
  });

  test('v1 request for all topics is a null array; v0 cannot express it', () => {
    const all: MetadataRequest = { ...oneTopic(1), topics: null };
    assert.deepEqual(
      encode((w) => MetadataApi.encodeRequest(w, all, 1)),
      hex('ff ff ff ff'),
    );
    assert.equal(MetadataApi.decodeRequest(new Reader(hex('ff ff ff ff')), 1).topics, null);
    assert.throws(() => encode((w) => MetadataApi.encodeRequest(w, all, 0)), ProtocolEncodeError);
    assert.throws(() => MetadataApi.decodeRequest(new Reader(hex('ff ff ff ff')), 0), ProtocolDecodeError);
  });

  test('v9 request (flexible)', () => {
    const bytes = hex(
      '02', // topics: compact count 1 + 1
      '02 74', // name "t" (compact)
      '00', // topic: no tagged fields
      '01', // allowAutoTopicCreation = true
      '00', // includeClusterAuthorizedOperations = false (v8-10)
      '01', // includeTopicAuthorizedOperations = true
      '00', // no tagged fields
    );
    assert.deepEqual(
      encode((w) => MetadataApi.encodeRequest(w, oneTopic(9), 9)),
      bytes,
    );
    assert.deepEqual(MetadataApi.decodeRequest(new Reader(bytes), 9), oneTopic(9));
    assertDecodeErrorOnEveryPrefix(bytes, (r) => MetadataApi.decodeRequest(r, 9));
  });

  test('a huge array length throws instead of allocating', () => {
    const start = process.hrtime.bigint();
    assert.throws(
      () => MetadataApi.decodeRequest(new Reader(hex('7f ff ff ff', '00 01 74')), 1),
      ProtocolDecodeError,
    );
    assert.throws(
      () => MetadataApi.decodeRequest(new Reader(hex('ff ff ff ff 0f', '00')), 9),
      ProtocolDecodeError,
    );
    assert.ok(
      process.hrtime.bigint() - start < 50_000_000n,
      'rejected without work proportional to the length',
    );
  });
});

describe('Produce', () => {
  test('v3 request: header and body with a small records payload', () => {
    const header: RequestHeader = {
      requestApiKey: 0,
      requestApiVersion: 3,
      correlationId: 42,
      clientId: 'sluice',
    };
    const records = hex('01 02 03 04 05');
    const request: ProduceRequest = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 't', partitionData: [{ index: 0, records }] }],
    };
    const bytes = hex(
      '00 00', // requestApiKey = 0 (Produce)
      '00 03', // requestApiVersion = 3
      '00 00 00 2a', // correlationId = 42
      '00 06',
      SLUICE, // clientId
      'ff ff', // transactionalId = null
      'ff ff', // acks = -1
      '00 00 75 30', // timeoutMs = 30000
      '00 00 00 01', // topicData: count 1
      '00 01 74', //   name "t"
      '00 00 00 01', //   partitionData: count 1
      '00 00 00 00', //     index 0
      '00 00 00 05  01 02 03 04 05', //     records: int32 length 5 + bytes
    );
    const encoded = encode((w) => {
      RequestHeaderCodec.encode(w, header, requestHeaderVersion(0, 3));
      ProduceApi.encodeRequest(w, request, 3);
    });
    assert.deepEqual(encoded, bytes);
    const r = new Reader(bytes);
    assert.deepEqual(readRequestHeader(r), header);
    const decoded = ProduceApi.decodeRequest(r, 3);
    assert.deepEqual(decoded, request);
    assert.equal(r.remaining, 0);
    const decodedRecords = decoded.topicData[0]!.partitionData[0]!.records!;
    assert.equal(decodedRecords.buffer, bytes.buffer, 'records are a view into the request, not a copy');
    assert.equal(decodedRecords.byteOffset, bytes.byteOffset + bytes.length - 5);
    assertDecodeErrorOnEveryPrefix(bytes.subarray(14), (reader) => ProduceApi.decodeRequest(reader, 3));
  });
});

describe('Fetch response records', () => {
  test('records given as chunks are written by reference and read back as one buffer', () => {
    const batchA = Buffer.alloc(4096, 0xa1);
    const batchB = Buffer.alloc(2048, 0xb2);
    const response: FetchResponse<RecordsPayload> = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 't',
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 10n,
              lastStableOffset: 10n,
              logStartOffset: 0n,
              divergingEpoch: { epoch: -1, endOffset: -1n },
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
              snapshotId: { endOffset: -1n, epoch: -1 },
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: [batchA, batchB],
            },
          ],
        },
      ],
      nodeEndpoints: [],
    };
    for (const version of [4, 12, 16]) {
      const w = new Writer();
      FetchApi.encodeResponse(w, response, version);
      const chunks = w.toChunks();
      assert.ok(
        chunks.includes(batchA) && chunks.includes(batchB),
        `v${version}: batches referenced, not copied`,
      );
      const decoded = FetchApi.decodeResponse(new Reader(w.toBuffer()), version);
      const records = decoded.responses[0]!.partitions[0]!.records;
      assert.deepEqual(records, Buffer.concat([batchA, batchB]));
    }
  });
});
