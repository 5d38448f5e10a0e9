import { test, expect } from "@playwright/test";

test("assets have content-hashed names, come brotli- or gzip-compressed and are cached for a year; pages are not cached", async ({ page, request }) => {
  const res = await page.goto("/login");
  expect(res!.headers()["cache-control"]).toBe("no-cache");
  const html = await res!.text();
  const assets = [...new Set([...html.matchAll(/\/pkg\/ordercast\.[A-Za-z0-9_-]{8,}\.(?:js|wasm|css)/g)].map((m) => m[0]))];
  expect(assets.map((a) => a.split(".").pop()).sort()).toEqual(["css", "js", "wasm"]);
  for (const path of assets) {
    const br = await request.get(path, { headers: { "Accept-Encoding": "br, gzip" } });
    expect(br.status(), path).toBe(200);
    expect(br.headers()["content-encoding"], path).toBe("br");
    expect(br.headers()["cache-control"], path).toBe("public, max-age=31536000, immutable");
    const gz = await request.get(path, { headers: { "Accept-Encoding": "gzip" } });
    expect(gz.headers()["content-encoding"], path).toBe("gzip");
  }
  // The page still hydrates from the hashed files.
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
});
