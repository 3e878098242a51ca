// views/history.js: the stats history graph (docs/bridge.md, "Stats history") drawn into an SVG
// of the page: the container panel's "history" and the host page's usage card. One REST call
// per opening; the bridge keeps the samples, the page keeps nothing.

import { api } from '../api.js';
import { $, el } from '../dom.js';
import { humanError } from '../errors.js';
import { historyLines, spanWords } from '../history_graph.js';
import { fmtBytes } from '../text.js';
import { showOutput } from './containers.js';
import { liveClose } from './live.js';

// Fetches `path` and draws it into the SVG `svgId`; the caption goes to `captionId`.
export async function drawHistory(path, svgId, captionId) {
  const svg = $(svgId);
  const r = await api('GET', path);
  if (!r.ok) {
    svg.replaceChildren();
    $(captionId).textContent = humanError(r.status, r.data).text;
    return null;
  }
  const g = historyLines(r.data.samples);
  svg.dataset.samples = String(g.count);
  svg.replaceChildren(
    el('polyline', { class: 'memory', points: g.memory }),
    el('polyline', { class: 'cpu', points: g.cpu }),
    el('text', { x: 4, y: 12 }, `CPU % (peak ${g.cpuPeak.toFixed(1)})`),
    el('text', { x: 4, y: 24, class: 'memory' }, `memory (peak ${fmtBytes(g.memoryPeak)})`));
  $(captionId).textContent = g.count
    ? `${g.count} point(s) over ${spanWords(g.to - g.from)}; one every ${r.data.step_s} s for the last hour, ` +
      `then one per ${Math.round(r.data.coarse_step_s / 60)} min, kept ${Math.round(r.data.window_s / 3600)} h`
    : 'No samples yet: the bridge samples running containers every few seconds.';
  return r.data;
}

function showHistoryParts(show) {
  $('history-graph').toggleAttribute('hidden', !show);  // an SVG element has no .hidden
  $('history-caption').hidden = !show;
}

// The container panel's "history": the graph above, the caption in the panel's body.
export async function openContainerHistory(c) {
  liveClose();
  showOutput(`Usage history of ${c.name || c.id.slice(0, 12)} on ${c.host}`, '');
  $('output').dataset.live = 'history';
  showHistoryParts(true);
  $('history-caption').textContent = 'loading…';
  await drawHistory(`/api/v1/containers/${encodeURIComponent(c.id)}/stats/history`, 'history-graph', 'history-caption');
}

export function hideHistory() { showHistoryParts(false); }

// The host page's usage card: admins only (the bridge answers 403 to others; the card stays hidden).
export async function showHostHistory(fqdn, isAdmin) {
  $('host-usage').hidden = !isAdmin;
  if (!isAdmin) return;
  await drawHistory(`/api/v1/hosts/${encodeURIComponent(fqdn)}/stats/history`, 'host-history', 'host-history-caption');
}
