// Every API error code in plain language. describe(err) -> {text, retry}: text for people, and
// whether offering "Retry" makes sense.

const TEXT = {
  INVALID_JSON: 'The server could not read the request. Reload the page and try again.',
  PROMPT_REQUIRED: 'Type a prompt first: describe the picture you want.',
  PROMPT_TOO_LONG: 'That prompt is too long. Shorten it to {max} characters or fewer.',
  INAPPROPRIATE_CONTENT: 'The content filter blocked this prompt. Please try different wording.',
  JOB_NOT_FOUND: 'That generation could not be found. The link may be wrong or the job has expired.',
  RATE_LIMIT_EXCEEDED: 'You have reached the generation limit for now.',
  PAYLOAD_TOO_LARGE: 'That request was too large for the server. Shorten the prompt and try again.',
  UNKNOWN_MODEL: 'One of the chosen models is no longer offered. The model list has been refreshed; check your choice and try again.',
  NO_MODELS_CONFIGURED: 'This server has no image models set up yet, so it cannot make pictures.',
  SERVICE_UNAVAILABLE: 'The service is busy or down for a moment. Please try again shortly.',
  ENHANCER_UNAVAILABLE: 'Prompt enhancement is not available on this server. Your prompt is unchanged.',
  ENHANCE_FAILED: 'The enhancer could not improve this prompt right now. Your prompt is unchanged; try again in a moment.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on the server. Please try again.',
  NETWORK: 'Cannot reach the server. Check your connection, then retry.',
  NOT_FOUND: 'This server does not offer that feature.',
};

const RETRYABLE = new Set(['NETWORK', 'SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR', 'ENHANCE_FAILED',
  'RATE_LIMIT_EXCEEDED']);

export function describe(err, fallback = 'Something went wrong. Please try again.') {
  const code = (err && err.code) || '';
  let text = TEXT[code];
  if (!text) {
    text = err && err.status >= 500 ? TEXT.INTERNAL_SERVER_ERROR : fallback;
  }
  text = text.replace('{max}', String((err && err.maxLength) || 'the limit of'));
  const retry = RETRYABLE.has(code) || (err && err.status >= 500);
  return { code, text, retry };
}

/** Plain words for a single model's failure text (already sanitised by the server). */
export function modelError(raw) {
  const s = String(raw || '').trim();
  const l = s.toLowerCase();
  if (!s) return 'This model could not make an image.';
  if (/timed? ?out|deadline/.test(l)) return 'This model took too long and was stopped.';
  if (/interrupt/.test(l)) return 'The server restarted while this model was working.';
  if (/moderat|safety|content polic|inappropriate|blocked|nsfw/.test(l)) return 'This model refused the prompt (its safety filter).';
  if (/rate|quota|429|too many/.test(l)) return 'This model is over its usage limit right now.';
  if (/auth|api key|401|403|credential|unauthori[sz]ed/.test(l)) return 'This model is not set up correctly (access was refused).';
  if (/not an image|invalid image|decode/.test(l)) return 'This model sent back something that is not a picture.';
  return `This model could not make an image: ${s}`;
}

/** "1 h 02 min", "3 min 05 s", "42 s" */
export function formatWait(sec) {
  sec = Math.max(0, Math.round(sec));
  const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
  if (h) return `${h} h ${String(m).padStart(2, '0')} min ${String(s).padStart(2, '0')} s`;
  if (m) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${s} s`;
}
