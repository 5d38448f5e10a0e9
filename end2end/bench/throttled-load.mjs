// A first visit on a throttled phone, measured in a real browser rather than simulated: the
// time until each page is interactive (`data-hydrated`) with a cold cache, under DevTools'
// applied throttling at Lighthouse's mobile settings (4x CPU slowdown, 150 ms round trips,
// 1.6 Mbit/s down, 750 kbit/s up). Median of `runs` visits per page.
// Usage: node end2end/bench/throttled-load.mjs [base URL] [runs] [--no-chunk-preloads]
// `--no-chunk-preloads` strips the page's preloads of its lazily loaded WASM chunks from the
// HTML, to measure what they are worth. Run against a release build
// (`cargo leptos build --release --split`) on a fresh database, directly (HTTP/1.1) or
// through an HTTPS proxy speaking HTTP/2 to the browser (e.g. nginx, `docs/nginx.conf` with
// `listen 8443 ssl http2`), as production would.
import { chromium } from "playwright-core";

const base = process.argv[2] ?? "http://127.0.0.1:3300";
const runs = Number(process.argv[3] ?? 3);
const strip = process.argv.includes("--no-chunk-preloads");
const pages = [["alice", "/shops"], ["alice", "/shops/1"], ["alice", "/orders"], ["alice", "/orders/1"], ["baker", "/board"], [null, "/login"]];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
console.log(`first visit until interactive, ${runs} runs each, median${strip ? ", chunk preloads stripped" : ""}`);
for (const [who, path] of pages) {
  const times = [];
  for (let run = 0; run < runs; run++) {
    // A self-signed certificate is accepted, for an HTTPS proxy on this machine (HTTP/2).
    const context = await browser.newContext({ viewport: { width: 412, height: 823 }, ignoreHTTPSErrors: true });
    if (who) {
      const r = await context.request.post(`${base}/api/v1/auth/login`, { data: { email: `${who}@ordercast.test`, password: "ordercast" } });
      if (!r.ok()) throw new Error(`login ${who}: ${r.status()}`);
    }
    const page = await context.newPage();
    if (strip) {
      await page.route((url) => url.pathname === new URL(path, base).pathname, async (route) => {
        const res = await route.fetch();
        const html = (await res.text()).replace(/<link [^>]*(chunk_|split_|__wasm_split)[^>]*>/g, "");
        await route.fulfill({ response: res, body: html });
      });
    }
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await page.goto(`${base}${path}`);
    await page.locator("body[data-hydrated='true']").waitFor({ timeout: 120_000 });
    times.push(await page.evaluate(() => performance.now()));
    await context.close();
  }
  times.sort((a, b) => a - b);
  console.log(`  ${path.padEnd(10)} ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s  (${times.map((t) => (t / 1000).toFixed(2)).join(", ")})`);
}
await browser.close();
