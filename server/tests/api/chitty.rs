//! Chitties end to end: a customer's photographed list is read by the real Tesseract,
//! reaches exactly the shop's staff and that customer, becomes an order the customer
//! follows live; reading survives a crash; bad uploads are refused and store nothing.

use crate::common::*;
use crate::ws::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

#[path = "../../benches/support/lists.rs"]
mod lists;

/// OCR takes seconds on a busy machine; this only turns a hang into a failure.
const READING: Duration = Duration::from_secs(90);

/// A printed list as a PNG.
fn list_png(lines: &[&str]) -> Vec<u8> {
    let font = lists::font(lists::PRINTED).expect("fonts-dejavu-core is installed");
    lists::png(&lists::render(&font, lines, 44.0))
}

/// Waits for the event of `event_type` about chitty `id`, skipping others.
async fn chitty_event(ws: &mut Ws, event_type: &str, id: i64) -> Value {
    let wait = async {
        loop {
            let msg = ws.next_within(READING).await;
            if msg["type"] == event_type && msg["data"]["chitty"]["id"] == id {
                return msg;
            }
        }
    };
    // One deadline for the whole wait: server pings must not extend it.
    tokio::time::timeout(READING, wait).await.unwrap_or_else(|_| panic!("no {event_type} for list {id}"))
}

fn chitty_types(events: &[Value]) -> Vec<String> {
    types(events).into_iter().filter(|t| t.starts_with("chitty_")).collect()
}

