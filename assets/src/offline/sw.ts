// The service worker: lets a room page that was open once load again while the server
// (or the network) is down, so its unsynced edits, kept in IndexedDB by the sync worker,
// are back on screen and go out when the server returns. Pages are fetched from the
// network first; content-hashed assets never change and come from the cache first. The
// room page itself puts its URL and assets in the cache (see ./cache.ts).
/// <reference lib="webworker" />
import { CACHE_NAME, isCacheable } from "./cache";

declare const self: ServiceWorkerGlobalScope;

self.addEventListener("install", () => {
  void self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !isCacheable(url.pathname)) return;
  event.respondWith(url.pathname.includes("/assets/") ? cacheFirst(request) : networkFirst(request));
});

/** The network's answer (kept for later), or the kept copy when the network fails. */
async function networkFirst(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE_NAME);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const kept = await cache.match(request, { ignoreSearch: true });
    if (kept) return kept;
    throw err;
  }
}

async function cacheFirst(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE_NAME);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
