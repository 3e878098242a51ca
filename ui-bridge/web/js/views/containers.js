// views/containers.js: the caller's containers (admins: all) with search and pages, and the
// catalogue's actions on each row: only those that fit the container's state, a confirmation
// before kill and remove, a busy word while a change runs ("stopping..."), and the answer of a
// query (logs, inspect, stats) in the panel beside the table.

import { send, api } from '../api.js';
import { $, ask, el, pagerBar } from '../dom.js';
import { actionsFor, busyWord, confirmation, pointless } from '../container_rules.js';
import { humanError } from '../errors.js';
import { filterRows, pageOf } from '../pager.js';
import { S } from '../state.js';
import { fmtTime } from '../text.js';
import { openContainerHistory } from './history.js';
import { liveOpen } from './live.js';

let page = 1;

export async function loadContainers() {
  const r = await api('GET', '/api/v1/containers');
  if (!r.ok) { setError(humanError(r.status, r.data).text); return; }
  S.containers = (r.data.containers || []).slice().sort((a, b) => (b.created || 0) - (a.created || 0));
  renderContainers();
}

export function setError(text) { $('containers-error').textContent = text; }

function buttonsFor(c) {
  if (S.busy[c.id]) return [el('span', { class: 'busy', role: 'status' }, `${S.busy[c.id]}…`)];
  return [...actionsFor(c.state, S.actions).map((a) =>
    el('button', { class: `small${a.name === 'kill-container' || a.name === 'remove-container' ? ' danger' : ''}`,
      'data-action': a.label, title: a.summary, onclick: () => (a.opens_stream ? liveOpen(a, c) : act(a, c)) }, a.label)),
  el('button', { class: 'small', 'data-action': 'history', title: 'CPU and memory over the last 24 h (the bridge samples it)',
    onclick: () => openContainerHistory(c) }, 'history')];
}

export function renderContainers() {
  const body = $('containers-table').tBodies[0];
  const shown = filterRows(S.containers, $('containers-search').value, ['name', 'host', 'image', 'state', 'owner', 'id']);
  const info = pageOf(shown, page);
  page = info.page;
  $('containers-summary').textContent = `${S.containers.length} container(s)`;
  body.replaceChildren();
  if (!info.rows.length) body.append(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, S.containers.length ? 'No container matches.' : 'No containers yet: create one.')));
  for (const c of info.rows) {
    body.append(el('tr', { 'data-id': c.id, 'data-name': c.name || '', 'data-busy': S.busy[c.id] || null },
      el('td', { class: 'mono' }, c.host || '-'),
      el('td', {}, c.name || c.id.slice(0, 12)),
      el('td', { class: 'mono' }, c.image || '-'),
      el('td', {}, el('span', { class: `badge ${c.state}` }, c.state || '?')),
      el('td', {}, fmtTime(c.created)),
      el('td', {}, c.owner || '-'),
      el('td', { class: 'actions' }, ...buttonsFor(c))));
  }
  $('containers-pager').replaceChildren(pagerBar(info, (p) => { page = p; renderContainers(); }));
}

// One catalogue action on one container.
async function act(spec, c) {
  setError('');
  const who = c.name || c.id.slice(0, 12);
  const why = pointless(spec.name, c.state);
  if (why) { setError(`${who} ${why}.`); return; }
  const question = confirmation(spec.name, c);
  if (question && !(await ask(question, spec.label))) return;
  const message = { action: spec.name, id: c.id };
  if (spec.name === 'remove-container' && c.state === 'running') message.force = true;
  const word = busyWord(spec.name);
  if (word) { S.busy[c.id] = word; renderContainers(); }
  const r = await send(message);
  delete S.busy[c.id];
  if (!r.ok) setError(`${spec.label} ${who}: ${humanError(r.status, r.data).text}`);
  else if (!spec.changes_state) showOutput(`${spec.label.charAt(0).toUpperCase()}${spec.label.slice(1)} ${who} on ${c.host}`, replyText(r.data.body));
  if (spec.changes_state) await loadContainers(); else renderContainers();
}

export function showOutput(title, text) {
  $('output-title').textContent = title;
  $('output-body').textContent = text;
  $('output').hidden = false;
}

// container-logs answers {stdout, stderr, ...}: show the text; every other reply as JSON.
function replyText(body) {
  if (body && typeof body.stdout === 'string') return (body.stdout + body.stderr) || '(no output)';
  return JSON.stringify(body, null, 2);
}

export function wireContainers() {
  $('containers-search').addEventListener('input', () => { page = 1; renderContainers(); });
}