#[tokio::test]
async fn a_photographed_list_reaches_the_shop_and_becomes_an_order_the_customer_follows() {
    let s = TestServer::start().await;
    let (alice, bob, baker, grocer, admin) =
        (s.login(ALICE).await, s.login(BOB).await, s.login(BAKER).await, s.login(GROCER).await, s.login(ADMIN).await);
    let alice_id = s.get("/auth/me", &alice).await["id"].as_i64().unwrap();
    let bakery = shop_id(&s, &alice, "Corner Bakery").await;
    let croissant = product_id(&s, &alice, bakery, "Croissant").await;
    let loaf = product_id(&s, &alice, bakery, "Sourdough").await;
    let bun = product_id(&s, &alice, bakery, "Cinnamon").await;
    let rye = product_id(&s, &alice, bakery, "Rye").await;

    let mut alice_ws = live(&s, &alice).await;
    let mut baker_ws = live(&s, &baker).await;
    let mut bob_ws = live(&s, &bob).await;
    let mut grocer_ws = live(&s, &grocer).await;

    let photo = list_png(&["2 croissants", "sourdough loaf", "3 cinnamon buns", "granary"]);
    let (status, sent) = s.send_list(&alice, bakery, photo.clone(), "list.png", Some("back door please")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    assert_eq!(sent["status"], "processing");
    assert_eq!(sent["note"], "back door please");
    let id = sent["id"].as_i64().unwrap();

    // The shop's staff hear of it at once, and again when it has been read.
    let received = chitty_event(&mut baker_ws, "chitty_received", id).await;
    assert_eq!(received["topic"], format!("shop:{bakery}"));
    let read = chitty_event(&mut baker_ws, "chitty_processed", id).await;
    let chitty = &read["data"]["chitty"];
    assert_eq!(chitty["status"], "read", "{chitty}");
    let lines = chitty["lines"].as_array().expect("lines");
    let got: Vec<(i64, Value)> = lines.iter().map(|l| (l["quantity"].as_i64().unwrap(), l["product_id"].clone())).collect();
    assert_eq!(got, vec![(2, json!(croissant)), (1, json!(loaf)), (3, json!(bun)), (1, Value::Null)], "{chitty}");
    assert!(lines[0]["candidates"][0]["confidence"].as_u64().unwrap() >= 80, "{chitty}");
    assert!(lines.iter().all(|l| l["ocr_confidence"].as_u64().unwrap() > 0), "{chitty}");
    assert_eq!(lines[3]["item"].as_str().map(str::to_lowercase).as_deref(), Some("granary"), "{chitty}");

    // The customer sees the same on every device of theirs; nobody else sees anything.
    assert_eq!(chitty_event(&mut alice_ws, "chitty_received", id).await["topic"], format!("user:{alice_id}"));
    assert_eq!(chitty_event(&mut alice_ws, "chitty_processed", id).await["data"]["chitty"], *chitty);
    barrier(&s, &admin, "read").await;
    assert!(chitty_types(&bob_ws.events_until("read").await).is_empty());
    assert!(chitty_types(&grocer_ws.events_until("read").await).is_empty());
    for (token, who) in [(&bob, "another customer"), (&grocer, "another shop's staff")] {
        let (code, body) = s.call(Method::GET, &format!("/chitties/{id}"), Some(token), None).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{who}: {body}");
        let (code, _) = s.call(Method::GET, &format!("/chitties/{id}/image"), Some(token), None).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{who}");
        let listed = s.get("/chitties", token).await;
        assert!(listed["items"].as_array().unwrap().is_empty(), "{who}: {listed}");
    }
    let image = reqwest::Client::new().get(s.url(&format!("/chitties/{id}/image"))).bearer_auth(&baker).send().await.unwrap();
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().as_ref(), photo.as_slice(), "the photo is kept as sent");
    let open = s.get(&format!("/chitties?shop_id={bakery}&open=true"), &baker).await;
    assert_eq!(open["items"][0]["id"], id);

    // The customer may not make the order themselves.
    let items = json!({"items": [
        {"position": 0, "product_id": croissant, "quantity": 2},
        {"position": 1, "product_id": loaf, "quantity": 1},
        {"position": 2, "product_id": bun, "quantity": 3},
        {"position": 3, "product_id": rye, "quantity": 1},
    ]});
    let (code, _) = s.call(Method::POST, &format!("/chitties/{id}/order"), Some(&alice), Some(items.clone())).await;
    assert_eq!(code, StatusCode::FORBIDDEN);

    // Staff confirm it, choosing rye bread for the line nothing matched.
    let (code, order) = s.call(Method::POST, &format!("/chitties/{id}/order"), Some(&baker), Some(items.clone())).await;
    assert_eq!(code, StatusCode::CREATED, "{order}");
    assert_eq!(order["customer_id"], alice_id);
    assert_eq!(order["items"].as_array().unwrap().len(), 4);
    let order_id = order["id"].as_i64().unwrap();
    let (code, again) = s.call(Method::POST, &format!("/chitties/{id}/order"), Some(&baker), Some(items)).await;
    assert_eq!((code, again["error"]["code"].clone()), (StatusCode::CONFLICT, json!("chitty_closed")));

    // The customer follows the order it became, live.
    let created = loop {
        let msg = alice_ws.next().await;
        if msg["type"] == "order_created" {
            break msg;
        }
    };
    assert_eq!(created["data"]["order"]["id"], order_id);
    let updated = chitty_event(&mut alice_ws, "chitty_updated", id).await;
    assert_eq!(updated["data"]["chitty"]["status"], "ordered");
    assert_eq!(updated["data"]["chitty"]["order_id"], order_id);
    let (code, _) = s.call(Method::PATCH, &format!("/orders/{order_id}/status"), Some(&baker), Some(json!({"status": "confirmed"}))).await;
    assert_eq!(code, StatusCode::OK);
    let confirmed = loop {
        let msg = alice_ws.next().await;
        if msg["type"] == "order_updated" {
            break msg;
        }
    };
    assert_eq!(confirmed["data"]["order"]["status"], "confirmed");

    // What staff taught is tried first on the next list.
    let (status, next) = s.send_list(&alice, bakery, list_png(&["granary"]), "list.png", None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{next}");
    let next_id = next["id"].as_i64().unwrap();
    let read = chitty_event(&mut baker_ws, "chitty_processed", next_id).await;
    let line = &read["data"]["chitty"]["lines"][0];
    assert_eq!(line["product_id"], rye, "{line}");
    assert!(line["candidates"][0]["confidence"].as_u64().unwrap() >= 95, "{line}");

    // Rejecting tells the customer why.
    let (code, body) = s.call(Method::POST, &format!("/chitties/{next_id}/reject"), Some(&baker), Some(json!({"reason": "  "}))).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (code, body) =
        s.call(Method::POST, &format!("/chitties/{next_id}/reject"), Some(&baker), Some(json!({"reason": "We have no granary today"}))).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let rejected = chitty_event(&mut alice_ws, "chitty_updated", next_id).await;
    assert_eq!(rejected["data"]["chitty"]["status"], "rejected");
    assert_eq!(rejected["data"]["chitty"]["reason"], "We have no granary today");
}

#[tokio::test]
async fn a_list_being_read_when_the_server_crashes_is_read_after_the_restart() {
    // An OCR "engine" that says when it has started and then hangs until the server is gone.
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("started");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let hang = dir.path().join("hanging-ocr.sh");
    std::fs::write(
        &hang,
        format!("#!/bin/sh\necho reading > '{}'\nwhile kill -0 $PPID 2>/dev/null; do sleep 0.2; done\n", fifo.display()),
    )
    .expect("write script");
    std::fs::set_permissions(&hang, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");

    let hang_arg = hang.display().to_string();
    let s = TestServer::start_with(&["--ocr-command", &hang_arg, "--chitty-lease-secs", "1"]).await;
    let alice = s.login(ALICE).await;
    let bakery = shop_id(&s, &alice, "Corner Bakery").await;
    let croissant = product_id(&s, &alice, bakery, "Croissant").await;
    let (status, sent) = s.send_list(&alice, bakery, list_png(&["4 croissants"]), "list.jpg", None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let id = sent["id"].as_i64().unwrap();
    let seq = s.get(&format!("/chitties/{id}"), &alice).await["seq"].as_i64().unwrap();

    // Wait until the engine has the photo, then kill the server mid-read.
    let started = tokio::task::spawn_blocking(move || std::fs::read_to_string(fifo).expect("read fifo"));
    assert_eq!(tokio::time::timeout(READING, started).await.expect("OCR started").expect("join").trim(), "reading");
    let s = s.crash_and_restart(&["--chitty-lease-secs", "1"]).await;

    // The restarted server takes the list over once the dead one's hold runs out.
    let alice = s.login(ALICE).await;
    let mut ws = try_connect(&s, Auth::Bearer(&alice), "").await.expect("upgrade");
    ws.send(json!({"type": "resume", "last_seq": seq})).await;
    let read = chitty_event(&mut ws, "chitty_processed", id).await;
    let chitty = &read["data"]["chitty"];
    assert_eq!(chitty["status"], "read", "{chitty}");
    assert_eq!((chitty["lines"][0]["quantity"].clone(), chitty["lines"][0]["product_id"].clone()), (json!(4), json!(croissant)));
    assert_eq!(s.db.texts(&format!("SELECT CAST(attempts AS TEXT) FROM chitties WHERE id = {id}")).await, ["2"]);
}

/// A PNG whose header declares 30,000 × 30,000 pixels: 3.6 GB once decoded.
fn decompression_bomb() -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(30_000u32.to_be_bytes());
    ihdr.extend(30_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(&ihdr);
    png.extend(crc32(&ihdr).to_be_bytes());
    // A little compressed data, as a real bomb would carry.
    png.extend([0, 0, 0, 0]);
    png.extend(b"IDAT");
    png.extend(crc32(b"IDAT").to_be_bytes());
    png
}

#[tokio::test]
async fn bad_uploads_get_a_clear_error_and_store_nothing() {
    // No OCR engine: accepted lists end `failed`, which is tested here too.
    let s = TestServer::start_with(&["--ocr-command", "/nonexistent/tesseract", "--chitty-max-bytes", "200000", "--chitty-uploads-per-minute", "2"]).await;
    let (alice, bob, baker, grocer) = (s.login(ALICE).await, s.login(BOB).await, s.login(BAKER).await, s.login(GROCER).await);
    let bakery = shop_id(&s, &alice, "Corner Bakery").await;
    let grocery = shop_id(&s, &alice, "Green Grocer").await;
    let good = list_png(&["2 croissants"]);
    let font = lists::font(lists::PRINTED).expect("font");
    let jpeg = lists::jpeg(&lists::render(&font, &["2 croissants"], 44.0));
    let before = s.fingerprint().await;

    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("text.txt", b"2 croissants\nmilk\n".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_image"),
        ("empty.jpg", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_image"),
        ("cut.jpg", jpeg[..jpeg.len() * 2 / 3].to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_image"),
        ("bomb.png", decompression_bomb(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_image"),
        ("huge.png", vec![0x89; 300_000], StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
    ];
    for (name, bytes, want, code) in cases {
        let (status, body) = s.send_list(&alice, bakery, bytes, name, None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (want, Some(code)), "{name}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap_or_default().is_empty());
    }
    let (status, body) = s.send_list(&baker, bakery, good.clone(), "list.png", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "staff do not send lists: {body}");
    let (status, body) = s.send_list(&alice, 9999, good.clone(), "list.png", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = s.send_list(&alice, bakery, good.clone(), "list.png", Some(&"x".repeat(600))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "too long a note: {body}");
    let (status, body) = s.raw(Method::POST, &format!("/shops/{bakery}/chitties"), Some(&alice), "application/json", b"{}".to_vec()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type")));
    let boundary = "XyZ";
    let only_note = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--{boundary}--\r\n");
    let (status, body) = s
        .raw(Method::POST, &format!("/shops/{bakery}/chitties"), Some(&alice), &format!("multipart/form-data; boundary={boundary}"), only_note.into_bytes())
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")), "{body}");
    let (status, body) = s
        .raw(Method::POST, &format!("/shops/{bakery}/chitties"), Some(&alice), &format!("multipart/form-data; boundary={boundary}"), b"--XyZ\r\ngarbage".to_vec())
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(s.fingerprint().await, before, "nothing changed");
    assert!(s.db.texts("SELECT CAST(id AS TEXT) FROM chitties").await.is_empty(), "nothing stored");

    // A closed shop takes no lists.
    let (code, _) = s.call(Method::PATCH, &format!("/shops/{grocery}"), Some(&grocer), Some(json!({"is_open": false}))).await;
    assert_eq!(code, StatusCode::OK);
    let (status, body) = s.send_list(&alice, grocery, good.clone(), "list.png", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("shop_closed")));

    // Two lists a minute, then 429.
    let mut baker_ws = live(&s, &baker).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, body) = s.send_list(&alice, bakery, good.clone(), "list.png", None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }
    let (status, body) = s.send_list(&alice, bakery, good.clone(), "list.png", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")));
    assert_eq!(s.db.texts("SELECT CAST(COUNT(*) AS TEXT) FROM chitties").await, ["2"]);

    // Without an engine a list ends `failed` with a reason, never stuck; the shop still has the photo.
    // Two readers work at once: the lists may end in either order.
    let mut failed = std::collections::BTreeMap::new();
    tokio::time::timeout(READING, async {
        while failed.len() < ids.len() {
            let msg = baker_ws.next_within(READING).await;
            if msg["type"] == "chitty_failed" {
                failed.insert(msg["data"]["chitty"]["id"].as_i64().unwrap_or_default(), msg["data"]["chitty"].clone());
            }
        }
    })
    .await
    .expect("both lists end failed");
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), ids);
    for chitty in failed.values() {
        assert_eq!(chitty["status"], "failed");
        assert!(chitty["reason"].as_str().unwrap_or_default().contains("read the photo"), "{chitty}");
    }

    // Another customer's list does not exist for Bob; Alice cannot act for the shop.
    let id = ids[0];
    for (method, path) in [(Method::GET, format!("/chitties/{id}")), (Method::GET, format!("/chitties/{id}/image"))] {
        let (code, _) = s.call(method, &path, Some(&bob), None).await;
        assert_eq!(code, StatusCode::NOT_FOUND);
    }
    let (code, _) = s.call(Method::POST, &format!("/chitties/{id}/reject"), Some(&bob), Some(json!({"reason": "no"}))).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = s.call(Method::POST, &format!("/chitties/{id}/reject"), Some(&alice), Some(json!({"reason": "no"}))).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, _) = s.call(Method::POST, &format!("/chitties/{id}/reject"), Some(&grocer), Some(json!({"reason": "no"}))).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    // An order for a failed list is still possible (staff read the photo); a bad one changes nothing.
    let (code, body) = s.call(Method::POST, &format!("/chitties/{id}/order"), Some(&baker), Some(json!({"items": []}))).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (code, body) =
        s.call(Method::POST, &format!("/chitties/{id}/order"), Some(&baker), Some(json!({"items": [{"position": 7, "product_id": 1, "quantity": 1}]}))).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(s.db.texts(&format!("SELECT status FROM chitties WHERE id = {id}")).await, ["failed"]);
}
