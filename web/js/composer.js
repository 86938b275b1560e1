// The composer: prompt box (auto-grow, counter, Clear/Esc, history), Inspire me, Enhance (short
// and long variants, pick one, undo) and the Generate action.

import { post, uuid } from './api.js';
import { $, el, ask, toast, announce, showBanner, clearBanner, excerpt } from './ui.js';
import { catalog, chosen, loadModels, onCatalog } from './models.js';
import { load, save } from './store.js';
import { track } from './job.js';

const box = () => $('#prompt');
let typed = false;       // the person typed since the prompt was last set for them
let busy = false;        // a POST /generate is in flight
let lastInspired = null; // index of the last "Inspire me" prompt
let undoText = null;     // the prompt before an enhancement was applied

export const getPrompt = () => box().value;
/** Length in Unicode code points, as the server counts it. */
const cpLen = (s) => [...s].length;
export const focusPrompt = () => { box().focus(); };

/** Sets the prompt. With confirm, asks first when it would replace something the person typed. */
export async function setPrompt(text, { confirm = false, what = 'This' } = {}) {
  const cur = box().value;
  if (confirm && typed && cur.trim() && cur !== text) {
    const ok = await ask({
      title: 'Replace your prompt?',
      text: `${what} will replace the prompt you typed (${cpLen(cur)} characters).`,
      yes: 'Replace', no: 'Keep mine',
    });
    if (!ok) return false;
  }
  box().value = text;
  typed = false;
  refresh();
  return true;
}

function refresh() {
  const t = box();
  t.style.height = 'auto';
  t.style.height = `${Math.min(t.scrollHeight + 2, Math.round(window.innerHeight * 0.5))}px`;
  const max = catalog.limits.promptMaxLength || 1000;
  const n = cpLen(t.value);
  const c = $('#prompt-count');
  c.textContent = `${n} / ${max}`;
  c.classList.toggle('warn', n > max - 50 && n <= max);
  const over = n > max;
  if (over !== c.classList.contains('over')) {
    c.classList.toggle('over', over);
    if (over) announce(`The prompt is over the ${max} character limit.`);
  }
  t.setAttribute('aria-invalid', over ? 'true' : 'false');
  $('#btn-clear').disabled = n === 0;
}

async function clearPrompt() {
  const t = box();
  if (!t.value) return;
  if (cpLen(t.value) > 50) {
    const ok = await ask({
      title: 'Clear the prompt?', text: `This removes all ${cpLen(t.value)} characters of your prompt.`,
      yes: 'Clear', no: 'Keep it',
    });
    if (!ok) { t.focus(); return; }
  }
  t.value = '';
  typed = false;
  hideEnhance();
  refresh();
  t.focus();
  announce('Prompt cleared.');
}

// Prompt history: the last 20 generated prompts, newest first.
function history() { const h = load('history', []); return Array.isArray(h) ? h.filter((x) => typeof x === 'string') : []; }
function remember(prompt) {
  save('history', [prompt, ...history().filter((p) => p !== prompt)].slice(0, 20));
}

function toggleHistory(open) {
  const btn = $('#btn-history'), pop = $('#history-list');
  open = open ?? pop.hidden;
  btn.setAttribute('aria-expanded', String(open));
  pop.hidden = !open;
  if (!open) return;
  const items = history();
  pop.replaceChildren();
  if (!items.length) {
    pop.append(el('p', { class: 'muted small pad', text: 'No recent prompts yet. Prompts you generate appear here.' }));
    return;
  }
  const ul = el('ul', { class: 'hist', 'aria-label': 'Recent prompts' });
  for (const p of items) {
    ul.append(el('li', {}, el('button', {
      type: 'button', class: 'hist-item', title: p,
      onclick: async () => { toggleHistory(false); $('#btn-history').focus(); if (await setPrompt(p, { confirm: true, what: 'The recent prompt' })) focusPrompt(); },
    }, excerpt(p, 110))));
  }
  pop.append(ul, el('button', {
    type: 'button', class: 'link-btn pad', onclick: () => { save('history', []); toggleHistory(false); $('#btn-history').focus(); toast('Prompt history cleared.'); },
  }, 'Clear history'));
  ul.querySelector('button').focus();
}

