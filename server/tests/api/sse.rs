//! `/sse`, the Server-Sent Events transport, read with a real HTTP client and an EventSource
//! parser: the same events as the socket, `id:` = `seq`, resume from `Last-Event-ID` across a
//! restart, and refusals before anything is streamed.

use crate::common::*;
use crate::ws::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(10);

/// One SSE event as an EventSource would dispatch it.
#[derive(Debug)]
pub struct SseEvent {
    /// The `id:` field, if the event set one.
    pub id: Option<String>,
    /// The `event:` field (`message` when absent).
    pub kind: String,
    pub data: Value,
}

pub struct Sse {
    response: reqwest::Response,
    buffer: String,
}

/// How a stream is opened.
pub struct Open<'a> {
    pub bearer: Option<&'a str>,
    pub cookie: Option<&'a str>,
    pub headers: Vec<(&'a str, &'a str)>,
    pub query: &'a str,
}

impl Default for Open<'_> {
    fn default() -> Self {
        Open { bearer: None, cookie: None, headers: Vec::new(), query: "" }
    }
}

/// Opens `/sse`; `Err` is the refusal's status and JSON body.
pub async fn try_open(server: &TestServer, open: Open<'_>) -> Result<Sse, (StatusCode, Value)> {
    let mut req = reqwest::Client::new().get(format!("{}/sse?{}", server.base, open.query)).header("accept", "text/event-stream");
    if let Some(token) = open.bearer {
        req = req.bearer_auth(token);
    }
    if let Some(token) = open.cookie {
        req = req.header("cookie", format!("ordercast_session={token}"));
    }
    for (name, value) in open.headers {
        req = req.header(name, value);
    }
    let response = req.send().await.expect("request");
    if response.status() != StatusCode::OK {
        let status = response.status();
        return Err((status, response.json().await.unwrap_or(Value::Null)));
    }
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    Ok(Sse { response, buffer: String::new() })
}

/// Opens a stream with a bearer token and `query`, expecting it to be served.
pub async fn open(server: &TestServer, token: &str, query: &str) -> Sse {
    let mut sse = try_open(server, Open { bearer: Some(token), query, ..Open::default() }).await.expect("stream");
    let hello = sse.next().await;
    assert_eq!(hello.data["type"], "hello", "{hello:?}");
    sse
}

impl Sse {
    /// The next event (comments and `retry:` skipped), or `None` when the stream ended.
    pub async fn next_or_end(&mut self) -> Option<SseEvent> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, "message".to_owned(), Vec::new());
                for line in block.lines() {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "id" => id = Some(value.to_owned()),
                        "event" => kind = value.to_owned(),
                        "data" => data.push(value.to_owned()),
                        _ => {}
                    }
                }
                if !data.is_empty() {
                    let data = serde_json::from_str(&data.join("\n")).expect("JSON data");
                    return Some(SseEvent { id, kind, data });
                }
            }
            let chunk = tokio::time::timeout(DEADLINE, self.response.chunk()).await.expect("nothing within the deadline");
            match chunk.expect("stream error") {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).expect("UTF-8")),
                None => return None,
            }
        }
    }

    pub async fn next(&mut self) -> SseEvent {
        self.next_or_end().await.expect("the stream ended")
    }

    /// Every event message (those with a `seq`) before the barrier notification.
    pub async fn events_until(&mut self, barrier: &str) -> Vec<SseEvent> {
        let mut events = Vec::new();
        loop {
            let e = self.next().await;
            if e.data["type"] == "notification" && e.data["data"]["text"] == barrier {
                return events;
            }
            if e.data.get("seq").is_some() {
                events.push(e);
            }
        }
    }
}

#[tokio::test]
async fn the_stream_carries_exactly_the_sockets_events_with_their_seq_as_id() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let baker = s.login(BAKER).await;
    let grocer = s.login(GROCER).await;
    let admin = s.login(ADMIN).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;

    let mut ws = live(&s, &alice).await;
    let mut sse = open(&s, &alice, &format!("topics=catalog:{bakery}")).await;
    let subscribed = sse.next().await;
    assert_eq!((&subscribed.data["type"], &subscribed.data["topic"]), (&json!("subscribed"), &json!(format!("catalog:{bakery}"))));
    let resumed = sse.next().await;
    assert_eq!(resumed.data["type"], "resumed", "live from now: {resumed:?}");
    assert_eq!(resumed.id, Some(resumed.data["seq"].to_string()));
    ws.send(json!({"type": "subscribe", "topic": format!("catalog:{bakery}")})).await;
    assert_eq!(ws.next().await["type"], "subscribed");

    let id = place(&s, &alice, bakery, loaf).await["id"].as_i64().unwrap();
    advance(&s, &baker, id, "confirmed").await;
    // Elsewhere: another customer's order and another shop's news reach neither.
    let grocery = shop_id(&s, &alice, "Green Grocer").await;
    s.call(Method::PATCH, &format!("/shops/{grocery}"), Some(&grocer), Some(json!({"is_open": false}))).await;
    let (status, _) = s
        .call(Method::PATCH, &format!("/products/{loaf}"), Some(&baker), Some(json!({"stock": 3})))
        .await;
    assert_eq!(status, StatusCode::OK);
    barrier(&s, &admin, "compare").await;

    let over_socket = ws.events_until("compare").await;
    let over_sse = sse.events_until("compare").await;
    assert!(types(&over_socket).contains(&"order_created".to_owned()), "{over_socket:?}");
    assert!(types(&over_socket).contains(&"inventory_updated".to_owned()), "the catalogue topic: {over_socket:?}");
    let sse_data: Vec<Value> = over_sse.iter().map(|e| e.data.clone()).collect();
    assert_eq!(sse_data, over_socket, "the same events, in the same order");
    for e in &over_sse {
        assert_eq!(e.kind, "message");
        assert_eq!(e.id, Some(e.data["seq"].to_string()));
    }
}

