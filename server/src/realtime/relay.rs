//! The outbox relay, one on every node: reads the outbox in `seq` order and hands each event
//! to this node's hub. Being the only road into the hub is what makes delivery ordered and
//! gap-free however writers on any node interleave.
//!
//! It reads after the last `seq` it delivered when woken: by a commit on this node (the
//! [`Bus`]), by a `NOTIFY` from another node (PostgreSQL), when the listener's connection was
//! lost and is back (a notification may have been lost with it), and once a second whatever
//! happens. It delivers only the contiguous prefix of what it reads: `seq` is gapless (see
//! [`Tx::commit`](crate::db::Tx::commit)), so a hole is a transaction still committing, and the
//! relay reads again shortly instead of skipping it.
//!
//! [`supervise`] restarts the relay if it stops, from the last `seq` it delivered.

use super::{bus, Bus, Hub};
use crate::board_cache::BoardCache;
use crate::session_cache::SessionCache;
use crate::db::Db;
use crate::store;
use sqlx::postgres::PgListener;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const BATCH: i64 = 512;
/// How often the relay reads the outbox even when nobody woke it.
const TICK: Duration = Duration::from_secs(1);
/// How soon the relay reads again after finding a hole.
const HOLE_RETRY: Duration = Duration::from_millis(5);
/// A hole older than this is checked against the pruning horizon and reported.
const HOLE_REPORT: Duration = Duration::from_secs(5);

/// The in-memory copies of what events change: the relay updates them before the hub
/// delivers each event, so a request made after a page heard of a change is not answered
/// from before it.
#[derive(Clone)]
pub struct Caches {
    pub sessions: Arc<SessionCache>,
    pub boards: Arc<BoardCache>,
}

impl Caches {
    fn apply(&self, event: &store::events::StoredEvent) {
        self.sessions.apply(event);
        self.boards.apply(event);
    }
}

/// Runs the relay until `shutdown`, restarting it if it panics or stops. `start` is the
/// newest `seq` when the node started, read before it accepts requests: older events reach
/// clients only through `resume`.
pub async fn supervise(db: Db, bus: Bus, hub: Arc<Hub>, caches: Caches, shutdown: CancellationToken, start: i64) {
    let delivered = Arc::new(AtomicI64::new(start));
    caches.boards.relayed(start);
    let wake = Arc::new(Notify::new());
    if let Some(pool) = db.postgres() {
        tokio::spawn(listen(pool.clone(), wake.clone(), shutdown.clone()));
    }
    loop {
        hub.metrics.relay_up.set(1);
        let task = tokio::spawn(run(db.clone(), bus.clone(), wake.clone(), hub.clone(), caches.clone(), shutdown.clone(), delivered.clone()));
        let outcome = task.await;
        hub.metrics.relay_up.set(0);
        if shutdown.is_cancelled() {
            return;
        }
        let after = delivered.load(Ordering::Acquire);
        match outcome {
            Ok(()) => tracing::error!(after, "the outbox relay stopped; restarting it"),
            Err(e) => tracing::error!(after, error = %e, "the outbox relay failed; restarting it"),
        }
        hub.metrics.relay_restarts.inc();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Turns `NOTIFY`s from other nodes into wake-ups. When the listener's connection is lost
/// (`try_recv` answers `None`) or fails, it wakes the relay too: notifications sent meanwhile
/// are gone, the outbox is not.
async fn listen(pool: sqlx::PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    let mut listener: Option<PgListener> = None;
    loop {
        let step = async {
            let l = match listener.as_mut() {
                Some(l) => l,
                None => {
                    let mut l = PgListener::connect_with(&pool).await?;
                    l.listen(bus::CHANNEL).await?;
                    tracing::info!("listening for other nodes' commits");
                    wake.notify_one();
                    listener.insert(l)
                }
            };
            match l.try_recv().await? {
                Some(_) => {}
                None => tracing::warn!("lost the listener's connection; reconnecting"),
            }
            wake.notify_one();
            Ok::<_, sqlx::Error>(())
        };
        let result = tokio::select! {
            r = step => r,
            _ = shutdown.cancelled() => return,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "the listener failed; retrying in a second");
            listener = None;
            wake.notify_one();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

async fn run(db: Db, bus: Bus, wake: Arc<Notify>, hub: Arc<Hub>, caches: Caches, shutdown: CancellationToken, delivered: Arc<AtomicI64>) {
    let mut last = delivered.load(Ordering::Acquire);
    let mut tick = tokio::time::interval(TICK);
    let mut hole_since: Option<Instant> = None;
    loop {
        match deliver(&db, &hub, &caches, &mut last).await {
            Ok(Read::UpToDate) => hole_since = None,
            Ok(Read::Hole) => {
                let since = *hole_since.get_or_insert_with(Instant::now);
                hub.metrics.relay_holes.inc();
                if since.elapsed() >= HOLE_REPORT {
                    let before = last;
                    skip_pruned(&db, &mut last).await;
                    if last != before {
                        caches.boards.skipped(last);
                    }
                    hole_since = Some(Instant::now());
                }
                delivered.store(last, Ordering::Release);
                tokio::select! {
                    _ = tokio::time::sleep(HOLE_RETRY) => continue,
                    _ = shutdown.cancelled() => return,
                }
            }
            Err(e) => {
                tracing::error!(error = %e, after = last, "the relay cannot read the outbox; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
                    _ = shutdown.cancelled() => return,
                }
            }
        }
        delivered.store(last, Ordering::Release);
        tokio::select! {
            _ = bus.wait() => {}
            _ = wake.notified() => {}
            _ = tick.tick() => update_lag(&db, &hub, last).await,
            _ = shutdown.cancelled() => return,
        }
    }
}

enum Read {
    /// Everything committed so far was delivered.
    UpToDate,
    /// The next `seq` is missing while later ones are there.
    Hole,
}

/// Delivers every event after `last` that follows it without a gap.
async fn deliver(db: &Db, hub: &Hub, caches: &Caches, last: &mut i64) -> sqlx::Result<Read> {
    loop {
        let events = store::events::since(&mut db.read().await?, *last, BATCH).await?;
        for event in &events {
            if event.seq != *last + 1 {
                return Ok(Read::Hole);
            }
            // Caches first: a request made after the hub ended a socket must not find its
            // session, nor one made after a page heard of a change the board from before it.
            caches.apply(event);
            hub.deliver(event);
            *last = event.seq;
        }
        if (events.len() as i64) < BATCH {
            return Ok(Read::UpToDate);
        }
    }
}

/// A hole that lasts is either pruned events (the relay fell behind the retention, e.g. the node
/// was stopped in a debugger) or a broken outbox. Pruned events can only be resumed past.
async fn skip_pruned(db: &Db, last: &mut i64) {
    match db.read().await {
        Ok(mut conn) => match store::events::horizon(&mut conn).await {
            Ok(horizon) if horizon > *last => {
                tracing::warn!(from = *last, to = horizon, "events were pruned before this node relayed them; skipping to the horizon");
                *last = horizon;
            }
            Ok(_) => tracing::error!(after = *last, "seq {} is still missing; waiting for it", *last + 1),
            Err(e) => tracing::warn!(error = %e, "cannot read the horizon"),
        },
        Err(e) => tracing::warn!(error = %e, "cannot read the horizon"),
    }
}

async fn update_lag(db: &Db, hub: &Hub, last: i64) {
    if let Ok(mut conn) = db.read().await {
        if let Ok(newest) = store::events::current_seq(&mut conn).await {
            hub.metrics.relay_lag.set((newest - last).max(0));
        }
    }
}
