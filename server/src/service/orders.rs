//! Placing orders, listing them by role, and moving them through the state machine.

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::service::catalog::product_events;
use crate::state::AppState;
use crate::store;
use crate::store::orders::Scope;
use app::api::{
    ErrorCode, NewOrder, Order, OrderItem, OrderList, OrderQuery, Product, StatusChange, WithSeq,
    DEFAULT_PER_PAGE, MAX_PER_PAGE,
};
use app::domain::order::{apply, OrderChange, OrderState};
use app::domain::validation::{self, ValidationError};
use app::domain::{EventType, OrderAction, Role, Topic};
use chrono::Utc;
use serde_json::json;
use crate::db::{AsConn, Tx};
use super::order_changes::{record, Decided};

const NOT_FOUND: &str = "order";

/// Places an order for the signed-in customer: checks the shop is open and every product is
/// available with enough stock, takes the stock, and records the order, all in one transaction.
pub async fn create(state: &AppState, session: &Session, new: NewOrder) -> ApiResult<WithSeq<Order>> {
    if session.user.role != Role::Customer {
        return Err(ApiError::forbidden("only customers place orders"));
    }
    let lines: Vec<(i64, i64)> = new.items.iter().map(|i| (i.product_id, i.quantity)).collect();
    validation::order_items(&lines)?;

    let mut tx = state.db.begin_write().await?;
    let order = place(&mut tx, new.shop_id, session.user.id, session.user.id, &lines, super::now()).await?;
    let seq = super::commit(state, tx).await?;
    tracing::info!(order_id = order.id, shop_id = order.shop_id, customer_id = session.user.id, total = order.total_minor, "order placed");
    Ok(WithSeq { item: order, seq })
}

/// Places an order for `customer_id` in the caller's transaction: checks the shop is open and
/// every product is available with enough stock, takes the stock, and records the order and
/// its events. `by_user_id` is who placed it (the customer, or staff turning a chitty into
/// an order). `lines` must be validated.
pub(crate) async fn place(
    tx: &mut Tx,
    shop_id: i64,
    customer_id: i64,
    by_user_id: i64,
    lines: &[(i64, i64)],
    now: chrono::DateTime<Utc>,
) -> ApiResult<Order> {
    let shop = store::shops::get(tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    if !shop.is_open {
        return Err(ApiError::new(ErrorCode::ShopClosed, format!("{} is closed and is not taking orders", shop.name)));
    }

    // Locked before they are read: concurrent orders must not both sell the same stock.
    let product_ids: Vec<i64> = lines.iter().map(|(id, _)| *id).collect();
    store::products::lock(tx, &product_ids).await?;
    let mut items = Vec::with_capacity(lines.len());
    let mut stock_changes: Vec<(Product, Product)> = Vec::with_capacity(lines.len());
    let mut total: i64 = 0;
    for &(product_id, quantity) in lines {
        let product = store::products::get(tx, product_id)
            .await?
            .filter(|p| p.shop_id == shop.id)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::ValidationFailed, format!("product {product_id} is not sold by {}", shop.name))
            })?;
        if !product.available {
            return Err(ApiError::new(
                ErrorCode::ProductUnavailable,
                format!("{} is not available right now", product.name),
            ));
        }
        if product.stock < quantity {
            return Err(ApiError::new(
                ErrorCode::InsufficientStock,
                format!("only {} of {} left, {} asked for", product.stock, product.name, quantity),
            ));
        }
        let line_total = product.price_minor.checked_mul(quantity).ok_or(ValidationError::Quantity(quantity))?;
        total = total.checked_add(line_total).ok_or(ValidationError::Quantity(quantity))?;
        items.push(OrderItem {
            product_id,
            name: product.name.clone(),
            unit_price_minor: product.price_minor,
            quantity,
            line_total_minor: line_total,
        });
        let after = Product { stock: product.stock - quantity, updated_at: now, ..product.clone() };
        stock_changes.push((product, after));
    }

    let order_id = store::orders::insert(tx, shop.id, customer_id, total, now).await?;
    for (position, item) in items.iter().enumerate() {
        store::orders::insert_item(tx, order_id, position as i64, item).await?;
    }
    let created = StatusChange {
        status: app::domain::OrderStatus::Pending,
        change: OrderChange::Created,
        by_user_id,
        at: now,
        note: None,
    };
    store::orders::insert_history(tx, order_id, &created).await?;
    let order = record_event(tx, order_id, EventType::OrderCreated, OrderChange::Created, now).await?;
    for (before, after) in &stock_changes {
        store::products::update(tx, after).await?;
        product_events(tx, before, after, now);
    }
    Ok(order)
}

