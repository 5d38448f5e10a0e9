import { expect } from "@playwright/test";
import { test, signIn, openLink } from "./helpers";

test("a demo customer signs in and sees their orders after hydration", async ({ page }) => {
  await page.goto("/login");
  // Wait for hydration (the app marks <body> once its effects run), not for a fixed time.
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

  await page.getByLabel("Email").fill("alice@ordercast.test");
  await page.getByLabel("Password").fill("ordercast");
  await page.getByRole("button", { name: "Sign in" }).click();

  // Customers land on the shops; their orders are one click away.
  await expect(page).toHaveURL(/\/shops$/);
  await expect(page.getByRole("heading", { name: "Shops" })).toBeVisible();
  await expect(page.locator(".user-name")).toHaveText("Alice Customer");
  await openLink(page, "My orders");
  await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();
  const orders = page.locator("li.order");
  await expect(orders).toHaveCount(3);
  await expect(orders.first().locator(".shop")).toHaveText(/Corner Bakery|Green Grocer/);
  // Alice sees only her own orders: Bob's never appear.
  await expect(page.locator("li.order .status-cancelled")).toHaveCount(0);
});

test("a wrong password is refused with a message and no navigation", async ({ page }) => {
  await page.goto("/login");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill("alice@ordercast.test");
  await page.getByLabel("Password").fill("not her password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page).toHaveURL(/\/login$/);
});

test("every page sends a signed-out visitor to sign in", async ({ page }) => {
  for (const path of ["/", "/orders", "/shops", "/board", "/admin", "/orders/1"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  }
});

test("signing out ends the session and returns to sign-in", async ({ page }) => {
  await signIn(page, "bob@ordercast.test", /\/shops$/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/orders");
  await expect(page).toHaveURL(/\/login$/);
});
