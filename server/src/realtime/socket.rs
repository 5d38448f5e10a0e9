//! `GET /ws`: authentication at the upgrade, then one task per connection that reads client
//! messages, writes queued events, keeps the heartbeat, and enforces the limits.

use super::hub::{encode, order_owner, HubError, Outbound};
use crate::auth::{cookie_token, session_from_token, Session};
use crate::error::ApiError;
use crate::service;
use crate::state::AppState;
use crate::store;
use app::api::ErrorCode;
use app::domain::{Role, Topic};
use app::protocol::{close, ClientMessage, ControlMessage, ServerMessage, SocketErrorCode};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Largest client message or frame accepted; larger ones close the connection with 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Events replayed per database read during `resume`.
const REPLAY_PAGE: i64 = 500;
/// Client messages: a burst of this many, refilled at `RATE_PER_SEC`.
const RATE_BURST: f64 = 40.0;
const RATE_PER_SEC: f64 = 20.0;
/// Messages refused for rate before the connection is closed.
const MAX_RATE_VIOLATIONS: u32 = 100;
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
                    sockets.track_future(Connection::run(state, session, socket, query.last_seq))
                })
        }
        Err(e) => {
            state.hub.metrics.auth_failures.inc();
            e.into_response()
        }
    }
}

async fn authenticate(state: &AppState, query: &WsQuery, headers: &HeaderMap) -> Result<Session, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .or_else(|| query.token.clone())
        .or_else(|| {
            headers
                .get_all(header::SEC_WEBSOCKET_PROTOCOL)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .find_map(|p| p.trim().strip_prefix("bearer.").map(str::to_owned))
        });
    let token = match bearer {
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

/// A token bucket over client messages.
struct RateLimit {
    tokens: f64,
    at: Instant,
    violations: u32,
}

impl RateLimit {
    fn new() -> Self {
        RateLimit { tokens: RATE_BURST, at: Instant::now(), violations: 0 }
    }

    fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * RATE_PER_SEC).min(RATE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.violations += 1;
            false
        }
    }
}

