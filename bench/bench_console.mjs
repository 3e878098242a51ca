// bench_console.mjs: how long a container state change on dockerd takes to show on the console's
// page. Playwright drives Debian's Chromium (as tests/browser/ui_test.mjs does); this script
// changes the state on the dockerd directly (its Unix socket: kill, then start) and a
// MutationObserver in the page stamps the moment the row's state badge shows the new state. The
// path measured: dockerd event -> agent -> broker -> bridge -> WebSocket -> reload -> render.
// Environment: BRIDGE_URL, UI_USER, UI_PASSWORD, DOCKER_SOCK, CONTAINER, ROUNDS, CHROMIUM.
// Prints one JSON line {kill_ms: [...], start_ms: [...], call_ms: {kill: [...], start: [...]}}.
import { createRequire } from 'node:module';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const env = (n) => { if (!process.env[n]) throw new Error(`${n} is not set`); return process.env[n]; };
const CONTAINER = env('CONTAINER');

function docker(method, p) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: env('DOCKER_SOCK'), method, path: p }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`${method} ${p}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dm-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = context.pages()[0] || await context.newPage();
  await page.goto(env('BRIDGE_URL'));
  await page.fill('#login-user', env('UI_USER'));
  await page.fill('#login-password', env('UI_PASSWORD'));
  await page.click('#login-form button[type=submit]');
  await page.locator('#live.on').waitFor();
  await page.click('#tabs button[data-tab=containers]');
  const row = `#containers-table tr[data-name="${CONTAINER}"]`;
  await page.locator(`${row} .badge.running`).waitFor({ timeout: 30000 });
  // The page stamps (in epoch ms) each time the row's badge shows a state it was told to wait for.
  await page.evaluate((sel) => {
    window.dmSeen = {};
    new MutationObserver(() => {
      const b = document.querySelector(`${sel} .badge`);
      if (b && window.dmWant && b.textContent === window.dmWant && !window.dmSeen[window.dmWant])
        window.dmSeen[window.dmWant] = performance.timeOrigin + performance.now();
    }).observe(document.getElementById('containers-table'), { subtree: true, childList: true, characterData: true });
  }, row);
  const out = { kill_ms: [], start_ms: [], call_ms: { kill: [], start: [] } };
  const rounds = Number(process.env.ROUNDS || 20);
  for (let i = 0; i < rounds; i++) {
    for (const [op, want, key] of [['kill', 'exited', 'kill_ms'], ['start', 'running', 'start_ms']]) {
      await page.evaluate((w) => { window.dmWant = w; window.dmSeen = {}; }, want);
      const t0 = Date.now();
      await docker('POST', `/containers/${CONTAINER}/${op}`);
      out.call_ms[op].push(Date.now() - t0);  // dockerd's own share: the call returns when done
      await page.waitForFunction((w) => !!window.dmSeen[w], want, { timeout: 10000, polling: 50 });
      out[key].push((await page.evaluate((w) => window.dmSeen[w], want)) - t0);
    }
  }
  console.log(JSON.stringify(out));
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
