// Unit tests of ui-bridge/web/js/container_events.js: live events change the list in place; only
// a container new to the list asks for a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDocker, applyEntry } from '../../ui-bridge/web/js/container_events.js';

const list = () => [{ id: 'a', name: 'web', state: 'running', owner: 'u1' }, { id: 'b', name: 'db', state: 'exited' }];

test('a Docker event sets a listed container state at once', () => {
  const l = list();
  assert.equal(applyDocker(l, { type: 'container', action: 'die', id: 'a' }), true);
  assert.equal(l[0].state, 'exited');
  assert.equal(applyDocker(l, { type: 'container', action: 'die', id: 'a' }), false, 'no change twice');
  assert.equal(applyDocker(l, { type: 'container', action: 'start', id: 'b' }), true);
  assert.equal(l[1].state, 'running');
  assert.equal(applyDocker(l, { type: 'container', action: 'kill', id: 'b' }), false, 'kill alone changes nothing');
  assert.equal(applyDocker(l, { type: 'image', action: 'delete', id: 'a' }), false);
  assert.equal(applyDocker(l, { type: 'container', action: 'start', id: 'zzz' }), false);
});

test('directory entries replace, drop, or ask for a reload', () => {
  const l = list();
  assert.equal(applyEntry(l, 'container-changed', { id: 'a', state: 'exited' }), 'changed');
  assert.deepEqual(l[0], { id: 'a', name: 'web', state: 'exited', owner: 'u1' });
  assert.equal(applyEntry(l, 'container-removed', { id: 'b' }), 'changed');
  assert.equal(l.length, 1);
  assert.equal(applyEntry(l, 'container-removed', { id: 'b' }), 'unchanged');
  assert.equal(applyEntry(l, 'container-added', { id: 'c', state: 'running' }), 'reload');
  assert.equal(applyEntry(l, 'container-changed', {}), 'reload');
});
