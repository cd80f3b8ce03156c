// Service worker: the app shell from cache (refreshed in the background), data from the network
// with the last copy kept, so a reload during an outage still shows the map and its layers.
// Base-map tiles (another origin) are left to the browser.
const SHELL = "mapsvc-shell-v6"; // bump when SHELL_FILES changes (tests/js/shell.test.js checks the list)
const DATA = "mapsvc-data-v1";
const MAX_DATA_ENTRIES = 600; // a few hours of panning; the oldest go first
const SHELL_FILES = [
  "/", "/config.json", "/manifest.webmanifest", "/icons/icon.svg",
  "/js/main.js", "/js/api.js", "/js/geo.js", "/js/text.js", "/js/map.js",
  "/js/permalink.js", "/js/ui.js", "/js/layers.js", "/js/history.js", "/js/selection.js",
  "/js/nearest.js", "/js/list.js", "/js/search.js", "/js/panel.js", "/js/share.js", "/js/live.js",
  "/vendor/viewer.js", "/vendor/leaflet/viewer.css", "/vendor/qrcode-generator/qrcode.mjs",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  const keep = new Set([SHELL, DATA]);
  event.waitUntil(
    caches.keys().then((names) => Promise.all(names.filter((n) => !keep.has(n)).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

async function trim(cache) {
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_DATA_ENTRIES)).map((k) => cache.delete(k)));
}

/**
 * A cached copy as it is served: marked (x-mapsvc-cached-at: the server's Date of the copy) so
 * that the viewer says "saved answer, from then" instead of passing it off as today's.
 */
function markedAsCached(cached) {
  const headers = new Headers(cached.headers);
  headers.set("x-mapsvc-cached-at", cached.headers.get("date") || "");
  return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
}

/**
 * Network first; on failure the last good copy, marked as such (data must be fresh when it can
 * be). Without a copy the failure goes through: the viewer says "could not check", never a
 * made-up answer.
 */
async function networkFirst(request) {
  const cache = await caches.open(DATA);
  try {
    const response = await fetch(request);
    if (response.ok) {
      await cache.put(request, response.clone());
      trim(cache);
    }
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) return markedAsCached(cached);
    throw error;
  }
}

/** The cached shell at once, refreshed in the background for the next visit. */
async function staleWhileRevalidate(event) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(event.request, { ignoreSearch: event.request.mode === "navigate" });
  const refresh = fetch(event.request).then((response) => {
    if (response.ok) cache.put(event.request, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(refresh.catch(() => null));
    return cached;
  }
  return refresh;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  // Staff pages are private and change with every action: never kept, never served from a cache
  // (v3 kept them as shell files and showed a page from before the publish).
  if (url.pathname === "/staff" || url.pathname.startsWith("/staff/")) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/config.json") {
    // Uploads and versions are never cached; only the public reads are.
    if (url.pathname.startsWith("/api/datasets")) return;
    event.respondWith(networkFirst(event.request));
  } else if (event.request.mode === "navigate" && url.pathname === "/") {
    event.respondWith(networkFirst(event.request).catch(() => caches.match("/")));
  } else {
    event.respondWith(staleWhileRevalidate(event));
  }
}
);
