//! A real server for each test: the `ordercast` binary on a random port with a fresh database
//! (seeded with the demo data), and a small HTTP client for it.
//!
//! The database is a fresh SQLite file, or, when `ORDERCAST_TEST_POSTGRES` names a PostgreSQL
//! server (`.ci/test` starts one), a fresh PostgreSQL database on it: the same tests run on
//! both engines.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const PASSWORD: &str = "ordercast";
pub const ADMIN: &str = "admin@ordercast.test";
pub const BAKER: &str = "baker@ordercast.test";
pub const GROCER: &str = "grocer@ordercast.test";
pub const ALICE: &str = "alice@ordercast.test";
pub const BOB: &str = "bob@ordercast.test";

/// A test's database: a SQLite file in a temporary directory, or a PostgreSQL database.
#[derive(Clone, Debug)]
pub enum TestDb {
    Sqlite(PathBuf),
    Postgres(String),
}

impl TestDb {
    /// A new, empty database of the engine under test.
    pub async fn fresh(dir: &tempfile::TempDir) -> TestDb {
        match std::env::var("ORDERCAST_TEST_POSTGRES") {
            Ok(admin) if !admin.is_empty() => Self::fresh_postgres(&admin).await,
            _ => TestDb::Sqlite(dir.path().join("ordercast.db")),
        }
    }

    /// A new, empty PostgreSQL database (for the tests that need several nodes).
    pub async fn fresh_postgres(admin: &str) -> TestDb {
        let name = format!("ordercast_test_{}_{:08x}", std::process::id(), rand_u32());
        let mut conn = sqlx::PgConnection::connect(admin).await.expect("connect to the test PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create a test database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
        TestDb::Postgres(format!("{base}/{name}"))
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(path) => format!("sqlite:{}", path.display()),
            TestDb::Postgres(url) => url.clone(),
        }
    }

    /// The first column of every row, as text.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            TestDb::Sqlite(path) => {
                let mut conn = SqliteConnectOptions::new().filename(path).read_only(true).connect().await.expect("open test db");
                sqlx::query(sql).fetch_all(&mut conn).await.expect(sql).iter().map(|r| r.get::<String, _>(0)).collect()
            }
            TestDb::Postgres(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to the test db");
                sqlx::query(sql).fetch_all(&mut conn).await.expect(sql).iter().map(|r| r.get::<String, _>(0)).collect()
            }
        }
    }

    /// Runs a statement that changes the database behind the server's back (e.g. pruning).
    pub async fn execute(&self, sql: &str) {
        match self {
            TestDb::Sqlite(path) => {
                let mut conn = SqliteConnectOptions::new().filename(path).connect().await.expect("open test db");
                sqlx::query(sql).execute(&mut conn).await.expect(sql);
            }
            TestDb::Postgres(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to the test db");
                sqlx::query(sql).execute(&mut conn).await.expect(sql);
            }
        }
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.finish() as u32
}

