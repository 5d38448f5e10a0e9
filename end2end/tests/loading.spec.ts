import { test as plain, expect } from "@playwright/test";
import { test, signIn, accessible, openLink } from "./helpers";

test("assets have content-hashed names, come brotli- or gzip-compressed and are cached for a year; pages are not cached", async ({ page, request }) => {
  const res = await page.goto("/login");
  expect(res!.headers()["cache-control"]).toBe("no-cache");
  const html = await res!.text();
  const assets = [...new Set([...html.matchAll(/\/pkg\/ordercast\.[A-Za-z0-9_-]{8,}\.(?:js|wasm|css)/g)].map((m) => m[0]))];
  expect(assets.map((a) => a.split(".").pop()).sort()).toEqual(["css", "js", "wasm"]);
  for (const path of assets) {
    const br = await request.get(path, { headers: { "Accept-Encoding": "br, gzip" } });
    expect(br.status(), path).toBe(200);
    expect(br.headers()["content-encoding"], path).toBe("br");
    expect(br.headers()["cache-control"], path).toBe("public, max-age=31536000, immutable");
    const gz = await request.get(path, { headers: { "Accept-Encoding": "gzip" } });
    expect(gz.headers()["content-encoding"], path).toBe("gzip");
  }
  // The staff pages' lazily loaded WASM chunks are hashed and compressed too.
  const baker = await request.post("/api/v1/auth/login", { data: { email: "baker@ordercast.test", password: "ordercast" } });
  expect(baker.ok()).toBeTruthy();
  const board = await (await request.get("/board")).text();
  const chunks = [...new Set([...board.matchAll(/\/pkg\/(?:chunk|split)_[A-Za-z0-9_]+\.[A-Za-z0-9_-]{8,}\.wasm/g)].map((m) => m[0]))];
  expect(chunks.length).toBeGreaterThan(0);
  for (const path of chunks) {
    const br = await request.get(path, { headers: { "Accept-Encoding": "br, gzip" } });
    expect(br.status(), path).toBe(200);
    expect(br.headers()["content-encoding"], path).toBe("br");
    expect(br.headers()["cache-control"], path).toBe("public, max-age=31536000, immutable");
  }
  // The page still hydrates from the hashed files.
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
});

test("a customer's page sends at most 250 KB of WASM (brotli), the budget a slow phone was given", async ({ device }) => {
  // Issue 10's budget, as Chromium counts the bytes a first visit receives, so that code which
  // would outgrow it fails here rather than in a later measurement (docs/BENCHMARKS.md: the
  // staff pages, which load more, are over it still and not checked here).
  for (const [who, path] of [["alice", "/shops/1"], ["alice", "/orders"], [null, "/login"]] as const) {
    const page = await device(); // a fresh cache each time, and no service worker yet
    if (who) {
      const login = await page.request.post("/api/v1/auth/login", { data: { email: `${who}@ordercast.test`, password: "ordercast" } });
      expect(login.ok()).toBeTruthy();
    }
    const wasm: Promise<number>[] = [];
    page.on("requestfinished", (request) => {
      if (new URL(request.url()).pathname.endsWith(".wasm")) wasm.push(request.sizes().then((s) => s.responseBodySize));
    });
    await page.goto(path);
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    const sizes = await Promise.all(wasm);
    expect(sizes.length, path).toBeGreaterThan(0);
    const sent = sizes.reduce((a, b) => a + b, 0);
    expect(sent, `${path}: ${sizes.join(" + ")} bytes of WASM`).toBeLessThanOrEqual(250_000);
  }
});

test("a tap on Add before the page is interactive is kept and counts once it is", async ({ page }) => {
  // Signed in through the API (the context shares its cookie), then the WASM is held back
  // until the tap has been made.
  const login = await page.request.post("/api/v1/auth/login", { data: { email: "alice@ordercast.test", password: "ordercast" } });
  expect(login.ok()).toBeTruthy();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\.wasm$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/shops/1");
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  const add = page.getByRole("button", { name: "Add Croissant" });
  await add.click();
  await expect(add).toHaveAttribute("aria-busy", "true");
  release();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator('li.product[data-product-id] .in-cart').filter({ hasText: "1 in cart" })).toHaveCount(1);
  await expect(add).not.toHaveAttribute("aria-busy", "true");
});

