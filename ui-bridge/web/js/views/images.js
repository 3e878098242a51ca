// views/images.js: the images of one host, with remove (confirmed; admins), and pulls on several hosts
// with a progress bar per host (job frames on the WebSocket).

import { api, send } from '../api.js';
import { $, ask, el } from '../dom.js';
import { humanError } from '../errors.js';
import { S } from '../state.js';
import { fmtBytes, fmtTime } from '../text.js';

let pullJob = null;

export async function loadImages() {
  const host = $('images-host').value;
  const body = $('images-table').tBodies[0];
  if (!host) { body.replaceChildren(el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No host is up.'))); return; }
  const r = await api('GET', `/api/v1/images?host=${encodeURIComponent(host)}`);
  if (!r.ok) { $('images-error').textContent = humanError(r.status, r.data).text; return; }
  $('images-error').textContent = '';
  const b = r.data.body;
  const images = Array.isArray(b) ? b : (b && b.images) || [];
  body.replaceChildren();
  // remove-image is offered where the catalogue lets this user send it (admins).
  const canRemove = S.actions.some((a) => a.name === 'remove-image');
  if (!images.length) body.append(el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No images.')));
  for (const i of images) {
    const tags = i.tags || [];
    const id = String(i.id || '');
    body.append(el('tr', { 'data-image': tags[0] || id },
      el('td', { class: 'mono' }, tags.length ? tags.join(', ') : '<none>'),
      el('td', { class: 'mono' }, id.replace('sha256:', '').slice(0, 12)),
      el('td', {}, fmtBytes(i.size)),
      el('td', {}, fmtTime(i.created)),
      el('td', { class: 'actions' }, canRemove ? el('button', { class: 'small danger', 'data-action': 'remove image',
        onclick: () => removeImage(host, tags[0] || id) }, 'remove') : null)));
  }
}

async function removeImage(host, ref) {
  if (!(await ask(`Remove the image ${ref} from ${host}?`, 'remove'))) return;
  const r = await send({ action: 'remove-image', host, image: ref });
  if (!r.ok) $('images-error').textContent = `Remove ${ref}: ${humanError(r.status, r.data).text}`;
  loadImages();
}

async function pullImage(ev) {
  ev.preventDefault();
  $('pull-error').textContent = '';
  const hosts = [...$('pull-hosts').querySelectorAll('input:checked')].map((i) => i.value);
  if (!hosts.length) { $('pull-error').textContent = 'Choose at least one host.'; return; }
  $('pull-submit').disabled = true;
  const r = await api('POST', '/api/v1/images/pull', { image: $('pull-image').value.trim(), hosts });
  $('pull-submit').disabled = false;
  if (r.status !== 202) { $('pull-error').textContent = humanError(r.status, r.data).text; return; }
  pullJob = r.data.id;
  S.jobs[pullJob] = renderPull;
  renderPull(r.data);
}

function renderPull(job) {
  if (job.id !== pullJob || !job.progress) return;
  const rows = Object.entries(job.progress.hosts || {}).map(([host, p]) => {
    const state = p.state || 'waiting';
    let pct = null;
    const cur = p.current ?? (p.progress && p.progress.current);
    const tot = p.total ?? (p.progress && p.progress.total);
    if (typeof cur === 'number' && typeof tot === 'number' && tot > 0) pct = Math.min(100, (100 * cur) / tot);
    const cls = state === 'done' ? 'bar done' : state === 'failed' ? 'bar failed' : pct === null && state === 'pulling' ? 'bar busy' : 'bar';
    const inner = el('div', {});
    if (pct !== null && state === 'pulling') inner.style.width = `${pct.toFixed(0)}%`;
    const text = state === 'failed' ? `failed: ${p.message || p.code}` : state === 'pulling' ? (p.status || 'pulling') : state;
    return el('div', { class: 'progress-row', 'data-host': host, 'data-state': state },
      el('span', { class: 'mono' }, host), el('div', { class: cls }, inner), el('span', {}, text));
  });
  $('pull-progress').replaceChildren(el('h2', {}, `Pull ${job.progress.image || ''}: ${job.state}`), ...rows);
  if (job.state !== 'running') { delete S.jobs[job.id]; loadImages(); }
}

export function fillImageHosts() {
  const up = S.hosts.filter((h) => h.status === 'up').map((h) => h.fqdn);
  const img = $('images-host');
  const keep = img.value;
  img.replaceChildren(...up.map((f) => el('option', { value: f }, f)));
  if (up.includes(keep)) img.value = keep;
  const box = $('pull-hosts');
  const checked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
  box.replaceChildren(...up.map((f) => el('label', { class: 'inline' },
    el('input', { type: 'checkbox', value: f, checked: checked.has(f) }), f)));
}

export function wireImages() {
  $('pull-form').addEventListener('submit', pullImage);
  $('images-host').addEventListener('change', loadImages);
  $('images-refresh').addEventListener('click', loadImages);
}
