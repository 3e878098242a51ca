// views/accounts.js: API tokens (everyone: their own; admins see all) and users (admins: add,
// reset a password, remove). A new token's secret or a generated password is shown once.

import { api, session } from '../api.js';
import { $, ask, el } from '../dom.js';
import { humanError } from '../errors.js';
import { fmtTime } from '../text.js';

function showSecret(box, text) {
  box.replaceChildren(el('strong', {}, 'Shown this once, copy it now: '), el('code', { class: 'mono' }, text));
  box.hidden = false;
}

export async function loadTokens() {
  const r = await api('GET', `/api/v1/tokens${session.role === 'admin' ? '?all=1' : ''}`);
  if (!r.ok) { $('token-error').textContent = humanError(r.status, r.data).text; return; }
  const body = $('tokens-table').tBodies[0];
  const tokens = r.data.tokens || [];
  body.replaceChildren(...(tokens.length ? tokens.map((t) => el('tr', { 'data-token': t.id },
    el('td', {}, t.name || '-'), el('td', { class: 'mono' }, t.id), el('td', {}, t.user),
    el('td', {}, fmtTime(t.created)), el('td', {}, t.expires ? fmtTime(t.expires) : 'never'),
    el('td', { class: 'actions' }, el('button', { class: 'small danger', 'data-action': 'revoke',
      onclick: () => revokeToken(t) }, 'revoke'))))
    : [el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No API tokens.'))]));
}

async function revokeToken(t) {
  if (!(await ask(`Revoke the token ${t.name || t.id}? Programs using it are refused from now on.`, 'revoke'))) return;
  const r = await api('DELETE', `/api/v1/tokens/${encodeURIComponent(t.id)}`);
  $('token-error').textContent = r.ok ? '' : humanError(r.status, r.data).text;
  loadTokens();
}

async function createToken(ev) {
  ev.preventDefault();
  const days = Number($('token-days').value || 0);
  if (!Number.isInteger(days) || days < 0) { $('token-error').textContent = 'Valid for: a whole number of days, 0 for no expiry.'; return; }
  const r = await api('POST', '/api/v1/tokens', { name: $('token-name').value.trim(), ttl_seconds: days * 86400 });
  if (!r.ok) { $('token-error').textContent = humanError(r.status, r.data).text; return; }
  $('token-error').textContent = '';
  showSecret($('token-secret'), r.data.token);
  loadTokens();
}

export async function loadUsers() {
  const r = await api('GET', '/api/v1/users');
  if (!r.ok) { $('user-error').textContent = humanError(r.status, r.data).text; return; }
  const users = r.data.users || [];
  $('users-table').tBodies[0].replaceChildren(...users.map((u) => el('tr', { 'data-user': u.name },
    el('td', {}, u.name), el('td', {}, u.role), el('td', { class: 'mono' }, u.id), el('td', {}, fmtTime(u.created)),
    el('td', { class: 'actions' },
      el('button', { class: 'small', 'data-action': 'reset password', onclick: () => resetPassword(u) }, 'reset password'),
      u.name === session.user ? null : el('button', { class: 'small danger', 'data-action': 'remove',
        onclick: () => removeUser(u) }, 'remove')))));
}

async function addUser(ev) {
  ev.preventDefault();
  const body = { name: $('user-name').value.trim(), role: $('user-role').value };
  if ($('user-password').value) body.password = $('user-password').value;
  const r = await api('POST', '/api/v1/users', body);
  if (!r.ok) { $('user-error').textContent = humanError(r.status, r.data).text; return; }
  $('user-error').textContent = '';
  $('user-password').value = '';
  if (r.data.password) showSecret($('user-secret'), `${r.data.name}: ${r.data.password}`);
  loadUsers();
}

async function resetPassword(u) {
  if (!(await ask(`Give ${u.name} a new generated password? The old one stops working.`, 'reset'))) return;
  const r = await api('PUT', `/api/v1/users/${encodeURIComponent(u.name)}/password`, {});
  if (!r.ok) { $('user-error').textContent = humanError(r.status, r.data).text; return; }
  showSecret($('user-secret'), `${u.name}: ${r.data.password}`);
}

async function removeUser(u) {
  if (!(await ask(`Remove the user ${u.name}? Their API tokens are revoked; their containers stay.`, 'remove'))) return;
  const r = await api('DELETE', `/api/v1/users/${encodeURIComponent(u.name)}`);
  $('user-error').textContent = r.ok ? '' : humanError(r.status, r.data).text;
  loadUsers();
}

export function wireAccounts() {
  $('token-form').addEventListener('submit', createToken);
  $('user-form').addEventListener('submit', addUser);
}
