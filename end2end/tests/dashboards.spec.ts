import { expect } from "@playwright/test";
import { test, signIn, sameDocument, token, horizontalOverflow, tabTo, openLink, loadsPage, pageLoaded, rushCustomer } from "./helpers";

test.setTimeout(60_000);

test("an order placed by a customer reaches the shop board and the admin panel, and its progress reaches the customer, all without a reload", async ({ device, request }) => {
  const board = await device();
  const admin = await device();
  const phone = await device({ width: 360, height: 740 });
  await signIn(board, "baker@ordercast.test", /\/board$/);
  await expect(board.getByRole("heading", { name: /Corner Bakery/ })).toBeVisible();
  await signIn(admin, "admin@ordercast.test", /\/admin$/);
  await signIn(phone, "bob@ordercast.test", /\/shops$/);

  // The customer picks the bakery, fills a cart and orders.
  await openLink(phone, "Corner Bakery");
  await expect(phone.getByRole("heading", { name: "Corner Bakery" })).toBeVisible();
  await phone.getByRole("button", { name: "Add Croissant" }).click();
  await phone.getByRole("button", { name: "Add Croissant" }).click();
  await phone.getByRole("button", { name: "Add Cinnamon bun" }).click();
  await expect(phone.locator(".cart-total strong")).toHaveText("£7.60");
  expect(await horizontalOverflow(phone)).toBeLessThanOrEqual(0);
  await phone.screenshot({ path: test.info().outputPath("shop-360px.png"), fullPage: true });
  await phone.getByRole("button", { name: "Place order" }).click();
  await expect(phone).toHaveURL(/\/orders\/\d+$/);
  await pageLoaded(phone);
  const id = phone.url().split("/").pop()!;
  const detail = phone.locator(`.order-detail[data-order-id="${id}"]`);
  await expect(detail.locator(".page-head .status")).toHaveText("Pending");

  // The board shows it as new, in the pending column, with the chime and the banner.
  const card = board.locator(`.column[data-status="pending"] .order-card[data-order-id="${id}"]`);
  await expect(card).toBeVisible();
  await expect(card).toHaveClass(/new/);
  await expect(board.locator(".new-orders")).toBeVisible();
  await expect(board.locator(".toast").filter({ hasText: `New order #${id}` })).toBeVisible();
  await expect.poll(async () => Number(await board.locator(".board-page").getAttribute("data-chimes"))).toBeGreaterThan(0);

  // The admin sees it too, and the filters narrow the live list.
  const row = admin.locator(`tr[data-order-id="${id}"]`);
  await expect(row.locator(".status")).toHaveText("Pending");
  // Each filter is a page load (the filters are a plain form).
  const filter = (name: string, value: string | { label: string }) =>
    loadsPage(admin, () => admin.getByRole("combobox", { name, exact: true }).selectOption(value));
  await filter("Shop", { label: "Green Grocer" });
  await expect(row).toHaveCount(0);
  await filter("Shop", { label: "Corner Bakery" });
  await filter("Status", "pending");
  await expect(row).toBeVisible();

  // Acknowledging stops the chime; one click moves the order on.
  await card.getByRole("button", { name: "Acknowledge" }).click();
  await expect(board.locator(".new-orders")).toHaveCount(0);
  await card.getByRole("button", { name: "Mark confirmed" }).click();
  await expect(board.locator(`.column[data-status="confirmed"] .order-card[data-order-id="${id}"]`)).toBeVisible();

  // The customer's page follows, with the change in the timeline and announced.
  await expect(detail.locator(".page-head .status")).toHaveText("Confirmed");
  await expect(detail.locator(".timeline .step-confirmed")).toBeVisible();
  await expect(phone.locator("[aria-live=polite]")).toHaveText(`Order #${id} is Confirmed`);
  // The tracker says it in words and lights the step; no toast repeats what the page shows.
  await expect(detail.locator(".headline")).toHaveText("Corner Bakery has your order");
  await expect(detail.locator(".stage.current")).toContainText("Confirmed");
  await expect(detail.locator(".stage.done")).toHaveCount(1);
  await expect(detail.locator(".shop-contact")).toContainText("12 Mill Lane");
  await expect(phone.locator(".toast").filter({ hasText: `Order #${id} is now` })).toHaveCount(0);
  // The admin's filter on "pending" now hides it; on "confirmed" shows it.
  await expect(row).toHaveCount(0);
  await filter("Status", "confirmed");
  await expect(row.locator(".status")).toHaveText("Confirmed");

  // The customer cancels while that is still allowed; the board moves it to Done. The shop
  // verifies the payment while the reason is being typed: the page shows it, and leaves the
  // form, what is typed in it and the focus as they were.
  await detail.getByRole("button", { name: "Cancel order" }).click();
  await detail.getByLabel("Reason").fill("ordered twice");
  const staff = { authorization: `Bearer ${await token(request, "baker@ordercast.test")}` };
  expect((await request.post(`/api/v1/orders/${id}/payment/verify`, { headers: staff })).status()).toBe(200);
  await expect(detail.locator(".order-meta .payment")).toHaveText("Paid");
  await expect(detail.getByLabel("Reason")).toHaveValue("ordered twice");
  await expect(detail.getByLabel("Reason")).toBeFocused();
  await detail.getByRole("button", { name: "Confirm cancel" }).click();
  await expect(detail.locator(".page-head .status")).toHaveText("Cancelled");
  await expect(detail.locator(".step-note")).toContainText("ordered twice");
  await expect(board.locator(`.column[data-status="done"] .order-card[data-order-id="${id}"] .status`)).toHaveText("Cancelled");
  await expect(detail.getByRole("button", { name: "Cancel order" })).toHaveCount(0);
  await expect(detail.getByRole("button", { name: "Confirm cancel" })).toHaveCount(0);

  expect(await horizontalOverflow(phone)).toBeLessThanOrEqual(0);
  await phone.screenshot({ path: test.info().outputPath("order-360px.png"), fullPage: true });
  await board.screenshot({ path: test.info().outputPath("board.png"), fullPage: true });
  await admin.screenshot({ path: test.info().outputPath("admin.png"), fullPage: true });
  for (const page of [board, admin, phone]) expect(await sameDocument(page)).toBe(true);
});

