// dockmesh web UI: plain JavaScript, no framework, no network access beyond this bridge.
// It speaks the bridge's REST API (/api/v1/...) with a session token from /api/v1/login, and keeps
// a WebSocket (/api/v1/ws) open for live directory events, container events and job progress.
// Everything shown from the server is inserted as text (never as HTML).
'use strict';

const S = {
  token: sessionStorage.getItem('dm_token') || '',
  user: sessionStorage.getItem('dm_user') || '',
  role: sessionStorage.getItem('dm_role') || '',
  tab: 'hosts',
  hosts: [],
  containers: [],
  ws: null,
  wsRetry: 1000,
  timers: {},
  pullJob: null,
  createJob: null,
  actions: [],  // the agent actions this user may send, from GET /api/v1/catalogue
};

// ---- small helpers ---------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function fmtBytes(n) {
  if (typeof n !== 'number' || !isFinite(n) || n <= 0) return '-';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

// Unix seconds or milliseconds, or an ISO string.
function toDate(t) {
  if (typeof t === 'number') return new Date(t < 1e12 ? t * 1000 : t);
  if (typeof t === 'string' && t) return new Date(t);
  return null;
}

function fmtTime(t) {
  const d = toDate(t);
  return d && !isNaN(d) ? d.toLocaleString() : '-';
}

function fmtAgo(t) {
  const d = toDate(t);
  if (!d || isNaN(d)) return '-';
  const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return d.toLocaleString();
}

// The error text a reply carries, as the bridge (or the agent behind it) stated it.
function errorText(status, data) {
  if (data && data.error) return `${status} ${data.error.code}: ${data.error.message}`;
  return `HTTP ${status}`;
}

function debounce(name, ms, fn) {
  clearTimeout(S.timers[name]);
  S.timers[name] = setTimeout(fn, ms);
}

// Splits a command line like a shell would for simple cases: spaces, 'single' and "double" quotes.
function splitCommand(text) {
  const out = [];
  let cur = '', quote = null, has = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null; else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch; has = true;
    } else if (/\s/.test(ch)) {
      if (cur || has) out.push(cur);
      cur = ''; has = false;
    } else {
      cur += ch;
    }
  }
  if (cur || has) out.push(cur);
  return out;
}

// ---- API -------------------------------------------------------------------------------------

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (S.token) opts.headers.Authorization = `Bearer ${S.token}`;
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    return { status: 0, data: { error: { code: 'unreachable', message: 'the bridge did not answer' } } };
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && path !== '/api/v1/login') logout('Your session ended; please sign in again.');
  return { status: res.status, ok: res.ok, data, redirected: res.redirected, url: res.url, res };
}

const send = (message) => api('POST', '/api/v1/messages', message);

// ---- session ---------------------------------------------------------------------------------

async function login(ev) {
  ev.preventDefault();
  $('login-error').textContent = '';
  const r = await api('POST', '/api/v1/login', {
    username: $('login-user').value.trim(), password: $('login-password').value });
  if (!r.ok) {
    $('login-error').textContent = errorText(r.status, r.data);
    return;
  }
  S.token = r.data.token; S.user = r.data.user; S.role = r.data.role;
  sessionStorage.setItem('dm_token', S.token);
  sessionStorage.setItem('dm_user', S.user);
  sessionStorage.setItem('dm_role', S.role);
  $('login-password').value = '';
  enter();
}

function logout(message) {
  S.token = ''; S.user = ''; S.role = '';
  sessionStorage.clear();
  if (S.ws) { S.ws.onclose = null; S.ws.close(); S.ws = null; }
  for (const t of Object.values(S.timers)) { clearTimeout(t); clearInterval(t); }
  $('tabs').hidden = true; $('session').hidden = true;
  for (const v of document.querySelectorAll('.view')) v.hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = typeof message === 'string' ? message : '';
}

function enter() {
  $('login-view').hidden = true;
  $('tabs').hidden = false; $('session').hidden = false;
  $('whoami').textContent = `${S.user} (${S.role})`;
  $('containers-title').textContent = S.role === 'admin' ? 'All containers' : 'My containers';
  connectLive();
  loadCatalogue();
  offerAllowedNetworks();
  showTab(location.hash.slice(1) || 'hosts');
  loadHosts();
  loadContainers();
  S.timers.poll = setInterval(() => { loadHosts(); if (S.tab === 'containers') loadContainers(); }, 5000);
}

function showTab(tab) {
  if (!['hosts', 'containers', 'create', 'images'].includes(tab)) tab = 'hosts';
  S.tab = tab;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `${tab}-view`;
  if (location.hash !== `#${tab}`) history.replaceState(null, '', `#${tab}`);
  if (tab === 'containers') loadContainers();
  if (tab === 'images') loadImages();
}

