//! The authorization matrix: every endpoint × every role × owner / not owner. A refused request
//! changes nothing.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ANON: &str = "anonymous";

struct World {
    server: TestServer,
    tokens: Vec<(&'static str, Option<String>)>,
    bakery: i64,
    loaf: i64,
}

impl World {
    async fn new() -> World {
        let server = TestServer::start().await;
        let mut tokens = vec![(ANON, None)];
        for who in [ALICE, BOB, BAKER, GROCER, ADMIN] {
            tokens.push((who, Some(server.login(who).await)));
        }
        let admin = tokens[5].1.clone().unwrap();
        let bakery = shop_id(&server, &admin, "Corner Bakery").await;
        let loaf = product_id(&server, &admin, bakery, "Sourdough").await;
        World { server, tokens, bakery, loaf }
    }

    fn token(&self, who: &str) -> Option<&str> {
        self.tokens.iter().find(|(w, _)| *w == who).and_then(|(_, t)| t.as_deref())
    }

    /// A fresh pending order of Alice's at the bakery.
    async fn alice_order(&self) -> i64 {
        let (status, o) = self
            .server
            .call(Method::POST, "/orders", self.token(ALICE), Some(json!({"shop_id": self.bakery, "items": [{"product_id": self.loaf, "quantity": 1}]})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{o}");
        o["id"].as_i64().unwrap()
    }

    /// Calls the endpoint as each role and checks the status; refusals must change nothing.
    async fn check(&self, method: Method, path: &str, body: Option<Value>, want: [(&str, u16); 6], fresh_order: bool) {
        for (who, expected) in want {
            let path = if fresh_order { path.replace("{order}", &self.alice_order().await.to_string()) } else { path.to_owned() };
            let before = self.server.fingerprint().await;
            let (status, resp) = self.server.call(method.clone(), &path, self.token(who), body.clone()).await;
            assert_eq!(status.as_u16(), expected, "{method} {path} as {who}: {resp}");
            if !status.is_success() {
                assert!(resp["error"]["code"].is_string(), "{method} {path} as {who}: error body {resp}");
                assert_eq!(before, self.server.fingerprint().await, "{method} {path} as {who} was refused but changed data");
            }
        }
    }
}

#[tokio::test]
async fn every_endpoint_answers_each_role_as_documented() {
    let w = World::new().await;
    let (b, p) = (w.bakery, w.loaf);
    let order = w.alice_order().await;

    use Method as M;
    let everyone = |code| [(ANON, 401), (ALICE, code), (BOB, code), (BAKER, code), (GROCER, code), (ADMIN, code)];
    w.check(M::GET, "/auth/me", None, everyone(200), false).await;
    w.check(M::GET, "/shops", None, everyone(200), false).await;
    w.check(M::GET, &format!("/shops/{b}"), None, everyone(200), false).await;
    w.check(M::GET, &format!("/shops/{b}/products"), None, everyone(200), false).await;
    w.check(M::GET, "/orders", None, everyone(200), false).await;

    let staff_only = |ok| [(ANON, 401), (ALICE, 403), (BOB, 403), (BAKER, ok), (GROCER, 403), (ADMIN, ok)];
    w.check(M::PATCH, &format!("/shops/{b}"), Some(json!({"is_open": true})), staff_only(200), false).await;
    w.check(M::POST, &format!("/shops/{b}/products"), Some(json!({"name": "Scone", "price_minor": 250, "stock": 5})), staff_only(201), false).await;
    w.check(M::PATCH, &format!("/products/{p}"), Some(json!({"stock": 30})), staff_only(200), false).await;
    w.check(M::GET, &format!("/shops/{b}/staff"), None, staff_only(200), false).await;
    w.check(M::GET, "/users", None, [(ANON, 401), (ALICE, 403), (BOB, 403), (BAKER, 403), (GROCER, 403), (ADMIN, 200)], false).await;

    w.check(
        M::POST,
        "/users",
        Some(json!({"email": "new@ordercast.test", "name": "New", "role": "customer", "password": "longenough"})),
        [(ANON, 401), (ALICE, 403), (BOB, 403), (BAKER, 403), (GROCER, 403), (ADMIN, 201)],
        false,
    )
    .await;

    // Orders: invisible ones do not exist for the caller (404), visible ones follow the state machine.
    w.check(M::GET, &format!("/orders/{order}"), None, [(ANON, 401), (ALICE, 200), (BOB, 404), (BAKER, 200), (GROCER, 404), (ADMIN, 200)], false).await;
    w.check(
        M::POST,
        "/orders",
        Some(json!({"shop_id": b, "items": [{"product_id": p, "quantity": 1}]})),
        [(ANON, 401), (ALICE, 201), (BOB, 201), (BAKER, 403), (GROCER, 403), (ADMIN, 403)],
        false,
    )
    .await;
    w.check(M::PATCH, "/orders/{order}/status", Some(json!({"status": "confirmed"})), [(ANON, 401), (ALICE, 403), (BOB, 404), (BAKER, 200), (GROCER, 404), (ADMIN, 200)], true).await;
    w.check(M::POST, "/orders/{order}/cancel", None, [(ANON, 401), (ALICE, 200), (BOB, 404), (BAKER, 200), (GROCER, 404), (ADMIN, 200)], true).await;
    w.check(M::POST, "/orders/{order}/payment/verify", None, [(ANON, 401), (ALICE, 403), (BOB, 404), (BAKER, 200), (GROCER, 404), (ADMIN, 200)], true).await;
}

#[tokio::test]
async fn order_lists_are_scoped_to_what_each_role_may_see() {
    let w = World::new().await;
    let ids = |v: &Value, field: &str| -> Vec<i64> { v["items"].as_array().unwrap().iter().map(|o| o[field].as_i64().unwrap()).collect() };
    let alice_id = w.server.get("/auth/me", w.token(ALICE).unwrap()).await["id"].as_i64().unwrap();
    let alice = w.server.get("/orders", w.token(ALICE).unwrap()).await;
    assert!(!ids(&alice, "customer_id").is_empty());
    assert!(ids(&alice, "customer_id").iter().all(|&c| c == alice_id), "{alice}");

    let baker = w.server.get("/orders", w.token(BAKER).unwrap()).await;
    assert!(!ids(&baker, "shop_id").is_empty());
    assert!(ids(&baker, "shop_id").iter().all(|&s| s == w.bakery), "{baker}");

    let grocer = w.server.get("/orders", w.token(GROCER).unwrap()).await;
    assert!(ids(&grocer, "shop_id").iter().all(|&s| s != w.bakery), "{grocer}");
    let (status, err) = w.server.call(Method::GET, &format!("/orders?shop_id={}", w.bakery), w.token(GROCER), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");

    let admin = w.server.get("/orders", w.token(ADMIN).unwrap()).await;
    assert_eq!(admin["total"].as_i64().unwrap(), baker["total"].as_i64().unwrap() + grocer["total"].as_i64().unwrap());

    // Filters and pagination (with at least two pending orders to page through).
    w.alice_order().await;
    let pending = w.server.get("/orders?status=pending&per_page=1&page=1", w.token(ADMIN).unwrap()).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    assert_eq!(pending["items"][0]["status"], "pending");
    assert_eq!(pending["per_page"], 1);
    let total = pending["total"].as_i64().unwrap();
    let last = w.server.get(&format!("/orders?status=pending&per_page=1&page={total}"), w.token(ADMIN).unwrap()).await;
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_ne!(last["items"][0]["id"], pending["items"][0]["id"]);
    let beyond = w.server.get(&format!("/orders?status=pending&per_page=1&page={}", total + 1), w.token(ADMIN).unwrap()).await;
    assert!(beyond["items"].as_array().unwrap().is_empty());
}
