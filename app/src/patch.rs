//! How events change what a page shows: pure functions from an event to a change of the
//! page's data, unit-tested here. The pages only hold the signals and call these.
//!
//! Every event carries enough to patch in place (an order's full snapshot, a product's new
//! stock, a shop's state), so a page never refetches a list because something in it changed.

use crate::api::{Board, Chitty, Notification, Order, Product, Shop, StaffMember};
use crate::domain::EventType;
use crate::protocol::EventEnvelope;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The order snapshot an `order_created` or `order_updated` event carries.
pub fn order_of(event: &EventEnvelope) -> Option<Order> {
    if !matches!(event.event_type, EventType::OrderCreated | EventType::OrderUpdated) {
        return None;
    }
    event.data.decode::<OrderData>().map(|d| d.order)
}

#[derive(Deserialize)]
struct OrderData {
    order: Order,
}

/// Applies an order snapshot to a newest-first list: a newer `version` replaces the row in
/// place, an unknown order goes where its creation time puts it (a new one on top, an older
/// one that was not on the page below the newer ones). Returns whether anything changed.
pub fn patch_orders(rows: &mut Vec<Order>, order: Order) -> bool {
    match rows.iter_mut().find(|o| o.id == order.id) {
        Some(existing) if existing.version >= order.version => false,
        Some(existing) => {
            *existing = order;
            true
        }
        None => {
            let key = (order.created_at, order.id);
            let at = rows.iter().position(|o| (o.created_at, o.id) < key).unwrap_or(rows.len());
            rows.insert(at, order);
            true
        }
    }
}

/// The chitty (photographed list) a `chitty_*` event carries.
pub fn chitty_of(event: &EventEnvelope) -> Option<Chitty> {
    if !matches!(
        event.event_type,
        EventType::ChittyReceived | EventType::ChittyProcessed | EventType::ChittyFailed | EventType::ChittyUpdated
    ) {
        return None;
    }
    event.data.decode::<ChittyData>().map(|d| d.chitty)
}

#[derive(Deserialize)]
struct ChittyData {
    chitty: Chitty,
}

/// Applies a chitty snapshot to a newest-first list, like [`patch_orders`]. With `open_only`
/// (the board), a chitty staff have handled leaves the list. Returns whether anything changed.
pub fn patch_chitties(rows: &mut Vec<Chitty>, chitty: Chitty, open_only: bool) -> bool {
    let position = rows.iter().position(|c| c.id == chitty.id);
    if let Some(i) = position {
        if rows[i].version >= chitty.version {
            return false;
        }
        if open_only && chitty.status.is_final() {
            rows.remove(i);
        } else {
            rows[i] = chitty;
        }
        return true;
    }
    if open_only && chitty.status.is_final() {
        return false;
    }
    let at = rows.iter().position(|c| c.id < chitty.id).unwrap_or(rows.len());
    rows.insert(at, chitty);
    true
}

/// A change to a shop or its catalogue, as the catalogue events describe it.
#[derive(Clone, Debug, PartialEq)]
pub enum CatalogChange {
    Shop(Shop),
    Product(Product),
    /// `updated_at` is the product's own; events written before it was carried have none.
    Availability { shop_id: i64, product_id: i64, available: bool, updated_at: Option<DateTime<Utc>> },
    Stock { shop_id: i64, product_id: i64, stock: i64, updated_at: Option<DateTime<Utc>> },
}

#[derive(Deserialize)]
struct ShopData {
    shop: Shop,
}
#[derive(Deserialize)]
struct ProductData {
    product: Product,
}
#[derive(Deserialize)]
struct AvailabilityData {
    shop_id: i64,
    product_id: i64,
    available: bool,
    #[serde(default, deserialize_with = "crate::timestamp::utc_opt")]
    updated_at: Option<DateTime<Utc>>,
}
#[derive(Deserialize)]
struct StockData {
    shop_id: i64,
    product_id: i64,
    stock: i64,
    #[serde(default, deserialize_with = "crate::timestamp::utc_opt")]
    updated_at: Option<DateTime<Utc>>,
}

