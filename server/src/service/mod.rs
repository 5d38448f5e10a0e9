//! The operations of the API: authorize, validate, then read or write in one transaction.
//!
//! Handlers (REST and pages) parse requests and call these; these call `store` for SQL and
//! `app::domain` for the rules. Every write transaction appends its events to the outbox
//! before it commits, so a change and its events are never seen apart.

pub mod auth;
pub mod catalog;
pub mod notifications;
pub mod orders;
pub mod presence;
pub mod users;

use crate::error::ApiResult;
use crate::state::AppState;
use sqlx::{Sqlite, Transaction};

/// Commits a write transaction and wakes the real-time relay to publish its events.
pub async fn commit(state: &AppState, tx: Transaction<'static, Sqlite>) -> ApiResult<()> {
    tx.commit().await?;
    state.bus.committed();
    Ok(())
}
