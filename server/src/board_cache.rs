//! Each shop's board as last read, kept in memory and kept current with every event, so that
//! opening a board (the page, the API, a board catching up after an outage) does not read the
//! database again, even during a service where it changes every few seconds. A busy board is
//! the largest read the server makes: 200 open orders with their lines and histories, the
//! products, the staff and the lists, in eight statements.
//!
//! A board is read at one `seq` and everything on it is a shop's staff's business, so every
//! change to it is an outbox event for `Topic::Shop` (orders, catalogue, stock, presence,
//! lists) or an internal `access_changed` (who works where). An entry is never older than
//! what its reader already knows of:
//! - every node's relay hands each event to [`BoardCache::apply`] before the hub sees it, which
//!   patches the boards it touches as the browser's board patches itself
//!   ([`app::patch::patch_board`]: an order placed or moved on, stock, presence, a list) and
//!   drops the ones a patch cannot follow exactly, and tells the cache how far it has read
//!   ([`BoardCache::relayed`], [`BoardCache::skipped`]);
//! - an entry is answered only when the relay has applied every event committed before the
//!   request asked ([`BoardCache::get`] takes the outbox's current `seq`): whoever just changed
//!   something, on any node, reads it back;
//! - a read that raced a change (read before the event committed, kept after the relay applied
//!   it) is not kept: `apply` remembers the `seq` of each shop's last event, and a board read
//!   at a lower `seq` is not stored;
//! - whatever happens to the relay, an entry is dropped `ttl` after it was read.
//!
//! And a board is never wrong for long where it matters: every browser resumes its live
//! connection from the board's `seq`, so any event after it is replayed to the page.

use crate::service::chitties::LIST_LIMIT;
use crate::store::events::StoredEvent;
use app::api::Board;
use app::domain::{EventType, Topic};
use app::patch::{patch_board, BoardPatch};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct BoardCache {
    inner: Mutex<Inner>,
    ttl: Duration,
}

#[derive(Default)]
struct Inner {
    /// By shop: the board and when it was read.
    boards: HashMap<i64, (Board, Instant)>,
    /// By shop: the `seq` of the last event for it that this node's relay applied.
    changed: HashMap<i64, i64>,
    /// The `seq` of the last event that may have changed every board.
    all_changed: i64,
    /// Every event up to this `seq` has been applied.
    relayed: i64,
}

impl BoardCache {
    /// `ttl` zero turns the cache off.
    pub fn new(ttl: Duration) -> Self {
        BoardCache { inner: Mutex::default(), ttl }
    }

    /// Whether boards are kept at all (`--board-cache-secs` above 0).
    pub fn is_on(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The shop's board, if it was read less than `ttl` ago and nothing on it changed since,
    /// as far as the events up to `current` (the outbox's newest `seq`, read just before) tell:
    /// none while the relay has not applied them all.
    pub fn get(&self, shop_id: i64, current: i64) -> Option<Board> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.relayed < current {
            return None;
        }
        let (board, read_at) = inner.boards.get(&shop_id)?;
        (read_at.elapsed() < self.ttl).then(|| board.clone())
    }

    /// Keeps a board just read, unless an event after its `seq` was applied meanwhile.
    pub fn store(&self, board: &Board) {
        if !self.is_on() {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let changed = inner.changed.get(&board.shop.id).copied().unwrap_or(0).max(inner.all_changed);
        if board.seq < changed {
            return;
        }
        let ttl = self.ttl;
        inner.boards.retain(|_, (_, read_at)| read_at.elapsed() < ttl);
        inner.boards.insert(board.shop.id, (board.clone(), Instant::now()));
    }

    /// Patches (or drops) the boards an event changes: called by the relay for every event, on
    /// every node, in `seq` order.
    pub fn apply(&self, event: &StoredEvent) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.relayed = inner.relayed.max(event.seq);
        if event.event_type == EventType::AccessChanged || event.topics.contains(&Topic::Broadcast) {
            inner.all_changed = inner.all_changed.max(event.seq);
            inner.boards.clear();
            return;
        }
        for topic in &event.topics {
            let Topic::Shop(shop_id) = *topic else { continue };
            let changed = inner.changed.entry(shop_id).or_default();
            *changed = (*changed).max(event.seq);
            let Some((board, _)) = inner.boards.get_mut(&shop_id) else { continue };
            // A board read after this event holds it already (the relay may run behind reads).
            if board.seq >= event.seq {
                continue;
            }
            match patch_board(board, &event.envelope(Topic::Shop(shop_id)), LIST_LIMIT as usize) {
                BoardPatch::Applied => board.seq = event.seq,
                BoardPatch::ReadAgain => {
                    inner.boards.remove(&shop_id);
                }
            }
        }
    }

