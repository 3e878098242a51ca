// pager.js: search and pagination of long tables (1,000 hosts, 10,000 containers stay usable:
// only one page of rows is ever in the DOM). Pure: unit-tested by tests/web/pager.test.mjs.

export const PAGE_SIZE = 50;

// Rows whose text (the given fields) contains every word of `query`, case-insensitive.
export function filterRows(rows, query, fields) {
  const words = String(query || '').toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return rows;
  return rows.filter((r) => {
    const text = fields.map((f) => (typeof f === 'function' ? f(r) : r[f]) ?? '').join(' ').toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

// {rows, page, pages, first, last, total}: page is clamped to what exists (1-based).
export function pageOf(rows, page, size = PAGE_SIZE) {
  const total = rows.length;
  const pages = Math.max(1, Math.ceil(total / size));
  const p = Math.min(Math.max(1, page | 0), pages);
  const start = (p - 1) * size;
  return { rows: rows.slice(start, start + size), page: p, pages, total,
    first: total ? start + 1 : 0, last: Math.min(total, start + size) };
}
