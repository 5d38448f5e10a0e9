//! Bad input: each answered with the right 4xx and a stable code, and the data left as it was.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn bad_requests_get_clear_errors_and_change_nothing() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let baker = server.login(BAKER).await;
    let admin = server.login(ADMIN).await;
    let bakery = shop_id(&server, &alice, "Corner Bakery").await;
    let grocer_shop = shop_id(&server, &alice, "Green Grocer").await;
    let loaf = product_id(&server, &alice, bakery, "Sourdough").await;
    let apples = product_id(&server, &alice, grocer_shop, "Apples").await;
    let (_, pending) = server.call(Method::POST, "/orders", Some(&alice), Some(json!({"shop_id": bakery, "items": [{"product_id": loaf, "quantity": 1}]}))).await;
    let pending = pending["id"].as_i64().unwrap();

    let before = server.fingerprint().await;
    let item = |product_id: i64, quantity: serde_json::Value| json!({"shop_id": bakery, "items": [{"product_id": product_id, "quantity": quantity}]});

    let json_cases: Vec<(Method, String, &str, serde_json::Value, u16, &str)> = vec![
        (Method::POST, "/orders".into(), "alice", json!({"shop_id": "one", "items": []}), 422, "invalid_body"),
        (Method::POST, "/orders".into(), "alice", json!({"shop_id": bakery}), 422, "invalid_body"),
        (Method::POST, "/orders".into(), "alice", json!({"shop_id": bakery, "items": [], "coupon": "FREE"}), 422, "invalid_body"),
        (Method::POST, "/orders".into(), "alice", json!({"shop_id": bakery, "items": []}), 422, "validation_failed"),
        (Method::POST, "/orders".into(), "alice", item(loaf, json!(-1)), 422, "validation_failed"),
        (Method::POST, "/orders".into(), "alice", item(loaf, json!(0)), 422, "validation_failed"),
        (Method::POST, "/orders".into(), "alice", item(loaf, json!(1_000_000_000_000i64)), 422, "validation_failed"),
        (Method::POST, "/orders".into(), "alice", item(loaf, json!(1e30)), 422, "invalid_body"),
        (Method::POST, "/orders".into(), "alice", item(loaf, json!(1.5)), 422, "invalid_body"),
        (Method::POST, "/orders".into(), "alice", item(loaf, json!(999)), 409, "insufficient_stock"),
        (Method::POST, "/orders".into(), "alice", item(apples, json!(1)), 422, "validation_failed"),
        (Method::POST, "/orders".into(), "alice", item(999_999, json!(1)), 422, "validation_failed"),
        (Method::POST, "/orders".into(), "alice", json!({"shop_id": 999_999, "items": [{"product_id": loaf, "quantity": 1}]}), 404, "not_found"),
        (Method::PATCH, format!("/orders/{pending}/status"), "baker", json!({"status": "ready"}), 409, "invalid_transition"),
        (Method::PATCH, format!("/orders/{pending}/status"), "baker", json!({"status": "pending"}), 409, "status_unchanged"),
        (Method::PATCH, format!("/orders/{pending}/status"), "baker", json!({"status": "shipped"}), 422, "invalid_body"),
        // Wrong JSON types for enums are a body of the wrong shape, not malformed JSON.
        (Method::PATCH, format!("/orders/{pending}/status"), "baker", json!({"status": 3}), 422, "invalid_body"),
        (Method::PATCH, format!("/orders/{pending}/status"), "baker", json!({"status": null}), 422, "invalid_body"),
        (Method::PATCH, format!("/orders/{pending}/status"), "baker", json!({"status": true}), 422, "invalid_body"),
        (Method::POST, "/notifications".into(), "admin", json!({"severity": 3, "text": "hello"}), 422, "invalid_body"),
        (Method::POST, "/users".into(), "admin", json!({"email": "new@ordercast.test", "name": "New", "password": "long enough password", "role": 5}), 422, "invalid_body"),
        (Method::POST, "/notifications".into(), "admin", json!({"severity": "info", "text": "x".repeat(501)}), 422, "validation_failed"),
        (Method::POST, "/notifications".into(), "admin", json!({"severity": "info", "text": "   "}), 422, "validation_failed"),
        (Method::PATCH, format!("/orders/{pending}/status"), "baker", json!({"status": "confirmed", "note": "x".repeat(501)}), 422, "validation_failed"),
        (Method::PATCH, "/orders/999999/status".into(), "baker", json!({"status": "confirmed"}), 404, "not_found"),
        (Method::PATCH, "/orders/abc/status".into(), "baker", json!({"status": "confirmed"}), 400, "invalid_path"),
        (Method::PATCH, "/orders/-4/status".into(), "baker", json!({"status": "confirmed"}), 400, "invalid_path"),
        (Method::PATCH, "/orders/1.5/status".into(), "baker", json!({"status": "confirmed"}), 400, "invalid_path"),
        (Method::PATCH, "/orders/1./status".into(), "baker", json!({"status": "confirmed"}), 400, "invalid_path"),
        (Method::PATCH, format!("/products/{loaf}"), "baker", json!({}), 422, "validation_failed"),
        (Method::PATCH, format!("/products/{loaf}"), "baker", json!({"price_minor": -5}), 422, "validation_failed"),
        (Method::PATCH, format!("/products/{loaf}"), "baker", json!({"stock": -1}), 422, "validation_failed"),
        (Method::PATCH, format!("/products/{loaf}"), "baker", json!({"price_minor": 9.99}), 422, "invalid_body"),
        (Method::PATCH, format!("/products/{loaf}"), "baker", json!({"name": "  "}), 422, "validation_failed"),
        // Blank in Unicode though not in every regex engine's `\s` (schemathesis found U+0085).
        (Method::POST, format!("/shops/{bakery}/products"), "baker", json!({"name": "\u{85}\u{3000}", "price_minor": 100, "stock": 1}), 422, "validation_failed"),
        (Method::POST, format!("/shops/{bakery}/products"), "baker", json!({"name": "Free", "price_minor": 1, "stock": 1_000_001}), 422, "validation_failed"),
        (Method::PATCH, format!("/shops/{bakery}"), "baker", json!({"is_open": "yes"}), 422, "invalid_body"),
        (Method::GET, "/nope".into(), "alice", serde_json::Value::Null, 404, "not_found"),
        (Method::GET, "/orders?per_page=0".into(), "alice", serde_json::Value::Null, 400, "invalid_query"),
        (Method::GET, "/orders?per_page=101".into(), "alice", serde_json::Value::Null, 400, "invalid_query"),
        (Method::GET, "/orders?status=lost".into(), "alice", serde_json::Value::Null, 400, "invalid_query"),
        (Method::GET, "/orders?page=-1".into(), "alice", serde_json::Value::Null, 400, "invalid_query"),
    ];
    for (method, path, who, body, status, code) in json_cases {
        let token = match who {
            "alice" => &alice,
            "admin" => &admin,
            _ => &baker,
        };
        let body = (!body.is_null()).then_some(body);
        let (got, resp) = server.call(method.clone(), &path, Some(token), body.clone()).await;
        assert_eq!(got.as_u16(), status, "{method} {path} {body:?}: {resp}");
        assert_eq!(resp["error"]["code"], code, "{method} {path} {body:?}: {resp}");
        assert!(resp["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        if path == "/notifications" && code == "validation_failed" {
            assert_eq!(resp["error"]["message"], "text must be 1 to 500 characters", "{resp}");
        }
    }

    let raw_cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("/orders", "application/json", b"{\"shop_id\": 1, \"items\": [".to_vec(), 400, "malformed_json"),
        ("/orders", "application/json", b"not json at all".to_vec(), 400, "malformed_json"),
        ("/orders", "text/plain", b"{\"shop_id\": 1, \"items\": []}".to_vec(), 415, "unsupported_media_type"),
        ("/orders", "application/json", vec![], 400, "malformed_json"),
        ("/orders", "application/json", format!("{{\"shop_id\": 1, \"items\": [], \"pad\": \"{}\"}}", "x".repeat(100 * 1024)).into_bytes(), 413, "payload_too_large"),
        ("/orders", "application/json", [b"{\"shop_id\": 1, \"items\": [".as_slice(), &b"{\"product_id\": 1, \"quantity\": 1},".repeat(3000)].concat(), 413, "payload_too_large"),
    ];
    for (path, content_type, body, status, code) in raw_cases {
        let len = body.len();
        let (got, resp) = server.raw(Method::POST, path, Some(&alice), content_type, body).await;
        assert_eq!(got.as_u16(), status, "{content_type} body of {len} bytes: {resp}");
        assert_eq!(resp["error"]["code"], code, "{content_type} body of {len} bytes: {resp}");
    }

    assert_eq!(before, server.fingerprint().await, "no bad request may change data");
}

