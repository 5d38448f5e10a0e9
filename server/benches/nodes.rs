//! Several nodes on PostgreSQL: starts release servers on a fresh PostgreSQL database (and one on
//! SQLite for comparison), drives them over loopback, and writes `docs/BENCHMARKS-nodes.md`.
//!
//!     .ci/bench     # starts a throwaway PostgreSQL and runs this and the realtime bench
//!     BENCH_POSTGRES=postgres://…/postgres cargo bench -p server --bench nodes
//!
//! Scenarios:
//! - across nodes: `BENCH_CUSTOMERS` (1,000) customers with 10 sockets each, 5 on node A and 5 on
//!   node B (10,000 in all); the shopkeeper changes order statuses through node A at
//!   `BENCH_RATE` (200) per second for `BENCH_SECS` (20) s; latency from PATCH sent to the
//!   frame received on node B's sockets, and every frame counted;
//! - the writer ceiling: 32 HTTP clients changing order statuses as fast as the server lets them
//!   for `BENCH_CEILING_SECS` (10) s, on SQLite, on PostgreSQL with one node, and with two.
//!
//! `BENCH_ONLY=sqlite-ceiling` measures the SQLite writer ceiling alone (no PostgreSQL needed),
//! and `BENCH_SERVER_BIN=path/to/ordercast` runs another build, to compare two commits.

mod support;

use futures_util::StreamExt;
use serde_json::json;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;
use tokio::sync::mpsc;

/// The demo bakery and a product with stock for every order the bench places.
async fn bakery_product(server: &Server, admin: &str) -> (i64, i64) {
    let (code, shops) = server.call(reqwest::Method::GET, "/shops", Some(admin), None).await;
    assert_eq!(code, 200);
    let bakery = shops["items"][0]["id"].as_i64().expect("shop");
    let (code, product) = server
        .call(reqwest::Method::POST, &format!("/shops/{bakery}/products"), Some(admin), Some(json!({"name": "Bench bread", "price_minor": 100, "stock": 1_000_000})))
        .await;
    assert_eq!(code, 201, "{product}");
    (bakery, product["id"].as_i64().expect("product"))
}

async fn place(server: &Server, token: &str, shop: i64, product: i64) -> i64 {
    let (code, order) = server
        .call(reqwest::Method::POST, "/orders", Some(token), Some(json!({"shop_id": shop, "items": [{"product_id": product, "quantity": 1}]})))
        .await;
    assert_eq!(code, 201, "{order}");
    order["id"].as_i64().expect("order")
}

/// PATCH through `writer` → frame on `watched`'s sockets. Every customer has 5 sockets on each
/// server; only the frames on `watched` are timed. Returns (sorted latencies in ms, expected, received).
async fn across_nodes(writer: &Server, watched: &Server, other: &Server, baker: &str, customers: &[(String, i64)], rate: usize, secs: usize) -> (Vec<f64>, usize, usize) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(i64, i64, Instant)>();
    let mut readers = Vec::new();
    let mut quiet = Vec::new();
    for (token, _) in customers {
        for _ in 0..5 {
            let ws = connect(&watched.base, token, None, &[]).await;
            readers.push(report_order_updates(ws, tx.clone()));
            // The same customer's sockets on the other node read and drop their frames.
            let mut ws = connect(&other.base, token, None, &[]).await;
            quiet.push(tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} }));
        }
    }
    drop(tx);

    let orders: Vec<i64> = customers.iter().map(|c| c.1).collect();
    let (sent, failures) = drive_status_changes(writer, baker, &orders, rate, secs).await;
    let expected = (sent.len() - failures) * 5;
    let mut latencies = collect_latencies(&mut rx, &sent, expected).await;
    for r in readers.into_iter().chain(quiet) {
        r.abort();
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let received = latencies.len();
    (latencies, expected, received)
}

