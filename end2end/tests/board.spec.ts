import { expect, type Page } from "@playwright/test";
import { test, signIn, blockSoundUntilClick, accessible, placeOrders, cancelOrders } from "./helpers";

test.setTimeout(90_000);

async function columnIds(page: Page, status: string): Promise<number[]> {
  return (await page.locator(`.column[data-status="${status}"] .order-card`).evaluateAll((cards) =>
    cards.map((c) => Number(c.getAttribute("data-order-id"))),
  )) as number[];
}

test("a busy board fits 1280×800 without page scroll, oldest first, each order with a timer and one main action", async ({ device, request }) => {
  const ids = await placeOrders(request, 62);
  try {
    const board = await device({ width: 1280, height: 800 });
    await signIn(board, "baker@ordercast.test", /\/board$/);
    const pending = board.locator('.column[data-status="pending"]');
    await expect(pending.locator(`.order-card[data-order-id="${ids[ids.length - 1]}"]`)).toHaveCount(1);
    const shown = await columnIds(board, "pending");
    expect(shown.length).toBeGreaterThanOrEqual(62);
    // Oldest first: the orders just placed come in the order they were placed, at the end.
    expect(shown.filter((id) => ids.includes(id))).toEqual(ids);

    // No page scroll: the column scrolls on its own and its header stays put.
    const page = await board.evaluate(() => ({ scroll: document.documentElement.scrollHeight, view: window.innerHeight }));
    expect(page.scroll).toBeLessThanOrEqual(page.view);
    const column = await pending.evaluate((c) => ({ scroll: c.scrollHeight, view: c.clientHeight }));
    expect(column.scroll).toBeGreaterThan(column.view);
    const last = pending.locator(`.order-card[data-order-id="${ids[ids.length - 1]}"]`);
    await last.scrollIntoViewIfNeeded();
    await expect(last).toBeInViewport();
    await expect(pending.locator("h2")).toBeInViewport();

    // A compact card: a timer, one main action, the rest in a menu; 44 px targets.
    const card = pending.locator(`.order-card[data-order-id="${ids[0]}"]`);
    await expect(card.locator(".timer")).toHaveText(/^(In pending for )?\d+:\d\d/);
    await expect(card.getByRole("button")).toHaveText(["Mark confirmed"]);
    const main = await card.getByRole("button", { name: "Mark confirmed" }).boundingBox();
    expect(main!.height).toBeGreaterThanOrEqual(44);
    await card.getByLabel(`More actions for order #${ids[0]}`).click();
    await expect(card.getByRole("button", { name: "Cancel order" })).toBeVisible();
    await card.getByLabel(`More actions for order #${ids[0]}`).click();

    await accessible(board, ".board-page");
    await board.screenshot({ path: test.info().outputPath("busy-board-1280px.png") });
    // The started board has every card; the page as the server sends it has each column's
    // oldest twelve and says how many more there are (what a board that cannot start shows).
    await expect(board.locator(".more-cards")).toHaveCount(0);
    const unstarted = await device({ width: 1280, height: 800 });
    await unstarted.context().addCookies(await board.context().cookies());
    await unstarted.route(/\.wasm$/, (route) => route.abort());
    await unstarted.goto("/board");
    const before = unstarted.locator('.column[data-status="pending"]');
    await expect(before.locator(".order-card")).toHaveCount(12);
    expect(await columnIds(unstarted, "pending")).toEqual(shown.slice(0, 12));
    const total = Number(await before.locator("h2 .badge").textContent());
    expect(total).toBe(shown.length);
    await expect(before.locator(".more-cards")).toHaveText(`${total - 12} more, newer`);
    await accessible(unstarted, ".board-page");
    await unstarted.screenshot({ path: test.info().outputPath("busy-board-unstarted-1280px.png") });
    const phone = await device({ width: 360, height: 740 });
    await signIn(phone, "baker@ordercast.test", /\/board$/);
    await accessible(phone, ".board-page");
    await phone.screenshot({ path: test.info().outputPath("busy-board-360px.png") });
  } finally {
    await cancelOrders(request, ids);
  }
});

test("a board whose browser blocks sound asks to be started, and chimes once started", async ({ device, request }) => {
  const board = await device({ width: 1280, height: 800 });
  await blockSoundUntilClick(board);
  await signIn(board, "baker@ordercast.test", /\/board$/);
  await board.goto("/board"); // a fresh page, with no click on it yet
  const overlay = board.getByRole("dialog", { name: "Start the board" });
  await expect(overlay).toBeVisible();
  await accessible(board, ".start-overlay");
  await board.screenshot({ path: test.info().outputPath("start-overlay-1280px.png") });
  await overlay.getByRole("button", { name: "Start the board" }).click();
  await expect(overlay).toHaveCount(0);

  const chimes = Number(await board.locator(".board-page").getAttribute("data-chimes"));
  const ids = await placeOrders(request, 1);
  try {
    await expect(board.locator(`.order-card[data-order-id="${ids[0]}"]`)).toBeVisible();
    await expect.poll(async () => Number(await board.locator(".board-page").getAttribute("data-chimes"))).toBeGreaterThan(chimes);
    await expect(overlay).toHaveCount(0);
  } finally {
    await cancelOrders(request, ids);
  }

  // Continuing without sound is kept on this device, and the board keeps saying so.
  const quiet = await device({ width: 360, height: 740 });
  await blockSoundUntilClick(quiet);
  await signIn(quiet, "baker@ordercast.test", /\/board$/);
  await quiet.goto("/board");
  await quiet.getByRole("dialog", { name: "Start the board" }).getByRole("button", { name: "Continue without sound" }).click();
  await expect(quiet.locator(".sound-menu > summary")).toHaveText("Alerts: sound off");
  await quiet.reload();
  await expect(quiet.locator(".sound-menu > summary")).toHaveText("Alerts: sound off");
  await expect(quiet.getByRole("dialog", { name: "Start the board" })).toHaveCount(0);
  await accessible(quiet, ".board-head");
  await quiet.screenshot({ path: test.info().outputPath("sound-off-360px.png") });
});

