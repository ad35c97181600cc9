import assert from 'node:assert/strict';
import { test } from 'node:test';
import { camelCase, parseMessage, parseVersions, stripJsonComments } from './schema.js';

test('stripJsonComments drops // comments but not // inside strings', () => {
  const text = '// licence\n{ "a": "http://x", // trailing\n  "b": "q\\"//" }\n';
  assert.deepEqual(JSON.parse(stripJsonComments(text)), { a: 'http://x', b: 'q"//' });
});

test('parseVersions handles every form', () => {
  assert.deepEqual(parseVersions('3+'), { min: 3, max: Infinity });
  assert.deepEqual(parseVersions('0-7'), { min: 0, max: 7 });
  assert.deepEqual(parseVersions('5'), { min: 5, max: 5 });
  assert.equal(parseVersions('none'), null);
  assert.throws(() => parseVersions('3-'), /invalid version range/);
});

test('camelCase lower-cases only the first letter, as Kafka does', () => {
  assert.equal(camelCase('TopicName'), 'topicName');
  assert.equal(camelCase('KRaftVersion'), 'kRaftVersion');
});

test('parseMessage resolves nested and common structs and field overrides', () => {
  const message = parseMessage(
    `// comment
    { "apiKey": 99, "type": "request", "name": "DemoRequest", "validVersions": "0-2", "flexibleVersions": "2+",
      "fields": [
        { "name": "ClientId", "type": "string", "versions": "1+", "nullableVersions": "1+", "flexibleVersions": "none" },
        { "name": "Items", "type": "[]Item", "versions": "0+", "fields": [
          { "name": "Id", "type": "int32", "versions": "0+" },
          { "name": "Common", "type": "Shared", "versions": "2+", "taggedVersions": "2+", "tag": 0 }
        ]}
      ],
      "commonStructs": [{ "name": "Shared", "versions": "0+", "fields": [{ "name": "X", "type": "int8", "versions": "0+" }] }]
    }`,
    'Demo.json',
  );
  assert.equal(message.apiKey, 99);
  assert.deepEqual([...message.structs.keys()].sort(), ['Item', 'Shared']);
  const clientId = message.root.fields[0]!;
  assert.equal(clientId.flexibleVersions, null);
  assert.deepEqual(clientId.nullableVersions, { min: 1, max: Infinity });
  const common = message.structs.get('Item')!.fields[1]!;
  assert.equal(common.tag, 0);
  assert.deepEqual(common.type, { kind: 'struct', struct: 'Shared' });
  assert.throws(
    () =>
      parseMessage(
        '{ "type": "data", "name": "X", "validVersions": "0", "flexibleVersions": "none", "fields": [{ "name": "A", "type": "Missing", "versions": "0+" }] }',
        'X.json',
      ),
    /Missing is used but never defined/,
  );
});
