import { expect } from "@playwright/test";
import { test, signIn, token, accessible, placeOrders, cancelOrders, rushCustomer, rushEmail, horizontalOverflow, fitsWidth, openLink, loadsPage } from "./helpers";

test.setTimeout(90_000);

test("paging through a long order list reaches the oldest order", async ({ device, request }) => {
  const ids = await placeOrders(request, 55);
  try {
    const rush = await rushCustomer(request);
    const first = await (await request.get("/api/v1/orders?per_page=1", { headers: { authorization: `Bearer ${rush}` } })).json();
    const total: number = first.total;
    const last = await (await request.get(`/api/v1/orders?per_page=1&page=${total}`, { headers: { authorization: `Bearer ${rush}` } })).json();
    const oldest: number = last.items[0].id;

    const phone = await device({ width: 360, height: 740 });
    await signIn(phone, rushEmail, /\/shops$/);
    await openLink(phone, "My orders");
    await expect(phone.locator(".count")).toHaveText(`${total} orders`);
    await expect(phone.locator(".pager .where")).toContainText(`1–50 of ${total}`);
    await accessible(phone, "main");
    // Each click is followed by waiting for the page it leads to: the page being left still
    // shows its own "Older" link for a moment, and the one arriving none while it loads.
    const older = phone.getByRole("link", { name: "Older →" });
    const pages = Math.ceil(total / 50);
    for (let page = 2; page <= pages; page++) {
      await older.click();
      await expect(phone.locator(".pager .where")).toContainText(`page ${page} of ${pages}`);
    }
    await expect(older).toHaveCount(0);
    await expect(phone.locator(`li.order[data-order-id="${oldest}"]`)).toBeVisible();
    await expect(phone.getByRole("link", { name: "← Newer" })).toBeVisible();
    expect(await horizontalOverflow(phone)).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: test.info().outputPath("orders-last-page-360px.png"), fullPage: true });
  } finally {
    await cancelOrders(request, ids);
  }
});

test("an unknown address answers 404 with a page that keeps the navigation", async ({ page }) => {
  await signIn(page, "alice@ordercast.test", /\/shops$/);
  const res = await page.goto("/no/such/page");
  expect(res!.status()).toBe(404);
  await expect(page).toHaveTitle("Page not found · Ordercast");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My orders" })).toBeVisible();
  await accessible(page, "body");
  await openLink(page, "Go to your start page");
  await expect(page).toHaveURL(/\/shops$/);
  await expect(page).toHaveTitle("Shops · Ordercast");
});

test("an admin edits a shop's details and creates a shop; an open customer page follows live", async ({ device, request }) => {
  const admin = await device({ width: 1280, height: 800 });
  await signIn(admin, "admin@ordercast.test", /\/admin$/);
  const phone = await device({ width: 360, height: 740 });
  await signIn(phone, "bob@ordercast.test", /\/shops$/);

  const name = `Night Market ${Date.now()}`;
  const create = admin.locator(".shops-admin > details.shop-edit");
  await create.locator("summary").click();
  await create.getByLabel("Name").fill(name);
  await create.getByLabel("Phone").fill("+44 20 7946 0777");
  await create.getByLabel("Currency (ISO code)").fill("gbp");
  await accessible(admin, ".shops-admin");
  await create.getByRole("button", { name: "Create shop" }).click();
  await expect(phone.locator(".shop-card").filter({ hasText: name })).toBeVisible();

  // A bad phone number is refused with a message, and nothing changes.
  const bakery = admin.locator('.shops-admin .shop-card[data-shop-id="1"]');
  await bakery.getByText("Edit details").click();
  await bakery.getByLabel("Phone").fill("call us");
  await bakery.getByRole("button", { name: "Save shop" }).click();
  await expect(bakery.getByRole("alert")).toHaveText("A phone number has digits, spaces and + ( ) - . only.");
  await bakery.getByLabel("Phone").fill("+44 20 7946 0018");
  await bakery.getByLabel("Opening hours").fill("Every day 7:00–19:00");
  await bakery.getByRole("button", { name: "Save shop" }).click();
  await expect(admin.locator(".toast").filter({ hasText: "Corner Bakery saved." })).toBeVisible();
  await admin.screenshot({ path: test.info().outputPath("admin-shops-1280px.png"), fullPage: true });

  const t = await token(request, "bob@ordercast.test");
  const shop = await (await request.get("/api/v1/shops/1", { headers: { authorization: `Bearer ${t}` } })).json();
  expect(shop.opening_hours).toBe("Every day 7:00–19:00");
  // Put it back for the other tests.
  const a = await token(request, "admin@ordercast.test");
  await request.patch("/api/v1/shops/1", { headers: { authorization: `Bearer ${a}` }, data: { opening_hours: "Mon–Sat 7:00–18:00, Sun 8:00–13:00" } });
});