test("a page whose app cannot start says so after a while, with a way to reload; a started one never does", async ({ device }) => {
  for (const width of [360, 1280]) {
    // A first visit of its own each time: no service worker yet to fetch the code past the block.
    const page = await device({ width, height: 800 });
    // The banner waits 10 s by the stylesheet's clock; DevTools runs that clock 100 times faster.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Animation.enable");
    await cdp.send("Animation.setPlaybackRate", { playbackRate: 100 });
    await page.route(/\.wasm$/, (route) => route.abort());
    await page.goto("/login");
    const banner = page.locator(".not-started");
    await expect(banner).toBeVisible();
    await expect(banner).toContainText("Not live.");
    await expect(banner.getByRole("link", { name: "reload the page" })).toHaveAttribute("href", "");
    // Laid over the page, so nothing under it moved.
    expect(await banner.evaluate((el) => getComputedStyle(el).position)).toBe("fixed");
    await accessible(page, ".not-started");
    await page.screenshot({ path: test.info().outputPath(`not-started-${width}px.png`) });

    await page.unroute(/\.wasm$/);
    await page.reload();
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    // Taken out by the started app itself, not just not shown yet.
    await expect(banner).toBeHidden();
    expect(await banner.evaluate((el) => getComputedStyle(el).display)).toBe("none");
  }
});

test("a page whose app stops says so at once; a board reloads itself, but not again within a minute", async ({ device }) => {
  // What the browser reports when the app's code traps (a panic aborts the WASM; so does any
  // other fault): an uncaught WebAssembly.RuntimeError, here from a timer as from any callback.
  const trap = (page: import("@playwright/test").Page) =>
    page.evaluate(() => setTimeout(() => { throw new WebAssembly.RuntimeError("unreachable"); }));

  const shop = await device({ width: 360, height: 800 });
  await signIn(shop, "alice@ordercast.test", /\/shops$/);
  const banner = shop.locator(".crashed");
  await expect(banner).toBeHidden();
  await trap(shop);
  await expect(banner).toBeVisible();
  await expect(banner).toContainText("Something went wrong on this page, so it no longer updates.");
  await expect(banner.getByRole("link", { name: "Reload the page" })).toBeVisible();
  await expect(banner.getByText("reloads itself")).toBeHidden();
  await accessible(shop, ".crashed");
  await shop.screenshot({ path: test.info().outputPath("crashed-360px.png") });

  const board = await device({ width: 1280, height: 800 });
  await signIn(board, "baker@ordercast.test", /\/board$/);
  const reloaded = board.waitForEvent("load");
  await trap(board);
  await expect(board.locator(".crashed")).toContainText("It reloads itself in a few seconds.");
  await expect(board.locator(".crashed").getByRole("link")).toBeHidden();
  await accessible(board, ".crashed");
  await board.screenshot({ path: test.info().outputPath("crashed-board-1280px.png") });
  await reloaded;
  await expect(board.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(board.locator(".crashed")).toBeHidden();
  // Stopped again within the minute: it waits for someone rather than reload in a loop.
  await trap(board);
  await expect(board.locator("body")).toHaveAttribute("data-crashed", "true");
  await expect(board.locator(".crashed").getByRole("link", { name: "Reload the page" })).toBeVisible();
});

test("the cart survives a reload, sits in a bar pinned to the bottom of a phone and beside the products on a wide screen", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await signIn(page, "bob@ordercast.test", /\/shops$/);
  await openLink(page, "Corner Bakery");
  await page.getByRole("button", { name: "Add Rye bread" }).click();
  await page.getByRole("button", { name: "Add Rye bread" }).click();
  const bar = page.locator(".cart-bar");
  await expect(bar).toContainText("2 items");
  await expect(bar).toContainText("£9.60");
  await expect(bar).toBeInViewport();

  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator(".cart-total strong")).toHaveText("£9.60");
  await expect(page.locator(".cart-line")).toHaveText([/2 × Rye bread/]);
  await expect(bar).toBeInViewport();
  await accessible(page, ".shop-front");
  await page.screenshot({ path: test.info().outputPath("cart-bar-360px.png") });

  // Another shop has its own cart; the bakery's is still there when Bob comes back.
  await openLink(page, "Shops");
  await openLink(page, "Green Grocer");
  await expect(page.locator(".cart .empty")).toHaveText("Your cart is empty.");
  await openLink(page, "Shops");
  await openLink(page, "Corner Bakery");
  await expect(page.locator(".cart-total strong")).toHaveText("£9.60");

  // On a wide screen there is no bar: the cart stands beside the products, in view.
  await page.setViewportSize({ width: 1280, height: 800 });
  await expect(bar).toBeHidden();
  const front = await page.locator(".shop-front").boundingBox();
  const cart = await page.locator(".cart").boundingBox();
  expect(cart!.x).toBeGreaterThanOrEqual(front!.x + front!.width);
  expect(cart!.y).toBeLessThan(front!.y + 100);
  await expect(page.locator(".cart")).toBeInViewport();
  await page.screenshot({ path: test.info().outputPath("cart-1280px.png") });

  await page.getByRole("button", { name: "Remove one Rye bread" }).click();
  await page.getByRole("button", { name: "Remove one Rye bread" }).click();
  await expect(bar).toHaveCount(0);
});

