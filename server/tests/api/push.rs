//! Web Push against a fake push service on loopback that does what a real one checks: the
//! VAPID signature (ES256 JWT for the service's origin, by the key the browser subscribed
//! with) and the `aes128gcm` body, which it decrypts with the device's keys (the `ece` crate,
//! as a browser would) to read the notice.

use crate::common::*;
use crate::ws::*;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use ct_codecs::{Base64UrlSafeNoPadding, Decoder, Encoder};
use jwt_simple::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

const DEADLINE: Duration = Duration::from_secs(20);

/// What the fake push service received for a device.
struct Received {
    device: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Clone)]
struct Service {
    tx: mpsc::UnboundedSender<Received>,
    /// Answers to give a device, in turn (then 201).
    answers: Arc<Mutex<HashMap<String, Vec<u16>>>>,
}

struct FakePushService {
    base: String,
    rx: mpsc::UnboundedReceiver<Received>,
    answers: Arc<Mutex<HashMap<String, Vec<u16>>>>,
}

impl FakePushService {
    async fn start() -> FakePushService {
        let (tx, rx) = mpsc::unbounded_channel();
        let answers = Arc::new(Mutex::new(HashMap::new()));
        let service = Service { tx, answers: answers.clone() };
        let app = axum::Router::new()
            .route("/push/{device}", axum::routing::post(receive))
            .with_state(service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakePushService { base, rx, answers }
    }

    fn endpoint(&self, device: &str) -> String {
        format!("{}/push/{device}", self.base)
    }

    /// The next answers for a device's pushes (201 after them).
    fn answer(&self, device: &str, statuses: &[u16]) {
        self.answers.lock().unwrap().insert(device.to_owned(), statuses.to_vec());
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(DEADLINE, self.rx.recv()).await.expect("no push within the deadline").expect("service")
    }
}

async fn receive(State(service): State<Service>, Path(device): Path<String>, headers: HeaderMap, body: axum::body::Bytes) -> AxumStatus {
    let status = {
        let mut answers = service.answers.lock().unwrap();
        answers.get_mut(&device).filter(|a| !a.is_empty()).map(|a| a.remove(0)).unwrap_or(201)
    };
    let _ = service.tx.send(Received { device, headers, body: body.to_vec() });
    AxumStatus::from_u16(status).unwrap()
}

/// A browser's side of a subscription: its keys, and the private half to decrypt with.
struct Device {
    keys: Box<dyn ece::LocalKeyPair>,
    auth: [u8; 16],
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlSafeNoPadding::encode_to_string(bytes).unwrap()
}

impl Device {
    fn new() -> Device {
        let (keys, auth) = ece::generate_keypair_and_auth_secret().expect("keys");
        Device { keys, auth }
    }

    fn subscription(&self, endpoint: &str) -> Value {
        json!({"endpoint": endpoint, "expirationTime": null, "keys": {"p256dh": b64(&self.keys.pub_as_raw().unwrap()), "auth": b64(&self.auth)}})
    }

