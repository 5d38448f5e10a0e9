//! The client session: the real-time protocol, whatever carries it.
//!
//! A session is one authenticated client connection registered in the hub: it says hello,
//! serves `resume` (replay from the outbox, then live without a gap or a duplicate),
//! `subscribe` (authorized by [`service::subscriptions`]), `unsubscribe` and `ping`, limits the
//! client's message rate, and applies what the hub tells it about its user's rights. It never
//! touches a socket: it writes through a [`Transport`], and the transport's loop (`ws.rs`,
//! `sse.rs`) feeds it messages, queued events and revocations, and ends the connection with the
//! [`Disconnect`] a method returns.
//!
//! A transport that cannot carry client messages (SSE) opens a *listen-only* session: its
//! subscriptions and position come with the request, and a `resync_required` is followed at
//! once by going live from the current `seq` (the client reloads its data meanwhile, as a
//! socket client does before sending `resume` again).

use super::hub::{encode, order_owner, Backlog, ConnId, HubError, Outbound, Registration, Revocation};
use crate::auth::Session;
use crate::service;
use crate::state::AppState;
use crate::store;
use app::domain::Topic;
use app::protocol::{ClientMessage, ControlMessage, Disconnect, ServerMessage, SocketErrorCode};
use tokio_tungstenite::tungstenite::Utf8Bytes;
use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

/// Events replayed per database read during `resume`.
const REPLAY_PAGE: i64 = 500;
/// Client messages: a burst of this many, refilled at `RATE_PER_SEC`.
const RATE_BURST: f64 = 40.0;
const RATE_PER_SEC: f64 = 20.0;
/// How long a staff member's first connection waits for presence to record it.
const PRESENCE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// Messages refused for rate before the connection is closed.
const MAX_RATE_VIOLATIONS: u32 = 100;
/// A client that sends nothing this long after `hello` goes live from `hello`'s `seq`, as if it
/// had sent `resume` with `last_seq: null` (clients that only listen). A client that resumes
/// sends `resume` first, well within it, or names `last_seq` when connecting.
pub const LISTEN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Where a session's messages go: one text message at a time, in order.
pub trait Transport: Send {
    /// Sends one message; `Err` when the transport can no longer send.
    fn send_text(&mut self, text: Utf8Bytes) -> impl Future<Output = Result<(), Disconnect>> + Send;

    /// Sends a message after which the client is current through `seq` (an event, or
    /// `resumed`): a transport that tells clients their position (SSE's `id:`) does so here.
    fn send_at(&mut self, seq: i64, text: Utf8Bytes) -> impl Future<Output = Result<(), Disconnect>> + Send {
        let _ = seq;
        self.send_text(text)
    }
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

/// A `resume` given when connecting (`?last_seq=41&topics=catalog:1,order:7`), so that it is in
/// force before anything is sent, however late the client's own first message would come.
#[derive(Clone, Debug, Default)]
pub struct UrlResume {
    pub last_seq: Option<i64>,
    pub topics: Vec<Topic>,
}

/// The session's queue in the hub, read by the transport's loop.
pub struct Queue {
    rx: super::queue::Receiver,
    backlog: Arc<Backlog>,
    overflowed: Arc<AtomicBool>,
    /// Woken when the hub left a [`Revocation`] for this session.
    pub changed: Arc<Notify>,
}

impl Queue {
    /// The next queued event, or why there will be none.
    pub async fn next(&mut self) -> Result<Outbound, Disconnect> {
        match self.rx.recv().await {
            Some(out) => Ok(out),
            None if self.overflowed.load(Ordering::Acquire) => Err(Disconnect::SlowConsumer),
            None => Err(Disconnect::ShuttingDown),
        }
    }

