//! The whole life of orders, shops and products over HTTP, and the outbox row each change writes.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use crate::ws::live;

/// A resource as answered, without the `seq` it is current as of.
fn without_seq(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("seq");
    }
    v
}

fn types(events: &[(i64, String, Vec<String>, serde_json::Value)]) -> Vec<&str> {
    events.iter().map(|e| e.1.as_str()).collect()
}

#[tokio::test]
async fn an_order_goes_from_placed_to_delivered_with_an_event_for_every_step() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let baker = server.login(BAKER).await;
    let bakery = shop_id(&server, &alice, "Corner Bakery").await;
    let loaf = product_id(&server, &alice, bakery, "Sourdough").await;
    let bun = product_id(&server, &alice, bakery, "Cinnamon").await;
    let stock_before = server.get(&format!("/shops/{bakery}/products"), &alice).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == loaf)
        .unwrap()["stock"]
        .as_i64()
        .unwrap();
    let seq0 = server.max_seq().await;

    let (status, order) = server
        .call(Method::POST, "/orders", Some(&alice), Some(json!({"shop_id": bakery, "items": [{"product_id": loaf, "quantity": 2}, {"product_id": bun, "quantity": 1}]})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "pending");
    assert_eq!(order["payment_status"], "unpaid");
    assert_eq!(order["version"], 1);
    assert_eq!(order["total_minor"], 2 * 550 + 320);
    assert_eq!(order["items"][0]["name"], "Sourdough loaf");
    assert_eq!(order["items"][0]["unit_price_minor"], 550);
    assert_eq!(order["items"][0]["line_total_minor"], 1100);
    let id = order["id"].as_i64().unwrap();

    let created = server.events_after(seq0).await;
    assert_eq!(types(&created), ["order_created", "inventory_updated", "inventory_updated"]);
    assert_eq!(created[0].3["order"]["id"], id);
    let mut topics = created[0].2.clone();
    topics.sort();
    let mut want = vec![format!("user:{}", order["customer_id"]), format!("shop:{bakery}"), format!("order:{id}"), "admin".to_string()];
    want.sort();
    assert_eq!(topics, want);
    assert_eq!(created[1].3["stock"], stock_before - 2);

    // The price captured on the order does not follow later price changes.
    let (status, _) = server.call(Method::PATCH, &format!("/products/{loaf}"), Some(&baker), Some(json!({"price_minor": 600}))).await;
    assert_eq!(status, StatusCode::OK);

    let seq1 = server.max_seq().await;
    let (status, paid) = server.call(Method::POST, &format!("/orders/{id}/payment/verify"), Some(&baker), None).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "confirmed", "verifying payment confirms a pending order");
    assert_eq!(paid["payment_status"], "paid");
    assert_eq!(paid["version"], 2);

    let mut version = 2;
    for step in ["preparing", "ready", "out_for_delivery", "delivered"] {
        let (status, o) = server
            .call(Method::PATCH, &format!("/orders/{id}/status"), Some(&baker), Some(json!({"status": step, "note": format!("now {step}")})))
            .await;
        assert_eq!(status, StatusCode::OK, "{step}: {o}");
        version += 1;
        assert_eq!(o["status"], step);
        assert_eq!(o["version"], version);
        // The answer and the event's snapshot (built in memory) are the order as stored.
        let order = without_seq(o);
        assert_eq!(order, without_seq(server.get(&format!("/orders/{id}"), &alice).await), "{step}");
        let events = server.events_after(server.max_seq().await - 1).await;
        assert_eq!(events[0].3["order"], order, "{step}");
    }

    let detail = server.get(&format!("/orders/{id}"), &alice).await;
    assert_eq!(detail["status"], "delivered");
    assert_eq!(detail["items"][0]["unit_price_minor"], 550);
    let history: Vec<_> = detail["history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
    assert_eq!(history, ["pending", "confirmed", "preparing", "ready", "out_for_delivery", "delivered"]);
    assert_eq!(detail["history"][5]["note"], "now delivered");
    assert!(detail["seq"].as_i64().unwrap() >= server.max_seq().await);

    let updates = server.events_after(seq1).await;
    assert_eq!(types(&updates), ["order_updated"; 5]);
    let seqs: Vec<i64> = updates.iter().map(|e| e.0).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "gap-free and in order: {seqs:?}");
    let changes: Vec<_> = updates.iter().map(|e| e.3["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["payment_verified", "status_changed", "status_changed", "status_changed", "status_changed"]);
    let versions: Vec<_> = updates.iter().map(|e| e.3["order"]["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [2, 3, 4, 5, 6]);

    // Delivered is final.
    let (status, err) = server.call(Method::POST, &format!("/orders/{id}/cancel"), Some(&baker), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "order_final");
}

#[tokio::test]
async fn concurrent_changes_of_one_order_apply_once_each() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let baker = server.login(BAKER).await;
    let bakery = shop_id(&server, &alice, "Corner Bakery").await;
    let loaf = product_id(&server, &alice, bakery, "Sourdough").await;
    let (_, order) = server.call(Method::POST, "/orders", Some(&alice), Some(json!({"shop_id": bakery, "items": [{"product_id": loaf, "quantity": 1}]}))).await;
    let id = order["id"].as_i64().unwrap();
    let seq0 = server.max_seq().await;

    // Eight staff screens confirm at once, and four also verify the payment: every request
    // reads the order before it waits for the writer, so most decide on a state that is gone.
    let path = format!("/orders/{id}/status");
    let verify = format!("/orders/{id}/payment/verify");
    let confirms = (0..8).map(|_| server.call(Method::PATCH, &path, Some(&baker), Some(json!({"status": "confirmed"}))));
    let pays = (0..4).map(|_| server.call(Method::POST, &verify, Some(&baker), None));
    let (confirmed, paid) = tokio::join!(futures_util::future::join_all(confirms), futures_util::future::join_all(pays));
    let ok = |answers: &[(StatusCode, Value)]| answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    // Decided on the order as it then was: one confirmation and one payment, whatever the
    // interleaving (a payment first confirms the order, and no confirmation follows).
    assert_eq!(ok(&paid), 1, "{paid:?}");
    assert!(ok(&confirmed) <= 1, "{confirmed:?}");
    for (status, body) in confirmed.iter().chain(&paid).filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
    }
    let detail = server.get(&format!("/orders/{id}"), &alice).await;
    assert_eq!(detail["version"], 1 + ok(&confirmed) as i64 + 1);
    assert_eq!(detail["history"].as_array().unwrap().len(), 1 + ok(&confirmed) + 1);
    assert_eq!((detail["status"].as_str(), detail["payment_status"].as_str()), (Some("confirmed"), Some("paid")));
    // One event per change, each with the snapshot of its version.
    let events = server.events_after(seq0).await;
    let versions: Vec<i64> = events.iter().map(|e| e.3["order"]["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, (2..=detail["version"].as_i64().unwrap()).collect::<Vec<_>>());
    assert_eq!(events.last().unwrap().3["order"], without_seq(detail));
}

#[tokio::test]
async fn customers_cancel_early_orders_and_shops_close() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let baker = server.login(BAKER).await;
    let bakery = shop_id(&server, &alice, "Corner Bakery").await;
    let loaf = product_id(&server, &alice, bakery, "Sourdough").await;
    let new_order = json!({"shop_id": bakery, "items": [{"product_id": loaf, "quantity": 1}]});
    let stock = || async {
        let products = server.get(&format!("/shops/{bakery}/products"), &alice).await;
        products["items"].as_array().unwrap().iter().find(|p| p["id"] == loaf).unwrap()["stock"].as_i64().unwrap()
    };
    let stock_before = stock().await;

    let (_, order) = server.call(Method::POST, "/orders", Some(&alice), Some(new_order.clone())).await;
    let id = order["id"].as_i64().unwrap();
    assert_eq!(stock().await, stock_before - 1);
    let seq = server.max_seq().await;
    let (status, cancelled) = server
        .call(Method::POST, &format!("/orders/{id}/cancel"), Some(&alice), Some(json!({"reason": "ordered twice"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["history"][1]["note"], "ordered twice");
    // What was set aside for the order can be sold again, and every board hears so.
    let events = server.events_after(seq).await;
    assert_eq!(types(&events), ["order_updated", "inventory_updated"]);
    assert_eq!(events[0].3["change"], "cancelled");
    assert_eq!(events[1].3["product_id"], loaf);
    assert_eq!(events[1].3["previous_stock"], stock_before - 1);
    assert_eq!(events[1].3["stock"], stock_before);
    assert_eq!(cancelled["seq"], events[1].0, "the answer is current as of its last event");
    assert_eq!(stock().await, stock_before);

    // Past confirmed, only staff can cancel.
    let (_, order) = server.call(Method::POST, "/orders", Some(&alice), Some(new_order.clone())).await;
    let id = order["id"].as_i64().unwrap();
    for step in ["confirmed", "preparing"] {
        let (status, _) = server.call(Method::PATCH, &format!("/orders/{id}/status"), Some(&baker), Some(json!({"status": step}))).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, err) = server.call(Method::POST, &format!("/orders/{id}/cancel"), Some(&alice), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "cancel_too_late");
    let (status, o) = server.call(Method::PATCH, &format!("/orders/{id}/status"), Some(&baker), Some(json!({"status": "cancelled", "note": "oven broke"}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(o["status"], "cancelled");
    assert_eq!(stock().await, stock_before, "a cancellation by staff puts the stock back too");
    // Cancelling again is refused and puts nothing back twice.
    let (status, _) = server.call(Method::PATCH, &format!("/orders/{id}/status"), Some(&baker), Some(json!({"status": "cancelled"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(stock().await, stock_before);

    // A closed shop takes no orders.
    let seq = server.max_seq().await;
    let (status, shop) = server.call(Method::PATCH, &format!("/shops/{bakery}"), Some(&baker), Some(json!({"is_open": false}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shop["is_open"], false);
    let (status, err) = server.call(Method::POST, "/orders", Some(&alice), Some(new_order.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "shop_closed");
    // Closing it again changes nothing and writes no event.
    server.call(Method::PATCH, &format!("/shops/{bakery}"), Some(&baker), Some(json!({"is_open": false}))).await;
    let (status, _) = server.call(Method::PATCH, &format!("/shops/{bakery}"), Some(&baker), Some(json!({"is_open": true}))).await;
    assert_eq!(status, StatusCode::OK);
    let events = server.events_after(seq).await;
    assert_eq!(types(&events), ["store_availability_changed", "store_availability_changed"]);
    assert_eq!(events[0].3["shop"]["is_open"], false);
    assert!(events[0].2.contains(&format!("catalog:{bakery}")));
}

#[tokio::test]
async fn product_changes_write_their_events_and_limit_orders() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let baker = server.login(BAKER).await;
    let bakery = shop_id(&server, &alice, "Corner Bakery").await;
    let croissant = product_id(&server, &alice, bakery, "Croissant").await;

    let seq = server.max_seq().await;
    let (status, p) = server
        .call(Method::POST, &format!("/shops/{bakery}/products"), Some(&baker), Some(json!({"name": "Baguette", "price_minor": 290, "stock": 20, "low_stock_threshold": 3})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    assert_eq!(p["available"], true);
    let baguette = p["id"].as_i64().unwrap();

    // Stock down to the threshold: an inventory update and a low-stock alert.
    let (status, p) = server.call(Method::PATCH, &format!("/products/{croissant}"), Some(&baker), Some(json!({"stock": 2}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p["stock"], 2);
    let (status, err) = server
        .call(Method::POST, "/orders", Some(&alice), Some(json!({"shop_id": bakery, "items": [{"product_id": croissant, "quantity": 3}]})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "insufficient_stock");

    let (status, _) = server.call(Method::PATCH, &format!("/products/{croissant}"), Some(&baker), Some(json!({"available": false}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = server
        .call(Method::POST, "/orders", Some(&alice), Some(json!({"shop_id": bakery, "items": [{"product_id": croissant, "quantity": 1}]})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "product_unavailable");

    // Ordering the last units of a product takes its stock to zero and raises the alert once.
    let (status, _) = server
        .call(Method::POST, "/orders", Some(&alice), Some(json!({"shop_id": bakery, "items": [{"product_id": baguette, "quantity": 17}]})))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let events = server.events_after(seq).await;
    assert_eq!(
        types(&events),
        ["product_updated", "inventory_updated", "stock_low", "product_availability_changed", "order_created", "inventory_updated", "stock_low"]
    );
    assert_eq!(events[0].3["change"], "created");
    assert_eq!(events[2].3["product_id"], croissant);
    assert!(!events[2].2.contains(&format!("catalog:{bakery}")), "stock alerts are for staff only");
    assert_eq!(events[3].3["available"], false);
    assert_eq!(events[5].3["stock"], 3);
}

#[tokio::test]
async fn admins_create_users_who_can_then_sign_in() {
    let server = TestServer::start().await;
    let admin = server.login(ADMIN).await;
    let bakery = shop_id(&server, &admin, "Corner Bakery").await;
    let new = json!({"email": "Carla@Ordercast.test", "name": "Carla Cook", "role": "shopkeeper", "password": "secret-pass", "shop_ids": [bakery]});
    let (status, user) = server.call(Method::POST, "/users", Some(&admin), Some(new.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["email"], "carla@ordercast.test");
    assert_eq!(user["shop_ids"], json!([bakery]));
    let (status, err) = server.call(Method::POST, "/users", Some(&admin), Some(new)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");

    let before = server.fingerprint().await;
    for (body, code) in [
        (json!({"email": "x", "name": "X", "role": "customer", "password": "secret-pass"}), "validation_failed"),
        (json!({"email": "x@y.test", "name": "X", "role": "customer", "password": "short"}), "validation_failed"),
        (json!({"email": "x@y.test", "name": "X", "role": "customer", "password": "secret-pass", "shop_ids": [bakery]}), "validation_failed"),
        (json!({"email": "x@y.test", "name": "X", "role": "root", "password": "secret-pass"}), "invalid_body"),
    ] {
        let (status, err) = server.call(Method::POST, "/users", Some(&admin), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["error"]["code"], code);
    }
    assert_eq!(before, server.fingerprint().await);

    let (status, res) = server
        .call(Method::POST, "/auth/login", None, Some(json!({"email": "carla@ordercast.test", "password": "secret-pass"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    let carla = res["token"].as_str().unwrap();
    let orders = server.get("/orders", carla).await;
    assert!(orders["items"].as_array().unwrap().iter().all(|o| o["shop_id"] == bakery));
}

#[tokio::test]
async fn sessions_end_on_logout_and_the_server_stops_cleanly() {
    let server = TestServer::start().await;
    let token = server.login(ALICE).await;
    let me = server.get("/auth/me", &token).await;
    assert_eq!(me["email"], ALICE);
    assert_eq!(me["role"], "customer");
    let (status, _) = server.call(Method::POST, "/auth/logout", Some(&token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, err) = server.call(Method::GET, "/auth/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"]["code"], "unauthenticated");

    let (status, doc) = server.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/orders/{id}/status"]["patch"].is_object(), "{doc}");

    let exit = server.stop().await;
    assert!(exit.success(), "SIGTERM ends the server with success: {exit:?}");
}

#[tokio::test]
async fn concurrent_orders_never_sell_more_than_the_stock() {
    let s = TestServer::start().await;
    let admin = s.login(ADMIN).await;
    let customers = [s.login(ALICE).await, s.login(BOB).await];
    let (bakery, _) = bakery_loaf(&s, &admin).await;
    let rye = product_id(&s, &admin, bakery, "Rye").await;
    let (code, body) = s.call(Method::PATCH, &format!("/products/{rye}"), Some(&admin), Some(json!({"stock": 5}))).await;
    assert_eq!(code, StatusCode::OK, "{body}");

    // Ten orders of three at once: on PostgreSQL these run in concurrent transactions.
    let attempts = (0..10).map(|i| {
        let (s, token) = (&s, &customers[i % 2]);
        async move {
            let order = json!({"shop_id": bakery, "items": [{"product_id": rye, "quantity": 3}]});
            s.call(Method::POST, "/orders", Some(token), Some(order)).await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let placed = results.iter().filter(|(code, _)| *code == StatusCode::CREATED).count();
    assert_eq!(placed, 1, "{results:?}");
    assert!(results.iter().all(|(code, body)| *code == StatusCode::CREATED || body["error"]["code"] == "insufficient_stock"), "{results:?}");
    let stock = s.get(&format!("/shops/{bakery}/products"), &admin).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == rye)
        .map(|p| p["stock"].clone());
    assert_eq!(stock, Some(json!(2)));
}

#[tokio::test]
async fn shop_details_and_new_shops_reach_customers_live_and_bad_details_change_nothing() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let baker = server.login(BAKER).await;
    let admin = server.login(ADMIN).await;
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let sold_in_pounds = place(&server, &alice, bakery, loaf).await;
    assert_eq!(sold_in_pounds["currency"], "GBP");
    let mut phone = live(&server, &alice).await;

    // Staff change the shop's contact, hours, currency and the board's thresholds.
    let details = json!({"phone": "+44 20 7946 0999", "opening_hours": "Daily 7–19", "currency": "EUR", "warn_after_mins": 4, "late_after_mins": 8});
    let (status, shop) = server.call(Method::PATCH, &format!("/shops/{bakery}"), Some(&baker), Some(details)).await;
    assert_eq!(status, StatusCode::OK, "{shop}");
    assert_eq!((shop["phone"].as_str(), shop["currency"].as_str(), shop["late_after_mins"].as_i64()), (Some("+44 20 7946 0999"), Some("EUR"), Some(8)));
    // What was sold keeps the currency it was sold in; new orders are in the new one, and the
    // shop's totals are summed per currency.
    let earlier = server.get(&format!("/orders/{}", sold_in_pounds["id"]), &alice).await;
    assert_eq!(earlier["currency"], "GBP", "{earlier}");
    assert_eq!(place(&server, &alice, bakery, loaf).await["currency"], "EUR");
    let orders = server.get(&format!("/orders?shop_id={bakery}"), &baker).await;
    let currencies: Vec<&str> = orders["sums"].as_array().unwrap().iter().map(|s| s["currency"].as_str().unwrap()).collect();
    assert_eq!(currencies, ["EUR", "GBP"], "{}", orders["sums"]);
    barrier(&server, &admin, "after details").await;
    let seen = phone.events_until("after details").await;
    let updated: Vec<&Value> = seen.iter().filter(|e| e["type"] == "store_updated").collect();
    assert_eq!(updated.len(), 1, "{seen:?}");
    assert_eq!(updated[0]["data"]["shop"]["opening_hours"], "Daily 7–19");

    // Bad details are refused whole, with the field named, and change nothing.
    let fingerprint = server.fingerprint().await;
    for (body, code) in [
        (json!({"phone": "call me", "name": "Renamed"}), "validation_failed"),
        (json!({"currency": "euro"}), "validation_failed"),
        (json!({"warn_after_mins": 9}), "validation_failed"),
        (json!({"address": "x".repeat(201)}), "validation_failed"),
        (json!({}), "validation_failed"),
        (json!({"colour": "red"}), "invalid_body"),
    ] {
        let (status, err) = server.call(Method::PATCH, &format!("/shops/{bakery}"), Some(&baker), Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {err}");
        assert_eq!(err["error"]["code"], code, "{body}");
    }
    let (status, _) = server.call(Method::PATCH, &format!("/shops/{bakery}"), Some(&alice), Some(json!({"phone": "1"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(server.fingerprint().await, fingerprint);

    // Only admins create shops; a new shop reaches an open page at once.
    let (status, _) = server.call(Method::POST, "/shops", Some(&baker), Some(json!({"name": "Bike Shop"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server.call(Method::POST, "/shops", Some(&admin), Some(json!({"name": " "}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(server.fingerprint().await, fingerprint);
    let (status, created) = server.call(Method::POST, "/shops", Some(&admin), Some(json!({"name": "Bike Shop", "currency": "GBP"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    barrier(&server, &admin, "after create").await;
    let seen = phone.events_until("after create").await;
    assert!(seen.iter().any(|e| e["type"] == "store_updated" && e["data"]["shop"]["name"] == "Bike Shop"), "{seen:?}");
    let shops = server.get("/shops", &alice).await;
    assert!(shops["items"].as_array().unwrap().iter().any(|s| s["id"] == created["id"] && s["is_open"] == true));
}

#[tokio::test]
async fn a_shops_timings_come_from_its_delivered_orders() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let baker = server.login(BAKER).await;
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let before = server.get(&format!("/shops/{bakery}/timings"), &alice).await;
    for _ in 0..3 {
        let id = place(&server, &alice, bakery, loaf).await["id"].as_i64().unwrap();
        for step in ["confirmed", "preparing", "ready", "out_for_delivery", "delivered"] {
            let (status, _) = server.call(Method::PATCH, &format!("/orders/{id}/status"), Some(&baker), Some(json!({"status": step}))).await;
            assert_eq!(status, StatusCode::OK);
        }
    }
    let timings = server.get(&format!("/shops/{bakery}/timings"), &alice).await;
    assert_eq!(timings["sample"].as_u64().unwrap(), before["sample"].as_u64().unwrap() + 3);
    let stages = timings["stage_seconds"].as_array().unwrap();
    assert_eq!(stages.len(), 6);
    // Changed within the second: every stage with enough orders has a median, the last none.
    assert!(stages[..5].iter().all(|s| s.as_i64().is_some_and(|v| (0..60).contains(&v))), "{timings}");
    assert!(stages[5].is_null());
    let (status, _) = server.call(Method::GET, "/shops/999/timings", Some(&alice), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect()
}

fn totals(list: &Value) -> Vec<i64> {
    list["items"].as_array().unwrap().iter().map(|o| o["total_minor"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn orders_are_searched_and_sorted_with_their_sums_and_bad_searches_are_refused() {
    let server = TestServer::start().await;
    let (alice, bob, admin) = (server.login(ALICE).await, server.login(BOB).await, server.login(ADMIN).await);
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let mine = place(&server, &alice, bakery, loaf).await["id"].as_i64().unwrap();
    let bobs = place(&server, &bob, bakery, loaf).await["id"].as_i64().unwrap();

    // By number, with or without "#".
    for q in [format!("{mine}"), format!("%23{mine}")] {
        assert_eq!(ids(&server.get(&format!("/orders?q={q}"), &admin).await), vec![mine]);
    }
    // By the customer's name or email and by the shop's name, whatever the case.
    let by_name = server.get("/orders?q=BOB&per_page=100", &admin).await;
    assert!(ids(&by_name).contains(&bobs) && !ids(&by_name).contains(&mine), "{by_name}");
    assert!(by_name["items"].as_array().unwrap().iter().all(|o| o["customer_name"].as_str().unwrap().to_lowercase().contains("bob")));
    assert!(ids(&server.get("/orders?q=alice%40ordercast&per_page=100", &admin).await).contains(&mine));
    let bakery_orders = server.get("/orders?q=corner%20bak&per_page=100", &admin).await;
    assert!(ids(&bakery_orders).contains(&mine), "{bakery_orders}");
    assert!(bakery_orders["items"].as_array().unwrap().iter().all(|o| o["shop_id"] == json!(bakery)));
    // Only admins search email addresses: to anyone else they are not shown, and a substring
    // search would spell them out.
    let baker = server.login(BAKER).await;
    assert_eq!(server.get("/orders?q=alice%40ordercast", &baker).await["total"], json!(0));
    assert!(server.get("/orders?q=alice", &baker).await["total"].as_i64().unwrap() >= 1);
    // LIKE's wildcards are taken literally.
    assert_eq!(server.get("/orders?q=%25", &admin).await["total"], json!(0));
    assert_eq!(server.get("/orders?q=_", &admin).await["total"], json!(0));
    // A customer's search stays within their own orders.
    assert_eq!(server.get("/orders?q=bob", &alice).await["total"], json!(0));

    // Sorted by total both ways, and oldest first.
    let desc = totals(&server.get("/orders?sort=total_desc&per_page=100", &admin).await);
    assert!(desc.windows(2).all(|w| w[0] >= w[1]), "{desc:?}");
    let asc = totals(&server.get("/orders?sort=total_asc&per_page=100", &admin).await);
    assert!(asc.windows(2).all(|w| w[0] <= w[1]), "{asc:?}");
    let oldest = ids(&server.get("/orders?sort=oldest&per_page=100", &admin).await);
    assert!(oldest.windows(2).all(|w| w[0] < w[1]), "{oldest:?}");

    // The sums cover every matching order (all pages), cancelled ones left out.
    let all = server.get(&format!("/orders?shop_id={bakery}&per_page=100"), &admin).await;
    let expected: i64 = all["items"].as_array().unwrap().iter().filter(|o| o["status"] != json!("cancelled")).map(|o| o["total_minor"].as_i64().unwrap()).sum();
    let page = server.get(&format!("/orders?shop_id={bakery}&per_page=1"), &admin).await;
    assert_eq!(page["total"], all["total"]);
    assert_eq!(page["sums"], json!([{"currency": "GBP", "total_minor": expected}]));
    let (status, cancelled) = server.call(Method::POST, &format!("/orders/{mine}/cancel"), Some(&alice), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    let after = server.get(&format!("/orders?shop_id={bakery}&per_page=1"), &admin).await;
    assert_eq!(after["total"], all["total"]);
    assert_eq!(after["sums"][0]["total_minor"].as_i64().unwrap(), expected - cancelled["total_minor"].as_i64().unwrap());

    // Bad searches and sorts: a clear error.
    let fingerprint = server.fingerprint().await;
    for path in [format!("/orders?q={}", "x".repeat(101)), "/orders?sort=price".into()] {
        let (status, body) = server.call(Method::GET, &path, Some(&admin), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["code"], json!("invalid_query"), "{path}: {body}");
    }
    assert_eq!(server.fingerprint().await, fingerprint);
}

#[tokio::test]
async fn managers_see_their_shops_figures_and_customers_none() {
    let server = TestServer::start().await;
    let (alice, baker, admin) = (server.login(ALICE).await, server.login(BAKER).await, server.login(ADMIN).await);
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let of = |list: &Value, shop: i64| list["items"].as_array().unwrap().iter().find(|f| f["shop_id"] == json!(shop)).cloned().unwrap();

    let before = server.get("/figures", &baker).await;
    // A shopkeeper sees their own shop only; an admin every shop.
    assert_eq!(before["items"].as_array().unwrap().len(), 1, "{before}");
    let shops = server.get("/shops", &admin).await["items"].as_array().unwrap().len();
    assert_eq!(server.get("/figures", &admin).await["items"].as_array().unwrap().len(), shops);
    let (status, body) = server.call(Method::GET, "/figures", Some(&alice), None).await;
    assert_eq!((status, body["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")));

    // An order placed counts at once: one more order, open, worth its total.
    let order = place(&server, &alice, bakery, loaf).await;
    let total = order["total_minor"].as_i64().unwrap();
    let (b, a) = (of(&before, bakery), of(&server.get("/figures", &baker).await, bakery));
    assert_eq!(a["orders"].as_i64().unwrap(), b["orders"].as_i64().unwrap() + 1);
    assert_eq!(a["revenue_minor"].as_i64().unwrap(), b["revenue_minor"].as_i64().unwrap() + total);
    assert_eq!(a["open"].as_i64().unwrap(), b["open"].as_i64().unwrap() + 1);
    assert!(a["late"].as_i64().unwrap() <= a["open"].as_i64().unwrap());
    assert_eq!(a["currency"], json!("GBP"));

    // Ready: it has a time to ready, and delivered it is no longer open.
    let id = order["id"].as_i64().unwrap();
    for step in ["confirmed", "preparing", "ready", "out_for_delivery", "delivered"] {
        let (status, _) = server.call(Method::PATCH, &format!("/orders/{id}/status"), Some(&baker), Some(json!({"status": step}))).await;
        assert_eq!(status, StatusCode::OK);
    }
    let done = of(&server.get("/figures", &baker).await, bakery);
    assert_eq!(done["open"].as_i64().unwrap(), b["open"].as_i64().unwrap());
    assert!(done["median_ready_secs"].as_i64().is_some(), "{done}");
    assert_eq!(done["revenue_minor"], a["revenue_minor"]);
}

#[tokio::test]
async fn a_board_is_read_in_one_request_by_its_staff_only() {
    let server = TestServer::start().await;
    let (alice, baker, grocer, admin) =
        (server.login(ALICE).await, server.login(BAKER).await, server.login(GROCER).await, server.login(ADMIN).await);
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let first = place(&server, &alice, bakery, loaf).await["id"].as_i64().unwrap();
    let second = place(&server, &alice, bakery, loaf).await["id"].as_i64().unwrap();

    let board = server.get(&format!("/shops/{bakery}/board"), &baker).await;
    assert_eq!(board["shop"]["id"], json!(bakery));
    let orders = board["orders"].as_array().unwrap();
    assert!(orders.iter().all(|o| o["shop_id"] == json!(bakery)));
    // Open orders oldest first, then the finished ones.
    let open: Vec<i64> = orders.iter().filter(|o| !["delivered", "cancelled"].contains(&o["status"].as_str().unwrap())).map(|o| o["id"].as_i64().unwrap()).collect();
    assert!(open.windows(2).all(|w| w[0] < w[1]), "{open:?}");
    let at = |id| open.iter().position(|o| *o == id).unwrap();
    assert!(at(first) < at(second));
    assert!(!board["products"].as_array().unwrap().is_empty());
    assert!(board["staff"].as_array().unwrap().iter().any(|s| s["name"].is_string()));
    assert!(board["chitties"].is_array());
    assert!(board["seq"].as_i64().unwrap() >= 1);
    // The same open orders as the order list says the shop has.
    let (mut listed, mut page) = (0, 1);
    loop {
        let list = server.get(&format!("/orders?shop_id={bakery}&per_page=100&page={page}"), &baker).await;
        let items = list["items"].as_array().unwrap();
        listed += items.iter().filter(|o| !["delivered", "cancelled"].contains(&o["status"].as_str().unwrap())).count();
        if items.len() < 100 {
            break;
        }
        page += 1;
    }
    assert_eq!(open.len(), listed);

    assert_eq!(server.get(&format!("/shops/{bakery}/board"), &admin).await["shop"]["id"], json!(bakery));
    for token in [&grocer, &alice] {
        let (status, body) = server.call(Method::GET, &format!("/shops/{bakery}/board"), Some(token), None).await;
        assert_eq!((status, body["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")), "{body}");
    }
    let (status, _) = server.call(Method::GET, "/shops/999/board", Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The board kept in memory follows each change by patching itself with the change's event
/// (not by reading it again), and is then exactly what a fresh read returns: read side by side
/// with a second node on the same database that keeps nothing.
#[tokio::test]
async fn a_kept_board_follows_each_change_and_stays_what_a_fresh_read_returns() {
    let server = TestServer::start().await;
    let fresh = TestServer::start_node(&server.db, "fresh", &["--board-cache-secs", "0"]).await;
    let (alice, baker) = (server.login(ALICE).await, server.login(BAKER).await);
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let path = format!("/shops/{bakery}/board");
    let mut staff_socket = live(&server, &baker).await;

    let mut rounds = 0;
    let mut compare = async |what: &str| {
        // The relay has applied every change so far once the staff's socket has its event.
        let seq = server.max_seq().await;
        while staff_socket.next().await["seq"].as_i64().is_none_or(|s| s < seq) {}
        let (kept, read) = (server.get(&path, &baker).await, fresh.get(&path, &baker).await);
        assert_eq!(without_seq(kept), without_seq(read), "after {what}");
        rounds += 1;
    };

    server.get(&path, &baker).await;
    let reads_before = server.metric("ordercast_boards_read_total").await;
    let mut ids = vec![];
    for _ in 0..3 {
        ids.push(place(&server, &alice, bakery, loaf).await["id"].as_i64().unwrap());
        compare("an order placed").await;
    }
    for status in ["confirmed", "preparing", "ready", "out_for_delivery", "delivered"] {
        advance(&server, &baker, ids[0], status).await;
        compare(status).await;
    }
    advance(&server, &baker, ids[1], "cancelled").await;
    compare("a cancellation").await;
    for change in [json!({"stock": 7}), json!({"available": false}), json!({"available": true, "price_minor": 455})] {
        let (status, body) = server.call(Method::PATCH, &format!("/products/{loaf}"), Some(&baker), Some(change.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        compare(&change.to_string()).await;
    }
    let new = json!({"name": "Rye", "price_minor": 350, "stock": 4, "low_stock_threshold": 1});
    let (status, body) = server.call(Method::POST, &format!("/shops/{bakery}/products"), Some(&baker), Some(new)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    compare("a new product").await;

    // Every one of those reads came from memory.
    assert_eq!(server.metric("ordercast_boards_read_total").await, reads_before, "read again after a change");
    assert_eq!(server.metric("ordercast_boards_kept_total").await, Some(f64::from(rounds)));
}

/// A board is kept in memory once read (`board_cache`); reading it again must still show every
/// change made since, whoever made it, the moment the change was answered. The same with the
/// caches turned off.
#[tokio::test]
async fn a_board_read_again_shows_every_change_made_since() {
    for args in [&[][..], &["--board-cache-secs", "0", "--session-cache-secs", "0"][..]] {
        board_read_again_shows_every_change_made_since(TestServer::start_with(args).await).await;
    }
}

async fn board_read_again_shows_every_change_made_since(server: TestServer) {
    let (alice, baker, admin) = (server.login(ALICE).await, server.login(BAKER).await, server.login(ADMIN).await);
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let path = format!("/shops/{bakery}/board");

    let first = server.get(&path, &baker).await;
    // Read twice with nothing between: the same board.
    assert_eq!(server.get(&path, &baker).await, first);

    // A customer's order, then the board's own staff moving it on; a few times, as the relay
    // that drops the kept board may hear of a change before or after it is answered.
    for _ in 0..10 {
        let id = place(&server, &alice, bakery, loaf).await["id"].as_i64().unwrap();
        assert_eq!(status_on_board(&server.get(&path, &baker).await, id), Some(json!("pending")));
        let seq = advance(&server, &baker, id, "confirmed").await;
        let after = server.get(&path, &baker).await;
        assert_eq!(status_on_board(&after, id), Some(json!("confirmed")));
        assert!(after["seq"].as_i64().unwrap() >= seq);
    }

    // Stock, as another reader (an admin) sees it.
    let (status, _) = server.call(Method::PATCH, &format!("/products/{loaf}"), Some(&baker), Some(json!({"stock": 7}))).await;
    assert_eq!(status, StatusCode::OK);
    let stock = |b: &Value| b["products"].as_array().unwrap().iter().find(|p| p["id"] == json!(loaf)).map(|p| p["stock"].clone());
    assert_eq!(stock(&server.get(&path, &admin).await), Some(json!(7)));

    // A new member of staff, which no event of the shop's announces.
    let (status, user) = server
        .call(
            Method::POST,
            "/users",
            Some(&admin),
            Some(json!({"email": "new.baker@ordercast.test", "name": "New Baker", "password": "long enough password", "role": "shopkeeper", "shop_ids": [bakery]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let staff = server.get(&path, &baker).await["staff"].clone();
    assert!(staff.as_array().unwrap().iter().any(|s| s["name"] == json!("New Baker")), "{staff}");
}
