//! A real server for each test: the `ordercast` binary on a random port with a fresh SQLite
//! file (seeded with the demo data), and a small HTTP client for it.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};
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

pub struct TestServer {
    child: Child,
    pub base: String,
    pub db_path: PathBuf,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra_args: &[&str]) -> TestServer {
        Self::start_in(tempfile::tempdir().expect("temp dir"), extra_args).await
    }

    /// Stops the server (SIGTERM) and starts a new one on the same database file.
    pub async fn restart(mut self) -> TestServer {
        self.terminate().await;
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        Self::start_in(dir, &[]).await
    }

    async fn start_in(dir: tempfile::TempDir, extra_args: &[&str]) -> TestServer {
        let db_path = dir.path().join("ordercast.db");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ordercast"))
            .args(["--addr", "127.0.0.1:0", "--database-url"])
            .arg(format!("sqlite:{}", db_path.display()))
            .args(extra_args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the ordercast binary");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next_line().await.expect("read server output").expect("server exited before listening");
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        TestServer { child, base, db_path, _dir: dir, http: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.base, path)
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

    async fn db(&self) -> sqlx::SqliteConnection {
        SqliteConnectOptions::new().filename(&self.db_path).read_only(true).connect().await.expect("open test db")
    }

    /// Everything the API can change, as one string: equal fingerprints mean nothing changed.
    pub async fn fingerprint(&self) -> String {
        let mut conn = self.db().await;
        let mut out = String::new();
        for sql in [
            "SELECT id || ':' || is_open || ':' || updated_at FROM shops ORDER BY id",
            "SELECT id || ':' || name || ':' || price_minor || ':' || stock || ':' || low_stock_threshold || ':' || available || ':' || updated_at FROM products ORDER BY id",
            "SELECT id || ':' || status || ':' || payment_status || ':' || version || ':' || total_minor FROM orders ORDER BY id",
            "SELECT order_id || ':' || position || ':' || quantity FROM order_items ORDER BY order_id, position",
            "SELECT id || ':' || order_id || ':' || status FROM order_history ORDER BY id",
            "SELECT seq || ':' || event_type FROM events ORDER BY seq",
        ] {
            for row in sqlx::query(sql).fetch_all(&mut conn).await.expect(sql) {
                out.push_str(&row.get::<String, _>(0));
                out.push('\n');
            }
            out.push_str("--\n");
        }
        out
    }

    /// Outbox rows after `after`: (seq, type, topics, payload).
    pub async fn events_after(&self, after: i64) -> Vec<(i64, String, Vec<String>, Value)> {
        let mut conn = self.db().await;
        sqlx::query("SELECT seq, event_type, topics, payload FROM events WHERE seq > $1 ORDER BY seq")
            .bind(after)
            .fetch_all(&mut conn)
            .await
            .expect("events")
            .into_iter()
            .map(|r| {
                (
                    r.get::<i64, _>(0),
                    r.get::<String, _>(1),
                    serde_json::from_str(&r.get::<String, _>(2)).expect("topics"),
                    serde_json::from_str(&r.get::<String, _>(3)).expect("payload"),
                )
            })
            .collect()
    }

    pub async fn max_seq(&self) -> i64 {
        let mut conn = self.db().await;
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events").fetch_one(&mut conn).await.expect("seq")
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

/// Places an order for one of `product` and returns it.
pub async fn place(server: &TestServer, token: &str, shop: i64, product: i64) -> Value {
    let (status, order) = server
        .call(Method::POST, "/orders", Some(token), Some(serde_json::json!({"shop_id": shop, "items": [{"product_id": product, "quantity": 1}]})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order
}