    /// The transport is done with an event of `len` bytes (written, or skipped as sent).
    pub fn written(&self, len: usize) {
        self.backlog.written(len);
    }
}

pub struct ClientSession {
    state: AppState,
    auth: Session,
    id: ConnId,
    /// Events are held in the queue until the client's first message (so `resume` can replay
    /// before anything live is sent), or until [`LISTEN_GRACE`] has passed without one.
    live: bool,
    /// The client has sent a message.
    heard: bool,
    /// The `seq` the client was told in `hello`.
    hello_seq: i64,
    /// The session's queue as the hub measures it: a replay is progress too, so a long one does
    /// not make the live events queued meanwhile look stalled.
    backlog: Arc<Backlog>,
    /// Queued events at or below this were already sent by a replay.
    sent_through: i64,
    rate: RateLimit,
    /// The client cannot send messages (see the module's doc).
    listen_only: bool,
}

impl Drop for ClientSession {
    fn drop(&mut self) {
        self.state.hub.unregister(self.id);
    }
}

impl ClientSession {
    /// Registers the session in the hub with its user's automatic topics, says hello, and
    /// resumes as `resume_from` says if the client asked for it when connecting.
    pub async fn open(
        state: AppState,
        auth: Session,
        resume_from: Option<UrlResume>,
        out: &mut impl Transport,
    ) -> Result<(ClientSession, Queue), Disconnect> {
        Self::open_as(state, auth, resume_from, false, out).await
    }

    /// A listen-only session (see the module's doc): resumes as `resume_from` says, from now
    /// if it names no position, and is live when this returns.
    pub async fn open_listen_only(
        state: AppState,
        auth: Session,
        resume_from: UrlResume,
        out: &mut impl Transport,
    ) -> Result<(ClientSession, Queue), Disconnect> {
        Self::open_as(state, auth, Some(resume_from), true, out).await
    }

    async fn open_as(
        state: AppState,
        auth: Session,
        resume_from: Option<UrlResume>,
        listen_only: bool,
        out: &mut impl Transport,
    ) -> Result<(ClientSession, Queue), Disconnect> {
        let actor = Arc::new(auth.actor.clone());
        let topics = actor.automatic_topics();
        let session_key = auth.token_hash.as_deref().map(Arc::from);
        let Registration { id, rx, backlog, overflowed, changed, presence } = match state.hub.register(actor, session_key, &topics) {
            Ok(r) => r,
            Err(HubError::TooManyConnections(_)) => return Err(Disconnect::Policy("too many connections for this user")),
            Err(_) => return Err(Disconnect::Internal),
        };
        let mut session = ClientSession {
            state,
            auth,
            id,
            live: false,
            // A position named when connecting is the client speaking: no listen-only grace.
            heard: resume_from.is_some(),
            hello_seq: 0,
            backlog: backlog.clone(),
            sent_through: 0,
            rate: RateLimit::new(),
            listen_only,
        };
        // A staff member's first connection: once they have `hello`, their shop shows them
        // online. A slow database does not hold the connection up for long.
        if let Some(recorded) = presence {
            let _ = tokio::time::timeout(PRESENCE_WAIT, recorded).await;
        }
        // A sign-out or a change of rights committed between the upgrade's read and the
        // registration was applied by the hub before this connection could hear it: look again
        // now that it would. Rights read now are the latest; the hub brings this user's
        // connections up to them (a shop taken away meanwhile is not followed a moment longer).
        if let Some(hash) = session.auth.token_hash.clone() {
            let mut conn = session.state.db.read().await.map_err(internal)?;
            if store::sessions::live(&mut conn, &hash, chrono::Utc::now()).await.map_err(internal)?.is_none() {
                return Err(Disconnect::SessionEnded);
            }
            let user = store::users::get(&mut conn, session.auth.user.id).await.map_err(internal)?;
            match user.map(|u| u.actor()) {
                Some(now) if now == session.auth.actor => {}
                now => {
                    session.state.hub.update_user(session.auth.user.id, now);
                }
            }
        }
        let seq = session.current_seq().await?;
        session.hello_seq = seq;
        session.control(out, ControlMessage::Hello { user_id: session.auth.user.id, topics, seq }).await?;
        if let Some(UrlResume { last_seq, topics }) = resume_from {
            session.resume(out, last_seq, topics).await?;
        }
        Ok((session, Queue { rx, backlog, overflowed, changed }))
    }

    /// Whether queued events may be sent (the client has sent its first message).
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Whether the client has sent anything.
    pub fn has_heard(&self) -> bool {
        self.heard
    }

    /// A client that said nothing goes live from the `seq` it was told in `hello`: everything
    /// committed after it is queued for this session, and nothing up to it is sent.
    pub async fn go_live(&mut self, out: &mut impl Transport) -> Result<(), Disconnect> {
        self.live_from(out, self.hello_seq).await
    }

    /// Live from `seq`, with nothing replayed: an event up to it that reaches the queue late
    /// (another node's, relayed after the client was told `seq`) is one the client is current
    /// as of, and is not sent.
    async fn live_from(&mut self, out: &mut impl Transport, seq: i64) -> Result<(), Disconnect> {
        self.sent_through = self.sent_through.max(seq);
        self.live = true;
        self.resumed(out, seq, 0).await
    }

