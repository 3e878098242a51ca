// Unit tests of ui-bridge/web/js/service_rows.js: a service's row on the Services page (counts,
// replicas per host, the reconciler's problem, the badge, the rolling update's state), the create, scale
// and update inputs, and a service-update job in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  readReplicas, readServiceForm, readUpdateForm, replicasPerHost, serviceRow, serviceState, updateJobText, updateText,
} from '../../ui-bridge/web/js/service_rows.js';
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

test('the rolling update in words: updating n/m, rolled back or paused with the error, else nothing', () => {
  assert.equal(updateText({ state: 'updating', generation: 2, updated: 1, replicas: 3, error: null }), 'updating 1/3');
  assert.equal(updateText({ state: 'rolled-back', generation: 3, failed_generation: 2, updated: 3, replicas: 3,
    error: 'replica 4 exited (code 3)' }), 'rolled back: replica 4 exited (code 3)');
  assert.equal(updateText({ state: 'paused', generation: 2, updated: 2, replicas: 3, error: 'unhealthy' }), 'paused: unhealthy');
  assert.equal(updateText({ state: 'paused', error: null }), 'paused: no reason given');
  assert.equal(updateText({ state: 'done', generation: 2, updated: 3, replicas: 3 }), '');
  assert.equal(updateText({ state: 'idle' }), '');
  assert.equal(updateText(undefined), '');
  const row = serviceRow({ id: 's1', name: 'web', project_name: 'shop', generation: 2,
    spec: { image: 'busybox', replicas: 3, cmd: ['sleep', '600'] },
    status: { desired: 3, running: 3, replicas: [], update: { state: 'updating', updated: 2, replicas: 3 } } });
  assert.equal(row.update, 'updating');
  assert.equal(row.updateText, 'updating 2/3');
  assert.equal(row.generation, 2);
  assert.equal(row.cmd, 'sleep 600');
  assert.equal(serviceRow({ id: 's2', name: 'db', spec: { image: 'x' } }).update, 'idle');
});

test('the update form sends only what changed, and refuses a change of nothing', () => {
  const current = { image: 'local/busybox:latest', cmd: 'sleep 600' };
  assert.deepEqual(readUpdateForm({ image: ' local/busybox:2 ', cmd: 'sleep 600' }, current, splitCommand),
    { body: { image: 'local/busybox:2' } });
  assert.deepEqual(readUpdateForm({ image: 'local/busybox:latest', cmd: 'sh -c "exit 3"' }, current, splitCommand),
    { body: { cmd: ['sh', '-c', 'exit 3'] } });
  assert.deepEqual(readUpdateForm({ image: 'a:1', cmd: 'sleep 1' }, current, splitCommand),
    { body: { image: 'a:1', cmd: ['sleep', '1'] } });
  assert.deepEqual(readUpdateForm({ image: 'local/busybox:latest', cmd: 'sleep 600' }, current, splitCommand),
    { error: 'Update: give a new image or command.', field: 'image' });
  assert.equal(readUpdateForm({ image: '', cmd: '' }, current, splitCommand).field, 'image');
});

test('a service-update job in words: progress with batches, rolled out, or the error', () => {
  const progress = { service: 's1', generation: 2, state: 'updating', updated: 1, replicas: 3, batches: 2 };
  assert.equal(updateJobText({ id: 'j', state: 'running', progress }), 'Rolling out generation 2: 1/3 updated, batch 2…');
  assert.equal(updateJobText({ id: 'j', state: 'running', progress: { generation: 2, updated: 0, replicas: 3 } }),
    'Rolling out generation 2: 0/3 updated…');
  assert.equal(updateJobText({ id: 'j', state: 'done', progress: { ...progress, state: 'done', updated: 3 } }),
    'Generation 2 rolled out: 3/3 updated.');
  assert.equal(updateJobText({ id: 'j', state: 'failed', progress: { ...progress, state: 'rolled-back' },
    error: { code: 'conflict', message: 'rolled back: replica 4 exited (code 3)' } }),
  'Generation 2 failed: rolled back: replica 4 exited (code 3)');
  assert.equal(updateJobText({ id: 'j', state: 'failed', progress: {} }), 'The update failed: unknown error');
});
