// Where the API lives. Empty means the same origin (the binary serves this page and the API).
// A deployment that serves the page from a CDN overwrites this file with its API base URL,
// e.g. {apiBase: "https://abc123.execute-api.us-east-1.amazonaws.com"}.
// Optional: galleryPageSize (entries per "Load more", default 24).
window.PIXEL_PROMPT_CONFIG = {apiBase: ""};