    /// Resolves when the sign-in expires (never, for a session without an end): the transport's
    /// loop then ends the connection with [`Disconnect::SessionEnded`].
    pub fn expiry(&self) -> impl Future<Output = ()> + Send + 'static {
        let left = self.auth.expires_at.map(|at| (at - chrono::Utc::now()).to_std().unwrap_or_default());
        async move {
            match left {
                Some(left) => tokio::time::sleep(left).await,
                None => std::future::pending().await,
            }
        }
    }

    /// A binary message: not understood.
    pub async fn on_binary(&mut self, out: &mut impl Transport) -> Result<(), Disconnect> {
        self.heard = true;
        self.error(out, SocketErrorCode::BinaryNotSupported, "send JSON text frames").await
    }

    /// A text message from the client.
    pub async fn on_text(&mut self, out: &mut impl Transport, text: &str) -> Result<(), Disconnect> {
        self.heard = true;
        if !self.rate.allow() {
            if self.rate.violations > MAX_RATE_VIOLATIONS {
                return Err(Disconnect::Policy("too many messages"));
            }
            return self.error(out, SocketErrorCode::RateLimited, "too many messages; slow down").await;
        }
        let msg: ClientMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => return self.error(out, SocketErrorCode::BadMessage, &format!("not a valid message: {e}")).await,
        };
        match msg {
            ClientMessage::Resume { last_seq, topics } => {
                if self.live {
                    return self
                        .error(out, SocketErrorCode::ResumeNotFirst, "resume must be the first message of a connection; reconnect to resume")
                        .await;
                }
                self.resume(out, last_seq, topics).await
            }
            other => {
                self.live = true;
                match other {
                    ClientMessage::Subscribe { topic } => self.subscribe(out, topic).await,
                    ClientMessage::Unsubscribe { topic } => {
                        let reason = (!self.state.hub.unsubscribe(self.id, topic)).then(|| "was not subscribed".to_owned());
                        self.control(out, ControlMessage::Unsubscribed { topic, reason }).await
                    }
                    ClientMessage::Ping { id } => self.control(out, ControlMessage::Pong { id }).await,
                    ClientMessage::Resume { .. } => Ok(()),
                }
            }
        }
    }

    /// A queued event: sent unless a replay already sent it.
    pub async fn on_event(&mut self, out: &mut impl Transport, event: Outbound) -> Result<(), Disconnect> {
        if event.seq <= self.sent_through {
            return Ok(());
        }
        let committed_at = event.committed_at;
        out.send_at(event.seq, event.text).await?;
        let metrics = &self.state.hub.metrics;
        metrics.frames_sent.inc();
        let latency = (chrono::Utc::now() - committed_at).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6;
        metrics.delivery_latency.observe(latency);
        Ok(())
    }

    /// The hub changed this session's rights: tell the client which subscriptions ended, or end
    /// the connection.
    pub async fn on_revocation(&mut self, out: &mut impl Transport) -> Result<(), Disconnect> {
        match self.state.hub.take_revocation(self.id) {
            None => Ok(()),
            Some(Revocation::End(why)) => Err(why),
            Some(Revocation::Rights { actor, removed, added }) => {
                self.auth.user.shop_ids = actor.shop_ids.clone();
                self.auth.actor = actor;
                for topic in removed {
                    self.control(out, ControlMessage::Unsubscribed { topic, reason: Some("access revoked".to_owned()) }).await?;
                }
                for topic in added {
                    self.control(out, ControlMessage::Subscribed { topic }).await?;
                }
                Ok(())
            }
        }
    }

    async fn subscribe(&mut self, out: &mut impl Transport, topic: Topic) -> Result<(), Disconnect> {
        let allowed = service::subscriptions::authorize_topic(&self.state.db, &self.auth.actor, topic).await.map_err(|e| {
            tracing::error!(error = ?e, "cannot authorize a subscription");
            Disconnect::Internal
        })?;
        if let Err(refusal) = allowed {
            return self.error(out, refusal.code, &refusal.message).await;
        }
        match self.state.hub.subscribe(self.id, topic) {
            Ok(_) => self.control(out, ControlMessage::Subscribed { topic }).await,
            Err(HubError::TooManySubscriptions(max)) => {
                self.error(out, SocketErrorCode::TooManySubscriptions, &format!("at most {max} subscriptions per connection")).await
            }
            Err(_) => Err(Disconnect::SlowConsumer),
        }
    }

    /// Subscribes to `topics`, replays every event after `last_seq` for this session's topics
    /// from the outbox, then goes live. Events queued meanwhile that the replay already sent
    /// are skipped, so nothing is missed and nothing is sent twice.
    async fn resume(&mut self, out: &mut impl Transport, last_seq: Option<i64>, mut topics: Vec<Topic>) -> Result<(), Disconnect> {
        topics.sort_unstable();
        topics.dedup();
        let max = self.state.hub.max_subscriptions();
        let asked = topics.iter().filter(|t| !self.auth.actor.is_automatic(**t)).count();
        if asked > max {
            // Refused as a whole: nothing subscribed, still not live; one answer, not one per topic.
            let message = format!("resume names {asked} topics; at most {max} subscriptions per connection");
            return self.error(out, SocketErrorCode::TooManySubscriptions, &message).await;
        }
        for topic in topics {
            self.subscribe(out, topic).await?;
        }
        let (horizon, current) = {
            let mut conn = self.state.db.read().await.map_err(internal)?;
            let horizon = store::events::horizon(&mut conn).await.map_err(internal)?;
            (horizon, store::events::current_seq(&mut conn).await.map_err(internal)?)
        };
        let Some(mut last) = last_seq else {
            return self.live_from(out, current).await;
        };
        if last < horizon || last > current {
            // Stay not-live: the client reloads over REST and sends `resume` again from there.
            // A listen-only client cannot: it reloads while the events after `current` come.
            self.control(out, ControlMessage::ResyncRequired { oldest_seq: horizon + 1, seq: current }).await?;
            if self.listen_only {
                return self.live_from(out, current).await;
            }
            return Ok(());
        }
        self.state.hub.metrics.replays.inc();
        // Rights changed meanwhile: apply them first, so the replay is judged by the rights the
        // hub delivers live events by (a shop gained before `current` is replayed too).
        Box::pin(self.on_revocation(out)).await?;
        let topics: HashSet<Topic> = self.state.hub.topics_of(self.id);
        let mut replayed = 0u64;
        // Up to `current` only: every event up to it is committed, and later ones are queued.
        while last < current {
            let page = store::events::since(&mut self.state.db.read().await.map_err(internal)?, last, REPLAY_PAGE)
                .await
                .map_err(internal)?;
            let Some(end) = page.last().map(|e| e.seq) else { break };
            for event in page.iter().take_while(|e| e.seq <= current) {
                let owner = order_owner(event);
                let via = event.topics.iter().copied().find(|t| topics.contains(t) && self.auth.actor.may_receive(*t, owner));
                if let Some(topic) = via {
                    out.send_at(event.seq, encode(event, topic).text).await?;
                    replayed += 1;
                }
            }
            self.backlog.written(0);
            last = end;
        }
        self.state.hub.metrics.replayed_events.inc_by(replayed);
        self.sent_through = current;
        self.live = true;
        self.resumed(out, current, replayed).await
    }

    /// Tells the client it is live and current through `seq`.
    async fn resumed(&mut self, out: &mut impl Transport, seq: i64, replayed: u64) -> Result<(), Disconnect> {
        let text = serde_json::to_string(&ServerMessage::Control(ControlMessage::Resumed { seq, replayed })).unwrap_or_default();
        out.send_at(seq, text.into()).await
    }

    async fn current_seq(&self) -> Result<i64, Disconnect> {
        let mut conn = self.state.db.read().await.map_err(internal)?;
        store::events::current_seq(&mut conn).await.map_err(internal)
    }

    async fn control(&mut self, out: &mut impl Transport, msg: ControlMessage) -> Result<(), Disconnect> {
        let text = serde_json::to_string(&ServerMessage::Control(msg)).unwrap_or_default();
        out.send_text(text.into()).await
    }

    async fn error(&mut self, out: &mut impl Transport, code: SocketErrorCode, message: &str) -> Result<(), Disconnect> {
        self.control(out, ControlMessage::Error { code, message: message.to_owned() }).await
    }
}

fn internal(e: sqlx::Error) -> Disconnect {
    tracing::error!(error = %e, "a session cannot read the database");
    Disconnect::Internal
}
