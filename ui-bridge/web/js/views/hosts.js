// views/hosts.js: the host list (search, pages) and the host detail page (engine facts, labels,
// disk usage, its containers and images; for admins its usage history), reached by clicking a host
// (#host/<fqdn>).

import { api, send, session } from '../api.js';
import { $, el, pagerBar } from '../dom.js';
import { humanError } from '../errors.js';
import { filterRows, pageOf } from '../pager.js';
import { S } from '../state.js';
import { fmtAgo, fmtBytes, fmtTime } from '../text.js';
import { showHostHistory } from './history.js';

let page = 1;

export async function loadHosts() {
  const r = await api('GET', '/api/v1/hosts');
  if (!r.ok) { $('hosts-error').textContent = humanError(r.status, r.data).text; return; }
  $('hosts-error').textContent = '';
  S.hosts = (r.data.hosts || []).slice().sort((a, b) => a.fqdn.localeCompare(b.fqdn));
  renderHosts();
  document.dispatchEvent(new CustomEvent('dm-hosts'));
}

function labelsOf(h) {
  return Object.entries(h.labels || {}).map(([k, v]) => `${k}=${v}`);
}

export function renderHosts() {
  const body = $('hosts-table').tBodies[0];
  const up = S.hosts.filter((h) => h.status === 'up').length;
  $('hosts-summary').textContent = `${up} of ${S.hosts.length} up`;
  const shown = filterRows(S.hosts, $('hosts-search').value, ['fqdn', 'status', (h) => labelsOf(h).join(' ')]);
  const info = pageOf(shown, page);
  page = info.page;
  body.replaceChildren();
  if (!info.rows.length) body.append(el('tr', {}, el('td', { colspan: 8, class: 'empty' }, S.hosts.length ? 'No host matches.' : 'No hosts have announced themselves yet.')));
  for (const h of info.rows) {
    body.append(el('tr', { 'data-host': h.fqdn, class: 'clickable', onclick: () => { location.hash = `host/${h.fqdn}`; } },
      el('td', { class: 'mono' }, el('a', { href: `#host/${h.fqdn}` }, h.fqdn)),
      el('td', {}, el('span', { class: `badge ${h.status}` }, h.status || '?')),
      el('td', {}, h.cpus ?? '-'),
      el('td', {}, fmtBytes(h.memory_bytes)),
      el('td', {}, `${h.containers_running ?? '-'} / ${h.containers_total ?? '-'}`),
      el('td', {}, h.docker_version || (h.docker_up === false ? 'dockerd down' : '-')),
      el('td', {}, labelsOf(h).length ? labelsOf(h).map((l) => el('span', { class: 'label' }, l)) : '-'),
      el('td', { title: fmtTime(h.last_seen) }, fmtAgo(h.last_seen))));
  }
  $('hosts-pager').replaceChildren(pagerBar(info, (p) => { page = p; renderHosts(); }));
}

function facts(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v ?? '-')]));
}

export async function showHost(fqdn) {
  $('host-title').textContent = fqdn;
  $('host-error').textContent = '';
  const [rec, info, disk, images] = await Promise.all([
    api('GET', `/api/v1/hosts/${encodeURIComponent(fqdn)}`),
    send({ action: 'host-info', host: fqdn }),
    send({ action: 'disk-usage', host: fqdn }),
    api('GET', `/api/v1/images?host=${encodeURIComponent(fqdn)}`)]);
  if (!rec.ok) { $('host-error').textContent = humanError(rec.status, rec.data).text; return; }
  const h = rec.data.host || rec.data;
  $('host-status').replaceChildren(el('span', { class: `badge ${h.status}` }, h.status || '?'));
  const i = info.ok ? info.data.body : {};
  facts($('host-info'), [['Docker', i.docker_version || h.docker_version], ['API', i.api_version],
    ['OS', i.os], ['Kernel', i.kernel], ['Architecture', i.architecture], ['CPUs', i.cpus ?? h.cpus],
    ['Memory', fmtBytes(i.memory_bytes ?? h.memory_bytes)], ['Storage driver', i.storage_driver],
    ['Agent', i.agent_version], ['Last seen', fmtAgo(h.last_seen)]]);
  const labels = Object.entries(h.labels || i.labels || {});
  $('host-labels').replaceChildren(...(labels.length ? labels.map(([k, v]) => el('span', { class: 'label' }, `${k}=${v}`)) : ['none']));
  const d = disk.ok ? disk.data.body : null;
  if (d) {
    const sum = (xs, f) => (xs || []).reduce((a, x) => a + (x[f] || x[f.charAt(0).toUpperCase() + f.slice(1)] || 0), 0);
    facts($('host-disk'), [['Layers', fmtBytes((d.summary || {}).layers_size)], ['Images', `${(d.images || []).length}`],
      ['Containers', `${(d.containers || []).length} (${fmtBytes(sum(d.containers, 'size_rw'))} written)`],
      ['Volumes', `${(d.volumes || []).length}`], ['Build cache', fmtBytes(((d.summary || {}).build_cache || {}).size)]]);
  } else {
    facts($('host-disk'), [['Disk usage', humanError(disk.status, disk.data).text]]);
  }
  const mine = S.containers.filter((c) => c.host === fqdn);
  $('host-containers').tBodies[0].replaceChildren(...(mine.length ? mine.map((c) => el('tr', {},
    el('td', {}, c.name || c.id.slice(0, 12)), el('td', { class: 'mono' }, c.image || '-'),
    el('td', {}, el('span', { class: `badge ${c.state}` }, c.state || '?')), el('td', {}, c.owner || '-')))
    : [el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'None of your containers.'))]));
  showHostHistory(fqdn, session.role === 'admin');
  const b = images.ok ? images.data.body : [];
  const list = Array.isArray(b) ? b : (b && b.images) || [];
  $('host-images').tBodies[0].replaceChildren(...list.map((im) => el('tr', {},
    el('td', { class: 'mono' }, (im.tags || im.repo_tags || []).join(', ') || '<none>'),
    el('td', { class: 'mono' }, String(im.id || '').replace('sha256:', '').slice(0, 12)),
    el('td', {}, fmtBytes(im.size)))));
}

export function wireHosts() {
  $('hosts-search').addEventListener('input', () => { page = 1; renderHosts(); });
  $('host-back').addEventListener('click', () => { location.hash = 'hosts'; });
}
