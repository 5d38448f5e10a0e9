//! `GET /sse`: the Server-Sent Events transport, for clients whose network breaks WebSockets
//! (some proxies and captive portals) and for anything that speaks only HTTP.
//!
//! The same [`ClientSession`] as the socket's, opened listen-only: an EventSource cannot send
//! messages, so what `resume` would carry comes with the request (`Last-Event-ID`, or
//! `last_seq=`, and `topics=`). Every event is written with `id:` = its `seq`, and so is
//! `resumed`, so a browser's own reconnect resumes exactly where the stream stopped. Control
//! messages are the socket's JSON in `data:` lines; a comment every heartbeat keeps proxies
//! from timing the stream out and notices a client that is gone. When the server ends the
//! stream it says why first, in an `event: close` carrying the socket's close code and reason.
//!
//! Cookies are accepted without the socket's `Origin` check: unlike a WebSocket, an
//! EventSource is a fetch, and another site can read the response only if CORS allows it
//! (nothing here does). A request that says it comes from another site is refused anyway.

use super::admission::{self, CookieRule};
use super::session::{ClientSession, Transport, UrlResume};
use crate::auth::Session;
use crate::error::ApiError;
use crate::state::AppState;
use app::api::ErrorCode;
use app::protocol::Disconnect;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// A write the client does not take in this time means it is gone or stuck.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Chunks handed to the HTTP connection ahead of the client reading them.
const CHUNKS_IN_FLIGHT: usize = 8;
/// How long a browser waits before reconnecting by itself (our client reconnects on its own).
const RETRY_MS: u32 = 3000;

#[derive(Debug, Deserialize)]
pub struct SseQuery {
    /// A bearer token, for clients that cannot set headers.
    token: Option<String>,
    /// The `seq` to resume after, when the request carries no `Last-Event-ID`.
    last_seq: Option<i64>,
    /// Topics to follow besides the automatic ones, comma-separated.
    topics: Option<String>,
}

/// Where to start: `Last-Event-ID` (what a browser sends when it reconnects by itself) wins
/// over `last_seq` (what the page knew when it opened the stream).
fn resume_point(query: &SseQuery, headers: &HeaderMap) -> Result<UrlResume, ApiError> {
    let last_seq = match headers.get("last-event-id") {
        None => query.last_seq,
        Some(value) => {
            let text = value.to_str().unwrap_or_default().trim();
            match text.parse::<i64>() {
                // An empty id is how a server resets it; it means "from now".
                _ if text.is_empty() => None,
                Ok(seq) if seq >= 0 => Some(seq),
                _ => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidQuery,
                        "Last-Event-ID must be the seq of the last event received (a whole number, 0 or more)",
                    ))
                }
            }
        }
    };
    if last_seq.is_some_and(|s| s < 0) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "last_seq must be 0 or more"));
    }
    admission::url_resume(last_seq, query.topics.as_deref())
}

/// Authenticates the request and streams the session's messages as events.
pub async fn stream(State(state): State<AppState>, Query(query): Query<SseQuery>, headers: HeaderMap) -> Response {
    let resume = match resume_point(&query, &headers) {
        Ok(resume) => resume,
        Err(e) => return e.into_response(),
    };
    let session = match admission::authenticate(&state, query.token.as_deref(), &headers, CookieRule::NotCrossSite).await {
        Ok(session) => session,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = admission::within_connection_limit(&state, &session) {
        return e.into_response();
    }
    let asked = resume.topics.iter().filter(|t| !session.actor.is_automatic(**t)).count();
    let max = state.hub.max_subscriptions();
    if asked > max {
        return ApiError::new(ErrorCode::InvalidQuery, format!("{asked} topics named; at most {max} subscriptions per connection"))
            .into_response();
    }

    let (tx, mut rx) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let sockets = state.sockets.clone();
    sockets.spawn(serve(state, session, EventStream { tx }, resume));
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|chunk| chunk.map(Ok::<_, Infallible>))));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies that buffer responses (nginx) would hold events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The response body's feed: each message one SSE event.
struct EventStream {
    tx: mpsc::Sender<Bytes>,
}

