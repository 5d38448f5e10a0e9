import { test as base, expect, type Locator, type Page, type APIRequestContext, type BrowserContext } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

type Viewport = { width: number; height: number };

/**
 * Playwright's `test` with `device`: opens a page in a browser context of its own (another
 * user, or another device of the same user). The contexts close when the test ends, so no
 * page of a finished test keeps a socket, timers or a chime running.
 */
export const test = base.extend<{ device: (viewport?: Viewport) => Promise<Page>; cspViolations: string[] }>({
  // Every page of every test runs under the server's Content-Security-Policy: a script, style
  // or connection it refuses is a failure, reported after the test.
  cspViolations: [
    async ({}, use) => {
      const violations: string[] = [];
      await use(violations);
      expect(violations, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
  context: async ({ context, cspViolations }, use) => {
    watchCsp(context, cspViolations);
    await use(context);
  },
  device: async ({ browser, cspViolations }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (viewport) => {
      const context = await browser.newContext(viewport ? { viewport } : {});
      watchCsp(context, cspViolations);
      contexts.push(context);
      return await context.newPage();
    });
    for (const context of contexts) await context.close();
  },
});

/** Chromium reports what a Content-Security-Policy refused as a console error. */
function watchCsp(context: BrowserContext, violations: string[]) {
  context.on("console", (msg) => {
    if (msg.type() === "error" && msg.text().includes("Content Security Policy")) violations.push(msg.text());
  });
}

export const PASSWORD = "ordercast";

/**
 * Signs in through the form and waits for the landing page and a live socket. `base` is the
 * server's address when it is not the suite's own.
 */
export async function signIn(page: Page, email: string, landing: RegExp, base = "") {
  await page.goto(`${base}/login`);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(landing);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator(".conn")).toHaveAttribute("data-state", "live");
  // Any full page load from here on would drop this marker.
  await page.evaluate(() => ((window as any).__sameDocument = true));
}

/**
 * Chromium here allows sound; this makes the page's audio behave as a browser that blocks it:
 * suspended until a click on the page (each new document of the page starts blocked again).
 */
export async function blockSoundUntilClick(page: Page) {
  await page.addInitScript(() => {
    const Real = window.AudioContext;
    let allowed = false;
    window.addEventListener("click", () => (allowed = true), { capture: true });
    (window as any).AudioContext = class extends Real {
      get state() {
        return allowed ? super.state : "suspended";
      }
      resume() {
        return allowed ? super.resume() : new Promise<void>(() => {});
      }
    };
  });
}

/**
 * Follows the link named `name`: a page load (the server renders every page; the browser
 * hydrates its islands). Waits for the new page to be interactive, and live when signed in,
 * and marks it for `sameDocument`. `within` narrows where the link is looked for.
 */
export async function openLink(page: Page, name: string, within?: Locator) {
  await loadsPage(page, () => (within ?? page).getByRole("link", { name }).click());
}

/** Does `act`, which loads another page (a link, a form), and waits as `openLink` does. */
export async function loadsPage(page: Page, act: () => Promise<unknown>) {
  const loaded = page.waitForEvent("load");
  await act();
  await loaded;
  await pageLoaded(page);
}

/**
 * Waits for the page just loaded to be interactive, and live when signed in, and marks it for
 * `sameDocument`.
 */
export async function pageLoaded(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  if (await page.locator(".conn").count()) await expect(page.locator(".conn")).not.toHaveAttribute("data-state", "connecting");
  await page.evaluate(() => ((window as any).__sameDocument = true));
}

/** True while the page has not been reloaded since `signIn` or the last `openLink`. */
export async function sameDocument(page: Page): Promise<boolean> {
  return await page.evaluate(() => (window as any).__sameDocument === true);
}

export async function token(request: APIRequestContext, email: string, base = ""): Promise<string> {
  const res = await request.post(`${base}/api/v1/auth/login`, { data: { email, password: PASSWORD } });
  expect(res.ok()).toBeTruthy();
  return (await res.json()).token;
}

/** How far the page is wider than its viewport (0 when nothing overflows horizontally). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** `locator` lies wholly inside the viewport's width: read without scrolling anything sideways. */
export async function fitsWidth(page: Page, locator: Locator) {
  const box = await locator.boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  expect(box, "the element is on the page").not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(width);
}

/**
 * Moves the focus with Tab, as a keyboard user would, until it rests on the control whose
 * text or label is `name`; fails if Tab never reaches it.
 */
export async function tabTo(page: Page, name: string, maxPresses = 80) {
  for (let i = 0; i < maxPresses; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el ? (el.getAttribute("aria-label") ?? el.textContent ?? "").trim() : "";
    });
    if (focused === name) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

/** No serious or critical accessibility violation inside `selector` (axe-core). */
export async function accessible(page: Page, selector: string) {
  // A lazily loaded page renders after its code arrives, which can be after the URL and the live link.
  await expect(page.locator(selector).first()).toBeVisible();
  const results = await new AxeBuilder({ page }).include(selector).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

/**
 * A customer of its own (one per test file), so the orders placed through it stay out of the demo customers'
 * lists that other tests count.
 */
export let rushEmail = "";
export async function rushCustomer(request: APIRequestContext): Promise<string> {
  if (!rushEmail) {
    const admin = await token(request, "admin@ordercast.test");
    const email = `rush-${Date.now()}@ordercast.test`;
    const res = await request.post("/api/v1/users", {
      headers: { authorization: `Bearer ${admin}` },
      data: { email, name: "Rush Hour", role: "customer", password: "ordercast" },
    });
    expect(res.status()).toBe(201);
    rushEmail = email;
  }
  return await token(request, rushEmail);
}

/** A customer of their own, for a test whose orders must not show on the demo customers' pages. */
export async function newCustomer(request: APIRequestContext, name: string): Promise<{ email: string; token: string }> {
  const admin = await token(request, "admin@ordercast.test");
  const email = `${name.toLowerCase().replace(/\W+/g, "-")}-${Date.now()}@ordercast.test`;
  const res = await request.post("/api/v1/users", {
    headers: { authorization: `Bearer ${admin}` },
    data: { email, name, role: "customer", password: "ordercast" },
  });
  expect(res.status()).toBe(201);
  return { email, token: await token(request, email) };
}

/**
 * Places `n` one-item orders at the bakery; returns their ids, oldest first. Restocks first,
 * so the tests that place many orders never run the bakery out.
 */
export async function placeOrders(request: APIRequestContext, n: number): Promise<number[]> {
  const headers = { authorization: `Bearer ${await rushCustomer(request)}` };
  const products = (await (await request.get("/api/v1/shops/1/products", { headers })).json()).items;
  const baker = { authorization: `Bearer ${await token(request, "baker@ordercast.test")}` };
  for (const p of products) {
    const res = await request.patch(`/api/v1/products/${p.id}`, { headers: baker, data: { stock: p.stock + n } });
    expect(res.status()).toBe(200);
  }
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await request.post("/api/v1/orders", {
      headers,
      data: { shop_id: 1, items: [{ product_id: products[i % products.length].id, quantity: 1 }] },
    });
    expect(res.status()).toBe(201);
    ids.push((await res.json()).id);
  }
  return ids;
}

/** Cancels the orders a test placed, so later tests see the board as they expect it. */
export async function cancelOrders(request: APIRequestContext, ids: number[]) {
  const baker = await token(request, "baker@ordercast.test");
  for (const id of ids) {
    const res = await request.post(`/api/v1/orders/${id}/cancel`, { headers: { authorization: `Bearer ${baker}` }, data: {} });
    expect(res.status()).toBe(200);
  }
}

/** The repository's root, where the release build and its site are. */
export const ROOT = path.resolve(__dirname, "../..");

/**
 * A server process of its own on `port` with the SQLite file `dbFile` (for tests that stop and
 * start servers); resolves once it listens.
 */
export function startServer(port: number, dbFile: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "target/release/ordercast"), ["--addr", `127.0.0.1:${port}`, "--database-url", `sqlite:${dbFile}`], {
      cwd: ROOT,
      env: { ...process.env, RUST_LOG: "warn" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk.toString();
      if (out.includes("listening on ")) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`server on ${port} exited with ${code}: ${out}`)));
  });
}

/** Stops a server started by `startServer` (SIGTERM) and waits for it to exit. */
export function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners("exit");
    child.on("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
