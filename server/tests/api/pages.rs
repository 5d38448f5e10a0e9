//! Server-rendered pages read through the REST API in-process, with the request's credentials:
//! each user's page carries exactly what the API shows that user.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn a_rendered_order_list_holds_the_users_own_orders_and_no_one_elses() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let bob = server.login(BOB).await;
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let alices = place(&server, &alice, bakery, loaf).await["id"].as_i64().expect("id");
    let bobs = place(&server, &bob, bakery, loaf).await["id"].as_i64().expect("id");

    let (status, html) = server.page("/orders", Some(&alice)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("data-order-id=\"{alices}\"")), "alice's order is on her page: {html}");
    assert!(!html.contains(&format!("data-order-id=\"{bobs}\"")), "bob's order is not on alice's page");
    assert!(html.contains("Alice Customer"), "the page knows who is signed in");

    let (status, html) = server.page(&format!("/orders/{bobs}"), Some(&alice)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("data-order-id"), "alice cannot open bob's order: {html}");
}

/// A page arrives whole, as a slow phone first paints it: its own title and its data in place,
/// not a "Loading…" shell with the content following in templates for a script to swap in.
#[tokio::test]
async fn a_rendered_page_arrives_whole_with_its_own_title() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let order = place(&server, &alice, bakery, loaf).await["id"].as_i64().expect("id");

    for (path, title, content) in [
        (format!("/shops/{bakery}"), "<title>Corner Bakery · Ordercast</title>".to_string(), "class=\"add\"".to_string()),
        (format!("/orders/{order}"), format!("<title>Order #{order} · Pending · Ordercast</title>"), format!("data-order-id=\"{order}\"")),
    ] {
        let (status, html) = server.page(&path, Some(&alice)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains(&title), "{path}: {title} in {html}");
        let body = html.split("<body").nth(1).unwrap_or_else(|| panic!("{path}: a body in {html}"));
        assert!(body.contains(&content), "{path}: {content} in the page");
        assert!(!body.contains("Loading…") && !body.contains("<template"), "{path}: nothing left to swap in: {html}");
    }
}

/// Times on a rendered page are in the zone the viewer's browser named in its `tz` cookie
/// (set by the page's first script), as the hydrated page shows them; UTC, labelled, without
/// one or with a name that is no zone.
#[tokio::test]
async fn a_rendered_page_shows_times_in_the_zone_the_browser_named() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let order = place(&server, &alice, bakery, loaf).await;
    let id = order["id"].as_i64().expect("id");
    let placed: chrono::DateTime<chrono::Utc> = order["created_at"].as_str().expect("created_at").parse().expect("a time");
    // Tokyo keeps no daylight saving time: always nine hours ahead.
    let tokyo = (placed + chrono::Duration::hours(9)).format("%H:%M on %-d %b %Y").to_string();
    let utc = placed.format("%Y-%m-%d %H:%M:%S UTC").to_string();

    let http = reqwest::Client::new();
    let page = |cookie: Option<&'static str>| {
        let mut req = http.get(format!("{}/orders/{id}", server.base)).bearer_auth(&alice);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move { req.send().await.expect("request").text().await.expect("body") }
    };
    let html = page(Some("theme=dark; tz=Asia/Tokyo")).await;
    assert!(html.contains(&tokyo) && !html.contains(&utc), "{tokyo} in {html}");
    for cookie in [None, Some("tz=Mars/Olympus_Mons")] {
        let html = page(cookie).await;
        assert!(html.contains(&utc) && !html.contains(&tokyo), "{cookie:?}: {utc} in {html}");
    }
}

