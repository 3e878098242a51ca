// Unit tests of scripts/bundle_cjs.mjs, the build step that turns Debian's CommonJS node-xterm into
// the console's vendor/xterm.js: on a small package of its own, then on node-xterm itself.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCRIPT = path.join(HERE, '..', '..', 'scripts', 'bundle_cjs.mjs');
const made = [];
after(() => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });
const tmp = (prefix) => { const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix)); made.push(d); return d; };

function pkg(files) {
  const root = tmp('dm-cjs-');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

function bundle(root, ...entries) {
  const out = path.join(root, 'out', 'bundle.mjs');
  const notice = path.join(root, 'NOTICE');
  fs.writeFileSync(notice, 'Copyright the authors; the licence */ text\n');
  const r = spawnSync(process.execPath, [SCRIPT, '--root', root, '--out', out, '--notice', notice, ...entries],
    { encoding: 'utf8' });
  return { ...r, out };
}

test('modules reached through relative requires are bundled once, as named exports', async () => {
  const root = pkg({
    'main.js': 'const b = require("./b"); const c = require("./lib/c.js");\nexports.sum = () => b.n + c.n + require("./b").n;\n//# sourceMappingURL=main.js.map\n',
    'b.js': 'exports.n = 1; exports.loads = (globalThis.__loads = (globalThis.__loads || 0) + 1);\n',
    'lib/c.js': 'module.exports = { n: require("../b").n * 10 };\n',
    'lib/index.js': 'module.exports = "dir";\n',
    'other.js': 'module.exports = require("./lib");\n',
    'unused.js': 'throw new Error("never bundled");\n',
  });
  const r = bundle(root, 'main=main.js', 'other=other.js');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /5 modules/);
  const text = fs.readFileSync(r.out, 'utf8');
  assert.ok(text.startsWith('/*!\nCopyright the authors; the licence * / text\n*/'), 'the notice, its */ defused');
  assert.doesNotMatch(text, /sourceMappingURL|never bundled/);
  const m = await import(r.out);
  assert.equal(m.main.sum(), 12);
  assert.equal(m.other, 'dir');
  assert.equal(globalThis.__loads, 1, 'a module runs once however often it is required');
});

test('a require of anything but a relative file fails the build, naming it', () => {
  for (const [files, words] of [
    [{ 'a.js': 'require("fs");\n' }, /only relative requires/],
    [{ 'a.js': 'require("./missing");\n' }, /"\.\/missing", which is not in/],
    [{ 'a.js': 'module.exports = eval("1");\n' }, /eval or new Function/]]) {
    const r = bundle(pkg(files), 'a=a.js');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, words);
    assert.equal(fs.existsSync(r.out), false, 'no output left behind');
  }
});

test('node-xterm (a build dependency, scripts/deps.sh) bundles into Terminal and fit', () => {
  const root = tmp('dm-xterm-');
  const out = path.join(root, 'xterm.js');
  const r = spawnSync(process.execPath, [SCRIPT, '--root', '/usr/share/nodejs/xterm/lib', '--out', out,
    'Terminal=xterm.js', 'fit=addons/fit/fit.js'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const text = fs.readFileSync(out, 'utf8');
  assert.match(text, /^export const Terminal = __load\("xterm\.js"\);$/m);
  assert.match(text, /^export const fit = __load\("addons\/fit\/fit\.js"\);$/m);
});
