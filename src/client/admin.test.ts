import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import { ConsumerProtocolAssignmentCodec } from '../protocol/generated/index.js';
import { Writer } from '../protocol/primitives/writer.js';
import { Admin, decodeConsumerAssignment, scramSaltedPassword } from './admin.js';
import { KafkaAggregateError, KafkaClientError, UnsupportedSaslMechanismError } from './errors.js';

function assignmentBytes(version: number, topics: { topic: string; partitions: number[] }[]): Buffer {
  const w = new Writer();
  w.writeInt16(version);
  ConsumerProtocolAssignmentCodec.encode(
    w,
    { assignedPartitions: topics, userData: null },
    Math.min(version, ConsumerProtocolAssignmentCodec.maxVersion),
  );
  return w.toBuffer();
}

describe('decodeConsumerAssignment', () => {
  const topics = [
    { topic: 'orders', partitions: [0, 2] },
    { topic: 'payments', partitions: [1] },
  ];

  test('reads the version prefix and the assignment of each known version', () => {
    for (const version of [0, 1, 2, 3]) {
      assert.deepEqual(decodeConsumerAssignment(assignmentBytes(version, topics)), topics, `v${version}`);
    }
  });

  test('reads a newer version through the fields it shares with the newest known one', () => {
    const bytes = assignmentBytes(3, topics);
    bytes.writeInt16BE(7, 0);
    assert.deepEqual(decodeConsumerAssignment(bytes), topics);
  });

  test('an empty assignment (member not yet synced) is no partitions; garbage is null', () => {
    assert.deepEqual(decodeConsumerAssignment(Buffer.alloc(0)), []);
    assert.equal(decodeConsumerAssignment(Buffer.from([0, 0, 0, 0, 0, 9])), null);
    assert.equal(decodeConsumerAssignment(Buffer.from([0xff, 0xff, 0, 0, 0, 0])), null);
  });
});

/** RFC 5802's Hi() written out: U1 = HMAC(password, salt + INT(1)), Ui = HMAC(password, Ui-1), XORed together. */
function hi(hash: 'sha256' | 'sha512', password: string, salt: Buffer, iterations: number): Buffer {
  let u = createHmac(hash, password)
    .update(Buffer.concat([salt, Buffer.from([0, 0, 0, 1])]))
    .digest();
  const result = Buffer.from(u);
  for (let i = 1; i < iterations; i++) {
    u = createHmac(hash, password).update(u).digest();
    for (let j = 0; j < result.length; j++) result[j]! ^= u[j]!;
  }
  return result;
}

describe('scramSaltedPassword', () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');

  test('is Hi() of the mechanism: 32 bytes for SCRAM-SHA-256, 64 for SCRAM-SHA-512', async () => {
    const sha256 = await scramSaltedPassword('SCRAM-SHA-256', 'pencil', salt, 4096);
    assert.equal(sha256.length, 32);
    assert.deepEqual(sha256, hi('sha256', 'pencil', salt, 4096));
    const sha512 = await scramSaltedPassword('SCRAM-SHA-512', 'pencil', salt, 8192);
    assert.equal(sha512.length, 64);
    assert.deepEqual(sha512, hi('sha512', 'pencil', salt, 8192));
  });

  test('matches RFC 7677: the client proof of its example exchange', async () => {
    // RFC 7677 section 3: password "pencil", this salt, 4096 iterations, and the messages below.
    const saltedPassword = await scramSaltedPassword('SCRAM-SHA-256', 'pencil', salt, 4096);
    const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const serverNonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${serverNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${serverNonce}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]!));
    assert.equal(proof.toString('base64'), 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  });

  test('non-ASCII passwords are UTF-8', async () => {
    assert.deepEqual(
      await scramSaltedPassword('SCRAM-SHA-256', 'pässwörd ✓', salt, 4096),
      hi('sha256', 'pässwörd ✓', salt, 4096),
    );
  });
});

describe('Admin.alterUserScramCredentials before sending', () => {
  // Nothing listens on port 1: these must fail (or finish) without a broker.
  const admin = new Admin({ bootstrap: '127.0.0.1:1', retry: { retries: 0 }, connectTimeoutMs: 500 });
  after(() => admin.close());

  test('nothing to change resolves without a request', async () => {
    await admin.alterUserScramCredentials({});
    await admin.alterUserScramCredentials({ upsertions: [], deletions: [] });
  });

  test('an iteration count it will not derive fails that user, naming it', async () => {
    for (const iterations of [0, -1, 1.5, 16_385, Number.NaN]) {
      await assert.rejects(
        admin.alterUserScramCredentials({
          upsertions: [{ user: 'bob', mechanism: 'SCRAM-SHA-256', password: 'x', iterations }],
        }),
        (error: unknown) => {
          assert.ok(error instanceof KafkaClientError && !(error instanceof KafkaAggregateError));
          assert.equal(error.code, ErrorCode.UNACCEPTABLE_CREDENTIAL);
          assert.equal(error.type, 'UNACCEPTABLE_CREDENTIAL');
          assert.equal(
            error.message,
            `user 'bob': Iterations must be a whole number from 4096 to 16384, not ${iterations}`,
          );
          return true;
        },
      );
    }
  });

  test('an unknown mechanism, and several failed users in one KafkaAggregateError', async () => {
    await assert.rejects(
      admin.alterUserScramCredentials({
        upsertions: [{ user: 'bob', mechanism: 'SCRAM-SHA-1' as 'SCRAM-SHA-256', password: 'x' }],
        deletions: [{ user: 'carol', mechanism: 'MD5' as 'SCRAM-SHA-512' }],
      }),
      (error: unknown) => {
        assert.ok(error instanceof KafkaAggregateError);
        assert.deepEqual(
          error.errors.map((e) => [e instanceof UnsupportedSaslMechanismError, e.message]),
          [
            [
              true,
              "user 'bob': Unknown SCRAM mechanism 'SCRAM-SHA-1'; expected SCRAM-SHA-256 or SCRAM-SHA-512",
            ],
            [true, "user 'carol': Unknown SCRAM mechanism 'MD5'; expected SCRAM-SHA-256 or SCRAM-SHA-512"],
          ],
        );
        return true;
      },
    );
  });
});
