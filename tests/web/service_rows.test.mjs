// Unit tests of ui-bridge/web/js/service_rows.js: a service's row on the Services page (counts,
// replicas per host, the reconciler's problem, the badge) and the create and scale inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readReplicas, readServiceForm, replicasPerHost, serviceRow, serviceState } from '../../ui-bridge/web/js/service_rows.js';
import { splitCommand } from '../../ui-bridge/web/js/text.js';

const replica = (n, host, state = 'running', hostStatus = 'up') =>
  ({ replica: n, host, state, host_status: hostStatus, container: `c${n}` });

test('replicas per host: running ones counted, the rest said apart, hosts in order', () => {
  assert.equal(replicasPerHost([replica(1, 'b'), replica(2, 'a'), replica(3, 'b')]), 'a: 1, b: 2');
  assert.equal(replicasPerHost([replica(1, 'a'), replica(2, 'a', 'exited'), replica(3, 'c', 'running', 'down')]),
    'a: 1 (+1 not running), c: 0 (+1 not running)');
  assert.equal(replicasPerHost([]), '');
  assert.equal(replicasPerHost(undefined), '');
});

test('the badge: ok only when every desired replica runs and nothing extra is left', () => {
  assert.equal(serviceState({ desired: 2, running: 2, replicas: [replica(1, 'a'), replica(2, 'b')] }), 'ok');
  assert.equal(serviceState({ desired: 1, running: 1, replicas: [replica(1, 'a'), replica(2, 'b', 'exited')] }), 'converging');
  assert.equal(serviceState({ desired: 2, running: 0, replicas: [], creating: 2 }), 'converging');
  assert.equal(serviceState({ desired: 2, running: 1, replicas: [replica(1, 'a')], last_error: 'no such image' }), 'error');
  assert.equal(serviceState({ desired: 3, running: 0, replicas: [], blocked: 'no host matches zone=a' }), 'blocked');
  assert.equal(serviceState({ desired: 0, running: 0, replicas: [] }), 'ok');
});

test('a row from a service-list record, with or without status', () => {
  const row = serviceRow({ id: 's1', name: 'web', project: 'p1', project_name: 'shop', spec: { image: 'busybox', replicas: 2 },
    status: { desired: 2, running: 1, creating: 1, replicas: [replica(1, 'h1')], last_error: 'create failed on h2: boom' } });
  assert.equal(row.label, 'shop/web');
  assert.equal(row.counts, '1/2 running, 1 being created');
  assert.equal(row.hosts, 'h1: 1');
  assert.equal(row.problem, 'create failed on h2: boom');
  assert.equal(row.state, 'error');
  const done = serviceRow({ id: 's3', name: 'api', project: 'p1', project_name: 'shop', spec: { image: 'x', replicas: 1 },
    status: { desired: 1, running: 1, creating: 1, replicas: [replica(1, 'h1')] } });
  assert.equal(done.counts, '1/1 running', 'a create the reconciler has not settled yet is not shown once all run');
  assert.equal(done.state, 'ok');
  const bare = serviceRow({ id: 's2', name: 'db', project: 'p1', spec: { image: 'pg', replicas: 3 } });
  assert.equal(bare.counts, '0/3 running');
  assert.equal(bare.label, 'p1/db');
});

test('replicas and the create form are checked before anything is sent', () => {
  assert.deepEqual(readReplicas(' 3 '), { value: 3 });
  assert.deepEqual(readReplicas('0'), { value: 0 });
  for (const bad of ['', '-1', '1.5', 'two', '1001']) assert.ok(readReplicas(bad).error, bad);
  const form = { project: 'p1', name: 'web', image: ' local/busybox:latest ', replicas: '2', cmd: "sh -c 'sleep 3600'" };
  assert.deepEqual(readServiceForm(form, splitCommand).body,
    { project: 'p1', name: 'web', spec: { image: 'local/busybox:latest', replicas: 2, cmd: ['sh', '-c', 'sleep 3600'] } });
  assert.equal(readServiceForm({ ...form, cmd: '' }, splitCommand).body.spec.cmd, undefined);
  assert.equal(readServiceForm({ ...form, project: '' }, splitCommand).field, 'project');
  assert.equal(readServiceForm({ ...form, name: 'Web_1' }, splitCommand).field, 'name');
  assert.equal(readServiceForm({ ...form, name: '-web' }, splitCommand).field, 'name');
  assert.equal(readServiceForm({ ...form, image: ' ' }, splitCommand).field, 'image');
  assert.equal(readServiceForm({ ...form, replicas: 'x' }, splitCommand).field, 'replicas');
});
