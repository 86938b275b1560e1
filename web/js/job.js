// One generation job on screen: live state per model from the SSE stream (GET /status/{id}/events),
// falling back to polling GET /status/{id} every 2 s; the cards, "3 of 9 done", Cancel, and the
// optional finished sound / notification.

import { get, post, streamJob } from './api.js';
import { $, el, icon, toast, announce, showBanner, clearBanner, fmtDuration, plural } from './ui.js';
import { modelError } from './errors.js';
import { openViewer } from './viewer.js';
import { load } from './store.js';

const TERMINAL = new Set(['completed', 'partial', 'failed', 'cancelled']);
const isTerminal = (doc) => !!doc && TERMINAL.has(doc.status);
const list = () => $('#cards');

let cur = null;   // the tracked job: {id, doc, ctl, failures, timer, sawRunning, finished, open}
let ticker = 0;
const finishedFns = new Set();
const docFns = new Set();
export const onFinished = (fn) => finishedFns.add(fn);
export const onDoc = (fn) => docFns.add(fn);
export const currentJob = () => cur;

/** Starts following a job (no-op when it is already followed). hint: the /generate answer. */
export function track(id, hint) {
  if (cur && cur.id === id) return;
  stop();
  cur = { id, doc: null, ctl: new AbortController(), failures: 0, timer: 0, sawRunning: !!hint, finished: false, open: null, streams: 0 };
  $('#cards').replaceChildren();
  clearBanner($('#job-banner'));
  if (hint) {
    render({
      jobId: id, status: 'pending', prompt: hint.prompt, totalModels: hint.totalModels || hint.models.length,
      results: hint.models.map((m, i) => ({ model: m.id, name: m.name, provider: m.provider, index: i + 1, status: 'pending' })),
    });
  } else {
    $('#progress').textContent = 'Loading…';
    $('#job-prompt').textContent = '';
    $('#btn-cancel').hidden = true;
    $('#job-gallery-link').hidden = true;
  }
  run(cur);
}

/** Asks the job view to open the viewer on result `index` once it has an image. */
export function openWhenReady(index) {
  if (!cur) return;
  cur.open = index;
  if (cur.doc) maybeOpen(cur);
}

function stop() {
  if (!cur) return;
  cur.ctl.abort();
  clearTimeout(cur.timer);
  cur = null;
}

async function run(t) {
  try {
    apply(t, await get(`/status/${encodeURIComponent(t.id)}`));
  } catch (err) {
    if (t !== cur) return;
    if (err.code === 'JOB_NOT_FOUND' || err.status === 404) return notFound(t, err);
    poll(t, 2000);
    return;
  }
  if (t === cur && !isTerminal(t.doc)) stream(t);
}

async function stream(t) {
  let got = 0;
  try {
    t.lastId = await streamJob(t.id, {
      signal: t.ctl.signal, lastEventId: t.lastId,
      onJob: (doc, id) => { got++; t.lastId = id; apply(t, doc); },
    });
  } catch { /* blocked, refused or broken: poll instead */ }
  if (t !== cur || t.ctl.signal.aborted || isTerminal(t.doc)) return;
  // A stream that delivered events and then ended early is resumed a few times; otherwise poll.
  if (got > 0 && ++t.streams < 4) stream(t);
  else poll(t, 0);
}

function poll(t, delay) {
  clearTimeout(t.timer);
  t.timer = setTimeout(async () => {
    if (t !== cur) return;
    try {
      const doc = await get(`/status/${encodeURIComponent(t.id)}`, { retries: 0 });
      if (t.failures >= 3) clearBanner($('#job-banner'));
      t.failures = 0;
      apply(t, doc);
    } catch (err) {
      if (t !== cur) return;
      if (err.code === 'JOB_NOT_FOUND') return notFound(t, err);
      t.failures++;
      if (t.failures === 3) showBanner($('#job-banner'), err, { text: 'Lost contact with the server; still trying…' });
      if (t.failures >= 6) {
        showBanner($('#job-banner'), err, { retry: () => { t.failures = 0; poll(t, 0); } });
        return;
      }
    }
    if (!isTerminal(t.doc)) poll(t, t.failures ? Math.min(2000 * 2 ** (t.failures - 1), 8000) : 2000);
  }, delay);
}

function notFound(t, err) {
  t.finished = true;
  $('#cards').replaceChildren();
  $('#progress').textContent = '';
  $('#btn-cancel').hidden = true;
  showBanner($('#job-banner'), err);
}

