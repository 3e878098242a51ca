// views/services.js: the Services page. Projects (create, delete when empty) and services with
// what the reconciler reports (desired/running, replicas per host, last error or why it is
// blocked, the rolling update's state); create a service, scale it, update its image or command
// (the PATCH's service-update job shows its progress under the update form), delete it.
// Refreshed by the WebSocket only: main.js calls serviceEvent() for `service-reconcile` events and
// container changes, and job frames reach the update's job; nothing polls.

import { api } from '../api.js';
import { $, ask, el } from '../dom.js';
import { humanError } from '../errors.js';
import { checkName, readReplicas, readServiceForm, readUpdateForm, serviceRow, updateJobText } from '../service_rows.js';
import { S, debounce } from '../state.js';
import { splitCommand } from '../text.js';

let projects = [];
let shown = false;  // reload on events only while the page is open
let updating = null;  // the row the update form is for
let updateJob = null;  // the service-update job the page follows

function say(text) { $('services-error').textContent = text || ''; }

function renderProjects() {
  const sel = $('service-project');
  const keep = sel.value;
  sel.replaceChildren(...projects.map((p) => el('option', { value: p.id }, p.name)));
  if (projects.some((p) => p.id === keep)) sel.value = keep;
  $('projects-list').replaceChildren(...(projects.length ? projects.map((p) => el('li', { 'data-project': p.name },
    el('span', {}, p.name), ' ',
    el('button', { class: 'small danger', 'data-action': 'delete project', onclick: () => deleteProject(p) }, 'delete')))
    : [el('li', { class: 'muted' }, 'No projects yet.')]));
}

function serviceLine(row) {
  const scale = el('input', { type: 'number', min: 0, max: 1000, value: row.desired, class: 'replicas-input',
    'aria-label': `replicas of ${row.label}` });
  return el('tr', { 'data-service': row.label, 'data-state': row.state, 'data-running': row.running,
    'data-update': row.update, 'data-generation': row.generation },
    el('td', {}, row.label), el('td', { class: 'mono' }, row.image),
    el('td', {}, el('span', { class: `badge svc-${row.state}` }, row.state), ' ', el('span', { class: 'counts' }, row.counts),
      row.updateText ? el('div', { class: `update update-${row.update}` }, row.updateText) : null),
    el('td', { class: 'hosts' }, row.hosts || '-'),
    el('td', { class: row.problem ? 'problem' : 'muted' }, row.problem || '-'),
    el('td', { class: 'actions' }, scale,
      el('button', { class: 'small', 'data-action': 'scale', onclick: () => scaleService(row, scale.value) }, 'scale'),
      el('button', { class: 'small', 'data-action': 'update', onclick: () => openUpdate(row) }, 'update'),
      el('button', { class: 'small danger', 'data-action': 'delete', onclick: () => deleteService(row) }, 'delete')));
}

