//! The real-time hub over real sockets: audiences, devices, resume, restarts, slow clients,
//! bad frames and refused upgrades.

use crate::common::*;
use crate::ws::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

fn without_presence(events: Vec<Value>) -> Vec<Value> {
    events.into_iter().filter(|e| e["type"] != "user_connected" && e["type"] != "user_disconnected").collect()
}

#[tokio::test]
async fn each_event_reaches_exactly_its_audience_on_every_device() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let bob = s.login(BOB).await;
    let baker = s.login(BAKER).await;
    let grocer = s.login(GROCER).await;
    let admin = s.login(ADMIN).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let croissant = product_id(&s, &alice, bakery, "Croissant").await;
    let alice_id = s.get("/auth/me", &alice).await["id"].as_i64().unwrap();
    let baker_id = s.get("/auth/me", &baker).await["id"].as_i64().unwrap();

    let mut admin_ws = live(&s, &admin).await;
    let mut grocer_ws = live(&s, &grocer).await;
    // The baker's first socket announces them online to their shop's staff and admins.
    let mut baker_ws = live(&s, &baker).await;
    let mut alice_phone = live(&s, &alice).await;
    let mut alice_laptop = live(&s, &alice).await;
    let mut bob_ws = live(&s, &bob).await;
    bob_ws.send(json!({"type": "subscribe", "topic": format!("catalog:{bakery}")})).await;
    assert_eq!(bob_ws.next().await, json!({"type": "subscribed", "topic": format!("catalog:{bakery}")}));

    let order = place(&s, &alice, bakery, loaf).await;
    let order_id = order["id"].as_i64().unwrap();
    advance(&s, &baker, order_id, "confirmed").await;
    let (code, _) = s.call(Method::PATCH, &format!("/products/{croissant}"), Some(&baker), Some(json!({"stock": 2}))).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = s.call(Method::PATCH, &format!("/products/{croissant}"), Some(&baker), Some(json!({"available": false}))).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = s.call(Method::PATCH, &format!("/shops/{bakery}"), Some(&baker), Some(json!({"is_open": false}))).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = s
        .call(Method::POST, "/notifications", Some(&admin), Some(json!({"user_id": alice_id, "severity": "warning", "text": "your order is late"})))
        .await;
    assert_eq!(code, StatusCode::CREATED);
    barrier(&s, &admin, "end").await;

    for device in [&mut alice_phone, &mut alice_laptop] {
        let got = device.events_until("end").await;
        assert_eq!(types(&got), ["order_created", "order_updated", "notification"], "{got:?}");
        assert!(got.iter().all(|e| e["topic"] == format!("user:{alice_id}")));
        assert_eq!(got[0]["data"]["order"]["id"], order_id);
        assert_eq!(got[1]["data"]["order"]["version"], 2);
        assert_eq!(got[1]["data"]["order"]["status"], "confirmed");
        assert_eq!(got[2]["data"]["text"], "your order is late");
        let seqs: Vec<i64> = got.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in seq order: {seqs:?}");
    }

    let got = bob_ws.events_until("end").await;
    assert_eq!(
        types(&got),
        ["inventory_updated", "inventory_updated", "product_availability_changed", "store_availability_changed"],
        "Bob sees the bakery's public catalogue and nothing of Alice's: {got:?}"
    );
    assert!(got.iter().all(|e| e["topic"] == format!("catalog:{bakery}")));

    let got = without_presence(baker_ws.events_until("end").await);
    assert_eq!(
        types(&got),
        ["order_created", "inventory_updated", "order_updated", "inventory_updated", "stock_low", "product_availability_changed", "store_availability_changed"],
        "{got:?}"
    );
    assert!(got.iter().all(|e| e["topic"] == format!("shop:{bakery}")));

    let got = grocer_ws.events_until("end").await;
    assert!(got.iter().all(|e| e["topic"] != format!("shop:{bakery}")), "nothing of another shop: {got:?}");
    assert!(without_presence(got).is_empty());

    let got = admin_ws.events_until("end").await;
    let baker_online: Vec<_> = got.iter().filter(|e| e["type"] == "user_connected" && e["data"]["user_id"] == baker_id).collect();
    assert_eq!(baker_online.len(), 1, "admins see staff presence: {got:?}");
    assert_eq!(
        types(&without_presence(got)),
        ["order_created", "inventory_updated", "order_updated", "inventory_updated", "stock_low", "product_availability_changed", "store_availability_changed"],
        "admins see everything but other users' private notifications"
    );

    // The baker's last socket closing announces them offline.
    drop(baker_ws);
    let next = loop {
        let msg = admin_ws.next().await;
        if msg["type"] == "user_disconnected" {
            break msg;
        }
    };
    assert_eq!(next["data"]["user_id"], baker_id);
    assert_eq!(next["topic"], "admin");

    let stats = s.get("/ws/stats", &admin).await;
    assert_eq!(stats["connections"], 5, "{stats}");
    assert_eq!(stats["unique_users"], 4, "{stats}");
    assert_eq!(stats["topics"][format!("user:{alice_id}")], 2, "{stats}");
    let (code, _) = s.call(Method::GET, "/ws/stats", Some(&alice), None).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn resume_replays_exactly_the_missed_events_then_continues_live() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let baker = s.login(BAKER).await;
    let admin = s.login(ADMIN).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;

    let mut ws = live(&s, &alice).await;
    let order = place(&s, &alice, bakery, loaf).await;
    let id = order["id"].as_i64().unwrap();
    let created = ws.next().await;
    assert_eq!(created["type"], "order_created");
    let last_seq = created["seq"].as_i64().unwrap();
    drop(ws);

    for step in ["confirmed", "preparing", "ready"] {
        advance(&s, &baker, id, step).await;
    }
    // Changes elsewhere that Alice must not be sent.
    let grocer = s.login(GROCER).await;
    let grocery = shop_id(&s, &alice, "Green Grocer").await;
    s.call(Method::PATCH, &format!("/shops/{grocery}"), Some(&grocer), Some(json!({"is_open": false}))).await;

    // Device 1 resumes through the query string, device 2 with a `resume` message.
    let mut phone = try_connect(&s, Auth::Bearer(&alice), &format!("last_seq={last_seq}")).await.expect("upgrade");
    let mut laptop = try_connect(&s, Auth::Bearer(&alice), "").await.expect("upgrade");
    laptop.send(json!({"type": "resume", "last_seq": last_seq})).await;
    for device in [&mut phone, &mut laptop] {
        let mut replay = Vec::new();
        let done = loop {
            let msg = device.next().await;
            if msg["type"] == "resumed" {
                break msg;
            }
            replay.push(msg);
        };
        assert_eq!(types(&replay), ["order_updated"; 3], "{replay:?}");
        let versions: Vec<_> = replay.iter().map(|e| e["data"]["order"]["version"].as_i64().unwrap()).collect();
        assert_eq!(versions, [2, 3, 4]);
        assert!(replay[0]["seq"].as_i64().unwrap() > last_seq);
        assert_eq!(done["replayed"], 3);
    }

    advance(&s, &baker, id, "out_for_delivery").await;
    barrier(&s, &admin, "after-resume").await;
    for device in [&mut phone, &mut laptop] {
        let live_events = device.events_until("after-resume").await;
        assert_eq!(types(&live_events), ["order_updated"], "live again, no duplicates: {live_events:?}");
        assert_eq!(live_events[0]["data"]["order"]["version"], 5);
    }

    // Resuming from the future (another database, say) asks the client to reload.
    let mut stale = try_connect(&s, Auth::Bearer(&alice), "").await.expect("upgrade");
    stale.send(json!({"type": "resume", "last_seq": 1_000_000})).await;
    let msg = stale.next().await;
    assert_eq!(msg["type"], "resync_required", "{msg}");
    // `resume` after going live is refused, and the connection stays open.
    let mut ws = live(&s, &alice).await;
    ws.send(json!({"type": "resume", "last_seq": last_seq})).await;
    let msg = ws.next().await;
    assert_eq!(msg["code"], "resume_not_first", "{msg}");
    assert!(ws.ping(1).await.is_empty());
}

