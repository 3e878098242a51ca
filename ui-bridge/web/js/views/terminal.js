// views/terminal.js: the terminal of the containers page's panel (an exec session, docs/streams.md):
// an xterm.js Terminal from vendor/xterm.js (bundled at build time from Debian's node-xterm by
// scripts/bundle_cjs.mjs), loaded the first time a terminal opens. It renders what the command
// prints (escape sequences, colours, cursor moves), sends every key typed as `input`, and fits
// its columns and rows to the panel, sending each new size as `resize`. The canvas renderer draws
// the text; screen-reader mode keeps the rows as text in the page too (for assistive tools, and
// for the browser test). One terminal at a time; termClose disposes of it.

let xterm = null;   // the bundle's exports, once loaded
let T = null;       // {term, observer, box}

async function loadXterm() {
  if (!xterm) xterm = await import('../../vendor/xterm.js');
  return xterm;
}

// Opens a terminal in `box` (an empty element with a height) and answers its size {cols, rows}.
// hooks: {input(data), resize(cols, rows)}, called once the user types or the panel changes size.
export async function termOpen(box, hooks) {
  termClose();
  const { Terminal, fit } = await loadXterm();
  const term = new Terminal({ cursorBlink: true, fontSize: 13, scrollback: 2000, screenReaderMode: true,
    theme: { background: '#0d1117', foreground: '#e6edf3' } });
  box.hidden = false;
  term.open(box);
  fit.fit(term);
  term.on('data', (data) => hooks.input(data));
  term.on('resize', (size) => hooks.resize(size.cols, size.rows));
  // The panel's width follows the window (and the phone layout): refit, which emits `resize`.
  const observer = new ResizeObserver(() => { if (T && T.term === term) fit.fit(term); });
  observer.observe(box);
  T = { term, observer, box };
  term.focus();
  return { cols: term.cols, rows: term.rows };
}

// Output of the command, as it came (a TTY sends \r\n itself).
export function termWrite(text) {
  if (T) T.term.write(text);
}

// A line of ours (the session ended, it was refused), apart from the command's output.
export function termNote(text) {
  if (T) T.term.write(`\r\n\x1b[2m${text}\x1b[0m\r\n`);
}

export function termClose() {
  if (!T) return;
  const { term, observer, box } = T;
  T = null;
  observer.disconnect();
  term.dispose();
  box.replaceChildren();
  box.hidden = true;
}
