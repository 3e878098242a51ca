// Unit tests of ui-bridge/web/js/errors.js: the bridge's schema refusals become a field and a
// sentence a person understands (node --test; scripts/test.sh's web stage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { humanError, explainValidator } from '../../ui-bridge/web/js/errors.js';

const schema = JSON.parse(fs.readFileSync(new URL('../../schemas/create-container.json', import.meta.url)));
const refusal = (message) => ({ error: { code: 'invalid_argument', message } });

test('a pattern refusal names the field and what it accepts, not the validator', () => {
  const e = humanError(400, refusal("name: Failed to match regex specified by 'pattern' constraint."), schema);
  assert.equal(e.field, 'name');
  assert.match(e.text, /^Name has characters or a form that is not accepted/);
  assert.match(e.text, /letters, digits/);
  assert.match(e.text, /2 to 120 characters/);
  assert.doesNotMatch(e.text, /regex|constraint/);
});

test('a body. prefix and an index are understood', () => {
  const e = humanError(400, refusal("body.env[1]: Failed to match regex specified by 'pattern' constraint."), schema);
  assert.equal(e.field, 'env');
  assert.match(e.text, /NAME=value/);
  const p = humanError(400, refusal('ports[0].host_port: Expected a value less than or equal to 65535'), schema);
  assert.equal(p.field, 'ports');
  assert.match(p.text, /out of range: expected a number from 0 to 65535/);
});

test('a type refusal says which kind of value is expected', () => {
  assert.match(explainValidator('memory', "Value type not permitted by 'type' constraint.", schema), /whole number/);
});

test('other errors keep the bridge message behind a plain word', () => {
  assert.deepEqual(humanError(403, { error: { code: 'forbidden', message: 'privileged: not allowed' } }),
    { field: '', text: 'Not allowed: privileged: not allowed' });
  assert.match(humanError(0, null).text, /did not answer/);
  assert.match(humanError(502, null).text, /HTTP 502/);
});
