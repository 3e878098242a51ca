// Unit tests of ui-bridge/web/js/schema_form.js: the create form's fields come from the real
// create-container schema, narrowed by the create policy, and what is typed becomes the body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fieldsFor, readRequest, parseBytes, parsePort } from '../../ui-bridge/web/js/schema_form.js';

const schema = JSON.parse(fs.readFileSync(new URL('../../schemas/create-container.json', import.meta.url)));
const policy = { ports: { min: 8000, max: 9000 }, bind_prefixes: [], host_network: false };
const user = { role: 'user', policy };

test('every field a person sets is offered, with the right kind of input', () => {
  const f = Object.fromEntries(fieldsFor(schema, user).map((x) => [x.name, x]));
  for (const n of ['name', 'cmd', 'env', 'ports', 'volumes', 'binds', 'memory', 'cpus', 'restart_policy', 'labels', 'instances', 'network_mode'])
    assert.ok(f[n], `${n} is offered`);
  assert.equal(f.memory.kind, 'bytes');
  assert.equal(f.ports.kind, 'ports');
  assert.equal(f.labels.kind, 'map');
  assert.equal(f.cpus.kind, 'number');
  assert.equal(f.instances.max, 50);
  assert.ok(!f.first_instance, 'the scheduler sets first_instance');
});

test('the policy decides: host network and the host port range', () => {
  const net = (ctx) => fieldsFor(schema, ctx).find((x) => x.name === 'network_mode').choices;
  assert.ok(!net(user).includes('host'));
  assert.ok(net({ role: 'user', policy: { ...policy, host_network: true } }).includes('host'));
  assert.ok(net({ role: 'admin', policy }).includes('host'));
  const ports = fieldsFor(schema, user).find((x) => x.name === 'ports');
  assert.match(ports.placeholder, /8000-9000/);
  const binds = fieldsFor(schema, user).find((x) => x.name === 'binds');
  assert.match(binds.placeholder, /named volumes only/);
});

test('typed values become the request body', () => {
  const fields = fieldsFor(schema, user);
  const { body, errors } = readRequest(fields, {
    name: 'web', cmd: "sh -c 'echo hi; sleep 9'", env: 'A=1\n\nB=2', ports: '8080:80\n9000:53/udp',
    memory: '256m', cpus: '0.5', restart_policy: 'always', labels: 'team=ops', instances: '1', start: true,
  }, user);
  assert.deepEqual(errors, []);
  assert.deepEqual(body, {
    name: 'web', cmd: ['sh', '-c', 'echo hi; sleep 9'], env: ['A=1', 'B=2'],
    ports: [{ container_port: 80, host_port: 8080 }, { container_port: 53, host_port: 9000, protocol: 'udp' }],
    memory: 268435456, cpus: 0.5, restart_policy: 'always', labels: { team: 'ops' },
  });
});

test('what cannot be read is refused per field before anything is sent', () => {
  const fields = fieldsFor(schema, user);
  const { errors } = readRequest(fields, { memory: 'lots', ports: '70000', instances: '2.5', labels: 'novalue' }, user);
  const by = Object.fromEntries(errors.map((e) => [e.field, e.text]));
  assert.match(by.memory, /not a size/);
  assert.match(by.ports, /not a port/);
  assert.match(by.instances, /whole number/);
  assert.match(by.labels, /key=value/);
  const out = readRequest(fields, { ports: '80:80' }, user).errors[0];
  assert.match(out.text, /outside this host's range 8000-9000/);
});

test('sizes and ports parse', () => {
  assert.equal(parseBytes('1g'), 1024 ** 3);
  assert.equal(parseBytes('512MiB'), 512 * 1024 ** 2);
  assert.equal(parseBytes('12x'), null);
  assert.deepEqual(parsePort('127.0.0.1:8080:80/tcp'), { container_port: 80, host_port: 8080, host_ip: '127.0.0.1', protocol: 'tcp' });
  assert.deepEqual(parsePort('53/udp'), { container_port: 53, protocol: 'udp' });
  assert.equal(parsePort('0'), null);
});
