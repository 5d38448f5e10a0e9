// Server-side rendering of a busy board: places orders until the bakery has 200 open ones,
// spreads them over the columns, then times full GET /board requests (session cookie,
// server-rendered HTML) from this machine, as it is and just after a change (the stock of a
// product, before each request). Usage: node end2end/bench/board-ssr.mjs [base URL] [requests]
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
// A lunch service, not a queue: the open orders spread over the board's five columns (every
// fifth stays pending, the next moves one step, and so on), each column with its own cards.
const steps = ["confirmed", "preparing", "ready", "out_for_delivery"];
const mine = [];
for (let page = 1; ; page++) {
  const { items } = await (await fetch(`${base}/api/v1/orders?shop_id=1&status=pending&per_page=100&page=${page}&sort=oldest`, { headers: json(baker.token) })).json();
  mine.push(...items);
  if (items.length < 100) break;
}
for (const [i, order] of mine.entries()) {
  for (const status of steps.slice(0, i % 5)) {
    const r = await fetch(`${base}/api/v1/orders/${order.id}/status`, { method: "PATCH", headers: json(baker.token), body: JSON.stringify({ status }) });
    if (!r.ok) throw new Error(`status ${order.id} → ${status}: ${r.status} ${await r.text()}`);
  }
}
const openOrders = await open();

// Times `requests` GETs of `path` after 20 to warm caches; returns the quantiles of the time
// to the response's head and to its last byte, and the body size. Pages are rendered whole
// before anything is sent, so the head's arrival is the server's time to render; the rest is
// the transfer and this client reading 300 KiB of text.
async function time(path, headers, check, before = async () => {}) {
  const head = [];
  const whole = [];
  let bytes = 0;
  for (let i = 0; i < requests + 20; i++) {
    await before(i);
    const t0 = performance.now();
    const r = await fetch(`${base}${path}`, { headers });
    const t1 = performance.now();
    const body = await r.text();
    const t2 = performance.now();
    if (r.status !== 200 || !check(body)) throw new Error(`${path}: ${r.status}`);
    if (i >= 20) {
      head.push(t1 - t0);
      whole.push(t2 - t0);
    }
    bytes = body.length;
  }
  const q = (times, p) => {
    const sorted = [...times].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1);
  };
  const row = (times) => `p50 ${q(times, 0.5)}, p95 ${q(times, 0.95)}, max ${q(times, 1)}`;
  return `${(bytes / 1024).toFixed(0)} KiB; ms to the head ${row(head)}; to the last byte ${row(whole)}`;
}
// The page, and the data it is made from (the same read, as JSON): the difference is the render.
const page = await time("/board", { cookie: baker.cookie }, (html) => html.includes("order-card"));
const data = await time("/api/v1/shops/1/board", { authorization: `Bearer ${baker.token}` }, (j) => j.includes('"orders"'));
// Each request right after a change to the board, committed (its response received): how
// many of these the server answered from memory it says in /metrics.
const boards = async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const n = (name) => Number(text.match(new RegExp(`^${name} (\\S+)`, "m"))?.[1] ?? NaN);
  return { kept: n("ordercast_boards_kept_total"), read: n("ordercast_boards_read_total") };
};
const change = async (i) => {
  const r = await fetch(`${base}/api/v1/products/${products[0].id}`, { method: "PATCH", headers: json(baker.token), body: JSON.stringify({ stock: 100000 + i }) });
  if (!r.ok) throw new Error(`stock: ${r.status}`);
};
const b0 = await boards();
const changed = await time("/board", { cookie: baker.cookie }, (html) => html.includes("order-card"), change);
const b1 = await boards();
console.log(`board with ${openOrders} open orders, ${requests} requests each`);
console.log(`  GET /board (HTML):                  ${page}`);
console.log(`  GET /api/v1/shops/1/board (JSON):   ${data}`);
console.log(`  GET /board, each just after a change: ${changed}`);
console.log(`    of those, from memory ${b1.kept - b0.kept}, read ${b1.read - b0.read}`);
