// views/history.js: the stats history graph (docs/bridge.md, "Stats history") drawn into an SVG
// of the page: the container panel's "history" and the host page's usage card. One REST call
// per opening; then the container's graph follows its live stats stream over the WebSocket (the
// one refresh mechanism: nothing polls, the history is not fetched again), each sample added as
// the bridge adds it (history_graph.js, mergeLive).

import { api } from '../api.js';
import { $, el } from '../dom.js';
import { humanError } from '../errors.js';
import { historyLines, mergeLive, spanWords } from '../history_graph.js';
import { fmtBytes } from '../text.js';
import { showOutput } from './containers.js';
import { liveClose, liveFeed } from './live.js';

const H = { seq: 0, shown: null };  // shown: {data, samples, live} of the open container graph

// Fetches `path` and draws it into the SVG `svgId`; the caption goes to `captionId`.
export async function drawHistory(path, svgId, captionId) {
  const r = await api('GET', path);
  if (!r.ok) {
    $(svgId).replaceChildren();
    $(captionId).textContent = humanError(r.status, r.data).text;
    return null;
  }
  render(r.data, r.data.samples, svgId, captionId, '');
  return r.data;
}

// Draws `samples` with the history's parameters (`data`: step_s, coarse_step_s, window_s).
function render(data, samples, svgId, captionId, liveWords) {
  const svg = $(svgId);
  const g = historyLines(samples);
  svg.dataset.samples = String(g.count);
  svg.replaceChildren(
    el('polyline', { class: 'memory', points: g.memory }),
    el('polyline', { class: 'cpu', points: g.cpu }),
    el('text', { x: 4, y: 12 }, `CPU % (peak ${g.cpuPeak.toFixed(1)})`),
    el('text', { x: 4, y: 24, class: 'memory' }, `memory (peak ${fmtBytes(g.memoryPeak)})`));
  $(captionId).textContent = g.count
    ? `${g.count} point(s) over ${spanWords(g.to - g.from)}; one every ${data.step_s} s for the last hour, ` +
      `then one per ${Math.round(data.coarse_step_s / 60)} min, kept ${Math.round(data.window_s / 3600)} h${liveWords}`
    : 'No samples yet: the bridge samples running containers every few seconds.';
}

function showHistoryParts(show) {
  $('history-graph').toggleAttribute('hidden', !show);  // an SVG element has no .hidden
  $('history-caption').hidden = !show;
}

// The container panel's "history": the graph above, the caption in the panel's body.
// Fetched once, then live: every follow-stats sample is merged in and the graph redrawn.
export async function openContainerHistory(c) {
  liveClose();
  const seq = ++H.seq;
  showOutput(`Usage history of ${c.name || c.id.slice(0, 12)} on ${c.host}`, '');
  $('output').dataset.live = 'history';
  showHistoryParts(true);
  $('history-caption').textContent = 'loading…';
  const data = await drawHistory(`/api/v1/containers/${encodeURIComponent(c.id)}/stats/history`, 'history-graph', 'history-caption');
  if (!data || seq !== H.seq) return;  // refused, or closed while loading
  H.shown = { data, samples: data.samples || [], live: 0 };
  const svg = $('history-graph');
  svg.dataset.live = '0';
  liveFeed(c, (sample, problem) => {
    if (seq !== H.seq) return;
    const sh = H.shown;
    if (!sample) { $('history-caption').textContent += `; not live: ${problem}`; return; }
    sh.samples = mergeLive(sh.samples, sample, Date.now(), data.step_s * 1000, data.window_s * 1000);
    sh.live += 1;
    svg.dataset.live = String(sh.live);
    render(data, sh.samples, 'history-graph', 'history-caption', '; live');
  });
}

export function hideHistory() {
  H.seq += 1;
  H.shown = null;
  showHistoryParts(false);
}

// The host page's usage card: admins only (the bridge answers 403 to others; the card stays hidden).
export async function showHostHistory(fqdn, isAdmin) {
  $('host-usage').hidden = !isAdmin;
  if (!isAdmin) return;
  await drawHistory(`/api/v1/hosts/${encodeURIComponent(fqdn)}/stats/history`, 'host-history', 'host-history-caption');
}