pub fn catalog_change(event: &EventEnvelope) -> Option<CatalogChange> {
    let data = &event.data;
    match event.event_type {
        EventType::StoreAvailabilityChanged | EventType::StoreUpdated => data.decode::<ShopData>().map(|d| CatalogChange::Shop(d.shop)),
        EventType::ProductUpdated => data.decode::<ProductData>().map(|d| CatalogChange::Product(d.product)),
        EventType::ProductAvailabilityChanged => data
            .decode::<AvailabilityData>()
            .map(|d| CatalogChange::Availability { shop_id: d.shop_id, product_id: d.product_id, available: d.available, updated_at: d.updated_at }),
        EventType::InventoryUpdated => data
            .decode::<StockData>()
            .map(|d| CatalogChange::Stock { shop_id: d.shop_id, product_id: d.product_id, stock: d.stock, updated_at: d.updated_at }),
        _ => None,
    }
}

/// Applies a catalogue change to one shop's product list. Returns whether anything changed.
pub fn patch_products(products: &mut Vec<Product>, shop_id: i64, change: &CatalogChange) -> bool {
    match change {
        CatalogChange::Product(p) if p.shop_id == shop_id => match products.iter_mut().find(|x| x.id == p.id) {
            Some(existing) if existing == p => false,
            Some(existing) => {
                *existing = p.clone();
                true
            }
            None => {
                products.push(p.clone());
                true
            }
        },
        CatalogChange::Availability { shop_id: s, product_id, available, updated_at } if *s == shop_id => {
            set_field(products, *product_id, *updated_at, |p| std::mem::replace(&mut p.available, *available) != *available)
        }
        CatalogChange::Stock { shop_id: s, product_id, stock, updated_at } if *s == shop_id => {
            set_field(products, *product_id, *updated_at, |p| std::mem::replace(&mut p.stock, *stock) != *stock)
        }
        _ => false,
    }
}

fn set_field(products: &mut [Product], id: i64, updated_at: Option<DateTime<Utc>>, f: impl FnOnce(&mut Product) -> bool) -> bool {
    products.iter_mut().find(|p| p.id == id).is_some_and(|p| {
        if let Some(at) = updated_at {
            p.updated_at = at;
        }
        f(p)
    })
}

/// Applies a catalogue change to a list of shops. Returns whether anything changed.
pub fn patch_shops(shops: &mut Vec<Shop>, change: &CatalogChange) -> bool {
    let CatalogChange::Shop(shop) = change else { return false };
    match shops.iter_mut().find(|s| s.id == shop.id) {
        Some(existing) if existing.updated_at <= shop.updated_at && existing != shop => {
            *existing = shop.clone();
            true
        }
        Some(_) => false,
        // A shop created while the page is open.
        None => {
            shops.push(shop.clone());
            shops.sort_by_key(|s| s.id);
            true
        }
    }
}

/// A `stock_low` alert.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct StockLow {
    pub shop_id: i64,
    pub product_id: i64,
    pub name: String,
    pub stock: i64,
    pub threshold: i64,
}

pub fn stock_low_of(event: &EventEnvelope) -> Option<StockLow> {
    (event.event_type == EventType::StockLow).then(|| event.data.decode()).flatten()
}

pub fn notification_of(event: &EventEnvelope) -> Option<Notification> {
    (event.event_type == EventType::Notification).then(|| event.data.decode()).flatten()
}

#[derive(Deserialize)]
struct PresenceData {
    user_id: i64,
    name: String,
    shop_id: i64,
    online: bool,
}

/// Applies a `user_connected` / `user_disconnected` event to a shop's staff list.
pub fn patch_staff(staff: &mut Vec<StaffMember>, shop_id: i64, event: &EventEnvelope) -> bool {
    if !matches!(event.event_type, EventType::UserConnected | EventType::UserDisconnected) {
        return false;
    }
    let Some(p) = event.data.decode::<PresenceData>() else { return false };
    if p.shop_id != shop_id {
        return false;
    }
    match staff.iter_mut().find(|m| m.user_id == p.user_id) {
        Some(m) if m.online == p.online => false,
        Some(m) => {
            m.online = p.online;
            true
        }
        None => {
            staff.push(StaffMember { user_id: p.user_id, name: p.name, online: p.online });
            true
        }
    }
}