function apply(t, doc) {
  if (t !== cur || !doc || doc.jobId !== t.id) return;
  if (t.finished && !isTerminal(doc)) return; // never step back after the end
  t.doc = doc;
  if (!isTerminal(doc)) t.sawRunning = true;
  render(doc);
  for (const fn of docFns) fn(doc);
  maybeOpen(t);
  if (isTerminal(doc) && !t.finished) finish(t);
}

function maybeOpen(t) {
  if (t.open === null || t.open === undefined) return;
  const items = viewerItems(t.doc);
  const i = items.findIndex((x) => String(x.key) === String(t.open));
  if (i >= 0) { t.open = null; openViewer(items, i); }
  else if (isTerminal(t.doc)) t.open = null;
}

function finish(t) {
  t.finished = true;
  t.ctl.abort();
  clearTimeout(t.timer);
  const doc = t.doc;
  const c = counts(doc);
  if (t.sawRunning) {
    const text = doc.status === 'cancelled' ? `Generation cancelled: ${plural(c.completed, 'image')} made.`
      : doc.status === 'failed' ? 'No model could make an image for this prompt.'
      : c.failed ? `Done: ${plural(c.completed, 'image')}, ${c.failed} failed.`
      : `Done: ${plural(c.completed, 'image')} ready.`;
    toast(text, doc.status === 'failed' ? 'error' : 'success');
    signal(text, doc);
  }
  for (const fn of finishedFns) fn(doc);
}

function counts(doc) {
  const r = doc.results || [];
  const completed = r.filter((x) => x.status === 'completed').length;
  const failed = r.filter((x) => x.status === 'error').length;
  const cancelled = r.filter((x) => x.status === 'cancelled').length;
  return { total: doc.totalModels || r.length, completed, failed, cancelled };
}

function progressText(doc) {
  const c = counts(doc);
  const done = c.completed + c.failed;
  let s = `${done} of ${c.total} done`;
  if (c.failed) s += `, ${c.failed} failed`;
  if (doc.status === 'cancelled') s = `Cancelled: ${s}`;
  else if (doc.status === 'failed') s = `Failed: ${s}`;
  else if (isTerminal(doc)) s = `Finished: ${s}`;
  return s;
}

function render(doc) {
  $('#job-prompt').textContent = doc.prompt || '';
  const c = counts(doc);
  const p = $('#progress');
  const text = progressText(doc);
  if (p.textContent !== text) p.textContent = text;
  $('#progress-bar').style.width = `${c.total ? Math.round(((c.completed + c.failed + c.cancelled) / c.total) * 100) : 0}%`;
  const running = !isTerminal(doc);
  const cancel = $('#btn-cancel');
  if (cancel.hidden === running) cancel.hidden = !running;
  if (running) cancel.disabled = false;
  $('#results').setAttribute('aria-busy', String(running));
  const link = $('#job-gallery-link');
  link.hidden = !(c.completed > 0 && !running);
  link.href = `#/gallery/${encodeURIComponent(doc.jobId)}`;

  const list = $('#cards');
  const results = doc.results || [];
  const cols = String(columns(results.length));
  list.style.setProperty('--cols', cols);
  list.dataset.cols = cols;
  const have = new Map([...list.children].map((n) => [n.dataset.index, n]));
  results.forEach((r) => {
    let card = have.get(String(r.index));
    if (!card) {
      card = el('li', { class: 'card', 'data-index': String(r.index) });
      list.append(card);
    }
    updateCard(card, r, doc);
    have.delete(String(r.index));
  });
  for (const n of have.values()) n.remove();
  const anyRunning = results.some((r) => r.status === 'in_progress');
  if (anyRunning && !ticker) ticker = setInterval(tick, 1000);
  if (!anyRunning && ticker) { clearInterval(ticker); ticker = 0; }
}

/** The `sizes` of a card image, matching the column rules in app.css. */
export function cardSizes(cols) {
  const w = (c) => `${Math.ceil(100 / c)}vw`;
  return `(max-width: 540px) 100vw, (max-width: 780px) ${w(Math.min(cols, 2))}, (max-width: 1000px) ${w(Math.min(cols, 3))}, ${w(cols)}`;
}

/** Columns for n cards: balanced rows of at most 5 (CSS caps this on narrow screens). */
export function columns(n) {
  if (n <= 1) return 1;
  const rows = Math.ceil(n / 5);
  return Math.ceil(n / rows);
}