async function inspire() {
  const { PROMPTS, pick } = await import('./prompts.js');
  const i = pick(lastInspired);
  const p = PROMPTS[i];
  if (!(await setPrompt(p.text, { confirm: true, what: 'Inspire me' }))) return;
  lastInspired = i;
  const note = $('#inspire-note');
  note.textContent = `Inspiration from “${p.category}”.`;
  note.hidden = false;
  hideEnhance();
  focusPrompt();
}

// Enhancement.
function enhancerState() {
  const note = $('#enhance-note');
  const btn = $('#btn-enhance');
  const off = catalog.enhancer && catalog.enhancer.available === false;
  btn.setAttribute('aria-disabled', String(!!off));
  if (off) {
    note.textContent = 'Prompt enhancement is not available on this server.';
    note.hidden = false;
    btn.setAttribute('aria-describedby', 'enhance-note');
  } else if (note.textContent.startsWith('Prompt enhancement is not')) {
    note.hidden = true;
    btn.removeAttribute('aria-describedby');
  }
}

function hideEnhance() {
  const p = $('#enhance-panel');
  p.hidden = true;
  p.replaceChildren();
  undoText = null;
}

async function enhance() {
  const btn = $('#btn-enhance');
  if (btn.getAttribute('aria-busy') === 'true') return;
  if (btn.getAttribute('aria-disabled') === 'true') {
    toast('Prompt enhancement is not available on this server.', 'error');
    return;
  }
  const original = box().value.trim();
  const max = catalog.limits.enhanceMaxLength || 500;
  if (!original) { toast('Type a prompt first, then Enhance improves it.'); focusPrompt(); return; }
  if (cpLen(original) > max) {
    showBanner($('#gen-banner'), { code: 'PROMPT_TOO_LONG' },
      { text: `Enhance works on prompts up to ${max} characters; this one has ${cpLen(original)}. Shorten it first.` });
    return;
  }
  btn.setAttribute('aria-busy', 'true');
  const label = btn.lastChild;
  label.textContent = 'Enhancing…';
  clearBanner($('#gen-banner'));
  try {
    const r = await post('/enhance', { prompt: original });
    const short = String(r.short_prompt || r.enhanced || '').trim();
    const long = String(r.long_prompt || r.enhanced || short).trim();
    if (!short && !long) throw Object.assign(new Error('empty'), { code: 'ENHANCE_FAILED' });
    showVariants(original, short || long, long || short);
  } catch (err) {
    if (err.code === 'ENHANCER_UNAVAILABLE') { catalog.enhancer = { available: false }; enhancerState(); }
    showBanner($('#gen-banner'), err, { retry: enhance });
  } finally {
    btn.setAttribute('aria-busy', 'false');
    label.textContent = 'Enhance';
  }
}

function showVariants(original, short, long) {
  const p = $('#enhance-panel');
  p.replaceChildren();
  const same = short === long;
  const choice = load('enhance.choice', 'short');
  const opts = same ? [['short', 'Enhanced', short]] : [['short', 'Short', short], ['long', 'Long', long]];
  const fs = el('fieldset', { class: 'variants' }, el('legend', { class: 'label', text: 'Enhanced prompt: pick a version' }));
  for (const [v, name, text] of opts) {
    fs.append(el('label', { class: 'variant' },
      el('input', { type: 'radio', name: 'variant', value: v, checked: same || v === choice }),
      el('span', {}, el('strong', { text: name }), el('span', { class: 'variant-text', text }))));
  }
  const use = el('button', {
    type: 'button', class: 'btn btn-primary', id: 'btn-use-variant',
    onclick: () => {
      const v = (p.querySelector('input[name=variant]:checked') || {}).value || 'short';
      save('enhance.choice', v);
      const text = v === 'long' ? long : short;
      box().value = text;
      typed = false;
      refresh();
      undoText = original;
      p.replaceChildren(el('div', { class: 'undo-row' },
        el('span', { text: 'Now using the enhanced prompt.' }),
        el('button', { type: 'button', class: 'btn', id: 'btn-undo-enhance', onclick: undoEnhance }, 'Undo'),
        el('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Hide', onclick: hideEnhance }, '×')));
      announce('Enhanced prompt applied. Undo is available.');
      focusPrompt();
    },
  }, 'Use this version');
  p.append(fs, el('div', { class: 'row' }, use,
    el('button', { type: 'button', class: 'btn btn-quiet', onclick: () => { hideEnhance(); focusPrompt(); } }, 'Dismiss')));
  p.hidden = false;
  (p.querySelector('input:checked') || use).focus();
  announce('Enhanced versions ready. Pick one and choose Use this version.');
}