// `plain`: this test provokes violations on purpose, which the suite's `test` would report.
plain("the page's policy refuses an injected inline script and being framed, and the page still hydrates", async ({ page }) => {
  const res = await page.goto("/login");
  const policy = res!.headers()["content-security-policy"];
  expect(policy).toContain("'wasm-unsafe-eval'");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(res!.headers()["x-content-type-options"]).toBe("nosniff");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const refused = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        document.addEventListener("securitypolicyviolation", (e) => resolve(e.violatedDirective), { once: true });
        const s = document.createElement("script");
        s.textContent = "window.__injected = true";
        document.head.append(s);
      }),
  );
  expect(refused).toBe("script-src-elem");
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();

  // A page framing the admin panel is refused it.
  const framingRefused = page.waitForEvent("console", (m) => m.text().includes("frame-ancestors 'none'"));
  await page.setContent(`<iframe src="${new URL("/admin", page.url()).href}"></iframe>`);
  await framingRefused;
});

test("every visit names all of its page's code in its head, so a phone fetches it side by side", async ({ page }) => {
  // A customer's page is one WASM file (the customers' islands are in the main one); a staff
  // page adds its island's chunks.
  const login = await page.request.post("/api/v1/auth/login", { data: { email: "admin@ordercast.test", password: "ordercast" } });
  expect(login.ok()).toBeTruthy();
  const preloads = (html: string) =>
    [...html.matchAll(/<link [^>]*>/g)]
      .map((m) => m[0])
      .filter((l) => l.includes('rel="preload"'))
      .map((l) => l.match(/href="([^"]+\.wasm)"/)?.[1])
      .filter((h): h is string => !!h)
      .sort();
  for (const [path, files] of [["/shops", 1], ["/shops/1", 1], ["/orders", 1], ["/admin", 2], ["/admin/users", 2]] as const) {
    // The same files every time (leptos's own preloads came with some responses only).
    const heads = [];
    for (let i = 0; i < 5; i++) heads.push(preloads(await (await page.request.get(path)).text()));
    expect(heads[0].length, path).toBeGreaterThanOrEqual(files);
    for (const head of heads) expect(head, path).toEqual(heads[0]);
    // And they are all the page needs: no WASM is fetched that the head did not name.
    const fetched = new Set<string>();
    const seen = (r: { url(): string }) => {
      if (r.url().endsWith(".wasm")) fetched.add(new URL(r.url()).pathname);
    };
    page.on("request", seen);
    await page.goto(path);
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    page.off("request", seen);
    expect([...fetched].filter((f) => !heads[0].includes(f)), path).toEqual([]);
  }
});

plain.describe("a viewer in Tokyo", () => {
  plain.use({ timezoneId: "Asia/Tokyo" });

  plain("a page tells the server the browser's time zone, so the next one arrives in local time", async ({ page, context }) => {
    const login = await page.request.post("/api/v1/auth/login", { data: { email: "alice@ordercast.test", password: "ordercast" } });
    expect(login.ok()).toBeTruthy();
    // The first visit cannot know the zone: UTC, labelled, until hydrated.
    const first = await (await page.request.get("/orders/1")).text();
    expect(first).toMatch(/\d\d:\d\d:\d\d UTC/);
    await page.goto("/orders/1");
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    expect((await context.cookies()).find((c) => c.name === "tz")?.value).toBe("Asia/Tokyo");
    const next = await (await page.request.get("/orders/1")).text();
    expect(next).not.toContain(" UTC");
    expect(next).toMatch(/\d\d:\d\d on \d{1,2} [A-Z][a-z]{2} \d{4}/);
  });
});
