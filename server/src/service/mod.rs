//! The operations of the API: authorize, validate, then read or write in one transaction.
//!
//! Handlers (REST and pages) parse requests and call these; these call `store` for SQL and
//! `app::domain` for the rules. Every write transaction appends its events to the outbox
//! before it commits, so a change and its events are never seen apart.

pub mod auth;
pub mod catalog;
pub mod chitties;
pub mod notifications;
pub mod order_changes;
pub mod orders;
pub mod push;
pub mod users;

pub mod subscriptions;

use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use app::domain::{Actor, Role};
use crate::state::AppState;

/// The time a write records: now, to the microsecond, the precision PostgreSQL's
/// `timestamptz` keeps (SQLite keeps the text it is given). What a write returns and what its
/// event announces is then exactly what reading the row back gives, on either engine, which a
/// kept board relies on ([`crate::board_cache`]).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Commits a write transaction and, if it wrote events, wakes the relays to publish them.
/// Returns the `seq` the write's result is current as of: its last event's, or, when it wrote
/// none, the newest one before it. A client that follows from there misses nothing after its
/// own change and is not sent the change again.
pub async fn commit(state: &AppState, mut tx: Tx) -> ApiResult<i64> {
    let before = if tx.has_events() { None } else { Some(crate::store::events::current_seq(&mut tx).await?) };
    match tx.commit().await? {
        Some(seq) => {
            state.bus.committed();
            Ok(seq)
        }
        None => Ok(before.unwrap_or_default()),
    }
}

/// Whose records (orders, chitties) a list shows an actor, narrowed to one shop if asked: a
/// customer's own, a shopkeeper's shops' (another shop is refused), every shop's for admins.
/// `None` means no restriction.
pub(crate) struct Visible {
    pub customer_id: Option<i64>,
    pub shop_ids: Option<Vec<i64>>,
}

pub(crate) fn visible_to(actor: &Actor, shop_id: Option<i64>) -> ApiResult<Visible> {
    let only = shop_id.map(|id| vec![id]);
    Ok(match actor.role {
        Role::Customer => Visible { customer_id: Some(actor.user_id), shop_ids: only },
        Role::Shopkeeper => Visible {
            customer_id: None,
            shop_ids: Some(match shop_id {
                Some(id) if actor.can_manage_shop(id) => vec![id],
                Some(_) => return Err(ApiError::forbidden("you are not staff of that shop")),
                None => actor.shop_ids.clone(),
            }),
        },
        Role::Admin => Visible { customer_id: None, shop_ids: only },
    })
}