pub struct TestServer {
    child: Child,
    pub base: String,
    /// The metrics address, when started with `--metrics-addr`.
    pub metrics_base: Option<String>,
    pub db: TestDb,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra_args: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDb::fresh(&dir).await;
        Self::start_on(db, dir, extra_args).await
    }

    /// Another node on the same database (PostgreSQL), with its own name.
    pub async fn start_node(db: &TestDb, node: &str, extra_args: &[&str]) -> TestServer {
        let mut args = vec!["--node-id", node];
        args.extend_from_slice(extra_args);
        Self::start_on(db.clone(), tempfile::tempdir().expect("temp dir"), &args).await
    }

    /// Stops the server (SIGTERM) and starts a new one on the same database.
    pub async fn restart(mut self) -> TestServer {
        self.terminate().await;
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        Self::start_on(self.db.clone(), dir, &[]).await
    }

    pub async fn start_on(db: TestDb, dir: tempfile::TempDir, extra_args: &[&str]) -> TestServer {
        Self::start_with_env(db, dir, extra_args, &[]).await
    }

    /// [`TestServer::start_on`] with environment variables for the server.
    pub async fn start_with_env(db: TestDb, dir: tempfile::TempDir, extra_args: &[&str], env: &[(&str, &std::path::Path)]) -> TestServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ordercast"))
            .args(["--addr", "127.0.0.1:0", "--database-url"])
            .arg(db.url())
            .args(extra_args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the ordercast binary");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut metrics_base = None;
        let base = loop {
            let line = lines.next_line().await.expect("read server output").expect("server exited before listening");
            if let Some(addr) = line.strip_prefix("metrics on ") {
                metrics_base = Some(addr.trim().to_owned());
            }
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        TestServer { child, base, metrics_base, db, _dir: dir, http: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.base, path)
    }

    /// The value of an unlabelled metric in `/metrics` (a counter's name ends in `_total`).
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let text = reqwest::get(format!("{}/metrics", self.base)).await.expect("metrics").text().await.expect("metrics text");
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// Signs in and returns the bearer token.
    pub async fn login(&self, email: &str) -> String {
        let (status, body) = self.call(Method::POST, "/auth/login", None, Some(serde_json::json!({"email": email, "password": PASSWORD}))).await;
        assert_eq!(status, StatusCode::OK, "login {email}: {body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Sends a JSON request and returns the status and the parsed body (`Null` when empty).
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::parse(req.send().await.expect("request")).await
    }

    /// Sends raw bytes with the given content type.
    pub async fn raw(&self, method: Method, path: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path)).header("content-type", content_type).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::parse(req.send().await.expect("request")).await
    }

    async fn parse(res: reqwest::Response) -> (StatusCode, Value) {
        let status = res.status();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        (status, body)
    }

    pub async fn get(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Everything the API can change, as one string: equal fingerprints mean nothing changed.
    pub async fn fingerprint(&self) -> String {
        let mut out = String::new();
        for sql in [
            "SELECT id || ':' || is_open || ':' || updated_at FROM shops ORDER BY id",
            "SELECT id || ':' || name || ':' || price_minor || ':' || stock || ':' || low_stock_threshold || ':' || available || ':' || updated_at FROM products ORDER BY id",
            "SELECT id || ':' || status || ':' || payment_status || ':' || version || ':' || total_minor FROM orders ORDER BY id",
            "SELECT order_id || ':' || position || ':' || quantity FROM order_items ORDER BY order_id, position",
            "SELECT id || ':' || order_id || ':' || status FROM order_history ORDER BY id",
            "SELECT seq || ':' || event_type FROM events ORDER BY seq",
        ] {
            for row in self.db.texts(sql).await {
                out.push_str(&row);
                out.push('\n');
            }
            out.push_str("--\n");
        }
        out
    }

    /// Outbox rows after `after`: (seq, type, topics, payload).
    pub async fn events_after(&self, after: i64) -> Vec<(i64, String, Vec<String>, Value)> {
        let sql = format!(
            "SELECT seq || '|' || event_type || '|' || topics || '|' || payload FROM events WHERE seq > {after} ORDER BY seq"
        );
        self.db
            .texts(&sql)
            .await
            .into_iter()
            .map(|row| {
                let mut parts = row.splitn(4, '|');
                let mut next = || parts.next().expect("event column").to_owned();
                let (seq, event_type, topics, payload) = (next(), next(), next(), next());
                (
                    seq.parse().expect("seq"),
                    event_type,
                    serde_json::from_str(&topics).expect("topics"),
                    serde_json::from_str(&payload).expect("payload"),
                )
            })
            .collect()
    }

    pub async fn max_seq(&self) -> i64 {
        let rows = self.db.texts("SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM events").await;
        rows.first().and_then(|s| s.parse().ok()).expect("seq")
    }

    /// Kills the server with SIGKILL and starts a new one on the same database with `args`.
    pub async fn crash_and_restart(mut self, args: &[&str]) -> TestServer {
        let _ = self.child.kill().await;
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        Self::start_on(self.db.clone(), dir, args).await
    }

    /// Sends a list's photo (`multipart/form-data`: `photo`, optional `note`) to a shop.
    pub async fn send_list(&self, token: &str, shop: i64, photo: Vec<u8>, file_name: &str, note: Option<&str>) -> (StatusCode, Value) {
        let mut form = reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(photo).file_name(file_name.to_owned()));
        if let Some(n) = note {
            form = form.text("note", n.to_owned());
        }
        let req = self.http.post(self.url(&format!("/shops/{shop}/chitties"))).bearer_auth(token).multipart(form);
        Self::parse(req.send().await.expect("request")).await
    }

    /// Kills the server with SIGKILL: no shutdown, no goodbye.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub async fn stop(mut self) -> std::process::ExitStatus {
        self.terminate().await
    }

    async fn terminate(&mut self) -> std::process::ExitStatus {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
        }
        self.child.wait().await.expect("wait for server")
    }

    /// A server-rendered page (not under `/api/v1`): its status and HTML.
    pub async fn page(&self, path: &str, token: Option<&str>) -> (StatusCode, String) {
        let mut req = self.http.get(format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        (res.status(), res.text().await.expect("body"))
    }

    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }
}

/// Sends a notification to everyone: a barrier sockets read up to (events reach a socket in
/// `seq` order, so everything meant for it before the barrier has arrived by then).
pub async fn barrier(server: &TestServer, admin: &str, text: &str) {
    let (status, body) = server
        .call(Method::POST, "/notifications", Some(admin), Some(serde_json::json!({"severity": "info", "text": text})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The id of the first product of a shop with the given name fragment.
pub async fn product_id(server: &TestServer, token: &str, shop_id: i64, name: &str) -> i64 {
    let products = server.get(&format!("/shops/{shop_id}/products"), token).await;
    products["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["name"].as_str().unwrap_or_default().contains(name))
        .and_then(|p| p["id"].as_i64())
        .unwrap_or_else(|| panic!("no product {name} in shop {shop_id}"))
}

pub async fn shop_id(server: &TestServer, token: &str, name: &str) -> i64 {
    let shops = server.get("/shops", token).await;
    shops["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["id"].as_i64())
        .unwrap_or_else(|| panic!("no shop {name}"))
}

/// The demo bakery and its sourdough loaf, the shop and product most tests order from.
pub async fn bakery_loaf(server: &TestServer, token: &str) -> (i64, i64) {
    let bakery = shop_id(server, token, "Corner Bakery").await;
    (bakery, product_id(server, token, bakery, "Sourdough").await)
}

/// The status of order `id` on a board (`GET /shops/{id}/board`), if the board has it.
pub fn status_on_board(board: &Value, id: i64) -> Option<Value> {
    board["orders"].as_array().expect("the board's orders").iter().find(|o| o["id"] == serde_json::json!(id)).map(|o| o["status"].clone())
}

/// Places an order for one of `product` and returns it.
pub async fn place(server: &TestServer, token: &str, shop: i64, product: i64) -> Value {
    let (status, order) = server
        .call(Method::POST, "/orders", Some(token), Some(serde_json::json!({"shop_id": shop, "items": [{"product_id": product, "quantity": 1}]})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order
}

/// Moves an order to `status` as `token`'s user (staff); returns the change's `seq`.
pub async fn advance(server: &TestServer, token: &str, order: i64, status: &str) -> i64 {
    let (code, body) = server
        .call(Method::PATCH, &format!("/orders/{order}/status"), Some(token), Some(serde_json::json!({"status": status})))
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["seq"].as_i64().expect("seq")
}