#[tokio::test]
async fn a_client_resumes_across_a_server_restart_without_gaps() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let baker = s.login(BAKER).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;

    let mut ws = live(&s, &alice).await;
    let id = place(&s, &alice, bakery, loaf).await["id"].as_i64().unwrap();
    let last_seq = ws.next().await["seq"].as_i64().unwrap();
    advance(&s, &baker, id, "confirmed").await;
    // The server goes away: the socket is closed with "going away".
    let s = s.restart().await;
    let (code, _) = ws.until_close().await;
    assert_eq!(code, Some(CloseCode::Away));

    // Sessions survive the restart; the sequence continues from the database.
    advance(&s, &baker, id, "preparing").await;
    let mut ws = try_connect(&s, Auth::Bearer(&alice), &format!("last_seq={last_seq}")).await.expect("upgrade");
    let first = ws.next().await;
    let second = ws.next().await;
    assert_eq!(ws.next().await["type"], "resumed");
    assert_eq!(types(&[first.clone(), second.clone()]), ["order_updated", "order_updated"]);
    assert!(first["seq"].as_i64().unwrap() > last_seq);
    assert_eq!(first["data"]["order"]["status"], "confirmed");
    assert_eq!(second["data"]["order"]["status"], "preparing");
    assert!(second["seq"].as_i64().unwrap() > first["seq"].as_i64().unwrap());
}