// ---- the protocol catalogue -----------------------------------------------------------------

// Which actions exist, what they target and who may send them is the bridge's catalogue: the UI
// keeps no list of its own.
async function loadCatalogue() {
  const r = await api('GET', '/api/v1/catalogue');
  if (!r.ok) { $('containers-error').textContent = errorText(r.status, r.data); return; }
  S.catalogue = r.data.messages || [];
  // Stream openers (follow, live stats, terminal) open a live view instead (live.js).
  S.actions = S.catalogue.filter((m) => m.kind === 'agent-action' && !m.alias_of &&
    m.senders.includes('bridge') && (!m.admin_only || S.role === 'admin'));
  renderContainers();
}

function dirEvent(name) {
  return (S.catalogue || []).find((m) => m.kind === 'directory-event' && m.name === name);
}

// ---- live updates ----------------------------------------------------------------------------

function connectLive() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/ws`);
  S.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: S.token }));
  ws.onmessage = (m) => {
    let f;
    try { f = JSON.parse(m.data); } catch (e) { return; }
    if (f.type === 'hello') { $('live').className = 'live on'; S.wsRetry = 1000; }
    else if (f.type === 'event') onEvent(f);
    else if (f.type === 'job') onJob(f.job);
    else if (f.type === 'reply' || f.type === 'stream' || f.type === 'stream-end') liveFrame(f);
  };
  ws.onclose = () => {
    $('live').className = 'live off';
    if (!S.token) return;
    S.timers.ws = setTimeout(connectLive, S.wsRetry);
    S.wsRetry = Math.min(S.wsRetry * 2, 15000);
  };
}

function onEvent(f) {
  const spec = dirEvent((f.event && f.event.action) || '');
  if (spec && spec.subject === 'host') debounce('hosts', 150, loadHosts);
  if ((spec && spec.subject === 'container') || f.topic.startsWith('evt/')) debounce('containers', 150, loadContainers);
}

function onJob(job) {
  if (!job) return;
  if (S.pullJob === job.id) renderPull(job);
  if (S.createJob === job.id) renderCreate(job);
}

// ---- hosts -----------------------------------------------------------------------------------

async function loadHosts() {
  const r = await api('GET', '/api/v1/hosts');
  if (!r.ok) { $('hosts-error').textContent = errorText(r.status, r.data); return; }
  $('hosts-error').textContent = '';
  S.hosts = (r.data.hosts || []).slice().sort((a, b) => a.fqdn.localeCompare(b.fqdn));
  renderHosts();
  fillHostPickers();
}

function renderHosts() {
  const body = $('hosts-table').tBodies[0];
  body.replaceChildren();
  const up = S.hosts.filter((h) => h.status === 'up').length;
  $('hosts-summary').textContent = `${up} of ${S.hosts.length} up`;
  if (!S.hosts.length) body.append(el('tr', {}, el('td', { colspan: 8, class: 'empty' }, 'No hosts have announced themselves yet.')));
  for (const h of S.hosts) {
    const labels = Object.entries(h.labels || {}).map(([k, v]) => el('span', { class: 'label' }, `${k}=${v}`));
    body.append(el('tr', { 'data-host': h.fqdn },
      el('td', { class: 'mono' }, h.fqdn),
      el('td', {}, el('span', { class: `badge ${h.status}` }, h.status || '?')),
      el('td', {}, h.cpus ?? '-'),
      el('td', {}, fmtBytes(h.memory_bytes)),
      el('td', {}, `${h.containers_running ?? '-'} / ${h.containers_total ?? '-'}`),
      el('td', {}, h.docker_version || (h.docker_up === false ? 'dockerd down' : '-')),
      el('td', {}, labels.length ? labels : '-'),
      el('td', { title: fmtTime(h.last_seen) }, fmtAgo(h.last_seen))));
  }
}

function fillHostPickers() {
  const up = S.hosts.filter((h) => h.status === 'up').map((h) => h.fqdn);
  const sel = $('create-host');
  const keep = sel.value;
  sel.replaceChildren(el('option', { value: '' }, 'automatic placement'), ...up.map((f) => el('option', { value: f }, f)));
  sel.value = up.includes(keep) ? keep : '';
  $('placement').hidden = !!sel.value;

  const img = $('images-host');
  const keepImg = img.value;
  img.replaceChildren(...up.map((f) => el('option', { value: f }, f)));
  if (up.includes(keepImg)) img.value = keepImg;

  const box = $('pull-hosts');
  const checked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
  box.replaceChildren(...up.map((f) => el('label', { class: 'inline' },
    el('input', { type: 'checkbox', value: f, ...(checked.has(f) ? { checked: '' } : {}) }), f)));
}

// ---- containers ------------------------------------------------------------------------------

async function loadContainers() {
  const r = await api('GET', '/api/v1/containers');
  if (!r.ok) { $('containers-error').textContent = errorText(r.status, r.data); return; }
  S.containers = (r.data.containers || []).slice().sort((a, b) => (b.created || 0) - (a.created || 0));
  renderContainers();
}

function renderContainers() {
  const body = $('containers-table').tBodies[0];
  body.replaceChildren();
  $('containers-summary').textContent = `${S.containers.length} container(s)`;
  if (!S.containers.length) body.append(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'No containers yet: create one.')));
  for (const c of S.containers) {
    const buttons = S.actions.filter((a) => a.target === 'container').map((a) =>
      el('button', { class: 'small', 'data-action': a.label, title: a.summary,
        onclick: () => (a.opens_stream ? liveOpen(a, c) : containerAction(a, c)) }, a.label));
    body.append(el('tr', { 'data-id': c.id, 'data-name': c.name || '' },
      el('td', { class: 'mono' }, c.host || '-'),
      el('td', {}, c.name || c.id.slice(0, 12)),
      el('td', { class: 'mono' }, c.image || '-'),
      el('td', {}, el('span', { class: `badge ${c.state}` }, c.state || '?')),
      el('td', {}, fmtTime(c.created)),
      el('td', {}, c.owner || '-'),
      el('td', { class: 'actions' }, ...buttons)));
  }
}

function setContainersError(text) { $('containers-error').textContent = text; }

// A container action of the catalogue: one that changes something reloads the list, a query
// shows its reply.
async function containerAction(spec, c) {
  setContainersError('');
  const r = await send({ action: spec.name, id: c.id });
  const what = `${spec.label} ${c.name || c.id}`;
  if (!r.ok) setContainersError(`${what}: ${errorText(r.status, r.data)}`);
  else if (!spec.changes_state) showOutput(`${capitalize(what)} on ${c.host}`, replyText(r.data.body));
  if (spec.changes_state) loadContainers();
}

function capitalize(s) { return s.charAt(0).toUpperCase() + s.slice(1); }

function showOutput(title, text) {
  $('output-title').textContent = title;
  $('output-body').textContent = text;
  $('output').hidden = false;
}

// container-logs answers {stdout, stderr, ...} (schemas/container-logs.reply.json): show the
// text; every other reply as JSON.
function replyText(body) {
  if (body && typeof body.stdout === 'string') return (body.stdout + body.stderr) || '(no output)';
  return JSON.stringify(body, null, 2);
}

// ---- create ----------------------------------------------------------------------------------

function createRequest() {
  const req = {};
  const fromTemplate = document.querySelector('input[name=source]:checked').value === 'template';
  if (fromTemplate) req.template = $('create-template').value.trim();
  else req.image = $('create-image').value.trim();
  const name = $('create-name').value.trim();
  if (name) req.name = name;
  const cmd = splitCommand($('create-cmd').value.trim());
  if (cmd.length) req.cmd = cmd;
  const env = $('create-env').value.split('\n').map((l) => l.trim()).filter(Boolean);
  if (env.length) req.env = env;
  const instances = parseInt($('create-instances').value, 10);
  if (instances > 1) req.instances = instances;
  const network = $('create-network').value;
  if (network) req.network_mode = network;
  const host = $('create-host').value;
  if (host) {
    req.host = host;
  } else {
    req.strategy = $('create-strategy').value;
    const cons = $('create-constraints').value.split(',').map((s) => s.trim()).filter(Boolean);
    if (cons.length) req.constraints = cons;
  }
  return req;
}

// The "host" network is offered only where it would be accepted: to admins, or on a chosen host
// whose policy lets non-admins use it (GET /api/v1/policy?host=...).
async function offerAllowedNetworks() {
  const sel = $('create-network');
  const host = $('create-host').value;
  let allowed = S.role === 'admin';
  if (!allowed && host) {
    const r = await api('GET', `/api/v1/policy?host=${encodeURIComponent(host)}`);
    allowed = r.ok && r.data.policy && r.data.policy.host_network === true;
  }
  const existing = [...sel.options].find((o) => o.value === 'host');
  if (allowed && !existing) sel.add(new Option('host', 'host'), 1);
  if (!allowed && existing) existing.remove();
}

async function createContainers(ev) {
  ev.preventDefault();
  $('create-error').textContent = '';
  $('create-status').replaceChildren();
  $('create-submit').disabled = true;
  const r = await api('POST', '/api/v1/containers', createRequest());
  $('create-submit').disabled = false;
  if (r.status !== 202) { $('create-error').textContent = errorText(r.status, r.data); return; }
  S.createJob = r.data.id;
  renderCreate(r.data);
  followJob(r.data.id, renderCreate);
}

// Polls a job until it finishes (the WebSocket usually gets there first). A finished create job
// answers 303 to the new container, which fetch follows.
async function followJob(id, render) {
  for (let i = 0; i < 900; i++) {
    const r = await api('GET', `/api/v1/jobs/${encodeURIComponent(id)}`);
    if (r.redirected && r.ok) { render({ id, state: 'done', container: r.data }); return; }
    if (!r.ok) { render({ id, state: 'failed', error: (r.data && r.data.error) || { code: 'http', message: `HTTP ${r.status}` } }); return; }
    render(r.data);
    if (r.data.state !== 'running') return;
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

function renderCreate(job) {
  if (job.id !== S.createJob) return;
  const box = $('create-status');
  if (job.state === 'running') {
    box.replaceChildren(el('span', { class: 'muted' }, `Job ${job.id}: ${(job.progress && job.progress.stage) || 'running'}...`));
  } else if (job.state === 'done') {
    const ids = (job.progress && job.progress.containers) || (job.container ? [job.container.id] : []);
    const where = job.container ? ` on ${job.container.host}` : '';
    box.replaceChildren(el('span', { class: 'ok' }, `Created ${ids.length || ''} container(s)${where}: ${ids.map((x) => x.slice(0, 12)).join(', ')}`));
    loadContainers();
  } else {
    const e = job.error || {};
    box.replaceChildren();
    $('create-error').textContent = `${job.status || ''} ${e.code || 'failed'}: ${e.message || ''}`.trim();
  }
}

// ---- images ----------------------------------------------------------------------------------

async function loadImages() {
  const host = $('images-host').value;
  const body = $('images-table').tBodies[0];
  if (!host) { body.replaceChildren(el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'No host is up.'))); return; }
  const r = await api('GET', `/api/v1/images?host=${encodeURIComponent(host)}`);
  if (!r.ok) { $('images-error').textContent = errorText(r.status, r.data); return; }
  $('images-error').textContent = '';
  const b = r.data.body;
  const images = Array.isArray(b) ? b : (b && b.images) || [];
  body.replaceChildren();
  if (!images.length) body.append(el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'No images.')));
  for (const i of images) {
    const tags = i.tags || i.repo_tags || i.RepoTags || [];
    const id = i.id || i.Id || '';
    body.append(el('tr', {},
      el('td', { class: 'mono' }, tags.length ? tags.join(', ') : '<none>'),
      el('td', { class: 'mono' }, id.replace('sha256:', '').slice(0, 12)),
      el('td', {}, fmtBytes(i.size ?? i.Size)),
      el('td', {}, fmtTime(i.created ?? i.Created))));
  }
}

async function pullImage(ev) {
  ev.preventDefault();
  $('pull-error').textContent = '';
  const hosts = [...$('pull-hosts').querySelectorAll('input:checked')].map((i) => i.value);
  $('pull-submit').disabled = true;
  const r = await api('POST', '/api/v1/images/pull', { image: $('pull-image').value.trim(), hosts });
  $('pull-submit').disabled = false;
  if (r.status !== 202) { $('pull-error').textContent = errorText(r.status, r.data); return; }
  S.pullJob = r.data.id;
  renderPull(r.data);
  followJob(r.data.id, renderPull);
}

function renderPull(job) {
  if (job.id !== S.pullJob || !job.progress) return;
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
  if (job.state !== 'running') loadImages();
}

// ---- wiring ----------------------------------------------------------------------------------

function wire() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', () => logout());
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('output-close').addEventListener('click', () => { $('output').hidden = true; });
  liveWire();
  $('create-form').addEventListener('submit', createContainers);
  $('create-host').addEventListener('change', () => {
    $('placement').hidden = !!$('create-host').value;
    offerAllowedNetworks();
  });
  for (const r of document.querySelectorAll('input[name=source]')) {
    r.addEventListener('change', () => {
      const t = document.querySelector('input[name=source]:checked').value === 'template';
      $('template-field').hidden = !t; $('image-field').hidden = t;
    });
  }
  $('pull-form').addEventListener('submit', pullImage);
  $('images-host').addEventListener('change', loadImages);
  $('images-refresh').addEventListener('click', loadImages);
  window.addEventListener('hashchange', () => { if (S.token) showTab(location.hash.slice(1)); });
  if (S.token) enter(); else logout();
}

wire();
