//! `GET /ws`: the WebSocket transport. Authenticates the upgrade, then runs one task per
//! connection that reads frames, writes queued events, keeps the heartbeat and ends the
//! connection as RFC 6455 §7 asks; the protocol itself is the [`ClientSession`]'s.
//!
//! The upgrade is done here rather than by axum's `WebSocketUpgrade` because ending a
//! connection well needs the raw stream: after a protocol error the frame reader has lost its
//! place, yet the client's unread bytes must still be drained, or the kernel answers them with
//! a reset that destroys the close frame (and whatever else the client had not read yet).
//!
//! How a connection ends:
//! - the client closes: its close is answered in kind (tungstenite queues the echo, [`close`]
//!   flushes it) and the server then closes TCP;
//! - the server closes (policy, slow client, shutdown, ...): the close frame is sent, then
//!   frames are read and discarded until the client's close or [`CLOSE_TIMEOUT`];
//! - the client breaks the protocol (1002), sends invalid UTF-8 (1007) or too big a message
//!   (1009): the close frame is sent, the write side shut, and raw bytes drained until the
//!   client closes or [`CLOSE_TIMEOUT`].
//!
//! [`close`]: Connection::close

use super::admission::{self, CookieRule};
use super::session::{ClientSession, Transport, UrlResume, LISTEN_GRACE};
use crate::auth::Session;
use crate::error::ApiError;
use crate::state::AppState;
use app::api::ErrorCode;
use app::protocol::Disconnect;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// Largest client message or frame accepted; larger ones close the connection with 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// A write that cannot complete in this time means the client is gone or stuck.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection waits for the client's close before dropping it.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// The subprotocol a browser offers (with `bearer.<token>` to authenticate without a cookie).
const PROTOCOL: &str = "ordercast";

type Stream = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// A bearer token, for clients that cannot set headers.
    token: Option<String>,
    /// Resume from this `seq` straight away, as if the first message were `resume`.
    last_seq: Option<i64>,
    /// With `last_seq`: the topics that `resume` would name, comma-separated.
    topics: Option<String>,
}

impl WsQuery {
    /// The `resume` the address asks for, if any; `Err` names a topic that is not one.
    fn resume(&self) -> Result<Option<UrlResume>, ApiError> {
        let resume = admission::url_resume(self.last_seq, self.topics.as_deref())?;
        Ok((resume.last_seq.is_some() || !resume.topics.is_empty()).then_some(resume))
    }
}

/// Authenticates the upgrade (bearer header, `token` query, `bearer.<token>` subprotocol, or the
/// session cookie with a same-site `Origin`) and hands the socket to its connection task.
pub async fn upgrade(State(state): State<AppState>, Query(query): Query<WsQuery>, request: Request) -> Response {
    let (request, _) = request.into_parts();
    let resume = match query.resume() {
        Ok(resume) => resume,
        Err(e) => return e.into_response(),
    };
    let session = match authenticated_upgrade(&state, &query, &request).await {
        Ok(session) => session,
        Err(e) => return e,
    };
    if let Err(e) = admission::within_connection_limit(&state, &session) {
        return e.into_response();
    }
    accept(&state, request, move |state, conn| serve(state, session, conn, resume))
}

/// `GET /ws/echo` (only with `--conformance-echo`): the same upgrade, authentication and
/// transport as `/ws`, with every message echoed instead of the session protocol. It exists so
/// that a WebSocket conformance suite (Autobahn, which expects an echo) can check this
/// transport's framing and close handshake; `/ws` itself is checked by the integration tests.
pub async fn echo(State(state): State<AppState>, Query(query): Query<WsQuery>, request: Request) -> Response {
    let (request, _) = request.into_parts();
    if let Err(e) = authenticated_upgrade(&state, &query, &request).await {
        return e;
    }
    accept(&state, request, |state, mut conn| async move {
        let shutdown = state.shutdown.clone();
        let why = tokio::select! {
            why = echo_all(&mut conn) => why,
            _ = shutdown.cancelled() => Disconnect::ShuttingDown,
        };
        conn.close(why).await;
    })
}

async fn echo_all(conn: &mut Connection) -> Disconnect {
    loop {
        let reply = match conn.recv().await {
            Ok(Incoming::Text(text)) => Message::Text(text),
            Ok(Incoming::Binary(data)) => Message::Binary(data),
            Ok(Incoming::Control) => continue,
            Err(why) => return why,
        };
        if let Err(why) = conn.send(reply).await {
            return why;
        }
    }
}

