//! The hub: which connections are open, which topics each follows, and fan-out of events.
//!
//! The relay is the only caller of [`Hub::deliver`], and the outbox the only road in: events
//! fan out to subscribers, and internal events (a user's rights changed, a session ended) are
//! applied to this node's connections, so a change made through any node reaches every node.
//! Sessions register, subscribe and leave. Delivery never waits on a client: each connection
//! has a queue measured by its [`Backlog`], and a connection that holds more than
//! `queue_bytes` unwritten, or has written nothing of its backlog for `stall`, is dropped from
//! the hub (its task then closes with [`Disconnect::SlowConsumer`]); the client catches up with
//! `resume`. Slowness is judged by bytes and time rather than by a count of events, so that a
//! client that keeps reading on a busy machine is not mistaken for one that stopped.
//! A staff user's first and last connection on this node are reported to
//! [`presence`](super::presence), which counts them across nodes.

use super::metrics::Metrics;
use super::queue;
use crate::store::events::StoredEvent;
use app::domain::{Actor, EventType, Role, Topic};
use app::protocol::{Disconnect, ServerMessage};
use tokio_tungstenite::tungstenite::Utf8Bytes;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};

/// A staff user's connection count on this node went to or from zero.
#[derive(Debug)]
pub struct PresenceReport {
    pub user_id: i64,
    /// Fired once the count is recorded.
    pub done: oneshot::Sender<()>,
}

pub type ConnId = u64;

/// An encoded event on its way to one connection. The text is shared by all its recipients.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub seq: i64,
    pub text: Utf8Bytes,
    pub committed_at: DateTime<Utc>,
}

/// What a connection has queued and not yet written.
#[derive(Debug)]
pub struct Backlog {
    bytes: AtomicUsize,
    /// Milliseconds after `epoch` of the connection's last progress: its last write, or the
    /// moment its queue stopped being empty.
    progress_ms: AtomicU64,
    epoch: Instant,
}

impl Backlog {
    fn new(epoch: Instant) -> Self {
        Backlog { bytes: AtomicUsize::new(0), progress_ms: AtomicU64::new(0), epoch }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// An event of `len` bytes was queued. Returns whether the connection is now too slow.
    fn queued(&self, len: usize, limits: &HubLimits) -> bool {
        let before = self.bytes.fetch_add(len, Ordering::AcqRel);
        let now = self.now_ms();
        if before == 0 {
            self.progress_ms.store(now, Ordering::Release);
            return len > limits.queue_bytes;
        }
        let stalled = now.saturating_sub(self.progress_ms.load(Ordering::Acquire)) > limits.stall.as_millis() as u64;
        before + len > limits.queue_bytes || stalled
    }

    /// The connection wrote (or skipped) a queued event of `len` bytes.
    pub fn written(&self, len: usize) {
        self.progress_ms.store(self.now_ms(), Ordering::Release);
        let _ = self.bytes.fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| Some(b.saturating_sub(len)));
    }
}

struct Conn {
    actor: Arc<Actor>,
    /// The hash of the session's token, to end it on sign-out.
    session: Option<Arc<str>>,
    tx: queue::Sender,
    backlog: Arc<Backlog>,
    topics: HashSet<Topic>,
    overflowed: Arc<AtomicBool>,
    /// Woken when the user's rights changed; the task then takes its [`Revocation`].
    changed: Arc<Notify>,
}

/// What changed for a connection when its user's rights or session did.
#[derive(Debug)]
pub enum Revocation {
    /// New rights, the topics the connection no longer follows, and the automatic topics it
    /// gained (a shopkeeper given a shop follows it at once).
    Rights { actor: Actor, removed: Vec<Topic>, added: Vec<Topic> },
    /// The connection must end.
    End(Disconnect),
}

#[derive(Default)]
struct Inner {
    conns: HashMap<ConnId, Conn>,
    topics: HashMap<Topic, HashSet<ConnId>>,
    per_user: HashMap<i64, usize>,
    revocations: HashMap<ConnId, Revocation>,
}

/// What [`Hub::register`] gives a new connection.
pub struct Registration {
    pub id: ConnId,
    pub rx: queue::Receiver,
    pub backlog: Arc<Backlog>,
    /// Set when the hub dropped the connection because its queue was full.
    pub overflowed: Arc<AtomicBool>,
    /// See [`Revocation`].
    pub changed: Arc<Notify>,
    /// For a staff user's first connection on this node: resolves when presence recorded it.
    pub presence: Option<oneshot::Receiver<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("too many connections for this user (at most {0})")]
    TooManyConnections(usize),
    #[error("too many subscriptions on this connection (at most {0})")]
    TooManySubscriptions(usize),
    #[error("connection is closed")]
    Gone,
}

