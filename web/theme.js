// Applies a saved light/dark choice before the page paints (no flash). Classic script, no module.
try {
  var t = localStorage.getItem('pp.theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
} catch (e) { /* storage unavailable: follow the system */ }