test("an admin creates an account, gives a shopkeeper a shop and disables and enables them", async ({ device, request }) => {
  const admin = await device({ width: 1280, height: 800 });
  await signIn(admin, "admin@ordercast.test", /\/admin$/);
  await openLink(admin, "Users", admin.getByRole("navigation", { name: "Main" }));
  await expect(admin).toHaveTitle("Users · Ordercast");

  const email = `sam-${Date.now()}@ordercast.test`;
  const form = admin.locator("form.new-user");
  await form.getByLabel("Name").fill("Sam Shop");
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Password (8 characters or more)").fill("short");
  await form.getByLabel("Role").selectOption("shopkeeper");
  await form.getByLabel("Works in").selectOption({ label: "Green Grocer" });
  await form.getByLabel("Password (8 characters or more)").fill("ordercast");
  await form.getByRole("button", { name: "Create account" }).click();
  const row = admin.locator("tr").filter({ hasText: email });
  await expect(row).toBeVisible();
  await expect(row.getByRole("checkbox", { name: "Green Grocer" })).toBeChecked();
  await accessible(admin, ".users-admin");
  // An admin cannot lock themselves out: their own row says "You" instead of "Disable".
  const own = admin.locator("tr").filter({ hasText: "admin@ordercast.test" });
  await expect(own.locator(".you")).toHaveText("You");
  await expect(own.getByRole("button")).toHaveCount(0);

  // The new shopkeeper's board; given the bakery too, then disabled: the session ends.
  const sam = await device({ width: 1280, height: 800 });
  await signIn(sam, email, /\/board$/);
  await row.getByRole("checkbox", { name: "Corner Bakery" }).check();
  await expect(admin.locator("tr").filter({ hasText: email }).getByRole("checkbox", { name: "Corner Bakery" })).toBeChecked();
  const t = await token(request, email);
  const me = await (await request.get("/api/v1/auth/me", { headers: { authorization: `Bearer ${t}` } })).json();
  expect(me.shop_ids.length).toBe(2);
  // A change the server refuses leaves the box as the account still is, and says why.
  await admin.route("**/api/v1/users/*", (route) =>
    route.request().method() === "PATCH"
      ? route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: { code: "internal", message: "the server is busy; try again" } }) })
      : route.continue(),
  );
  await row.getByRole("checkbox", { name: "Corner Bakery" }).click();
  await expect(admin.locator(".toast").filter({ hasText: "try again" })).toBeVisible();
  await expect(row.getByRole("checkbox", { name: "Corner Bakery" })).toBeChecked();
  await expect(row.getByRole("checkbox", { name: "Corner Bakery" })).toBeEnabled();
  await admin.unroute("**/api/v1/users/*");
  await row.getByRole("button", { name: "Disable Sam Shop" }).click();
  await expect(row.getByRole("button", { name: "Enable Sam Shop" })).toBeVisible();
  await expect(sam).toHaveURL(/\/login$/);
  await admin.screenshot({ path: test.info().outputPath("admin-users-1280px.png"), fullPage: true });
  await row.getByRole("button", { name: "Enable Sam Shop" }).click();
  await expect(row.getByRole("button", { name: "Disable Sam Shop" })).toBeVisible();

  // On a phone each account reads as one block, its shops and its button in view.
  await admin.setViewportSize({ width: 360, height: 740 });
  expect(await horizontalOverflow(admin)).toBeLessThanOrEqual(0);
  await fitsWidth(admin, row.getByRole("checkbox", { name: "Corner Bakery" }));
  await fitsWidth(admin, row.getByRole("button", { name: "Disable Sam Shop" }));
  await accessible(admin, ".users-admin");
  await admin.screenshot({ path: test.info().outputPath("admin-users-360px.png"), fullPage: true });
});

