//! Which events are worth a notification on a device whose app is closed (Web Push), who gets
//! it, and what it says. Pure: the server's push job asks this for every outbox event.
//!
//! Customers hear of the steps they wait for (confirmed, ready, out for delivery, cancelled);
//! a shop's staff hear of what needs them (a new order, a new photographed list). Everything
//! else is for screens that are open.

use crate::api::{format_money, Chitty, Order};
use crate::domain::{EventType, OrderStatus};
use serde::{Deserialize, Serialize};

/// Who a notice is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The customer with this id.
    Customer(i64),
    /// The staff of this shop.
    Staff(i64),
}

/// What a device shows: the payload of a push, read by the service worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// The page a tap opens.
    pub url: String,
    /// Notices with the same tag replace each other on the device (one per order or list).
    pub tag: String,
    /// The event's `seq`.
    pub seq: i64,
    /// Staff notices ask for attention until handled (`requireInteraction`).
    #[serde(default)]
    pub urgent: bool,
}

/// The notice an event calls for, and its audience, if any.
pub fn for_event(event_type: EventType, seq: i64, data: &serde_json::Value) -> Option<(Audience, Notice)> {
    match event_type {
        EventType::OrderCreated => {
            let order: Order = serde_json::from_value(data.get("order")?.clone()).ok()?;
            let items: i64 = order.items.iter().map(|i| i.quantity).sum();
            let notice = Notice {
                title: format!("New order #{} · {}", order.id, order.shop_name),
                body: format!(
                    "{} ordered {} item{} · {}",
                    order.customer_name,
                    items,
                    if items == 1 { "" } else { "s" },
                    format_money(order.total_minor, &order.currency)
                ),
                url: "/board".into(),
                tag: format!("order-{}", order.id),
                seq,
                urgent: true,
            };
            Some((Audience::Staff(order.shop_id), notice))
        }
        EventType::OrderUpdated => {
            let order: Order = serde_json::from_value(data.get("order")?.clone()).ok()?;
            // A payment or a note does not move the order: only a new status is news.
            let latest = order.history.last()?;
            if latest.status != order.status || order.history.len() < 2 {
                return None;
            }
            let previous = order.history.get(order.history.len() - 2)?;
            if previous.status == order.status {
                return None;
            }
            let body = match order.status {
                OrderStatus::Confirmed => format!("{} has your order and will start on it soon.", order.shop_name),
                OrderStatus::Ready => format!("Your order is ready at {}.", order.shop_name),
                OrderStatus::OutForDelivery => format!("{} has sent your order on its way.", order.shop_name),
                OrderStatus::Cancelled => format!("{} cancelled your order.", order.shop_name),
                _ => return None,
            };
            let notice = Notice {
                title: format!("Order #{} is {}", order.id, order.status.label().to_ascii_lowercase()),
                body,
                url: format!("/orders/{}", order.id),
                tag: format!("order-{}", order.id),
                seq,
                urgent: false,
            };
            Some((Audience::Customer(order.customer_id), notice))
        }
        EventType::ChittyReceived => {
            let chitty: Chitty = serde_json::from_value(data.get("chitty")?.clone()).ok()?;
            let notice = Notice {
                title: format!("New shopping list · {}", chitty.shop_name),
                body: format!("{} sent a photographed list.", chitty.customer_name),
                url: format!("/lists/{}", chitty.id),
                tag: format!("list-{}", chitty.id),
                seq,
                urgent: true,
            };
            Some((Audience::Staff(chitty.shop_id), notice))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(status: &str, history: &[&str]) -> serde_json::Value {
        let at = "2026-11-26T10:00:00Z";
        json!({"change": "status_changed", "order": {
            "id": 7, "shop_id": 1, "shop_name": "Corner Bakery", "currency": "GBP", "customer_id": 4,
            "customer_name": "Alice", "items": [{"product_id": 1, "name": "Loaf", "quantity": 2,
            "unit_price_minor": 275, "line_total_minor": 550}], "total_minor": 550, "status": status,
            "payment_status": "unpaid", "version": history.len(), "created_at": at, "updated_at": at,
            "history": history.iter().map(|s| json!({"status": s, "change": "status_changed", "at": at, "by_user_id": 2, "note": null})).collect::<Vec<_>>()
        }})
    }

    #[test]
    fn customers_hear_of_the_steps_they_wait_for_and_nothing_else() {
        let cases = [
            ("confirmed", vec!["pending", "confirmed"], Some("Order #7 is confirmed")),
            ("preparing", vec!["pending", "confirmed", "preparing"], None),
            ("ready", vec!["pending", "confirmed", "preparing", "ready"], Some("Order #7 is ready")),
            ("out_for_delivery", vec!["pending", "confirmed", "ready", "out_for_delivery"], Some("Order #7 is out for delivery")),
            ("delivered", vec!["pending", "out_for_delivery", "delivered"], None),
            ("cancelled", vec!["pending", "cancelled"], Some("Order #7 is cancelled")),
            // A payment recorded on a ready order: no new status, no notice.
            ("ready", vec!["pending", "ready", "ready"], None),
        ];
        for (status, history, title) in cases {
            let got = for_event(EventType::OrderUpdated, 9, &order(status, &history));
            assert_eq!(got.as_ref().map(|(_, n)| n.title.as_str()), title, "{status} after {history:?}");
            if let Some((audience, notice)) = got {
                assert_eq!(audience, Audience::Customer(4));
                assert_eq!((notice.url.as_str(), notice.tag.as_str(), notice.seq), ("/orders/7", "order-7", 9));
            }
        }
    }

    #[test]
    fn staff_hear_of_new_orders_and_lists() {
        let (audience, notice) = for_event(EventType::OrderCreated, 3, &order("pending", &["pending"])).expect("a notice");
        assert_eq!(audience, Audience::Staff(1));
        assert_eq!(notice.title, "New order #7 · Corner Bakery");
        assert_eq!(notice.body, "Alice ordered 2 items · £5.50");
        assert!(notice.urgent);
        assert_eq!(for_event(EventType::InventoryUpdated, 3, &json!({})), None);
        assert_eq!(for_event(EventType::OrderCreated, 3, &json!({"order": "garbled"})), None);
    }
}