/// Status changes per second that `clients` concurrent HTTP clients get through `servers`
/// (spread evenly) in `secs` seconds, each moving orders of its own through the state machine.
async fn ceiling(servers: &[&Server], clients: usize, secs: u64) -> f64 {
    let admin = servers[0].login("admin@ordercast.test").await;
    let (bakery, product) = bakery_product(servers[0], &admin).await;
    let customers = [servers[0].login("alice@ordercast.test").await, servers[0].login("bob@ordercast.test").await];
    // Enough orders that nobody runs out: measured ceilings are below 1,500 changes/s here.
    let per_client = (1_500 * secs as usize / STEPS.len() / clients).max(4);
    let mut work: Vec<Vec<i64>> = Vec::new();
    for c in 0..clients {
        let placed = futures_util::stream::iter(0..per_client)
            .map(|i| place(servers[0], &customers[(c + i) % 2], bakery, product))
            .buffer_unordered(8)
            .collect::<Vec<i64>>()
            .await;
        work.push(placed);
    }
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (c, orders) in work.into_iter().enumerate() {
        let server = servers[c % servers.len()];
        let (http, base, done) = (server.http.clone(), server.base.clone(), done.clone());
        let token = server.login("baker@ordercast.test").await;
        tasks.push(tokio::spawn(async move {
            'orders: for order in orders {
                for status in STEPS {
                    if Instant::now() >= deadline {
                        break 'orders;
                    }
                    let res = http.patch(format!("{base}/api/v1/orders/{order}/status")).bearer_auth(&token).json(&json!({"status": status})).send().await;
                    if res.map(|r| r.status().is_success()).unwrap_or(false) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    if std::env::var("BENCH_ONLY").as_deref() == Ok("sqlite-ceiling") {
        // For comparing builds (with BENCH_SERVER_BIN): the SQLite writer ceiling alone.
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = Server::start(&format!("sqlite:{}", dir.path().join("ceiling.db").display()), &[]).await;
        println!("SQLite writer ceiling: {:.0}/s", ceiling(&[&sqlite], 32, env_usize("BENCH_CEILING_SECS", 10) as u64).await);
        return;
    }

    let admin_url = std::env::var("BENCH_POSTGRES").expect("BENCH_POSTGRES: a PostgreSQL URL (.ci/bench starts one)");
    let customers_n = env_usize("BENCH_CUSTOMERS", 1_000);
    let rate = env_usize("BENCH_RATE", 200);
    let secs = env_usize("BENCH_SECS", 20);
    let ceiling_secs = env_usize("BENCH_CEILING_SECS", 10) as u64;
    let clients = 32;
    let started = chrono::Utc::now();
    let mut report = Report { md: String::new() };

    // --- Across nodes.
    let database = fresh_postgres(&admin_url).await;
    let a = Server::start(&database, &["--node-id", "node-a"]).await;
    let b = Server::start(&database, &["--node-id", "node-b"]).await;
    let admin = a.login("admin@ordercast.test").await;
    let baker = a.login("baker@ordercast.test").await;
    let (bakery, product) = bakery_product(&a, &admin).await;
    let setup = Instant::now();
    let customers: Vec<(String, i64)> = futures_util::stream::iter(0..customers_n)
        .map(|i| {
            let (a, admin) = (&a, admin.clone());
            async move {
                let email = format!("bench{i}@ordercast.test");
                let (code, body) = a
                    .call(reqwest::Method::POST, "/users", Some(&admin), Some(json!({"email": email, "name": format!("Bench {i}"), "role": "customer", "password": PASSWORD})))
                    .await;
                assert_eq!(code, 201, "{body}");
                let token = a.login(&email).await;
                let order = place(a, &token, bakery, product).await;
                (token, order)
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    println!("set up {customers_n} customers with an order each in {:.1} s", setup.elapsed().as_secs_f64());
    let (latencies, expected, received) = across_nodes(&a, &b, &a, &baker, &customers, rate, secs).await;
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    report.row(
        &format!(
            "across nodes: {} sockets over two nodes, {rate} status changes/s through node A for {secs} s: PATCH sent → frame on node B",
            customers_n * 10
        ),
        "p99 ≤ 15 ms, no loss",
        &format!("p50 {p50:.2} ms, p99 {p99:.2} ms, {received} of {expected} frames on node B"),
        Some(p99 <= 15.0 && received == expected),
    );
    let metrics_b = reqwest::get(format!("{}/metrics", b.base)).await.expect("metrics").text().await.unwrap_or_default();
    drop((a, b));

    // --- The writer ceiling.
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Server::start(&format!("sqlite:{}", dir.path().join("ceiling.db").display()), &[]).await;
    let on_sqlite = ceiling(&[&sqlite], clients, ceiling_secs).await;
    drop(sqlite);
    let database = fresh_postgres(&admin_url).await;
    let one = Server::start(&database, &["--node-id", "node-a"]).await;
    let on_postgres = ceiling(&[&one], clients, ceiling_secs).await;
    drop(one);
    let database = fresh_postgres(&admin_url).await;
    let (a, b) = (Server::start(&database, &["--node-id", "node-a"]).await, Server::start(&database, &["--node-id", "node-b"]).await);
    let on_two = ceiling(&[&a, &b], clients, ceiling_secs).await;
    drop((a, b));
    for (what, value) in [("SQLite, one node", on_sqlite), ("PostgreSQL, one node", on_postgres), ("PostgreSQL, two nodes", on_two)] {
        report.figure(&format!("writer ceiling: status changes/s, {clients} HTTP clients, {ceiling_secs} s, {what}"), &format!("{value:.0}/s"));
    }

    let relay: String = metrics_b
        .lines()
        .filter(|l| !l.starts_with('#') && (l.starts_with("ordercast_relay") || l.starts_with("ordercast_node")))
        .map(|l| format!("    {l}\n"))
        .collect();
    let mut out = String::new();
    let _ = write!(
        out,
        "# Benchmarks: several nodes on PostgreSQL\n\nGenerated by `.ci/bench` (`cargo bench -p server --bench nodes`) on {} (UTC). \
         The load generator, both nodes and PostgreSQL share one machine.\n\n## Machine\n\n{}\n## Results\n\n\
         | scenario | target | measured | verdict |\n|---|---|---|---|\n{}\n## Node B's relay at the end of the cross-node run\n\n{}\n",
        started.format("%Y-%m-%d %H:%M"),
        machine("release builds, PostgreSQL 15 (durable commits, fsync on) on local disk, loopback network"),
        report.md,
        relay
    );
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs");
    if let Ok(notes) = std::fs::read_to_string(format!("{docs}/BENCHMARKS-nodes.notes.md")) {
        out.push_str(&notes);
    }
    let path = format!("{docs}/BENCHMARKS-nodes.md");
    std::fs::write(&path, out).expect("write the report");
    println!("wrote {path}");
}
