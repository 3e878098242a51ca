// Unit tests of ui-bridge/web/js/pager.js and container_rules.js: search and pages for long
// tables; the actions, confirmations and busy words of a container's row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterRows, pageOf } from '../../ui-bridge/web/js/pager.js';
import { actionsFor, busyWord, confirmation, pointless } from '../../ui-bridge/web/js/container_rules.js';

test('10,000 rows: one page of 50 at a time, clamped', () => {
  const rows = Array.from({ length: 10000 }, (_, i) => ({ name: `c${i}`, host: `h${i % 1000}.mesh` }));
  const p = pageOf(rows, 3);
  assert.equal(p.rows.length, 50);
  assert.equal(p.first, 101);
  assert.equal(p.pages, 200);
  assert.equal(pageOf(rows, 999).page, 200);
  assert.equal(pageOf([], 1).first, 0);
  assert.equal(filterRows(rows, 'h999.mesh c9999', ['name', 'host']).length, 1);
});

const actions = ['start-container', 'stop-container', 'kill-container', 'remove-container', 'container-logs', 'exec-start']
  .map((name) => ({ name, target: 'container' }));

test('a row offers only the actions that fit the state', () => {
  const names = (s) => actionsFor(s, actions).map((a) => a.name);
  assert.deepEqual(names('running'), ['stop-container', 'kill-container', 'remove-container', 'container-logs', 'exec-start']);
  assert.deepEqual(names('exited'), ['start-container', 'remove-container', 'container-logs']);
});

test('kill and removing a running container ask first; busy words; pointless starts', () => {
  assert.match(confirmation('remove-container', { name: 'web', state: 'running' }), /web is running/);
  assert.match(confirmation('kill-container', { name: 'web' }), /Kill web/);
  assert.equal(confirmation('stop-container', { name: 'web' }), '');
  assert.equal(busyWord('stop-container'), 'stopping');
  assert.equal(pointless('start-container', 'running'), 'is already running');
});
