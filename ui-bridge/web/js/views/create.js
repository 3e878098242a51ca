// views/create.js: the create form. Its fields come from the create-container schema (the
// catalogue names it; GET /api/v1/schemas/create-container), narrowed by the create policy of the
// chosen host (GET /api/v1/policy?host=). Progress comes as job frames on the WebSocket; a
// schema refusal marks the field and says what it expects (errors.js).

import { api } from '../api.js';
import { $, el } from '../dom.js';
import { humanError } from '../errors.js';
import { fieldsFor, readRequest } from '../schema_form.js';
import { session } from '../api.js';
import { S } from '../state.js';
import { loadContainers } from './containers.js';

const F = { schema: null, fields: [], ctx: {}, job: null };

export async function loadCreateSchema() {
  const spec = S.catalogue.find((m) => m.name === 'create-container');
  if (!spec) return;
  const r = await api('GET', `/api/v1/schemas/${encodeURIComponent(spec.body_schema)}`);
  if (!r.ok) { $('create-error').textContent = humanError(r.status, r.data).text; return; }
  F.schema = r.data;
  await applyPolicy();
}

// The policy of the chosen host (or, for automatic placement, the defaults) decides what is offered.
async function applyPolicy() {
  const host = $('create-host').value;
  let policy = null;
  const r = await api('GET', host ? `/api/v1/policy?host=${encodeURIComponent(host)}` : '/api/v1/policy');
  if (r.ok) policy = host ? r.data.policy : r.data.default;
  F.ctx = { role: session.role, policy };
  renderFields();
}

function inputFor(f, keep) {
  const id = `create-${f.name.replace(/_/g, '-')}`;
  const common = { id, name: f.name, placeholder: f.placeholder || null, title: f.hint || null };
  if (f.kind === 'check') {
    return el('label', { class: 'inline', 'data-field': f.name },
      el('input', { ...common, type: 'checkbox', checked: keep ?? f.default ?? false }), ` ${f.label}`);
  }
  let input;
  if (f.kind === 'select') {
    input = el('select', common, f.choices.map((c) => el('option', { value: c },
      c || (f.name === 'network_mode' ? 'Docker default' : 'Docker default (no)'))));
  } else if (['lines', 'map', 'ports'].includes(f.kind)) {
    input = el('textarea', { ...common, rows: 2 });
  } else if (f.kind === 'number') {
    input = el('input', { ...common, type: 'number', min: f.min, max: f.max, step: f.step });
  } else {
    input = el('input', common);
  }
  if (keep !== undefined) input.value = keep;
  else if (f.name === 'network_mode') input.value = 'none';
  return el('label', { 'data-field': f.name }, `${f.label.charAt(0).toUpperCase()}${f.label.slice(1)} `, input,
    f.hint ? el('small', { class: 'muted' }, f.hint) : null);
}

function renderFields() {
  const keep = currentValues();
  F.fields = fieldsFor(F.schema, F.ctx);
  $('create-fields').replaceChildren(...F.fields.map((f) => inputFor(f, keep[f.name])));
}

function currentValues() {
  const out = {};
  for (const f of F.fields) {
    const e = $(`create-${f.name.replace(/_/g, '-')}`);
    if (e) out[f.name] = e.type === 'checkbox' ? e.checked : e.value;
  }
  return out;
}

function markField(name) {
  for (const l of document.querySelectorAll('#create-form [data-field]')) l.classList.toggle('invalid', l.dataset.field === name);
}

function createRequest() {
  const { body, errors } = readRequest(F.fields, currentValues(), F.ctx);
  const fromTemplate = document.querySelector('input[name=source]:checked').value === 'template';
  if (fromTemplate) body.template = $('create-template').value.trim();
  else body.image = $('create-image').value.trim();
  const host = $('create-host').value;
  if (host) {
    body.host = host;
  } else {
    body.strategy = $('create-strategy').value;
    const cons = $('create-constraints').value.split(',').map((s) => s.trim()).filter(Boolean);
    if (cons.length) body.constraints = cons;
  }
  return { body, errors };
}

async function submit(ev) {
  ev.preventDefault();
  $('create-error').textContent = '';
  $('create-status').replaceChildren();
  markField('');
  const { body, errors } = createRequest();
  if (errors.length) { markField(errors[0].field); $('create-error').textContent = errors.map((e) => e.text).join(' '); return; }
  $('create-submit').disabled = true;
  const r = await api('POST', '/api/v1/containers', body);
  $('create-submit').disabled = false;
  if (r.status !== 202) {
    const e = humanError(r.status, r.data, F.schema);
    markField(e.field);
    $('create-error').textContent = e.text;
    return;
  }
  F.job = r.data.id;
  S.jobs[r.data.id] = renderJob;
  renderJob(r.data);
}

function renderJob(job) {
  if (job.id !== F.job) return;
  const box = $('create-status');
  if (job.state === 'running') {
    box.replaceChildren(el('span', { class: 'muted busy' }, `Creating (job ${job.id}): ${(job.progress && job.progress.stage) || 'running'}…`));
    return;
  }
  delete S.jobs[job.id];
  if (job.state === 'done') {
    const ids = (job.progress && job.progress.containers) || [];
    box.replaceChildren(el('span', { class: 'ok' }, `Created ${ids.length || ''} container(s): ${ids.map((x) => x.slice(0, 12)).join(', ')}`));
    loadContainers();
  } else {
    box.replaceChildren();
    const e = humanError(job.status || 0, { error: job.error || { code: 'failed', message: '' } }, F.schema);
    markField(e.field);
    $('create-error').textContent = e.text;
  }
}

export function fillCreateHosts() {
  const up = S.hosts.filter((h) => h.status === 'up').map((h) => h.fqdn);
  const sel = $('create-host');
  const keep = sel.value;
  sel.replaceChildren(el('option', { value: '' }, 'automatic placement'), ...up.map((f) => el('option', { value: f }, f)));
  sel.value = up.includes(keep) ? keep : '';
  $('placement').hidden = !!sel.value;
}

export function wireCreate() {
  $('create-form').addEventListener('submit', submit);
  $('create-host').addEventListener('change', () => { $('placement').hidden = !!$('create-host').value; applyPolicy(); });
  for (const r of document.querySelectorAll('input[name=source]')) {
    r.addEventListener('change', () => {
      const t = document.querySelector('input[name=source]:checked').value === 'template';
      $('template-field').hidden = !t; $('image-field').hidden = t;
    });
  }
}
