// Unit tests of ui-bridge/web/js/log_merge.js: the merged log tail's lines, filter and search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogMerge, pickFollowed } from '../../ui-bridge/web/js/log_merge.js';

test('pieces cut anywhere become whole lines, per container and channel, in arrival order', () => {
  const m = new LogMerge();
  m.add('web', 'stdout', 'GET /a\nGET ');
  m.add('db', 'stdout', 'query 1\n');
  m.add('web', 'stderr', 'warn: slow\n');
  m.add('web', 'stdout', '/b\r\n');
  assert.deepEqual(m.lines.map((l) => [l.source, l.channel, l.text]), [
    ['web', 'stdout', 'GET /a'], ['db', 'stdout', 'query 1'], ['web', 'stderr', 'warn: slow'], ['web', 'stdout', 'GET /b']]);
});

test('filter by stream, search lines and container names, case-insensitive', () => {
  const m = new LogMerge();
  m.add('web', 'stdout', 'GET /a\nPOST /b\n');
  m.add('db', 'stderr', 'Error: disk full\n');
  assert.equal(m.shown('stderr').length, 1);
  assert.equal(m.shown('stdout').length, 2);
  assert.equal(m.shown('all', 'post').length, 1);
  assert.equal(m.shown('all', 'DB').length, 1, 'a container name matches too');
  assert.equal(m.shown('stdout', 'error').length, 0);
  assert.equal(m.format(m.shown('all')), '[web] GET /a\n[web] POST /b\n[db] (stderr) Error: disk full');
});

test('one container: no tags; the oldest lines go past the cap', () => {
  const m = new LogMerge(3);
  m.add('web', 'stdout', 'a\nb\nc\nd\n');
  assert.deepEqual(m.lines.map((l) => l.text), ['b', 'c', 'd']);
  assert.equal(m.format(m.shown()), 'b\nc\nd');
});

test('the followed containers: running ones, newest first, at most 8', () => {
  const list = Array.from({ length: 10 }, (_, i) => ({ name: `c${i}`, state: 'running', created: i }));
  list.push({ name: 'stopped', state: 'exited', created: 99 });
  const [chosen, left] = pickFollowed(list);
  assert.deepEqual(chosen.map((c) => c.name), ['c9', 'c8', 'c7', 'c6', 'c5', 'c4', 'c3', 'c2']);
  assert.deepEqual(left.map((c) => c.name), ['c1', 'c0']);
});
