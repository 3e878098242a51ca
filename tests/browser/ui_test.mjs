// Browser test of the dockmesh web UI: Playwright (playwright-core) driving Debian's Chromium
// against a bridge in front of a real mesh (started by run_ui_test.py). It logs in, checks the
// hosts table, creates a container on a real dockerd through the form, sees it running, reads its
// logs (once, then live with search) in the panel beside the table, draws its stats graph, sees a
// terminal refused on a host without --allow-exec, runs a command in an xterm.js terminal on a host
// that allows exec (and resizes it), cannot open one to another user's container, draws its stats history, follows the logs of
// all its running containers merged (stderr filter, search, download), inspects it, sees a stop under way, starts it
// again, kills it (after a confirmation, once cancelled), removes it, opens the host detail page,
// pulls an image with per-host progress, makes and revokes an API token, sees a
// schema refusal in words on the field, runs a service (2 replicas, scaled to 1, deleted: services_step.mjs), checks the phone layout, then as an admin adds and
// removes a user, removes the pulled image, sees a host's usage history and reads the audit log; a screenshot of each page goes into SCREENSHOT_DIR.
// Any console error or failed same-origin request fails the test.
//
// Environment: BRIDGE_URL, UI_USER, UI_PASSWORD, ADMIN_PASSWORD, HOST_FQDN, EXEC_HOST_FQDN (its
// agent runs with --allow-exec), SHELL_CONTAINER (the user's, running there), OTHER_CONTAINER_ID
// (the admin's, running there), PULL_IMAGE (optional), SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { servicesStep } from './services_step.mjs';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const BRIDGE_URL = env('BRIDGE_URL');
const USER = env('UI_USER');
const PASSWORD = env('UI_PASSWORD');
const ADMIN_PASSWORD = env('ADMIN_PASSWORD');
const HOST = env('HOST_FQDN');
const PULL_IMAGE = process.env.PULL_IMAGE || '';
const SHOTS = env('SCREENSHOT_DIR');
const CONTAINER = 'ui-web';
const EXEC_HOST = env('EXEC_HOST_FQDN');
const SHELL = env('SHELL_CONTAINER');
const OTHER_ID = env('OTHER_CONTAINER_ID');

