// dom.js: the few DOM helpers every view uses. Everything from the server is inserted as text,
// never as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
  const e = tag === 'svg' || tag === 'polyline' || tag === 'text'
    ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.setAttribute('class', v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// A confirmation in the page (not window.confirm: it is styled, testable and says what happens).
export function ask(question, yesLabel) {
  return new Promise((resolve) => {
    const dlg = $('confirm');
    $('confirm-text').textContent = question;
    $('confirm-yes').textContent = yesLabel || 'Yes';
    const done = (v) => { dlg.close(); $('confirm-yes').onclick = null; $('confirm-no').onclick = null; resolve(v); };
    $('confirm-yes').onclick = () => done(true);
    $('confirm-no').onclick = () => done(false);
    dlg.oncancel = () => done(false);
    dlg.showModal();
  });
}

// A pager under a table: "1-50 of 812", previous / next.
export function pagerBar(info, go) {
  return el('div', { class: 'pager' },
    el('button', { class: 'small', 'data-page': 'prev', disabled: info.page <= 1, onclick: () => go(info.page - 1) }, '‹ previous'),
    el('span', { class: 'muted' }, info.total ? `${info.first}-${info.last} of ${info.total}` : 'none'),
    el('button', { class: 'small', 'data-page': 'next', disabled: info.page >= info.pages, onclick: () => go(info.page + 1) }, 'next ›'));
}