/// Checks the handshake and authenticates it; `Err` is the response refusing it.
async fn authenticated_upgrade(state: &AppState, query: &WsQuery, request: &Parts) -> Result<Session, Response> {
    handshake(request)?;
    admission::authenticate(state, query.token.as_deref(), &request.headers, CookieRule::SameOrigin)
        .await
        .map_err(IntoResponse::into_response)
}

/// The request is a WebSocket handshake this server speaks (RFC 6455 §4.2.1, HTTP/1.1).
fn handshake(request: &Parts) -> Result<(), Response> {
    let headers = &request.headers;
    let has = |name: header::HeaderName, token: &str| tokens(headers, name).any(|t| t.eq_ignore_ascii_case(token));
    let upgrade = request.version == Version::HTTP_11 && has(header::CONNECTION, "upgrade") && has(header::UPGRADE, "websocket");
    let version = headers.get(header::SEC_WEBSOCKET_VERSION).is_some_and(|v| v == "13");
    if upgrade && version && headers.contains_key(header::SEC_WEBSOCKET_KEY) {
        return Ok(());
    }
    let mut refusal = ApiError::new(ErrorCode::UpgradeRequired, "this address takes WebSocket connections (version 13)").into_response();
    refusal.headers_mut().insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    refusal.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    Err(refusal)
}

/// The comma-separated tokens of every `name` header (`Connection: keep-alive, Upgrade`).
fn tokens(headers: &HeaderMap, name: header::HeaderName) -> impl Iterator<Item = &str> {
    headers.get_all(name).into_iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim)
}

/// Answers the handshake with `101 Switching Protocols` and runs `task` on the connection
/// once the upgrade completes.
fn accept<F, Fut>(state: &AppState, mut request: Parts, task: F) -> Response
where
    F: FnOnce(AppState, Connection) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    // What `hyper::upgrade::on` takes from a request; absent when the connection cannot be
    // upgraded (HTTP/2).
    let Some(on_upgrade) = request.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
        return ApiError::new(ErrorCode::UpgradeRequired, "WebSocket connections need HTTP/1.1").into_response();
    };
    let key = request.headers.get(header::SEC_WEBSOCKET_KEY).map(|k| derive_accept_key(k.as_bytes())).unwrap_or_default();
    let offers_ours = tokens(&request.headers, header::SEC_WEBSOCKET_PROTOCOL).any(|p| p == PROTOCOL);
    let config = WebSocketConfig::default()
        .read_buffer_size(state.config.ws_buffer_bytes)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_MESSAGE_BYTES * 4)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let state = state.clone();
    let sockets = state.sockets.clone();
    tokio::spawn(sockets.track_future(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let stream = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
                task(state, Connection { stream, broken: false }).await;
            }
            Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
        }
    }));
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(key) = HeaderValue::from_str(&key) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, key);
    }
    if offers_ours {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(PROTOCOL));
    }
    response
}

/// What the client sent, as far as a session cares.
enum Incoming {
    Text(Utf8Bytes),
    Binary(Bytes),
    /// A ping or pong: the client is there (tungstenite answers pings itself).
    Control,
}

/// One WebSocket connection: frames in and out, and how it ends.
struct Connection {
    stream: Stream,
    /// Reading failed: the frame reader lost its place, so closing drains raw bytes.
    broken: bool,
}

impl Connection {
    /// The next message, or why the connection ends.
    async fn recv(&mut self) -> Result<Incoming, Disconnect> {
        match self.stream.next().await {
            Some(Ok(Message::Text(text))) => Ok(Incoming::Text(text)),
            Some(Ok(Message::Binary(data))) => Ok(Incoming::Binary(data)),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(Incoming::Control),
            Some(Ok(Message::Close(_))) => Err(Disconnect::ClosedByClient),
            None => Err(Disconnect::Gone),
            Some(Err(e)) => {
                self.broken = true;
                Err(failure(e))
            }
        }
    }

