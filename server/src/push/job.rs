//! The push job: the planner turns outbox events into queued pushes, the senders deliver them.
//!
//! Both run on every node. Planners take turns through the cursor's row lock (PostgreSQL) or
//! the one writer (SQLite) and plan only an unbroken run of committed events, as the relay
//! does. Senders take one due push at a time with a lease, at most `concurrency` at once per
//! node; a push service that answers 404 or 410 has forgotten the device, which is removed; a
//! failure that may pass (network, 429, 5xx) is retried after 2, 4, 8, … seconds, up to
//! [`MAX_ATTEMPTS`]; anything else is a push the service will never take, given up and logged.

use super::keys::Vapid;
use crate::db::Db;
use crate::realtime::Hub;
use crate::store;
use app::domain::notice::{self, Audience};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use web_push::{ContentEncoding, SubscriptionInfo, Urgency, WebPushMessageBuilder};

/// Sends per push before it is given up.
pub const MAX_ATTEMPTS: i64 = 6;
/// How often the planner looks for new events, and an idle sender for due pushes.
const POLL: Duration = Duration::from_millis(500);
/// Events planned per transaction.
const PLAN_BATCH: i64 = 200;
/// How long a push service keeps a push for a device that is offline: order news goes stale.
const TTL_SECS: u32 = 6 * 3600;
/// A push service that does not answer in this time is retried later.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct PushJob {
    pub db: Db,
    pub hub: Arc<Hub>,
    pub vapid: Arc<Vapid>,
    pub http: reqwest::Client,
    pub concurrency: usize,
    /// How long a sender holds a push it is sending (a node that dies mid-send frees it then).
    pub lease: Duration,
}

impl PushJob {
    /// Plans and sends until `shutdown`, then waits for the sends in flight.
    pub async fn run(self, shutdown: CancellationToken) {
        let start = match self.db.read().await {
            Ok(mut conn) => store::events::current_seq(&mut conn).await.unwrap_or(0),
            Err(_) => 0,
        };
        let planner = tokio::spawn(self.clone().plan_forever(start, shutdown.clone()));
        let slots = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let sends = TaskTracker::new();
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => match slot { Ok(s) => s, Err(_) => break },
                _ = shutdown.cancelled() => break,
            };
            match self.claim().await {
                Ok(Some(due)) => {
                    let job = self.clone();
                    sends.spawn(async move {
                        job.send(due).await;
                        drop(slot);
                    });
                }
                Ok(None) => {
                    drop(slot);
                    tokio::select! {
                        _ = tokio::time::sleep(POLL) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
                Err(e) => {
                    drop(slot);
                    tracing::warn!(error = %e, "cannot look for pushes to send");
                    tokio::select! {
                        _ = tokio::time::sleep(POLL * 4) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
            }
        }
        sends.close();
        let _ = tokio::time::timeout(SEND_TIMEOUT, sends.wait()).await;
        let _ = planner.await;
    }

    async fn plan_forever(self, start: i64, shutdown: CancellationToken) {
        loop {
            let more = match self.plan(start).await {
                Ok(more) => more,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot plan pushes");
                    false
                }
            };
            if !more {
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    _ = shutdown.cancelled() => return,
                }
            } else if shutdown.is_cancelled() {
                return;
            }
        }
    }

    /// Plans the next run of events; true if there may be more right away.
    async fn plan(&self, start: i64) -> sqlx::Result<bool> {
        // A cheap look first, without the writer: most of the time there is nothing new.
        let newest = {
            let mut conn = self.db.read().await?;
            let newest = store::events::current_seq(&mut conn).await?;
            if store::push::cursor(&mut conn).await?.is_some_and(|seen| newest <= seen) {
                return Ok(false);
            }
            newest
        };
        let mut tx = self.db.begin_write().await?;
        // Events pruned while no node was planning (down longer than the retention) are gone.
        let cursor = store::push::lock_cursor(&mut tx, start).await?.max(store::events::horizon(&mut tx).await?);
        // Nobody to push to: the cursor moves on without reading the events.
        let anyone = store::push::any(&mut tx).await?;
        self.hub.track_presence_of_everyone(anyone);
        if !anyone {
            store::push::set_cursor(&mut tx, newest).await?;
            tx.commit().await?;
            return Ok(false);
        }
        let events = store::events::since(&mut tx, cursor, PLAN_BATCH).await?;
        let now = Utc::now();
        let mut last = cursor;
        for event in &events {
            // An unbroken run only: a missing `seq` is a transaction still committing.
            if event.seq != last + 1 {
                break;
            }
            last = event.seq;
            let Some((audience, notice)) = notice::for_event(event.event_type, event.seq, &event.payload) else { continue };
            let (customer, shop) = match audience {
                Audience::Customer(id) => (Some(id), None),
                Audience::Staff(id) => (None, Some(id)),
            };
            let payload = serde_json::to_string(&notice).map_err(|e| sqlx::Error::Encode(e.into()))?;
            let urgency = if notice.urgent { "high" } else { "normal" };
            for device in store::push::devices_away(&mut tx, customer, shop, now).await? {
                store::push::enqueue(&mut tx, device, event.seq, &payload, urgency, now).await?;
            }
        }
        store::push::set_cursor(&mut tx, last).await?;
        tx.commit().await?;
        Ok(last < newest && events.len() as i64 == PLAN_BATCH)
    }