/// Whether a board kept on the server (`server/src/board_cache.rs`) could follow an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoardPatch {
    /// The board is now as a fresh read would return it (the event may have changed nothing).
    Applied,
    /// The event changes the board in a way a patch cannot follow exactly (an order or list
    /// past what the board holds comes into view, an unknown member of staff): read it again.
    ReadAgain,
}

/// Applies an event for the board's shop to the board, so that it stays what
/// `GET /shops/{id}/board` would read: open orders by id (at most [`Board::MAX_OPEN`]), then
/// the newest [`Board::DONE_SHOWN`] delivered and cancelled ones; products by id; staff as
/// they are; open lists newest first, at most `lists_max`. `board.seq` is left to the caller.
pub fn patch_board(board: &mut Board, event: &EventEnvelope, lists_max: usize) -> BoardPatch {
    use BoardPatch::*;
    let shop_id = board.shop.id;
    match event.event_type {
        EventType::OrderCreated | EventType::OrderUpdated => match order_of(event) {
            Some(order) if order.shop_id == shop_id => place_on_board(&mut board.orders, order),
            Some(_) => Applied,
            None => ReadAgain,
        },
        EventType::ChittyReceived | EventType::ChittyProcessed | EventType::ChittyFailed | EventType::ChittyUpdated => {
            match chitty_of(event) {
                Some(chitty) if chitty.shop_id == shop_id => {
                    let (before, known) = (board.chitties.len(), board.chitties.iter().any(|c| c.id == chitty.id));
                    // A handled list leaves a full board: the next one down is not on it.
                    if known && chitty.status.is_final() && before >= lists_max {
                        return ReadAgain;
                    }
                    patch_chitties(&mut board.chitties, chitty, true);
                    board.chitties.truncate(lists_max);
                    Applied
                }
                Some(_) => Applied,
                None => ReadAgain,
            }
        }
        EventType::StoreUpdated
        | EventType::StoreAvailabilityChanged
        | EventType::ProductUpdated
        | EventType::ProductAvailabilityChanged
        | EventType::InventoryUpdated => match catalog_change(event) {
            Some(CatalogChange::Shop(shop)) => {
                if shop.id == shop_id {
                    board.shop = shop;
                }
                Applied
            }
            Some(CatalogChange::Availability { shop_id: s, product_id, .. } | CatalogChange::Stock { shop_id: s, product_id, .. })
                if s == shop_id && !board.products.iter().any(|p| p.id == product_id) =>
            {
                ReadAgain
            }
            Some(change) => {
                patch_products(&mut board.products, shop_id, &change);
                Applied
            }
            None => ReadAgain,
        },
        EventType::UserConnected | EventType::UserDisconnected => {
            let Some(p) = event.data.decode::<PresenceData>() else { return ReadAgain };
            if p.shop_id == shop_id && !board.staff.iter().any(|m| m.user_id == p.user_id) {
                return ReadAgain;
            }
            patch_staff(&mut board.staff, shop_id, event);
            Applied
        }
        // Alerts about what the board shows already.
        EventType::StockLow | EventType::Notification => Applied,
        EventType::AccessChanged | EventType::SessionEnded => ReadAgain,
    }
}

/// Puts an order snapshot where [`patch_board`] says, replacing an older one.
fn place_on_board(orders: &mut Vec<Order>, order: Order) -> BoardPatch {
    let open = |o: &Order| !o.status.is_final();
    let open_count = orders.iter().filter(|o| open(o)).count();
    if let Some(at) = orders.iter().position(|o| o.id == order.id) {
        if orders[at].version >= order.version {
            return BoardPatch::Applied;
        }
        let was_open = open(&orders[at]);
        // An order leaving a full board's open ones lets an order it did not hold into view.
        if was_open && !open(&order) && open_count as i64 >= Board::MAX_OPEN {
            return BoardPatch::ReadAgain;
        }
        orders.remove(at);
    } else if open(&order) && open_count as i64 >= Board::MAX_OPEN {
        return BoardPatch::ReadAgain;
    }
    // Open orders by id, then each final status's newest few by id, newest first.
    let (mut open_orders, mut done): (Vec<Order>, Vec<Order>) = std::mem::take(orders).into_iter().partition(open);
    if open(&order) {
        open_orders.push(order);
        open_orders.sort_by_key(|o| o.id);
    } else {
        done.push(order);
    }
    let (delivered, cancelled): (Vec<Order>, Vec<Order>) =
        done.into_iter().partition(|o| o.status == crate::domain::OrderStatus::Delivered);
    *orders = open_orders;
    for mut these in [delivered, cancelled] {
        these.sort_by_key(|o| std::cmp::Reverse(o.id));
        these.truncate(Board::DONE_SHOWN);
        orders.extend(these);
    }
    BoardPatch::Applied
}

