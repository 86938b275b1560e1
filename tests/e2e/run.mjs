// Browser tests for the Pixel Prompt web UI: playwright-core drives Debian's Chromium (headless, no
// browser download) against the real binary with the offline demo models.
//
//   node run.mjs                 (from tests/e2e; PP_BIN defaults to build/pixelprompt at the repo root)
//   PP_BIN=/path/to/pixelprompt CHROMIUM=/usr/bin/chromium node run.mjs
//   UPDATE_SCREENSHOTS=1 node run.mjs   (rewrite docs/screenshot-*.png; otherwise they go to build/e2e/
//                                        and docs/ is only written when a file is missing)
//   node run.mjs --test-name-pattern=gallery   (one test)
//
// Each server gets a free port and its own temporary DATA_DIR. Exits non-zero when a test fails.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BIN = path.resolve(ROOT, process.env.PP_BIN || 'build/pixelprompt');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const OUT = path.join(ROOT, 'build', 'e2e');
const T = { timeout: 90000 };

// ---------------------------------------------------------------- servers

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Each server runs under a tiny shell guard that holds the read end of a pipe from this process:
// when the runner goes away for any reason (Ctrl+C, a closed output pipe, SIGKILL) the pipe closes
// and the guard stops the server. The guard and the server share their own process group.
const GUARD = 'exec 3<&0; "$0" serve & p=$!; (read _ <&3; kill $p 2>/dev/null) & r=$!; wait $p; rc=$?; kill $r 2>/dev/null; rm -rf "$DATA_DIR"; exit $rc';
const servers = [];

