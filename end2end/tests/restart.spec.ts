import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { execFileSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test, signIn, sameDocument, token, ROOT, startServer as startOwnServer, stopServer, openLink } from "./helpers";

// This test runs its own server processes on their own ports and database, so it can stop
// and start them.
const DB_DIR = path.join(ROOT, "target/e2e-restart");
const PORT_A = 3200;
const PORT_B = 3201;

function startServer(port: number): Promise<ChildProcess> {
  return startOwnServer(port, path.join(DB_DIR, "ordercast.db"));
}

/**
 * What the server's hourly housekeeping does to events older than the retention, done now
 * (with the servers stopped): delete every event so far and move the horizon past them.
 */
function pruneAllEvents() {
  const script = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(through,) = db.execute("SELECT MAX(seq) FROM events").fetchone()
db.execute("DELETE FROM events WHERE seq <= ?", (through,))
db.execute("UPDATE event_horizon SET pruned_through = MAX(pruned_through, ?) WHERE id = 1", (through,))
db.commit()
`;
  execFileSync("python3", ["-c", script, path.join(DB_DIR, "ordercast.db")]);
}

/** A fresh database, its server on PORT_A, and Alice's orders page: the id of a pending order. */
async function aliceOnHerOrders(page: Page): Promise<{ server: ChildProcess; id: string }> {
  fs.rmSync(DB_DIR, { recursive: true, force: true });
  fs.mkdirSync(DB_DIR, { recursive: true });
  const server = await startServer(PORT_A);
  await signIn(page, "alice@ordercast.test", /\/shops$/, `http://127.0.0.1:${PORT_A}`);
  await openLink(page, "My orders");
  const id = await page.locator("li.order:has(.status-pending)").first().getAttribute("data-order-id");
  expect(id).not.toBeNull();
  return { server, id: id! };
}

/** The baker confirms order `id` through a second server process on the same database. */
async function confirmElsewhere(request: APIRequestContext, id: string) {
  const other = await startServer(PORT_B);
  try {
    const baker = await token(request, "baker@ordercast.test", `http://127.0.0.1:${PORT_B}`);
    const res = await request.patch(`http://127.0.0.1:${PORT_B}/api/v1/orders/${id}/status`, {
      headers: { authorization: `Bearer ${baker}` },
      data: { status: "confirmed" },
    });
    expect(res.status()).toBe(200);
  } finally {
    await stopServer(other);
  }
}

/** Waits for the page to be live again, pressing "Reconnect now" whenever it is offered. */
async function reconnected(page: Page) {
  // (The button shows only while waiting for the next try; a try may be under way, or a
  // scheduled retry may have won the race already.)
  const retry = page.getByRole("button", { name: "Reconnect now" });
  await expect(async () => {
    if (await retry.isVisible()) await retry.click({ timeout: 1_000 }).catch(() => {});
    await expect(page.locator(".conn")).toHaveAttribute("data-state", "live", { timeout: 1_000 });
  }).toPass({ timeout: 40_000 });
}

test.setTimeout(90_000);

test("a page shows it is reconnecting while the server is down and then the change made meanwhile", async ({ page, request }) => {
  let { server, id } = await aliceOnHerOrders(page);
  try {
    // The server goes away: the page says so.
    await stopServer(server);
    await expect(page.locator(".conn")).toHaveAttribute("data-state", /reconnecting|connecting/);
    await expect(page.locator(".conn-label")).toContainText("Reconnecting");

    // Meanwhile another server process on the same database changes the order.
    await confirmElsewhere(request, id);

    // The page's server comes back; the page replays what it missed.
    server = await startServer(PORT_A);
    await reconnected(page);
    await expect(page.locator(`li.order[data-order-id="${id}"] .status`)).toHaveText("Confirmed");
    expect(await sameDocument(page)).toBe(true);
  } finally {
    await stopServer(server);
  }
});

test("a page away longer than the server keeps events reloads its data in place", async ({ page, request }) => {
  let { server, id } = await aliceOnHerOrders(page);
  const resyncs: string[] = [];
  page.on("websocket", (ws) =>
    ws.on("framereceived", (frame) => {
      if (typeof frame.payload === "string" && frame.payload.includes('"resync_required"')) resyncs.push(frame.payload);
    }),
  );
  try {
    await stopServer(server);
    await expect(page.locator(".conn-label")).toContainText("Reconnecting");
    await confirmElsewhere(request, id);
    // The events the page missed are pruned before it comes back: the server answers its
    // `resume` with `resync_required`, and the page refetches its list instead of replaying.
    pruneAllEvents();

    server = await startServer(PORT_A);
    await reconnected(page);
    await expect(page.locator(`li.order[data-order-id="${id}"] .status`)).toHaveText("Confirmed");
    expect(resyncs).toHaveLength(1);
    expect(await sameDocument(page)).toBe(true);
  } finally {
    await stopServer(server);
  }
});

test("a board shows a not-live banner and pauses its actions while its server is down", async ({ page }) => {
  fs.rmSync(DB_DIR, { recursive: true, force: true });
  fs.mkdirSync(DB_DIR, { recursive: true });
  let server = await startServer(PORT_A);
  try {
    await signIn(page, "baker@ordercast.test", /\/board$/, `http://127.0.0.1:${PORT_A}`);
    const advance = page.locator(".order-card .advance").first();
    await expect(advance).toBeEnabled();
    await stopServer(server);
    const banner = page.locator(".stale-banner");
    await expect(banner).toContainText("Not live.");
    await expect(banner).toContainText(/as of \d\d:\d\d:\d\d/);
    await expect(advance).toBeDisabled();
    server = await startServer(PORT_A);
    await reconnected(page);
    await expect(banner).toHaveCount(0);
    await expect(advance).toBeEnabled();
  } finally {
    await stopServer(server);
  }
});
