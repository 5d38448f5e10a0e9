// Makes a Chromium profile that holds only a session cookie, for Lighthouse (lighthouse.sh):
// with the cookie in the browser's own jar, the page's WebSocket and fetches carry it as a
// signed-in visit's do. (Lighthouse's --extra-headers reaches the page's requests but not its
// WebSocket handshake: refused, the app checked the session and went to /login mid-audit.)
// Usage: node signed-in-profile.mjs <profile dir> <base URL> <name=value>
import { chromium } from "playwright-core";

const [dir, base, cookie] = process.argv.slice(2);
const [name, value] = cookie.split(/=(.*)/s);
const context = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
// With an expiry: a profile keeps no session cookies once closed.
await context.addCookies([{ name, value, url: base, httpOnly: true, sameSite: "Lax", expires: Math.floor(Date.now() / 1000) + 86400 }]);
await context.close();
