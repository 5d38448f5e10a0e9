//! Several nodes on one PostgreSQL database: whatever node a change lands on and whatever node
//! a client is connected to, every event arrives in `seq` order with no gap and no duplicate;
//! revocations, sign-outs and presence cross nodes; a killed node, a killed listener and a
//! restarted PostgreSQL lose nothing.
//!
//! These need a PostgreSQL server (`ORDERCAST_TEST_POSTGRES`, which `.ci/test` starts), so
//! they are `#[ignore]`d in a plain `cargo test` and run by `.ci/test` with `--ignored`.

use crate::common::*;
use crate::ws::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

async fn postgres() -> TestDb {
    let admin = std::env::var("ORDERCAST_TEST_POSTGRES").expect("ORDERCAST_TEST_POSTGRES: these tests need PostgreSQL (.ci/test starts one)");
    TestDb::fresh_postgres(&admin).await
}

/// Two nodes on one fresh PostgreSQL database (the first one seeds it).
async fn two_nodes(extra_args: &[&str]) -> (TestServer, TestServer) {
    let db = postgres().await;
    let a = TestServer::start_node(&db, "node-a", extra_args).await;
    let b = TestServer::start_node(&db, "node-b", extra_args).await;
    (a, b)
}

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["seq"].as_i64().expect("seq")).collect()
}

/// The seqs of every event an admin receives after `after` (all with an audience), except the
/// barrier notification `barrier`, from the database.
async fn admin_seqs(server: &TestServer, after: i64, barrier: &str) -> Vec<i64> {
    server
        .events_after(after)
        .await
        .into_iter()
        .filter(|(_, _, topics, payload)| !topics.is_empty() && payload["text"] != barrier)
        .map(|e| e.0)
        .collect()
}

/// The seqs of every event a socket receives before the notification `barrier`.
async fn seqs_until(ws: &mut Ws, barrier: &str) -> Vec<i64> {
    seqs_until_within(ws, barrier, DEADLINE).await
}

/// [`seqs_until`], allowing `deadline` for each message.
async fn seqs_until_within(ws: &mut Ws, barrier: &str, deadline: Duration) -> Vec<i64> {
    let mut got = Vec::new();
    loop {
        let msg = ws.next_within(deadline).await;
        if msg["type"] == "notification" && msg["data"]["text"] == barrier {
            return got;
        }
        if let Some(seq) = msg["seq"].as_i64() {
            got.push(seq);
        }
    }
}

