// Unit tests of ui-bridge/web/js/live_link.js, the console's one refresh mechanism: it
// authenticates, shows its state, reconnects with backoff (reset once live) and reloads once per
// (re)connection. Sockets and timers are fakes driven by the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveLink, nextBackoff } from '../../ui-bridge/web/js/live_link.js';

function harness() {
  const h = { sockets: [], timers: [], states: [], frames: [], lives: 0 };
  h.link = new LiveLink({
    url: 'ws://x/api/v1/ws', token: () => 'tok',
    makeSocket: () => { const s = { sent: [], send(d) { this.sent.push(JSON.parse(d)); }, close() { this.closed = true; } }; h.sockets.push(s); return s; },
    setTimer: (fn, ms) => { h.timers.push({ fn, ms }); return h.timers.length; },
    clearTimer: (id) => { h.timers[id - 1].cleared = true; },
    onState: (s, d) => h.states.push(d ? `${s}:${d.in_ms}` : s),
    onFrame: (f) => h.frames.push(f), onLive: () => { h.lives += 1; },
  });
  return h;
}

test('connects, authenticates, goes live and reloads once', () => {
  const h = harness();
  h.link.start();
  const ws = h.sockets[0];
  ws.onopen();
  assert.deepEqual(ws.sent, [{ type: 'auth', token: 'tok' }]);
  ws.onmessage({ data: '{"type":"hello"}' });
  ws.onmessage({ data: '{"type":"event","topic":"evt/a"}' });
  ws.onmessage({ data: 'not json' });
  assert.deepEqual(h.states, ['connecting', 'live']);
  assert.equal(h.lives, 1);
  assert.deepEqual(h.frames, [{ type: 'event', topic: 'evt/a' }]);
  assert.equal(h.link.send({ type: 'follow' }), true);
});

test('reconnects with doubling backoff, capped, reset once live again', () => {
  const h = harness();
  h.link.start();
  for (let i = 0; i < 6; i++) { h.sockets.at(-1).onclose(); h.timers.at(-1).fn(); }
  assert.deepEqual(h.timers.map((t) => t.ms), [1000, 2000, 4000, 8000, 15000, 15000]);
  assert.ok(h.states.includes('reconnecting:8000'));
  assert.equal(h.link.send({ type: 'x' }), false, 'nothing is sent while not live');
  const ws = h.sockets.at(-1);
  ws.onopen(); ws.onmessage({ data: '{"type":"hello"}' });
  assert.equal(h.lives, 1);
  ws.onclose();
  assert.equal(h.timers.at(-1).ms, 1000);
  assert.equal(nextBackoff(15000), 15000);
});

test('stop ends it: no reconnect, state off', () => {
  const h = harness();
  h.link.start();
  h.sockets[0].onclose();
  h.link.stop();
  assert.equal(h.timers[0].cleared, true);
  assert.equal(h.states.at(-1), 'off');
});