async function startServer(extraEnv = {}) {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-e2e-'));
  const env = {
    PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR || '/tmp',
    PORT: String(port), BIND: '127.0.0.1', DATA_DIR: dataDir,
    DEMO_LATENCY_MS: '400', IP_LIMIT: '1000', GLOBAL_LIMIT: '100000', LOG_LEVEL: process.env.LOG_LEVEL || 'WARNING',
    ...extraEnv,
  };
  const proc = spawn('/bin/sh', ['-c', GUARD, BIN], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const url = `http://127.0.0.1:${port}`;
  const srv = {
    url, proc, dataDir, env, log: () => log,
    async stop() {
      if (running()) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.stdin.end(); // the guard sends SIGTERM to the server
        await Promise.race([gone, sleep(5000)]);
        if (running()) { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } }
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  servers.push(srv);
  const deadline = Date.now() + 15000;
  for (;;) {
    if (!running()) throw new Error(`server exited with ${proc.exitCode ?? proc.signalCode}:\n${log}`);
    try {
      const r = await fetch(`${url}/models`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`server did not answer on ${url} within 15 s:\n${log}`);
    await sleep(100);
  }
  srv.models = (await (await fetch(`${url}/models`)).json());
  return srv;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(srv, method, p, body) {
  const r = await fetch(srv.url + p, {
    method, headers: body ? { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, headers: r.headers };
}

async function waitJob(srv, id, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const { json } = await api(srv, 'GET', `/status/${id}`);
    if (json && ['completed', 'partial', 'failed', 'cancelled'].includes(json.status)) return json;
    if (Date.now() > end) throw new Error(`job ${id} not finished: ${JSON.stringify(json)}`);
    await sleep(150);
  }
}

// ---------------------------------------------------------------- browser

let browser;
let main; // the default server (short demo latency)

before(async () => {
  if (!fs.existsSync(BIN)) throw new Error(`no server binary at ${BIN} (run make all, or set PP_BIN)`);
  fs.mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  main = await startServer();
});

after(async () => {
  if (browser) await browser.close();
  for (const s of servers) await s.stop();
});

/** A fresh context (own localStorage) and page; uncaught page errors fail the test. */
async function open(t, srv, { hash = '#/', viewport = { width: 1280, height: 800 }, colorScheme = 'light', config, permissions } = {}) {
  const ctx = await browser.newContext({ viewport, colorScheme, acceptDownloads: true, reducedMotion: 'reduce' });
  if (permissions) await ctx.grantPermissions(permissions, { origin: srv.url });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(`CSP: ${m.text()}`); });
  if (config) {
    await page.route('**/config.js', (r) => r.fulfill({
      contentType: 'text/javascript', body: `window.PIXEL_PROMPT_CONFIG = ${JSON.stringify({ apiBase: '', ...config })};`,
    }));
  }
  t.after(async () => {
    await ctx.close();
    assert.deepEqual(errors.map(String), [], 'uncaught errors in the page');
  });
  await page.goto(srv.url + '/' + hash);
  await page.waitForSelector('#model-list input, #model-list .banner, #model-list p', { state: 'attached' });
  return page;
}

async function typePrompt(page, text) {
  await page.fill('#prompt', text);
}

/** Generates from the UI; returns the job id from the URL. */
async function generate(page, prompt, how = 'click') {
  if (prompt !== undefined) await typePrompt(page, prompt);
  if (how === 'click') await page.click('#btn-generate');
  else { await page.focus('#prompt'); await page.keyboard.press('Control+Enter'); }
  await page.waitForURL(/#\/job\/[^/?]+/, { timeout: 15000 });
  return decodeURIComponent(/#\/job\/([^/?]+)/.exec(page.url())[1]);
}

async function waitFinished(page, ms = 30000) {
  await page.waitForFunction(() => /^(Finished|Cancelled|Failed)/.test(document.querySelector('#progress').textContent), null, { timeout: ms });
  return page.textContent('#progress');
}

async function allImagesDecoded(page, sel = '#cards img') {
  await page.waitForFunction((s) => [...document.querySelectorAll(s)].every((i) => i.complete), sel, { timeout: 15000 });
  return page.$$eval(sel, (xs) => xs.map((i) => ({ src: i.currentSrc || i.src, w: i.naturalWidth, h: i.naturalHeight })));
}

async function axeScan(page, label) {
  // Injected through the DevTools protocol: the page's Content-Security-Policy forbids inline scripts.
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join('\n    ')}`).join('\n');
  assert.equal(bad.length, 0, `axe (${label}):\n${text}`);
}

const modelCount = (srv) => srv.models.models.length;

// ---------------------------------------------------------------- tests

test('generate: one card per model, every image decoded, progress and gallery link', T, async (t) => {
  const page = await open(t, main);
  assert.equal(await page.title(), 'Pixel Prompt');
  assert.ok(await page.$('link[rel=icon][href$=".svg"]'));
  assert.ok((await page.getAttribute('meta[name=description]', 'content')).length > 50);
  const n = modelCount(main);
  assert.ok(n >= 1, 'server offers models');
  assert.equal(await page.$$eval('#model-list input[type=checkbox]:checked', (x) => x.length), n, 'all models on by default');
  if (main.models.models.some((m) => m.demo)) assert.ok(await page.$('#model-list .badge'), 'demo models are marked');

  const id = await generate(page, 'A lighthouse on a cliff at dawn, watercolour');
  assert.match(id, /^[0-9a-f-]{16,}$/i);
  assert.equal(await page.$$eval('#cards > li', (x) => x.length), n, 'one card per model');
  const progress = await waitFinished(page);
  assert.match(progress, new RegExp(`^Finished: ${n} of ${n} done`));
  const imgs = await allImagesDecoded(page);
  assert.equal(imgs.length, n);
  for (const i of imgs) assert.ok(i.w > 0 && i.h > 0, `decoded ${i.src}`);
  assert.equal(await page.$$eval('#cards .card-meta', (x) => x.filter((m) => /\d s/.test(m.textContent)).length), n, 'durations shown');
  assert.ok(await page.isVisible('#job-gallery-link'));
  assert.equal(await page.isVisible('#btn-cancel'), false);
  await page.waitForSelector('.toast-success');
});

test('live progress comes over SSE (one status read, then the event stream)', T, async (t) => {
  const page = await open(t, main);
  const seen = { status: 0, events: [] };
  page.on('request', (r) => {
    const p = new URL(r.url()).pathname;
    if (/^\/status\/[^/]+$/.test(p)) seen.status++;
  });
  page.on('response', (r) => {
    if (/\/status\/[^/]+\/events$/.test(new URL(r.url()).pathname)) seen.events.push([r.status(), r.headers()['content-type'] || '']);
  });
  await generate(page, 'A snowy owl gliding over a moonlit field');
  await waitFinished(page);
  assert.ok(seen.events.length >= 1, 'the page opened the event stream');
  assert.equal(seen.events[0][0], 200);
  assert.match(seen.events[0][1], /^text\/event-stream/);
  assert.ok(seen.status <= 2, `polling was not needed (status reads: ${seen.status})`);
});

test('Ctrl+Enter generates from inside the prompt box and from elsewhere on the page', T, async (t) => {
  const page = await open(t, main);
  await typePrompt(page, 'A red panda napping in a maple tree');
  const id1 = await generate(page, undefined, 'keys');
  await waitFinished(page);
  await page.goto(`${main.url}/#/`);
  await page.waitForSelector('#results', { state: 'hidden' });
  await page.click('#gen-title'); // focus away from the prompt box
  await page.keyboard.press('Control+Enter');
  await page.waitForURL((u) => /#\/job\//.test(u.hash) && !u.hash.includes(id1));
  await waitFinished(page);
});

test('model picker: choice is remembered and only chosen models run', T, async (t) => {
  const n = modelCount(main);
  if (n < 2) t.skip('needs two models');
  const page = await open(t, main);
  const first = await page.$('#model-list input[type=checkbox]');
  await first.uncheck();
  await page.reload();
  await page.waitForSelector('#model-list input');
  assert.equal(await page.$$eval('#model-list input:checked', (x) => x.length), n - 1, 'remembered after reload');
  await generate(page, 'A corgi in a yellow raincoat');
  assert.equal(await page.$$eval('#cards > li', (x) => x.length), n - 1);
  await waitFinished(page);
  await page.click('#nav-generate');
  await page.click('#model-list .chip-tools button:first-child').catch(() => {});
});

test('enhance: short and long variants, pick one, undo, then generate with it', T, async (t) => {
  const page = await open(t, main);
  if (!main.models.enhancer || !main.models.enhancer.available) {
    await page.waitForSelector('#enhance-note:not([hidden])');
    assert.match(await page.textContent('#enhance-note'), /not available/);
    return;
  }
  const original = 'a fox in the snow';
  await typePrompt(page, original);
  await page.click('#btn-enhance');
  await page.waitForSelector('#enhance-panel input[name=variant]');
  const variants = await page.$$eval('#enhance-panel .variant', (xs) => xs.map((x) => ({
    name: x.querySelector('strong').textContent, text: x.querySelector('.variant-text').textContent,
  })));
  assert.ok(variants.length >= 1);
  const pick = variants[variants.length - 1];
  await page.check(`#enhance-panel .variant:nth-child(${variants.length + 1}) input`);
  await page.click('#btn-use-variant');
  assert.equal(await page.inputValue('#prompt'), pick.text);
  assert.notEqual(pick.text, original);
  await page.click('#btn-undo-enhance');
  assert.equal(await page.inputValue('#prompt'), original, 'undo restores the original');

  await page.click('#btn-enhance');
  await page.waitForSelector('#btn-use-variant');
  await page.check(`#enhance-panel .variant:nth-child(${variants.length + 1}) input`);
  await page.click('#btn-use-variant');
  const used = await page.inputValue('#prompt');
  assert.equal(used, pick.text);
  await generate(page);
  await waitFinished(page);
  assert.equal(await page.textContent('#job-prompt'), used, 'the job ran with the enhanced prompt');
});

test('content filter: a blocked prompt gets a plain-language message', T, async (t) => {
  const page = await open(t, main);
  await typePrompt(page, 'nude');
  await page.click('#btn-generate');
  await page.waitForSelector('#gen-banner:not([hidden])');
  const text = await page.textContent('#gen-banner');
  assert.match(text, /content filter/i);
  assert.doesNotMatch(text, /INAPPROPRIATE_CONTENT/);
  assert.doesNotMatch(page.url(), /#\/job\//);
});

test('network failure offers Retry, and Retry works', T, async (t) => {
  const page = await open(t, main);
  await page.route('**/generate', (r) => r.abort('connectionrefused'));
  await typePrompt(page, 'A maglev train crossing a canyon');
  await page.click('#btn-generate');
  await page.waitForSelector('#gen-banner:not([hidden])');
  assert.match(await page.textContent('#gen-banner'), /Cannot reach the server/);
  await page.unroute('**/generate');
  await page.click('#gen-banner button:text("Retry")');
  await page.waitForURL(/#\/job\//);
  await waitFinished(page);
});

test('rate limit: 429 shows a countdown from Retry-After', T, async (t) => {
  const srv = await startServer({ IP_LIMIT: '1' });
  const page = await open(t, srv);
  await generate(page, 'A beekeeper in a sunlit orchard');
  await waitFinished(page);
  await page.click('#nav-generate');
  await typePrompt(page, 'A chess player deep in thought');
  await page.click('#btn-generate');
  await page.waitForSelector('#gen-banner:not([hidden]) .banner-sub');
  const text = await page.textContent('#gen-banner');
  assert.match(text, /generation limit/);
  assert.match(text, /Try again in \d/);
  const first = await page.textContent('#gen-banner .banner-sub');
  await page.waitForFunction((f) => document.querySelector('#gen-banner .banner-sub').textContent !== f, first, { timeout: 5000 });
  assert.notEqual(await page.textContent('#gen-banner .banner-sub'), first, 'the countdown ticks');
  // While the countdown runs, Generate does not send another request.
  let sent = 0;
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/generate') sent++; });
  await page.click('#btn-generate');
  await sleep(300);
  assert.equal(sent, 0);
});

test('cancel mid-job: unfinished models become cancelled', T, async (t) => {
  const srv = await startServer({ DEMO_LATENCY_MS: '15000' });
  const page = await open(t, srv);
  await generate(page, 'A castle on the back of a giant tortoise');
  await page.waitForSelector('#cards li[data-state="in_progress"] .elapsed');
  assert.match(await page.textContent('#cards li[data-state="in_progress"] .card-media'), /Working… \d+ s/);
  await page.waitForSelector('#btn-cancel:not([hidden])');
  await page.click('#btn-cancel');
  const p = await waitFinished(page, 15000);
  assert.match(p, /^Cancelled/);
  assert.ok(await page.$$eval('#cards li[data-state="cancelled"]', (x) => x.length) >= 1);
  assert.equal(await page.isVisible('#btn-cancel'), false);
  const { json } = await api(srv, 'GET', `/status/${/#\/job\/([^/?]+)/.exec(page.url())[1]}`);
  assert.ok(['cancelled', 'partial'].includes(json.status), json.status);
});

test('SSE blocked: the page falls back to polling and still finishes', T, async (t) => {
  const page = await open(t, main);
  let statusReads = 0, streams = 0;
  await page.route('**/status/*/events', (r) => { streams++; return r.abort('connectionreset'); });
  page.on('request', (r) => { if (/^\/status\/[^/]+$/.test(new URL(r.url()).pathname)) statusReads++; });
  await generate(page, 'A hummingbird at an orange flower');
  await waitFinished(page);
  assert.ok(streams >= 1, 'the stream was tried');
  assert.ok(statusReads >= 2, `polled (${statusReads} status reads)`);
  const imgs = await allImagesDecoded(page);
  assert.ok(imgs.every((i) => i.w > 0));
});

test('deep link: reload and a fresh visit to #/job/{id} restore the results; back/forward work', T, async (t) => {
  const page = await open(t, main);
  const id = await generate(page, 'Tide pools at low tide reflecting pink clouds');
  await waitFinished(page);
  const n = modelCount(main);
  await page.reload();
  await waitFinished(page);
  assert.equal((await allImagesDecoded(page)).filter((i) => i.w > 0).length, n);

  const page2 = await open(t, main, { hash: `#/job/${id}` });
  await waitFinished(page2);
  assert.equal((await allImagesDecoded(page2)).filter((i) => i.w > 0).length, n);
  assert.equal(await page2.inputValue('#prompt'), 'Tide pools at low tide reflecting pink clouds', 'the prompt box gets the job prompt');

  await page2.click('#nav-gallery');
  await page2.waitForSelector('#view-gallery:not([hidden])');
  await page2.goBack();
  await page2.waitForSelector('#results:not([hidden])');
  assert.match(page2.url(), new RegExp(`#/job/${id}`));
  await page2.goForward();
  await page2.waitForSelector('#view-gallery:not([hidden])');

  const page3 = await open(t, main, { hash: '#/job/00000000-0000-7000-8000-000000000000' });
  await page3.waitForSelector('#job-banner:not([hidden])');
  assert.match(await page3.textContent('#job-banner'), /could not be found/);
});

test('viewer: keyboard navigation, Esc closes, focus trapped and restored, shareable link', T, async (t) => {
  const page = await open(t, main, { permissions: ['clipboard-read', 'clipboard-write'] });
  await generate(page, 'A cosy bookshop with spiral staircases');
  await waitFinished(page);
  await allImagesDecoded(page);
  const names = await page.$$eval('#cards .card-name', (x) => x.map((n) => n.textContent));
  const opener = '#cards li:first-child button.card-media';
  await page.focus(opener);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#viewer[open]');
  assert.equal(await page.textContent('#viewer-title'), names[0]);
  await page.waitForFunction(() => document.querySelector('#viewer-img').naturalWidth > 0);
  const meta = await page.textContent('#viewer-meta');
  assert.match(meta, /Prompt.*cosy bookshop/);
  assert.match(meta, /Size\d+×\d+ pixels/);
  assert.match(meta, /Time to make[\d.]+ s/);
  if (names.length > 1) {
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.textContent('#viewer-title'), names[1]);
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.textContent('#viewer-title'), names[0]);
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.textContent('#viewer-title'), names[names.length - 1], 'wraps around');
    await page.keyboard.press('ArrowRight');
  }
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
    assert.ok(await page.evaluate(() => document.querySelector('#viewer').contains(document.activeElement)), 'focus stays in the viewer');
  }
  await page.click('#viewer-copy');
  await page.waitForSelector('.toast');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(link, /#\/job\/[^?]+\?image=\d+$/);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#viewer', { state: 'hidden' });
  assert.ok(await page.evaluate((s) => document.activeElement === document.querySelector(s), opener), 'focus back on the card');

  const page2 = await open(t, main, { hash: new URL(link).hash });
  await page2.waitForSelector('#viewer[open]');
  assert.equal(await page2.textContent('#viewer-title'), names[0], 'the shared link opens the same image');
});

test('download: file name carries the true extension and the bytes match', T, async (t) => {
  const page = await open(t, main);
  const id = await generate(page, 'Macarons arranged as a rainbow');
  await waitFinished(page);
  const { json } = await api(main, 'GET', `/status/${id}`);
  const r0 = json.results.find((r) => r.status === 'completed');
  const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' }[r0.contentType];
  assert.ok(ext, `known content type ${r0.contentType}`);
  await page.click(`#cards li[data-index="${r0.index}"] button.card-media`);
  await page.waitForSelector('#viewer[open]');
  assert.match(await page.textContent('#viewer-download'), new RegExp(`Download ${ext.toUpperCase()}`));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#viewer-download')]);
  const name = dl.suggestedFilename();
  assert.match(name, new RegExp(`^pixel-prompt-[a-z0-9-]+-[0-9a-f]{8}\\.${ext}$`));
  const bytes = fs.readFileSync(await dl.path());
  const magic = { png: [0x89, 0x50, 0x4e, 0x47], jpg: [0xff, 0xd8, 0xff], webp: [0x52, 0x49, 0x46, 0x46] }[ext];
  assert.deepEqual([...bytes.subarray(0, magic.length)], magic, 'downloaded bytes are the image');
  await page.keyboard.press('Escape');

  await page.goto(`${main.url}/#/gallery/${id}`);
  await page.waitForSelector('#btn-zip:not([hidden])');
  const [zip] = await Promise.all([page.waitForEvent('download'), page.click('#btn-zip')]);
  assert.match(zip.suggestedFilename(), /\.zip$/);
  const zb = fs.readFileSync(await zip.path());
  assert.equal(zb.subarray(0, 2).toString('latin1'), 'PK', 'a zip archive');
});

test('gallery: newest first, Load more pages with the cursor, detail and "Use this prompt"', T, async (t) => {
  const srv = await startServer({ DEMO_LATENCY_MS: '50' });
  const model = srv.models.models[0].id;
  const prompts = [];
  for (let i = 1; i <= 5; i++) {
    const p = `Gallery paging prompt number ${i}`;
    const r = await api(srv, 'POST', '/generate', { prompt: p, models: [model] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    await waitJob(srv, r.json.jobId);
    prompts.push(p);
    await sleep(20);
  }
  const page = await open(t, srv, { hash: '#/gallery', config: { galleryPageSize: 2 } });
  await page.waitForSelector('#gallery-grid .g-item');
  const texts = () => page.$$eval('#gallery-grid .g-prompt', (x) => x.map((n) => n.textContent));
  assert.deepEqual(await texts(), [prompts[4], prompts[3]]);
  assert.ok(await page.isVisible('#btn-more'));
  await page.click('#btn-more');
  await page.waitForFunction(() => document.querySelectorAll('#gallery-grid .g-item').length === 4);
  assert.ok(await page.evaluate(() => document.activeElement === document.querySelectorAll('#gallery-grid .g-item')[2]), 'focus moves to the first new entry');
  await page.click('#btn-more');
  await page.waitForFunction(() => document.querySelectorAll('#gallery-grid .g-item').length === 5);
  assert.deepEqual(await texts(), [...prompts].reverse());
  await page.waitForSelector('#btn-more', { state: 'hidden' });
  assert.match(await page.textContent('#gallery-grid .g-meta'), /1 image · /);
  assert.match(await page.textContent('#gallery-count'), /5 generations/);
  const thumbs = await allImagesDecoded(page, '#gallery-grid img');
  assert.ok(thumbs.length === 5 && thumbs.every((i) => i.w > 0), 'previews decoded');

  await page.click('#gallery-grid li:nth-child(2) .g-item');
  await page.waitForSelector('#detail-grid .card');
  assert.equal(await page.textContent('#detail-prompt'), prompts[3]);
  assert.ok((await page.textContent('#detail-grid .card-name')).length > 0, 'model name shown');
  await page.click('#btn-use-prompt');
  await page.waitForSelector('#view-generate:not([hidden])');
  assert.equal(await page.inputValue('#prompt'), prompts[3]);
  assert.match(page.url(), /#\/$/);
  await page.waitForFunction(() => document.activeElement.id === 'prompt');

  // A finished generation shows up in the gallery without a reload.
  await generate(page, 'Gallery refresh check');
  await waitFinished(page);
  await page.click('#nav-gallery');
  await page.waitForFunction(() => document.querySelector('#gallery-grid .g-prompt')?.textContent === 'Gallery refresh check');
});

test('composer: counter, Clear/Esc with confirmation, Inspire me, history, help, theme', T, async (t) => {
  const page = await open(t, main);
  assert.match(await page.textContent('#prompt-count'), /^0 \/ 1000$/);
  await page.click('#prompt');
  await page.keyboard.type('short');
  assert.equal(await page.textContent('#prompt-count'), '5 / 1000');
  await page.keyboard.press('Escape');
  assert.equal(await page.inputValue('#prompt'), '', 'Esc clears a short prompt at once');

  const long = 'A very long prompt that goes on and on, well past fifty characters in total';
  await page.fill('#prompt', long);
  await page.focus('#prompt');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-no');
  await page.waitForSelector('#confirm', { state: 'hidden' });
  assert.equal(await page.inputValue('#prompt'), long);
  await page.click('#btn-clear');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-yes');
  await page.waitForFunction(() => document.querySelector('#prompt').value === '' && document.activeElement.id === 'prompt');

  const h0 = await page.evaluate(() => document.querySelector('#prompt').offsetHeight);
  await page.fill('#prompt', 'line\n'.repeat(12));
  const h1 = await page.evaluate(() => document.querySelector('#prompt').offsetHeight);
  assert.ok(h1 > h0, 'the prompt box grows');
  await page.fill('#prompt', 'x'.repeat(1001));
  assert.match(await page.getAttribute('#prompt-count', 'class'), /over/);
  await page.fill('#prompt', '');

  await page.click('#btn-inspire');
  await page.waitForFunction(() => document.querySelector('#prompt').value.length > 10);
  const seen = [await page.inputValue('#prompt')];
  for (let i = 0; i < 6; i++) {
    await page.click('#btn-inspire');
    await page.waitForFunction((prev) => document.querySelector('#prompt').value !== prev, seen[seen.length - 1]);
    seen.push(await page.inputValue('#prompt'));
  }
  assert.match(await page.textContent('#inspire-note'), /Inspiration from/);
  await page.fill('#prompt', 'my own words');
  await page.click('#btn-inspire');
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-no');
  assert.equal(await page.inputValue('#prompt'), 'my own words', 'Inspire me asked before overwriting');

  await generate(page, 'History entry one');
  await waitFinished(page);
  await page.click('#nav-generate');
  await page.fill('#prompt', '');
  await page.click('#btn-history');
  await page.waitForSelector('#history-list .hist-item');
  assert.equal(await page.textContent('#history-list .hist-item'), 'History entry one');
  await page.keyboard.press('Enter');
  assert.equal(await page.inputValue('#prompt'), 'History entry one');

  await page.click('#gen-title');
  await page.keyboard.press('?');
  await page.waitForSelector('#help[open]');
  assert.match(await page.textContent('#help'), /Ctrl|⌘/);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#help', { state: 'hidden' });
  await page.keyboard.press('/');
  assert.ok(await page.evaluate(() => document.activeElement.id === 'prompt'), '/ focuses the prompt box');

  const theme = () => page.evaluate(() => document.documentElement.dataset.theme || 'system');
  assert.equal(await theme(), 'system');
  await page.click('#btn-theme');
  assert.equal(await theme(), 'light');
  await page.click('#btn-theme');
  assert.equal(await theme(), 'dark');
  await page.reload();
  assert.equal(await theme(), 'dark', 'theme choice is remembered');
  await page.click('#btn-theme');
  assert.equal(await theme(), 'system');
});

test('accessibility: axe finds no serious or critical issue in any view (light and dark)', T, async (t) => {
  const id = (await api(main, 'POST', '/generate', { prompt: 'Flamingos wading in a pink lagoon at sunrise' })).json.jobId;
  await waitJob(main, id);
  for (const colorScheme of ['light', 'dark']) {
    const page = await open(t, main, { colorScheme });
    await axeScan(page, `${colorScheme} generate`);
    await page.fill('#prompt', 'nude');
    await page.click('#btn-generate');
    await page.waitForSelector('#gen-banner:not([hidden])');
    await axeScan(page, `${colorScheme} generate with error`);
    await page.goto(`${main.url}/#/job/${id}`);
    await waitFinished(page);
    await allImagesDecoded(page);
    await axeScan(page, `${colorScheme} job results`);
    await page.click('#cards li:first-child button.card-media');
    await page.waitForSelector('#viewer[open]');
    await axeScan(page, `${colorScheme} viewer`);
    await page.keyboard.press('Escape');
    await page.click('#btn-help');
    await page.waitForSelector('#help[open]');
    await axeScan(page, `${colorScheme} shortcuts`);
    await page.keyboard.press('Escape');
    await page.click('#nav-gallery');
    await page.waitForSelector('#gallery-grid .g-item');
    await axeScan(page, `${colorScheme} gallery`);
    await page.click('#gallery-grid .g-item');
    await page.waitForSelector('#detail-grid .card');
    await axeScan(page, `${colorScheme} gallery detail`);
  }
});

test('screenshots at desktop and phone width', T, async (t) => {
  const id = (await api(main, 'POST', '/generate', { prompt: 'A glass greenhouse shaped like a cathedral, filled with giant ferns' })).json.jobId;
  await waitJob(main, id);
  const shots = [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]];
  for (const [name, viewport] of shots) {
    const page = await open(t, main, { hash: `#/job/${id}`, viewport });
    await waitFinished(page);
    await allImagesDecoded(page);
    await page.evaluate(() => { for (const n of document.querySelectorAll('.toast')) n.remove(); });
    if (name === 'desktop') await page.evaluate(() => window.scrollTo(0, document.querySelector('#composer').offsetTop - 12));
    else await page.evaluate(() => window.scrollTo(0, document.querySelector('#results').offsetTop - 12));
    const file = path.join(OUT, `screenshot-${name}.png`);
    await page.screenshot({ path: file });
    const doc = path.join(ROOT, 'docs', `screenshot-${name}.png`);
    if (process.env.UPDATE_SCREENSHOTS === '1' || !fs.existsSync(doc)) fs.copyFileSync(file, doc);
    assert.ok(fs.statSync(file).size > 10000);
  }
});
