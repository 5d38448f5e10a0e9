// Server-side rendering of a busy board: places orders until the bakery has 200 open ones,
// then times full GET /board requests (session cookie, server-rendered HTML) from this
// machine. Usage: node end2end/bench/board-ssr.mjs [base URL] [requests]
// Run against a release build on a fresh database (e.g. target/release/ordercast --addr
// 127.0.0.1:3300 --database-url sqlite:/tmp/bench.db).
const base = process.argv[2] ?? "http://127.0.0.1:3300";
const requests = Number(process.argv[3] ?? 200);

async function login(email) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "ordercast" }),
  });
  if (!r.ok) throw new Error(`login ${email}: ${r.status}`);
  return { token: (await r.json()).token, cookie: r.headers.get("set-cookie").split(";")[0] };
}
const json = (token) => ({ "content-type": "application/json", authorization: `Bearer ${token}` });

const alice = await login("alice@ordercast.test");
const baker = await login("baker@ordercast.test");
const products = (await (await fetch(`${base}/api/v1/shops/1/products`, { headers: json(alice.token) })).json()).items;
for (const p of products) {
  await fetch(`${base}/api/v1/products/${p.id}`, { method: "PATCH", headers: json(baker.token), body: JSON.stringify({ stock: 100000 }) });
}
const open = async () => {
  let n = 0;
  for (const status of ["pending", "confirmed", "preparing", "ready", "out_for_delivery"]) {
    n += (await (await fetch(`${base}/api/v1/orders?shop_id=1&status=${status}&per_page=1`, { headers: json(baker.token) })).json()).total;
  }
  return n;
};
for (let i = await open(); i < 200; i++) {
  const body = { shop_id: 1, items: [{ product_id: products[i % products.length].id, quantity: 1 + (i % 3) }] };
  const r = await fetch(`${base}/api/v1/orders`, { method: "POST", headers: json(alice.token), body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`order: ${r.status} ${await r.text()}`);
}
const openOrders = await open();

// Times `requests` GETs of `path` after 20 to warm caches; returns the quantiles and the body size.
async function time(path, headers, check) {
  const times = [];
  let bytes = 0;
  for (let i = 0; i < requests + 20; i++) {
    const t0 = performance.now();
    const r = await fetch(`${base}${path}`, { headers });
    const body = await r.text();
    const ms = performance.now() - t0;
    if (r.status !== 200 || !check(body)) throw new Error(`${path}: ${r.status}`);
    if (i >= 20) times.push(ms);
    bytes = body.length;
  }
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
  return `${(bytes / 1024).toFixed(0)} KiB; ms p50 ${q(0.5)}, p95 ${q(0.95)}, max ${q(1)}`;
}
// The page, and the data it is made from (the same read, as JSON): the difference is the render.
const page = await time("/board", { cookie: baker.cookie }, (html) => html.includes("order-card"));
const data = await time("/api/v1/shops/1/board", { authorization: `Bearer ${baker.token}` }, (j) => j.includes('"orders"'));
console.log(`board with ${openOrders} open orders, ${requests} requests each`);
console.log(`  GET /board (HTML):                  ${page}`);
console.log(`  GET /api/v1/shops/1/board (JSON):   ${data}`);