impl EventStream {
    async fn write(&mut self, chunk: String) -> Result<(), Disconnect> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.tx.send(Bytes::from(chunk))).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Disconnect::Gone),
        }
    }

    /// Tells the client why the stream ends, when there is anything to tell.
    async fn close(mut self, why: Disconnect) {
        if let Some((code, reason)) = why.close() {
            let data = serde_json::json!({ "code": code, "reason": reason });
            let _ = self.write(format!("event: close\ndata: {data}\n\n")).await;
        }
    }
}

/// `data:` lines for `text` (JSON has no raw newlines, but nothing here relies on it).
fn event(id: Option<i64>, text: &str) -> String {
    let mut chunk = String::with_capacity(text.len() + 24);
    if let Some(id) = id {
        chunk.push_str(&format!("id: {id}\n"));
    }
    for line in text.split('\n') {
        chunk.push_str("data: ");
        chunk.push_str(line.strip_suffix('\r').unwrap_or(line));
        chunk.push('\n');
    }
    chunk.push('\n');
    chunk
}

impl Transport for EventStream {
    async fn send_text(&mut self, text: Utf8Bytes) -> Result<(), Disconnect> {
        self.write(event(None, text.as_str())).await
    }

    async fn send_at(&mut self, seq: i64, text: Utf8Bytes) -> Result<(), Disconnect> {
        self.write(event(Some(seq), text.as_str())).await
    }
}

/// The stream's task: runs the session until it ends, then says why.
async fn serve(state: AppState, auth: Session, mut out: EventStream, resume: UrlResume) {
    let why = run(state, auth, &mut out, resume).await;
    out.close(why).await;
}

async fn run(state: AppState, auth: Session, out: &mut EventStream, resume: UrlResume) -> Disconnect {
    if let Err(why) = out.write(format!("retry: {RETRY_MS}\n\n")).await {
        return why;
    }
    let keep_alive = state.config.ws_heartbeat;
    let shutdown = state.shutdown.clone();
    let (mut session, mut queue) = match Box::pin(ClientSession::open_listen_only(state, auth, resume, out)).await {
        Ok(opened) => opened,
        Err(why) => return why,
    };
    let expired = session.expiry();
    tokio::pin!(expired);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
    let changed = queue.changed.clone();
    let gone = out.tx.clone();
    loop {
        // As the socket's loop: an end or a rights change before anything queued.
        let step = tokio::select! {
            biased;
            _ = shutdown.cancelled() => Err(Disconnect::ShuttingDown),
            _ = &mut expired => Err(Disconnect::SessionEnded),
            _ = gone.closed() => Err(Disconnect::Gone),
            _ = changed.notified() => Box::pin(session.on_revocation(out)).await,
            next = queue.next(), if session.is_live() => match next {
                Ok(event) => {
                    let len = event.text.len();
                    let sent = session.on_event(out, event).await;
                    queue.written(len);
                    sent
                }
                Err(why) => Err(why),
            },
            _ = heartbeat.tick() => out.write(":\n\n".to_owned()).await,
        };
        if let Err(why) = step {
            return why;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::Topic;

    #[test]
    fn messages_become_events_with_their_seq_as_id() {
        assert_eq!(event(Some(42), r#"{"a":1}"#), "id: 42\ndata: {\"a\":1}\n\n");
        assert_eq!(event(None, "x\ny"), "data: x\ndata: y\n\n");
    }

    #[test]
    fn last_event_id_wins_over_last_seq_and_bad_values_are_refused() {
        let query = SseQuery { token: None, last_seq: Some(5), topics: Some("order:7,catalog:1".into()) };
        let mut headers = HeaderMap::new();
        let point = resume_point(&query, &headers).expect("valid");
        assert_eq!(point.last_seq, Some(5));
        assert_eq!(point.topics, [Topic::Order(7), Topic::Catalog(1)]);
        headers.insert("last-event-id", HeaderValue::from_static("9"));
        assert_eq!(resume_point(&query, &headers).expect("valid").last_seq, Some(9));
        headers.insert("last-event-id", HeaderValue::from_static(""));
        assert_eq!(resume_point(&query, &headers).expect("valid").last_seq, None);
        for bad in ["abc", "-1", "1.5", "99999999999999999999"] {
            headers.insert("last-event-id", HeaderValue::from_static(bad));
            assert!(resume_point(&query, &headers).is_err(), "{bad}");
        }
    }
}
