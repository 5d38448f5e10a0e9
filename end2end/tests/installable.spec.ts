import { expect, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { test, signIn, accessible, ROOT, startServer, stopServer, openLink } from "./helpers";

// The installable app: the manifest and service worker, notifications from pushes, and the
// shell that opens offline. What headless Chromium cannot do here: subscribe to a real push
// service (it needs Google's, over the internet) or receive a push from one. So a push is
// dispatched in the page's own service worker, and a subscription is stood in for where the
// switch makes one; the server's side of Web Push is tested against a fake push service in
// server/tests/api/push.rs.

/** Waits until the service worker is active, and reloads the page so that it is in charge of it. */
async function controlled(page: Page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => navigator.serviceWorker.controller !== null))) await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
}

test("the app is installable and a push shows a notification that opens the order", async ({ device }) => {
  const page = await device({ width: 360, height: 740 });
  await page.context().grantPermissions(["notifications"]);
  await signIn(page, "alice@ordercast.test", /\/shops$/);
  await openLink(page, "My orders");
  await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();
  await controlled(page);

  // What Chromium requires to offer installing: a manifest with icons and a start page, and a
  // service worker that answers fetches. (Playwright's contexts are incognito windows, where
  // Chromium offers no installing at all: that one reason is expected.)
  const cdp = await page.context().newCDPSession(page);
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  expect(installabilityErrors.map((e: { errorId: string }) => e.errorId).filter((id: string) => id !== "in-incognito")).toEqual([]);
  const manifest = await (await page.request.get("/manifest.webmanifest")).json();
  expect(manifest.display).toBe("standalone");
  expect(manifest.icons.map((i: { sizes: string }) => i.sizes)).toContain("512x512");

  // The switch is there, named for what it does, and accessible.
  const toggle = page.getByRole("switch", { name: "Notify me on this device" });
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await expect(toggle).toBeEnabled();
  await accessible(page, ".push-switch");

  // A push arrives while no tab needs to be open: the worker's own push handler runs on a
  // push event carrying the server's notice. (Dispatched in the worker rather than through
  // DevTools' push delivery, which names its target by a registration id read from events
  // that, in a long run with many browser contexts, could name another context's worker;
  // a push delivered there showed nothing here.)
  const worker = page.context().serviceWorkers()[0] ?? (await page.context().waitForEvent("serviceworker"));
  expect(await worker.evaluate(() => (self as any).registration.active?.state)).toBe("activated");
  const notice = { title: "Order #5 is ready", body: "Your order is ready at Corner Bakery.", url: "/orders/5", tag: "order-5", seq: 99 };
  // A push event made here is not a trusted one, so its `waitUntil` would throw: the test
  // keeps what the handler hands to it instead, waits for that (the notification shown, or
  // why not), then reads what the worker has on show.
  const shown = await worker.evaluate(async (data) => {
    const g = self as any;
    const event = new g.PushEvent("push", { data });
    const pending: Promise<unknown>[] = [];
    Object.defineProperty(event, "waitUntil", { value: (p: Promise<unknown>) => pending.push(p) });
    g.dispatchEvent(event);
    await Promise.all(pending);
    const notes = await g.registration.getNotifications();
    return { waited: pending.length, notes: notes.map((n: any) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url })) };
  }, JSON.stringify(notice));
  expect(shown).toEqual({ waited: 1, notes: [{ title: notice.title, body: notice.body, tag: notice.tag, url: notice.url }] });
  // The page sees it too: it is this origin's notification, not the worker's alone.
  const listed = () => page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => n.tag));
  await expect.poll(listed).toEqual([notice.tag]);
  await page.screenshot({ path: test.info().outputPath("orders-push-switch-360px.png") });
});

