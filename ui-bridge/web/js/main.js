// main.js: the dockmesh console's entry point. Signs in and out, switches pages (the URL hash),
// loads the catalogue, and runs the one refresh mechanism: the WebSocket (live_link.js). Events
// reload what they concern; a (re)connection reloads the page once; nothing polls.

import { api, session } from './api.js';
import { applyDocker, applyEntry } from './container_events.js';
import { $ } from './dom.js';
import { humanError } from './errors.js';
import { LiveLink } from './live_link.js';
import { S, clearTimers, debounce } from './state.js';
import { loadTokens, loadUsers, wireAccounts } from './views/accounts.js';
import { loadAudit, wireAudit } from './views/audit.js';
import { loadContainers, renderContainers, wireContainers } from './views/containers.js';
import { fillCreateHosts, loadCreateSchema, wireCreate } from './views/create.js';
import { loadHosts, showHost, wireHosts } from './views/hosts.js';
import { fillImageHosts, loadImages, wireImages } from './views/images.js';
import { liveFrame, liveLost, wireLive } from './views/live.js';
import { leaveServices, loadServices, serviceEvent, wireServices } from './views/services.js';

const PAGES = ['hosts', 'host', 'containers', 'create', 'services', 'images', 'tokens', 'users', 'audit'];
const ADMIN_PAGES = new Set(['users', 'audit']);
let current = 'hosts';

async function login(ev) {
  ev.preventDefault();
  $('login-error').textContent = '';
  const r = await api('POST', '/api/v1/login', { username: $('login-user').value.trim(), password: $('login-password').value });
  if (!r.ok) { $('login-error').textContent = r.data && r.data.error ? r.data.error.message : humanError(r.status, r.data).text; return; }
  Object.assign(session, { token: r.data.token, user: r.data.user, role: r.data.role });
  sessionStorage.setItem('dm_token', session.token);
  sessionStorage.setItem('dm_user', session.user);
  sessionStorage.setItem('dm_role', session.role);
  $('login-password').value = '';
  enter();
}

function logout(message) {
  Object.assign(session, { token: '', user: '', role: '' });
  sessionStorage.clear();
  if (S.link) { S.link.stop(); S.link = null; }
  clearTimers();
  $('tabs').hidden = true; $('session').hidden = true;
  for (const v of document.querySelectorAll('.view')) v.hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = typeof message === 'string' ? message : '';
}

// The live state is shown in words at the top: live, connecting, reconnecting in N s, offline.
function showLinkState(state, detail) {
  const badge = $('live');
  badge.dataset.state = state;
  badge.className = `live ${state === 'live' ? 'on' : 'off'}`;
  badge.textContent = state === 'reconnecting' ? `reconnecting in ${Math.round(detail.in_ms / 1000)} s`
    : { live: 'live', connecting: 'connecting…', off: 'offline' }[state] || state;
  if (state === 'reconnecting') liveLost();
}

function onFrame(f) {
  if (f.type === 'event') onEvent(f);
  else if (f.type === 'job' && f.job && S.jobs[f.job.id]) S.jobs[f.job.id](f.job);
  else if (f.type === 'reply' || f.type === 'stream' || f.type === 'stream-end') liveFrame(f);
}

// Container events carry what changed: the row is updated from the event itself (a Docker event
// from the agent arrives first, the directory's container entry next), with no reload between
// the event and the page; bench/bench_console.py measures that path.
function onEvent(f) {
  const ev = f.event || {};
  const spec = S.catalogue.find((m) => m.kind === 'directory-event' && m.name === (ev.action || ''));
  if (spec && spec.subject === 'host') debounce('hosts', 150, loadHosts);
  if (ev.action === 'service-reconcile') serviceEvent();
  if (spec && spec.subject === 'container') {
    serviceEvent();
    const r = applyEntry(S.containers, ev.action, ev.body);
    if (r === 'reload') debounce('containers', 150, loadContainers);
    else if (r === 'changed') renderContainers();
    if (current === 'audit') debounce('audit', 500, loadAudit);
  } else if (ev.action === 'docker-event') {
    if (applyDocker(S.containers, ev.body)) renderContainers();
  }
}

function reloadAll() {
  loadHosts();
  loadContainers();
  loadPage(current);
}

async function loadCatalogue() {
  const r = await api('GET', '/api/v1/catalogue');
  if (!r.ok) { $('containers-error').textContent = humanError(r.status, r.data).text; return; }
  S.catalogue = r.data.messages || [];
  S.actions = S.catalogue.filter((m) => m.kind === 'agent-action' && !m.alias_of &&
    m.senders.includes('bridge') && (!m.admin_only || session.role === 'admin'));
  renderContainers();
  loadCreateSchema();
}

function enter() {
  $('login-view').hidden = true;
  $('tabs').hidden = false; $('session').hidden = false;
  $('whoami').textContent = `${session.user} (${session.role})`;
  $('containers-title').textContent = session.role === 'admin' ? 'All containers' : 'My containers';
  for (const b of document.querySelectorAll('#tabs [data-admin]')) b.hidden = session.role !== 'admin';
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  S.link = new LiveLink({ url: `${proto}//${location.host}/api/v1/ws`, token: () => session.token,
    makeSocket: (u) => new WebSocket(u), setTimer: setTimeout, clearTimer: clearTimeout,
    onState: showLinkState, onFrame, onLive: reloadAll });
  loadCatalogue();
  route();
  S.link.start();
}

function loadPage(page) {
  if (page === 'host') showHost(decodeURIComponent(location.hash.slice('#host/'.length)));
  if (page === 'images') loadImages();
  if (page === 'services') loadServices(); else leaveServices();
  if (page === 'tokens') loadTokens();
  if (page === 'users') loadUsers();
  if (page === 'audit') loadAudit();
}

// The hash names the page: #containers, #host/<fqdn>, ...
function route() {
  let page = location.hash.slice(1).split('/')[0] || 'hosts';
  if (!PAGES.includes(page) || (ADMIN_PAGES.has(page) && session.role !== 'admin')) page = 'hosts';
  current = page;
  const tab = page === 'host' ? 'hosts' : page;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `${page}-view`;
  loadPage(page);
}

function wire() {
  session.onExpired = () => logout('Your session ended; please sign in again.');
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', () => logout());
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => { location.hash = b.dataset.tab; });
  document.addEventListener('dm-hosts', () => { fillCreateHosts(); fillImageHosts(); if (current === 'images') loadImages(); });
  wireHosts(); wireContainers(); wireLive(); wireCreate(); wireImages(); wireAccounts(); wireAudit();
  wireServices();
  window.addEventListener('hashchange', () => { if (session.token) route(); });
  if (session.token) enter(); else logout();
}

wire();