function updateCard(card, r, doc) {
  const name = r.name || r.model || `Model ${r.index}`;
  const state = r.status || 'pending';
  const sig = `${state}|${r.imageUrl || ''}|${r.error || ''}`;
  if (card.dataset.sig === sig) return;
  card.dataset.sig = sig;
  card.dataset.state = state;
  let media;
  if (state === 'completed' && r.imageUrl) {
    const img = el('img', {
      src: r.imageUrl, alt: `Image by ${name}`, decoding: 'async',
      srcset: r.thumbnailUrl && r.width > 256 ? `${r.thumbnailUrl} 256w, ${r.imageUrl} ${r.width}w` : undefined,
      sizes: r.thumbnailUrl && r.width > 256 ? cardSizes(Number(list().dataset.cols) || 1) : undefined,
      width: r.width || undefined, height: r.height || undefined,
    });
    img.addEventListener('error', () => {
      card.dataset.state = 'broken';
      media.replaceWith(el('div', { class: 'card-media' }, icon('warn'), el('p', { text: 'The image could not be loaded.' })));
    }, { once: true });
    media = el('button', {
      type: 'button', class: 'card-media', 'aria-label': `Open the image by ${name}`,
      onclick: () => {
        const items = viewerItems((cur && cur.doc && cur.doc.jobId === doc.jobId) ? cur.doc : doc);
        openViewer(items, Math.max(0, items.findIndex((x) => x.key === r.index)));
      },
    }, img);
  } else if (state === 'in_progress') {
    const started = Date.parse(r.startedAt) || Date.now();
    media = el('div', { class: 'card-media' },
      el('span', { class: 'spinner', 'aria-hidden': 'true' }),
      el('p', {}, 'Working… ', el('span', { class: 'elapsed', 'data-started': String(started), text: elapsed(started) })));
  } else if (state === 'error') {
    media = el('div', { class: 'card-media' }, icon('warn'), el('p', { class: 'err', text: modelError(r.error) }));
  } else if (state === 'cancelled') {
    media = el('div', { class: 'card-media' }, icon('stop'), el('p', { text: 'Cancelled' }));
  } else {
    media = el('div', { class: 'card-media' }, icon('clock'), el('p', { text: 'Waiting to start' }));
  }
  const meta = state === 'completed'
    ? [fmtDuration(r.duration), r.width && r.height ? `${r.width}×${r.height}` : ''].filter(Boolean).join(' · ')
    : state === 'error' ? 'Failed' : '';
  card.replaceChildren(media, el('div', { class: 'card-foot' },
    el('span', { class: 'card-name', title: r.model || '', text: name }),
    r.provider === 'demo' ? el('span', { class: 'badge', title: 'Offline demo model' }, 'demo') : null,
    el('span', { class: 'card-meta', text: meta })));
}

function elapsed(started) { return `${Math.max(0, Math.floor((Date.now() - started) / 1000))} s`; }

function tick() {
  for (const n of document.querySelectorAll('#cards .elapsed')) n.textContent = elapsed(Number(n.dataset.started));
}

/** The completed images of a job document, for the viewer. */
export function viewerItems(doc) {
  return (doc.results || []).filter((r) => r.status === 'completed' && r.imageUrl).map((r) => ({
    key: r.index, url: r.imageUrl, name: r.name || r.model, model: r.model, provider: r.provider,
    prompt: doc.prompt, duration: r.duration, width: r.width, height: r.height, contentType: r.contentType,
    jobId: doc.jobId, share: `#/job/${encodeURIComponent(doc.jobId)}?image=${r.index}`,
  }));
}

export async function cancelJob() {
  const t = cur;
  if (!t || isTerminal(t.doc)) return;
  const btn = $('#btn-cancel');
  btn.disabled = true;
  try {
    const doc = await post(`/cancel/${encodeURIComponent(t.id)}`, {});
    apply(t, doc);
    announce('Generation cancelled.');
  } catch (err) {
    btn.disabled = false;
    showBanner($('#job-banner'), err, { retry: cancelJob });
  }
}

// The finished signal, only when the person turned it on.
function signal(text, doc) {
  if (load('done.sound', false)) beep();
  if (load('done.notify', false) && 'Notification' in window && Notification.permission === 'granted') {
    try { new Notification('Pixel Prompt', { body: text, icon: 'favicon.svg', tag: doc.jobId }); } catch { /* ignore */ }
  }
}

function beep() {
  try {
    const ac = new (window.AudioContext || window.webkitAudioContext)();
    [660, 880].forEach((f, i) => {
      const o = ac.createOscillator(), g = ac.createGain();
      o.frequency.value = f;
      const t0 = ac.currentTime + i * 0.16;
      g.gain.setValueAtTime(0.0001, t0);
      g.gain.exponentialRampToValueAtTime(0.2, t0 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.15);
      o.connect(g).connect(ac.destination);
      o.start(t0);
      o.stop(t0 + 0.16);
    });
    setTimeout(() => ac.close(), 600);
  } catch { /* no audio */ }
}
