import { expect, type Page, type APIRequestContext, type Browser } from "@playwright/test";

export const PASSWORD = "ordercast";

/** Signs in through the form and waits for the landing page and a live socket. */
export async function signIn(page: Page, email: string, landing: RegExp) {
  await page.goto("/login");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(landing);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator(".conn")).toHaveAttribute("data-state", "live");
  // Any full page load from here on would drop this marker.
  await page.evaluate(() => ((window as any).__sameDocument = true));
}

/** True while the page has not been reloaded since `signIn`. */
export async function sameDocument(page: Page): Promise<boolean> {
  return await page.evaluate(() => (window as any).__sameDocument === true);
}

export async function newPage(browser: Browser, viewport?: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext(viewport ? { viewport } : {});
  return await context.newPage();
}

export async function token(request: APIRequestContext, email: string, base = ""): Promise<string> {
  const res = await request.post(`${base}/api/v1/auth/login`, { data: { email, password: PASSWORD } });
  expect(res.ok()).toBeTruthy();
  return (await res.json()).token;
}

/** How far the page is wider than its viewport (0 when nothing overflows horizontally). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