    /// The relay starts after `seq`: every event up to it was committed before this node ran.
    pub fn relayed(&self, seq: i64) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.relayed = inner.relayed.max(seq);
    }

    /// The relay moved past events up to `seq` it could not read (pruned before it got to
    /// them): whatever they changed is unknown, so every board is dropped.
    pub fn skipped(&self, seq: i64) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.all_changed = inner.all_changed.max(seq);
        inner.boards.clear();
        inner.relayed = inner.relayed.max(seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::Shop;
    use chrono::Utc;

    fn board(shop_id: i64, seq: i64) -> Board {
        let shop = Shop {
            id: shop_id,
            name: "S".into(),
            is_open: true,
            address: String::new(),
            phone: String::new(),
            opening_hours: String::new(),
            currency: "GBP".into(),
            warn_after_mins: 10,
            late_after_mins: 20,
            updated_at: Utc::now(),
        };
        Board { shop, orders: vec![], products: vec![], staff: vec![], chitties: vec![], seq }
    }

    fn event(seq: i64, event_type: EventType, topics: Vec<Topic>) -> StoredEvent {
        StoredEvent { seq, event_type, topics, payload: serde_json::json!({}), created_at: Utc::now() }
    }

    fn order_event(seq: i64, id: i64, shop_id: i64, status: &str, version: i64) -> StoredEvent {
        let order = serde_json::json!({
            "id": id, "shop_id": shop_id, "shop_name": "S", "currency": "GBP", "customer_id": 3,
            "customer_name": "C", "items": [], "total_minor": 100, "status": status,
            "payment_status": "unpaid", "version": version, "created_at": Utc::now(),
            "updated_at": Utc::now(), "history": [],
        });
        let event_type = if version == 1 { EventType::OrderCreated } else { EventType::OrderUpdated };
        StoredEvent {
            seq,
            event_type,
            topics: Topic::for_order(id, 3, shop_id),
            payload: serde_json::json!({ "change": "created", "order": order }),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_board_follows_its_shops_events_and_is_dropped_on_one_it_cannot_follow() {
        let cache = BoardCache::new(Duration::from_secs(60));
        cache.store(&board(1, 5));
        cache.store(&board(2, 5));
        assert_eq!(cache.get(1, 0).map(|b| b.seq), Some(5));
        // Another shop's order, a customer's own news: board 1 unchanged.
        cache.apply(&order_event(6, 9, 2, "pending", 1));
        cache.apply(&event(7, EventType::Notification, vec![Topic::User(3)]));
        assert_eq!(cache.get(1, 0).map(|b| b.seq), Some(5));
        // Board 2 shows its new order, as of that event.
        let two = cache.get(2, 0).expect("board 2 kept");
        assert_eq!((two.seq, two.orders.len(), two.orders[0].id), (6, 1, 9));
        // Its progress; an older snapshot arriving late changes nothing.
        cache.apply(&order_event(8, 9, 2, "confirmed", 2));
        cache.apply(&order_event(9, 9, 2, "pending", 1));
        let two = cache.get(2, 0).expect("board 2 kept");
        assert_eq!((two.seq, two.orders[0].status), (9, app::domain::OrderStatus::Confirmed));
        // An event for board 1's shop that says nothing a board can follow: read it again.
        cache.apply(&event(10, EventType::InventoryUpdated, Topic::for_catalog(1)));
        assert!(cache.get(1, 0).is_none());
    }

    #[test]
    fn an_event_a_board_was_read_after_is_not_applied_again() {
        let cache = BoardCache::new(Duration::from_secs(60));
        let stock = |seq: i64, stock: i64| StoredEvent {
            seq,
            event_type: EventType::InventoryUpdated,
            topics: Topic::for_catalog(1),
            payload: serde_json::json!({ "shop_id": 1, "product_id": 4, "stock": stock }),
            created_at: Utc::now(),
        };
        // Read at seq 8, after event 7 set the stock to 3 and event 8 to 5; the relay is behind.
        let mut read = board(1, 8);
        read.products = vec![serde_json::from_value(serde_json::json!({
            "id": 4, "shop_id": 1, "name": "Loaf", "price_minor": 100, "stock": 5,
            "low_stock_threshold": 2, "available": true, "updated_at": Utc::now(),
        }))
        .expect("a product")];
        cache.store(&read);
        cache.apply(&stock(7, 3));
        assert_eq!(cache.get(1, 7).map(|b| (b.seq, b.products[0].stock)), Some((8, 5)), "the board holds 7 already");
        cache.apply(&stock(8, 5));
        assert_eq!(cache.get(1, 8).map(|b| (b.seq, b.products[0].stock)), Some((8, 5)));
        // The next change is applied.
        cache.apply(&stock(9, 4));
        assert_eq!(cache.get(1, 9).map(|b| (b.seq, b.products[0].stock)), Some((9, 4)));
    }

    #[test]
    fn a_board_read_before_an_applied_event_is_not_kept() {
        let cache = BoardCache::new(Duration::from_secs(60));
        cache.apply(&event(8, EventType::OrderUpdated, Topic::for_order(9, 3, 1)));
        cache.store(&board(1, 7));
        assert!(cache.get(1, 0).is_none());
        cache.store(&board(1, 8));
        assert_eq!(cache.get(1, 0).map(|b| b.seq), Some(8));
    }

    #[test]
    fn rights_and_broadcasts_drop_every_board() {
        let cache = BoardCache::new(Duration::from_secs(60));
        cache.store(&board(1, 5));
        cache.store(&board(2, 5));
        cache.apply(&event(6, EventType::AccessChanged, vec![]));
        assert!(cache.get(1, 0).is_none() && cache.get(2, 0).is_none());
        cache.store(&board(2, 5));
        assert!(cache.get(2, 0).is_none(), "read before the change");
        cache.store(&board(2, 6));
        cache.apply(&event(7, EventType::Notification, vec![Topic::Broadcast]));
        assert!(cache.get(2, 0).is_none());
    }

    #[test]
    fn nothing_is_answered_while_the_relay_is_behind_the_outbox() {
        let cache = BoardCache::new(Duration::from_secs(60));
        cache.relayed(5);
        cache.store(&board(1, 5));
        assert!(cache.get(1, 5).is_some());
        // Event 6 committed (the caller read it as the newest), not applied yet: it may be
        // the caller's own change to this board.
        assert!(cache.get(1, 6).is_none());
        cache.apply(&event(6, EventType::Notification, vec![Topic::User(3)]));
        assert!(cache.get(1, 6).is_some());
        // Events skipped unread may have changed anything.
        cache.skipped(9);
        assert!(cache.get(1, 9).is_none());
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = BoardCache::new(Duration::ZERO);
        cache.store(&board(1, 5));
        assert!(cache.get(1, 0).is_none());
    }
}