/// Why a connection ended, and the close frame to send (if the socket is still usable).
struct Closing(Option<(u16, &'static str)>);

struct Connection {
    state: AppState,
    session: Session,
    id: u64,
    socket: WebSocket,
    /// Events are held in the queue until the client's first message (so `resume` can replay
    /// before anything live is sent).
    live: bool,
    /// Queued events at or below this were already sent by a replay.
    sent_through: i64,
    rate: RateLimit,
    last_heard: Instant,
}

impl Connection {
    async fn run(state: AppState, session: Session, socket: WebSocket, resume_from: Option<i64>) {
        let actor = Arc::new(session.actor.clone());
        let topics = actor.automatic_topics();
        let registration = match state.hub.register(actor, &topics) {
            Ok(r) => r,
            Err(e) => {
                let mut socket = socket;
                let _ = socket.send(close_message(close::POLICY, &e.to_string())).await;
                return;
            }
        };
        let staff = session.user.role == Role::Shopkeeper;
        if staff && registration.first_for_user {
            service::presence::changed(&state, &session.user, true).await;
        }
        let mut conn = Connection {
            id: registration.id,
            state: state.clone(),
            session,
            socket,
            live: false,
            sent_through: 0,
            rate: RateLimit::new(),
            last_heard: Instant::now(),
        };
        let closing = conn.serve(registration.rx, registration.overflowed, registration.changed, topics, resume_from).await;
        if let Some((code, reason)) = closing.0 {
            let _ = tokio::time::timeout(WRITE_TIMEOUT, conn.socket.send(close_message(code, reason))).await;
        }
        let last = state.hub.unregister(conn.id).map(|(_, last)| last).unwrap_or_else(|| state.hub.connections_of(conn.session.user.id) == 0);
        if staff && last {
            service::presence::changed(&state, &conn.session.user, false).await;
        }
    }

    async fn serve(
        &mut self,
        mut rx: mpsc::Receiver<Outbound>,
        overflowed: Arc<std::sync::atomic::AtomicBool>,
        changed: Arc<tokio::sync::Notify>,
        topics: Vec<Topic>,
        resume_from: Option<i64>,
    ) -> Closing {
        let seq = match self.current_seq().await {
            Ok(seq) => seq,
            Err(_) => return Closing(Some((1011, "internal error"))),
        };
        let hello = ControlMessage::Hello { user_id: self.session.user.id, topics, seq };
        if let Err(c) = self.send_control(hello).await {
            return c;
        }
        if let Some(last_seq) = resume_from {
            if let Err(c) = self.resume(Some(last_seq), Vec::new()).await {
                return c;
            }
        }
        let heartbeat_every = self.state.config.ws_heartbeat;
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat_every, heartbeat_every);
        let shutdown = self.state.shutdown.clone();
        loop {
            let step = tokio::select! {
                incoming = self.socket.recv() => match incoming {
                    Some(Ok(msg)) => self.on_message(msg).await,
                    Some(Err(e)) => {
                        // axum boxes tungstenite's error; its capacity error is recognisable
                        // only by its text ("Message too long: … > 65536").
                        let text = e.to_string().to_lowercase();
                        let too_big = text.contains("too long") || text.contains("too big");
                        return Closing(too_big.then_some((1009, "message too big: the limit is 64 KiB")));
                    }
                    None => return Closing(None),
                },
                out = rx.recv(), if self.live => match out {
                    Some(out) => self.send_event(out).await,
                    None if overflowed.load(Ordering::Acquire) => {
                        return Closing(Some((close::SLOW_CONSUMER, "too slow: reconnect and resume")));
                    }
                    None => return Closing(Some((close::GOING_AWAY, "server shutting down"))),
                },
                _ = heartbeat.tick() => {
                    if self.last_heard.elapsed() >= heartbeat_every * 2 {
                        return Closing(Some((close::IDLE_TIMEOUT, "no answer to pings")));
                    }
                    self.send(Message::Ping(Default::default())).await
                },
                _ = changed.notified() => self.on_rights_changed().await,
                _ = shutdown.cancelled() => return Closing(Some((close::GOING_AWAY, "server shutting down"))),
            };
            if let Err(c) = step {
                return c;
            }
        }
    }

    /// The user's rights changed: end the subscriptions they lost, or the whole connection if the
    /// user was disabled.
    async fn on_rights_changed(&mut self) -> Result<(), Closing> {
        let Some(revocation) = self.state.hub.take_revocation(self.id) else { return Ok(()) };
        let Some(actor) = revocation.actor else {
            return Err(Closing(Some((close::SESSION_ENDED, "your account was disabled"))));
        };
        self.session.user.shop_ids = actor.shop_ids.clone();
        self.session.actor = actor;
        for topic in revocation.removed {
            let reason = Some("access revoked".to_owned());
            self.send_control(ControlMessage::Unsubscribed { topic, reason }).await?;
        }
        Ok(())
    }

    async fn on_message(&mut self, msg: Message) -> Result<(), Closing> {
        self.last_heard = Instant::now();
        let text = match msg {
            Message::Text(text) => text,
            Message::Binary(_) => {
                return self.error(SocketErrorCode::BinaryNotSupported, "send JSON text frames").await;
            }
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Close(_) => return Err(Closing(None)),
        };
        if !self.rate.allow() {
            if self.rate.violations > MAX_RATE_VIOLATIONS {
                return Err(Closing(Some((close::POLICY, "too many messages"))));
            }
            return self.error(SocketErrorCode::RateLimited, "too many messages; slow down").await;
        }
        let msg: ClientMessage = match serde_json::from_str(text.as_str()) {
            Ok(m) => m,
            Err(e) => return self.error(SocketErrorCode::BadMessage, &format!("not a valid message: {e}")).await,
        };
        match msg {
            ClientMessage::Resume { last_seq, topics } => {
                if self.live {
                    return self.error(SocketErrorCode::ResumeNotFirst, "resume must be the first message of a connection; reconnect to resume").await;
                }
                self.resume(last_seq, topics).await
            }
            other => {
                self.live = true;
                match other {
                    ClientMessage::Subscribe { topic } => self.subscribe(topic).await,
                    ClientMessage::Unsubscribe { topic } => {
                        let reason = (!self.state.hub.unsubscribe(self.id, topic)).then(|| "was not subscribed".to_owned());
                        self.send_control(ControlMessage::Unsubscribed { topic, reason }).await
                    }
                    ClientMessage::Ping { id } => self.send_control(ControlMessage::Pong { id }).await,
                    ClientMessage::Resume { .. } => Ok(()),
                }
            }
        }
    }

    /// Checks the right to a topic, then follows it. Refusals are answered; the connection stays.
    async fn authorize(&mut self, topic: Topic) -> Result<Result<(), (SocketErrorCode, String)>, Closing> {
        let actor = self.session.actor.clone();
        let allowed = match topic {
            Topic::Order(id) => {
                let order = self.read(|mut conn| async move { store::orders::owner(&mut conn, id).await }).await?;
                match order {
                    Some(owner) if actor.may_receive(topic, Some(owner)) => Ok(()),
                    // An order the user may not see does not exist for them.
                    _ => Err((SocketErrorCode::NotFound, format!("no order {id}"))),
                }
            }
            Topic::Catalog(id) => {
                let shop = self.read(|mut conn| async move { store::shops::get(&mut conn, id).await }).await?;
                match shop {
                    Some(_) => Ok(()),
                    None => Err((SocketErrorCode::NotFound, format!("no shop {id}"))),
                }
            }
            other if actor.may_receive(other, None) => Ok(()),
            other => Err((SocketErrorCode::Forbidden, format!("not allowed to follow {other}"))),
        };
        Ok(allowed)
    }

    async fn subscribe(&mut self, topic: Topic) -> Result<(), Closing> {
        if let Err((code, message)) = self.authorize(topic).await? {
            return self.error(code, &message).await;
        }
        match self.state.hub.subscribe(self.id, topic) {
            Ok(_) => self.send_control(ControlMessage::Subscribed { topic }).await,
            Err(HubError::TooManySubscriptions(max)) => {
                self.error(SocketErrorCode::TooManySubscriptions, &format!("at most {max} subscriptions per connection")).await
            }
            Err(_) => Err(Closing(Some((close::SLOW_CONSUMER, "too slow: reconnect and resume")))),
        }
    }

    /// Subscribes to `topics`, replays every event after `last_seq` for this connection's
    /// topics from the outbox, then goes live. Events queued meanwhile that the replay already
    /// sent are skipped, so nothing is missed and nothing is sent twice.
    async fn resume(&mut self, last_seq: Option<i64>, topics: Vec<Topic>) -> Result<(), Closing> {
        for topic in topics {
            self.subscribe(topic).await?;
        }
        let (horizon, current) = self
            .read(|mut conn| async move {
                Ok((store::events::horizon(&mut conn).await?, store::events::current_seq(&mut conn).await?))
            })
            .await?;
        let Some(mut last) = last_seq else {
            self.live = true;
            return self.send_control(ControlMessage::Resumed { seq: current, replayed: 0 }).await;
        };
        if last < horizon || last > current {
            // Stay not-live: the client reloads over REST and sends `resume` again from there.
            return self.send_control(ControlMessage::ResyncRequired { oldest_seq: horizon + 1, seq: current }).await;
        }
        self.state.hub.metrics.replays.inc();
        let topics: HashSet<Topic> = self.state.hub.topics_of(self.id);
        let mut replayed = 0u64;
        loop {
            let page = self.read(|mut conn| async move { store::events::since(&mut conn, last, REPLAY_PAGE).await }).await?;
            for event in &page {
                last = event.seq;
                let owner = order_owner(event);
                let via = event.topics.iter().copied().find(|t| topics.contains(t) && self.session.actor.may_receive(*t, owner));
                if let Some(topic) = via {
                    let out = encode(event, topic);
                    self.send(Message::Text(out.text)).await?;
                    replayed += 1;
                }
            }
            if (page.len() as i64) < REPLAY_PAGE {
                break;
            }
        }
        self.state.hub.metrics.replayed_events.inc_by(replayed);
        self.sent_through = last.max(current);
        self.live = true;
        self.send_control(ControlMessage::Resumed { seq: self.sent_through, replayed }).await
    }

    /// Runs a read on a pooled connection; a database failure closes the socket with 1011.
    async fn read<T, F, Fut>(&mut self, f: F) -> Result<T, Closing>
    where
        F: FnOnce(sqlx::pool::PoolConnection<sqlx::Sqlite>) -> Fut,
        Fut: std::future::Future<Output = sqlx::Result<T>>,
    {
        let pool = self.state.db.read.clone();
        let conn = pool.acquire().await.map_err(|e| {
            tracing::error!(error = %e, "socket cannot reach the database");
            Closing(Some((1011, "internal error")))
        })?;
        f(conn).await.map_err(|e| {
            tracing::error!(error = %e, "socket database read failed");
            Closing(Some((1011, "internal error")))
        })
    }

    async fn current_seq(&mut self) -> Result<i64, Closing> {
        self.read(|mut conn| async move { store::events::current_seq(&mut conn).await }).await
    }

    async fn send_event(&mut self, out: Outbound) -> Result<(), Closing> {
        if out.seq <= self.sent_through {
            return Ok(());
        }
        let committed_at = out.committed_at;
        self.send(Message::Text(out.text)).await?;
        let metrics = &self.state.hub.metrics;
        metrics.frames_sent.inc();
        let latency = (chrono::Utc::now() - committed_at).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6;
        metrics.delivery_latency.observe(latency);
        Ok(())
    }

    async fn send_control(&mut self, msg: ControlMessage) -> Result<(), Closing> {
        let text = serde_json::to_string(&ServerMessage::Control(msg)).unwrap_or_default();
        self.send(Message::Text(text.into())).await
    }

    async fn error(&mut self, code: SocketErrorCode, message: &str) -> Result<(), Closing> {
        self.send_control(ControlMessage::Error { code, message: message.to_owned() }).await
    }

    async fn send(&mut self, msg: Message) -> Result<(), Closing> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.socket.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Closing(None)),
            Err(_) => Err(Closing(None)),
        }
    }
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}