pub use app::api::WsStats;

pub struct HubLimits {
    /// Unwritten bytes a connection may hold before it counts as too slow.
    pub queue_bytes: usize,
    /// How long a connection may write nothing of its backlog before it counts as too slow.
    pub stall: Duration,
    pub max_connections_per_user: usize,
    pub max_subscriptions: usize,
}

pub struct Hub {
    inner: RwLock<Inner>,
    next_id: AtomicU64,
    /// The clock every [`Backlog`] counts from.
    epoch: Instant,
    limits: HubLimits,
    /// This node's name, for statistics.
    node: String,
    /// Staff users whose connection count on this node went to or from zero.
    presence: mpsc::UnboundedSender<PresenceReport>,
    /// Customers are reported to presence too (Web Push needs to know who is connected; see
    /// `crate::push`). Once set, it stays set: a reported user's rows must be reported away.
    everyone_present: AtomicBool,
    pub metrics: Metrics,
}

impl Hub {
    /// A hub, and the receiving end of its presence reports (for [`super::presence`]).
    pub fn new(limits: HubLimits, node: String, metrics: Metrics) -> (Self, mpsc::UnboundedReceiver<PresenceReport>) {
        let (presence, reports) = mpsc::unbounded_channel();
        (
            Hub {
                inner: RwLock::default(),
                next_id: AtomicU64::new(1),
                epoch: Instant::now(),
                limits,
                node,
                presence,
                everyone_present: AtomicBool::new(false),
                metrics,
            },
            reports,
        )
    }

    /// Tells presence that a staff user's count on this node went to or from zero (and a
    /// customer's, once [`Hub::track_presence_of_everyone`]). Returns, for staff, a receiver
    /// that resolves once presence has recorded it (their shop sees them online from `hello`).
    fn report_presence(&self, actor: &Actor) -> Option<oneshot::Receiver<()>> {
        let customer = actor.role == Role::Customer && self.everyone_present.load(Ordering::Acquire);
        if actor.role != Role::Shopkeeper && !customer {
            return None;
        }
        let (done, recorded) = oneshot::channel();
        // The receiver lives as long as the node; after shutdown there is nobody to tell.
        self.presence.send(PresenceReport { user_id: actor.user_id, done }).ok()?;
        (actor.role == Role::Shopkeeper).then_some(recorded)
    }