test("a product the shopkeeper makes unavailable, low stock and a closing shop show live on the customer's pages", async ({ device, request }) => {
  const board = await device();
  const phone = await device({ width: 360, height: 740 });
  await signIn(board, "grocer@ordercast.test", /\/board$/);
  await signIn(phone, "alice@ordercast.test", /\/shops$/);
  await openLink(phone, "Green Grocer");
  const bananas = phone.locator(".product").filter({ hasText: "Bananas" });
  await expect(bananas.getByRole("button", { name: "Add Bananas" })).toBeEnabled();
  await bananas.getByRole("button", { name: "Add Bananas" }).click();

  // Unavailable: the customer can no longer add it, and the cart says why.
  await board.getByRole("tab", { name: /Products/ }).click();
  const editor = board.locator(".stock-table tr").filter({ hasText: "Bananas" });
  await editor.getByRole("button", { name: "Available" }).click();
  await expect(bananas).toHaveAttribute("data-available", "false");
  await expect(bananas.getByRole("button", { name: "Add Bananas" })).toBeDisabled();
  await expect(bananas.locator(".stock")).toHaveText("Unavailable");
  await expect(phone.locator(".problems")).toContainText("Bananas (1 kg) is not available right now.");
  await expect(phone.getByRole("button", { name: "Place order" })).toBeDisabled();
  await board.locator(".stock-table tr").filter({ hasText: "Bananas" }).getByRole("button", { name: "Unavailable" }).click();
  await expect(bananas.getByRole("button", { name: "Add Bananas" })).toBeEnabled();

  // Stock down to the threshold: the board gets a low-stock alert, the customer the count.
  const apples = board.locator(".stock-table tr").filter({ hasText: "Apples" });
  await apples.getByLabel("Stock of Apples (1 kg)").fill("3");
  await apples.getByRole("button", { name: "Save" }).click();
  await expect(board.locator(".toast").filter({ hasText: "Low stock: Apples (1 kg) (3 left)" })).toBeVisible();
  await expect(phone.locator(".product").filter({ hasText: "Apples" }).locator(".stock")).toHaveText("3 left");

  // Sales change the rows in place: a stock field nobody is typing in follows them, and a
  // number being typed (and the focus) stays where it is.
  const stockOf = (name: string) => board.locator(".stock-table tr").filter({ hasText: name }).getByRole("spinbutton");
  const bananaStock = Number(await stockOf("Bananas").inputValue());
  await stockOf("Apples").fill("40");
  const shopId = Number(await board.locator(".board-page").getAttribute("data-shop-id"));
  // Another customer's order (the demo customers' order lists stay as other tests expect them).
  const rush = { authorization: `Bearer ${await rushCustomer(request)}` };
  const items = (await (await request.get(`/api/v1/shops/${shopId}/products`, { headers: rush })).json()).items;
  const idOf = (name: string) => items.find((p: { name: string }) => p.name.startsWith(name)).id;
  const sold = await request.post("/api/v1/orders", {
    headers: rush,
    data: { shop_id: shopId, items: [{ product_id: idOf("Apples"), quantity: 1 }, { product_id: idOf("Bananas"), quantity: 1 }] },
  });
  expect(sold.status()).toBe(201);
  await expect(stockOf("Bananas")).toHaveValue(String(bananaStock - 1));
  await expect(phone.locator(".product").filter({ hasText: "Apples" }).locator(".stock")).toHaveText("2 left");
  await expect(stockOf("Apples")).toHaveValue("40");
  await expect(stockOf("Apples")).toBeFocused();
  const cancelled = await request.post(`/api/v1/orders/${(await sold.json()).id}/cancel`, { headers: rush });
  expect(cancelled.status()).toBe(200);
  await expect(stockOf("Bananas")).toHaveValue(String(bananaStock));
  await stockOf("Apples").fill("3");

  // The shop closes: the shop list and the shop page say so; ordering is blocked.
  await board.getByRole("button", { name: /click to close/ }).click();
  await expect(phone.locator(".shop-front .open-badge")).toHaveText("Closed");
  await expect(phone.getByRole("button", { name: "Place order" })).toBeDisabled();
  await openLink(phone, "Shops");
  await expect(phone.locator('.shop-card:has-text("Green Grocer") .open-badge')).toHaveText("Closed");
  await board.getByRole("button", { name: /click to open/ }).click();
  await expect(phone.locator('.shop-card:has-text("Green Grocer") .open-badge')).toHaveText("Open");
  for (const page of [board, phone]) expect(await sameDocument(page)).toBe(true);
});

