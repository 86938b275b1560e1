// Talking to the Pixel Prompt API: JSON requests with a correlation id, typed errors, the SSE
// reader for job progress, and client error reports (POST /log).

const cfg = window.PIXEL_PROMPT_CONFIG || {};
export const apiBase = String(cfg.apiBase || '').replace(/\/+$/, '');
export const config = cfg;

/** Absolute or root-relative URL of an API path. */
export const apiUrl = (path) => apiBase + path;

/** A random UUID (v4); works outside secure contexts too. */
export function uuid() {
  if (window.crypto && crypto.randomUUID && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An error answer from the API, or a network failure (status 0, code NETWORK). */
export class ApiError extends Error {
  constructor(status, body = {}, retryAfter = 0) {
    const code = status === 0 ? 'NETWORK'
      : typeof body.error === 'string' && /^[A-Z_]+$/.test(body.error) ? body.error
      : status === 404 ? 'NOT_FOUND' : `HTTP_${status}`;
    super(typeof body.message === 'string' ? body.message : code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = retryAfter;
    this.maxLength = body.maxLength;
  }
}

function parseRetryAfter(res, body) {
  const h = res.headers.get('Retry-After');
  if (h) {
    const n = Number(h);
    if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
    const t = Date.parse(h);
    if (!Number.isNaN(t)) return Math.max(0, Math.ceil((t - Date.now()) / 1000));
  }
  const b = Number(body && body.retryAfter);
  return Number.isFinite(b) && b > 0 ? Math.ceil(b) : 0;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One API call. GETs are retried twice on network failure (1 s, 2 s). Resolves with the parsed
 * JSON body; rejects with ApiError.
 */
export async function request(method, path, { body, headers = {}, timeout = 30000, retries } = {}) {
  const tries = 1 + (retries ?? (method === 'GET' ? 2 : 0));
  const cid = uuid();
  for (let attempt = 0; ; attempt++) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeout);
    let res;
    try {
      const h = { 'X-Correlation-ID': cid, ...headers };
      if (body !== undefined) h['Content-Type'] = 'application/json';
      res = await fetch(apiUrl(path), {
        method, headers: h, signal: ctl.signal,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      clearTimeout(timer);
      if (attempt + 1 < tries) { await sleep(1000 * 2 ** attempt); continue; }
      throw new ApiError(0, { message: e && e.name === 'AbortError' ? 'timeout' : String(e) });
    }
    let data = null;
    try {
      const text = await res.text();
      data = text ? JSON.parse(text) : {};
    } catch { data = {}; }
    clearTimeout(timer);
    if (!res.ok) throw new ApiError(res.status, data || {}, parseRetryAfter(res, data));
    return data;
  }
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts) => request('POST', path, { ...opts, body });

/**
 * Follows GET /status/{id}/events with fetch (so heartbeats are visible and the answer's status
 * is known). Calls onJob(doc) per event. Resolves when the stream ends (or is aborted), rejects
 * when it cannot be opened. A silent stream (no byte, not even a heartbeat, for 40 s) is aborted.
 */
export async function streamJob(jobId, { onJob, signal, lastEventId }) {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  if (signal) signal.addEventListener('abort', stop, { once: true });
  let idle;
  const arm = () => { clearTimeout(idle); idle = setTimeout(stop, 40000); };
  arm();
  try {
    const headers = { Accept: 'text/event-stream', 'X-Correlation-ID': uuid() };
    // Last-Event-ID is not a CORS-safelisted header: send it only to the page's own origin.
    if (lastEventId && new URL(apiUrl('/'), location.href).origin === location.origin) headers['Last-Event-ID'] = lastEventId;
    const res = await fetch(apiUrl(`/status/${encodeURIComponent(jobId)}/events`), {
      headers, signal: ctl.signal, cache: 'no-store',
    });
    const type = res.headers.get('Content-Type') || '';
    if (!res.ok || !type.startsWith('text/event-stream') || !res.body) {
      throw new ApiError(res.ok ? 415 : res.status, {});
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let ev = { data: [], id: null };
    let last = lastEventId || null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      arm();
      buf += value;
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
        if (line === '') {
          if (ev.data.length) {
            if (ev.id !== null) last = ev.id;
            try { onJob(JSON.parse(ev.data.join('\n')), last); } catch (e) { reportError(e); }
          }
          ev = { data: [], id: null };
        } else if (line[0] !== ':') {
          const c = line.indexOf(':');
          const field = c < 0 ? line : line.slice(0, c);
          let v = c < 0 ? '' : line.slice(c + 1);
          if (v[0] === ' ') v = v.slice(1);
          if (field === 'data') ev.data.push(v);
          else if (field === 'id') ev.id = v;
        }
      }
    }
    return last;
  } catch (e) {
    if (ctl.signal.aborted && !(signal && signal.aborted)) throw new ApiError(0, { message: 'stream idle' });
    if (signal && signal.aborted) return null;
    throw e instanceof ApiError ? e : new ApiError(0, { message: String(e) });
  } finally {
    clearTimeout(idle);
    if (signal) signal.removeEventListener('abort', stop);
  }
}

// Client error reports: identical errors are sent at most once a minute; failures are ignored.
const recent = new Map();
export function reportError(err, metadata = {}) {
  try {
    const message = String((err && err.message) || err || 'unknown error').slice(0, 500);
    const stack = err && err.stack ? String(err.stack).slice(0, 4000) : undefined;
    const key = `${message}|${stack ? stack.split('\n')[1] || '' : ''}`;
    const now = Date.now();
    for (const [k, t] of recent) if (now - t > 60000) recent.delete(k);
    if (recent.has(key)) return;
    recent.set(key, now);
    const body = {
      level: 'ERROR', message, stack,
      metadata: {
        ...metadata, url: location.href, userAgent: navigator.userAgent,
        viewport: `${innerWidth}x${innerHeight}`, timestamp: new Date().toISOString(),
        errorName: err && err.name,
      },
    };
    fetch(apiUrl('/log'), {
      method: 'POST', keepalive: true,
      headers: { 'Content-Type': 'application/json', 'X-Correlation-ID': uuid() },
      body: JSON.stringify(body),
    }).catch(() => {});
  } catch { /* never let reporting break the page */ }
}
