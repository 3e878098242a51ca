// live_link.js: the console's one refresh mechanism, the WebSocket /api/v1/ws. It authenticates,
// reports its state (connecting, live, reconnecting with the seconds until the next try, signed
// out) and reconnects with exponential backoff (1 s doubling to 15 s, reset once a connection is
// live). After every (re)connection it asks the views to reload once, since events may have been
// missed while it was down; nothing polls. The socket and the timer are injected so that
// tests/web/live_link.test.mjs drives it without a browser.

export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_MAX_MS = 15000;

export function nextBackoff(ms) {
  return Math.min(Math.max(BACKOFF_FIRST_MS, ms * 2), BACKOFF_MAX_MS);
}

export class LiveLink {
  // opts: {url, token, makeSocket(url), setTimer(fn, ms), clearTimer(id), onState(state, detail),
  //        onFrame(frame), onLive()}
  constructor(opts) {
    this.o = opts;
    this.socket = null;
    this.delay = BACKOFF_FIRST_MS;
    this.timer = null;
    this.state = 'idle';
    this.stopped = false;
  }

  set(state, detail) {
    this.state = state;
    if (this.o.onState) this.o.onState(state, detail);
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  connect() {
    this.timer = null;
    this.set('connecting');
    const ws = this.o.makeSocket(this.o.url);
    this.socket = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: this.o.token() }));
    ws.onmessage = (m) => this.message(m.data);
    ws.onclose = () => this.closed(ws);
  }

  message(data) {
    let f;
    try { f = JSON.parse(data); } catch (e) { return; }
    if (f.type === 'hello') {
      this.delay = BACKOFF_FIRST_MS;
      this.set('live');
      if (this.o.onLive) this.o.onLive();
      return;
    }
    if (this.o.onFrame) this.o.onFrame(f);
  }

  closed(ws) {
    if (ws !== this.socket) return;
    this.socket = null;
    if (this.stopped) { this.set('off'); return; }
    const wait = this.delay;
    this.delay = nextBackoff(this.delay);
    this.set('reconnecting', { in_ms: wait });
    this.timer = this.o.setTimer(() => this.connect(), wait);
  }

  // True when the frame went out (the link is live).
  send(frame) {
    if (!this.socket || this.state !== 'live') return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    if (this.timer !== null) { this.o.clearTimer(this.timer); this.timer = null; }
    const ws = this.socket;
    this.socket = null;
    if (ws) { ws.onclose = null; ws.close(); }
    this.set('off');
  }
}
