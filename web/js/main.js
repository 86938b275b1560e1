// Boot: hash routes (#/, #/job/{id}, #/gallery, #/gallery/{id}), theme, global shortcuts, help
// dialog and client error reporting.

import { reportError } from './api.js';
import { $, setupModal, openModal, toast } from './ui.js';
import { loadModels } from './models.js';
import { initComposer, generate, setPrompt, focusPrompt, getPrompt } from './composer.js';
import { track, openWhenReady, onDoc, onFinished, cancelJob } from './job.js';
import { initViewer } from './viewer.js';
import { initGallery, showGallery, hideGallery, showDetail, markStale } from './gallery.js';
import { loadRaw, saveRaw } from './store.js';

window.addEventListener('error', (e) => reportError(e.error || e.message, { source: 'window.onerror' }));
window.addEventListener('unhandledrejection', (e) => reportError(e.reason, { source: 'unhandledrejection' }));

const VIEWS = { generate: '#view-generate', gallery: '#view-gallery', detail: '#view-detail' };
let currentView = null;
let deepLinkedJob = null;
let focusNext = null; // selector to focus after the next view change instead of its heading

function route() {
  const h = location.hash || '#/';
  if (!h.startsWith('#/')) return;
  const [path, query = ''] = h.slice(1).split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  const image = params.has('image') ? params.get('image') : null;
  let view = 'generate', title = 'Pixel Prompt';
  if (parts[0] === 'job' && parts[1]) {
    show(view);
    $('#results').hidden = false;
    if (!deepLinkedJob) deepLinkedJob = parts[1];
    track(parts[1]);
    if (image !== null) openWhenReady(image);
    title = 'Results · Pixel Prompt';
  } else if (parts[0] === 'gallery' && parts[1]) {
    view = 'detail';
    show(view);
    showDetail(parts[1], { image });
    title = 'Generation · Pixel Prompt';
  } else if (parts[0] === 'gallery') {
    view = 'gallery';
    show(view);
    title = 'Gallery · Pixel Prompt';
  } else {
    show(view);
    $('#results').hidden = true;
  }
  if (view === 'gallery') showGallery(); else hideGallery();
  document.title = title;
}

function show(view) {
  const changed = currentView !== null && currentView !== view;
  for (const [name, sel] of Object.entries(VIEWS)) $(sel).hidden = name !== view;
  const navView = view === 'generate' ? 'generate' : 'gallery';
  for (const [id, v] of [['#nav-generate', 'generate'], ['#nav-gallery', 'gallery']]) {
    if (v === navView) $(id).setAttribute('aria-current', 'page'); else $(id).removeAttribute('aria-current');
  }
  // Moving to another view puts keyboard and screen-reader focus on its heading.
  if (changed && !document.querySelector('dialog[open]')) {
    const heading = { generate: '#gen-title', gallery: '#gallery-title', detail: '#detail-title' }[view];
    window.scrollTo(0, 0);
    $(focusNext || heading).focus();
  }
  focusNext = null;
  currentView = view;
}

// Theme: follow the system unless the person picked light or dark.
const THEMES = ['system', 'light', 'dark'];
function applyTheme(t) {
  const root = document.documentElement;
  if (t === 'system') delete root.dataset.theme; else root.dataset.theme = t;
  const sys = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  const label = t === 'system' ? `Theme: follow system (now ${sys}). Switch to light` : t === 'light' ? 'Theme: light. Switch to dark' : 'Theme: dark. Switch to follow system';
  $('#btn-theme').setAttribute('aria-label', label);
  $('#btn-theme').title = label;
}

function initTheme() {
  let t = loadRaw('theme');
  if (!THEMES.includes(t)) t = 'system';
  applyTheme(t);
  $('#btn-theme').addEventListener('click', () => {
    t = THEMES[(THEMES.indexOf(t) + 1) % THEMES.length];
    saveRaw('theme', t === 'system' ? null : t);
    applyTheme(t);
    toast(t === 'system' ? 'Theme follows your system setting.' : `${t[0].toUpperCase()}${t.slice(1)} theme.`);
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(t));
}

const typing = (n) => n && (n.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(n.tagName));

function initKeys() {
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented) return;
    const inDialog = !!document.querySelector('dialog[open]');
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter' && !e.isComposing) {
      if (inDialog) return;
      e.preventDefault();
      generate();
      return;
    }
    if (inDialog || typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '?') { e.preventDefault(); openModal($('#help')); }
    else if (e.key === '/') {
      e.preventDefault();
      if (currentView !== 'generate') { focusNext = '#prompt'; location.hash = '#/'; } else focusPrompt();
    }
  });
  if (/Mac|iPhone|iPad/.test(navigator.platform || '')) {
    for (const k of document.querySelectorAll('kbd.mod')) k.textContent = '⌘';
  }
}

async function usePrompt(text) {
  if (!(await setPrompt(text, { confirm: true, what: 'This gallery prompt' }))) return;
  if (currentView !== 'generate') { focusNext = '#prompt'; location.hash = '#/'; } else focusPrompt();
  toast('Prompt ready: edit it or press Generate.');
}

function boot() {
  setupModal($('#help'));
  setupModal($('#confirm'));
  initViewer();
  initTheme();
  initKeys();
  initComposer();
  initGallery({ usePrompt });
  $('#btn-help').addEventListener('click', () => openModal($('#help')));
  $('#btn-cancel').addEventListener('click', cancelJob);
  $('#skip').addEventListener('click', (e) => { e.preventDefault(); $('#main').focus(); });
  onFinished(() => markStale());
  // A job opened from a link fills an empty prompt box with its prompt.
  onDoc((doc) => {
    if (doc.jobId === deepLinkedJob && !getPrompt().trim() && doc.prompt) setPrompt(doc.prompt);
    if (doc.jobId === deepLinkedJob) deepLinkedJob = '-';
  });
  window.addEventListener('hashchange', route);
  loadModels();
  route();
  if (deepLinkedJob === null) deepLinkedJob = '-';
}

boot();
