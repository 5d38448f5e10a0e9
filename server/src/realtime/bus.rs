//! Wake-ups between a commit and the relays: "something was committed to the outbox".
//!
//! A wake-up carries no data; the outbox is the truth and relays read it. On this node a
//! commit wakes the relay directly. With PostgreSQL it also sends `NOTIFY ordercast_events`
//! to the other nodes, after the commit (a `NOTIFY` inside the transaction would take
//! PostgreSQL's global commit lock) and coalesced: while one notification is being sent, any
//! number of further commits add just one more.

use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The PostgreSQL channel relays listen on.
pub const CHANNEL: &str = "ordercast_events";

/// Cheap to clone; calling [`Bus::committed`] more often than needed is harmless (the relay
/// reads whatever is new, possibly nothing).
#[derive(Clone, Default)]
pub struct Bus {
    local: Arc<Notify>,
    remote: Option<Arc<Notify>>,
}

impl Bus {
    /// A bus for one node on its own (SQLite).
    pub fn local() -> Self {
        Self::default()
    }

    /// A bus that also tells the other nodes through PostgreSQL, until `shutdown`.
    pub fn postgres(pool: PgPool, shutdown: CancellationToken) -> Self {
        let remote = Arc::new(Notify::new());
        tokio::spawn(notifier(pool, remote.clone(), shutdown));
        Bus { local: Arc::new(Notify::new()), remote: Some(remote) }
    }

    /// Called after every transaction that appended events has committed.
    pub fn committed(&self) {
        self.local.notify_one();
        if let Some(remote) = &self.remote {
            remote.notify_one();
        }
    }

    /// Waits for the next local `committed` (or returns at once if one came since the last wait).
    pub async fn wait(&self) {
        self.local.notified().await;
    }
}

/// Sends one `NOTIFY` per batch of commits. A failed one is not retried: the other nodes' relays
/// also read the outbox on a timer.
async fn notifier(pool: PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = wake.notified() => {}
            _ = shutdown.cancelled() => return,
        }
        if let Err(e) = sqlx::query("SELECT pg_notify($1, '')").bind(CHANNEL).execute(&pool).await {
            tracing::warn!(error = %e, "could not notify the other nodes; they will catch up on their timer");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
