// localStorage with a prefix; never throws (private modes and full quotas just forget).

const P = 'pp.';

export function load(key, fallback) {
  try {
    const v = localStorage.getItem(P + key);
    return v === null ? fallback : JSON.parse(v);
  } catch { return fallback; }
}

export function save(key, value) {
  try { localStorage.setItem(P + key, JSON.stringify(value)); } catch { /* ignore */ }
}

// The theme is stored as a bare string so the inline script in index.html can read it early.
export function loadRaw(key) { try { return localStorage.getItem(P + key); } catch { return null; } }
export function saveRaw(key, v) {
  try { if (v === null) localStorage.removeItem(P + key); else localStorage.setItem(P + key, v); } catch { /* ignore */ }
}
