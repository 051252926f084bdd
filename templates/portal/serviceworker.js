// Meldpunt Weerbaar Bestuur service worker. It never stores a page, an API answer or a
// download: only static files (/static/, public, no cookies needed) and the offline page,
// which is fetched without cookies. Everything else goes to the network as if there were no
// service worker; a page that cannot load shows the offline page.
const VERSION = "{{ version }}";
const CACHE = "mwb-static-" + VERSION;
const OFFLINE_URL = "{{ offline_url }}";
const STATIC_PREFIX = "{{ static_prefix }}";
const PRECACHE = {{ precache_json|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(PRECACHE.map((url) => new Request(url, { credentials: "omit" })));
      const offline = await fetch(new Request(OFFLINE_URL, { credentials: "omit" }));
      if (offline.ok) {
        await cache.put(OFFLINE_URL, offline);
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== CACHE) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

function storable(response) {
  // Only a complete, public answer of our own origin: never one marked private or no-store.
  const control = response.headers.get("Cache-Control") || "";
  return (
    response.ok &&
    response.type === "basic" &&
    !/no-store|private/.test(control)
  );
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(
      (async () => {
        const cache = await caches.open(CACHE);
        const cached = await cache.match(request);
        if (cached) {
          return cached;
        }
        const response = await fetch(new Request(request.url, { credentials: "omit" }));
        if (storable(response)) {
          await cache.put(request.url, response.clone());
        }
        return response;
      })(),
    );
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(async () => {
        const cache = await caches.open(CACHE);
        return (await cache.match(OFFLINE_URL)) || Response.error();
      }),
    );
  }
});
