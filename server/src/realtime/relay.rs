//! The outbox relay: after every commit, reads the new outbox rows in `seq` order and hands
//! them to the hub. Being the only reader of the live outbox is what makes delivery ordered
//! and gap-free regardless of how writers interleave.

use super::{Bus, Hub};
use crate::db::Db;
use crate::store;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const BATCH: i64 = 512;

/// Runs until `shutdown`, publishing every event after `last` (the newest event when the server
/// started, read before it accepts requests: older events reach clients only through `resume`).
pub async fn run(db: Db, bus: Bus, hub: Arc<Hub>, shutdown: CancellationToken, mut last: i64) {
    loop {
        tokio::select! {
            _ = bus.wait() => {}
            _ = shutdown.cancelled() => return,
        }
        loop {
            let batch = match db.read.acquire().await {
                Ok(mut conn) => store::events::since(&mut conn, last, BATCH).await,
                Err(e) => Err(e),
            };
            match batch {
                Ok(events) => {
                    for event in &events {
                        hub.deliver(event);
                        last = event.seq;
                    }
                    if (events.len() as i64) < BATCH {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, after = last, "relay failed to read the outbox; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    bus.committed();
                    break;
                }
            }
        }
    }
}
