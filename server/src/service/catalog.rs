//! Shops and products: reading the catalogue, opening and closing shops, editing products.

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;
use app::api::{Board, FigureList, OrderSort, NewProduct, NewShop, ShopFigures, ShopTimings, Product, ProductList, ProductUpdate, Shop, ShopList, ShopUpdate, StaffList, StaffMember, WithSeq};
use app::domain::validation::{self, ValidationError};
use app::domain::figures;
use app::domain::user::Role;
use app::domain::{EventType, OrderStatus, Topic};
use chrono::{DateTime, Utc};
use serde_json::json;
use crate::db::Tx;

pub async fn list_shops(state: &AppState) -> ApiResult<ShopList> {
    let mut tx = state.db.begin_read().await?;
    let seq = store::events::current_seq(&mut tx).await?;
    let items = store::shops::list(&mut tx).await?;
    Ok(ShopList { items, seq })
}

pub async fn get_shop(state: &AppState, id: i64) -> ApiResult<WithSeq<Shop>> {
    let mut tx = state.db.begin_read().await?;
    let seq = store::events::current_seq(&mut tx).await?;
    let item = store::shops::get(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    Ok(WithSeq { item, seq })
}

/// A shop's staff and who of them is online on any node (its staff and admins).
pub async fn staff(state: &AppState, session: &Session, shop_id: i64) -> ApiResult<StaffList> {
    require_staff(session, shop_id)?;
    let mut tx = state.db.begin_read().await?;
    store::shops::get(&mut tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    let seq = store::events::current_seq(&mut tx).await?;
    let items = store::users::staff_of(&mut tx, shop_id)
        .await?
        .into_iter()
        .map(|(user_id, name, online)| StaffMember { user_id, name, online })
        .collect();
    Ok(StaffList { items, seq })
}

fn require_staff(session: &Session, shop_id: i64) -> ApiResult<()> {
    if session.actor.can_manage_shop(shop_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only this shop's staff or an admin can change it"))
    }
}

/// Changes a shop (its staff and admins): opening or closing it, its details, its board's
/// thresholds. Opening or closing is announced as `store_availability_changed`; any other
/// change as `store_updated`, to everyone signed in (a shop's name, contact and hours are
/// public). An update that changes nothing writes no event.
pub async fn update_shop(state: &AppState, session: &Session, id: i64, update: ShopUpdate) -> ApiResult<WithSeq<Shop>> {
    let mut tx = state.db.begin_write().await?;
    let shop = store::shops::get(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    require_staff(session, id)?;
    let next = update.apply(&shop)?;
    let details_changed = Shop { is_open: shop.is_open, ..next.clone() } != shop;
    if next == shop {
        // Nothing to write: the shop as it stands, current as of the newest event.
        let seq = store::events::current_seq(&mut tx).await?;
        return Ok(WithSeq { item: shop, seq });
    }
    let now = super::now();
    let next = Shop { updated_at: now, ..next };
    store::shops::update(&mut tx, &next).await?;
    if next.is_open != shop.is_open {
        store::events::append(
            &mut tx,
            EventType::StoreAvailabilityChanged,
            &Topic::for_catalog(id),
            &json!({ "shop": next, "by_user_id": session.user.id }),
            now,
        );
    }
    if details_changed {
        store_updated(&mut tx, &next, session.user.id, now);
    }
    let seq = super::commit(state, tx).await?;
    Ok(WithSeq { item: next, seq })
}

/// Creates a shop, open, with no staff yet (admins). Everyone signed in hears of it.
pub async fn create_shop(state: &AppState, session: &Session, new: NewShop) -> ApiResult<WithSeq<Shop>> {
    if !session.actor.is_admin() {
        return Err(ApiError::forbidden("only admins can create shops"));
    }
    let new = new.checked()?;
    let mut tx = state.db.begin_write().await?;
    let now = super::now();
    let id = store::shops::insert(&mut tx, &new, true, now).await?;
    let shop = store::shops::get(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    store_updated(&mut tx, &shop, session.user.id, now);
    let seq = super::commit(state, tx).await?;
    Ok(WithSeq { item: shop, seq })
}

fn store_updated(tx: &mut Tx, shop: &Shop, by_user_id: i64, now: DateTime<Utc>) {
    let mut topics = Topic::for_catalog(shop.id);
    topics.push(Topic::Broadcast);
    store::events::append(tx, EventType::StoreUpdated, &topics, &json!({ "shop": shop, "by_user_id": by_user_id }), now);
}

/// The shop's usual time per stage, from its last delivered orders (anyone signed in: the
/// tracker's estimate).
pub async fn timings(state: &AppState, shop_id: i64) -> ApiResult<ShopTimings> {
    const SAMPLE: i64 = 200;
    let mut tx = state.db.begin_read().await?;
    store::shops::get(&mut tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    let scope = store::orders::Scope { shop_ids: Some(vec![shop_id]), status: Some(OrderStatus::Delivered), ..Default::default() };
    let orders = store::orders::list(&mut tx, &scope, SAMPLE, 0).await?;
    let histories: Vec<Vec<app::domain::timing::Step>> = orders.iter().map(|o| o.steps()).collect();
    let medians = app::domain::timing::stage_medians(histories.iter().map(|h| h.as_slice()));
    Ok(ShopTimings { shop_id, stage_seconds: medians.to_vec(), sample: orders.len() })
}

/// The figures of the shops the session manages (every shop for admins): orders and revenue
/// over the last 24 hours, open and late orders, the median time to ready.
pub async fn figures(state: &AppState, session: &Session) -> ApiResult<FigureList> {
    let actor = &session.actor;
    let shop_ids = match actor.role {
        Role::Admin => None,
        Role::Shopkeeper => Some(actor.shop_ids.clone()),
        Role::Customer => return Err(ApiError::forbidden("only shop staff and admins see figures")),
    };
    let now = super::now();
    let since = figures::window_start(now);
    let mut tx = state.db.begin_read().await?;
    let seq = store::events::current_seq(&mut tx).await?;
    let shops: Vec<Shop> = store::shops::list(&mut tx)
        .await?
        .into_iter()
        .filter(|s| shop_ids.as_ref().is_none_or(|ids| ids.contains(&s.id)))
        .collect();
    let placed = store::orders::placed_since(&mut tx, shop_ids.as_deref(), since).await?;
    // Open orders are few by nature (a shop works through them); their history says how long
    // each has been in its status.
    // Oldest first: past the cap, the newest are left out, never the late ones.
    let scope = store::orders::Scope { shop_ids: shop_ids.clone(), open_only: true, sort: OrderSort::Oldest, ..Default::default() };
    let open = store::orders::list(&mut tx, &scope, MAX_OPEN_FOR_FIGURES, 0).await?;
    let items = shops
        .into_iter()
        .map(|shop| {
            let mine: Vec<figures::Placed> = placed.iter().filter(|(id, _)| *id == shop.id).map(|(_, p)| *p).collect();
            let open_since: Vec<_> = open.iter().filter(|o| o.shop_id == shop.id).map(|o| o.status_since()).collect();
            let f = figures::figures(&mine, &open_since, shop.late_after_mins, now);
            ShopFigures {
                shop_id: shop.id,
                shop_name: shop.name,
                currency: shop.currency,
                orders: f.orders,
                revenue_minor: f.revenue_minor,
                open: f.open,
                late: f.late,
                median_ready_secs: f.median_ready_secs,
            }
        })
        .collect();
    Ok(FigureList { items, since, seq })
}

/// Everything a shop's board shows, in one read at one `seq` (its staff and admins): the
/// shop, its open orders and the last finished ones, its products, staff and open lists. The
/// last read is kept until something on it changes; see [`crate::board_cache`].
pub async fn board(state: &AppState, session: &Session, shop_id: i64) -> ApiResult<Board> {
    if !session.actor.can_manage_shop(shop_id) {
        return Err(ApiError::forbidden("only this shop's staff or an admin see its board"));
    }
    if state.boards.is_on() {
        let current = store::events::current_seq(&mut state.db.read().await?).await?;
        if let Some(board) = state.boards.get(shop_id, current) {
            state.hub.metrics.boards_kept.inc();
            return Ok(board);
        }
    }
    state.hub.metrics.boards_read.inc();
    let board = read_board(state, shop_id).await?;
    state.boards.store(&board);
    Ok(board)
}

async fn read_board(state: &AppState, shop_id: i64) -> ApiResult<Board> {
    let mut tx = state.db.begin_read().await?;
    let seq = store::events::current_seq(&mut tx).await?;
    let shop = store::shops::get(&mut tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    let shop_ids = || Some(vec![shop_id]);
    let open = store::orders::Scope { shop_ids: shop_ids(), open_only: true, sort: OrderSort::Oldest, ..Default::default() };
    let mut orders = store::orders::list(&mut tx, &open, Board::MAX_OPEN, 0).await?;
    for status in [OrderStatus::Delivered, OrderStatus::Cancelled] {
        let done = store::orders::Scope { shop_ids: shop_ids(), status: Some(status), ..Default::default() };
        orders.extend(store::orders::list(&mut tx, &done, Board::DONE_SHOWN as i64, 0).await?);
    }
    let products = store::products::list_for_shop(&mut tx, shop_id).await?;
    let staff = store::users::staff_of(&mut tx, shop_id)
        .await?
        .into_iter()
        .map(|(user_id, name, online)| StaffMember { user_id, name, online })
        .collect();
    let lists = store::chitties::Scope { open: true, customer_id: None, shop_ids: shop_ids() };
    let chitties = store::chitties::list(&mut tx, &lists, super::chitties::LIST_LIMIT).await?;
    Ok(Board { shop, orders, products, staff, chitties, seq })
}

/// The most open orders the figures look at (across the shops asked for).
const MAX_OPEN_FOR_FIGURES: i64 = 10_000;

pub async fn list_products(state: &AppState, shop_id: i64) -> ApiResult<ProductList> {
    let mut tx = state.db.begin_read().await?;
    let seq = store::events::current_seq(&mut tx).await?;
    store::shops::get(&mut tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    let items = store::products::list_for_shop(&mut tx, shop_id).await?;
    Ok(ProductList { items, seq })
}

pub async fn create_product(state: &AppState, session: &Session, shop_id: i64, new: NewProduct) -> ApiResult<WithSeq<Product>> {
    validation::name(&new.name)?;
    validation::price(new.price_minor)?;
    validation::stock(new.stock)?;
    validation::threshold(new.low_stock_threshold)?;

    let mut tx = state.db.begin_write().await?;
    store::shops::get(&mut tx, shop_id).await?.ok_or_else(|| ApiError::not_found("shop"))?;
    require_staff(session, shop_id)?;
    let now = super::now();
    let product = store::products::insert(&mut tx, shop_id, &new, now).await?;
    store::events::append(
        &mut tx,
        EventType::ProductUpdated,
        &Topic::for_catalog(shop_id),
        &json!({ "change": "created", "product": product }),
        now,
    );
    if validation::is_low_stock(product.stock, product.low_stock_threshold) {
        stock_low(&mut tx, &product, now);
    }
    let seq = super::commit(state, tx).await?;
    Ok(WithSeq { item: product, seq })
}

pub async fn update_product(state: &AppState, session: &Session, id: i64, update: ProductUpdate) -> ApiResult<WithSeq<Product>> {
    let ProductUpdate { name, price_minor, stock, low_stock_threshold, available } = update;
    if name.is_none() && price_minor.is_none() && stock.is_none() && low_stock_threshold.is_none() && available.is_none() {
        return Err(ValidationError::EmptyUpdate.into());
    }
    if let Some(n) = &name {
        validation::name(n)?;
    }
    if let Some(p) = price_minor {
        validation::price(p)?;
    }
    if let Some(s) = stock {
        validation::stock(s)?;
    }
    if let Some(t) = low_stock_threshold {
        validation::threshold(t)?;
    }

    let mut tx = state.db.begin_write().await?;
    store::products::lock(&mut tx, &[id]).await?;
    let before = store::products::get(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("product"))?;
    require_staff(session, before.shop_id)?;
    let now = super::now();
    let after = Product {
        name: name.map(|n| n.trim().to_owned()).unwrap_or_else(|| before.name.clone()),
        price_minor: price_minor.unwrap_or(before.price_minor),
        stock: stock.unwrap_or(before.stock),
        low_stock_threshold: low_stock_threshold.unwrap_or(before.low_stock_threshold),
        available: available.unwrap_or(before.available),
        updated_at: now,
        ..before.clone()
    };
    if after == (Product { updated_at: now, ..before.clone() }) {
        let seq = store::events::current_seq(&mut tx).await?;
        return Ok(WithSeq { item: before, seq });
    }
    store::products::update(&mut tx, &after).await?;
    product_events(&mut tx, &before, &after, now);
    let seq = super::commit(state, tx).await?;
    Ok(WithSeq { item: after, seq })
}

/// Appends the events describing how a product changed from `before` to `after`.
pub fn product_events(tx: &mut Tx, before: &Product, after: &Product, now: DateTime<Utc>) {
    let topics = Topic::for_catalog(after.shop_id);
    if before.name != after.name || before.price_minor != after.price_minor || before.low_stock_threshold != after.low_stock_threshold {
        store::events::append(tx, EventType::ProductUpdated, &topics, &json!({ "change": "updated", "product": after }), now);
    }
    if before.available != after.available {
        store::events::append(
            tx,
            EventType::ProductAvailabilityChanged,
            &topics,
            &json!({ "product_id": after.id, "shop_id": after.shop_id, "available": after.available, "updated_at": after.updated_at }),
            now,
        );
    }
    if before.stock != after.stock {
        store::events::append(
            tx,
            EventType::InventoryUpdated,
            &topics,
            &json!({
                "product_id": after.id,
                "shop_id": after.shop_id,
                "stock": after.stock,
                "previous_stock": before.stock,
                "updated_at": after.updated_at,
            }),
            now,
        );
    }
    let was_low = validation::is_low_stock(before.stock, before.low_stock_threshold);
    if !was_low && validation::is_low_stock(after.stock, after.low_stock_threshold) {
        stock_low(tx, after, now);
    }
}

fn stock_low(tx: &mut Tx, p: &Product, now: DateTime<Utc>) {
    store::events::append(
        tx,
        EventType::StockLow,
        &Topic::for_staff(p.shop_id),
        &json!({ "product_id": p.id, "shop_id": p.shop_id, "name": p.name, "stock": p.stock, "threshold": p.low_stock_threshold }),
        now,
    );
}