/// A browser's first visit asks for the page and the site's files at once. Each response keeps
/// its own headers: Leptos once handed a page's (its Content-Security-Policy, leaving the page
/// under the policy of a non-page with all its scripts blocked) to an icon served on the same
/// worker thread. And each request is answered: a page's title, read after the render, once
/// panicked the worker and dropped the connection.
#[tokio::test]
async fn pages_and_site_files_asked_for_at_once_each_keep_their_own_headers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let site = tempfile::tempdir().expect("site root");
    std::fs::write(site.path().join("favicon.svg"), r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#).expect("write an icon");
    let db = TestDb::fresh(&dir).await;
    let server = TestServer::start_with_env(db, dir, &[], &[("LEPTOS_SITE_ROOT", site.path())]).await;
    let alice = server.login(ALICE).await;
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let order = place(&server, &alice, bakery, loaf).await["id"].as_i64().expect("id");
    let pages = [format!("/shops/{bakery}"), format!("/orders/{order}"), "/orders".to_owned(), "/shops".to_owned()];

    let http = reqwest::Client::new();
    for _ in 0..25 {
        let mut asked = tokio::task::JoinSet::new();
        for path in pages.iter().cloned().chain(std::iter::repeat_n("/favicon.svg".to_owned(), pages.len())) {
            let req = http.get(format!("{}{path}", server.base)).bearer_auth(&alice).header("accept", "text/html");
            asked.spawn(async move {
                let res = req.send().await.unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
                let policy = res.headers().get("content-security-policy").map(|v| v.to_str().unwrap_or_default().to_owned());
                (path, res.status(), policy)
            });
        }
        while let Some(answer) = asked.join_next().await {
            let (path, status, policy) = answer.expect("request task");
            assert_eq!(status, StatusCode::OK, "{path}");
            let policy = policy.unwrap_or_default();
            if path == "/favicon.svg" {
                assert_eq!(policy, "default-src 'none'; frame-ancestors 'none'", "the icon has a non-page's policy");
            } else {
                assert!(policy.contains("'nonce-"), "{path} has its page's policy, not {policy:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_signed_out_visitor_gets_no_data_from_a_rendered_page() {
    let server = TestServer::start().await;
    let (_, html) = server.page("/orders", None).await;
    assert!(!html.contains("data-order-id"), "{html}");
    assert!(!html.contains("class=\"user-name\""), "{html}");

    // A browser is sent to the sign-in page by the response itself, before any script runs.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    for path in ["/orders", "/board"] {
        let res = http.get(format!("{}{path}", server.base)).header("accept", "text/html").send().await.expect("request");
        assert_eq!(res.status(), StatusCode::FOUND, "{path}");
        assert_eq!(res.headers()["location"], "/login", "{path}");
    }
}

#[tokio::test]
async fn pages_run_only_their_own_scripts_and_every_response_carries_the_security_headers() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let mut nonces = Vec::new();
    for path in ["/login", "/no-such-page"] {
        let res = http.get(format!("{}{path}", server.base)).send().await.expect("request");
        let policy = res.headers()["content-security-policy"].to_str().expect("ASCII").to_owned();
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.headers()["referrer-policy"], "strict-origin-when-cross-origin");
        assert!(res.headers().get("strict-transport-security").is_none(), "not over plain HTTP");
        let html = res.text().await.expect("body");
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: a nonce in {policy}"))
            .to_owned();
        assert!(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"), "{policy}");
        // Every script on the page is an inline one carrying this response's nonce, or loaded
        // from the site (allowed by 'self').
        let scripts = html.matches("<script").count();
        assert!(scripts >= 2, "{path}: the early-tap and hydration scripts");
        assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "{path}: {html}");
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a nonce per response");

    // Not a page: nothing may run or frame it.
    let res = http.get(format!("{}/api/v1/shops", server.base)).send().await.expect("request");
    assert_eq!(res.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");

    // Served over HTTPS, the site says so for a year.
    let server = TestServer::start_with(&["--secure-cookie", "true"]).await;
    let res = http.get(format!("{}/login", server.base)).send().await.expect("request");
    assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
}

/// An island's data travels in its `data-props` attribute as JSON, single-quoted: whatever a
/// name holds (quotes of both kinds, markup, entities) stays inside the attribute and reads
/// back as the same JSON.
#[tokio::test]
async fn an_islands_data_stays_inside_its_attribute_whatever_the_names_hold() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let baker = server.login(BAKER).await;
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let name = r#"Tom's "best" <b>loaf</b> &amp; 'co'"#;
    let (status, _) = server.call(Method::PATCH, &format!("/products/{loaf}"), Some(&baker), Some(json!({ "name": name }))).await;
    assert_eq!(status, StatusCode::OK);

    let (status, html) = server.page(&format!("/shops/{bakery}"), Some(&alice)).await;
    assert_eq!(status, StatusCode::OK);
    let props: Vec<Value> = html
        .split(" data-props='")
        .skip(1)
        .map(|rest| {
            let value = rest.split('\'').next().unwrap_or_default();
            assert!(!value.contains(['<', '>']), "markup escaped in {value}");
            let text = value.replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: props read back as JSON: {text}"))
        })
        .collect();
    assert!(!props.is_empty(), "the shop's page has islands with data: {html}");
    let names: Vec<&str> = props
        .iter()
        .filter_map(|p| p["products"].as_array().or_else(|| p["data"]["products"].as_array()))
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&name), "the product's name whole in {props:?}");
}