/// How long ago `since` was, short enough for a card: "just now", "4 min", "2 h 5 min", "3 d".
pub fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - since).num_minutes().max(0);
    match minutes {
        0 => "just now".into(),
        1..=59 => format!("{minutes} min"),
        60..=1439 if minutes % 60 == 0 => format!("{} h", minutes / 60),
        60..=1439 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d", minutes / 1440),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderStatus, PaymentStatus, Topic};
    use crate::protocol::Payload;
    use serde_json::json;

    fn order(id: i64, version: i64, status: OrderStatus) -> Order {
        let at = DateTime::UNIX_EPOCH;
        Order {
            id,
            shop_id: 1,
            shop_name: "Shop".into(),
            currency: "EUR".into(),
            customer_id: 1,
            customer_name: "C".into(),
            items: vec![],
            total_minor: 0,
            status,
            payment_status: PaymentStatus::Unpaid,
            version,
            created_at: at,
            updated_at: at,
            history: vec![],
        }
    }

    fn product(id: i64, shop_id: i64) -> Product {
        Product {
            id,
            shop_id,
            name: format!("P{id}"),
            price_minor: 100,
            stock: 10,
            low_stock_threshold: 2,
            available: true,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    fn event(event_type: EventType, data: serde_json::Value) -> EventEnvelope {
        EventEnvelope { event_type, seq: 1, topic: Topic::Admin, at: DateTime::UNIX_EPOCH, data: Payload::from_value(&data) }
    }

    #[test]
    fn only_newer_versions_replace_a_row_and_new_orders_go_on_top() {
        let mut rows = vec![order(2, 3, OrderStatus::Preparing), order(1, 1, OrderStatus::Pending)];
        assert!(!patch_orders(&mut rows, order(2, 2, OrderStatus::Confirmed)), "older snapshot ignored");
        assert!(!patch_orders(&mut rows, order(2, 3, OrderStatus::Preparing)), "same version ignored");
        assert!(patch_orders(&mut rows, order(1, 2, OrderStatus::Confirmed)));
        assert_eq!(rows[1].status, OrderStatus::Confirmed);
        assert!(patch_orders(&mut rows, order(3, 1, OrderStatus::Pending)));
        assert_eq!(rows.iter().map(|o| o.id).collect::<Vec<_>>(), [3, 2, 1]);
        // An older order that was not on the page goes below the newer ones.
        let mut old = order(0, 4, OrderStatus::Ready);
        old.created_at -= chrono::Duration::hours(1);
        assert!(patch_orders(&mut rows, old));
        assert_eq!(rows.iter().map(|o| o.id).collect::<Vec<_>>(), [3, 2, 1, 0]);
    }

    #[test]
    fn order_events_carry_their_snapshot_and_others_do_not() {
        let o = order(7, 2, OrderStatus::Ready);
        let e = event(EventType::OrderUpdated, json!({ "change": "status_changed", "order": o }));
        assert_eq!(order_of(&e), Some(o));
        assert_eq!(order_of(&event(EventType::StockLow, json!({ "order": order(1, 1, OrderStatus::Pending) }))), None);
        assert_eq!(order_of(&event(EventType::OrderCreated, json!({ "order": "garbage" }))), None);
    }

    #[test]
    fn catalogue_events_patch_only_their_shops_products() {
        let mut products = vec![product(1, 1), product(2, 1)];
        let off = catalog_change(&event(
            EventType::ProductAvailabilityChanged,
            json!({ "product_id": 2, "shop_id": 1, "available": false }),
        ))
        .unwrap();
        assert!(patch_products(&mut products, 1, &off));
        assert!(!products[1].available);
        assert!(!patch_products(&mut products, 1, &off), "applying it twice changes nothing");
        assert!(!patch_products(&mut products, 2, &off), "another shop's page ignores it");

        let stock = catalog_change(&event(
            EventType::InventoryUpdated,
            json!({ "product_id": 1, "shop_id": 1, "stock": 3, "previous_stock": 10 }),
        ))
        .unwrap();
        assert!(patch_products(&mut products, 1, &stock));
        assert_eq!(products[0].stock, 3);

        let new = product(3, 1);
        let created = catalog_change(&event(EventType::ProductUpdated, json!({ "change": "created", "product": new }))).unwrap();
        assert!(patch_products(&mut products, 1, &created));
        assert_eq!(products.len(), 3);
        assert!(!patch_products(&mut products, 1, &created));
    }

    #[test]
    fn shop_events_patch_the_shop_list() {
        let at = DateTime::UNIX_EPOCH;
        let mut shops = vec![Shop { name: "A".into(), updated_at: at, ..Shop::example(1) }];
        let closed = Shop { is_open: false, ..shops[0].clone() };
        let change = catalog_change(&event(EventType::StoreAvailabilityChanged, json!({ "shop": closed, "by_user_id": 2 }))).unwrap();
        assert!(patch_shops(&mut shops, &change));
        assert!(!shops[0].is_open);
        assert!(!patch_shops(&mut shops, &change));
        // A shop created while the page is open joins the list, in id order.
        let created = Shop { id: 3, name: "C".into(), ..shops[0].clone() };
        let change = catalog_change(&event(EventType::StoreUpdated, json!({ "shop": created, "by_user_id": 1 }))).unwrap();
        assert!(patch_shops(&mut shops, &change));
        assert_eq!(shops.iter().map(|s| s.id).collect::<Vec<_>>(), vec![1, 3]);
        assert!(!patch_shops(&mut shops, &change));
        assert_eq!(catalog_change(&event(EventType::StoreAvailabilityChanged, json!({ "nope": 1 }))), None);
    }

    #[test]
    fn presence_events_mark_staff_online_and_offline() {
        let mut staff = vec![StaffMember { user_id: 5, name: "Bea".into(), online: false }];
        let on = event(EventType::UserConnected, json!({ "user_id": 5, "name": "Bea", "shop_id": 1, "online": true }));
        assert!(patch_staff(&mut staff, 1, &on));
        assert!(staff[0].online);
        assert!(!patch_staff(&mut staff, 2, &on), "another shop's presence");
        let off = event(EventType::UserDisconnected, json!({ "user_id": 5, "name": "Bea", "shop_id": 1, "online": false }));
        assert!(patch_staff(&mut staff, 1, &off));
        assert!(!staff[0].online);
    }

    #[test]
    fn alerts_and_notifications_parse_from_their_events() {
        let low = stock_low_of(&event(
            EventType::StockLow,
            json!({ "product_id": 1, "shop_id": 1, "name": "Loaf", "stock": 1, "threshold": 2 }),
        ))
        .unwrap();
        assert_eq!((low.name.as_str(), low.stock), ("Loaf", 1));
        let n = notification_of(&event(
            EventType::Notification,
            json!({ "user_id": null, "severity": "warning", "text": "Closing early", "from_user_id": 1, "at": "2026-01-01T00:00:00Z" }),
        ))
        .unwrap();
        assert_eq!(n.text, "Closing early");
        assert_eq!(notification_of(&event(EventType::StockLow, json!({}))), None);
    }

    #[test]
    fn ages_read_like_a_clock() {
        let t0 = DateTime::UNIX_EPOCH;
        let at = |mins: i64| t0 + chrono::Duration::minutes(mins);
        assert_eq!(age(t0, at(0)), "just now");
        assert_eq!(age(at(5), t0), "just now", "clock skew never shows a negative age");
        assert_eq!(age(t0, at(4)), "4 min");
        assert_eq!(age(t0, at(60)), "1 h");
        assert_eq!(age(t0, at(125)), "2 h 5 min");
        assert_eq!(age(t0, at(3 * 1440 + 7)), "3 d");
    }

    fn chitty(id: i64, version: i64, status: crate::domain::ChittyStatus) -> Chitty {
        Chitty {
            id,
            shop_id: 1,
            shop_name: "Shop".into(),
            customer_id: 2,
            customer_name: "Alice".into(),
            status,
            note: None,
            reason: None,
            lines: Vec::new(),
            order_id: None,
            version,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn chitties_are_patched_by_version_and_handled_ones_leave_the_board() {
        use crate::domain::ChittyStatus::*;
        let mut board = vec![chitty(2, 1, Processing)];
        assert!(patch_chitties(&mut board, chitty(3, 1, Processing), true));
        assert_eq!(board.iter().map(|c| c.id).collect::<Vec<_>>(), [3, 2], "newest first");
        assert!(patch_chitties(&mut board, chitty(2, 2, Read), true));
        assert!(!patch_chitties(&mut board, chitty(2, 1, Processing), true), "an older snapshot changes nothing");
        assert_eq!(board[1].status, Read);
        assert!(patch_chitties(&mut board, chitty(2, 3, Ordered), true));
        assert_eq!(board.iter().map(|c| c.id).collect::<Vec<_>>(), [3], "handled lists leave the board");
        assert!(!patch_chitties(&mut board, chitty(1, 3, Rejected), true));
        // A customer's page keeps them.
        let mut mine = vec![chitty(2, 2, Read)];
        assert!(patch_chitties(&mut mine, chitty(2, 3, Ordered), false));
        assert_eq!(mine[0].status, Ordered);

        let event = EventEnvelope {
            event_type: EventType::ChittyProcessed,
            seq: 9,
            topic: Topic::Shop(1),
            at: DateTime::UNIX_EPOCH,
            data: Payload::from_value(&json!({ "chitty": chitty(4, 2, Read) })),
        };
        assert_eq!(chitty_of(&event).map(|c| c.id), Some(4));
        assert_eq!(chitty_of(&EventEnvelope { event_type: EventType::OrderUpdated, ..event }), None);
    }

    fn board_of(orders: Vec<Order>) -> Board {
        Board { shop: Shop::example(1), orders, products: vec![product(1, 1)], staff: vec![], chitties: vec![], seq: 1 }
    }

    fn ids(board: &Board) -> Vec<(i64, OrderStatus)> {
        board.orders.iter().map(|o| (o.id, o.status)).collect()
    }

    #[test]
    fn a_kept_board_takes_orders_where_a_fresh_read_puts_them() {
        use OrderStatus::*;
        let at = |e: EventType, o: &Order| event(e, json!({ "change": "status_changed", "order": o }));
        let mut board = board_of(vec![order(2, 1, Pending), order(5, 1, Pending), order(1, 3, Delivered)]);
        // A new order joins the open ones by id; one moving on stays where it is.
        assert_eq!(patch_board(&mut board, &at(EventType::OrderCreated, &order(7, 1, Pending)), 100), BoardPatch::Applied);
        assert_eq!(patch_board(&mut board, &at(EventType::OrderUpdated, &order(5, 2, Preparing)), 100), BoardPatch::Applied);
        assert_eq!(ids(&board), [(2, Pending), (5, Preparing), (7, Pending), (1, Delivered)]);
        // Finished ones leave the open ones for their status's newest few, newest first.
        patch_board(&mut board, &at(EventType::OrderUpdated, &order(2, 2, Delivered)), 100);
        patch_board(&mut board, &at(EventType::OrderUpdated, &order(7, 2, Cancelled)), 100);
        assert_eq!(ids(&board), [(5, Preparing), (2, Delivered), (1, Delivered), (7, Cancelled)]);
        // An older snapshot, or another shop's order, changes nothing.
        patch_board(&mut board, &at(EventType::OrderUpdated, &order(5, 1, Pending)), 100);
        let elsewhere = Order { shop_id: 2, ..order(9, 1, Pending) };
        patch_board(&mut board, &at(EventType::OrderCreated, &elsewhere), 100);
        assert_eq!(ids(&board), [(5, Preparing), (2, Delivered), (1, Delivered), (7, Cancelled)]);
        // Only the newest delivered ones stay.
        let mut full = board_of((10..10 + Board::DONE_SHOWN as i64).map(|id| order(id, 5, Delivered)).collect());
        patch_board(&mut full, &at(EventType::OrderUpdated, &order(3, 2, Delivered)), 100);
        assert_eq!(full.orders.len(), Board::DONE_SHOWN);
        assert!(full.orders.iter().all(|o| o.id >= 10), "an older one does not push a newer one out");
        patch_board(&mut full, &at(EventType::OrderUpdated, &order(40, 2, Delivered)), 100);
        assert_eq!((full.orders.len(), full.orders[0].id, full.orders.last().map(|o| o.id)), (Board::DONE_SHOWN, 40, Some(11)));
    }

    #[test]
    fn a_kept_board_is_read_again_where_a_patch_cannot_know_what_comes_into_view() {
        use OrderStatus::*;
        let at = |e: EventType, o: &Order| event(e, json!({ "change": "status_changed", "order": o }));
        // As many open orders as a board holds: one more, or one leaving, changes what is held.
        let mut full = board_of((1..=Board::MAX_OPEN).map(|id| order(id, 1, Pending)).collect());
        assert_eq!(patch_board(&mut full.clone(), &at(EventType::OrderCreated, &order(5_000, 1, Pending)), 100), BoardPatch::ReadAgain);
        assert_eq!(patch_board(&mut full.clone(), &at(EventType::OrderUpdated, &order(3, 2, Cancelled)), 100), BoardPatch::ReadAgain);
        assert_eq!(patch_board(&mut full, &at(EventType::OrderUpdated, &order(3, 2, Ready)), 100), BoardPatch::Applied);

        // Lists: a new one on top (the oldest falls off a full board); a handled one leaves,
        // which on a full board lets in one the board does not hold.
        use crate::domain::ChittyStatus::*;
        let list = |c: Chitty| event(EventType::ChittyUpdated, json!({ "chitty": c }));
        let mut board = board_of(vec![]);
        board.chitties = vec![chitty(3, 1, Read), chitty(2, 1, Read)];
        assert_eq!(patch_board(&mut board, &list(chitty(4, 1, Processing)), 2), BoardPatch::Applied);
        assert_eq!(board.chitties.iter().map(|c| c.id).collect::<Vec<_>>(), [4, 3]);
        assert_eq!(patch_board(&mut board.clone(), &list(chitty(3, 2, Ordered)), 2), BoardPatch::ReadAgain);
        assert_eq!(patch_board(&mut board, &list(chitty(3, 2, Ordered)), 3), BoardPatch::Applied);
        assert_eq!(board.chitties.iter().map(|c| c.id).collect::<Vec<_>>(), [4]);

        // Stock of a product the board does not list, presence of someone not on its staff.
        let stock = event(EventType::InventoryUpdated, json!({ "product_id": 9, "shop_id": 1, "stock": 3 }));
        assert_eq!(patch_board(&mut board, &stock, 100), BoardPatch::ReadAgain);
        let stock = event(EventType::InventoryUpdated, json!({ "product_id": 1, "shop_id": 1, "stock": 3 }));
        assert_eq!(patch_board(&mut board, &stock, 100), BoardPatch::Applied);
        assert_eq!(board.products[0].stock, 3);
        let on = event(EventType::UserConnected, json!({ "user_id": 5, "name": "Bea", "shop_id": 1, "online": true }));
        assert_eq!(patch_board(&mut board, &on, 100), BoardPatch::ReadAgain);
        board.staff.push(StaffMember { user_id: 5, name: "Bea".into(), online: false });
        assert_eq!(patch_board(&mut board, &on, 100), BoardPatch::Applied);
        assert!(board.staff[0].online);
        // Anything unreadable, and changes of rights.
        assert_eq!(patch_board(&mut board, &event(EventType::OrderUpdated, json!({})), 100), BoardPatch::ReadAgain);
        assert_eq!(patch_board(&mut board, &event(EventType::AccessChanged, json!({})), 100), BoardPatch::ReadAgain);
        assert_eq!(patch_board(&mut board, &event(EventType::StockLow, json!({})), 100), BoardPatch::Applied);
    }
}