    /// From now on customers' connections are reported to presence as staff's are; the
    /// customers connected now are reported at once. Called by the push job while any device
    /// is subscribed; a customer's presence costs a database write per first and last
    /// connection on a node, which a deployment without pushes does not pay.
    pub fn track_presence_of_everyone(&self, on: bool) {
        if !on || self.everyone_present.swap(true, Ordering::AcqRel) {
            return;
        }
        let customers: Vec<i64> = {
            let inner = self.read();
            let mut users: Vec<i64> = inner.conns.values().filter(|c| c.actor.role == Role::Customer).map(|c| c.actor.user_id).collect();
            users.sort_unstable();
            users.dedup();
            users
        };
        for user_id in customers {
            let (done, _) = oneshot::channel();
            let _ = self.presence.send(PresenceReport { user_id, done });
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that matters
        // more than losing every connection would, so recover the guard.
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(&self, actor: Arc<Actor>, session: Option<Arc<str>>, topics: &[Topic]) -> Result<Registration, HubError> {
        let mut inner = self.write();
        let count = inner.per_user.get(&actor.user_id).copied().unwrap_or(0);
        if count >= self.limits.max_connections_per_user {
            return Err(HubError::TooManyConnections(self.limits.max_connections_per_user));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = queue::queue();
        let backlog = Arc::new(Backlog::new(self.epoch));
        let overflowed = Arc::new(AtomicBool::new(false));
        let changed = Arc::new(Notify::new());
        for topic in topics {
            inner.topics.entry(*topic).or_default().insert(id);
        }
        *inner.per_user.entry(actor.user_id).or_default() += 1;
        inner.conns.insert(
            id,
            Conn {
                actor: actor.clone(),
                session,
                tx,
                backlog: backlog.clone(),
                topics: topics.iter().copied().collect(),
                overflowed: overflowed.clone(),
                changed: changed.clone(),
            },
        );
        self.metrics.connections.inc();
        self.metrics.subscriptions.inc_by(topics.len() as i64);
        drop(inner);
        let presence = if count == 0 { self.report_presence(&actor) } else { None };
        Ok(Registration { id, rx, backlog, overflowed, changed, presence })
    }

    /// Removes a connection (nothing if the hub already dropped it).
    pub fn unregister(&self, id: ConnId) {
        let mut inner = self.write();
        if let Some((actor, true)) = Self::remove(&mut inner, &self.metrics, id) {
            drop(inner);
            let _ = self.report_presence(&actor);
        }
    }

    /// Takes a connection out of the maps. Returns its actor and whether it was the user's last.
    fn remove(inner: &mut Inner, metrics: &Metrics, id: ConnId) -> Option<(Arc<Actor>, bool)> {
        inner.revocations.remove(&id);
        let conn = inner.conns.remove(&id)?;
        for topic in &conn.topics {
            if let Some(set) = inner.topics.get_mut(topic) {
                set.remove(&id);
                if set.is_empty() {
                    inner.topics.remove(topic);
                }
            }
        }
        metrics.connections.dec();
        metrics.subscriptions.dec_by(conn.topics.len() as i64);
        let user_id = conn.actor.user_id;
        let last = match inner.per_user.get_mut(&user_id) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => {
                inner.per_user.remove(&user_id);
                true
            }
        };
        Some((conn.actor, last))
    }

    /// Subscriptions a connection may ask for, besides its automatic topics.
    pub fn max_subscriptions(&self) -> usize {
        self.limits.max_subscriptions
    }

    /// Adds a topic. `Ok(false)` if the connection already followed it.
    pub fn subscribe(&self, id: ConnId, topic: Topic) -> Result<bool, HubError> {
        let mut inner = self.write();
        let max = self.limits.max_subscriptions;
        let conn = inner.conns.get_mut(&id).ok_or(HubError::Gone)?;
        if conn.topics.contains(&topic) {
            return Ok(false);
        }
        // The automatic topics (the user's own, a shopkeeper's shops) are not counted.
        if conn.topics.iter().filter(|t| !conn.actor.is_automatic(**t)).count() >= max {
            return Err(HubError::TooManySubscriptions(max));
        }
        conn.topics.insert(topic);
        inner.topics.entry(topic).or_default().insert(id);
        self.metrics.subscriptions.inc();
        Ok(true)
    }

    /// Removes a topic. `false` if the connection did not follow it.
    pub fn unsubscribe(&self, id: ConnId, topic: Topic) -> bool {
        let mut inner = self.write();
        let Some(conn) = inner.conns.get_mut(&id) else { return false };
        if !conn.topics.remove(&topic) {
            return false;
        }
        if let Some(set) = inner.topics.get_mut(&topic) {
            set.remove(&id);
            if set.is_empty() {
                inner.topics.remove(&topic);
            }
        }
        self.metrics.subscriptions.dec();
        true
    }

    /// Applies a change of a user's rights to their open connections: topics they may no
    /// longer follow are dropped, a disabled user's connections end, and each connection's task
    /// is woken to tell its client. Returns how many connections were affected.
    pub(crate) fn update_user(&self, user_id: i64, actor: Option<Actor>) -> usize {
        let mut inner = self.write();
        let ids: Vec<ConnId> = inner.conns.iter().filter(|(_, c)| c.actor.user_id == user_id).map(|(id, _)| *id).collect();
        for &id in &ids {
            let Some(conn) = inner.conns.get_mut(&id) else { continue };
            // Order topics are checked per event at delivery; the rest can be judged now.
            let removed: Vec<Topic> = conn
                .topics
                .iter()
                .copied()
                .filter(|t| match &actor {
                    None => true,
                    Some(a) => !matches!(t, Topic::Order(_)) && !a.may_receive(*t, None),
                })
                .collect();
            for t in &removed {
                conn.topics.remove(t);
            }
            // Automatic topics the new rights bring (a shop given to a shopkeeper) are followed
            // from this event on, like those of a new connection.
            let added: Vec<Topic> = match &actor {
                Some(a) => a.automatic_topics().into_iter().filter(|t| conn.topics.insert(*t)).collect(),
                None => Vec::new(),
            };
            if let Some(a) = &actor {
                conn.actor = Arc::new(a.clone());
            }
            conn.changed.notify_one();
            for t in &removed {
                if let Some(set) = inner.topics.get_mut(t) {
                    set.remove(&id);
                    if set.is_empty() {
                        inner.topics.remove(t);
                    }
                }
            }
            for t in &added {
                inner.topics.entry(*t).or_default().insert(id);
            }
            self.metrics.subscriptions.inc_by(added.len() as i64);
            self.metrics.subscriptions.dec_by(removed.len() as i64);
            let revocation = match &actor {
                Some(actor) => Revocation::Rights { actor: actor.clone(), removed, added },
                None => Revocation::End(Disconnect::Disabled),
            };
            Self::leave(&mut inner, id, revocation);
        }
        ids.len()
    }

    /// Leaves a revocation for a connection's task, combined with one it has not taken yet: an
    /// end is never replaced, and successive rights changes keep every topic removed.
    fn leave(inner: &mut Inner, id: ConnId, new: Revocation) {
        let combined = match (inner.revocations.remove(&id), new) {
            (Some(Revocation::End(why)), _) => Revocation::End(why),
            (
                Some(Revocation::Rights { removed: mut earlier_removed, added: mut earlier_added, .. }),
                Revocation::Rights { actor, removed, added },
            ) => {
                // A topic gained then lost again (or the reverse) is reported by its last change.
                earlier_added.retain(|t| !removed.contains(t));
                earlier_removed.retain(|t| !added.contains(t));
                earlier_removed.extend(removed);
                earlier_added.extend(added);
                Revocation::Rights { actor, removed: earlier_removed, added: earlier_added }
            }
            (_, new) => new,
        };
        inner.revocations.insert(id, combined);
    }

    /// Ends the connections of a session (signed out).
    fn end_session(&self, session: &str) -> usize {
        let mut inner = self.write();
        let ids: Vec<ConnId> =
            inner.conns.iter().filter(|(_, c)| c.session.as_deref() == Some(session)).map(|(id, _)| *id).collect();
        for &id in &ids {
            if let Some(conn) = inner.conns.get(&id) {
                conn.changed.notify_one();
            }
            Self::leave(&mut inner, id, Revocation::End(Disconnect::SessionEnded));
        }
        ids.len()
    }

    /// Applies an internal event to this node's connections.
    fn apply(&self, event: &StoredEvent) {
        #[derive(serde::Deserialize)]
        struct Access {
            user_id: i64,
            actor: Option<Actor>,
        }
        #[derive(serde::Deserialize)]
        struct Ended {
            session: String,
        }
        let applied = match event.event_type {
            EventType::AccessChanged => serde_json::from_value::<Access>(event.payload.clone())
                .map(|a| self.update_user(a.user_id, a.actor)),
            EventType::SessionEnded => serde_json::from_value::<Ended>(event.payload.clone()).map(|e| self.end_session(&e.session)),
            _ => Ok(0),
        };
        match applied {
            Ok(sockets) => tracing::debug!(seq = event.seq, kind = event.event_type.as_str(), sockets, "applied"),
            Err(e) => tracing::error!(seq = event.seq, error = %e, "malformed internal event ignored"),
        }
    }

    /// The change an internal event left for this connection, if any.
    pub fn take_revocation(&self, id: ConnId) -> Option<Revocation> {
        self.write().revocations.remove(&id)
    }

    pub fn connections_of(&self, user_id: i64) -> usize {
        self.read().per_user.get(&user_id).copied().unwrap_or(0)
    }

    pub fn topics_of(&self, id: ConnId) -> HashSet<Topic> {
        self.read().conns.get(&id).map(|c| c.topics.clone()).unwrap_or_default()
    }

    /// Sends an event to every connection that follows one of its topics and may receive it,
    /// at most once per connection.
    pub fn deliver(&self, event: &StoredEvent) {
        self.metrics.events_published.inc();
        if event.event_type.is_internal() {
            return self.apply(event);
        }
        let owner = order_owner(event);
        let mut slow = Vec::new();
        {
            let inner = self.read();
            let mut sent: HashSet<ConnId> = HashSet::new();
            for &topic in &event.topics {
                let Some(subscribers) = inner.topics.get(&topic) else { continue };
                let mut frame: Option<Outbound> = None;
                for &id in subscribers {
                    let Some(conn) = inner.conns.get(&id) else { continue };
                    if sent.contains(&id) || !conn.actor.may_receive(topic, owner) {
                        continue;
                    }
                    sent.insert(id);
                    let out = frame.get_or_insert_with(|| encode(event, topic)).clone();
                    if conn.backlog.queued(out.text.len(), &self.limits) {
                        slow.push(id);
                    } else {
                        conn.tx.send(out);
                    }
                }
            }
        }
        if !slow.is_empty() {
            let mut gone_last = Vec::new();
            let mut inner = self.write();
            for id in slow {
                let Some(conn) = inner.conns.get(&id) else { continue };
                conn.overflowed.store(true, Ordering::Release);
                // Wake its task: a session that is not live yet does not read its queue, and
                // would never see that the queue ended.
                conn.changed.notify_one();
                // Dropping the sender ends the connection's queue; its task sees why in `overflowed`.
                if let Some((actor, last)) = Self::remove(&mut inner, &self.metrics, id) {
                    self.metrics.slow_client_closes.inc();
                    if last {
                        gone_last.push(actor);
                    }
                }
                Self::leave(&mut inner, id, Revocation::End(Disconnect::SlowConsumer));
            }
            drop(inner);
            for actor in gone_last {
                let _ = self.report_presence(&actor);
            }
        }
    }

    pub fn stats(&self) -> WsStats {
        let inner = self.read();
        WsStats {
            node: self.node.clone(),
            connections: inner.conns.len(),
            unique_users: inner.per_user.len(),
            topics: inner.topics.iter().map(|(t, set)| (t.to_string(), set.len())).collect(),
        }
    }
}

/// The (customer, shop) of the order an event is about, from its payload.
pub fn order_owner(event: &StoredEvent) -> Option<(i64, i64)> {
    let order = event.payload.get("order")?;
    Some((order.get("customer_id")?.as_i64()?, order.get("shop_id")?.as_i64()?))
}

/// The frame of `event` as received through `topic`.
pub fn encode(event: &StoredEvent, topic: Topic) -> Outbound {
    let envelope = ServerMessage::Event(event.envelope(topic));
    // Serialising a Value-backed envelope cannot fail.
    let text = serde_json::to_string(&envelope).unwrap_or_default();
    Outbound { seq: event.seq, text: text.into(), committed_at: event.created_at }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hub() -> (Hub, mpsc::UnboundedReceiver<PresenceReport>) {
        // Room for two queued order events (each well over 100 bytes encoded), never stalled.
        hub_with(350, Duration::from_secs(3600))
    }

    fn hub_with(queue_bytes: usize, stall: Duration) -> (Hub, mpsc::UnboundedReceiver<PresenceReport>) {
        let limits = HubLimits { queue_bytes, stall, max_connections_per_user: 3, max_subscriptions: 4 };
        Hub::new(limits, "test".into(), Metrics::new("test", "sqlite"))
    }

    fn actor(user_id: i64, role: Role, shop_ids: Vec<i64>) -> Arc<Actor> {
        Arc::new(Actor { user_id, role, shop_ids })
    }

    fn register(hub: &Hub, a: &Arc<Actor>, session: Option<&str>) -> Registration {
        hub.register(a.clone(), session.map(Arc::from), &a.automatic_topics()).expect("register")
    }

    fn order_event(seq: i64, order: i64, customer: i64, shop: i64) -> StoredEvent {
        StoredEvent {
            seq,
            event_type: EventType::OrderUpdated,
            topics: Topic::for_order(order, customer, shop),
            payload: json!({ "order": { "id": order, "customer_id": customer, "shop_id": shop } }),
            created_at: chrono::Utc::now(),
        }
    }

    fn internal(seq: i64, event_type: EventType, payload: serde_json::Value) -> StoredEvent {
        StoredEvent { seq, event_type, topics: vec![], payload, created_at: chrono::Utc::now() }
    }

    #[test]
    fn an_event_reaches_each_allowed_connection_once() {
        let (hub, _) = hub();
        let alice = actor(1, Role::Customer, vec![]);
        let bob = actor(2, Role::Customer, vec![]);
        let baker = actor(3, Role::Shopkeeper, vec![10]);
        let admin = actor(4, Role::Admin, vec![]);
        let mut a = register(&hub, &alice, None);
        let mut b = register(&hub, &bob, None);
        let mut k = register(&hub, &baker, None);
        let mut m = register(&hub, &admin, None);
        // Bob follows Alice's order: the hub asks again at delivery and says no.
        hub.subscribe(b.id, Topic::Order(7)).expect("subscribe");
        // Alice follows her own order too: still one frame (user:1 and order:7 both match).
        hub.subscribe(a.id, Topic::Order(7)).expect("subscribe");
        hub.deliver(&order_event(1, 7, 1, 10));
        for r in [&mut a, &mut k, &mut m] {
            assert_eq!(r.rx.try_recv().expect("one frame").seq, 1);
            assert!(r.rx.try_recv().is_none(), "exactly one");
        }
        assert!(b.rx.try_recv().is_none(), "another customer's order");
    }

    #[test]
    fn the_queue_limit_is_in_bytes() {
        let one = encode(&order_event(1, 7, 1, 10), Topic::User(1)).text.len();
        assert!(one > 110 && 3 * one > 350 && 2 * one <= 350, "the test hub holds two events of {one} bytes");
    }

    #[test]
    fn a_connection_that_writes_nothing_for_the_stall_time_is_dropped_and_a_reading_one_is_not() {
        // Any backlog left unwritten is stalled at once.
        let (hub, _) = hub_with(1 << 20, Duration::ZERO);
        let alice = actor(1, Role::Customer, vec![]);
        let stuck = register(&hub, &alice, None);
        let mut reading = register(&hub, &alice, None);
        for seq in 1..=3 {
            hub.deliver(&order_event(seq, 7, 1, 10));
            let out = reading.rx.try_recv().expect("frame");
            reading.backlog.written(out.text.len());
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(stuck.overflowed.load(Ordering::Acquire), "the stuck connection is dropped");
        assert!(!reading.overflowed.load(Ordering::Acquire), "the reading one stays");
        assert_eq!(hub.stats().connections, 1);
    }

    #[test]
    fn a_shopkeeper_given_a_shop_follows_it_at_once() {
        let (hub, _) = hub();
        let baker = actor(3, Role::Shopkeeper, vec![10]);
        let mut open = register(&hub, &baker, None);
        let wider = Actor { user_id: 3, role: Role::Shopkeeper, shop_ids: vec![10, 11] };
        hub.deliver(&internal(1, EventType::AccessChanged, json!({ "user_id": 3, "actor": wider })));
        match hub.take_revocation(open.id) {
            Some(Revocation::Rights { removed, added, .. }) => assert_eq!((removed, added), (vec![], vec![Topic::Shop(11)])),
            other => panic!("expected new rights, got {other:?}"),
        }
        hub.deliver(&order_event(2, 8, 1, 11));
        assert_eq!(open.rx.try_recv().expect("the new shop's order").seq, 2);
    }

    #[test]
    fn automatic_topics_do_not_count_against_the_subscription_limit() {
        let (hub, _) = hub();
        let baker = actor(3, Role::Shopkeeper, vec![10, 11, 12]);
        let r = register(&hub, &baker, None);
        for order in 1..=4 {
            assert!(hub.subscribe(r.id, Topic::Order(order)).expect("within the limit"));
        }
        assert!(matches!(hub.subscribe(r.id, Topic::Order(5)), Err(HubError::TooManySubscriptions(4))));
    }

    #[test]
    fn a_connection_dropped_as_slow_is_told_to_end_even_if_it_does_not_read_its_queue() {
        let (hub, _) = hub();
        let alice = actor(1, Role::Customer, vec![]);
        let waiting = register(&hub, &alice, None);
        for seq in 1..=3 {
            hub.deliver(&order_event(seq, 7, 1, 10));
        }
        assert!(matches!(hub.take_revocation(waiting.id), Some(Revocation::End(Disconnect::SlowConsumer))));
        hub.unregister(waiting.id);
        assert!(hub.take_revocation(waiting.id).is_none(), "nothing left behind");
    }

    #[test]
    fn a_full_queue_drops_only_that_connection() {
        let (hub, _) = hub();
        let alice = actor(1, Role::Customer, vec![]);
        let slow = register(&hub, &alice, None);
        let mut fast = register(&hub, &alice, None);
        for seq in 1..=3 {
            hub.deliver(&order_event(seq, 7, 1, 10));
            let out = fast.rx.try_recv().expect("frame");
            assert_eq!(out.seq, seq);
            fast.backlog.written(out.text.len());
        }
        assert!(slow.overflowed.load(Ordering::Acquire));
        assert_eq!(hub.stats().connections, 1);
        assert_eq!(hub.connections_of(1), 1);
    }

    #[test]
    fn rights_changes_and_sign_outs_arrive_as_internal_events() {
        let (hub, _) = hub();
        let baker = actor(3, Role::Shopkeeper, vec![10, 11]);
        let one = register(&hub, &baker, Some("session-1"));
        let two = register(&hub, &baker, Some("session-2"));

        let narrowed = Actor { user_id: 3, role: Role::Shopkeeper, shop_ids: vec![11] };
        hub.deliver(&internal(1, EventType::AccessChanged, json!({ "user_id": 3, "actor": narrowed })));
        for r in [&one, &two] {
            match hub.take_revocation(r.id) {
                Some(Revocation::Rights { actor, removed, added }) => {
                    assert_eq!(actor.shop_ids, vec![11]);
                    assert_eq!(removed, vec![Topic::Shop(10)]);
                    assert!(added.is_empty());
                }
                other => panic!("expected new rights, got {other:?}"),
            }
            assert!(!hub.topics_of(r.id).contains(&Topic::Shop(10)));
        }

        hub.deliver(&internal(2, EventType::SessionEnded, json!({ "user_id": 3, "session": "session-1" })));
        assert!(matches!(hub.take_revocation(one.id), Some(Revocation::End(Disconnect::SessionEnded))));
        assert!(hub.take_revocation(two.id).is_none(), "the other session stays");

        hub.deliver(&internal(3, EventType::AccessChanged, json!({ "user_id": 3, "actor": null })));
        assert!(matches!(hub.take_revocation(two.id), Some(Revocation::End(Disconnect::Disabled))));
        // A malformed internal event changes nothing and does not panic.
        hub.deliver(&internal(4, EventType::AccessChanged, json!({ "nope": true })));
        assert!(hub.take_revocation(two.id).is_none());
    }

    #[test]
    fn a_staff_members_last_connection_dropped_as_slow_is_reported_to_presence() {
        let (hub, mut reports) = hub();
        let baker = actor(3, Role::Shopkeeper, vec![10]);
        let slow = register(&hub, &baker, None);
        assert_eq!(reports.try_recv().expect("first").user_id, 3);
        for seq in 1..=3 {
            hub.deliver(&order_event(seq, 7, 1, 10));
        }
        assert!(slow.overflowed.load(Ordering::Acquire));
        assert_eq!(reports.try_recv().expect("gone").user_id, 3);
        assert_eq!(hub.connections_of(3), 0);
    }

    #[test]
    fn an_end_is_never_replaced_and_rights_changes_add_up() {
        let (hub, _) = hub();
        let baker = actor(3, Role::Shopkeeper, vec![10, 11, 12]);
        let signed_out = register(&hub, &baker, Some("gone"));
        let other = register(&hub, &baker, Some("stays"));
        // Both arrive in one relay read, before either task runs.
        hub.deliver(&internal(1, EventType::SessionEnded, json!({ "user_id": 3, "session": "gone" })));
        let fewer = Actor { user_id: 3, role: Role::Shopkeeper, shop_ids: vec![11, 12] };
        hub.deliver(&internal(2, EventType::AccessChanged, json!({ "user_id": 3, "actor": fewer })));
        let fewest = Actor { user_id: 3, role: Role::Shopkeeper, shop_ids: vec![12] };
        hub.deliver(&internal(3, EventType::AccessChanged, json!({ "user_id": 3, "actor": fewest })));
        assert!(matches!(hub.take_revocation(signed_out.id), Some(Revocation::End(Disconnect::SessionEnded))));
        match hub.take_revocation(other.id) {
            Some(Revocation::Rights { actor, mut removed, .. }) => {
                removed.sort();
                assert_eq!((actor.shop_ids, removed), (vec![12], vec![Topic::Shop(10), Topic::Shop(11)]));
            }
            other => panic!("expected merged rights, got {other:?}"),
        }
    }

    #[test]
    fn presence_hears_of_a_staff_members_first_and_last_connection_only() {
        let (hub, mut reports) = hub();
        let baker = actor(3, Role::Shopkeeper, vec![10]);
        let alice = actor(1, Role::Customer, vec![]);
        let first = register(&hub, &baker, None);
        let second = register(&hub, &baker, None);
        register(&hub, &alice, None);
        assert_eq!(reports.try_recv().expect("first").user_id, 3);
        assert!(reports.try_recv().is_err(), "neither the second connection nor a customer");
        hub.unregister(first.id);
        assert!(reports.try_recv().is_err());
        hub.unregister(second.id);
        assert_eq!(reports.try_recv().expect("last").user_id, 3);
    }

    #[test]
    fn once_pushes_need_it_customers_are_reported_too_those_connected_at_once() {
        let (hub, mut reports) = hub();
        let alice = actor(1, Role::Customer, vec![]);
        let bob = actor(2, Role::Customer, vec![]);
        let admin = actor(9, Role::Admin, vec![]);
        let alice_first = register(&hub, &alice, None);
        register(&hub, &alice, None);
        register(&hub, &admin, None);
        assert!(reports.try_recv().is_err());
        hub.track_presence_of_everyone(true);
        assert_eq!(reports.try_recv().expect("alice, connected already").user_id, 1);
        assert!(reports.try_recv().is_err(), "once per customer; admins get no pushes");
        let bob_only = register(&hub, &bob, None);
        assert!(bob_only.presence.is_none(), "a customer's connection does not wait for presence");
        assert_eq!(reports.try_recv().expect("bob's first").user_id, 2);
        hub.unregister(alice_first.id);
        assert!(reports.try_recv().is_err(), "alice still has a connection");
        hub.track_presence_of_everyone(false);
        hub.unregister(bob_only.id);
        assert_eq!(reports.try_recv().expect("bob's last, reported although pushes may have stopped").user_id, 2);
    }

    mod props {
        //! The hub against any sequence of what sessions and the relay do: its maps stay
        //! consistent with each other and with its metrics, and an event reaches only
        //! connections allowed it, at most once each.
        use super::*;
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Op {
            Register(usize),
            Unregister(usize),
            Subscribe(usize, Topic),
            Unsubscribe(usize, Topic),
            /// The shopkeeper's shops change (`None`: disabled).
            Rights(Option<Vec<i64>>),
            Deliver { order: i64, customer: i64, shop: i64 },
        }

        fn users() -> [Arc<Actor>; 4] {
            [actor(1, Role::Customer, vec![]), actor(2, Role::Customer, vec![]), actor(3, Role::Shopkeeper, vec![10]), actor(4, Role::Admin, vec![])]
        }

        fn topic() -> impl Strategy<Value = Topic> {
            prop_oneof![
                (1i64..4).prop_map(Topic::User),
                (10i64..13).prop_map(Topic::Shop),
                (1i64..4).prop_map(Topic::Order),
                (10i64..13).prop_map(Topic::Catalog),
                Just(Topic::Admin),
                Just(Topic::Broadcast),
            ]
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                (0usize..4).prop_map(Op::Register),
                (0usize..8).prop_map(Op::Unregister),
                ((0usize..8), topic()).prop_map(|(c, t)| Op::Subscribe(c, t)),
                ((0usize..8), topic()).prop_map(|(c, t)| Op::Unsubscribe(c, t)),
                prop::option::of(prop::sample::subsequence(vec![10i64, 11, 12], 0..3)).prop_map(Op::Rights),
                ((1i64..4), (1i64..3), (10i64..13)).prop_map(|(order, customer, shop)| Op::Deliver { order, customer, shop }),
            ]
        }

        fn check(hub: &Hub) -> Result<(), TestCaseError> {
            let inner = hub.read();
            let mut per_user: HashMap<i64, usize> = HashMap::new();
            let mut subscriptions = 0;
            for (id, conn) in &inner.conns {
                *per_user.entry(conn.actor.user_id).or_default() += 1;
                subscriptions += conn.topics.len();
                for t in &conn.topics {
                    prop_assert!(inner.topics.get(t).is_some_and(|set| set.contains(id)), "{t} of {id} missing from the index");
                }
                let automatic = conn.actor.automatic_topics();
                let asked = conn.topics.iter().filter(|t| !automatic.contains(t)).count();
                prop_assert!(asked <= hub.limits.max_subscriptions);
            }
            for (t, set) in &inner.topics {
                prop_assert!(!set.is_empty(), "an empty entry for {t}");
                for id in set {
                    prop_assert!(inner.conns.get(id).is_some_and(|c| c.topics.contains(t)), "{id} indexed under {t} it does not follow");
                }
            }
            prop_assert_eq!(&per_user, &inner.per_user);
            prop_assert_eq!(hub.metrics.connections.get(), inner.conns.len() as i64);
            prop_assert_eq!(hub.metrics.subscriptions.get(), subscriptions as i64);
            Ok(())
        }

        proptest! {
            #[test]
            fn any_sequence_keeps_the_hub_consistent_and_delivery_authorized(ops in prop::collection::vec(op(), 1..60)) {
                let (hub, _reports) = hub_with(1 << 20, Duration::from_secs(3600));
                let users = users();
                // Open connections: (registration, whose).
                let mut open: Vec<(Registration, usize)> = Vec::new();
                let mut seq = 0;
                for op in ops {
                    match op {
                        Op::Register(u) => {
                            if let Ok(r) = hub.register(users[u].clone(), None, &users[u].automatic_topics()) {
                                open.push((r, u));
                            }
                        }
                        Op::Unregister(i) if i < open.len() => {
                            let (r, _) = open.remove(i);
                            hub.unregister(r.id);
                        }
                        Op::Subscribe(i, t) if i < open.len() => {
                            let _ = hub.subscribe(open[i].0.id, t);
                        }
                        Op::Unsubscribe(i, t) if i < open.len() => {
                            hub.unsubscribe(open[i].0.id, t);
                        }
                        Op::Rights(shops) => {
                            seq += 1;
                            let actor = shops.map(|shop_ids| Actor { user_id: 3, role: Role::Shopkeeper, shop_ids });
                            hub.deliver(&internal(seq, EventType::AccessChanged, json!({ "user_id": 3, "actor": actor })));
                        }
                        Op::Deliver { order, customer, shop } => {
                            seq += 1;
                            hub.deliver(&order_event(seq, order, customer, shop));
                            let owner = Some((customer, shop));
                            for (r, _) in open.iter_mut() {
                                let mut got = 0;
                                while let Some(out) = r.rx.try_recv() {
                                    prop_assert_eq!(out.seq, seq);
                                    r.backlog.written(out.text.len());
                                    got += 1;
                                }
                                prop_assert!(got <= 1, "an event reached a connection {} times", got);
                                if got == 1 {
                                    // Allowed through one of the topics it follows, under its current rights.
                                    let inner = hub.read();
                                    let conn = inner.conns.get(&r.id);
                                    let allowed = conn.is_some_and(|c| {
                                        Topic::for_order(order, customer, shop).iter().any(|t| c.topics.contains(t) && c.actor.may_receive(*t, owner))
                                    });
                                    prop_assert!(allowed, "connection {} got an event it may not see", r.id);
                                }
                            }
                        }
                        _ => {}
                    }
                    check(&hub)?;
                }
            }
        }
    }
}
