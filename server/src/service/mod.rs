//! The operations of the API: authorize, validate, then read or write in one transaction.
//!
//! Handlers (REST and pages) parse requests and call these; these call `store` for SQL and
//! `app::domain` for the rules. Every write transaction appends its events to the outbox
//! before it commits, so a change and its events are never seen apart.

pub mod auth;
pub mod catalog;
pub mod chitties;
pub mod notifications;
pub mod orders;
pub mod users;

pub mod subscriptions;

use crate::db::Tx;
use crate::error::ApiResult;
use crate::state::AppState;

/// Commits a write transaction and, if it wrote events, wakes the relays to publish them.
pub async fn commit(state: &AppState, tx: Tx) -> ApiResult<()> {
    if tx.commit().await?.is_some() {
        state.bus.committed();
    }
    Ok(())
}
