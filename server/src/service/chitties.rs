//! Chitties: a customer sends a photo of a handwritten list; the reader (`chitty::reader`)
//! reads it; the shop's staff turn it into an order or reject it.

use crate::auth::Session;
use crate::chitty::photo::{self, PhotoError};
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use crate::store::chitties::Scope;
use app::api::{Chitty, ChittyList, ChittyOrder, ChittyQuery, ErrorCode, Order, WithSeq};
use app::domain::chitty::{normalize, SURE_CONFIDENCE};
use app::domain::validation;
use app::domain::{ChittyStatus, EventType, Role, Topic};
use chrono::Utc;
use serde_json::json;

const NOT_FOUND: &str = "list";
/// The newest chitties a list shows.
pub(crate) const LIST_LIMIT: i64 = 100;

/// Stores a customer's photo of a list for a shop and queues it for reading.
pub async fn upload(state: &AppState, session: &Session, shop_id: i64, bytes: Vec<u8>, note: Option<String>) -> ApiResult<WithSeq<Chitty>> {
    if session.user.role != Role::Customer {
        return Err(ApiError::forbidden("only customers send lists"));
    }
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if let Some(n) = &note {
        validation::note(n)?;
    }
    // Cheap checks first, so a refused upload costs no decoding; they are repeated in the
    // transaction that stores it.
    {
        let mut tx = state.db.begin_read().await?;
        may_send(state, &mut tx, session, shop_id).await?;
    }
    let (checked, bytes) = tokio::task::spawn_blocking(move || photo::decode(&bytes).map(|(c, _)| (c, bytes)))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(photo_error)?;

    let now = super::now();
    let mut tx = state.db.begin_write().await?;
    may_send(state, &mut tx, session, shop_id).await?;
    let id = store::chitties::insert(&mut tx, shop_id, session.user.id, note.as_deref(), checked.content_type, &bytes, now).await?;
    let chitty = store::chitties::get(&mut tx, id).await?.ok_or_else(ApiError::internal)?;
    record_event(&mut tx, EventType::ChittyReceived, &chitty, now);
    let seq = super::commit(state, tx).await?;
    state.chitty_wake.notify_one();
    tracing::info!(chitty_id = id, shop_id, customer_id = session.user.id, bytes = bytes.len(), width = checked.width, height = checked.height, "list received");
    Ok(WithSeq { item: chitty, seq })
}

