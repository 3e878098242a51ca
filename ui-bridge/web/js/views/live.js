// views/live.js: the containers page's live views (docs/streams.md) over the one WebSocket: a log
// tail that follows one container, or all the caller's running ones merged (each line tagged
// with its container), with search, a stdout/stderr filter and download; a stats graph (CPU % and
// memory, one sample a second); and a terminal into the container (exec, where the host allows
// it; views/terminal.js, xterm.js). One view at a time, in the panel beside the table; closing it, or opening another,
// unfollows every stream it holds.

import { $ } from '../dom.js';
import { LogMerge, pickFollowed } from '../log_merge.js';
import { humanError } from '../errors.js';
import { S } from '../state.js';
import { fmtBytes } from '../text.js';
import { setError, showOutput } from './containers.js';
import { hideHistory } from './history.js';
import { termClose, termNote, termOpen, termWrite } from './terminal.js';

const L = { seq: 0, view: null };
const LIVE_MAX_LINES = 2000;   // the tail keeps this many lines; older ones scroll away
const LIVE_MAX_SAMPLES = 120;  // two minutes of stats

function liveKind(spec) {
  return { 'follow-logs': 'logs', 'follow-stats': 'stats', 'exec-start': 'term' }[spec.name];
}

const nameOf = (c) => c.name || c.id.slice(0, 12);

// Sends one follow per container; false when the link is down.
function follow(v, action, containers, extra) {
  for (const c of containers) {
    const ref = `live-${++L.seq}`;
    if (!S.link || !S.link.send({ type: 'follow', ref, message: { action, id: c.id, ...extra } })) return false;
    v.refs[ref] = nameOf(c);
  }
  return true;
}

function openView(kind, title) {
  L.view = { kind, refs: {}, streams: {}, merge: new LogMerge(LIVE_MAX_LINES), samples: [], open: 0 };
  showOutput(title, 'connecting…');
  $('output').dataset.live = kind;
  $('live-tools').hidden = kind !== 'logs';
  $('live-graph').toggleAttribute('hidden', kind !== 'stats');  // an SVG element has no .hidden
  $('live-search').value = '';
  $('live-channel').value = 'all';
  return L.view;
}

const LINK_DOWN = 'The live connection is down; it reconnects by itself (see the status at the top), try again then.';

export async function liveOpen(spec, c) {
  liveClose();
  const kind = liveKind(spec);
  const what = { logs: 'Logs of', stats: 'Live stats of', term: 'Terminal in' }[kind];
  const v = openView(kind, `${what} ${nameOf(c)} on ${c.host}`);
  let extra = kind === 'logs' ? { tail: 200 } : {};
  if (kind === 'term') {
    // The terminal first: the session starts at its size (cols x rows of the panel).
    let size;
    try {
      size = await termOpen($('term'), { input: (data) => termSend(v, { type: 'input', data }),
        resize: (cols, rows) => termSend(v, { type: 'resize', cols, rows }) });
    } catch (e) {  // vendor/xterm.js missing or broken: say so, in words
      if (L.view === v) { liveClose(); $('output-body').textContent = `The terminal could not be loaded (${e.message}).`; }
      return;
    }
    if (L.view !== v) return;  // closed, or another view opened, while xterm.js loaded
    extra = { cmd: ['sh'], tty: true, ...size };
  }
  if (!follow(v, spec.name, [c], extra)) { liveClose(); setError(LINK_DOWN); }
}

// Keys and sizes go to the session once it is open (before that there is nothing to send to).
function termSend(v, frame) {
  const stream = Object.keys(v.streams)[0];
  if (L.view === v && stream && S.link) S.link.send({ ...frame, stream });
}

// Every running container of the caller's list at once (at most 8: one WebSocket's streams).
export function liveOpenAll() {
  liveClose();
  const [chosen, left] = pickFollowed(S.containers);
  if (!chosen.length) { setError('None of your containers is running: there is no log to follow.'); return; }
  const v = openView('logs', `Logs of ${chosen.length} running container(s)` +
    (left.length ? ` (${left.length} more not followed: 8 at most)` : ''));
  v.merged = true;
  if (!follow(v, 'follow-logs', chosen, { tail: 20 })) { liveClose(); setError(LINK_DOWN); }
}

// The history graph's live feed (views/history.js): one follow-stats stream whose samples go to
// onSample(sample); a refusal or the stream's end to onSample(null, words). Held as the live view,
// so closing the panel or opening another view unfollows it like any other.
export function liveFeed(c, onSample) {
  const v = { kind: 'feed', refs: {}, streams: {}, open: 0, onSample };
  L.view = v;
  if (!follow(v, 'follow-stats', [c], {})) { L.view = null; onSample(null, 'the live connection is down'); }
}

