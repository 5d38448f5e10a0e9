//! `GET /ws`: the WebSocket transport. Authenticates the upgrade, then runs one task per
//! connection that reads frames, writes queued events, keeps the heartbeat and ends the
//! connection with a close frame; the protocol itself is the [`ClientSession`]'s.

use super::session::{ClientSession, Transport};
use crate::auth::{bearer_token, cookie_token, session_from_token, Session};
use crate::error::ApiError;
use crate::state::AppState;
use app::api::ErrorCode;
use app::protocol::Disconnect;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// Largest client message or frame accepted; larger ones close the connection with 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// A write that cannot complete in this time means the client is gone or stuck.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The subprotocol a browser offers (with `bearer.<token>` to authenticate without a cookie).
const PROTOCOL: &str = "ordercast";

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// A bearer token, for clients that cannot set headers.
    token: Option<String>,
    /// Resume from this `seq` straight away, as if the first message were `resume`.
    last_seq: Option<i64>,
}

/// Authenticates the upgrade (bearer header, `token` query, `bearer.<token>` subprotocol, or the
/// session cookie with a same-site `Origin`) and hands the socket to its connection task.
pub async fn upgrade(
    State(state): State<AppState>,
    Query(query): Query<WsQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    match authenticate(&state, &query, &headers).await {
        Ok(session) => {
            let max = state.config.ws_max_connections_per_user;
            if state.hub.connections_of(session.user.id) >= max {
                return ApiError::new(ErrorCode::TooManyRequests, format!("at most {max} connections per user")).into_response();
            }
            let buffer = state.config.ws_buffer_bytes;
            ws.protocols([PROTOCOL])
                .read_buffer_size(buffer)
                .write_buffer_size(0)
                .max_write_buffer_size(MAX_MESSAGE_BYTES * 4)
                .max_message_size(MAX_MESSAGE_BYTES)
                .max_frame_size(MAX_MESSAGE_BYTES)
                .on_upgrade(move |socket| {
                    let sockets = state.sockets.clone();
                    sockets.track_future(serve(state, session, socket, query.last_seq))
                })
        }
        Err(e) => {
            state.hub.metrics.auth_failures.inc();
            e.into_response()
        }
    }
}

async fn authenticate(state: &AppState, query: &WsQuery, headers: &HeaderMap) -> Result<Session, ApiError> {
    let token = match bearer_token(headers, query.token.as_deref()) {
        Some(token) => token,
        None => {
            let token = cookie_token(headers).ok_or_else(ApiError::unauthenticated)?;
            // Cookies ride along with cross-site requests: only the site's own pages may use them.
            if !same_origin(state, headers) {
                return Err(ApiError::forbidden("cross-origin WebSocket with a session cookie refused"));
            }
            token
        }
    };
    session_from_token(state, &token).await?.ok_or_else(ApiError::unauthenticated)
}

/// The `Origin` is this site (as the `Host` header names it) or one of the configured origins.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return false };
    if state.config.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
}

/// Writes text frames, giving up on a client that cannot take one in [`WRITE_TIMEOUT`].
struct Frames<'a>(&'a mut WebSocket);

impl Transport for Frames<'_> {
    async fn send_text(&mut self, text: Utf8Bytes) -> Result<(), Disconnect> {
        send(self.0, Message::Text(text)).await
    }
}

async fn send(socket: &mut WebSocket, msg: Message) -> Result<(), Disconnect> {
    match tokio::time::timeout(WRITE_TIMEOUT, socket.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Disconnect::Gone),
    }
}

/// The connection's task: runs the session until it ends, then sends the close frame.
async fn serve(state: AppState, auth: Session, mut socket: WebSocket, resume_from: Option<i64>) {
    let why = run(state, auth, &mut socket, resume_from).await;
    if let Some((code, reason)) = why.close() {
        let frame = Message::Close(Some(CloseFrame { code, reason: reason.into() }));
        let _ = tokio::time::timeout(WRITE_TIMEOUT, socket.send(frame)).await;
    }
}

async fn run(state: AppState, auth: Session, socket: &mut WebSocket, resume_from: Option<i64>) -> Disconnect {
    let heartbeat_every = state.config.ws_heartbeat;
    let shutdown = state.shutdown.clone();
    // The session's handlers (database reads, replays) are boxed while they run: kept inline,
    // their futures would make every idle socket's task as large as the largest of them.
    let (mut session, mut queue) = match Box::pin(ClientSession::open(state, auth, resume_from, &mut Frames(socket))).await {
        Ok(opened) => opened,
        Err(why) => return why,
    };
    // The session ends by itself when the sign-in expires.
    let expiry = session.expires_at().map(|at| (at - chrono::Utc::now()).to_std().unwrap_or_default());
    let expired = async move {
        match expiry {
            Some(left) => tokio::time::sleep(left).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(expired);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat_every, heartbeat_every);
    let mut last_heard = Instant::now();
    let changed = queue.changed.clone();
    loop {
        let step = tokio::select! {
            incoming = socket.recv() => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) => Box::pin(session.on_text(&mut Frames(socket), text.as_str())).await,
                    Some(Ok(Message::Binary(_))) => Box::pin(session.on_binary(&mut Frames(socket))).await,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                    Some(Ok(Message::Close(_))) | None => Err(Disconnect::Gone),
                    Some(Err(e)) => {
                        // axum boxes tungstenite's error; its capacity error is recognisable
                        // only by its text ("Message too long: … > 65536").
                        let text = e.to_string().to_lowercase();
                        let too_big = text.contains("too long") || text.contains("too big");
                        Err(if too_big { Disconnect::TooBig } else { Disconnect::Gone })
                    }
                }
            },
            out = queue.next(), if session.is_live() => match out {
                Ok(event) => session.on_event(&mut Frames(socket), event).await,
                Err(why) => Err(why),
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= heartbeat_every * 2 {
                    Err(Disconnect::Idle)
                } else {
                    send(socket, Message::Ping(Default::default())).await
                }
            },
            _ = changed.notified() => Box::pin(session.on_revocation(&mut Frames(socket))).await,
            _ = &mut expired => Err(Disconnect::SessionEnded),
            _ = shutdown.cancelled() => Err(Disconnect::ShuttingDown),
        };
        if let Err(why) = step {
            return why;
        }
    }
}

