//! The reading job: every chitty stored as `processing` is read exactly to an end (`read` or
//! `failed`), whatever happens to the node that took it.
//!
//! The chitty row is the job record: it is written (with its photo) before the upload is
//! answered, so nothing is lost to a crash. A reader claims the oldest unclaimed row with a
//! lease it renews while it works; a node that dies stops renewing, and any node (the
//! restarted one too) takes the row over when the lease runs out. One chitty is tried at most
//! [`MAX_ATTEMPTS`] times, so a photo that crashes the engine ends `failed`, never stuck.
//! Readers run at most `workers` photos at once (one per core by default: OCR is CPU-bound),
//! each within a timeout. The result (lines and the `chitty_processed` or `chitty_failed`
//! event) is written in one transaction.

use super::ocr::Ocr;
use super::photo;
use crate::db::Db;
use crate::realtime::Bus;
use crate::store;
use app::domain::{ChittyStatus, EventType};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Tries per chitty before it is given up as unreadable.
pub const MAX_ATTEMPTS: i64 = 3;

/// How often an idle reader looks for chitties other nodes stored or left behind.
const POLL: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Reader {
    pub db: Db,
    pub bus: Bus,
    pub ocr: Arc<dyn Ocr>,
    pub workers: usize,
    pub timeout: Duration,
    pub lease: Duration,
    /// Rung when a chitty is stored on this node.
    pub wake: Arc<Notify>,
}

/// Why a chitty could not be read, as its customer and the shop are told.
#[derive(Debug)]
struct Unreadable(String);

impl Reader {
    /// Runs until `shutdown`; then stops the photos being read (their chitties are released
    /// for the next node) and returns.
    pub async fn run(self, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.workers.max(1)));
        let tasks = TaskTracker::new();
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => match slot { Ok(s) => s, Err(_) => break },
                _ = shutdown.cancelled() => break,
            };
            match self.claim().await {
                Ok(Some((id, attempt))) => {
                    let reader = self.clone();
                    let stop = shutdown.clone();
                    tasks.spawn(async move {
                        reader.work(id, attempt, stop).await;
                        drop(slot);
                    });
                }
                Ok(None) => {
                    drop(slot);
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(POLL) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
                Err(e) => {
                    drop(slot);
                    tracing::warn!(error = %e, "cannot look for lists to read");
                    tokio::select! {
                        _ = tokio::time::sleep(POLL) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
            }
        }
        tasks.close();
        tasks.wait().await;
    }

    async fn claim(&self) -> sqlx::Result<Option<(i64, i64)>> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(15));
        let mut conn = self.db.write().await?;
        store::chitties::claim(&mut conn, now, until).await
    }

    /// Reads one claimed chitty to its end, renewing the claim meanwhile.
    async fn work(&self, id: i64, attempt: i64, shutdown: CancellationToken) {
        let outcome = tokio::select! {
            outcome = self.read_renewing(id, attempt) => outcome,
            _ = shutdown.cancelled() => {
                // Not this node's to finish any more: let the next one start at once.
                match self.db.write().await {
                    Ok(mut conn) => if let Err(e) = store::chitties::release(&mut conn, id).await {
                        tracing::warn!(chitty_id = id, error = %e, "cannot release a list being read");
                    },
                    Err(e) => tracing::warn!(chitty_id = id, error = %e, "cannot release a list being read"),
                }
                return;
            }
        };
        if let Err(e) = outcome {
            // The lease runs out and the chitty is tried again (up to MAX_ATTEMPTS).
            tracing::warn!(chitty_id = id, attempt, error = %e, "reading a list could not be recorded");
        }
    }

    async fn read_renewing(&self, id: i64, attempt: i64) -> sqlx::Result<()> {
        let renew = async {
            let mut every = tokio::time::interval(self.lease / 3);
            every.tick().await;
            loop {
                every.tick().await;
                let until = Utc::now() + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(15));
                match self.db.write().await {
                    Ok(mut conn) => {
                        if let Err(e) = store::chitties::renew(&mut conn, id, until).await {
                            tracing::warn!(chitty_id = id, error = %e, "cannot renew the hold on a list");
                        }
                    }
                    Err(e) => tracing::warn!(chitty_id = id, error = %e, "cannot renew the hold on a list"),
                }
            }
        };
        tokio::select! {
            done = self.read(id, attempt) => done,
            never = renew => never,
        }
    }

    async fn read(&self, id: i64, attempt: i64) -> sqlx::Result<()> {
        let started = std::time::Instant::now();
        let result = if attempt > MAX_ATTEMPTS {
            Err(Unreadable(format!("reading the photo failed {MAX_ATTEMPTS} times")))
        } else {
            match tokio::time::timeout(self.timeout, self.ocr_lines(id)).await {
                Ok(result) => result,
                Err(_) => Err(Unreadable(format!("reading the photo took longer than {} s", self.timeout.as_secs()))),
            }
        };
        let mut tx = self.db.begin_write().await?;
        let Some(chitty) = store::chitties::get(&mut tx, id).await? else { return Ok(()) };
        let shop_id = chitty.shop_id;
        let (status, lines, reason) = match result {
            Ok(text) => {
                let products = store::products::list_for_shop(&mut tx, shop_id).await?;
                let aliases = store::chitties::aliases(&mut tx, shop_id).await?;
                let lines = super::lines(&text, &products, &aliases);
                if lines.is_empty() {
                    (ChittyStatus::Failed, lines, Some("no list could be read in the photo".to_owned()))
                } else {
                    (ChittyStatus::Read, lines, None)
                }
            }
            Err(Unreadable(reason)) => (ChittyStatus::Failed, Vec::new(), Some(reason)),
        };
        let now = crate::service::now();
        if !store::chitties::finish_reading(&mut tx, id, status, &lines, reason.as_deref(), now).await? {
            return Ok(()); // another node finished it after our lease ran out
        }
        let chitty = store::chitties::get(&mut tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
        let event = if status == ChittyStatus::Read { EventType::ChittyProcessed } else { EventType::ChittyFailed };
        crate::service::chitties::record_event(&mut tx, event, &chitty, now);
        if tx.commit().await?.is_some() {
            self.bus.committed();
        }
        tracing::info!(
            chitty_id = id, attempt, status = %status, lines = chitty.lines.len(), reason = reason.as_deref(),
            ms = started.elapsed().as_millis() as u64, "list read"
        );
        Ok(())
    }

    /// The photo's text, or why there is none.
    async fn ocr_lines(&self, id: i64) -> Result<Vec<super::ocr::OcrLine>, Unreadable> {
        let stored = async {
            let mut conn = self.db.read().await?;
            store::chitties::image(&mut conn, id).await
        };
        let (_, bytes) = stored
            .await
            .map_err(|e| {
                tracing::warn!(chitty_id = id, error = %e, "cannot load a list's photo");
                Unreadable("the photo could not be loaded".into())
            })?
            .ok_or_else(|| Unreadable("the photo is missing".into()))?;
        let png = tokio::task::spawn_blocking(move || {
            let (_, image) = photo::decode(&bytes).map_err(|e| Unreadable(e.to_string()))?;
            photo::png(&photo::prepare(&image)).map_err(|e| Unreadable(format!("the photo could not be prepared: {e}")))
        })
        .await
        .map_err(|_| Unreadable("preparing the photo failed".into()))??;
        self.ocr.read(png).await.map_err(|e| {
            tracing::error!(chitty_id = id, error = %e, "OCR failed");
            Unreadable("the shop's list reader is not working; the shop can still read the photo".into())
        })
    }
}