function feedFrame(v, f) {
  if (f.type === 'reply' && f.status !== 200) v.onSample(null, humanError(f.status, f.reply).text);
  else if (f.type === 'reply') v.streams[f.reply.body.stream] = true;
  else if (f.type === 'stream') v.onSample(f.sample);
  else if (f.type === 'stream-end') { delete v.streams[f.stream]; v.onSample(null, f.message || f.reason || 'the stream ended'); }
  return true;
}

export function liveClose() {
  const v = L.view;
  L.view = null;
  for (const stream of Object.keys((v && v.streams) || {})) if (S.link) S.link.send({ type: 'unfollow', stream });
  delete $('output').dataset.live;
  termClose();
  $('live-tools').hidden = true;
  $('live-graph').toggleAttribute('hidden', true);
  hideHistory();
}

// A frame of ours from the WebSocket: true when it was.
export function liveFrame(f) {
  const v = L.view;
  if (!v || (!(f.ref in v.refs) && !(f.stream in v.streams))) return false;
  if (v.kind === 'feed') return feedFrame(v, f);
  const source = v.refs[f.ref] || v.streams[f.stream];
  if (f.type === 'reply') {
    if (f.status !== 200) {
      const text = humanError(f.status, f.reply).text;
      if (!v.merged) { liveClose(); $('output-body').textContent = text; return true; }
      v.merge.add(source, 'stderr', `[cannot follow: ${text}]\n`);
      liveRenderLines();
      return true;
    }
    v.streams[f.reply.body.stream] = source;
    v.open += 1;
    if (v.open === 1) $('output-body').textContent = v.kind === 'term' ? '' : '(waiting for output)';
    $('live-status').textContent = v.merged ? `following ${v.open}` : 'following';
  } else if (f.type === 'stream') {
    if (v.kind === 'stats') liveSample(v, f.sample); else liveText(v, source, f.channel, f.data || '');
  } else if (f.type === 'stream-end') {
    const why = f.exit_code !== undefined ? `exited with ${f.exit_code}` : (f.message || f.reason || 'ended');
    delete v.streams[f.stream];
    v.open -= 1;
    if (v.kind === 'term') termNote(`[${why}]`);
    else if (v.kind !== 'stats') liveText(v, source, 'stderr', `\n[${why}]\n`);
    $('live-status').textContent = v.merged ? `${source}: stream ended: ${why}` : `stream ended: ${why}`;
  }
  return true;
}

// The link went down: the agent's side of a stream ends with it.
export function liveLost() {
  if (!L.view) return;
  $('live-status').textContent = 'stream ended: the live connection was lost';
  if (L.view.kind === 'term') termNote('[the live connection was lost: the session ended]');
  L.view.streams = {};
}

function liveText(v, source, channel, text) {
  if (v.kind === 'term') { termWrite(text); return; }
  v.merge.add(source, channel, text);
  liveRenderLines();
}

function shownLines() {
  const v = L.view;
  return v.merge.shown($('live-channel').value, $('live-search').value);
}

function liveRenderLines() {
  const v = L.view;
  if (!v || v.kind !== 'logs') return;
  const q = $('live-search').value, ch = $('live-channel').value;
  const shown = shownLines();
  const body = $('output-body');
  const atEnd = body.scrollTop + body.clientHeight >= body.scrollHeight - 8;
  body.textContent = shown.length ? v.merge.format(shown) : (q || ch !== 'all' ? 'no line matches' : '(no output yet)');
  $('live-status').textContent = q || ch !== 'all' ? `${shown.length} of ${v.merge.lines.length} lines match` : `${v.merge.lines.length} lines`;
  if (atEnd) body.scrollTop = body.scrollHeight;
}

// Saves the lines shown (after the filter and the search) as a text file.
function liveDownload() {
  const v = L.view;
  if (!v || v.kind !== 'logs') return;
  const blob = new Blob([`${v.merge.format(shownLines())}\n`], { type: 'text/plain' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `logs-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
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

export function wireLive() {
  $('live-search').addEventListener('input', liveRenderLines);
  $('live-channel').addEventListener('change', liveRenderLines);
  $('live-download').addEventListener('click', liveDownload);
  $('containers-follow-all').addEventListener('click', liveOpenAll);
  $('output-close').addEventListener('click', () => { liveClose(); $('output').hidden = true; });
}
