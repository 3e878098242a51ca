// views/audit.js: the broker's audit log of state-changing requests (admins), newest first, with
// search and pages. Reloaded when the page is opened and when a container event arrives.

import { api } from '../api.js';
import { $, el, pagerBar } from '../dom.js';
import { humanError } from '../errors.js';
import { filterRows, pageOf } from '../pager.js';
import { fmtTime } from '../text.js';

let entries = [];
let page = 1;

export async function loadAudit() {
  const r = await api('GET', '/api/v1/audit?limit=1000');
  if (!r.ok) { $('audit-error').textContent = humanError(r.status, r.data).text; return; }
  $('audit-error').textContent = '';
  entries = (r.data.body && r.data.body.entries) || r.data.entries || [];
  renderAudit();
}

function renderAudit() {
  const shown = filterRows(entries, $('audit-search').value, ['user', 'action', 'host', 'target', 'who', 'code']);
  const info = pageOf(shown, page);
  page = info.page;
  $('audit-table').tBodies[0].replaceChildren(...(info.rows.length ? info.rows.map((e) => el('tr', { 'data-action': e.action },
    el('td', {}, fmtTime(e.time)), el('td', {}, e.user || '-'), el('td', { class: 'mono' }, e.action),
    el('td', { class: 'mono' }, e.host || '-'), el('td', { class: 'mono' }, e.target || '-'),
    el('td', {}, el('span', { class: `badge ${e.code < 300 ? 'up' : 'down'}` }, e.code)), el('td', { class: 'mono' }, e.who || '-')))
    : [el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'No entries.'))]));
  $('audit-pager').replaceChildren(pagerBar(info, (p) => { page = p; renderAudit(); }));
}

export function wireAudit() {
  $('audit-search').addEventListener('input', () => { page = 1; renderAudit(); });
}