    /// Sends one message, giving up on a client that cannot take it in [`WRITE_TIMEOUT`].
    async fn send(&mut self, msg: Message) -> Result<(), Disconnect> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.stream.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Disconnect::Gone),
        }
    }

    /// Ends the connection for `why` (see the module's doc).
    async fn close(mut self, why: Disconnect) {
        let deadline = tokio::time::Instant::now() + CLOSE_TIMEOUT;
        let Some((code, reason)) = why.close() else {
            if why == Disconnect::ClosedByClient {
                // Flushes the echo of the client's close, then ends TCP as below (a client may
                // have sent more after its close; unread, it would turn into a reset).
                let _ = tokio::time::timeout_at(deadline, SinkExt::close(&mut self.stream)).await;
                self.drain_raw(deadline).await;
            }
            return;
        };
        let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
        match tokio::time::timeout_at(deadline, self.stream.send(Message::Close(Some(frame)))).await {
            Ok(Ok(())) => {}
            // The close frame cannot be delivered: nothing more to wait for.
            other => {
                tracing::debug!(?other, ?why, "close frame not sent");
                return;
            }
        }
        if !self.broken {
            // Frames after our close are discarded; the client's close ends the stream. A
            // frame that breaks the protocol meanwhile leaves only raw bytes to drain.
            loop {
                match tokio::time::timeout_at(deadline, self.stream.next()).await {
                    Ok(Some(Ok(_))) => continue,
                    Ok(Some(Err(_))) => self.broken = true,
                    _ => {}
                }
                break;
            }
        }
        if self.broken {
            self.drain_raw(deadline).await;
        }
    }

    /// Shuts the write side (the server closes TCP first, as RFC 6455 §7.1.1 asks) and reads
    /// and discards what the client still sends until it closes its side or `deadline`.
    async fn drain_raw(&mut self, deadline: tokio::time::Instant) {
        let raw = self.stream.get_mut();
        let _ = tokio::time::timeout_at(deadline, raw.shutdown()).await;
        let mut sink = [0u8; 4096];
        while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, raw.read(&mut sink)).await {
            if n == 0 {
                break;
            }
        }
    }
}

/// The close a read error calls for.
fn failure(e: WsError) -> Disconnect {
    match e {
        WsError::Capacity(_) => Disconnect::TooBig,
        WsError::Utf8(_) => Disconnect::InvalidData,
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Disconnect::Gone,
        WsError::Protocol(_) => Disconnect::ProtocolError,
        _ => Disconnect::Gone,
    }
}

/// The session's messages, as text frames.
impl Transport for Connection {
    async fn send_text(&mut self, text: Utf8Bytes) -> Result<(), Disconnect> {
        self.send(Message::Text(text)).await
    }
}

/// The connection's task: runs the session until it ends, then closes the connection.
async fn serve(state: AppState, auth: Session, mut conn: Connection, resume_from: Option<UrlResume>) {
    let why = run(state, auth, &mut conn, resume_from).await;
    conn.close(why).await;
}

async fn run(state: AppState, auth: Session, conn: &mut Connection, resume_from: Option<UrlResume>) -> Disconnect {
    let heartbeat_every = state.config.ws_heartbeat;
    let shutdown = state.shutdown.clone();
    // The session's handlers (database reads, replays) are boxed while they run: kept inline,
    // their futures would make every idle socket's task as large as the largest of them.
    let (mut session, mut queue) = match Box::pin(ClientSession::open(state, auth, resume_from, conn)).await {
        Ok(opened) => opened,
        Err(why) => return why,
    };
    // The session ends by itself when the sign-in expires.
    let expired = session.expiry();
    tokio::pin!(expired);
    // A client that says nothing goes live from `hello` once the grace period is over.
    let grace = tokio::time::sleep(LISTEN_GRACE);
    tokio::pin!(grace);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat_every, heartbeat_every);
    let mut last_heard = Instant::now();
    let changed = queue.changed.clone();
    loop {
        // In this order: an end or a rights change is acted on before anything else queued
        // (a gained shop is announced before its first event).
        let step = tokio::select! {
            biased;
            _ = shutdown.cancelled() => Err(Disconnect::ShuttingDown),
            _ = &mut expired => Err(Disconnect::SessionEnded),
            _ = changed.notified() => Box::pin(session.on_revocation(conn)).await,
            incoming = conn.recv() => {
                last_heard = Instant::now();
                match incoming {
                    Ok(Incoming::Text(text)) => Box::pin(session.on_text(conn, text.as_str())).await,
                    Ok(Incoming::Binary(_)) => Box::pin(session.on_binary(conn)).await,
                    Ok(Incoming::Control) => Ok(()),
                    Err(why) => Err(why),
                }
            },
            out = queue.next(), if session.is_live() => match out {
                Ok(event) => {
                    let len = event.text.len();
                    let sent = session.on_event(conn, event).await;
                    queue.written(len);
                    sent
                }
                Err(why) => Err(why),
            },
            _ = &mut grace, if !session.is_live() && !session.has_heard() => session.go_live(conn).await,
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= heartbeat_every * 2 {
                    Err(Disconnect::Idle)
                } else {
                    conn.send(Message::Ping(Bytes::new())).await
                }
            },
        };
        if let Err(why) = step {
            return why;
        }
    }
}