test("a hidden board counts new orders in its title and raises a system notification for each", async ({ device, request }) => {
  const board = await device({ width: 1280, height: 800 });
  await board.addInitScript(() => {
    // The tab is behind another window, and the shopkeeper allowed notifications.
    Object.defineProperty(document, "hidden", { get: () => true });
    Object.defineProperty(document, "visibilityState", { get: () => "hidden" });
    (window as any).__notifications = [];
    (window as any).Notification = class {
      static permission = "granted";
      static requestPermission() {
        return Promise.resolve("granted");
      }
      onclick: unknown = null;
      constructor(title: string, options?: { body?: string; tag?: string }) {
        (window as any).__notifications.push({ title, body: options?.body, tag: options?.tag });
      }
    };
  });
  await signIn(board, "baker@ordercast.test", /\/board$/);
  await expect(board).toHaveTitle(/^Corner Bakery board · Ordercast$/);
  const ids = await placeOrders(request, 2);
  try {
    await expect(board).toHaveTitle("(2) Corner Bakery board · Ordercast");
    const shown = await board.evaluate(() => (window as any).__notifications);
    expect(shown.map((n: any) => n.tag)).toEqual(ids.map((id) => `order-${id}`));
    expect(shown[0].title).toBe(`New order #${ids[0]} from Rush Hour`);
    await board.getByRole("button", { name: "Acknowledge" }).first().click();
    await expect(board).toHaveTitle("Corner Bakery board · Ordercast");
  } finally {
    await cancelOrders(request, ids);
  }
});

test("new orders nobody acknowledged are still new, and still chiming, after the board reloads", async ({ device, request }) => {
  const board = await device({ width: 1280, height: 800 });
  // As a browser that blocks sound on a page nobody clicked yet, as after a reload.
  await blockSoundUntilClick(board);
  await signIn(board, "baker@ordercast.test", /\/board$/);
  const start = board.getByRole("dialog", { name: "Start the board" }).getByRole("button", { name: "Start the board" });
  await start.click();
  const ids = await placeOrders(request, 2);
  try {
    const cards = ids.map((id) => board.locator(`.order-card[data-order-id="${id}"]`));
    for (const card of cards) await expect(card).toHaveClass(/\bnew\b/);
    await cards[0].getByRole("button", { name: "Acknowledge" }).click();
    await expect(cards[0]).not.toHaveClass(/\bnew\b/);

    // A reload (by hand, or the board's own after an error) forgets nothing unacknowledged,
    // and the reloaded page, which nobody clicked yet, asks to be started so it can chime.
    await board.reload();
    await expect(board.locator("body")).toHaveAttribute("data-hydrated", "true");
    await expect(cards[1]).toHaveClass(/\bnew\b/);
    await expect(cards[0]).not.toHaveClass(/\bnew\b/);
    await expect(board).toHaveTitle("(1) Corner Bakery board · Ordercast");
    const chimes = Number(await board.locator(".board-page").getAttribute("data-chimes"));
    await start.click();
    await expect.poll(async () => Number(await board.locator(".board-page").getAttribute("data-chimes")), { timeout: 20_000 }).toBeGreaterThan(chimes);

    await cards[1].getByRole("button", { name: "Acknowledge" }).click();
    await board.reload();
    await expect(board.locator("body")).toHaveAttribute("data-hydrated", "true");
    await expect(board).toHaveTitle("Corner Bakery board · Ordercast");
    await expect(board.locator(".order-card.new")).toHaveCount(0);
  } finally {
    await cancelOrders(request, ids);
  }
});

test("a board without network says since when it is not live and pauses its actions", async ({ device }) => {
  const board = await device({ width: 1280, height: 800 });
  await signIn(board, "baker@ordercast.test", /\/board$/);
  const advance = board.locator(".order-card .advance").first();
  await expect(advance).toBeEnabled();
  await expect(board.locator(".stale-banner")).toHaveCount(0);

  await board.context().setOffline(true);
  const banner = board.locator(".stale-banner");
  await expect(banner).toContainText("No network.");
  await expect(banner).toContainText(/as of \d\d:\d\d:\d\d/);
  await expect(board.locator(".board-page")).toHaveClass(/stale/);
  await expect(advance).toBeDisabled();
  // Nothing to retry by hand while the browser itself is offline.
  await expect(board.getByRole("button", { name: "Reconnect now" })).toHaveCount(0);
  await accessible(board, ".stale-banner");
  await board.screenshot({ path: test.info().outputPath("offline-board-1280px.png") });

  await board.context().setOffline(false);
  await expect(board.locator(".conn")).toHaveAttribute("data-state", "live");
  await expect(banner).toHaveCount(0);
  await expect(advance).toBeEnabled();
});