test("an admin searches, sorts and pages every order with the sums, and the shops' figures follow live", async ({ device, request }) => {
  const ids = await placeOrders(request, 55);
  try {
    const headers = { authorization: `Bearer ${await token(request, "admin@ordercast.test")}` };
    const api = async (query: string) => (await request.get(`/api/v1/orders?${query}`, { headers })).json();
    const admin = await device({ width: 1280, height: 800 });
    await signIn(admin, "admin@ordercast.test", /\/admin$/);
    const bakery = admin.locator('.figures tr[data-shop-id="1"]');
    expect(Number(await bakery.locator(".fig-open").textContent())).toBeGreaterThanOrEqual(55);
    // The connections panel counts this page's own socket, beside its green "Live".
    await expect(admin.locator(".stat-connections")).not.toHaveText("0");

    // Searching by the customer's email finds exactly their orders, with the count and sums
    // of all of them (not only the first page).
    await admin.getByLabel("Search").fill(rushEmail);
    await loadsPage(admin, () => admin.getByRole("button", { name: "Search" }).click());
    await expect(admin).toHaveURL(/[?&]q=rush-/);
    const found = await api(`q=${encodeURIComponent(rushEmail)}&per_page=1`);
    expect(found.total).toBeGreaterThanOrEqual(55);
    const card = admin.locator(".admin-orders-card");
    await expect(card.locator(".count")).toHaveText(`${found.total} orders`);
    await expect(card.locator(".pager .where")).toContainText(`1–50 of ${found.total}`);
    await expect(card.locator("tfoot .sum")).toHaveCount(found.sums.length);
    const pounds = Math.floor(found.sums[0].total_minor / 100).toLocaleString("en-US");
    await expect(card.locator("tfoot .sum").first()).toContainText(pounds);

    // Largest total first, and the next page keeps the search and the order.
    await admin.getByRole("combobox", { name: "Sort", exact: true }).selectOption("total_desc");
    await expect(admin).toHaveURL(/sort=total_desc/);
    const top = await api(`q=${encodeURIComponent(rushEmail)}&sort=total_desc&per_page=1`);
    await expect(card.locator("tbody tr").first()).toHaveAttribute("data-order-id", String(top.items[0].id));
    await openLink(admin, "Older →");
    await expect(admin).toHaveURL(/page=2/);
    await expect(admin).toHaveURL(/sort=total_desc/);
    await expect(admin).toHaveURL(/q=rush-/);
    await expect(card.locator(".pager .where")).toContainText(`51–`);
    const second = await api(`q=${encodeURIComponent(rushEmail)}&sort=total_desc&per_page=50&page=2`);
    await expect(card.locator("tbody tr").first()).toHaveAttribute("data-order-id", String(second.items[0].id));

    // An order placed now counts in the figures at once, without a reload.
    const placed = Number(await bakery.locator(".fig-orders").textContent());
    const open = Number(await bakery.locator(".fig-open").textContent());
    ids.push(...(await placeOrders(request, 1)));
    await expect(bakery.locator(".fig-orders")).toHaveText(String(placed + 1));
    await expect(bakery.locator(".fig-open")).toHaveText(String(open + 1));

    // Nothing found says so.
    await admin.getByLabel("Search").fill("nobody-by-this-name");
    await admin.getByRole("button", { name: "Search" }).click();
    await expect(card.locator(".empty")).toContainText("No order matches");
    await accessible(admin, ".admin");
    await admin.screenshot({ path: test.info().outputPath("admin-empty-search-1280px.png"), fullPage: true });
    await openLink(admin, "Clear");
    await expect(card.locator(".count")).not.toHaveText("0 orders");
    await expect(admin.getByLabel("Search")).toHaveValue("");
    await expect(admin.getByRole("combobox", { name: "Sort", exact: true })).toHaveValue("newest");
    await admin.screenshot({ path: test.info().outputPath("admin-1280px.png"), fullPage: true });
    await admin.setViewportSize({ width: 360, height: 740 });
    expect(await horizontalOverflow(admin)).toBeLessThanOrEqual(0);
    // Each order and each shop's figures read as one block on a phone: the last column of
    // each is in view, not behind a sideways scroll.
    const first = card.locator("tbody tr").first();
    await fitsWidth(admin, first.locator("td.num"));
    await fitsWidth(admin, first.locator("td.age"));
    await fitsWidth(admin, card.locator("tfoot .sum").first());
    await fitsWidth(admin, bakery.locator(".fig-ready"));
    await accessible(admin, ".admin");
    await admin.screenshot({ path: test.info().outputPath("admin-360px.png"), fullPage: true });
  } finally {
    await cancelOrders(request, ids);
  }
});