fs.mkdirSync(SHOTS, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dm-chromium-'));
const problems = [];
const responses = [];  // every 4xx/5xx the page received

const context = await chromium.launchPersistentContext(profile, {
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-quic'],
  viewport: { width: 1360, height: 860 },
});

let step = 0;
async function shot(page, name) {
  step += 1;
  const file = path.join(SHOTS, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${file}`);
}

function row(page) {
  return page.locator(`#containers-table tr[data-name="${CONTAINER}"]`);
}

// The text the terminal shows (xterm.js draws on a canvas; screen-reader mode keeps its rows).
const termText = (page) => page.locator('#term .xterm-accessibility-tree').innerText();

// Types `line` and Enter into the terminal, then waits for `expect` (a RegExp) in what it shows.
async function termRun(page, line, expect) {
  await page.locator('#term .xterm-helper-textarea').focus();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  await page.waitForFunction((re) => new RegExp(re).test(
    document.querySelector('#term .xterm-accessibility-tree').innerText), expect.source, { timeout: 20000 });
  return (await termText(page)).match(expect);
}

// The terminal's columns fit the panel: its drawn screen is no wider than its box, and the box
// no wider than the panel.
async function fitsPanel(page) {
  const w = await page.evaluate(() => ({ screen: document.querySelector('#term .xterm-screen').getBoundingClientRect().width,
    box: document.getElementById('term').clientWidth, panel: document.getElementById('output').clientWidth }));
  assert.ok(w.screen <= w.box && w.box < w.panel, `the terminal fits the panel: ${JSON.stringify(w)}`);
}

// The xterm.js terminal on the host that allows exec: a shell runs what is typed (the marker is
// computed by the shell, so it cannot be the echo of the keys), its TTY has the terminal's size
// and follows it when the panel narrows. Then a raw WebSocket of the page, with the user's
// session, asks for a terminal in the admin's container: refused like a missing container.
async function terminal(page) {
  const shell = page.locator(`#containers-table tr[data-name="${SHELL}"]`);
  assert.match(await shell.innerText(), new RegExp(EXEC_HOST.replace(/\./g, '\\.')));
  await shell.locator('button[data-action=terminal]').click();
  await page.locator('#term canvas').first().waitFor();
  await page.locator('#term .xterm-accessibility-tree', { hasText: '#' }).waitFor({ timeout: 20000 });
  const tag = () => String(Math.floor(Math.random() * 1e6));
  const t1 = tag();
  await termRun(page, `echo mark-$((6*7))-${t1}`, new RegExp(`mark-42-${t1}`));
  // The TTY's size as the shell sees it, behind a marker the typed line cannot match.
  const ttySize = (t) => termRun(page, `echo size-${t}-$(busybox stty size)`, new RegExp(`size-${t}-(\\d+) (\\d+)`));
  const rows = await page.locator('#term .xterm-accessibility-tree > div').count();
  const wide = await ttySize(tag());
  assert.equal(Number(wide[1]), rows, `the TTY has the terminal's rows: ${wide[0]}`);
  assert.ok(Number(wide[2]) >= 40, `the TTY has the panel's columns: ${wide[0]}`);
  await fitsPanel(page);
  await shot(page, 'terminal');
  await page.setViewportSize({ width: 390, height: 844 });  // the panel goes under the table, narrower
  const narrow = await ttySize(tag());
  assert.ok(Number(narrow[2]) < Number(wide[2]), `resized: ${wide[0].trim()} then ${narrow[0].trim()}`);
  await fitsPanel(page);
  await page.setViewportSize({ width: 1360, height: 860 });
  await page.click('#output-close');
  await page.locator('#term').waitFor({ state: 'hidden' });
  assert.equal(await page.locator(`#containers-table tr`, { hasText: 'admin-box' }).count(), 0);
  const refused = await page.evaluate(([id]) => new Promise((done) => {
    const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api/v1/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: sessionStorage.getItem('dm_token') }));
    ws.onmessage = (m) => {
      const f = JSON.parse(m.data);
      if (f.type === 'hello') ws.send(JSON.stringify({ type: 'follow', ref: 'other', message:
        { action: 'exec-start', id, cmd: ['sh'], tty: true, cols: 80, rows: 24 } }));
      if (f.type === 'reply' && f.ref === 'other') { ws.close(); done(f.status); }
    };
    setTimeout(() => done('no reply'), 15000);
  }), [OTHER_ID]);
  assert.equal(refused, 404, 'a terminal to another user\'s container is refused like a missing one');
}