test("turning notifications on registers this device with the server, and turning them off forgets it", async ({ device }) => {
  const page = await device({ width: 360, height: 740 });
  await page.context().grantPermissions(["notifications"]);
  // Headless Chromium has no push service to subscribe with, so the browser's half is stood
  // in for: a subscription as a browser makes one (`toJSON()`: endpoint, keys). The server's
  // half, pushing to it, is tested against a fake push service in server/tests/api/push.rs.
  await page.addInitScript(() => {
    const b64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const json = { endpoint: "https://push.invalid/ordercast-e2e", expirationTime: null, keys: { p256dh: b64([4, ...Array(64).fill(7)]), auth: b64(Array(16).fill(9)) } };
    let current: unknown = null;
    const made = Object.create(PushSubscription.prototype, {
      endpoint: { value: json.endpoint },
      toJSON: { value: () => json },
      unsubscribe: { value: async () => ((current = null), true) },
    });
    PushManager.prototype.subscribe = async () => (current = made);
    PushManager.prototype.getSubscription = async () => current as PushSubscription | null;
  });
  await signIn(page, "alice@ordercast.test", /\/shops$/);
  await openLink(page, "My orders");
  await controlled(page);
  const mine = async () => (await (await page.request.get("/api/v1/push/subscriptions")).json()).items;
  expect(await mine()).toEqual([]);

  const toggle = page.getByRole("switch", { name: "Notify me on this device" });
  await expect(toggle).toBeEnabled();
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  expect(await mine()).toEqual([expect.objectContaining({ endpoint: "https://push.invalid/ordercast-e2e", device: expect.stringMatching(/^Chrome on /) })]);
  await expect(page.locator(".push-note")).toHaveCount(0);

  // Turning off while the server cannot take it: the switch stays on and says so (the
  // server would go on pushing here), and trying again finishes the job.
  await page.route("**/api/v1/push/subscriptions/*", (route) =>
    route.request().method() === "DELETE" ? route.fulfill({ status: 503, body: "" }) : route.fallback(),
  );
  await toggle.click();
  await expect(page.locator(".push-note")).toContainText("still on");
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await expect(toggle).toBeEnabled();
  expect(await mine()).toHaveLength(1);
  await accessible(page, ".push-switch");
  await page.screenshot({ path: test.info().outputPath("orders-push-still-on-360px.png") });
  await page.unroute("**/api/v1/push/subscriptions/*");

  // While it works the switch is off and disabled; done, it is enabled again.
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await expect(toggle).toBeEnabled();
  await expect(page.locator(".push-note")).toHaveCount(0);
  expect(await mine()).toEqual([]);
});

test("turning notifications on says why when this browser cannot reach a push service", async ({ device }) => {
  const page = await device({ width: 1280, height: 800 });
  await page.context().grantPermissions(["notifications"]);
  await signIn(page, "bob@ordercast.test", /\/shops$/);
  await openLink(page, "My orders");
  await controlled(page);
  const toggle = page.getByRole("switch", { name: "Notify me on this device" });
  await toggle.click();
  // Headless Chromium has no push service: the switch stays off and says so in words.
  await expect(page.locator(".push-note")).toContainText("push service", { timeout: 20_000 });
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await accessible(page, ".push-switch");
  await page.screenshot({ path: test.info().outputPath("orders-push-failed-1280px.png") });
});

// Its own server, so that it can be stopped while the page is open.
const DB_DIR = path.join(ROOT, "target/e2e-offline");
const PORT = 3202;

test("the installed app opens offline with the last data it had, marked as not live", async ({ device }) => {
  test.setTimeout(60_000);
  fs.rmSync(DB_DIR, { recursive: true, force: true });
  fs.mkdirSync(DB_DIR, { recursive: true });
  const server = await startServer(PORT, path.join(DB_DIR, "ordercast.db"));
  const base = `http://127.0.0.1:${PORT}`;
  const pages: { page: Page; orders: number; width: number }[] = [];
  try {
    for (const viewport of [{ width: 360, height: 740 }, { width: 1280, height: 800 }]) {
      const page = await device(viewport);
      await signIn(page, "alice@ordercast.test", /\/shops$/, base);
      await controlled(page);
      // Opened once with the service worker in charge: the page and its assets are kept.
      await page.goto(`${base}/orders`);
      await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
      await expect(page.locator(".conn")).toHaveAttribute("data-state", "live");
      const orders = await page.locator("li.order").count();
      expect(orders).toBeGreaterThan(0);
      // A full load of a lazily loaded page shows times in the viewer's zone once hydrated.
      await expect(page.locator("li.order time").first()).not.toContainText("UTC");
      await expect(page.locator(".offline-copy")).toHaveCount(0);
      pages.push({ page, orders, width: viewport.width });
    }
  } finally {
    await stopServer(server);
  }
  // The server is gone (as for a phone with no network): the app opens from what was kept,
  // works (hydrated), and says it is not live and as of when.
  for (const { page, orders, width } of pages) {
    await page.reload();
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    await expect(page.locator(".offline-copy")).toContainText("Offline copy, not live.");
    await expect(page.locator("li.order")).toHaveCount(orders);
    await expect(page.locator("li.order time").first()).not.toContainText("UTC");
    await expect(page.locator(".conn")).not.toHaveAttribute("data-state", "live");
    await accessible(page, ".offline-copy");
    await page.screenshot({ path: test.info().outputPath(`offline-copy-${width}px.png`) });
  }
});

test("signing out from the menu forgets the pages kept for offline use", async ({ device }) => {
  const page = await device({ width: 1280, height: 800 });
  await signIn(page, "alice@ordercast.test", /\/shops$/);
  await controlled(page);
  await page.goto("/orders");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const kept = () =>
    page.evaluate(async () => {
      const cache = await caches.open("ordercast-pages-v1");
      return (await cache.keys()).map((r) => new URL(r.url).pathname).sort();
    });
  // Alice's orders are kept, as the offline test relies on.
  expect(await kept()).toContain("/orders");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  // Only the sign-in page the sign-out led to: nothing of hers is left on this device.
  expect(await kept()).toEqual(["/login"]);
});
