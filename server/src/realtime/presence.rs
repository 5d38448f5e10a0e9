//! Staff presence, counted across nodes.
//!
//! The hub reports a staff user whose connection count on this node went to or from zero; this
//! task writes the count to the `presence` table as this node's row for that user, with a
//! lease it renews on a heartbeat. A user is online while any node has a live row for them;
//! `users.online` holds the state last announced, and the node whose write flips it appends
//! `user_connected` / `user_disconnected` to the outbox for each of the user's shops. Changes of
//! one user are serialised across nodes by a row lock (see `store::presence::lock_user`).
//!
//! A node that dies stops renewing; every node sweeps for users announced online whose rows
//! have all expired and announces them offline, so a `kill -9` leaves nobody online forever.

use super::hub::PresenceReport;
use super::{Bus, Hub};
use crate::db::Db;
use crate::store;
use app::domain::{EventType, Topic};
use chrono::Utc;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// This node's view of its own rows.
#[derive(Default)]
struct Mine {
    /// Users with a row of this node (or one to delete): the count last meant to be written.
    counts: HashMap<i64, i64>,
    /// Users whose last write failed.
    dirty: BTreeSet<i64>,
}

pub struct Presence {
    pub db: Db,
    pub bus: Bus,
    pub hub: Arc<Hub>,
    pub node: String,
    /// How long a node's rows live without a heartbeat.
    pub lease: Duration,
}

impl Presence {
    /// Runs until `stop`, then takes this node's users offline (call it after the sockets have
    /// closed, so their last reports are in).
    pub async fn run(self, mut reports: mpsc::UnboundedReceiver<PresenceReport>, stop: CancellationToken) {
        let mut mine = Mine::default();
        // Rows left by an earlier run of this node (killed, same --node-id) describe sockets
        // that are gone; the first sweep announces their users offline.
        match self.db.write().await {
            Ok(mut conn) => {
                if let Err(e) = store::presence::clear_node(&mut conn, &self.node).await {
                    tracing::warn!(error = %e, "could not clear this node's old presence");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not clear this node's old presence"),
        }
        let every = (self.lease / 3).max(Duration::from_millis(100));
        let mut heartbeat = tokio::time::interval(every);
        loop {
            tokio::select! {
                Some(first) = reports.recv() => {
                    // A burst of reports is written once per user, with the count of now.
                    let mut batch = vec![first];
                    while let Ok(more) = reports.try_recv() {
                        batch.push(more);
                    }
                    let users: BTreeSet<i64> = batch.iter().map(|r| r.user_id).collect();
                    for user_id in users {
                        self.write(&mut mine, user_id).await;
                    }
                    for report in batch {
                        let _ = report.done.send(());
                    }
                }
                _ = heartbeat.tick() => self.heartbeat(&mut mine).await,
                _ = stop.cancelled() => break,
            }
        }
        while let Ok(report) = reports.try_recv() {
            mine.counts.entry(report.user_id).or_insert(0);
        }
        for user_id in mine.counts.keys().copied().collect::<Vec<_>>() {
            self.write(&mut mine, user_id).await;
        }
    }

    /// Records this node's current count for a user and announces a change of their state.
    async fn write(&self, mine: &mut Mine, user_id: i64) {
        let count = self.hub.connections_of(user_id) as i64;
        match self.settle(user_id, Some(count)).await {
            Ok(()) => {
                mine.dirty.remove(&user_id);
                if count == 0 {
                    mine.counts.remove(&user_id);
                } else {
                    mine.counts.insert(user_id, count);
                }
            }
            Err(e) => {
                tracing::warn!(error = ?e, user_id, count, "could not record presence; retrying on the heartbeat");
                mine.counts.insert(user_id, count);
                mine.dirty.insert(user_id);
            }
        }
    }

    /// Renews this node's rows (writing them all again if they are not what this node thinks,
    /// e.g. a sweep took them while it could not reach the database), retries failed writes,
    /// then announces users whose rows all expired as offline.
    async fn heartbeat(&self, mine: &mut Mine) {
        let now = Utc::now();
        let expires = self.expiry(now);
        let renewed = match self.db.write().await {
            Ok(mut conn) => store::presence::renew(&mut conn, &self.node, now, expires).await,
            Err(e) => Err(e),
        };
        match renewed {
            Ok(n) if n == mine.counts.values().filter(|c| **c > 0).count() as u64 => {}
            Ok(_) => mine.dirty.extend(mine.counts.keys().copied()),
            Err(e) => tracing::warn!(error = %e, "could not renew presence"),
        }
        for user_id in std::mem::take(&mut mine.dirty) {
            self.write(mine, user_id).await;
        }
        if let Err(e) = self.sweep().await {
            tracing::warn!(error = ?e, "could not sweep presence");
        }
    }

    /// When a row written at `now` expires without a heartbeat.
    fn expiry(&self, now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
        now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(15))
    }

    async fn sweep(&self) -> crate::error::ApiResult<()> {
        let now = Utc::now();
        let stale = store::presence::stale(&mut self.db.read().await?, now).await?;
        for user_id in stale {
            self.settle(user_id, None).await?;
        }
        store::presence::delete_expired(&mut self.db.write().await?, now).await?;
        Ok(())
    }

    /// In one transaction: writes this node's count (if given), then compares the user's
    /// presence on all nodes with the state last announced and announces the difference.
    async fn settle(&self, user_id: i64, count: Option<i64>) -> crate::error::ApiResult<()> {
        let now = Utc::now();
        let expires = self.expiry(now);
        let mut tx = self.db.begin_write().await?;
        store::presence::lock_user(&mut tx, user_id).await?;
        if let Some(count) = count {
            store::presence::set(&mut tx, &self.node, user_id, count, expires).await?;
        }
        let online = store::presence::is_present(&mut tx, user_id, now).await?;
        if store::presence::announce(&mut tx, user_id, online).await? {
            if let Some(user) = store::users::get_any(&mut tx, user_id).await? {
                let event_type = if online { EventType::UserConnected } else { EventType::UserDisconnected };
                for &shop_id in &user.shop_ids {
                    store::events::append(
                        &mut tx,
                        event_type,
                        &Topic::for_staff(shop_id),
                        &json!({ "user_id": user.id, "name": user.name, "shop_id": shop_id, "online": online }),
                        now,
                    );
                }
            }
        }
        if tx.commit().await?.is_some() {
            self.bus.committed();
        }
        Ok(())
    }
}
