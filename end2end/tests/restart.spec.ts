import { test, expect, type APIRequestContext } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

// This test runs its own server processes on their own ports and database, so it can stop
// and start them.
const ROOT = path.resolve(__dirname, "../..");
const DB_DIR = path.join(ROOT, "target/e2e-restart");
const PORT_A = 3200;
const PORT_B = 3201;

function startServer(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      path.join(ROOT, "target/release/ordercast"),
      ["--addr", `127.0.0.1:${port}`, "--database-url", `sqlite:${path.join(DB_DIR, "ordercast.db")}`],
      { cwd: ROOT, env: { ...process.env, RUST_LOG: "warn" }, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk.toString();
      if (out.includes("listening on ")) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`server on ${port} exited with ${code}: ${out}`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners("exit");
    child.on("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function token(request: APIRequestContext, base: string, email: string): Promise<string> {
  const res = await request.post(`${base}/api/v1/auth/login`, { data: { email, password: "ordercast" } });
  expect(res.ok()).toBeTruthy();
  return (await res.json()).token;
}

test.setTimeout(90_000);

test("a page shows it is reconnecting while the server is down and then the change made meanwhile", async ({ page, request }) => {
  fs.rmSync(DB_DIR, { recursive: true, force: true });
  fs.mkdirSync(DB_DIR, { recursive: true });
  const base = `http://127.0.0.1:${PORT_A}`;
  let server = await startServer(PORT_A);
  try {
    await page.goto(`${base}/login`);
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    await page.getByLabel("Email").fill("alice@ordercast.test");
    await page.getByLabel("Password").fill("ordercast");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/shops$/);
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    await page.getByRole("link", { name: "My orders" }).click();
    await expect(page.locator(".conn")).toHaveAttribute("data-state", "live");
    await page.evaluate(() => ((window as any).__sameDocument = true));
    const pending = page.locator("li.order:has(.status-pending)").first();
    const id = await pending.getAttribute("data-order-id");

    // The server goes away: the page says so.
    await stopServer(server);
    await expect(page.locator(".conn")).toHaveAttribute("data-state", /reconnecting|connecting/);
    await expect(page.locator(".conn-label")).toContainText("Reconnecting");

    // Meanwhile another server process on the same database changes the order.
    const other = await startServer(PORT_B);
    const baker = await token(request, `http://127.0.0.1:${PORT_B}`, "baker@ordercast.test");
    const res = await request.patch(`http://127.0.0.1:${PORT_B}/api/v1/orders/${id}/status`, {
      headers: { authorization: `Bearer ${baker}` },
      data: { status: "confirmed" },
    });
    expect(res.status()).toBe(200);
    await stopServer(other);

    // The page's server comes back; "Reconnect now" skips the rest of the backoff.
    server = await startServer(PORT_A);
    // (The button shows only while waiting for the next try; a try may be under way, or a
    // scheduled retry may have won the race already.)
    const retry = page.getByRole("button", { name: "Reconnect now" });
    await expect(async () => {
      if (await retry.isVisible()) await retry.click({ timeout: 1_000 }).catch(() => {});
      await expect(page.locator(".conn")).toHaveAttribute("data-state", "live", { timeout: 1_000 });
    }).toPass({ timeout: 40_000 });
    await expect(page.locator(`li.order[data-order-id="${id}"] .status`)).toHaveText("Confirmed");
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  } finally {
    await stopServer(server);
  }
});