function undoEnhance() {
  if (undoText === null) return;
  box().value = undoText;
  typed = true;
  refresh();
  hideEnhance();
  focusPrompt();
  announce('Original prompt restored.');
}

// Generate.
export async function generate() {
  if (busy) return;
  const banner = $('#gen-banner');
  if (banner.dataset.code === 'RATE_LIMIT_EXCEEDED' && Number(banner.dataset.until) > Date.now()) {
    banner.focus();
    announce(banner.textContent);
    return;
  }
  const prompt = box().value.trim();
  const max = catalog.limits.promptMaxLength || 1000;
  if (!prompt) { showBanner(banner, { code: 'PROMPT_REQUIRED' }); focusPrompt(); return; }
  if (cpLen(prompt) > max) { showBanner(banner, { code: 'PROMPT_TOO_LONG', maxLength: max }); focusPrompt(); return; }
  const pick = chosen();
  if (!pick.all && !pick.ids.length) {
    showBanner(banner, {}, { text: 'Choose at least one model to generate with.' });
    banner.dataset.code = 'NO_MODEL_CHOSEN';
    return;
  }
  busy = true;
  const btn = $('#btn-generate');
  btn.setAttribute('aria-busy', 'true');
  btn.textContent = 'Starting…';
  clearBanner(banner);
  try {
    const body = { prompt };
    if (!pick.all) body.models = pick.ids;
    const r = await post('/generate', body, { headers: { 'Idempotency-Key': uuid() } });
    remember(prompt);
    typed = false;
    track(r.jobId, { prompt, models: r.models || [], totalModels: r.totalModels });
    location.hash = `#/job/${encodeURIComponent(r.jobId)}`;
  } catch (err) {
    if (err.code === 'UNKNOWN_MODEL') loadModels();
    showBanner(banner, err, { retry: generate });
    if (err.code === 'PROMPT_TOO_LONG' || err.code === 'INAPPROPRIATE_CONTENT' || err.code === 'PROMPT_REQUIRED') focusPrompt();
  } finally {
    busy = false;
    btn.setAttribute('aria-busy', 'false');
    btn.textContent = 'Generate';
  }
}

// Finished-job signals, only if the person turned them on.
function setupSignals() {
  const sound = $('#opt-sound'), notify = $('#opt-notify');
  sound.checked = !!load('done.sound', false);
  notify.checked = !!load('done.notify', false) && 'Notification' in window && Notification.permission === 'granted';
  sound.addEventListener('change', () => save('done.sound', sound.checked));
  notify.addEventListener('change', async () => {
    if (notify.checked) {
      if (!('Notification' in window)) {
        notify.checked = false; toast('This browser cannot show notifications.', 'error'); return;
      }
      const perm = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
      if (perm !== 'granted') {
        notify.checked = false;
        toast('Notifications are blocked for this site in your browser settings.', 'error');
      }
    }
    save('done.notify', notify.checked);
  });
}

export function initComposer() {
  const t = box();
  t.addEventListener('input', () => { typed = true; refresh(); if (undoText !== null) hideEnhance(); });
  t.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !e.isComposing) { e.preventDefault(); clearPrompt(); }
  });
  $('#composer').addEventListener('submit', (e) => { e.preventDefault(); generate(); });
  $('#btn-clear').addEventListener('click', clearPrompt);
  $('#btn-inspire').addEventListener('click', inspire);
  $('#btn-enhance').addEventListener('click', enhance);
  $('#btn-history').addEventListener('click', () => toggleHistory());
  $('#history-list').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.stopPropagation(); toggleHistory(false); $('#btn-history').focus(); }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const items = [...$('#history-list').querySelectorAll('button')];
      const i = items.indexOf(document.activeElement);
      const n = items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length];
      if (n) { e.preventDefault(); n.focus(); }
    }
  });
  document.addEventListener('click', (e) => {
    if (!$('#history-list').hidden && !e.target.closest('.history')) toggleHistory(false);
  });
  document.addEventListener('focusin', (e) => {
    if (!$('#history-list').hidden && !e.target.closest('.history')) toggleHistory(false);
  });
  onCatalog(() => { refresh(); enhancerState(); });
  window.addEventListener('resize', refresh, { passive: true });
  setupSignals();
  refresh();
}