try {
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(30000);
  // Chromium logs every 4xx fetch as a console error; those are checked through `responses`.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) responses.push(`${r.status()} ${new URL(r.url()).pathname}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Leaving the page aborts the WebSocket and pending polls; those are not failures.
    if (!r.url().includes('/api/v1/ws')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });

  // Login: a wrong password first, shown as the bridge states it.
  await page.goto(BRIDGE_URL);
  await page.locator('#login-form').waitFor();
  await shot(page, 'login');
  await page.fill('#login-user', USER);
  await page.fill('#login-password', 'not-the-password');
  await page.click('#login-form button[type=submit]');
  await page.locator('#login-error', { hasText: 'wrong user name or password' }).waitFor();
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.locator('#whoami', { hasText: USER }).waitFor();

  // Hosts: the real host is listed as up, and the live channel is connected.
  const hostRow = page.locator(`#hosts-table tr[data-host="${HOST}"]`);
  await hostRow.locator('.badge.up').waitFor();
  await page.locator('#live.on').waitFor();
  assert.match(await hostRow.innerText(), /20\.10|\d+\.\d+/);
  await shot(page, 'hosts');

  // Create through the form generated from the create-container schema, on that host.
  await page.click('#tabs button[data-tab=create]');
  await page.locator('#create-fields [data-field=restart_policy] select').waitFor();
  for (const f of ['ports', 'volumes', 'memory', 'cpus', 'labels', 'instances', 'network_mode'])
    await page.locator(`#create-fields [data-field=${f}]`).waitFor();
  // A non-admin on a host without host networking is not offered it.
  assert.equal(await page.locator('#create-network-mode option[value=host]').count(), 0);
  await page.fill('#create-image', 'local/busybox:latest');
  await page.fill('#create-name', CONTAINER);
  await page.fill('#create-cmd', "sh -c 'echo hello from the dockmesh ui; sleep 3600'");
  await page.fill('#create-env', 'GREETING=hi');
  await page.fill('#create-labels', 'team=web');
  await page.selectOption('#create-host', HOST);
  await page.selectOption('#create-network-mode', 'none');
  await shot(page, 'create-form');
  await page.click('#create-submit');
  await page.locator('#create-status .ok', { hasText: 'Created' }).waitFor({ timeout: 60000 });
  await shot(page, 'create');

  // It is listed as running, with the actions of a running container only.
  await page.click('#tabs button[data-tab=containers]');
  await row(page).locator('.badge.running').waitFor({ timeout: 30000 });
  assert.match(await row(page).innerText(), new RegExp(HOST.replace(/\./g, '\\.')));
  assert.equal(await row(page).locator('button[data-action=start]').count(), 0);
  await shot(page, 'containers-running');

  // Logs, in the panel beside the table (not below it).
  await row(page).locator('button[data-action=logs]').click();
  await page.locator('#output-body', { hasText: 'hello from the dockmesh ui' }).waitFor();
  const table = await page.locator('.split-main').boundingBox();
  const panel = await page.locator('#output').boundingBox();
  assert.ok(panel.x >= table.x + table.width - 1 && panel.y < table.y + table.height,
    `the panel is beside the table: ${JSON.stringify({ table, panel })}`);
  await shot(page, 'logs');

  // Live views over the WebSocket (docs/streams.md): the log tail follows and searches, the
  // stats graph draws, and this host (its agent runs without --allow-exec) refuses a terminal.
  await row(page).locator('button[data-action=follow]').click();
  await page.locator('#output-body', { hasText: 'hello from the dockmesh ui' }).waitFor();
  await page.fill('#live-search', 'hello from');
  await page.locator('#live-status', { hasText: /^1 of \d+ lines match$/ }).waitFor();
  await shot(page, 'logs-follow-search');
  await page.fill('#live-search', 'no-such-line-xyz');
  await page.locator('#output-body', { hasText: 'no line matches' }).waitFor();
  await row(page).locator('button[data-action="live stats"]').click();
  await page.waitForFunction(() => document.getElementById('live-line').getAttribute('points').split(' ').length >= 2,
    null, { timeout: 20000 });
  assert.match(await page.locator('#output-body').innerText(), /CPU .* %/);
  await page.locator('#live-graph').waitFor({ state: 'visible' });
  await shot(page, 'stats-graph');
  await row(page).locator('button[data-action=terminal]').click();
  await page.locator('#output-body', { hasText: 'exec is disabled' }).waitFor();
  await shot(page, 'terminal-refused');
  await terminal(page);

  // Stats history (the bridge samples every second here): fetched once, then the live stats
  // stream over the WebSocket adds its samples while the graph stays open (nothing polls).
  const historyGets = [];
  const countGets = (r) => { if (r.url().includes('/stats/history')) historyGets.push(r.url()); };
  page.on('request', countGets);
  await row(page).locator('button[data-action=history]').click();
  await page.locator('#history-caption', { hasText: /point\(s\) over|No samples yet/ }).waitFor();
  const first = Number(await page.locator('#history-graph').getAttribute('data-samples'));
  await page.waitForFunction((n) => {
    const g = document.getElementById('history-graph');
    return Number(g.dataset.live || 0) >= 3 && Number(g.dataset.samples) >= Math.max(3, n + 2);
  }, first, { timeout: 30000 });
  page.off('request', countGets);
  assert.equal(historyGets.length, 1, `the history is fetched once: ${historyGets.join(' ')}`);
  assert.match(await page.locator('#history-caption').innerText(), /point\(s\) over .*; live$/);
  assert.ok((await page.locator('#history-graph polyline.cpu').getAttribute('points')).split(' ').length >= 3);
  await shot(page, 'stats-history');

  // All running containers' logs merged (ui-web and ui-ticker, which run_ui_test.py started),
  // each line tagged; the stderr filter, a search, and the download of what is shown.
  await page.click('#containers-follow-all');
  await page.locator('#output-body', { hasText: '[ui-web] hello from the dockmesh ui' }).waitFor();
  await page.locator('#output-body', { hasText: /\[ui-ticker\] \(stderr\) tock-\d+/ }).waitFor({ timeout: 20000 });
  await page.locator('#output-body', { hasText: /\[ui-ticker\] tick-\d+/ }).waitFor();
  await page.selectOption('#live-channel', 'stderr');
  await page.waitForFunction(() => {
    const t = document.getElementById('output-body').textContent;
    return t.includes('tock-') && !t.includes('tick-') && !t.includes('hello from');
  });
  // Search for the newest stderr line's token (tock-N): it and any tock-N<digits> match.
  const token = (await page.locator('#output-body').innerText()).match(/tock-\d+/g).pop();
  await page.fill('#live-search', token);
  await page.locator('#live-status', { hasText: /^[1-9]\d* of \d+ lines match$/ }).waitFor();
  await shot(page, 'logs-merged');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#live-download')]);
  const saved = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.ok(saved.length >= 1 && saved.every((l) => l.startsWith(`[ui-ticker] (stderr) ${token}`)),
    `downloaded: ${saved.join(' | ')}`);
  await page.selectOption('#live-channel', 'all');
  await page.fill('#live-search', '');
  await page.click('#output-close');

  // Inspect.
  await row(page).locator('button[data-action=inspect]').click();
  await page.locator('#output-title', { hasText: 'Inspect' }).waitFor();
  assert.match(await page.locator('#output-body').innerText(), /GREETING=hi/);
  await shot(page, 'inspect');
  await page.click('#output-close');

  // Stop: the row says "stopping" while the 10 s stop runs (sh ignores SIGTERM), then the state
  // follows by the WebSocket's event.
  await row(page).locator('button[data-action=stop]').click();
  await row(page).locator('.busy', { hasText: 'stopping' }).waitFor();
  await shot(page, 'stopping');
  await row(page).locator('.badge.exited').waitFor({ timeout: 60000 });
  assert.equal(await page.locator('#containers-error').innerText(), '');
  await shot(page, 'stopped');

  // Start it again; kill asks first: cancelled, nothing happens; confirmed, it is killed.
  await row(page).locator('button[data-action=start]').click();
  await row(page).locator('.badge.running').waitFor({ timeout: 30000 });
  await row(page).locator('button[data-action=kill]').click();
  await page.locator('#confirm', { hasText: 'Kill ui-web?' }).waitFor();
  await shot(page, 'kill-confirm');
  await page.click('#confirm-no');
  assert.equal(await row(page).locator('.badge.running').count(), 1);
  await row(page).locator('button[data-action=kill]').click();
  await page.click('#confirm-yes');
  await row(page).locator('.badge.exited').waitFor({ timeout: 30000 });

  // Remove asks too; the row goes.
  await row(page).locator('button[data-action=remove]').click();
  await page.locator('#confirm', { hasText: 'Remove ui-web?' }).waitFor();
  await page.click('#confirm-yes');
  await row(page).waitFor({ state: 'detached', timeout: 30000 });
  await shot(page, 'removed');

  // The host detail page: engine facts, disk usage, images.
  await page.click('#tabs button[data-tab=hosts]');
  await page.click(`#hosts-table tr[data-host="${HOST}"] a`);
  await page.locator('#host-title', { hasText: HOST }).waitFor();
  await page.locator('#host-info dd', { hasText: /^\d+\.\d+/ }).first().waitFor();
  await page.locator('#host-images', { hasText: 'local/busybox:latest' }).waitFor();
  await page.locator('#host-disk dt', { hasText: 'Layers' }).waitFor();
  await shot(page, 'host-detail');

  // Pull, with a progress bar for the host (removing it is for admins: below).
  if (PULL_IMAGE) {
    await page.click('#tabs button[data-tab=images]');
    await page.fill('#pull-image', PULL_IMAGE);
    await page.locator(`#pull-hosts input[value="${HOST}"]`).check();
    await page.click('#pull-submit');
    await page.locator(`#pull-progress .progress-row[data-host="${HOST}"][data-state=done]`).waitFor({ timeout: 120000 });
    await page.locator('#images-table', { hasText: PULL_IMAGE }).waitFor();
    await shot(page, 'pull');
    assert.equal(await page.locator('#images-table button[data-action="remove image"]').count(), 0);
  }

  // API tokens: one made (its secret shown once), listed, revoked.
  await page.click('#tabs button[data-tab=tokens]');
  await page.fill('#token-name', 'ui-token');
  await page.click('#token-submit');
  await page.locator('#token-secret code', { hasText: /^dm/ }).waitFor();
  const tokenRow = page.locator('#tokens-table tr', { hasText: 'ui-token' });
  await tokenRow.waitFor();
  await shot(page, 'tokens');
  await tokenRow.locator('button[data-action=revoke]').click();
  await page.click('#confirm-yes');
  await tokenRow.waitFor({ state: 'detached' });
  assert.equal(await page.locator('#tabs button[data-tab=users]').isVisible(), false, 'users is for admins');

  // A schema refusal in words, on its field: a name Docker refuses.
  await page.click('#tabs button[data-tab=create]');
  await page.fill('#create-name', 'bad name!');
  await page.click('#create-submit');
  await page.locator('#create-error', { hasText: 'Name has characters or a form that is not accepted' }).waitFor();
  await page.locator('#create-fields label.invalid[data-field=name]').waitFor();
  assert.doesNotMatch(await page.locator('#create-error').innerText(), /regex|constraint/);
  await shot(page, 'error');

  // Services: a 2-replica service made, seen running, scaled to 1 and deleted (services_step.mjs).
  console.log(`services step took ${await servicesStep(page, shot)} ms`);

  // Phone width: nothing wider than the screen but the tables, which scroll inside themselves.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const tab of ['hosts', 'containers', 'create', 'services']) {
    await page.click(`#tabs button[data-tab=${tab}]`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 391, `${tab} at phone width is ${wide} px wide`);
    await shot(page, `phone-${tab}`);
  }
  await page.setViewportSize({ width: 1360, height: 860 });

  await page.click('#logout');
  await page.locator('#login-form').waitFor();

  // The admin's pages: users (one added with a generated password, then removed) and the audit
  // log, which holds this test's create by the user.
  await page.fill('#login-user', 'admin');
  await page.fill('#login-password', ADMIN_PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.locator('#whoami', { hasText: 'admin' }).waitFor();
  // An admin sees the host's usage history on its page (its running containers summed).
  await page.evaluate((h) => { location.hash = `host/${encodeURIComponent(h)}`; }, HOST);
  await page.locator('#host-usage').waitFor({ state: 'visible' });
  await page.waitForFunction(() => Number(document.getElementById('host-history').dataset.samples || 0) >= 2);
  await shot(page, 'host-history');
  await page.click('#tabs button[data-tab=users]');
  await page.locator(`#users-table tr[data-user="${USER}"]`).waitFor();
  await page.fill('#user-name', 'carol');
  await page.click('#user-submit');
  await page.locator('#user-secret code', { hasText: 'carol: ' }).waitFor();
  await page.locator('#users-table tr[data-user=carol]').waitFor();
  await shot(page, 'users');
  await page.locator('#users-table tr[data-user=carol] button[data-action=remove]').click();
  await page.click('#confirm-yes');
  await page.locator('#users-table tr[data-user=carol]').waitFor({ state: 'detached' });
  if (PULL_IMAGE) {  // the image pulled above, removed after a confirmation
    await page.click('#tabs button[data-tab=images]');
    await page.selectOption('#images-host', HOST);
    await page.locator(`#images-table tr[data-image="${PULL_IMAGE}"] button[data-action="remove image"]`).click();
    await page.click('#confirm-yes');
    await page.locator(`#images-table tr[data-image="${PULL_IMAGE}"]`).waitFor({ state: 'detached' });
    await shot(page, 'image-removed');
  }
  await page.click('#tabs button[data-tab=audit]');
  await page.fill('#audit-search', 'create-container');
  await page.locator('#audit-table tr[data-action=create-container]').first().waitFor();
  await shot(page, 'audit');
  await page.click('#logout');
  await page.locator('#login-form').waitFor();
  assert.deepEqual(problems, []);
  // Exactly the two refusals this test provoked, nothing else (no missing file, no API error).
  assert.deepEqual(responses, ['401 /api/v1/login', '400 /api/v1/containers']);
  console.log('browser test passed');
} catch (e) {
  const page = context.pages()[0];
  if (page) await page.screenshot({ path: path.join(SHOTS, 'failure.png'), fullPage: true }).catch(() => {});
  console.error('problems seen:', problems);
  throw e;
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
