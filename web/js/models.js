// The model picker: GET /models, one checkbox per model (all on by default), demo models marked,
// the choice remembered (as the set of models turned off, so new models start on).

import { get } from './api.js';
import { $, el, showBanner, clearBanner } from './ui.js';
import { describe } from './errors.js';
import { load, save } from './store.js';

export const catalog = {
  loaded: false,
  models: [],
  enhancer: null, // {available, provider, model} or null when unknown
  limits: { promptMaxLength: 1000, enhanceMaxLength: 500 },
};

const listeners = new Set();
export const onCatalog = (fn) => listeners.add(fn);

export async function loadModels() {
  const box = $('#model-list');
  try {
    const data = await get('/models');
    catalog.models = Array.isArray(data.models) ? data.models : [];
    catalog.enhancer = data.enhancer || { available: false };
    catalog.limits = { ...catalog.limits, ...(data.limits || {}) };
    catalog.loaded = true;
    render();
  } catch (err) {
    catalog.loaded = false;
    box.replaceChildren();
    const b = el('div', { class: 'banner banner-inline' });
    box.append(b);
    showBanner(b, err, { retry: loadModels, text: `Could not load the model list. ${describe(err).text} Generate still uses every model the server offers.` });
  }
  for (const fn of listeners) fn(catalog);
}

function render() {
  const box = $('#model-list');
  box.replaceChildren();
  const off = new Set(load('models.off', []));
  if (!catalog.models.length) {
    box.append(el('p', { class: 'muted', text: 'This server has no image models set up yet.' }));
    return;
  }
  for (const m of catalog.models) {
    const id = `model-${m.id}-${m.index}`.replace(/[^a-zA-Z0-9_-]/g, '_');
    box.append(el('label', { class: 'chip', for: id },
      el('input', {
        type: 'checkbox', id, value: m.id, checked: !off.has(m.id), onchange: remember,
      }),
      el('span', { class: 'chip-name', text: m.name || m.id }),
      m.demo ? el('span', { class: 'badge', title: 'Offline demo model: draws a pattern from the prompt, not a real AI picture' }, 'demo') : null,
    ));
  }
  if (catalog.models.length > 3) {
    box.append(el('span', { class: 'chip-tools' },
      el('button', { type: 'button', class: 'link-btn', onclick: () => setAll(true) }, 'All'),
      el('button', { type: 'button', class: 'link-btn', onclick: () => setAll(false) }, 'None')));
  }
  updateSummary();
}

function setAll(on) {
  for (const c of $('#model-list').querySelectorAll('input[type=checkbox]')) c.checked = on;
  remember();
}

function remember() {
  const off = [...$('#model-list').querySelectorAll('input[type=checkbox]')].filter((c) => !c.checked).map((c) => c.value);
  save('models.off', off);
  updateSummary();
  const b = $('#gen-banner');
  if (b.dataset.code === 'NO_MODEL_CHOSEN' && off.length < catalog.models.length) clearBanner(b);
}

function updateSummary() {
  const n = chosen().ids.length;
  $('#models legend').textContent = `Models (${n} of ${catalog.models.length})`;
}

/** {ids, all}: the chosen model ids; all=true when every model is on (or the list is unknown). */
export function chosen() {
  if (!catalog.loaded) return { ids: [], all: true, unknown: true };
  const boxes = [...$('#model-list').querySelectorAll('input[type=checkbox]')];
  const ids = boxes.filter((c) => c.checked).map((c) => c.value);
  return { ids, all: ids.length === boxes.length };
}