#[tokio::test]
async fn a_stream_resumes_from_last_event_id_across_a_restart_without_gap_or_duplicate() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let baker = s.login(BAKER).await;
    let (bakery, loaf) = bakery_loaf(&s, &alice).await;

    let mut sse = open(&s, &alice, "").await;
    assert_eq!(sse.next().await.data["type"], "resumed");
    let id = place(&s, &alice, bakery, loaf).await["id"].as_i64().unwrap();
    let created = sse.next().await;
    assert_eq!(created.data["type"], "order_created");
    let last_event_id = created.id.expect("an id");
    advance(&s, &baker, id, "confirmed").await;

    // The server restarts: the stream is told why, then ends.
    let s = s.restart().await;
    let mut before_end = Vec::new();
    while let Some(e) = sse.next_or_end().await {
        before_end.push(e);
    }
    let close = before_end.pop().expect("a close event");
    assert_eq!(close.kind, "close");
    assert_eq!(close.data["code"], 1001, "{close:?}");

    advance(&s, &baker, id, "preparing").await;
    advance(&s, &baker, id, "ready").await;
    // What a browser sends when it reconnects by itself; it wins over an older `last_seq`.
    let mut sse = try_open(&s, Open { bearer: Some(&alice), headers: vec![("last-event-id", &last_event_id)], query: "last_seq=1", ..Open::default() })
        .await
        .expect("stream");
    assert_eq!(sse.next().await.data["type"], "hello");
    let mut replay = Vec::new();
    let resumed = loop {
        let e = sse.next().await;
        if e.data["type"] == "resumed" {
            break e;
        }
        replay.push(e);
    };
    let statuses: Vec<&str> = replay.iter().map(|e| e.data["data"]["order"]["status"].as_str().unwrap_or_default()).collect();
    assert_eq!(statuses, ["confirmed", "preparing", "ready"], "every change after the last id, once: {replay:?}");
    let seqs: Vec<i64> = replay.iter().map(|e| e.data["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]) && seqs[0] > last_event_id.parse::<i64>().unwrap());
    assert_eq!(resumed.data["replayed"], 3);

    // Live again after the replay, nothing twice.
    advance(&s, &baker, id, "out_for_delivery").await;
    let next = sse.next().await;
    assert_eq!(next.data["data"]["order"]["status"], "out_for_delivery", "{next:?}");
}

#[tokio::test]
async fn bad_positions_and_unauthorized_streams_are_refused_with_a_clear_error() {
    let s = TestServer::start_with(&["--event-retention-hours", "0"]).await;
    let alice = s.login(ALICE).await;

    for bad in ["abc", "-3", "4.5"] {
        let refused = try_open(&s, Open { bearer: Some(&alice), headers: vec![("last-event-id", bad)], ..Open::default() }).await;
        let (status, body) = refused.err().expect("refused");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["error"]["code"], "invalid_query", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("Last-Event-ID"), "{body}");
    }
    let (status, body) = try_open(&s, Open { bearer: Some(&alice), query: "topics=order:x", ..Open::default() }).await.err().expect("refused");
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));
    let (status, _) = try_open(&s, Open::default()).await.err().expect("refused");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A cookie is fine from the site's own pages, refused when the request comes from another site.
    let cross = Open { cookie: Some(&alice), headers: vec![("sec-fetch-site", "cross-site")], ..Open::default() };
    assert_eq!(try_open(&s, cross).await.err().expect("refused").0, StatusCode::FORBIDDEN);
    let foreign = Open { cookie: Some(&alice), headers: vec![("origin", "https://evil.example")], ..Open::default() };
    assert_eq!(try_open(&s, foreign).await.err().expect("refused").0, StatusCode::FORBIDDEN);
    let own = Open { cookie: Some(&alice), headers: vec![("sec-fetch-site", "same-origin")], ..Open::default() };
    assert_eq!(try_open(&s, own).await.expect("served").next().await.data["type"], "hello");

    // A position the server no longer has: told to reload, then live from now (the stream
    // cannot be asked again).
    let mut sse = open(&s, &alice, "last_seq=1").await;
    let resync = sse.next().await;
    assert_eq!(resync.data["type"], "resync_required", "{resync:?}");
    assert_eq!(resync.id, None);
    let resumed = sse.next().await;
    assert_eq!(resumed.data["type"], "resumed");
    assert_eq!(resumed.data["seq"], resync.data["seq"]);
    assert_eq!(resumed.id, Some(resync.data["seq"].to_string()));
}

#[tokio::test]
async fn signing_out_ends_the_stream_with_the_reason() {
    let s = TestServer::start().await;
    let alice = s.login(ALICE).await;
    let mut sse = open(&s, &alice, "").await;
    assert_eq!(sse.next().await.data["type"], "resumed");
    let (status, _) = s.call(Method::POST, "/auth/logout", Some(&alice), None).await;
    assert!(status.is_success(), "{status}");
    let close = sse.next().await;
    assert_eq!(close.kind, "close");
    assert_eq!(close.data["code"], 4001, "{close:?}");
    assert!(sse.next_or_end().await.is_none());
}