/// The shop exists and is open, and the customer has not sent too many lists lately.
async fn may_send(state: &AppState, tx: &mut Tx, session: &Session, shop_id: i64) -> ApiResult<()> {
    let shop = store::shops::get(tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    if !shop.is_open {
        return Err(ApiError::new(ErrorCode::ShopClosed, format!("{} is closed and is not taking lists", shop.name)));
    }
    let limit = state.config.chitty_uploads_per_minute;
    let sent = store::chitties::count_sent_since(tx, session.user.id, super::now() - chrono::Duration::minutes(1)).await?;
    if sent >= limit {
        let mut err = ApiError::new(ErrorCode::TooManyRequests, format!("at most {limit} lists a minute; try again in a minute"));
        err.retry_after = Some(60);
        return Err(err);
    }
    Ok(())
}

fn photo_error(e: PhotoError) -> ApiError {
    let code = match e {
        PhotoError::NotAnImage => ErrorCode::UnsupportedImage,
        PhotoError::Empty | PhotoError::TooManyPixels { .. } | PhotoError::Corrupt(_) => ErrorCode::InvalidImage,
    };
    ApiError::new(code, e.to_string())
}

/// Appends a chitty's event (the whole chitty) for its customer, the shop's staff and admins.
pub(crate) fn record_event(tx: &mut Tx, event_type: EventType, chitty: &Chitty, now: chrono::DateTime<Utc>) {
    store::events::append(tx, event_type, &Topic::for_chitty(chitty.customer_id, chitty.shop_id), &json!({ "chitty": chitty }), now);
}

/// A chitty the session may see; one it may not see does not exist for it.
async fn visible(tx: &mut Tx, session: &Session, id: i64) -> ApiResult<Chitty> {
    store::chitties::get(tx, id)
        .await?
        .filter(|c| session.actor.can_view_order(c.customer_id, c.shop_id))
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

pub async fn get(state: &AppState, session: &Session, id: i64) -> ApiResult<WithSeq<Chitty>> {
    let mut tx = state.db.begin_read().await?;
    let seq = store::events::current_seq(&mut tx).await?;
    let item = visible(&mut tx, session, id).await?;
    Ok(WithSeq { item, seq })
}

/// The photo, for whoever may see the chitty.
pub async fn image(state: &AppState, session: &Session, id: i64) -> ApiResult<(String, Vec<u8>)> {
    let mut tx = state.db.begin_read().await?;
    visible(&mut tx, session, id).await?;
    store::chitties::image(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("photo"))
}

/// A customer's own chitties; a shopkeeper's shops'; every shop's for admins. Newest first.
pub async fn list(state: &AppState, session: &Session, query: ChittyQuery) -> ApiResult<ChittyList> {
    let visible = super::visible_to(&session.actor, query.shop_id)?;
    let scope = Scope { open: query.open, customer_id: visible.customer_id, shop_ids: visible.shop_ids };
    let mut tx = state.db.begin_read().await?;
    let seq = store::events::current_seq(&mut tx).await?;
    let items = store::chitties::list(&mut tx, &scope, LIST_LIMIT).await?;
    Ok(ChittyList { items, seq })
}

/// A chitty staff may act on: theirs to manage and still waiting for them.
async fn actionable(tx: &mut Tx, session: &Session, id: i64) -> ApiResult<Chitty> {
    let chitty = visible(tx, session, id).await?;
    if !session.actor.can_manage_shop(chitty.shop_id) {
        return Err(ApiError::forbidden("only the shop's staff handle its lists"));
    }
    match chitty.status {
        s if s.awaits_staff() => Ok(chitty),
        ChittyStatus::Processing => Err(ApiError::new(ErrorCode::Conflict, "the list is still being read")),
        s => Err(ApiError::new(ErrorCode::ChittyClosed, format!("the list was already {s}"))),
    }
}

/// Staff turn a chitty into an order for its customer, with the lines as they confirmed them:
/// the same checks as any order (open shop, available products, stock). A line whose
/// product staff chose differently from the proposal (or confirmed an unsure one) teaches
/// the shop an alias, tried first on the next list.
pub async fn make_order(state: &AppState, session: &Session, id: i64, confirmed: ChittyOrder) -> ApiResult<WithSeq<Order>> {
    let lines: Vec<(i64, i64)> = confirmed.items.iter().map(|i| (i.product_id, i.quantity)).collect();
    validation::order_items(&lines)?;

    let now = super::now();
    let mut tx = state.db.begin_write().await?;
    let chitty = actionable(&mut tx, session, id).await?;
    let order = super::orders::place(&mut tx, chitty.shop_id, chitty.customer_id, session.user.id, &lines, now).await?;
    for item in &confirmed.items {
        let Some(position) = item.position else { continue };
        let line = chitty
            .lines
            .iter()
            .find(|l| l.position == position)
            .ok_or_else(|| ApiError::new(ErrorCode::ValidationFailed, format!("the list has no line {position}")))?;
        let proposed_sure = line.product_id == Some(item.product_id)
            && line.candidates.first().is_some_and(|c| c.product_id == item.product_id && c.confidence >= SURE_CONFIDENCE);
        let alias = normalize(&line.item);
        if !proposed_sure && !alias.is_empty() {
            store::chitties::learn_alias(&mut tx, chitty.shop_id, &alias, item.product_id, now).await?;
        }
    }
    close(&mut tx, &chitty, ChittyStatus::Ordered, Some(order.id), None, now).await?;
    let seq = super::commit(state, tx).await?;
    tracing::info!(chitty_id = id, order_id = order.id, by = session.user.id, "list made an order");
    Ok(WithSeq { item: order, seq })
}

/// Staff decline a chitty; the customer sees the reason.
pub async fn reject(state: &AppState, session: &Session, id: i64, reason: String) -> ApiResult<WithSeq<Chitty>> {
    // Checked as sent (what the API document states), kept trimmed.
    app::domain::validation::reject_reason(&reason)?;
    let reason = reason.trim().to_owned();
    let now = super::now();
    let mut tx = state.db.begin_write().await?;
    let chitty = actionable(&mut tx, session, id).await?;
    let chitty = close(&mut tx, &chitty, ChittyStatus::Rejected, None, Some(&reason), now).await?;
    let seq = super::commit(state, tx).await?;
    tracing::info!(chitty_id = id, by = session.user.id, "list rejected");
    Ok(WithSeq { item: chitty, seq })
}

async fn close(
    tx: &mut Tx,
    chitty: &Chitty,
    status: ChittyStatus,
    order_id: Option<i64>,
    reason: Option<&str>,
    now: chrono::DateTime<Utc>,
) -> ApiResult<Chitty> {
    if !store::chitties::close(tx, chitty.id, chitty.version, status, order_id, reason, now).await? {
        return Err(ApiError::new(ErrorCode::Conflict, "the list changed meanwhile; reload it and try again"));
    }
    let chitty = store::chitties::get(tx, chitty.id).await?.ok_or_else(ApiError::internal)?;
    record_event(tx, EventType::ChittyUpdated, &chitty, now);
    Ok(chitty)
}
