// What the service worker keeps for offline reloads, and how a room page registers it and
// puts itself in the cache.

/** The Cache Storage name for room pages and the assets they load. */
export const CACHE_NAME = "pairline-offline-v1";

/** Room pages (staff and candidate links) and bundled assets are kept; nothing else (the API, health, metrics). */
export function isCacheable(pathname: string): boolean {
  return /\/(r\/[^/]+|join\/[^/]+\/[^/]+)$/.test(pathname) || /\/assets\/[^/]+$/.test(pathname);
}

/**
 * Registers the service worker named by `<meta name="pairline-sw">` and stores this page
 * and the assets it loads, so that it opens again while the server is unreachable.
 * Failures only mean no offline reload; they are logged, never shown as errors.
 */
export async function keepPageForOffline(assetUrls: string[]): Promise<void> {
  const script = document.querySelector<HTMLMetaElement>('meta[name="pairline-sw"]')?.content;
  if (!script || !("serviceWorker" in navigator) || !("caches" in window)) return;
  try {
    const scope = new URL(".", new URL(script, location.href)).pathname;
    await navigator.serviceWorker.register(script, { scope });
    const cache = await caches.open(CACHE_NAME);
    const page = new URL(location.pathname, location.href).href;
    const assets = [
      ...document.querySelectorAll<HTMLScriptElement>("script[src]"),
      ...document.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"], link[rel="icon"]'),
    ].map((element) => ("src" in element ? element.src : element.href));
    await cache.addAll([page, ...new Set([...assets, ...assetUrls.map((url) => new URL(url, location.href).href)])]);
  } catch (err) {
    console.warn("This page cannot be kept for offline use:", err);
  }
}
