// The image viewer: full-size image with its prompt, model, duration and pixel size; download with
// the true file extension; a shareable link; previous/next (buttons and arrow keys); Esc closes;
// focus stays inside and returns to the card that opened it.

import { $, el, openModal, setupModal, toast, copyText, extFor, slug, fmtDuration, excerpt } from './ui.js';

let items = [];
let pos = 0;

export function initViewer() {
  const dlg = $('#viewer');
  setupModal(dlg);
  $('#viewer-close').addEventListener('click', () => dlg.close());
  $('#viewer-prev').addEventListener('click', () => go(-1));
  $('#viewer-next').addEventListener('click', () => go(1));
  $('#viewer-copy').addEventListener('click', async () => {
    const it = items[pos];
    if (!it) return;
    const link = new URL(it.share, location.href).href;
    toast(await copyText(link) ? 'Link copied. Anyone with it can open this image.' : `Copy this link: ${link}`, 'success');
  });
  $('#viewer-download').addEventListener('click', download);
  dlg.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'ArrowLeft') { e.preventDefault(); go(-1); }
    else if (e.key === 'ArrowRight') { e.preventDefault(); go(1); }
  });
  dlg.addEventListener('close', () => {
    $('#viewer-img').removeAttribute('src');
    if (/\?image=/.test(location.hash)) history.replaceState(history.state, '', location.hash.replace(/\?.*$/, ''));
  });
  $('#viewer-img').addEventListener('load', () => {
    const it = items[pos], img = $('#viewer-img');
    if (it && !(it.width && it.height) && img.naturalWidth) setMeta(it, `${img.naturalWidth}×${img.naturalHeight}`);
  });
}

/** Opens the viewer on items[index]; items: [{url, name, model, provider, prompt, duration, width, height, contentType, jobId, share}] */
export function openViewer(list, index = 0) {
  if (!list.length) return;
  items = list;
  pos = Math.min(Math.max(0, index), list.length - 1);
  show();
  const dlg = $('#viewer');
  const many = items.length > 1;
  $('#viewer-prev').hidden = !many;
  $('#viewer-next').hidden = !many;
  if (!dlg.open) openModal(dlg, $('#viewer-close'));
}

function go(step) {
  if (items.length < 2) return;
  pos = (pos + step + items.length) % items.length;
  show();
}

function show() {
  const it = items[pos];
  const img = $('#viewer-img');
  img.alt = `Image by ${it.name}: ${excerpt(it.prompt, 140)}`;
  if (it.width && it.height) { img.width = it.width; img.height = it.height; } else { img.removeAttribute('width'); img.removeAttribute('height'); }
  img.src = it.url;
  $('#viewer-title').textContent = it.name || it.model || 'Image';
  $('#viewer-pos').textContent = items.length > 1 ? `Image ${pos + 1} of ${items.length}` : '';
  setMeta(it, it.width && it.height ? `${it.width}×${it.height}` : '');
  const ext = extFor(it.contentType, it.url);
  const a = $('#viewer-download');
  a.href = it.url;
  a.download = `pixel-prompt-${slug(it.name || it.model)}-${String(it.jobId || '').slice(0, 8) || 'image'}.${ext}`;
  a.querySelector('span').textContent = `Download ${ext.toUpperCase()}`;
  if (items.length > 1) {
    const next = items[(pos + 1) % items.length];
    new Image().src = next.url;
  }
}

function setMeta(it, size) {
  const rows = [
    ['Prompt', it.prompt],
    ['Model', it.model && it.model !== it.name ? `${it.name} (${it.model})${it.provider === 'demo' ? ', demo' : ''}` : `${it.name || ''}${it.provider === 'demo' ? ' (demo)' : ''}`],
    ['Time to make', fmtDuration(it.duration)],
    ['Size', size ? `${size} pixels` : ''],
    ['Format', extFor(it.contentType, it.url).toUpperCase()],
  ];
  $('#viewer-meta').replaceChildren(...rows.filter(([, v]) => v).flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
}

// Same-origin links download natively with the `download` name; a CDN on another origin ignores
// that name, so fetch the bytes and save them from a blob URL (or just open the image).
async function download(e) {
  const a = e.currentTarget;
  const url = new URL(a.href, location.href);
  if (url.origin === location.origin) return;
  e.preventDefault();
  try {
    const res = await fetch(url.href, { mode: 'cors' });
    if (!res.ok) throw new Error(String(res.status));
    const blob = await res.blob();
    const href = URL.createObjectURL(blob);
    const tmp = el('a', { href, download: a.download, hidden: true });
    document.body.append(tmp);
    tmp.click();
    tmp.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10000);
  } catch {
    window.open(url.href, '_blank', 'noopener');
  }
}