/// Reads the order as it now is and appends its event (the full snapshot) to the outbox.
async fn record_event(
    conn: &mut Tx,
    id: i64,
    event_type: EventType,
    change: OrderChange,
    now: chrono::DateTime<Utc>,
) -> ApiResult<Order> {
    let order = store::orders::get(conn, id).await?.ok_or_else(ApiError::internal)?;
    store::events::append(
        conn,
        event_type,
        &Topic::for_order(order.id, order.customer_id, order.shop_id),
        &json!({ "change": change, "order": order }),
        now,
    );
    Ok(order)
}

/// The orders this session may see, newest first, filtered and paginated.
pub async fn list(state: &AppState, session: &Session, query: OrderQuery) -> ApiResult<OrderList> {
    let per_page = query.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, format!("per_page must be between 1 and {MAX_PER_PAGE}")));
    }
    let page = query.page.unwrap_or(1);
    if page == 0 || page > 1_000_000 {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "page must be between 1 and 1000000"));
    }

    let search = query.search().map_err(|message| ApiError::new(ErrorCode::InvalidQuery, message))?;

    let visible = super::visible_to(&session.actor, query.shop_id)?;
    let scope = Scope {
        status: query.status,
        customer_id: visible.customer_id,
        shop_ids: visible.shop_ids,
        search,
        search_email: session.actor.role == Role::Admin,
        sort: query.sort.unwrap_or_default(),
        ..Scope::default()
    };

    let mut tx = state.db.begin_read().await?;
    let seq = store::events::current_seq(&mut tx).await?;
    let offset = i64::from(page - 1) * i64::from(per_page);
    let summary = store::orders::summary(&mut tx, &scope).await?;
    let items = store::orders::list(&mut tx, &scope, i64::from(per_page), offset).await?;
    Ok(OrderList { items, page, per_page, total: summary.total, sums: summary.sums, seq })
}

/// Loads an order the session may see; an order it may not see does not exist for it.
async fn visible(conn: &mut impl AsConn, session: &Session, id: i64) -> ApiResult<Order> {
    store::orders::get(conn, id)
        .await?
        .filter(|o| session.actor.can_view_order(o.customer_id, o.shop_id))
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

pub async fn get(state: &AppState, session: &Session, id: i64) -> ApiResult<WithSeq<Order>> {
    let mut tx = state.db.begin_read().await?;
    let seq = store::events::current_seq(&mut tx).await?;
    let item = visible(&mut tx, session, id).await?;
    Ok(WithSeq { item, seq })
}

/// Applies a status change, cancellation or payment verification.
///
/// The order is read and the action decided without holding the write connection (SQLite has
/// one, and every write waits for it); the change is then written together with the others
/// waiting ([`OrderChanges`](super::order_changes)), only if the order is still at the version
/// read. If it is not, or the action was refused on what was read, it is decided again on the
/// order as it is, read under the write connection, as if the request had waited its turn.
pub async fn act(state: &AppState, session: &Session, id: i64, action: OrderAction, note: Option<String>) -> ApiResult<WithSeq<Order>> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if let Some(n) = &note {
        validation::note(n)?;
    }

    let read = visible(&mut state.db.read().await?, session, id).await?;
    if let Ok(decided) = decide(session, read, action, note.clone()) {
        if let Some((item, seq)) = state.order_changes.write(decided).await? {
            tracing::info!(order_id = id, status = %item.status, by = session.user.id, "order updated");
            return Ok(WithSeq { item, seq });
        }
    }

    let mut tx = state.db.begin_write().await?;
    let current = visible(&mut tx, session, id).await?;
    let d = decide(session, current, action, note)?;
    if !record(&mut tx, &d).await? {
        // Only where writers run side by side (PostgreSQL): another wrote since our read.
        return Err(ApiError::new(ErrorCode::Conflict, "the order changed meanwhile; reload it and try again"));
    }
    let seq = super::commit(state, tx).await?;
    tracing::info!(order_id = id, status = %d.order.status, by = session.user.id, "order updated");
    Ok(WithSeq { item: d.order, seq })
}

/// Decides `action` by this session on `order` as read: the change to write, with the order as
/// it will then be.
fn decide(session: &Session, order: Order, action: OrderAction, note: Option<String>) -> ApiResult<Decided> {
    let party = session
        .actor
        .party_to_order(order.customer_id, order.shop_id)
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    let (next, change) = apply(OrderState { status: order.status, payment: order.payment_status }, action, party)?;
    // Microseconds: what PostgreSQL keeps, so the snapshot equals the order read back.
    let entry = StatusChange { status: next.status, change, by_user_id: session.user.id, at: super::now(), note };
    let expected_version = order.version;
    Ok(Decided { order: order.with_change(next, entry.clone()), expected_version, entry, payment: next.payment, change })
}