    async fn claim(&self) -> sqlx::Result<Option<store::push::Due>> {
        let now = Utc::now();
        // A look without the writer first: most of the time nothing is due.
        if store::push::next_due(&mut self.db.read().await?).await?.is_none_or(|due| due > now) {
            return Ok(None);
        }
        let lease = chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(60));
        store::push::claim(&mut self.db.write().await?, now, now + lease).await
    }

    /// Sends one push and records what became of it.
    async fn send(&self, due: store::push::Due) {
        let outcome = self.post(&due).await;
        let result = match self.db.write().await {
            Ok(mut conn) => match outcome {
                Outcome::Delivered => store::push::finish(&mut conn, due.id).await,
                Outcome::Gone => {
                    tracing::info!(subscription = due.subscription_id, "push service forgot the device: removed");
                    store::push::delete_gone(&mut conn, due.subscription_id).await
                }
                Outcome::Retry(why) if due.attempts < MAX_ATTEMPTS => {
                    let wait = chrono::Duration::seconds(1 << due.attempts.clamp(1, 10));
                    tracing::debug!(id = due.id, attempt = due.attempts, %why, "push failed; retrying");
                    store::push::retry_at(&mut conn, due.id, Utc::now() + wait).await
                }
                Outcome::Retry(why) | Outcome::Refused(why) => {
                    tracing::warn!(id = due.id, seq = due.seq, attempts = due.attempts, %why, "push given up");
                    store::push::finish(&mut conn, due.id).await
                }
            },
            Err(e) => Err(e),
        };
        // The lease runs out and another sender tries again.
        if let Err(e) = result {
            tracing::warn!(error = %e, id = due.id, "cannot record a push's outcome");
        }
    }

    async fn post(&self, due: &store::push::Due) -> Outcome {
        let subscription = SubscriptionInfo::new(due.endpoint.as_str(), due.p256dh.as_str(), due.auth.as_str());
        // The audience is the push service's origin, port included (RFC 8292 §2; `web-push`
        // would leave a port out).
        let Ok(origin) = reqwest::Url::parse(&due.endpoint).map(|u| u.origin().ascii_serialization()) else {
            return Outcome::Refused("the endpoint is not an address".into());
        };
        let message = (|| {
            let mut signature = self.vapid.signer().add_sub_info(&subscription);
            signature.add_claim("sub", self.vapid.subject.as_str());
            signature.add_claim("aud", origin.as_str());
            let mut builder = WebPushMessageBuilder::new(&subscription);
            builder.set_payload(ContentEncoding::Aes128Gcm, due.payload.as_bytes());
            builder.set_vapid_signature(signature.build()?);
            builder.set_ttl(TTL_SECS);
            builder.set_urgency(if due.urgency == "high" { Urgency::High } else { Urgency::Normal });
            builder.build()
        })();
        let message = match message {
            Ok(m) => m,
            // Keys that cannot encrypt are the device's fault: the service could never take it.
            Err(e) => return Outcome::Refused(format!("cannot build the push: {e}")),
        };
        let request = web_push::request_builder::build_request::<Vec<u8>>(message);
        let (parts, body) = request.into_parts();
        let mut post = self.http.post(due.endpoint.as_str()).timeout(SEND_TIMEOUT).body(body);
        for (name, value) in &parts.headers {
            if let Ok(value) = value.to_str() {
                post = post.header(name.as_str(), value);
            }
        }
        match post.send().await {
            Ok(res) => match res.status().as_u16() {
                200..=299 => Outcome::Delivered,
                404 | 410 => Outcome::Gone,
                429 | 500..=599 => Outcome::Retry(format!("push service answered {}", res.status())),
                _ => Outcome::Refused(format!("push service answered {}: {}", res.status(), res.text().await.unwrap_or_default())),
            },
            Err(e) => Outcome::Retry(e.to_string()),
        }
    }
}

enum Outcome {
    Delivered,
    /// The device is gone (404, 410).
    Gone,
    Retry(String),
    Refused(String),
}
