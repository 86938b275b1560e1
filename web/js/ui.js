// Small DOM helpers shared by the views: element builder, toasts, screen-reader announcements,
// modal dialogs (focus trap + restore), the confirm dialog, error banners and formatting.

import { describe, formatWait } from './errors.js';

export const $ = (sel, root = document) => root.querySelector(sel);

/** el('button', {class: 'btn', onclick}, 'text', child) */
export function el(tag, attrs = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (k === 'class') n.className = v;
    else if (k === 'text') n.textContent = v;
    else if (k in n && k !== 'list' && typeof v !== 'string') n[k] = v;
    else n.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) n.append(k);
  return n;
}

/** An inline icon from the sprite in index.html. */
export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const s = document.createElementNS(ns, 'svg');
  s.setAttribute('aria-hidden', 'true');
  s.setAttribute('focusable', 'false');
  const u = document.createElementNS(ns, 'use');
  u.setAttribute('href', `#i-${name}`);
  s.append(u);
  return s;
}

// Screen-reader announcements: polite by default, urgent (errors) through an alert region.
export function announce(text, urgent = false) {
  const n = $(urgent ? '#sr-alert' : '#sr-status');
  n.textContent = '';
  setTimeout(() => { n.textContent = text; }, 30);
}

export function toast(text, type = 'info', ms = 4000) {
  const box = $('#toasts');
  const t = el('div', { class: `toast toast-${type}` },
    el('span', { text }),
    el('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss notice', onclick: () => t.remove() }, icon('x')));
  box.append(t);
  while (box.children.length > 4) box.firstElementChild.remove();
  if (ms > 0) setTimeout(() => t.remove(), ms);
  return t;
}

// Modal dialogs on <dialog>.showModal(): the rest of the page is inert; Tab is kept inside the
// dialog explicitly, and focus goes back to where it was when the dialog closes.
const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]),textarea,select,[tabindex]:not([tabindex="-1"])';

export function openModal(dlg, initial) {
  if (dlg.open) return;
  const back = document.activeElement;
  dlg._return = back;
  dlg.showModal();
  document.documentElement.classList.add('modal-open');
  (initial || dlg.querySelector('[autofocus]') || dlg.querySelector(FOCUSABLE) || dlg).focus();
}

export function closeModal(dlg) { if (dlg.open) dlg.close(); }

export function setupModal(dlg) {
  dlg.addEventListener('close', () => {
    document.documentElement.classList.remove('modal-open');
    const back = dlg._return;
    dlg._return = null;
    // Restore only if nothing else took focus meanwhile (the close event is asynchronous).
    const now = document.activeElement;
    const free = !now || now === document.body || dlg.contains(now) || now === back;
    if (free && back && back.isConnected && typeof back.focus === 'function') back.focus();
  });
  dlg.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const items = [...dlg.querySelectorAll(FOCUSABLE)].filter((n) => n.offsetParent !== null || n === document.activeElement);
    if (!items.length) return;
    const first = items[0], last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dlg.contains(document.activeElement))) {
      e.preventDefault(); last.focus();
    } else if (!e.shiftKey && (document.activeElement === last || !dlg.contains(document.activeElement))) {
      e.preventDefault(); first.focus();
    }
  });
  // A click on the backdrop (outside the dialog box) closes it.
  dlg.addEventListener('click', (e) => {
    if (e.target !== dlg) return;
    const r = dlg.getBoundingClientRect();
    if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) dlg.close();
  });
  for (const b of dlg.querySelectorAll('[data-close]')) b.addEventListener('click', () => dlg.close());
}

/** Asks a yes/no question in a modal dialog. Resolves true for yes. */
export function ask({ title, text, yes = 'Replace', no = 'Keep it' }) {
  const dlg = $('#confirm');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  $('#confirm-yes').textContent = yes;
  $('#confirm-no').textContent = no;
  return new Promise((resolve) => {
    let answer = false;
    const y = () => { answer = true; dlg.close(); };
    const n = () => dlg.close();
    const done = () => {
      $('#confirm-yes').removeEventListener('click', y);
      $('#confirm-no').removeEventListener('click', n);
      resolve(answer);
    };
    $('#confirm-yes').addEventListener('click', y);
    $('#confirm-no').addEventListener('click', n);
    dlg.addEventListener('close', done, { once: true });
    openModal(dlg, $('#confirm-no'));
  });
}

/**
 * Shows an error in a banner node, in plain words. A 429 counts down from Retry-After; retryable
 * errors get a Retry button (calls retry()). Returns the description.
 */
export function showBanner(node, err, { retry, text } = {}) {
  clearBanner(node);
  const d = describe(err);
  const msg = text || d.text;
  const body = el('div', { class: 'banner-body' }, el('p', { class: 'banner-msg', text: msg }));
  const actions = el('div', { class: 'banner-actions' });
  const retryBtn = retry && d.retry
    ? el('button', { type: 'button', class: 'btn', onclick: () => { clearBanner(node); retry(); } }, 'Retry')
    : null;
  if (err && err.code === 'RATE_LIMIT_EXCEEDED' && err.retryAfter > 0) {
    const until = Date.now() + err.retryAfter * 1000;
    const line = el('p', { class: 'banner-sub' });
    body.append(line);
    if (retryBtn) retryBtn.hidden = true;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) {
        line.textContent = 'You can try again now.';
        if (retryBtn) retryBtn.hidden = false;
        clearInterval(node._timer);
        return;
      }
      line.textContent = `Try again in ${formatWait(left)}.`;
    };
    tick();
    node._timer = setInterval(tick, 1000);
    node.dataset.until = String(until);
    announce(`${msg} Try again in ${formatWait(err.retryAfter)}.`, true);
  } else {
    announce(msg, true);
  }
  if (retryBtn) actions.append(retryBtn);
  actions.append(el('button', {
    type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss message', onclick: () => clearBanner(node),
  }, icon('x')));
  node.dataset.code = d.code || '';
  node.append(icon('warn'), body, actions);
  node.hidden = false;
  return d;
}

export function clearBanner(node) {
  clearInterval(node._timer);
  node.replaceChildren();
  node.hidden = true;
  delete node.dataset.until;
  delete node.dataset.code;
}

// Formatting.
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || !Number.isFinite(Number(sec))) return '';
  const s = Number(sec);
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

const dtf = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
export function fmtTime(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : dtf.format(t);
}

export function excerpt(s, n = 90) {
  s = String(s || '').replace(/\s+/g, ' ').trim();
  return s.length > n ? `${s.slice(0, n - 1).trimEnd()}…` : s;
}

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The file extension that matches a content type (falls back to the URL's own). */
export function extFor(contentType, url = '') {
  const t = String(contentType || '').toLowerCase();
  if (t.includes('png')) return 'png';
  if (t.includes('jpeg') || t.includes('jpg')) return 'jpg';
  if (t.includes('webp')) return 'webp';
  if (t.includes('gif')) return 'gif';
  if (t.includes('avif')) return 'avif';
  const m = /\.([a-z0-9]{2,5})(?:[?#]|$)/i.exec(url);
  return m ? m[1].toLowerCase().replace('jpeg', 'jpg') : 'png';
}

export const slug = (s) => String(s || 'image').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'image';

/** Copies text; falls back to a hidden textarea where the Clipboard API is unavailable. */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); return true; }
  } catch { /* fall through */ }
  const ta = el('textarea', { class: 'sr-only', readonly: true });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  return ok;
}
