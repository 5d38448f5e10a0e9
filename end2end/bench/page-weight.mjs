// What a first visit to each page downloads: the WASM (main bundle and the page's lazily loaded
// chunks) and the JS, as transferred (compressed) and as decoded, measured by Chromium itself
// (DevTools' Network.loadingFinished), with a cold cache and until the page is interactive.
// Usage: node end2end/bench/page-weight.mjs [base URL]
// Run against a release build (`cargo leptos build --release --split`), e.g.
// target/release/ordercast --addr 127.0.0.1:3300 --database-url sqlite:/tmp/weight.db
import { chromium } from "playwright-core";

const base = process.argv[2] ?? "http://127.0.0.1:3300";
const pages = [
  ["alice", "/shops"],
  ["alice", "/shops/1"],
  ["alice", "/orders"],
  ["alice", "/orders/1"],
  ["baker", "/board"],
  ["admin", "/admin"],
  ["admin", "/admin/users"],
  [null, "/login"],
];

async function cookieOf(who) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: `${who}@ordercast.test`, password: "ordercast" }),
  });
  if (!r.ok) throw new Error(`login ${who}: ${r.status}`);
  const [name, value] = r.headers.get("set-cookie").split(";")[0].split("=");
  return { name, value, url: base };
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox"] });
const kib = (n) => (n / 1024).toFixed(0).padStart(5);
console.log("page              wasm files  wasm KiB sent  wasm KiB decoded  js KiB sent");
for (const [who, path] of pages) {
  const context = await browser.newContext();
  if (who) await context.addCookies([await cookieOf(who)]);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const urls = new Map();
  const totals = { wasmFiles: 0, wasmSent: 0, wasmDecoded: 0, jsSent: 0 };
  cdp.on("Network.responseReceived", (e) => urls.set(e.requestId, e.response.url));
  cdp.on("Network.dataReceived", (e) => {
    if ((urls.get(e.requestId) ?? "").endsWith(".wasm")) totals.wasmDecoded += e.dataLength;
  });
  cdp.on("Network.loadingFinished", (e) => {
    const url = urls.get(e.requestId) ?? "";
    if (url.endsWith(".wasm")) {
      totals.wasmFiles += 1;
      totals.wasmSent += e.encodedDataLength;
    } else if (url.endsWith(".js")) {
      totals.jsSent += e.encodedDataLength;
    }
  });
  await page.goto(`${base}${path}`);
  await page.waitForSelector("body[data-hydrated=true]");
  console.log(
    `${path.padEnd(18)}${String(totals.wasmFiles).padStart(10)}${kib(totals.wasmSent).padStart(15)}${kib(totals.wasmDecoded).padStart(18)}${kib(totals.jsSent).padStart(13)}`,
  );
  await context.close();
}
await browser.close();
