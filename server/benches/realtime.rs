//! The real-time benchmark: starts the release server on a fresh database, drives it over
//! loopback with real WebSocket clients from this process, and writes `docs/BENCHMARKS.md`.
//!
//!     cargo bench -p server --bench realtime
//!
//! Scenarios (sizes can be lowered with environment variables for a quick run):
//! - connection rate and idle memory: `BENCH_IDLE` sockets (default 18,000: the sandbox caps
//!   open files at 20,000 per process, see the report);
//! - fan-out: one event to `BENCH_FANOUT` (10,000) subscribers, `BENCH_FANOUT_ROUNDS` times;
//! - end to end: `BENCH_CUSTOMERS` (2,000) customers × 5 sockets, status changes at
//!   `BENCH_RATE` (200) per second for `BENCH_SECS` (20) seconds: PATCH sent → frame received;
//! - the same with 1% more sockets that never read;
//! - resume: 100 missed events replayed, `BENCH_RESUME_ROUNDS` (20) times.
//!
//! With `BENCH_POSTGRES` (a PostgreSQL URL, e.g. `.ci/bench` sets it) the server runs on a fresh
//! PostgreSQL database instead, and the report goes to `docs/BENCHMARKS-postgres.md`.

mod support;

use futures_util::StreamExt;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use support::*;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// PATCH → frame latency with `customers` × 5 sockets, plus `stuck` sockets that never read.
async fn end_to_end(server: &Server, baker: &str, customers: &[(String, i64)], rate: usize, secs: usize, stuck: usize) -> (Vec<f64>, usize, usize) {
    // Readers: every socket reports (order id, version, when).
    let (tx, mut rx) = mpsc::unbounded_channel::<(i64, i64, Instant)>();
    let mut readers = Vec::new();
    for (token, _) in customers {
        for _ in 0..5 {
            let ws = connect(&server.base, token, None, &[]).await;
            readers.push(report_order_updates(ws, tx.clone()));
        }
    }
    drop(tx);
    let mut stuck_sockets = Vec::new();
    for i in 0..stuck {
        stuck_sockets.push(connect(&server.base, &customers[i % customers.len()].0, None, &[]).await);
    }

    // Driver: one status change every 1/rate seconds, round-robin over the orders.
    let orders: Vec<i64> = customers.iter().map(|c| c.1).collect();
    let (sent, failures) = drive_status_changes(server, baker, &orders, rate, secs).await;
    // Every frame due: 5 per change. Wait for them (or give up after 10 s of silence: loss).
    let expected = (sent.len() - failures) * 5;
    let mut latencies = collect_latencies(&mut rx, &sent, expected).await;
    for r in readers {
        r.abort();
    }
    drop(stuck_sockets);
    latencies.sort_by(|a, b| a.total_cmp(b));
    let received = latencies.len();
    (latencies, expected, received)
}

