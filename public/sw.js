// Ordercast's service worker: notifications from Web Push while no tab is open, and the app
// shell kept for opening offline.
//
// - Pages (navigations) go to the network first; each good answer is kept. Offline, the last
//   copy of that page is served, marked with when it was fetched
//   (`data-offline-copy` on <html>), so the app says it is not live and as of when.
// - Scripts, WASM and styles under /pkg/ have content-hashed names: served from the cache once
//   fetched. Icons and the manifest: the cache, refreshed in the background.
// - Nothing else is touched: the API, /ws and /sse always go to the network.
// - Signing out empties the kept pages (they hold the signed-in user's data).

const PAGES = "ordercast-pages-v1";
const ASSETS = "ordercast-assets-v1";
const SHELL = ["/manifest.webmanifest", "/favicon.svg", "/icons/icon-192.png"];
// The REST API's sign-out, and the menu's "Sign out" form (the server function `logout`).
const SIGN_OUT = ["/api/v1/auth/logout", "/api/logout"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(ASSETS).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

// Pages already open stay as they loaded (no `clients.claim()`): the worker serves the pages
// loaded after it, so a page never changes hands halfway through loading.
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== PAGES && k !== ASSETS).map((k) => caches.delete(k)))),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && SIGN_OUT.includes(url.pathname)) {
    event.respondWith(caches.delete(PAGES).then(() => fetch(request)));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith("/pkg/")) {
    event.respondWith(hashedAsset(request));
  } else if (SHELL.includes(url.pathname) || url.pathname.startsWith("/icons/")) {
    event.respondWith(refreshed(request));
  }
});

async function page(request) {
  try {
    const response = await fetch(request);
    if (response.ok && (response.headers.get("content-type") || "").startsWith("text/html")) {
      const copy = response.clone();
      const body = await copy.arrayBuffer();
      const headers = new Headers(copy.headers);
      headers.set("x-ordercast-fetched-at", new Date().toISOString());
      const cache = await caches.open(PAGES);
      await cache.put(request.url, new Response(body, { status: copy.status, headers }));
    }
    return response;
  } catch (offline) {
    const cache = await caches.open(PAGES);
    // Only this page's own copy: another page's HTML under this address would not hydrate.
    const kept = await cache.match(request.url);
    if (!kept) throw offline;
    const at = kept.headers.get("x-ordercast-fetched-at") || "";
    const html = (await kept.text()).replace(/<html([^>]*)>/, `<html$1 data-offline-copy="${at}">`);
    return new Response(html, { status: 200, headers: kept.headers });
  }
}

async function hashedAsset(request) {
  const cache = await caches.open(ASSETS);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function refreshed(request) {
  const cache = await caches.open(ASSETS);
  const kept = await cache.match(request);
  const fresh = fetch(request)
    .then((response) => {
      if (response.ok) cache.put(request, response.clone());
      return response;
    })
    .catch(() => kept);
  return kept || fresh;
}

// A push: what the server's notice says (app::domain::notice::Notice).
self.addEventListener("push", (event) => {
  let notice;
  try {
    notice = event.data ? event.data.json() : null;
  } catch (_) {
    notice = null;
  }
  if (!notice || !notice.title) notice = { title: "Ordercast", body: event.data ? event.data.text() : "", url: "/", tag: "ordercast" };
  event.waitUntil(
    self.registration.showNotification(notice.title, {
      body: notice.body,
      tag: notice.tag,
      renotify: true,
      requireInteraction: !!notice.urgent,
      icon: "/icons/icon-192.png",
      badge: "/icons/icon-192.png",
      data: { url: notice.url || "/" },
    }),
  );
});

// A tap on a notification: to the page it is about, in a tab of ours if one is open.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((tabs) => {
      const ours = tabs.find((t) => new URL(t.url).origin === self.location.origin);
      if (ours) return ours.navigate(url).then((t) => (t || ours).focus());
      return self.clients.openWindow(url);
    }),
  );
});
