// First load of `/` on the local server (the page the binary serves itself, demo models, empty
// gallery): bytes transferred with gzip, and Lighthouse scores.
//
//   node bench/first_load.mjs [--runs 3] [--no-lighthouse] [--bin build/pixelprompt]
//
// 1. Transfer: headless Debian Chromium through playwright-core (tests/e2e/node_modules), cold
//    cache, a fresh profile. Every request the page makes until the network has been idle for
//    1 s is recorded with the DevTools protocol (Network.loadingFinished encodedDataLength = bytes
//    on the wire, headers included; the response body size as sent, gzip where the server
//    compressed). Printed per resource, with the API calls listed separately.
// 2. Lighthouse 12.2.3 (bench/node_modules: `npm ci` in bench/) against the same server with
//    CHROME_PATH=/usr/bin/chromium, headless and no sandbox: performance, accessibility, best
//    practices and SEO, for the default (mobile, simulated throttling) and the desktop preset;
//    the median of --runs runs each (performance varies on a shared 2-core machine).
//
// Targets (issue 4): <= 60 KB transferred; each Lighthouse category >= 95.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const BIN = path.resolve(ROOT, opt('--bin', 'build/pixelprompt'));
const RUNS = Number(opt('--runs', '3'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROME_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

const e2eRequire = createRequire(path.join(ROOT, 'tests', 'e2e', 'package.json'));
const { chromium } = e2eRequire('playwright-core');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function startServer() {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-load-'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), BIND: '127.0.0.1',
    DATA_DIR: dataDir, LOG_LEVEL: 'WARNING' };
  const proc = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return { port, proc, dataDir, url: `http://127.0.0.1:${port}/` };
    } catch { /* not yet */ }
    if (proc.exitCode !== null) throw new Error(`server exited: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not start');
}

async function measureTransfer(url) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-chr-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROME_FLAGS.filter((f) => f !== '--headless=new'),
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const reqs = new Map();
    cdp.on('Network.requestWillBeSent', (e) => { reqs.set(e.requestId, { url: e.request.url, type: e.type }); });
    cdp.on('Network.responseReceived', (e) => {
      const r = reqs.get(e.requestId) || {};
      const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
      Object.assign(r, { status: e.response.status, encoding: h['content-encoding'] || '-',
        mime: e.response.mimeType, fromCache: e.response.fromDiskCache || false });
      reqs.set(e.requestId, r);
    });
    cdp.on('Network.dataReceived', (e) => {
      const r = reqs.get(e.requestId);
      if (r) r.body = (r.body || 0) + e.dataLength; // decoded bytes
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = reqs.get(e.requestId);
      if (r) r.wire = e.encodedDataLength;
    });
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'networkidle' });
    await page.waitForTimeout(1000);
    const loadMs = Date.now() - t0;
    const title = await page.title();
    return { reqs: [...reqs.values()].filter((r) => r.wire !== undefined), loadMs, title };
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function runLighthouse(url, preset) {
  const lh = path.join(HERE, 'node_modules', '.bin', 'lighthouse');
  if (!fs.existsSync(lh)) return { error: `lighthouse is not installed (${lh}); run npm ci in bench/` };
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-lh-')), 'report.json');
  const cmd = [url, '--output=json', `--output-path=${out}`, '--quiet',
    '--only-categories=performance,accessibility,best-practices,seo',
    `--chrome-flags=${CHROME_FLAGS.join(' ')}`];
  if (preset) cmd.push(`--preset=${preset}`);
  try {
    execFileSync(lh, cmd, { env: { ...process.env, CHROME_PATH: CHROMIUM }, stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 180000 });
  } catch (e) {
    return { error: String(e.stderr || e.message).slice(-800) };
  }
  const rep = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  const c = rep.categories;
  const a = rep.audits;
  const failed = [];
  for (const cat of Object.values(c)) {
    for (const ref of cat.auditRefs) {
      const au = a[ref.id];
      if (ref.weight > 0 && au && au.score !== null && au.score < 1) failed.push(`${cat.id}:${ref.id}(${au.score})`);
    }
  }
  return {
    version: rep.lighthouseVersion,
    scores: Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Math.round(v.score * 100)])),
    metrics: {
      FCP: a['first-contentful-paint']?.displayValue, LCP: a['largest-contentful-paint']?.displayValue,
      TBT: a['total-blocking-time']?.displayValue, CLS: a['cumulative-layout-shift']?.displayValue,
      SI: a['speed-index']?.displayValue, bytes: a['total-byte-weight']?.numericValue,
    },
    failed,
  };
}

async function main() {
  const srv = await startServer();
  console.log(`# first_load ${new Date().toISOString().slice(0, 16)}Z: ${srv.url} (${BIN}), Chromium ${
    execFileSync(CHROMIUM, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()}`);
  console.log(`# machine: ${os.cpus().length} cores (${os.cpus()[0].model}), shared by the browser and the server`);
  try {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await measureTransfer(srv.url));
    const r = runs[0];
    console.log(`\ntransfer, cold cache (run 1 of ${RUNS}; title "${r.title}", network idle after ${r.loadMs} ms):`);
    console.log('  wire B  body B  enc    status  url');
    let assets = 0; let api = 0;
    for (const q of r.reqs) {
      const u = new URL(q.url);
      const isApi = !/\.(html|css|js|svg|png|ico|webp|json|txt)$/.test(u.pathname) && u.pathname !== '/';
      if (isApi) api += q.wire; else assets += q.wire;
      console.log(`  ${String(q.wire).padStart(6)}  ${String(q.body ?? 0).padStart(6)}  ${q.encoding.padEnd(5)}  ${
        String(q.status).padEnd(6)}  ${u.pathname}${u.search}${isApi ? '   (API)' : ''}`);
    }
    const totals = runs.map((x) => x.reqs.reduce((s, q) => s + q.wire, 0));
    console.log(`  total ${r.reqs.length} requests: ${(assets + api)} B on the wire (${(assets / 1024).toFixed(1)} KiB page`
      + ` + assets, ${(api / 1024).toFixed(1)} KiB API calls); all runs: ${totals.join(', ')} B`);
    const kb = median(totals) / 1024;
    console.log(`  target <= 60 KB: ${kb <= 60 ? 'MET' : 'MISSED'} (${kb.toFixed(1)} KiB = ${(median(totals) / 1000).toFixed(1)} kB, median of ${RUNS})`);

    if (!args.includes('--no-lighthouse')) {
      for (const preset of [null, 'desktop']) {
        const rs = [];
        for (let i = 0; i < RUNS; i++) rs.push(runLighthouse(srv.url, preset));
        const bad = rs.find((x) => x.error);
        const label = preset || 'mobile (default)';
        if (bad) { console.log(`\nlighthouse ${label}: FAILED: ${bad.error}`); continue; }
        console.log(`\nlighthouse ${rs[0].version} ${label}, ${RUNS} runs:`);
        for (const cat of Object.keys(rs[0].scores)) {
          const xs = rs.map((x) => x.scores[cat]);
          const m = median(xs);
          console.log(`  ${cat.padEnd(15)} median ${m} (runs ${xs.join(', ')}) target >= 95: ${m >= 95 ? 'MET' : 'MISSED'}`);
        }
        console.log(`  run 1 metrics: ${JSON.stringify(rs[0].metrics)}`);
        const failed = [...new Set(rs.flatMap((x) => x.failed))];
        if (failed.length) console.log(`  audits below 1 (any run): ${failed.join(' ')}`);
      }
    }
  } finally {
    srv.proc.kill('SIGTERM');
    await new Promise((r) => srv.proc.once('exit', r));
    fs.rmSync(srv.dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