    /// Checks the request as a push service and a browser would, and returns the notice.
    fn open(&self, push: &Received, server_key: &str, service_origin: &str) -> Value {
        let header = |name: &str| push.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(header("content-encoding"), "aes128gcm");
        assert!(header("ttl").parse::<u32>().unwrap() > 0);
        // RFC 8292: `vapid t=<JWT>, k=<the key the browser subscribed with>`.
        let authorization = header("authorization");
        let fields: HashMap<&str, &str> = authorization
            .strip_prefix("vapid ")
            .expect("a VAPID authorization")
            .split(',')
            .filter_map(|f| f.trim().split_once('='))
            .collect();
        assert_eq!(fields["k"], server_key, "signed by the key the browser subscribed with");
        let public = ES256PublicKey::from_bytes(&Base64UrlSafeNoPadding::decode_to_vec(fields["k"], None).unwrap()).unwrap();
        let options = VerificationOptions { allowed_audiences: Some(HashSet::from_strings(&[service_origin])), ..Default::default() };
        let claims = public.verify_token::<NoCustomClaims>(fields["t"], Some(options)).expect("a valid ES256 signature for this origin");
        assert_eq!(claims.subject.as_deref(), Some("mailto:admin@ordercast.invalid"));
        let plain = ece::decrypt(&self.keys.raw_components().unwrap(), &self.auth, &push.body).expect("decrypts with the device's keys");
        serde_json::from_slice(&plain).expect("a JSON notice")
    }
}

/// Waits until `sql` (one text column) reads `want`: a state the server reaches by itself.
async fn until(server: &TestServer, sql: &str, want: &[&str]) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let got = server.db.texts(sql).await;
        if got == want {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{sql}: {got:?}, waiting for {want:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_customer_away_is_pushed_encrypted_and_signed_and_one_with_a_live_screen_is_not() {
    let mut service = FakePushService::start().await;
    let s = TestServer::start_with(&["--push-allow-http", "--push-concurrency", "1"]).await;
    let alice = s.login(ALICE).await;
    let baker = s.login(BAKER).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let key = s.get("/push/key", &alice).await["public_key"].as_str().unwrap().to_owned();
    assert_eq!(Base64UrlSafeNoPadding::decode_to_vec(&key, None).unwrap().len(), 65);

    let phone = Device::new();
    let (status, sub) = s.call(Method::POST, "/push/subscriptions", Some(&alice), Some(phone.subscription(&service.endpoint("alice-phone")))).await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    let alice_id = s.get("/auth/me", &alice).await["id"].as_i64().unwrap();

    // Alice's app is closed: the shop confirms, her phone is told.
    let first = place(&s, &alice, bakery, loaf).await["id"].as_i64().unwrap();
    advance(&s, &baker, first, "confirmed").await;
    let push = service.next().await;
    assert_eq!(push.device, "alice-phone");
    assert_eq!(push.headers["urgency"], "normal");
    let notice = phone.open(&push, &key, &service.base);
    assert_eq!(notice["title"], format!("Order #{first} is confirmed"), "{notice}");
    assert_eq!(notice["url"], format!("/orders/{first}"));
    assert_eq!(notice["body"], "Corner Bakery has your order and will start on it soon.");

    // Her screen is live (presence says so on every node): what it shows is not pushed.
    let mut ws = live(&s, &alice).await;
    until(&s, &format!("SELECT CAST(COALESCE(SUM(connections), 0) AS TEXT) FROM presence WHERE user_id = {alice_id}"), &["1"]).await;
    let second = place(&s, &alice, bakery, loaf).await["id"].as_i64().unwrap();
    advance(&s, &baker, first, "preparing").await;
    let ready = advance(&s, &baker, first, "ready").await;
    assert_eq!(ws.next().await["type"], "order_created");
    // The planner has passed the `ready` change before the screen goes away.
    until(&s, &format!("SELECT CASE WHEN last_seq >= {ready} THEN 'passed' ELSE 'not yet' END FROM push_cursor"), &["passed"]).await;
    drop(ws);
    until(&s, &format!("SELECT CAST(COUNT(*) AS TEXT) FROM presence WHERE user_id = {alice_id} AND connections > 0"), &["0"]).await;

    // Away again: the next push is the cancellation, not the `ready` her screen showed.
    let (status, body) = s.call(Method::POST, &format!("/orders/{second}/cancel"), Some(&baker), Some(json!({"reason": "out of flour"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let notice = phone.open(&service.next().await, &key, &service.base);
    assert_eq!(notice["title"], format!("Order #{second} is cancelled"), "{notice}");
}

#[tokio::test]
async fn staff_are_pushed_new_orders_a_failing_service_is_retried_and_a_gone_device_removed() {
    let mut service = FakePushService::start().await;
    let s = TestServer::start_with(&["--push-allow-http", "--push-concurrency", "1"]).await;
    let alice = s.login(ALICE).await;
    let baker = s.login(BAKER).await;
    let grocer = s.login(GROCER).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let key = s.get("/push/key", &baker).await["public_key"].as_str().unwrap().to_owned();
    let tablet = Device::new();
    let (status, _) = s.call(Method::POST, "/push/subscriptions", Some(&baker), Some(tablet.subscription(&service.endpoint("kitchen")))).await;
    assert_eq!(status, StatusCode::CREATED);
    // Another shop's staff: never told of the bakery's orders.
    let other = Device::new();
    let (status, _) = s.call(Method::POST, "/push/subscriptions", Some(&grocer), Some(other.subscription(&service.endpoint("grocery")))).await;
    assert_eq!(status, StatusCode::CREATED);

    // The push service fails twice (busy, then down): the push is sent again until it is taken.
    service.answer("kitchen", &[503, 429]);
    let order = place(&s, &alice, bakery, loaf).await;
    let id = order["id"].as_i64().unwrap();
    let mut notices = Vec::new();
    for _ in 0..3 {
        let push = service.next().await;
        assert_eq!(push.device, "kitchen");
        assert_eq!(push.headers["urgency"], "high");
        notices.push(tablet.open(&push, &key, &service.base));
    }
    assert!(notices.iter().all(|n| n == &notices[0]), "the same push each time: {notices:?}");
    assert_eq!(notices[0]["title"], format!("New order #{id} · Corner Bakery"));
    assert_eq!(notices[0]["body"], "Alice Customer ordered 1 item · £5.50");
    assert_eq!(notices[0]["urgent"], true);

    // The service has forgotten the tablet: the subscription goes.
    service.answer("kitchen", &[410]);
    place(&s, &alice, bakery, loaf).await;
    assert_eq!(service.next().await.device, "kitchen");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !s.get("/push/subscriptions", &baker).await["items"].as_array().unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the gone device is still subscribed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The grocer's tablet got none of the bakery's orders (every push so far was the
    // kitchen's, sent one at a time in order); it gets its own shop's.
    let grocery = shop_id(&s, &alice, "Green Grocer").await;
    let apples = product_id(&s, &alice, grocery, "Apples").await;
    place(&s, &alice, grocery, apples).await;
    let push = service.next().await;
    assert_eq!(push.device, "grocery");
    assert_eq!(other.open(&push, &key, &service.base)["body"], "Alice Customer ordered 1 item · £3.99");
}

#[tokio::test]
async fn devices_are_the_users_own_bad_ones_are_refused_and_disabling_a_user_removes_theirs() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let bob = s.login(BOB).await;
    let admin = s.login(ADMIN).await;
    let phone = Device::new();
    let endpoint = "https://push.example/send/alice";
    // Without --push-allow-http only https endpoints are taken.
    let (status, body) = s.call(Method::POST, "/push/subscriptions", Some(&alice), Some(phone.subscription("http://push.example/x"))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")), "{body}");
    let mut bad_key = phone.subscription(endpoint);
    bad_key["keys"]["p256dh"] = json!("AAAA");
    let (status, body) = s.call(Method::POST, "/push/subscriptions", Some(&alice), Some(bad_key)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("p256dh"), "{body}");

    let (status, sub) = s.call(Method::POST, "/push/subscriptions", Some(&alice), Some(phone.subscription(endpoint))).await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    let id = sub["id"].as_i64().unwrap();
    assert_eq!(s.get("/push/subscriptions", &bob).await["items"], json!([]), "Bob sees none of Alice's devices");
    let (status, _) = s.call(Method::DELETE, &format!("/push/subscriptions/{id}"), Some(&bob), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nor removes them");
    let (status, _) = s.call(Method::DELETE, &format!("/push/subscriptions/{id}"), Some(&alice), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(s.get("/push/subscriptions", &alice).await["items"], json!([]));

    // Subscribed again, then disabled by an admin: the device gets nothing more.
    let (status, _) = s.call(Method::POST, "/push/subscriptions", Some(&alice), Some(phone.subscription(endpoint))).await;
    assert_eq!(status, StatusCode::CREATED);
    let alice_id = s.get("/auth/me", &alice).await["id"].as_i64().unwrap();
    let (status, body) = s.call(Method::PATCH, &format!("/users/{alice_id}"), Some(&admin), Some(json!({"disabled": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.db.texts(&format!("SELECT endpoint FROM push_subscriptions WHERE user_id = {alice_id}")).await, Vec::<String>::new());
}

#[tokio::test]
async fn signing_out_stops_the_notifications_of_the_devices_that_session_turned_on() {
    let s = TestServer::start().await;
    let tablet_session = s.login(ALICE).await;
    let phone_session = s.login(ALICE).await;
    let (tablet, phone) = (Device::new(), Device::new());
    for (session, device, endpoint) in [(&tablet_session, &tablet, "https://push.example/send/tablet"), (&phone_session, &phone, "https://push.example/send/phone")] {
        let (status, body) = s.call(Method::POST, "/push/subscriptions", Some(session), Some(device.subscription(endpoint))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    let (status, _) = s.call(Method::POST, "/auth/logout", Some(&tablet_session), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The shared tablet is pushed nothing more; the phone, still signed in, still is.
    let left = s.get("/push/subscriptions", &phone_session).await;
    let endpoints: Vec<&str> = left["items"].as_array().unwrap().iter().map(|d| d["endpoint"].as_str().unwrap()).collect();
    assert_eq!(endpoints, ["https://push.example/send/phone"], "{left}");
}

#[tokio::test]
async fn a_push_not_yet_taken_survives_the_server_being_killed() {
    let mut service = FakePushService::start().await;
    // A node killed mid-send leaves its push held for the lease: two seconds here.
    let args = ["--push-allow-http", "--push-concurrency", "1", "--push-lease-secs", "2"];
    let s = TestServer::start_with(&args).await;
    let alice = s.login(ALICE).await;
    let baker = s.login(BAKER).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;
    let key = s.get("/push/key", &alice).await["public_key"].as_str().unwrap().to_owned();
    let phone = Device::new();
    let (status, _) = s.call(Method::POST, "/push/subscriptions", Some(&alice), Some(phone.subscription(&service.endpoint("phone")))).await;
    assert_eq!(status, StatusCode::CREATED);

    // The push service is down when the order is confirmed; then the server is killed.
    service.answer("phone", &[503]);
    let id = place(&s, &alice, bakery, loaf).await["id"].as_i64().unwrap();
    advance(&s, &baker, id, "confirmed").await;
    let refused = service.next().await;
    let s = s.crash_and_restart(&args).await;
    // The restarted server sends it again (with the same key: it is kept in the database).
    let push = service.next().await;
    assert_eq!(refused.body.len(), push.body.len());
    assert_eq!(phone.open(&push, &key, &service.base)["title"], format!("Order #{id} is confirmed"));
    assert_eq!(s.get("/push/key", &alice).await["public_key"], key);
}