fn assert_in_order_without_gaps(got: &[i64], want: &[i64], who: &str) {
    assert!(got.windows(2).all(|w| w[0] < w[1]), "{who}: out of order or duplicated: {got:?}");
    assert_eq!(got.len(), want.len(), "{who}: received {} events, the database has {}", got.len(), want.len());
    assert_eq!(got, want, "{who}: the received seqs differ from the database's");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run by .ci/test"]
async fn a_socket_on_one_node_gets_changes_made_through_another_in_order() {
    let (a, b) = two_nodes(&[]).await;
    let alice = b.login(ALICE).await;
    let admin_b = b.login(ADMIN).await;
    let baker_a = a.login(BAKER).await;
    let (bakery, loaf) = bakery_loaf(&b, &alice).await;
    let stats_a = a.get("/ws/stats", &a.login(ADMIN).await).await;
    let stats_b = b.get("/ws/stats", &admin_b).await;
    assert_eq!((stats_a["node"].as_str(), stats_b["node"].as_str()), (Some("node-a"), Some("node-b")));

    let mut baker_ws = live(&a, &baker_a).await;
    let start = baker_ws.hello["seq"].as_i64().unwrap();
    // The same baker on a second device, over Server-Sent Events on the same node.
    let mut baker_sse = crate::sse::open(&a, &baker_a, "").await;
    let sse_start = baker_sse.next().await.data["seq"].as_i64().expect("resumed");
    let order = place(&b, &alice, bakery, loaf).await;
    let id = order["id"].as_i64().unwrap();
    for status in ["confirmed", "preparing", "ready"] {
        let (code, body) = b.call(Method::PATCH, &format!("/orders/{id}/status"), Some(&admin_b), Some(json!({"status": status}))).await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    barrier(&b, &admin_b, "barrier").await;
    // Events after the hello's seq (the baker's own presence, written before it, may come too).
    let events: Vec<Value> = baker_ws.events_until("barrier").await.into_iter().filter(|e| e["seq"].as_i64() > Some(start)).collect();
    let orders: Vec<&Value> = events.iter().filter(|e| e["data"]["order"]["id"] == id).collect();
    let statuses: Vec<&str> = orders.iter().map(|e| e["data"]["order"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["pending", "confirmed", "preparing", "ready"]);
    let shop_events: Vec<i64> = b
        .events_after(start)
        .await
        .into_iter()
        .filter(|(_, _, topics, _)| topics.contains(&format!("shop:{bakery}")))
        .map(|e| e.0)
        .collect();
    assert_in_order_without_gaps(&seqs(&events), &shop_events, "baker on node A");
    let over_sse: Vec<Value> = baker_sse.events_until("barrier").await.into_iter().map(|e| e.data).collect();
    let over_ws: Vec<Value> = events.into_iter().filter(|e| e["seq"].as_i64() > Some(sse_start)).collect();
    assert_eq!(over_sse, over_ws, "the event stream carries what the socket does");
}

/// Each node keeps the boards it read (`board_cache`): a change made through one node shows on
/// a board read from the other as soon as the change is answered, however slow the other
/// node's relay is to hear of it.
#[tokio::test]
#[ignore = "needs PostgreSQL: run by .ci/test"]
async fn a_board_read_on_one_node_shows_a_change_just_made_through_the_other() {
    let (a, b) = two_nodes(&[]).await;
    let (alice, baker_a, baker_b) = (b.login(ALICE).await, a.login(BAKER).await, b.login(BAKER).await);
    let (bakery, loaf) = bakery_loaf(&b, &alice).await;
    let path = format!("/shops/{bakery}/board");
    let id = place(&b, &alice, bakery, loaf).await["id"].as_i64().unwrap();
    for (status, seen) in [("confirmed", "pending"), ("preparing", "confirmed"), ("ready", "preparing")] {
        // Node A has the board in memory, as of the last step...
        assert_eq!(status_on_board(&a.get(&path, &baker_a).await, id), Some(json!(seen)));
        // ...and the next one is made through node B.
        let seq = advance(&b, &baker_b, id, status).await;
        let board = a.get(&path, &baker_a).await;
        assert_eq!(status_on_board(&board, id), Some(json!(status)), "step to {status}");
        assert!(board["seq"].as_i64().unwrap() >= seq);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run by .ci/test"]
async fn a_client_resumes_on_another_node_after_the_first_is_killed() {
    let (a, b) = two_nodes(&[]).await;
    let alice = b.login(ALICE).await;
    let admin = b.login(ADMIN).await;
    let (bakery, loaf) = bakery_loaf(&b, &alice).await;
    let order = place(&b, &alice, bakery, loaf).await;
    let id = order["id"].as_i64().unwrap();

    let mut on_a = live(&a, &alice).await;
    let start = on_a.hello["seq"].as_i64().unwrap();
    let advance = |status: &'static str| {
        let (b, admin) = (&b, admin.clone());
        async move {
            let (code, body) = b.call(Method::PATCH, &format!("/orders/{id}/status"), Some(&admin), Some(json!({"status": status}))).await;
            assert_eq!(code, StatusCode::OK, "{body}");
        }
    };
    advance("confirmed").await;
    barrier(&b, &admin, "before the kill").await;
    let mut received = on_a.events_until("before the kill").await;
    let last_seen = received.last().map(|e| e["seq"].as_i64().unwrap()).unwrap_or(start);

    a.kill().await;
    advance("preparing").await;
    advance("ready").await;

    let mut on_b = try_connect(&b, Auth::Bearer(&alice), "").await.expect("upgrade");
    on_b.send(json!({"type": "resume", "last_seq": last_seen})).await;
    loop {
        let msg = on_b.next().await;
        if msg["type"] == "resumed" {
            break;
        }
        if msg.get("seq").is_some() {
            received.push(msg);
        }
    }
    advance("out_for_delivery").await;
    barrier(&b, &admin, "after the kill").await;
    received.extend(on_b.events_until("after the kill").await);
    // Everything Alice may see after she first connected, except the last barrier, which is
    // read up to and not collected (the first one comes again in the replay from `last_seen`).
    let got = seqs(&received);
    let alice_id = b.get("/auth/me", &alice).await["id"].as_i64().unwrap();
    let want: Vec<i64> = b
        .events_after(start)
        .await
        .into_iter()
        .filter(|(_, _, topics, _)| topics.iter().any(|t| t == "broadcast" || *t == format!("user:{alice_id}")))
        .filter(|(_, _, _, payload)| payload["text"] != "after the kill")
        .map(|e| e.0)
        .collect();
    assert_in_order_without_gaps(&got, &want, "alice across the kill");
    let statuses: Vec<&str> = received.iter().filter_map(|e| e["data"]["order"]["status"].as_str()).collect();
    assert_eq!(statuses, ["confirmed", "preparing", "ready", "out_for_delivery"]);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run by .ci/test"]
async fn revocation_and_sign_out_on_one_node_close_sockets_on_the_other() {
    let (a, b) = two_nodes(&[]).await;
    let admin = b.login(ADMIN).await;
    let baker = a.login(BAKER).await;
    let alice = a.login(ALICE).await;
    let (bakery, _) = bakery_loaf(&b, &admin).await;
    let baker_id = b.get("/auth/me", &baker).await["id"].as_i64().unwrap();

    // The baker, connected to node A, is taken off the bakery through node B.
    let mut baker_ws = live(&a, &baker).await;
    let (code, body) = b.call(Method::PATCH, &format!("/users/{baker_id}"), Some(&admin), Some(json!({"shop_ids": []}))).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let msg = loop {
        let msg = baker_ws.next().await;
        if msg["type"] == "unsubscribed" {
            break msg;
        }
    };
    assert_eq!(msg, json!({"type": "unsubscribed", "topic": format!("shop:{bakery}"), "reason": "access revoked"}));
    // Then disabled: the socket on A closes with 4001.
    let (code, _) = b.call(Method::PATCH, &format!("/users/{baker_id}"), Some(&admin), Some(json!({"disabled": true}))).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(baker_ws.until_close().await.0, Some(CloseCode::Library(4001)));

    // Alice signs out through node B: her socket on node A closes with 4001; another session
    // of hers stays open.
    let other = a.login(ALICE).await;
    let mut signed_out = live(&a, &alice).await;
    let mut stays = live(&a, &other).await;
    let res = reqwest::Client::new().post(b.url("/auth/logout")).bearer_auth(&alice).send().await.expect("logout");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(signed_out.until_close().await.0, Some(CloseCode::Library(4001)));
    assert!(stays.ping(1).await.iter().all(|m| m["type"] != "error"));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run by .ci/test"]
async fn presence_follows_across_nodes_and_expires_for_a_killed_node() {
    let (a, b) = two_nodes(&["--presence-lease-secs", "1"]).await;
    let admin = b.login(ADMIN).await;
    let baker = a.login(BAKER).await;
    let (bakery, _) = bakery_loaf(&b, &admin).await;
    let baker_id = b.get("/auth/me", &baker).await["id"].as_i64().unwrap();
    let staff = format!("/shops/{bakery}/staff");

    let mut admin_ws = live(&b, &admin).await;

    // Connected on A: B's admin hears it and B's staff list says online.
    let baker_ws = live(&a, &baker).await;
    let msg = presence_event(&mut admin_ws).await;
    assert_eq!((msg["type"].as_str(), msg["data"]["user_id"].as_i64()), (Some("user_connected"), Some(baker_id)));
    assert_eq!(b.get(&staff, &admin).await["items"][0]["online"], true);

    // A second socket on B, then the one on A closes: still online, nothing announced.
    let baker_on_b = live(&b, &baker).await;
    drop(baker_ws);
    // Node A kills its row only; prove nothing was announced by a barrier.
    barrier(&b, &admin, "still online").await;
    let between = admin_ws.events_until("still online").await;
    assert!(between.iter().all(|e| e["type"] != "user_disconnected"), "{between:?}");
    assert_eq!(b.get(&staff, &admin).await["items"][0]["online"], true);

    // The last socket closes on B: offline.
    drop(baker_on_b);
    let msg = presence_event(&mut admin_ws).await;
    assert_eq!(msg["type"], "user_disconnected");

    // Online through A again, then A is killed: its lease runs out and B announces the baker
    // offline.
    let _baker_ws = live(&a, &baker).await;
    assert_eq!(presence_event(&mut admin_ws).await["type"], "user_connected");
    a.kill().await;
    let msg = presence_event(&mut admin_ws).await;
    assert_eq!((msg["type"].as_str(), msg["data"]["user_id"].as_i64()), (Some("user_disconnected"), Some(baker_id)));
    assert_eq!(b.get(&staff, &admin).await["items"][0]["online"], false);
}

async fn presence_event(ws: &mut Ws) -> Value {
    loop {
        let msg = ws.next().await;
        if msg["type"] == "user_connected" || msg["type"] == "user_disconnected" {
            return msg;
        }
    }
}

/// Makes `n` changes through `server`: orders placed by two customers and moved along by an
/// admin, and every fifth attempt one that is refused and rolled back (a sold-out product).
async fn write_load(server: &TestServer, n: usize, customers: [String; 2], admin: String, shop: i64, product: i64, sold_out: i64) {
    let mut placed: Vec<i64> = Vec::new();
    for i in 0..n {
        let customer = &customers[i % 2];
        if i % 5 == 4 {
            let body = json!({"shop_id": shop, "items": [{"product_id": product, "quantity": 1}, {"product_id": sold_out, "quantity": 1}]});
            let (code, res) = server.call(Method::POST, "/orders", Some(customer), Some(body)).await;
            assert_eq!(code, StatusCode::CONFLICT, "{res}");
        } else if i % 3 == 0 || placed.is_empty() {
            placed.push(place(server, customer, shop, product).await["id"].as_i64().unwrap());
        } else {
            let id = placed.remove(0);
            let (code, res) = server.call(Method::PATCH, &format!("/orders/{id}/status"), Some(&admin), Some(json!({"status": "confirmed"}))).await;
            assert_eq!(code, StatusCode::OK, "{res}");
        }
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run by .ci/test"]
async fn concurrent_writers_on_both_nodes_reach_every_client_in_commit_order() {
    let (a, b) = two_nodes(&[]).await;
    let admin = a.login(ADMIN).await;
    let (bakery, loaf) = bakery_loaf(&a, &admin).await;
    let rye = product_id(&a, &admin, bakery, "Rye").await;
    for (product, stock) in [(loaf, 1_000_000), (rye, 0)] {
        let (code, body) = a.call(Method::PATCH, &format!("/products/{product}"), Some(&admin), Some(json!({"stock": stock}))).await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    let mut on_a = live(&a, &admin).await;
    let mut on_b = live(&b, &b.login(ADMIN).await).await;
    let start = on_a.hello["seq"].as_i64().unwrap().max(on_b.hello["seq"].as_i64().unwrap());

    // Eight writers, four per node, 2,000 attempts in all.
    let mut writers = Vec::new();
    for server in [&a, &b, &a, &b, &a, &b, &a, &b] {
        let customers = [server.login(ALICE).await, server.login(BOB).await];
        let admin = server.login(ADMIN).await;
        writers.push(write_load(server, 250, customers, admin, bakery, loaf, rye));
    }
    // Readers drain both sockets while the writers run, so no queue overflows.
    let (reader_a, reader_b) = (seqs_until(&mut on_a, "done"), seqs_until(&mut on_b, "done"));
    let write_all = async {
        futures_util::future::join_all(writers).await;
        barrier(&b, &admin, "done").await;
    };
    let (got_a, got_b, ()) = tokio::join!(reader_a, reader_b, write_all);
    let want = admin_seqs(&a, start, "done").await;
    assert!(want.len() >= 1_600, "only {} events written", want.len());
    assert_in_order_without_gaps(&got_a, &want, "admin on node A");
    assert_in_order_without_gaps(&got_b, &want, "admin on node B");
    // seq is gapless: the database's own list has no holes either.
    let all: Vec<i64> = a.events_after(start).await.into_iter().map(|e| e.0).collect();
    assert!(all.windows(2).all(|w| w[1] == w[0] + 1), "holes in the outbox");
}

fn as_postgres_user(program: &str) -> std::process::Command {
    let root = std::process::Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
    if root {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        std::process::Command::new(program)
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: run by .ci/test (alone: it restarts the server)"]
async fn a_killed_listener_and_a_restarted_postgres_lose_nothing() {
    let pg_ctl = std::env::var("ORDERCAST_TEST_PG_CTL").expect("ORDERCAST_TEST_PG_CTL");
    let pg_data = std::env::var("ORDERCAST_TEST_PG_DATA").expect("ORDERCAST_TEST_PG_DATA");
    let (a, b) = two_nodes(&[]).await;
    let admin_a = a.login(ADMIN).await;
    let admin_b = b.login(ADMIN).await;
    let mut on_a = live(&a, &admin_a).await;
    let start = on_a.hello["seq"].as_i64().unwrap();
    // The admin on A reads all along, as a live client does (answering the server's pings): left
    // unread through a slow restart, the socket was closed (most likely as unresponsive).
    // Nothing arrives while PostgreSQL is down, which on a loaded machine lasts long.
    let reader = tokio::spawn(async move { seqs_until_within(&mut on_a, "done", Duration::from_secs(300)).await });

    // Writes through B, with retries: while PostgreSQL restarts, requests fail.
    let write = |text: String| {
        let (b, admin_b) = (&b, admin_b.clone());
        async move {
            for _ in 0..200 {
                let res = reqwest::Client::new()
                    .post(b.url("/notifications"))
                    .bearer_auth(&admin_b)
                    .json(&json!({"severity": "info", "text": text}))
                    .send()
                    .await;
                if res.map(|r| r.status() == StatusCode::CREATED).unwrap_or(false) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("could not write {text:?}");
        }
    };
    for i in 0..20 {
        write(format!("before {i}")).await;
    }
    // Node A's listener connection is killed: A's relay re-reads and keeps up.
    let db = a.db.clone();
    db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()").await;
    for i in 0..20 {
        write(format!("listener killed {i}")).await;
    }
    // PostgreSQL restarts under both nodes. The shutdown checkpoint flushes what the whole
    // cluster has not (the earlier suites' databases too): done beforehand, and with time to
    // spare, since on a loaded machine it outlasted pg_ctl's default 60 s wait.
    db.execute("CHECKPOINT").await;
    let status = as_postgres_user(&pg_ctl).args(["-D", &pg_data, "-m", "fast", "-w", "-t", "300", "restart"]).stdout(std::process::Stdio::null()).status().expect("pg_ctl");
    assert!(status.success(), "pg_ctl restart failed");
    for i in 0..20 {
        write(format!("restarted {i}")).await;
    }
    write("done".into()).await;
    let got = reader.await.expect("the admin's socket reader");
    let want = admin_seqs(&a, start, "done").await;
    assert_in_order_without_gaps(&got, &want, "admin on node A");
    assert_eq!(got.len(), 60);
}
