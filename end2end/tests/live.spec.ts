import { expect } from "@playwright/test";
import { test, signIn, sameDocument, token, horizontalOverflow, openLink, newCustomer } from "./helpers";

test("status changes and new orders reach every device of the customer without a reload", async ({ device, request }) => {
  // Bob on two devices.
  const phone = await device({ width: 360, height: 740 });
  const laptop = await device();
  for (const page of [phone, laptop]) {
    await signIn(page, "bob@ordercast.test", /\/shops$/);
    await openLink(page, "My orders");
    await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();
  }

  const confirmed = phone.locator("li.order:has(.status-confirmed)").first();
  const id = await confirmed.getAttribute("data-order-id");
  expect(id).not.toBeNull();

  // The shopkeeper moves it on, through the API.
  const baker = await token(request, "baker@ordercast.test");
  const res = await request.patch(`/api/v1/orders/${id}/status`, {
    headers: { authorization: `Bearer ${baker}` },
    data: { status: "preparing", note: "in the oven" },
  });
  expect(res.status()).toBe(200);

  for (const page of [phone, laptop]) {
    await expect(page.locator(`li.order[data-order-id="${id}"] .status`)).toHaveText("Preparing");
    await expect(page.locator("[aria-live=polite]")).toHaveText(`Order #${id} is Preparing`);
  }

  // Bob orders from elsewhere (another client): the new order appears on top on both devices.
  const bob = await token(request, "bob@ordercast.test");
  const products = await (await request.get("/api/v1/shops/1/products", { headers: { authorization: `Bearer ${bob}` } })).json();
  const placed = await request.post("/api/v1/orders", {
    headers: { authorization: `Bearer ${bob}` },
    data: { shop_id: 1, items: [{ product_id: products.items[0].id, quantity: 1 }] },
  });
  expect(placed.status()).toBe(201);
  const order = await placed.json();
  for (const page of [phone, laptop]) {
    await expect(page.locator("li.order").first()).toHaveAttribute("data-order-id", String(order.id));
    await expect(page.locator("li.order").first().locator(".status")).toHaveText("Pending");
    expect(await sameDocument(page)).toBe(true);
  }

  // The phone-sized view does not overflow horizontally.
  expect(await horizontalOverflow(phone)).toBeLessThanOrEqual(0);
  await phone.screenshot({ path: test.info().outputPath("orders-360px.png"), fullPage: true });
});

test("a device that loses the network says so and catches up the moment it is back", async ({ device, request }) => {
  const phone = await device({ width: 360, height: 740 });
  await signIn(phone, "alice@ordercast.test", /\/shops$/);
  await openLink(phone, "My orders");
  const pending = phone.locator("li.order:has(.status-pending)").first();
  const id = await pending.getAttribute("data-order-id");
  expect(id).not.toBeNull();

  await phone.context().setOffline(true);
  await expect(phone.locator(".conn")).toHaveAttribute("data-state", "offline");
  await expect(phone.locator(".conn-label")).toHaveText("Offline");

  // The shop confirms the order while the phone is away.
  const baker = await token(request, "baker@ordercast.test");
  const res = await request.patch(`/api/v1/orders/${id}/status`, {
    headers: { authorization: `Bearer ${baker}` },
    data: { status: "confirmed" },
  });
  expect(res.status()).toBe(200);

  // Back online: it reconnects at once (no backoff wait) and replays what it missed.
  await phone.context().setOffline(false);
  await expect(phone.locator(".conn")).toHaveAttribute("data-state", "live");
  await expect(phone.locator(`li.order[data-order-id="${id}"] .status`)).toHaveText("Confirmed");
  expect(await sameDocument(phone)).toBe(true);
});

test("a connection that dies without closing is noticed, and the page catches up", async ({ device, request }) => {
  // A tablet that slept, a router that forgot the connection: the socket stays open but
  // nothing gets through, and no close ever comes. Here the first socket is cut that way.
  const page = await device({ width: 360, height: 740 });
  let sockets = 0;
  let cut = false;
  await page.routeWebSocket(/\/ws/, (ws) => {
    const n = ++sockets;
    const server = ws.connectToServer();
    ws.onMessage((m) => { if (!(cut && n === 1)) server.send(m); });
    server.onMessage((m) => { if (!(cut && n === 1)) ws.send(m); });
  });
  const dana = await newCustomer(request, "Dana Sleep");
  const products = await (await request.get("/api/v1/shops/1/products", { headers: { authorization: `Bearer ${dana.token}` } })).json();
  const placed = await request.post("/api/v1/orders", {
    headers: { authorization: `Bearer ${dana.token}` },
    data: { shop_id: 1, items: [{ product_id: products.items[0].id, quantity: 1 }] },
  });
  expect(placed.status()).toBe(201);
  const id = (await placed.json()).id;
  await signIn(page, dana.email, /\/shops$/);
  await openLink(page, "My orders");
  const status = page.locator(`li.order[data-order-id="${id}"] .status`);
  await expect(status).toHaveText("Pending");
  await expect(page.locator(".conn")).toHaveAttribute("data-state", "live");

  cut = true;
  const baker = await token(request, "baker@ordercast.test");
  const res = await request.patch(`/api/v1/orders/${id}/status`, {
    headers: { authorization: `Bearer ${baker}` },
    data: { status: "confirmed" },
  });
  expect(res.status()).toBe(200);
  // The tab comes back into view: the page asks the server to answer, hears nothing, and
  // connects again, resuming where it was.
  await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
  await expect(status).toHaveText("Confirmed", { timeout: 20_000 });
  expect(sockets).toBe(2);
  await expect(page.locator(".conn")).toHaveAttribute("data-state", "live");
  expect(await sameDocument(page)).toBe(true);
});

test("where WebSockets are blocked the page goes live over the event stream and follows changes", async ({ device, request }) => {
  for (const viewport of [{ width: 360, height: 740 }, { width: 1280, height: 800 }]) {
    const page = await device(viewport);
    // A network that breaks WebSockets: every upgrade this page attempts is cut before the
    // server can say anything. Plain HTTP still works.
    let blocked = 0;
    await page.routeWebSocket(/\/ws/, (ws) => {
      blocked += 1;
      ws.close();
    });
    await signIn(page, "bob@ordercast.test", /\/shops$/);
    const indicator = page.locator(".conn");
    await expect(indicator).toHaveAttribute("data-transport", "sse");
    await expect(indicator).toHaveAttribute("data-state", "live");
    await expect(indicator.locator(".conn-label")).toHaveText("Live (fallback)");
    expect(blocked).toBeGreaterThanOrEqual(2);
    await openLink(page, "My orders");
    await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();

    const pending = page.locator("li.order:has(.status-pending), li.order:has(.status-confirmed)").first();
    const id = await pending.getAttribute("data-order-id");
    expect(id).not.toBeNull();
    const baker = await token(request, "baker@ordercast.test");
    const before = await pending.locator(".status").textContent();
    const next = before === "Pending" ? "confirmed" : "preparing";
    const res = await request.patch(`/api/v1/orders/${id}/status`, {
      headers: { authorization: `Bearer ${baker}` },
      data: { status: next },
    });
    expect(res.status()).toBe(200);
    const shown = next === "confirmed" ? "Confirmed" : "Preparing";
    await expect(page.locator(`li.order[data-order-id="${id}"] .status`)).toHaveText(shown);
    await expect(page.locator("[aria-live=polite]")).toHaveText(`Order #${id} is ${shown}`);
    expect(await sameDocument(page)).toBe(true);
    await page.screenshot({ path: test.info().outputPath(`fallback-${viewport.width}px.png`) });
  }
});