#[tokio::main]
async fn main() {
    let idle_n = env_usize("BENCH_IDLE", 18_000);
    let fanout_n = env_usize("BENCH_FANOUT", 10_000);
    let fanout_rounds = env_usize("BENCH_FANOUT_ROUNDS", 20);
    let customers_n = env_usize("BENCH_CUSTOMERS", 2_000);
    let rate = env_usize("BENCH_RATE", 200);
    let secs = env_usize("BENCH_SECS", 20);
    let resume_rounds = env_usize("BENCH_RESUME_ROUNDS", 20);
    let write_orders = env_usize("BENCH_WRITE_ORDERS", 15);
    let write_clients = env_usize("BENCH_WRITE_CLIENTS", 32);
    // `BENCH_ONLY=writes,fanout` runs only those scenarios (idle, fanout, resume, e2e, writes)
    // and prints their figures without rewriting the report.
    let only: Option<Vec<String>> = std::env::var("BENCH_ONLY").ok().map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());
    let wants = |scenario: &str| only.as_ref().is_none_or(|o| o.iter().any(|s| s == scenario));

    let dir = tempfile::tempdir().expect("temp dir");
    let database = fresh_database(&dir).await;
    let on_postgres = database.starts_with("postgres");
    let server = Server::start(&database, &[]).await;
    let admin = server.login("admin@ordercast.test").await;
    let baker = server.login("baker@ordercast.test").await;
    let alice = server.login("alice@ordercast.test").await;
    let mut report = Report { md: String::new() };
    let started = chrono::Utc::now();

    // --- Connection rate and idle memory, at 5,000 sockets and at `idle_n`.
    if wants("idle") {
        let first = idle_n.min(5_000);
        let rss_before = server.rss_kib();
        let (mut idle, elapsed) = open_many(&server.base, std::slice::from_ref(&alice), first, 200, vec![]).await;
        let rss_first = server.rss_kib();
        let (more, _) = open_many(&server.base, std::slice::from_ref(&alice), idle_n - first, 200, vec![]).await;
        idle.extend(more);
        let rss_after = server.rss_kib();
        let rate_per_s = first as f64 / elapsed.as_secs_f64();
        let per_first = rss_first.saturating_sub(rss_before) as f64 / first as f64;
        let per_socket = rss_after.saturating_sub(rss_before) as f64 / idle_n as f64;
        let held = server.connections(&admin).await;
        report.row(
            "idle sockets held (authenticated, resumed)",
            "50,000",
            &format!("{held} held; 50,000 cannot be opened here (open-files hard limit 20,000 per process)"),
            None,
        );
        report.row(
            "server memory per idle authenticated socket",
            "≤ 6 KiB at 5,000 and at 18,000",
            &format!(
                "{per_first:.1} KiB at {first} (RSS {rss_before} → {rss_first} KiB); {per_socket:.1} KiB at {idle_n} (→ {rss_after} KiB)"
            ),
            Some(per_first <= 6.0 && per_socket <= 6.0),
        );
        report.row(
            "new authenticated sockets per second (upgrade, hello, resume, resumed)",
            "≥ 8,000",
            &format!("{rate_per_s:.0}/s ({first} in {:.2} s, 200 in flight)", elapsed.as_secs_f64()),
            Some(rate_per_s >= 8_000.0),
        );
        drop(idle);
        while server.connections(&admin).await > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let (code, shops) = server.call(reqwest::Method::GET, "/shops", Some(&admin), None).await;
    assert_eq!(code, 200);
    let bakery = shops["items"][0]["id"].as_i64().expect("shop");
    let (code, product) = server
        .call(reqwest::Method::POST, &format!("/shops/{bakery}/products"), Some(&admin), Some(json!({"name": "Bench bread", "price_minor": 100, "stock": 1_000_000})))
        .await;
    assert_eq!(code, 201, "{product}");
    let product_id = product["id"].as_i64().expect("product");

    // --- Fan-out: one event to many subscribers of a shop's catalogue.
    if wants("fanout") {
    let (subs, _) = open_many(&server.base, std::slice::from_ref(&alice), fanout_n, 64, vec![format!("catalog:{bakery}")]).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<(i64, Instant)>();
    let mut readers = Vec::new();
    for mut ws in subs {
        let tx = tx.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(t) = msg {
                    if let Ok(v) = serde_json::from_str::<Value>(t.as_str()) {
                        if v["type"] == "product_availability_changed" {
                            let _ = tx.send((v["seq"].as_i64().unwrap_or(0), Instant::now()));
                        }
                    }
                }
            }
        }));
    }
    drop(tx);
    let mut fanout_ms = Vec::new();
    for round in 0..fanout_rounds {
        let t0 = Instant::now();
        let (code, _) = server
            .call(reqwest::Method::PATCH, &format!("/products/{product_id}"), Some(&admin), Some(json!({"available": round % 2 == 1})))
            .await;
        assert_eq!(code, 200);
        let mut got = 0;
        let mut last = t0;
        while got < fanout_n {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some((_, at))) => {
                    got += 1;
                    last = at;
                }
                _ => break,
            }
        }
        assert_eq!(got, fanout_n, "round {round}: lost events");
        fanout_ms.push(last.duration_since(t0).as_secs_f64() * 1000.0);
    }
    for r in readers {
        r.abort();
    }
    server.call(reqwest::Method::PATCH, &format!("/products/{product_id}"), Some(&admin), Some(json!({"available": true}))).await;
    fanout_ms.sort_by(|a, b| a.total_cmp(b));
    let p99 = percentile(&fanout_ms, 0.99);
    report.row(
        &format!("fan-out: PATCH sent → last of {fanout_n} subscribers received"),
        "≤ 50 ms (p99)",
        &format!("p50 {:.1} ms, p99 {p99:.1} ms over {fanout_rounds} rounds", percentile(&fanout_ms, 0.5)),
        Some(p99 <= 50.0),
    );
    while server.connections(&admin).await > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    }

    // --- Resume: 100 missed events replayed in order.
    if wants("resume") {
    let mut resume_ms = Vec::new();
    let alice_id = server.call(reqwest::Method::GET, "/auth/me", Some(&alice), None).await.1["id"].as_i64().expect("id");
    for _ in 0..resume_rounds {
        let seq = server.call(reqwest::Method::GET, "/orders?per_page=1", Some(&alice), None).await.1["seq"].as_i64().expect("seq");
        for i in 0..100 {
            let (code, _) = server
                .call(reqwest::Method::POST, "/notifications", Some(&admin), Some(json!({"user_id": alice_id, "severity": "info", "text": format!("missed {i}")})))
                .await;
            assert_eq!(code, 201);
        }
        let url = format!("{}/ws?last_seq={seq}", server.base.replacen("http://", "ws://", 1));
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert("authorization", HeaderValue::from_str(&format!("Bearer {alice}")).expect("header"));
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(client_config()), true).await.expect("upgrade");
        next_text(&mut ws).await; // hello: the replay starts now
        let t0 = Instant::now();
        let mut seqs = Vec::new();
        loop {
            let v: Value = serde_json::from_str(&next_text(&mut ws).await).expect("json");
            if v["type"] == "resumed" {
                break;
            }
            seqs.push(v["seq"].as_i64().unwrap_or(0));
        }
        resume_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(seqs.len(), 100, "replayed everything");
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order");
    }
    resume_ms.sort_by(|a, b| a.total_cmp(b));
    let p99 = percentile(&resume_ms, 0.99);
    report.row(
        "resume: 100 missed events replayed in order (hello → resumed)",
        "≤ 50 ms",
        &format!("p50 {:.1} ms, p99 {p99:.1} ms over {resume_rounds} rounds", percentile(&resume_ms, 0.5)),
        Some(p99 <= 50.0),
    );

    }

    // --- Customers, each with an order, for the write and end-to-end scenarios.
    let mut customers: Vec<(String, i64)> = Vec::with_capacity(customers_n);
    if wants("writes") || wants("e2e") {
    let setup = Instant::now();
    let created: Vec<(String, i64)> = futures_util::stream::iter(0..customers_n)
        .map(|i| {
            let server = &server;
            let admin = admin.clone();
            async move {
                let email = format!("bench{i}@ordercast.test");
                let (code, body) = server
                    .call(reqwest::Method::POST, "/users", Some(&admin), Some(json!({"email": email, "name": format!("Bench {i}"), "role": "customer", "password": PASSWORD})))
                    .await;
                assert_eq!(code, 201, "{body}");
                let token = server.login(&email).await;
                let (code, order) = server
                    .call(reqwest::Method::POST, "/orders", Some(&token), Some(json!({"shop_id": bakery, "items": [{"product_id": product_id, "quantity": 1}]})))
                    .await;
                assert_eq!(code, 201, "{order}");
                (token, order["id"].as_i64().expect("order"))
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    customers.extend(created);
    println!("set up {customers_n} customers with an order each in {:.1} s", setup.elapsed().as_secs_f64());

    }

    // --- Writes: as many status changes as 32 HTTP clients get through, each pushed to the
    // customer's one socket.
    if wants("writes") {
        let setup = Instant::now();
        let orders: Vec<(usize, i64)> = futures_util::stream::iter((0..write_orders).flat_map(|_| 0..customers.len()))
            .map(|i| {
                let (server, token) = (&server, &customers[i].0);
                async move {
                    let (code, order) = server
                        .call(reqwest::Method::POST, "/orders", Some(token), Some(json!({"shop_id": bakery, "items": [{"product_id": product_id, "quantity": 1}]})))
                        .await;
                    assert_eq!(code, 201, "{order}");
                    (i, order["id"].as_i64().expect("order"))
                }
            })
            .buffer_unordered(32)
            .collect()
            .await;
        println!("placed {} orders in {:.1} s", orders.len(), setup.elapsed().as_secs_f64());
        let (tx, mut rx) = mpsc::unbounded_channel::<(i64, i64, Instant)>();
        let mut readers = Vec::new();
        for (token, _) in &customers {
            readers.push(report_order_updates(connect(&server.base, token, None, &[]).await, tx.clone()));
        }
        drop(tx);
        let ids: Vec<i64> = orders.iter().map(|o| o.1).collect();
        let run = drive_closed_loop(&server, &baker, &ids, write_clients, secs).await;
        let mut latencies = collect_latencies(&mut rx, &run.sent, run.done).await;
        for r in readers {
            r.abort();
        }
        latencies.sort_by(|a, b| a.total_cmp(b));
        let per_s = run.done as f64 / run.elapsed.as_secs_f64();
        let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
        report.row(
            &format!(
                "writes: {} customers each watching their orders on one socket, {write_clients} HTTP clients changing statuses for {:.0} s, each change pushed to its customer",
                customers.len(),
                run.elapsed.as_secs_f64()
            ),
            "≥ 6,000 changes/s, push p99 ≤ 15 ms, nothing lost",
            &format!(
                "{per_s:.0} changes/s ({} in {:.1} s, {} refused); push p50 {p50:.2} ms, p99 {p99:.2} ms; {} of {} frames",
                run.done,
                run.elapsed.as_secs_f64(),
                run.failures,
                latencies.len(),
                run.done
            ),
            Some(per_s >= 6_000.0 && p99 <= 15.0 && latencies.len() == run.done && run.failures == 0),
        );
        while server.connections(&admin).await > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // --- End to end: customers with 5 sockets each, a paced stream of changes.
    if wants("e2e") {
    let (baseline, expected, received) = end_to_end(&server, &baker, &customers, rate, secs, 0).await;
    let (p50, p99) = (percentile(&baseline, 0.5), percentile(&baseline, 0.99));
    report.row(
        &format!("end to end: {} sockets, {rate} status changes/s for {secs} s, each to 5 sockets: PATCH sent → frame received", customers_n * 5),
        "p50 ≤ 2 ms, p99 ≤ 10 ms, no loss",
        &format!("p50 {p50:.2} ms, p99 {p99:.2} ms, {received} of {expected} frames"),
        Some(p50 <= 2.0 && p99 <= 10.0 && received == expected),
    );
    while server.connections(&admin).await > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Fresh orders for the second run.
    let mut again = Vec::with_capacity(customers.len());
    for (token, _) in &customers {
        let (code, order) = server
            .call(reqwest::Method::POST, "/orders", Some(token), Some(json!({"shop_id": bakery, "items": [{"product_id": product_id, "quantity": 1}]})))
            .await;
        assert_eq!(code, 201);
        again.push((token.clone(), order["id"].as_i64().expect("order")));
    }
    let stuck = customers_n * 5 / 100;
    let (slow, expected, received) = end_to_end(&server, &baker, &again, rate, secs, stuck).await;
    let slow_p99 = percentile(&slow, 0.99);
    let rise = (slow_p99 / p99 - 1.0) * 100.0;
    report.row(
        &format!("slow clients: {stuck} more sockets (1%) that never read"),
        "others' p99 rises ≤ 10%",
        &format!("p50 {:.2} ms, p99 {slow_p99:.2} ms ({rise:+.0}% against {p99:.2} ms), {received} of {expected} frames", percentile(&slow, 0.5)),
        Some(rise <= 10.0 && received == expected),
    );

    }

    let metrics = reqwest::get(format!("{}/metrics", server.base)).await.expect("metrics").text().await.unwrap_or_default();
    let interesting: String = metrics
        .lines()
        .filter(|l| !l.starts_with('#') && (l.contains("_total") || l.contains("latency_seconds_count") || l.contains("latency_seconds_sum")))
        .map(|l| format!("    {l}\n"))
        .collect();

    let mut out = String::new();
    let _ = write!(
        out,
        "# Benchmarks\n\nGenerated by `cargo bench -p server --bench realtime` on {} (UTC){}. The load generator runs in \
         the same machine as the server and shares its cores.\n\n## Machine\n\n{}\n## Results\n\n| scenario | target | measured | verdict |\n|---|---|---|---|\n{}\n\
         ## Server metrics at the end\n\n{}\n",
        started.format("%Y-%m-%d %H:%M"),
        if on_postgres { " with `BENCH_POSTGRES` set: the server on PostgreSQL" } else { "" },
        machine(if on_postgres {
            "release build, PostgreSQL 15 (durable commits) on local disk, loopback network"
        } else {
            "release build, SQLite (WAL) on local disk, loopback network"
        }),
        report.md,
        interesting
    );
    if only.is_some() {
        println!("{}\n{interesting}(BENCH_ONLY: the report is not rewritten)", report.md);
        return;
    }
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs");
    let path = if on_postgres { format!("{docs}/BENCHMARKS-postgres.md") } else { format!("{docs}/BENCHMARKS.md") };
    if !on_postgres {
        if let Ok(notes) = std::fs::read_to_string(format!("{docs}/BENCHMARKS.notes.md")) {
            out.push_str(&notes);
        }
    }
    std::fs::write(&path, out).expect("write the report");
    println!("wrote {path}");
}
