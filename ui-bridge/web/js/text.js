// text.js: formatting and parsing of text shown or typed in the console. Pure (no DOM).

export function fmtBytes(n) {
  if (typeof n !== 'number' || !isFinite(n) || n <= 0) return '-';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

// Unix seconds or milliseconds, or an ISO string.
export function toDate(t) {
  if (typeof t === 'number') return new Date(t < 1e12 ? t * 1000 : t);
  if (typeof t === 'string' && t) return new Date(t);
  return null;
}

export function fmtTime(t) {
  const d = toDate(t);
  return d && !isNaN(d) ? d.toLocaleString() : '-';
}

export function fmtAgo(t) {
  const d = toDate(t);
  if (!d || isNaN(d)) return '-';
  const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return d.toLocaleString();
}

// Splits a command line like a shell would for simple cases: spaces, 'single' and "double" quotes.
export function splitCommand(text) {
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
