//! What the benchmarks share: the release server started as a child process on a fresh
//! database, WebSocket clients, percentiles, the report table and the machine's description.

#![allow(dead_code)] // each bench uses part of it

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

pub const PASSWORD: &str = "ordercast";

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A fresh database for a benchmark: a SQLite file in `dir`, or a new database on the
/// PostgreSQL server `BENCH_POSTGRES` names (a URL of its maintenance database).
pub async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match std::env::var("BENCH_POSTGRES") {
        Ok(admin) if !admin.is_empty() => fresh_postgres(&admin).await,
        _ => format!("sqlite:{}", dir.path().join("bench.db").display()),
    }
}

pub async fn fresh_postgres(admin: &str) -> String {
    use sqlx::Connection;
    let name = format!("ordercast_bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("connect to PostgreSQL");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await.expect("drop");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create a bench database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}

impl Server {
    /// The release server on `database_url`, with limits raised for load and `extra_args`.
    pub async fn start(database_url: &str, extra_args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        // BENCH_SERVER_BIN runs another build (e.g. an older commit's) for a comparison.
        let bin = std::env::var("BENCH_SERVER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ordercast").to_owned());
        // BENCH_SERVER_CPUS=0 runs the server on those CPUs only (`taskset -c`); run the bench
        // itself under `taskset -c 1` to keep the load generator off them.
        let mut command = match std::env::var("BENCH_SERVER_CPUS") {
            Ok(cpus) if !cpus.is_empty() => {
                let mut c = Command::new("taskset");
                c.args(["-c", &cpus, &bin]);
                c
            }
            _ => Command::new(&bin),
        };
        let mut child = command
            .args(["--addr", "127.0.0.1:0", "--database-url", database_url])
            .args(["--ws-max-connections-per-user", "100000", "--ws-heartbeat-secs", "600", "--login-attempts", "100000"])
            .args(extra_args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the release server");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let base = loop {
            let line = lines.next_line().await.expect("read").expect("server exited");
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.trim().to_owned();
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().expect("client");
        Server { child, base, http, _dir: dir }
    }

    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("pid");
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
            .unwrap_or(0)
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}/api/v1{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn login(&self, email: &str) -> String {
        let (status, body) = self.call(reqwest::Method::POST, "/auth/login", None, Some(json!({"email": email, "password": PASSWORD}))).await;
        assert_eq!(status, 200, "login {email}: {body}");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn connections(&self, admin: &str) -> u64 {
        self.call(reqwest::Method::GET, "/ws/stats", Some(admin), None).await.1["connections"].as_u64().unwrap_or(0)
    }
}

/// Client sockets with a small read buffer: tungstenite's default (128 KiB, zeroed on use)
/// made the load generator, not the server, the bottleneck.
pub fn client_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0)
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects, reads `hello`, sends `resume` (with topics) and reads `resumed`.
pub async fn connect(base: &str, token: &str, last_seq: Option<i64>, topics: &[String]) -> Socket {
    let url = format!("{}/ws", base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert("authorization", HeaderValue::from_str(&format!("Bearer {token}")).expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(client_config()), true).await.expect("upgrade");
    next_text(&mut ws).await; // hello
    ws.send(Message::text(json!({"type": "resume", "last_seq": last_seq, "topics": topics}).to_string())).await.expect("send");
    loop {
        let v: Value = serde_json::from_str(&next_text(&mut ws).await).expect("json");
        if v["type"] == "resumed" {
            return ws;
        }
        assert_ne!(v["type"], "error", "{v}");
    }
}

pub async fn next_text(ws: &mut Socket) -> String {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}

/// Opens `n` sockets with `concurrency` connects in flight; returns them and the elapsed time.
pub async fn open_many(base: &str, tokens: &[String], n: usize, concurrency: usize, topics: Vec<String>) -> (Vec<Socket>, Duration) {
    let started = Instant::now();
    let sockets: Vec<Socket> = futures_util::stream::iter(0..n)
        .map(|i| {
            let token = tokens[i % tokens.len()].clone();
            let base = base.to_owned();
            let topics = topics.clone();
            async move { connect(&base, &token, None, &topics).await }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    (sockets, started.elapsed())
}

/// Reads a customer's socket until it ends, reporting each `order_updated` as (order id,
/// version, when it arrived).
pub fn report_order_updates(mut ws: Socket, tx: tokio::sync::mpsc::UnboundedSender<(i64, i64, Instant)>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                let at = Instant::now();
                if let Ok(v) = serde_json::from_str::<Value>(t.as_str()) {
                    if v["type"] == "order_updated" {
                        let order = &v["data"]["order"];
                        let _ = tx.send((order["id"].as_i64().unwrap_or(0), order["version"].as_i64().unwrap_or(0), at));
                    }
                }
            }
        }
    })
}

/// The order's steps after `pending`, in order.
pub const STEPS: [&str; 5] = ["confirmed", "preparing", "ready", "out_for_delivery", "delivered"];

/// Changes order statuses through `server` as `token`, one every 1/`rate` seconds for `secs`
/// seconds, round-robin over `orders` (each at most through [`STEPS`]). Returns when each
/// (order, version) change was sent, and how many were refused or failed.
pub async fn drive_status_changes(server: &Server, token: &str, orders: &[i64], rate: usize, secs: usize) -> (HashMap<(i64, i64), Instant>, usize) {
    let sent: Arc<Mutex<HashMap<(i64, i64), Instant>>> = Arc::default();
    let failures = Arc::new(AtomicUsize::new(0));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut next_step: HashMap<i64, usize> = HashMap::new();
    let mut handles = Vec::new();
    for i in 0..rate * secs {
        ticker.tick().await;
        let order = orders[i % orders.len()];
        let step = next_step.entry(order).or_insert(0);
        if *step >= STEPS.len() {
            continue;
        }
        let status = STEPS[*step];
        *step += 1;
        let version = *step as i64 + 1;
        let (sent, failures, http) = (sent.clone(), failures.clone(), server.http.clone());
        let url = format!("{}/api/v1/orders/{order}/status", server.base);
        let token = token.to_owned();
        handles.push(tokio::spawn(async move {
            sent.lock().expect("lock").insert((order, version), Instant::now());
            let ok = http.patch(url).bearer_auth(token).json(&json!({"status": status})).send().await.map(|r| r.status().is_success()).unwrap_or(false);
            if !ok {
                failures.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let sent = sent.lock().expect("lock").clone();
    (sent, failures.load(Ordering::Relaxed))
}

/// Milliseconds from each change's PATCH to each frame reporting it, until `expected` frames
/// came or 10 s passed without one (the rest are lost).
pub async fn collect_latencies(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(i64, i64, Instant)>,
    sent: &HashMap<(i64, i64), Instant>,
    expected: usize,
) -> Vec<f64> {
    let mut latencies = Vec::with_capacity(expected);
    while latencies.len() < expected {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some((order, version, at))) => {
                if let Some(t0) = sent.get(&(order, version)) {
                    latencies.push(at.duration_since(*t0).as_secs_f64() * 1000.0);
                }
            }
            _ => break,
        }
    }
    latencies
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub struct Report {
    pub md: String,
}

impl Report {
    /// A figure measured for comparison, with no target.
    pub fn figure(&mut self, what: &str, measured: &str) {
        let _ = writeln!(self.md, "| {what} | — | {measured} | (measured) |");
        println!("{what}: {measured}");
    }

    pub fn row(&mut self, what: &str, target: &str, measured: &str, met: Option<bool>) {
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "not measurable here",
        };
        let _ = writeln!(self.md, "| {what} | {target} | {measured} | {verdict} |");
        println!("{what}: {measured} (target {target}): {verdict}");
    }
}

/// The machine, for the report; `server` says what the server ran on.
pub fn machine(server: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0) / 1024 / 1024))
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let nofile = std::process::Command::new("sh").args(["-c", "ulimit -Hn"]).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default();
    format!(
        "- CPU: {cpu}, {cores} cores (shared by the server and the load generator)\n- Memory: {mem} GiB\n- Kernel: Linux {}\n- Open-files hard limit per process: {nofile}\n- Server: {server}\n",
        kernel.trim()
    )
}


/// What [`drive_closed_loop`] did.
pub struct ClosedLoop {
    /// When each (order, version) change was sent.
    pub sent: HashMap<(i64, i64), Instant>,
    pub done: usize,
    pub failures: usize,
    pub elapsed: Duration,
}

/// `clients` HTTP clients changing statuses as fast as the server answers, each sending its
/// next change when the last is answered, for `secs` seconds or until `orders` have all been
/// taken through [`STEPS`]. The changes are taken step by step across all orders (every
/// order's first step, then every order's second, ...), so one order is never changed by two
/// clients at once.
pub async fn drive_closed_loop(server: &Server, token: &str, orders: &[i64], clients: usize, secs: usize) -> ClosedLoop {
    let plan: Arc<Vec<(i64, usize)>> = Arc::new((0..STEPS.len()).flat_map(|step| orders.iter().map(move |&o| (o, step))).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let sent: Arc<Mutex<HashMap<(i64, i64), Instant>>> = Arc::new(Mutex::new(HashMap::with_capacity(plan.len())));
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(secs as u64);
    let mut handles = Vec::new();
    for _ in 0..clients {
        let (plan, next, sent, failures, done) = (plan.clone(), next.clone(), sent.clone(), failures.clone(), done.clone());
        let http = server.http.clone();
        let base = server.base.clone();
        let token = token.to_owned();
        handles.push(tokio::spawn(async move {
            while Instant::now() < until {
                let Some(&(order, step)) = plan.get(next.fetch_add(1, Ordering::Relaxed)) else { break };
                let version = step as i64 + 2;
                sent.lock().expect("lock").insert((order, version), Instant::now());
                let ok = http
                    .patch(format!("{base}/api/v1/orders/{order}/status"))
                    .bearer_auth(&token)
                    .json(&json!({"status": STEPS[step]}))
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let elapsed = started.elapsed();
    let sent = sent.lock().expect("lock").clone();
    ClosedLoop { sent, done: done.load(Ordering::Relaxed), failures: failures.load(Ordering::Relaxed), elapsed }
}
