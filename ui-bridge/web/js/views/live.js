// views/live.js: the containers page's live views (docs/streams.md) over the one WebSocket: a log
// tail that follows a container (with search), a stats graph (CPU % and memory, one sample a
// second), and a terminal into the container (exec, where the host allows it). One view at a
// time, in the panel beside the table; closing it, or opening another, unfollows.

import { $ } from '../dom.js';
import { humanError } from '../errors.js';
import { S } from '../state.js';
import { fmtBytes } from '../text.js';
import { setError, showOutput } from './containers.js';
import { hideHistory } from './history.js';

const L = { seq: 0, view: null };
const LIVE_MAX_LINES = 2000;   // the tail keeps this many lines; older ones scroll away
const LIVE_MAX_SAMPLES = 120;  // two minutes of stats

function liveKind(spec) {
  return { 'follow-logs': 'logs', 'follow-stats': 'stats', 'exec-start': 'term' }[spec.name];
}

export function liveOpen(spec, c) {
  liveClose();
  const kind = liveKind(spec);
  const ref = `live-${++L.seq}`;
  const message = { action: spec.name, id: c.id };
  if (kind === 'logs') message.tail = 200;
  if (kind === 'term') Object.assign(message, { cmd: ['sh'], tty: true, cols: 100, rows: 30 });
  if (!S.link || !S.link.send({ type: 'follow', ref, message })) {
    setError('The live connection is down; it reconnects by itself (see the status at the top), try again then.');
    return;
  }
  L.view = { ref, kind, stream: null, lines: [], samples: [], partial: '' };
  const what = { logs: 'Logs of', stats: 'Live stats of', term: 'Terminal in' }[kind];
  showOutput(`${what} ${c.name || c.id.slice(0, 12)} on ${c.host}`, 'connecting…');
  $('output').dataset.live = kind;
  $('live-tools').hidden = kind !== 'logs';
  $('live-graph').toggleAttribute('hidden', kind !== 'stats');  // an SVG element has no .hidden
  $('live-search').value = '';
  if (kind === 'term') $('output-body').focus();
}

export function liveClose() {
  const v = L.view;
  L.view = null;
  if (v && v.stream && S.link) S.link.send({ type: 'unfollow', stream: v.stream });
  delete $('output').dataset.live;
  $('live-tools').hidden = true;
  $('live-graph').toggleAttribute('hidden', true);
  hideHistory();
}

// A frame of ours from the WebSocket: true when it was.
export function liveFrame(f) {
  const v = L.view;
  if (!v || (f.ref !== v.ref && f.stream !== v.stream)) return false;
  if (f.type === 'reply') {
    if (f.status !== 200) { $('output-body').textContent = humanError(f.status, f.reply).text; L.view = null; return true; }
    v.stream = f.reply.body.stream;
    $('output-body').textContent = v.kind === 'term' ? '' : '(waiting for output)';
    $('live-status').textContent = 'following';
  } else if (f.type === 'stream') {
    if (v.kind === 'stats') liveSample(v, f.sample); else liveText(v, f.data || '');
  } else if (f.type === 'stream-end') {
    const why = f.exit_code !== undefined ? `exited with ${f.exit_code}` : (f.message || f.reason || 'ended');
    $('live-status').textContent = `stream ended: ${why}`;
    if (v.kind !== 'stats') liveText(v, `\n[${why}]\n`);
    v.stream = null;
  }
  return true;
}

// The link went down: the agent's side of a stream ends with it.
export function liveLost() {
  if (!L.view) return;
  $('live-status').textContent = 'stream ended: the live connection was lost';
  L.view.stream = null;
}

function liveText(v, text) {
  if (v.kind === 'term') {  // a terminal shows what comes, without escape sequences
    const body = $('output-body');
    body.textContent = (body.textContent + text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')).slice(-100000);
    body.scrollTop = body.scrollHeight;
    return;
  }
  const parts = (v.partial + text).split('\n');
  v.partial = parts.pop();
  v.lines.push(...parts);
  if (v.lines.length > LIVE_MAX_LINES) v.lines.splice(0, v.lines.length - LIVE_MAX_LINES);
  liveRenderLines();
}

function liveRenderLines() {
  const v = L.view;
  if (!v || v.kind !== 'logs') return;
  const q = $('live-search').value;
  const shown = q ? v.lines.filter((l) => l.includes(q)) : v.lines;
  const body = $('output-body');
  const atEnd = body.scrollTop + body.clientHeight >= body.scrollHeight - 8;
  body.textContent = shown.length ? shown.join('\n') : (q ? `no line contains "${q}"` : '(no output yet)');
  $('live-status').textContent = q ? `${shown.length} of ${v.lines.length} lines match` : `${v.lines.length} lines`;
  if (atEnd) body.scrollTop = body.scrollHeight;
}

function liveSample(v, s) {
  if (!s) return;
  v.samples.push(s);
  if (v.samples.length > LIVE_MAX_SAMPLES) v.samples.shift();
  $('output-body').textContent = `CPU ${(s.cpu_percent || 0).toFixed(1)} %   memory ${fmtBytes(s.memory_usage || 0)}` +
    (s.memory_limit ? ` of ${fmtBytes(s.memory_limit)}` : '') + (s.pids !== undefined ? `   pids ${s.pids}` : '');
  const w = 600, h = 120, n = v.samples.length;
  const peak = Math.max(1, ...v.samples.map((x) => x.cpu_percent || 0));
  const x = (i) => (n < 2 ? 0 : (i * w) / (LIVE_MAX_SAMPLES - 1));
  const y = (val) => h - (val / peak) * (h - 10) - 5;
  const points = v.samples.map((p, i) => `${x(i).toFixed(1)},${y(p.cpu_percent || 0).toFixed(1)}`).join(' ');
  $('live-line').setAttribute('points', points);
  $('live-peak').textContent = `CPU % (peak ${peak.toFixed(1)})`;
}

// The terminal: keys typed into the output while a terminal is open go to the command.
function liveKey(ev) {
  const v = L.view;
  if (!v || v.kind !== 'term' || !v.stream) return;
  const keys = { Enter: '\r', Backspace: '\x7f', Tab: '\t', Escape: '\x1b', ArrowUp: '\x1b[A',
    ArrowDown: '\x1b[B', ArrowRight: '\x1b[C', ArrowLeft: '\x1b[D' };
  let data = keys[ev.key];
  if (!data && ev.ctrlKey && ev.key.length === 1) data = String.fromCharCode(ev.key.toUpperCase().charCodeAt(0) - 64);
  else if (!data && ev.key.length === 1) data = ev.key;
  if (!data) return;
  ev.preventDefault();
  S.link.send({ type: 'input', stream: v.stream, data });
}

export function wireLive() {
  $('live-search').addEventListener('input', liveRenderLines);
  $('output-body').addEventListener('keydown', liveKey);
  $('output-close').addEventListener('click', () => { liveClose(); $('output').hidden = true; });
}