#[tokio::test]
async fn events_older_than_the_retention_ask_for_a_resync() {
    let s = TestServer::start_with(&["--event-retention-hours", "0"]).await;
    let alice = s.login(ALICE).await;
    let mut ws = try_connect(&s, Auth::Bearer(&alice), "last_seq=1").await.expect("upgrade");
    let msg = ws.next().await;
    assert_eq!(msg["type"], "resync_required", "the seed's events were pruned at start: {msg}");
    assert!(msg["oldest_seq"].as_i64().unwrap() > 1);
    // After reloading, the client resumes from the `seq` its REST data carries.
    let seq = s.get("/orders", &alice).await["seq"].as_i64().unwrap();
    ws.send(json!({"type": "resume", "last_seq": seq})).await;
    assert_eq!(ws.next().await["type"], "resumed");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_and_the_others_keep_up() {
    // Slowness is judged by time: a socket that writes nothing of its backlog for 5 s is cut.
    let s = TestServer::start_with(&["--ws-stall-secs", "5", "--tcp-send-buffer-bytes", "4096"]).await;
    let alice = s.login(ALICE).await;
    let bob = s.login(BOB).await;
    let admin = s.login(ADMIN).await;

    let mut stuck = live_small_buffer(&s, &alice).await;
    let healthy = live(&s, &bob).await;
    // The healthy client reads as events come; the stuck one reads nothing until the end.
    let reader = tokio::spawn(async move {
        let mut healthy = healthy;
        let got = healthy.events_until("done").await;
        (healthy, got)
    });
    // The stuck client starts reading once the server has given up on it (and not before),
    // so its close frame, queued behind what it did not read, reaches it however slow the
    // machine is.
    let cut_off = std::sync::Arc::new(tokio::sync::Notify::new());
    let stuck_reader = tokio::spawn({
        let cut_off = cut_off.clone();
        async move {
            cut_off.notified().await;
            stuck.until_close().await
        }
    });
    let slow_closes = || s.metric("ordercast_ws_slow_client_closes_total");
    // Events go out until the server has cut the stuck client off, however long that takes on
    // this machine: its buffers fill, its backlog stops moving, and the next event after 5 s
    // finds it stalled. The healthy client keeps reading meanwhile and is never stalled.
    let text = "x".repeat(480);
    let mut sent = 0;
    loop {
        let (status, _) = s.call(Method::POST, "/notifications", Some(&admin), Some(json!({"severity": "info", "text": text}))).await;
        assert_eq!(status, StatusCode::CREATED);
        sent += 1;
        if sent % 10 == 0 && slow_closes().await == Some(1.0) {
            break;
        }
        assert!(sent < 20_000, "the stuck client was never cut off");
    }
    cut_off.notify_one();
    // A few more after the cut: they reach the healthy client only.
    for _ in 0..10 {
        let (status, _) = s.call(Method::POST, "/notifications", Some(&admin), Some(json!({"severity": "info", "text": text}))).await;
        assert_eq!(status, StatusCode::CREATED);
        sent += 1;
    }
    barrier(&s, &admin, "done").await;
    let (mut healthy, got) = reader.await.expect("reader");
    assert_eq!(got.len(), sent, "the healthy client gets every event");

    let (code, seen) = stuck_reader.await.expect("stuck reader");
    assert_eq!(code, Some(CloseCode::Library(4008)), "closed as a slow consumer");
    assert!(seen.len() < sent, "it was cut off before the end ({} of {sent})", seen.len());
    assert!(healthy.ping(7).await.is_empty(), "the healthy client is still connected");
    assert_eq!(slow_closes().await, Some(1.0), "only the stuck client was closed");
}

#[tokio::test]
async fn bad_frames_and_forbidden_subscriptions_get_errors_and_nobody_else_is_affected() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let bob = s.login(BOB).await;
    let admin = s.login(ADMIN).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let bobs_order = place(&s, &bob, bakery, loaf).await["id"].as_i64().unwrap();
    let alices_order = place(&s, &alice, bakery, loaf).await["id"].as_i64().unwrap();

    let mut ws = live(&s, &alice).await;
    let mut bystander = live(&s, &bob).await;

    let cases: Vec<(Message, &str)> = vec![
        (Message::text("not json"), "bad_message"),
        (Message::text(r#"{"type":"shout"}"#), "bad_message"),
        (Message::text(r#"{"type":"subscribe","topic":"order:abc"}"#), "bad_message"),
        (Message::binary(vec![1u8, 2, 3]), "binary_not_supported"),
        (Message::text(json!({"type": "subscribe", "topic": format!("order:{bobs_order}")}).to_string()), "not_found"),
        (Message::text(r#"{"type":"subscribe","topic":"order:999999"}"#), "not_found"),
        (Message::text(r#"{"type":"subscribe","topic":"catalog:999999"}"#), "not_found"),
        (Message::text(json!({"type": "subscribe", "topic": format!("shop:{bakery}")}).to_string()), "forbidden"),
        (Message::text(r#"{"type":"subscribe","topic":"admin"}"#), "forbidden"),
        (Message::text(json!({"type": "subscribe", "topic": format!("user:{}", 5)}).to_string()), "forbidden"),
    ];
    for (frame, code) in cases {
        let shown = format!("{frame:?}");
        ws.send_raw(frame).await;
        let msg = ws.next().await;
        assert_eq!(msg["type"], "error", "{shown}: {msg}");
        assert_eq!(msg["code"], code, "{shown}: {msg}");
    }
    ws.send(json!({"type": "subscribe", "topic": format!("order:{alices_order}")})).await;
    assert_eq!(ws.next().await["type"], "subscribed");
    ws.send(json!({"type": "unsubscribe", "topic": "catalog:1"})).await;
    let msg = ws.next().await;
    assert_eq!(msg["type"], "unsubscribed");
    assert_eq!(msg["reason"], "was not subscribed");

    // A burst beyond the rate limit is answered with errors, not a dropped connection.
    for i in 0..60 {
        ws.send(json!({"type": "ping", "id": i})).await;
    }
    let mut pongs = 0;
    let mut limited = 0;
    for _ in 0..60 {
        let msg = ws.next().await;
        match msg["type"].as_str() {
            Some("pong") => pongs += 1,
            Some("error") if msg["code"] == "rate_limited" => limited += 1,
            _ => panic!("{msg}"),
        }
    }
    // The earlier frames used up part of the burst too.
    assert!(limited > 0 && pongs > 0 && pongs + limited == 60, "{pongs} pongs, {limited} refused");

    // An oversized frame closes that connection (1009) and only that one.
    ws.send_raw(Message::text("x".repeat(70 * 1024))).await;
    let (code, _) = ws.until_close().await;
    assert_eq!(code, Some(CloseCode::Size));

    assert!(bystander.ping(1).await.is_empty());
    barrier(&s, &admin, "still-here").await;
    assert!(bystander.events_until("still-here").await.is_empty());
}

#[tokio::test]
async fn upgrades_without_a_session_or_from_another_site_are_refused() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;

    assert_eq!(try_connect(&s, Auth::None, "").await.err(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(try_connect(&s, Auth::Bearer("nope"), "").await.err(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(
        try_connect(&s, Auth::Cookie { token: &alice, origin: Some("http://evil.example") }, "").await.err(),
        Some(StatusCode::FORBIDDEN)
    );
    assert_eq!(try_connect(&s, Auth::Cookie { token: &alice, origin: None }, "").await.err(), Some(StatusCode::FORBIDDEN));

    for auth in [
        Auth::Bearer(&alice),
        Auth::Query(&alice),
        Auth::Subprotocol(&alice),
        Auth::Cookie { token: &alice, origin: Some(s.base.as_str()) },
    ] {
        let ws = try_connect(&s, auth, "").await.expect("upgrade");
        assert_eq!(ws.hello["user_id"], s.get("/auth/me", &alice).await["id"]);
    }

    let metrics = reqwest::get(format!("{}/metrics", s.base)).await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l.starts_with("ordercast_ws_auth_failures_total 4")), "{metrics}");
    assert!(metrics.contains("ordercast_ws_delivery_latency_seconds_bucket"));
}

#[tokio::test]
async fn losing_access_ends_subscriptions_at_once_and_disabling_closes_the_sockets() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let baker = s.login(BAKER).await;
    let admin = s.login(ADMIN).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let baker_id = s.get("/auth/me", &baker).await["id"].as_i64().unwrap();
    let alice_id = s.get("/auth/me", &alice).await["id"].as_i64().unwrap();

    // The baker leaves the bakery: their socket stops following it at once, and says so.
    let mut baker_ws = live(&s, &baker).await;
    let (code, user) = s.call(Method::PATCH, &format!("/users/{baker_id}"), Some(&admin), Some(json!({"shop_ids": []}))).await;
    assert_eq!(code, StatusCode::OK, "{user}");
    assert_eq!(user["shop_ids"], json!([]));
    let msg = loop {
        let msg = baker_ws.next().await;
        if msg["type"] == "unsubscribed" {
            break msg;
        }
        assert_eq!(msg["type"], "user_connected", "{msg}");
    };
    assert_eq!(msg, json!({"type": "unsubscribed", "topic": format!("shop:{bakery}"), "reason": "access revoked"}));
    place(&s, &alice, bakery, loaf).await;
    barrier(&s, &admin, "after-leaving").await;
    assert!(without_presence(baker_ws.events_until("after-leaving").await).is_empty());
    // Nor may they subscribe to it again.
    baker_ws.send(json!({"type": "subscribe", "topic": format!("shop:{bakery}")})).await;
    assert_eq!(baker_ws.next().await["code"], "forbidden");
    assert!(s.get("/orders", &baker).await["items"].as_array().unwrap().is_empty());

    // A disabled user's sockets close with 4001 and their sessions end.
    let mut alice_ws = live(&s, &alice).await;
    let (code, _) = s.call(Method::PATCH, &format!("/users/{alice_id}"), Some(&admin), Some(json!({"disabled": true}))).await;
    assert_eq!(code, StatusCode::OK);
    let (close, _) = alice_ws.until_close().await;
    assert_eq!(close, Some(CloseCode::Library(4001)));
    let (code, _) = s.call(Method::GET, "/auth/me", Some(&alice), None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(try_connect(&s, Auth::Bearer(&alice), "").await.err(), Some(StatusCode::UNAUTHORIZED));

    // Only admins change users.
    let (code, _) = s.call(Method::PATCH, &format!("/users/{baker_id}"), Some(&baker), Some(json!({"disabled": true}))).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_staff_list_shows_who_of_a_shops_staff_is_online() {
    let s = TestServer::start().await;
    let admin = s.login(ADMIN).await;
    let baker = s.login(BAKER).await;
    let (bakery, _) = bakery_loaf(&s, &admin).await;
    let baker_id = s.get("/auth/me", &baker).await["id"].as_i64().unwrap();
    let staff = s.get(&format!("/shops/{bakery}/staff"), &admin).await;
    assert_eq!(staff["items"], json!([{"user_id": baker_id, "name": "Bo Baker", "online": false}]));

    let mut admin_ws = live(&s, &admin).await;
    let baker_ws = live(&s, &baker).await;
    let staff = s.get(&format!("/shops/{bakery}/staff"), &baker).await;
    assert_eq!(staff["items"][0]["online"], true, "{staff}");
    assert!(staff["seq"].as_i64().unwrap() > 0);

    // The last socket going away is announced; after that the list says offline.
    drop(baker_ws);
    loop {
        let msg = admin_ws.next().await;
        if msg["type"] == "user_disconnected" {
            assert_eq!(msg["data"]["user_id"], baker_id, "{msg}");
            break;
        }
    }
    let staff = s.get(&format!("/shops/{bakery}/staff"), &admin).await;
    assert_eq!(staff["items"][0]["online"], false, "{staff}");
}

#[tokio::test]
async fn a_client_that_only_listens_goes_live_from_hello_after_the_grace_period() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    // Connects, reads `hello`, and never says a word.
    let mut ws = try_connect(&s, Auth::Bearer(&alice), "").await.expect("upgrade");
    let hello_seq = ws.hello["seq"].as_i64().unwrap();
    // Committed after `hello` and before the grace period ends: held, then delivered.
    let order = place(&s, &alice, bakery, loaf).await;
    let resumed = ws.next().await;
    assert_eq!(resumed, json!({"type": "resumed", "seq": hello_seq, "replayed": 0}));
    let created = ws.next().await;
    assert_eq!((created["type"].as_str(), created["data"]["order"]["id"].as_i64()), (Some("order_created"), order["id"].as_i64()));
    assert!(created["seq"].as_i64().unwrap() > hello_seq);
    // And live from then on.
    advance(&s, &s.login(BAKER).await, order["id"].as_i64().unwrap(), "confirmed").await;
    assert_eq!(ws.next().await["type"], "order_updated");
}

#[tokio::test]
async fn a_shopkeeper_given_a_shop_follows_it_on_the_open_socket() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let grocer = s.login(GROCER).await;
    let admin = s.login(ADMIN).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let me = s.get("/auth/me", &grocer).await;
    let mut shops: Vec<i64> = me["shop_ids"].as_array().unwrap().iter().filter_map(Value::as_i64).collect();
    let mut ws = live(&s, &grocer).await;
    shops.push(bakery);
    let (code, user) = s.call(Method::PATCH, &format!("/users/{}", me["id"]), Some(&admin), Some(json!({"shop_ids": shops}))).await;
    assert_eq!(code, StatusCode::OK, "{user}");
    let msg = loop {
        let msg = ws.next().await;
        if msg["type"] == "subscribed" {
            break msg;
        }
        assert_eq!(msg["type"], "user_connected", "{msg}");
    };
    assert_eq!(msg, json!({"type": "subscribed", "topic": format!("shop:{bakery}")}));
    let order = place(&s, &alice, bakery, loaf).await;
    barrier(&s, &admin, "after-joining").await;
    let events = without_presence(ws.events_until("after-joining").await);
    let created: Vec<&Value> = events.iter().filter(|e| e["type"] == "order_created").collect();
    assert_eq!(created.len(), 1, "{events:?}");
    assert_eq!(created[0]["data"]["order"]["id"], order["id"]);
    assert_eq!(created[0]["topic"], format!("shop:{bakery}"));
}

#[tokio::test]
async fn the_subscription_limit_counts_what_the_flag_says_and_a_resume_past_it_is_refused_whole() {
    let s = TestServer::start_with(&["--ws-max-subscriptions", "2"]).await;
    let alice = s.login(ALICE).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        orders.push(place(&s, &alice, bakery, loaf).await["id"].as_i64().unwrap());
    }
    // Alice's automatic topic (user:…) does not count: two orders fit, the third does not.
    let mut ws = live(&s, &alice).await;
    for order in &orders[..2] {
        ws.send(json!({"type": "subscribe", "topic": format!("order:{order}")})).await;
        assert_eq!(ws.next().await["type"], "subscribed");
    }
    ws.send(json!({"type": "subscribe", "topic": format!("order:{}", orders[2])})).await;
    let refused = ws.next().await;
    assert_eq!((refused["type"].as_str(), refused["code"].as_str()), (Some("error"), Some("too_many_subscriptions")), "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("at most 2"), "{refused}");

    // A resume naming more topics than allowed gets one error, subscribes nothing, and the
    // connection can still resume properly.
    let mut ws = try_connect(&s, Auth::Bearer(&alice), "").await.expect("upgrade");
    let topics: Vec<String> = (1..=3000).map(|n| format!("order:{n}")).collect();
    ws.send(json!({"type": "resume", "last_seq": null, "topics": topics})).await;
    let refused = ws.next().await;
    assert_eq!(refused["code"], "too_many_subscriptions", "{refused}");
    ws.send(json!({"type": "resume", "last_seq": null})).await;
    assert_eq!(ws.next().await["type"], "resumed", "nothing was subscribed, nothing else answered");
}

#[tokio::test]
async fn a_write_answers_with_the_seq_of_its_own_change() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let baker = s.login(BAKER).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let mut ws = live(&s, &alice).await;

    let order = place(&s, &alice, bakery, loaf).await;
    let created = ws.next().await;
    assert_eq!(created["type"], "order_created");
    // Placing an order writes its event and the stock changes after it: the answer names the
    // last, and a client following from there is sent none of them again.
    assert!(order["seq"].as_i64() >= created["seq"].as_i64(), "{order} {created}");
    let mut from_answer = try_connect(&s, Auth::Bearer(&alice), &format!("last_seq={}", order["seq"])).await.expect("upgrade");
    assert_eq!(from_answer.next().await["replayed"], 0);

    let (code, moved) =
        s.call(Method::PATCH, &format!("/orders/{}/status", order["id"]), Some(&baker), Some(json!({"status": "confirmed"}))).await;
    assert_eq!(code, StatusCode::OK, "{moved}");
    let updated = ws.next().await;
    assert_eq!((moved["seq"].clone(), moved["status"].clone()), (updated["seq"].clone(), json!("confirmed")));

    // A write that changes nothing writes no event: it names the newest seq before it.
    let shop = s.get(&format!("/shops/{bakery}"), &baker).await;
    let (code, same) = s.call(Method::PATCH, &format!("/shops/{bakery}"), Some(&baker), Some(json!({"name": shop["name"]}))).await;
    assert_eq!(code, StatusCode::OK, "{same}");
    assert_eq!(same["seq"], updated["seq"]);
}

#[tokio::test]
async fn a_resume_in_the_address_names_its_topics_and_a_bad_topic_is_refused_before_the_upgrade() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let from = s.get("/orders", &alice).await["seq"].as_i64().unwrap();
    let order = place(&s, &alice, bakery, loaf).await;
    // Connecting with the position and the topics: subscribed, replayed and live before the
    // client has said a word.
    let mut ws = try_connect(&s, Auth::Bearer(&alice), &format!("last_seq={from}&topics=catalog:{bakery}")).await.expect("upgrade");
    let mut got = Vec::new();
    let resumed = loop {
        let msg = ws.next().await;
        if msg["type"] == "resumed" {
            break msg;
        }
        got.push(msg);
    };
    assert_eq!(got[0], json!({"type": "subscribed", "topic": format!("catalog:{bakery}")}));
    let replayed: Vec<&Value> = got.iter().filter(|m| m.get("seq").is_some()).collect();
    assert!(replayed.iter().any(|e| e["type"] == "order_created" && e["data"]["order"]["id"] == order["id"]), "{got:?}");
    assert!(replayed.iter().any(|e| e["type"] == "inventory_updated" && e["topic"] == format!("catalog:{bakery}")), "{got:?}");
    assert_eq!(resumed["replayed"].as_u64(), Some(replayed.len() as u64));

    for bad in ["last_seq=1&topics=kitchen:1", "last_seq=1&topics=order:0", "topics=catalog:1,,"] {
        assert_eq!(try_connect(&s, Auth::Bearer(&alice), bad).await.err(), Some(StatusCode::BAD_REQUEST), "{bad}");
    }
}
