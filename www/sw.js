// Service worker: keeps the advisor usable offline once it has been loaded.
// The app shell, the wasm package, the model list and the listed model
// files are cached at install; any other same-origin GET is cached when fetched.
// Requests go to the network first so a running server's newer files win;
// the cache answers when the network does not.

const CACHE = 'ferrisk-v2';
const SHELL = [
  './',
  './index.html',
  './style.css',
  './app.js',
  './i18n.js',
  './charts.js',
  './tradeoff.js',
  './trust.js',
  './trusted-keys.json',
  './icon.svg',
  './pkg/index.js',
  './pkg/api.js',
  './pkg/csvfile.js',
  './pkg/csvtools.js',
  './pkg/worker.js',
  './pkg/ferrisk_wasm.js',
  './pkg/ferrisk_wasm_bg.wasm',
];

/** Caches the model list (the server's /models, else models/index.json) and every file it names. */
async function cacheModels(cache) {
  for (const list of ['./models', './models/index.json']) {
    try {
      const res = await fetch(list);
      if (!res.ok || !(res.headers.get('content-type') || '').includes('json')) continue;
      const models = await res.clone().json();
      if (!Array.isArray(models)) continue;
      await cache.put(list, res);
      const base = new URL(list, self.location.href);
      await Promise.all(
        models
          .filter((m) => m && typeof m.file === 'string')
          .map((m) => cache.add(new URL(m.file, base).href).catch(() => undefined)),
      );
      return;
    } catch {
      // Try the next list; offline use then covers what the page fetches later.
    }
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) =>
        Promise.all([...SHELL.map((url) => cache.add(url).catch(() => undefined)), cacheModels(cache)]),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok && res.type === 'basic') {
          const copy = res.clone();
          caches.open(CACHE).then((cache) => cache.put(req, copy));
        }
        return res;
      })
      .catch(() =>
        caches.match(req, { ignoreSearch: true }).then((hit) => {
          if (hit) return hit;
          if (req.mode === 'navigate') return caches.match('./index.html');
          return Response.error();
        }),
      ),
  );
});
