import { expect, type Page } from "@playwright/test";
import { test, signIn, horizontalOverflow, accessible, openLink } from "./helpers";

test.setTimeout(120_000);

/** A handwritten-looking list drawn by the browser itself, as the PNG a phone would send. */
async function listPhoto(page: Page, lines: string[]): Promise<Buffer> {
  const dataUrl = await page.evaluate((lines) => {
    const canvas = document.createElement("canvas");
    canvas.width = 900;
    canvas.height = 140 + lines.length * 90;
    const ctx = canvas.getContext("2d")!;
    ctx.fillStyle = "#fbf7ea";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#1b2340";
    ctx.font = "56px sans-serif";
    lines.forEach((line, i) => ctx.fillText(line, 60, 110 + i * 90));
    return canvas.toDataURL("image/png");
  }, lines);
  return Buffer.from(dataUrl.split(",")[1], "base64");
}

test("a customer at 360 px sends a photo of a list and the shop's staff turn it into an order the customer follows", async ({ device }) => {
  const board = await device({ width: 1280, height: 800 });
  const phone = await device({ width: 360, height: 740 });
  await signIn(board, "baker@ordercast.test", /\/board$/);
  await signIn(phone, "bob@ordercast.test", /\/shops$/);

  await openLink(phone, "Corner Bakery");
  await expect(phone.getByRole("heading", { name: "Send a list" })).toBeVisible();
  const photo = await listPhoto(phone, ["2 croissants", "sourdough loaf"]);
  await phone.getByLabel("Photo of your list").setInputFiles({ name: "list.png", mimeType: "image/png", buffer: photo });
  await expect(phone.locator(".list-preview")).toBeVisible();
  await phone.getByLabel("Note for the shop (optional)").fill("Sliced, please");
  expect(await horizontalOverflow(phone)).toBeLessThanOrEqual(0);
  await accessible(phone, ".send-list");
  await phone.locator(".send-list").screenshot({ path: test.info().outputPath("send-list-360px.png") });
  await phone.getByRole("button", { name: "Send list" }).click();

  // The customer is told what is happening at each step.
  await expect(phone).toHaveURL(/\/lists\/\d+$/);
  const id = phone.url().split("/").pop()!;
  const page = phone.locator(`.list-page[data-chitty-id="${id}"]`);
  await expect(page).toHaveAttribute("data-status", "read", { timeout: 60_000 });
  await expect(page.locator(".list-status")).toHaveText("The shop is checking your list");
  await expect(page.locator(".read-lines li")).toHaveCount(2);
  await expect(page.locator(".read-lines li").first()).toContainText("Croissant");
  expect(await horizontalOverflow(phone)).toBeLessThanOrEqual(0);
  await accessible(phone, ".list-page");
  await phone.screenshot({ path: test.info().outputPath("list-read-360px.png"), fullPage: true });

  // The board shows it live with the new-order alert, the photo beside the lines read.
  await expect(board.locator(".new-orders")).toContainText("1 new list");
  await board.locator(".new-orders").getByRole("button", { name: "Show lists" }).click();
  const card = board.locator(`.list-card[data-chitty-id="${id}"]`);
  await expect(card).toBeVisible();
  await expect(card).toHaveClass(/new/);
  await expect(board.locator(".new-orders")).toContainText("1 new list");
  await expect(card.locator(".list-photo")).toBeVisible();
  await expect(card.getByLabel("Product for line 1")).toHaveValue("Croissant");
  await expect(card.getByLabel("Quantity for line 1")).toHaveValue("2");
  await expect(card.getByLabel("Product for line 2")).toHaveValue("Sourdough loaf");
  await expect(card.locator("tr.line.sure")).toHaveCount(2);
  await expect.poll(async () => Number(await board.locator(".board-page").getAttribute("data-chimes"))).toBeGreaterThan(0);
  await accessible(board, ".lists-panel");
  await board.locator(".lists-panel").screenshot({ path: test.info().outputPath("board-list-1280px.png") });

  // Staff correct a line (one more croissant, a line the machine missed) and make the order.
  await card.getByLabel("Quantity for line 1").fill("3");
  await card.getByRole("button", { name: "Add line" }).click();
  await card.getByLabel("Product for line 3").fill("Rye bread");
  await card.getByRole("button", { name: "Create order" }).click();
  await expect(card).toHaveCount(0);
  const toast = board.locator(".toast").filter({ hasText: /Order #\d+ made for Bob Customer/ });
  await expect(toast).toBeVisible();
  const orderId = (await toast.textContent())!.match(/#(\d+)/)![1];
  await board.getByRole("tab", { name: /Orders/ }).click();
  const order = board.locator(`.column[data-status="pending"] .order-card[data-order-id="${orderId}"]`);
  await expect(order).toContainText("3 × Croissant");
  await expect(order).toContainText("1 × Rye bread");

  // The customer's page turns into the order's live status.
  await expect(page.locator(".list-status")).toHaveText("The shop is preparing your order");
  await expect(page.locator(`.list-order[data-order-id="${orderId}"] .status`)).toHaveText("Pending");
  await order.getByRole("button", { name: "Mark confirmed" }).click();
  await expect(page.locator(`.list-order[data-order-id="${orderId}"] .status`)).toHaveText("Confirmed");
  await expect(page.locator(".list-order .order-items li")).toHaveText(["3 × Croissant", "1 × Sourdough loaf", "1 × Rye bread"]);
  await phone.screenshot({ path: test.info().outputPath("list-ordered-360px.png"), fullPage: true });
  await openLink(phone, "Follow your order", page);
  await expect(phone).toHaveURL(new RegExp(`/orders/${orderId}$`));
});