export async function loadServices() {
  shown = true;
  const [p, s] = await Promise.all([api('GET', '/api/v1/projects'), api('GET', '/api/v1/services')]);
  if (!p.ok || !s.ok) { say(humanError((p.ok ? s : p).status, (p.ok ? s : p).data).text); return; }
  projects = (p.data.projects || []).slice().sort((a, b) => a.name.localeCompare(b.name));
  renderProjects();
  const rows = (s.data.services || []).map(serviceRow).sort((a, b) => a.label.localeCompare(b.label));
  $('services-table').tBodies[0].replaceChildren(...(rows.length ? rows.map(serviceLine)
    : [el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No services.'))]));
}

export function leaveServices() { shown = false; }

// A reconcile step or a container change: the counts may have moved.
export function serviceEvent() {
  if (shown) debounce('services', 150, loadServices);
}

async function createProject(ev) {
  ev.preventDefault();
  const name = $('project-name').value.trim();
  const bad = checkName('Project name', name);
  if (bad) { say(bad); return; }
  const r = await api('POST', '/api/v1/projects', { name });
  if (!r.ok) { say(humanError(r.status, r.data).text); return; }
  say('');
  $('project-name').value = '';
  await loadServices();
  $('service-project').value = r.data.id;
}

async function deleteProject(p) {
  if (!(await ask(`Delete the project ${p.name}? Only a project without services can go.`, 'delete'))) return;
  const r = await api('DELETE', `/api/v1/projects/${encodeURIComponent(p.id)}`);
  say(r.ok ? '' : humanError(r.status, r.data).text);
  loadServices();
}

async function createService(ev) {
  ev.preventDefault();
  for (const f of document.querySelectorAll('#service-form label.invalid')) f.classList.remove('invalid');
  const read = readServiceForm({ project: $('service-project').value, name: $('service-name').value.trim(),
    image: $('service-image').value, replicas: $('service-replicas').value, cmd: $('service-cmd').value }, splitCommand);
  if (read.error) {
    say(read.error);
    const label = document.querySelector(`#service-form label[data-field=${read.field}]`);
    if (label) label.classList.add('invalid');
    return;
  }
  const r = await api('POST', '/api/v1/services', read.body);
  if (!r.ok) { say(humanError(r.status, r.data).text); return; }
  say('');
  $('service-name').value = '';
  loadServices();
}

async function scaleService(row, text) {
  const n = readReplicas(text);
  if (n.error) { say(n.error); return; }
  const r = await api('POST', `/api/v1/services/${encodeURIComponent(row.id)}/scale`, { replicas: n.value });
  say(r.ok ? '' : humanError(r.status, r.data).text);
  loadServices();
}

async function deleteService(row) {
  if (!(await ask(`Delete the service ${row.label}? Its ${row.running} running replica(s) are removed.`, 'delete'))) return;
  const r = await api('DELETE', `/api/v1/services/${encodeURIComponent(row.id)}`);
  say(r.ok ? '' : humanError(r.status, r.data).text);
  loadServices();
}

function openUpdate(row) {
  updating = row;
  $('update-service').textContent = row.label;
  $('update-image').value = row.image;
  $('update-cmd').value = row.cmd;
  $('update-status').replaceChildren();
  $('update-form').hidden = false;
  $('update-image').focus();
}

async function updateService(ev) {
  ev.preventDefault();
  if (!updating) return;
  for (const f of document.querySelectorAll('#update-form label.invalid')) f.classList.remove('invalid');
  const read = readUpdateForm({ image: $('update-image').value, cmd: $('update-cmd').value }, updating, splitCommand);
  if (read.error) {
    say(read.error);
    const label = document.querySelector(`#update-form label[data-field=${read.field}]`);
    if (label) label.classList.add('invalid');
    return;
  }
  $('update-submit').disabled = true;
  const r = await api('PATCH', `/api/v1/services/${encodeURIComponent(updating.id)}`, read.body);
  $('update-submit').disabled = false;
  if (!r.ok) { say(humanError(r.status, r.data).text); return; }
  say('');
  if (r.data.job) {
    // Job frames come on the WebSocket (main.js hands them to S.jobs); the first shows at once.
    updateJob = r.data.job;
    S.jobs[updateJob] = renderUpdateJob;
    renderUpdateJob({ id: updateJob, state: 'running', progress: { generation: r.data.generation,
      updated: 0, replicas: (r.data.spec || {}).replicas || 0 } });
    // A frame sent before S.jobs knew the job is not replayed: read it once to catch up.
    const j = await api('GET', r.data.job_location);
    if (j.ok && j.data) renderUpdateJob(j.data);
  } else {
    $('update-status').replaceChildren(el('span', { class: 'muted' }, 'Nothing to roll out: the containers run this already.'));
  }
  loadServices();
}

function renderUpdateJob(job) {
  if (job.id !== updateJob) return;
  const done = job.state !== 'running';
  $('update-status').replaceChildren(el('span', { class: done ? (job.state === 'done' ? 'ok' : 'error') : 'muted busy',
    'data-job': job.id, 'data-job-state': job.state }, updateJobText(job)));
  if (done) { delete S.jobs[job.id]; loadServices(); }
}

export function wireServices() {
  $('project-form').addEventListener('submit', createProject);
  $('service-form').addEventListener('submit', createService);
  $('update-form').addEventListener('submit', updateService);
  $('update-cancel').addEventListener('click', () => { $('update-form').hidden = true; updating = null; });
}
