// The gallery: newest-first grid with "Load more" (cursor paging), and one generation's images
// with "Use this prompt" and "Download all" (zip).

import { get, apiUrl, config } from './api.js';
import { $, el, showBanner, clearBanner, fmtTime, excerpt, plural } from './ui.js';
import { openViewer } from './viewer.js';
import { columns, cardSizes } from './job.js';

const pageSize = () => Math.max(1, Math.min(100, Number(config.galleryPageSize) || 24));
const list = { entries: [], next: null, total: 0, stale: true, loading: false, visible: false };

/** Shows the list; reloads it when something finished since the last load. */
export function showGallery() {
  list.visible = true;
  if (list.stale) reload();
}
export function hideGallery() { list.visible = false; }

/** A generation finished: the list is out of date (reloaded now if on screen). */
export function markStale() {
  list.stale = true;
  if (list.visible) reload();
}

async function reload() {
  list.stale = false;
  list.entries = [];
  list.next = null;
  $('#gallery-grid').replaceChildren();
  await fetchPage(null);
}

async function fetchPage(cursor) {
  if (list.loading) return;
  list.loading = true;
  const grid = $('#gallery-grid');
  const more = $('#btn-more');
  grid.setAttribute('aria-busy', 'true');
  more.disabled = true;
  more.textContent = 'Loading…';
  if (!list.entries.length) $('#gallery-count').textContent = 'Loading…';
  clearBanner($('#gallery-banner'));
  try {
    const q = new URLSearchParams({ limit: String(pageSize()) });
    if (cursor) q.set('cursor', cursor);
    const data = await get(`/gallery/list?${q}`);
    const fresh = (data.galleries || []).filter((g) => !list.entries.some((x) => x.id === g.id));
    list.entries.push(...fresh);
    list.next = data.nextCursor || null;
    list.total = Number(data.total) || list.entries.length;
    const first = fresh.length ? grid.children.length : -1;
    for (const g of fresh) grid.append(item(g));
    if (cursor && first >= 0) grid.children[first].querySelector('a').focus();
  } catch (err) {
    if (!cursor) list.stale = true;
    showBanner($('#gallery-banner'), err, { retry: () => fetchPage(cursor) });
  } finally {
    list.loading = false;
    grid.setAttribute('aria-busy', 'false');
    more.disabled = false;
    more.textContent = 'Load more';
    more.hidden = !list.next;
    $('#gallery-empty').hidden = list.entries.length > 0 || !$('#gallery-banner').hidden;
    $('#gallery-count').textContent = list.entries.length
      ? `${plural(list.total, 'generation')}, newest first${list.next ? ` (showing ${list.entries.length})` : ''}` : '';
  }
}

function item(g) {
  const href = `#/gallery/${encodeURIComponent(g.id)}`;
  return el('li', {},
    el('a', { class: 'g-item', href },
      el('span', { class: 'g-thumb' }, g.preview
        ? el('img', { src: g.preview, alt: '', loading: 'lazy', decoding: 'async', width: 256, height: 256 })
        : el('span', { class: 'g-none', text: 'No preview' })),
      el('span', { class: 'g-text' },
        el('span', { class: 'g-prompt', text: excerpt(g.prompt, 100) || 'Untitled' }),
        el('span', { class: 'g-meta' }, `${plural(Number(g.imageCount) || 0, 'image')} · `,
          el('time', { datetime: g.timestamp || '', text: fmtTime(g.timestamp) })))));
}

export function initGallery({ usePrompt }) {
  $('#btn-more').addEventListener('click', () => fetchPage(list.next));
  $('#btn-use-prompt').addEventListener('click', () => { if (detail.prompt) usePrompt(detail.prompt); });
}

// One generation.
const detail = { id: null, prompt: '', items: [], open: null };

export async function showDetail(id, { image } = {}) {
  detail.open = image ?? null;
  if (detail.id === id && detail.items.length) { maybeOpen(); return; }
  detail.id = id;
  detail.prompt = '';
  detail.items = [];
  const grid = $('#detail-grid');
  grid.replaceChildren();
  $('#detail-title').textContent = 'Generation';
  $('#detail-meta').textContent = 'Loading…';
  $('#detail-prompt').textContent = '';
  $('#btn-use-prompt').hidden = true;
  const zip = $('#btn-zip');
  zip.hidden = true;
  clearBanner($('#detail-banner'));
  let data;
  try {
    data = await get(`/gallery/${encodeURIComponent(id)}`);
  } catch (err) {
    if (detail.id === id) {
      detail.id = null;
      $('#detail-meta').textContent = '';
      showBanner($('#detail-banner'), err, { retry: () => showDetail(id, { image }) });
    }
    return;
  }
  if (detail.id !== id) return;
  const images = (data.images || []).filter((x) => x && x.url);
  detail.prompt = data.prompt || (images[0] && images[0].prompt) || '';
  $('#detail-prompt').textContent = detail.prompt;
  $('#detail-meta').textContent = images.length ? `${plural(images.length, 'image')} · ${fmtTime(data.timestamp)}` : '';
  if (!images.length) {
    showBanner($('#detail-banner'), { code: 'JOB_NOT_FOUND' }, { text: 'This generation has no images: it may have expired, or the link is wrong.' });
    return;
  }
  $('#btn-use-prompt').hidden = !detail.prompt;
  zip.href = apiUrl(`/gallery/${encodeURIComponent(id)}/zip`);
  zip.download = `pixel-prompt-${id.slice(0, 8)}.zip`;
  zip.hidden = false;
  detail.items = images.map((x, i) => ({
    key: i, url: x.url, name: x.name || x.model || `Image ${i + 1}`, model: x.model, prompt: x.prompt || detail.prompt,
    width: x.width, height: x.height, contentType: x.contentType, jobId: id,
    share: `#/gallery/${encodeURIComponent(id)}?image=${i}`,
  }));
  const cols = String(columns(images.length));
  grid.style.setProperty('--cols', cols);
  grid.dataset.cols = cols;
  detail.items.forEach((it, i) => {
    grid.append(el('li', { class: 'card', 'data-state': 'completed' },
      el('button', {
        type: 'button', class: 'card-media', 'aria-label': `Open the image by ${it.name}`,
        onclick: () => openViewer(detail.items, i),
      }, el('img', {
        src: it.url, alt: `Image by ${it.name}`, loading: 'lazy', decoding: 'async',
        srcset: images[i].thumbnailUrl && it.width > 256 ? `${images[i].thumbnailUrl} 256w, ${it.url} ${it.width}w` : undefined,
        sizes: cardSizes(Number(cols)),
        width: it.width || 256, height: it.height || 256,
      })),
      el('div', { class: 'card-foot' }, el('span', { class: 'card-name', text: it.name }),
        el('span', { class: 'card-meta', text: it.width && it.height ? `${it.width}×${it.height}` : '' }))));
  });
  maybeOpen();
  // Durations live in the job document (the gallery id is the job id); best effort.
  get(`/status/${encodeURIComponent(id)}`, { retries: 0 }).then((doc) => {
    if (detail.id !== id) return;
    for (const it of detail.items) {
      const r = (doc.results || []).find((x) => x.imageUrl === it.url || (x.model === it.model && x.status === 'completed'));
      if (r) { it.duration = r.duration; it.provider = r.provider; }
    }
  }).catch(() => {});
}

function maybeOpen() {
  if (detail.open === null || !detail.items.length) return;
  const i = Number(detail.open);
  detail.open = null;
  if (i >= 0 && i < detail.items.length) openViewer(detail.items, i);
}