#[tokio::test]
async fn unauthenticated_and_wrong_credentials_are_refused_and_repeated_failures_throttled() {
    let server = TestServer::start_with(&["--login-attempts", "3"]).await;
    let before = server.fingerprint().await;

    let (status, err) = server.call(Method::GET, "/orders", Some("not-a-token"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"]["code"], "unauthenticated");

    let wrong = json!({"email": BOB, "password": "guess"});
    for _ in 0..3 {
        let (status, err) = server.call(Method::POST, "/auth/login", None, Some(wrong.clone())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(err["error"]["code"], "invalid_credentials");
    }
    let (status, err) = server.call(Method::POST, "/auth/login", None, Some(json!({"email": BOB, "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "locked even with the right password: {err}");
    assert_eq!(err["error"]["code"], "too_many_requests");

    let (status, err) = server.call(Method::POST, "/auth/login", None, Some(json!({"email": "nobody@x.test", "password": "x"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
    assert_eq!(err["error"]["message"], "wrong email or password", "unknown emails are not revealed");

    // Another account from the same address still signs in.
    server.login(ALICE).await;
    assert_eq!(before, server.fingerprint().await);
}

#[tokio::test]
async fn guesses_sent_all_at_once_get_no_more_tries_than_one_at_a_time() {
    let server = TestServer::start_with(&["--login-attempts", "3"]).await;
    let wrong = json!({"email": BOB, "password": "guess"});
    let guesses = (0..12).map(|_| server.call(Method::POST, "/auth/login", None, Some(wrong.clone())));
    let mut answers: Vec<u16> = futures_util::future::join_all(guesses).await.into_iter().map(|(status, _)| status.as_u16()).collect();
    answers.sort_unstable();
    assert_eq!(answers, [401, 401, 401, 429, 429, 429, 429, 429, 429, 429, 429, 429], "only three guesses reach the password");

    // Signing in does not use up the address's allowance (15 here): a shop's staff share one.
    for _ in 0..20 {
        server.login(ALICE).await;
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_an_address_limit_of_its_own() {
    // One failure per email, so five per address; the proxy is this machine (as with nginx).
    let server = TestServer::start_with(&["--login-attempts", "1", "--trusted-proxy", "127.0.0.1"]).await;
    let http = reqwest::Client::new();
    let sign_in = |forwarded: &'static str, email: String, password: &'static str| {
        let req = http.post(server.url("/auth/login")).header("x-forwarded-for", forwarded);
        async move { req.json(&json!({"email": email, "password": password})).send().await.expect("login").status() }
    };
    for i in 0..5 {
        assert_eq!(sign_in("198.51.100.1", format!("guess{i}@x.test"), "x").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(sign_in("198.51.100.1", "guess5@x.test".into(), "x").await, StatusCode::TOO_MANY_REQUESTS, "this client's allowance is spent");
    // Naming another address itself does not help: the proxy appends the one it saw.
    assert_eq!(sign_in("203.0.113.7, 198.51.100.1", "guess6@x.test".into(), "x").await, StatusCode::TOO_MANY_REQUESTS);
    // Everyone else behind the same proxy still signs in.
    assert_eq!(sign_in("203.0.113.7", ALICE.into(), PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_connection_close_and_the_pooled_client_goes_on() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let client = reqwest::Client::new();
    let big = format!("{{\"shop_id\": 1, \"items\": [], \"pad\": \"{}\"}}", "x".repeat(256 * 1024));
    // The rest of the body is not read, so the client may also see the connection reset
    // before it reads the answer; when it reads the answer, it says the connection closes.
    let mut answered = 0;
    for _ in 0..5 {
        let sent = client
            .post(format!("{}/api/v1/orders", server.base))
            .bearer_auth(&alice)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await;
        if let Ok(res) = sent {
            assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(res.headers().get("connection").map(|v| v.as_bytes()), Some(b"close".as_slice()), "the server says it closes");
            answered += 1;
        }
        let next = client.get(format!("{}/api/v1/auth/me", server.base)).bearer_auth(&alice).send().await.expect("the next request");
        assert_eq!(next.status(), StatusCode::OK);
    }
    assert!(answered > 0, "the 413 itself was read at least once");
}

#[tokio::test]
async fn session_expiry_is_compared_as_a_time_whatever_its_text() {
    let server = TestServer::start().await;
    let bob = server.login(BOB).await;
    let set_expiry = |at: chrono::DateTime<chrono::FixedOffset>| {
        format!(
            "UPDATE sessions SET expires_at = '{}' WHERE user_id = (SELECT id FROM users WHERE email = '{BOB}')",
            at.format("%Y-%m-%dT%H:%M:%S%:z")
        )
    };
    let five_east = chrono::FixedOffset::east_opt(5 * 3600).expect("offset");
    // An hour from now on a +05:00 clock is four hours ago: as text it sorts after now.
    let past = (chrono::Utc::now() + chrono::Duration::hours(1)).naive_utc().and_local_timezone(five_east).single().expect("time");
    assert!(past < chrono::Utc::now());
    server.db.execute(&set_expiry(past)).await;
    let (status, body) = server.call(Method::GET, "/auth/me", Some(&bob), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an expired session is refused: {body}");

    // And a future expiry written in another offset is still live.
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).with_timezone(&five_east);
    server.db.execute(&set_expiry(future)).await;
    let (status, body) = server.call(Method::GET, "/auth/me", Some(&bob), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn metrics_can_require_a_token_or_live_on_their_own_address() {
    let server = TestServer::start_with(&["--metrics-token", "s3cret-metrics"]).await;
    let http = reqwest::Client::new();
    let url = format!("{}/metrics", server.base);
    for token in [None, Some("wrong"), Some("s3cret-metric")] {
        let mut req = http.get(&url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
    }
    let res = http.get(&url).bearer_auth("s3cret-metrics").send().await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("ordercast_ws_connections"));

    let server = TestServer::start_with(&["--metrics-addr", "127.0.0.1:0"]).await;
    let res = http.get(format!("{}/metrics", server.base)).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "not on the public address");
    let own = server.metrics_base.as_deref().expect("the metrics address is printed");
    let res = http.get(format!("{own}/metrics")).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("ordercast_ws_connections"));
    let res = http.get(format!("{own}/api/v1/shops")).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "only metrics there");
}

#[tokio::test]
async fn a_method_an_address_does_not_take_is_405_with_the_methods_it_does() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let http = reqwest::Client::new();
    for (method, path, allowed) in [("TRACE", "/api/v1/shops", "GET,HEAD,POST"), ("DELETE", "/api/v1/shops/1", "GET,HEAD,PATCH")] {
        let res = http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{path}", server.base))
            .bearer_auth(&alice)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let allow = res.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().replace(' ', "");
        let mut got: Vec<&str> = allow.split(',').collect();
        got.sort_unstable();
        assert_eq!(got.join(","), allowed, "{method} {path}");
        let body: serde_json::Value = res.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }
}

#[tokio::test]
async fn an_id_written_as_a_whole_decimal_names_the_same_record() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let bakery = shop_id(&server, &alice, "Corner Bakery").await;
    let plain = server.get(&format!("/shops/{bakery}"), &alice).await;
    let decimal = server.get(&format!("/shops/{bakery}.00"), &alice).await;
    assert_eq!(plain["id"], decimal["id"]);
    assert_eq!(plain["name"], decimal["name"]);
}