test("staff presence and an admin's notification arrive live", async ({ device, request }) => {
  const board = await device();
  await signIn(board, "baker@ordercast.test", /\/board$/);
  await expect(board.locator('.person.online').filter({ hasText: "Bo Baker" })).toBeVisible();

  // The admin makes the grocer staff of the bakery too; the grocer comes online and goes
  // again, and the baker's board follows both without a reload.
  const admin = await token(request, "admin@ordercast.test");
  const users = await (await request.get("/api/v1/users", { headers: { authorization: `Bearer ${admin}` } })).json();
  const grocer = users.items.find((u: any) => u.email === "grocer@ordercast.test");
  const made = await request.patch(`/api/v1/users/${grocer.id}`, {
    headers: { authorization: `Bearer ${admin}` },
    data: { shop_ids: [...grocer.shop_ids, 1] },
  });
  expect(made.status()).toBe(200);
  const second = await device();
  await signIn(second, "grocer@ordercast.test", /\/board$/);
  const gia = board.locator(".person").filter({ hasText: "Gia Grocer" });
  await expect(gia).toHaveClass(/online/);
  await second.context().close();
  await expect(gia).toHaveClass(/offline/);

  const phone = await device({ width: 360, height: 740 });
  await signIn(phone, "alice@ordercast.test", /\/shops$/);
  const res = await request.post("/api/v1/notifications", {
    headers: { authorization: `Bearer ${admin}` },
    data: { severity: "warning", text: "The bakery closes at 6 today" },
  });
  expect(res.status()).toBe(201);
  for (const page of [board, phone]) {
    await expect(page.locator(".toast-warning")).toContainText("The bakery closes at 6 today");
  }
  await phone.locator(".toast-warning").getByRole("button", { name: "Dismiss" }).click();
  await expect(phone.locator(".toast-warning")).toHaveCount(0);
});

test("a customer orders and a shopkeeper confirms with the keyboard alone", async ({ device }) => {
  const board = await device();
  await signIn(board, "baker@ordercast.test", /\/board$/);
  const phone = await device({ width: 360, height: 740 });
  await signIn(phone, "bob@ordercast.test", /\/shops$/);

  await tabTo(phone, "Corner Bakery");
  await phone.keyboard.press("Enter");
  await expect(phone.getByRole("heading", { name: "Corner Bakery" })).toBeVisible();
  await tabTo(phone, "Add Rye bread");
  await phone.keyboard.press("Enter");
  await expect(phone.locator(".cart-total strong")).toHaveText("£4.80");
  await tabTo(phone, "Place order");
  await phone.keyboard.press("Enter");
  await expect(phone).toHaveURL(/\/orders\/\d+$/);
  await pageLoaded(phone);
  const id = phone.url().split("/").pop()!;

  // "N" goes to the new order, from any tab; Enter takes its main action, which also
  // acknowledges it.
  const card = board.locator(`.order-card[data-order-id="${id}"]`);
  await expect(card).toBeVisible();
  await expect(board.locator(".new-orders")).toBeVisible();
  await board.keyboard.press("3");
  await expect(board.getByRole("tab", { name: /Products/ })).toHaveAttribute("aria-selected", "true");
  await board.keyboard.press("n");
  await expect(card).toBeFocused();
  await board.keyboard.press("Enter");
  await expect(board.locator(".new-orders")).toHaveCount(0);
  await expect(phone.locator(`.order-detail[data-order-id="${id}"] .page-head .status`)).toHaveText("Confirmed");
  for (const page of [board, phone]) expect(await sameDocument(page)).toBe(true);
});
