//! Event types and topics: what happened, and who is allowed to hear about it.
//!
//! Every change is written to the `events` outbox with its type and the topics it concerns.
//! A topic is an audience: the real-time hub delivers an event to the connections
//! subscribed to any of its topics, after checking that each recipient may still see it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    OrderCreated,
    /// Status change, cancellation or payment verification; carries the full order snapshot.
    OrderUpdated,
    /// A shop's details changed.
    StoreUpdated,
    /// A shop opened or closed.
    StoreAvailabilityChanged,
    /// A product was created or its details (name, price) changed.
    ProductUpdated,
    ProductAvailabilityChanged,
    /// A product's stock changed.
    InventoryUpdated,
    /// A product's stock fell to or below its low-stock threshold.
    StockLow,
    Notification,
    UserConnected,
    UserDisconnected,
    /// A customer sent a photographed list; it is being read. Carries the chitty.
    ChittyReceived,
    /// A list was read: its lines and proposed products wait for the shop's staff.
    ChittyProcessed,
    /// A list could not be read; the reason says why.
    ChittyFailed,
    /// Staff made an order of a list, or rejected it.
    ChittyUpdated,
    /// Internal, never sent to clients: a user's rights changed or they were disabled. Every
    /// node's hub applies it to that user's open connections.
    AccessChanged,
    /// Internal, never sent to clients: a session ended (sign-out). Every node closes its
    /// connections.
    SessionEnded,
}

impl EventType {
    pub const ALL: [EventType; 17] = [
        EventType::OrderCreated,
        EventType::OrderUpdated,
        EventType::StoreUpdated,
        EventType::StoreAvailabilityChanged,
        EventType::ProductUpdated,
        EventType::ProductAvailabilityChanged,
        EventType::InventoryUpdated,
        EventType::StockLow,
        EventType::Notification,
        EventType::UserConnected,
        EventType::UserDisconnected,
        EventType::ChittyReceived,
        EventType::ChittyProcessed,
        EventType::ChittyFailed,
        EventType::ChittyUpdated,
        EventType::AccessChanged,
        EventType::SessionEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderCreated => "order_created",
            EventType::OrderUpdated => "order_updated",
            EventType::StoreUpdated => "store_updated",
            EventType::StoreAvailabilityChanged => "store_availability_changed",
            EventType::ProductUpdated => "product_updated",
            EventType::ProductAvailabilityChanged => "product_availability_changed",
            EventType::InventoryUpdated => "inventory_updated",
            EventType::StockLow => "stock_low",
            EventType::Notification => "notification",
            EventType::UserConnected => "user_connected",
            EventType::UserDisconnected => "user_disconnected",
            EventType::ChittyReceived => "chitty_received",
            EventType::ChittyProcessed => "chitty_processed",
            EventType::ChittyFailed => "chitty_failed",
            EventType::ChittyUpdated => "chitty_updated",
            EventType::AccessChanged => "access_changed",
            EventType::SessionEnded => "session_ended",
        }
    }

    /// Internal events carry instructions for the nodes' hubs and have no audience.
    pub fn is_internal(self) -> bool {
        matches!(self, EventType::AccessChanged | EventType::SessionEnded)
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// An audience for events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Everything that concerns one user: every device they are signed in on.
    User(i64),
    /// A shop's staff: its orders, stock and presence.
    Shop(i64),
    /// One order, for anyone allowed to follow it.
    Order(i64),
    /// A shop's public catalogue: open/closed, products, availability and stock.
    Catalog(i64),
    /// Admins see everything.
    Admin,
    /// Everyone signed in.
    Broadcast,
}

impl Topic {
    /// The topics an order's events go to: its customer, its shop's staff, its followers, admins.
    pub fn for_order(order_id: i64, customer_id: i64, shop_id: i64) -> Vec<Topic> {
        vec![Topic::User(customer_id), Topic::Shop(shop_id), Topic::Order(order_id), Topic::Admin]
    }

    /// The topics of a public change to a shop or its catalogue.
    pub fn for_catalog(shop_id: i64) -> Vec<Topic> {
        vec![Topic::Catalog(shop_id), Topic::Shop(shop_id), Topic::Admin]
    }

    /// The topics of a chitty's events: the customer who sent it, the shop's staff, admins.
    pub fn for_chitty(customer_id: i64, shop_id: i64) -> Vec<Topic> {
        vec![Topic::User(customer_id), Topic::Shop(shop_id), Topic::Admin]
    }

    /// The topics of a change only a shop's staff and admins may see.
    pub fn for_staff(shop_id: i64) -> Vec<Topic> {
        vec![Topic::Shop(shop_id), Topic::Admin]
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::User(id) => write!(f, "user:{id}"),
            Topic::Shop(id) => write!(f, "shop:{id}"),
            Topic::Order(id) => write!(f, "order:{id}"),
            Topic::Catalog(id) => write!(f, "catalog:{id}"),
            Topic::Admin => f.write_str("admin"),
            Topic::Broadcast => f.write_str("broadcast"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown topic {0:?}: expected user:<id>, shop:<id>, order:<id>, catalog:<id>, admin or broadcast")]
pub struct TopicParseError(pub String);

impl FromStr for Topic {
    type Err = TopicParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TopicParseError(s.to_owned());
        match s {
            "admin" => return Ok(Topic::Admin),
            "broadcast" => return Ok(Topic::Broadcast),
            _ => {}
        }
        let (kind, id) = s.split_once(':').ok_or_else(err)?;
        let id: i64 = id.parse().map_err(|_| err())?;
        if id <= 0 {
            return Err(err());
        }
        match kind {
            "user" => Ok(Topic::User(id)),
            "shop" => Ok(Topic::Shop(id)),
            "order" => Ok(Topic::Order(id)),
            "catalog" => Ok(Topic::Catalog(id)),
            _ => Err(err()),
        }
    }
}

impl Serialize for Topic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_through_text() {
        for t in [
            Topic::User(1),
            Topic::Shop(2),
            Topic::Order(3),
            Topic::Catalog(4),
            Topic::Admin,
            Topic::Broadcast,
        ] {
            assert_eq!(t.to_string().parse::<Topic>(), Ok(t));
        }
    }

    #[test]
    fn malformed_topics_are_refused() {
        for bad in ["", "user", "user:", "user:x", "user:-1", "user:0", "team:1", "admin:1"] {
            assert!(bad.parse::<Topic>().is_err(), "{bad}");
        }
    }

    #[test]
    fn event_type_names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!(t.as_str()));
        }
    }

    #[test]
    fn order_events_reach_customer_staff_followers_and_admins_only() {
        let topics = Topic::for_order(7, 10, 2);
        assert!(topics.contains(&Topic::User(10)));
        assert!(topics.contains(&Topic::Shop(2)));
        assert!(topics.contains(&Topic::Order(7)));
        assert!(topics.contains(&Topic::Admin));
        assert!(!topics.contains(&Topic::Catalog(2)), "orders are never public");
        assert!(!topics.contains(&Topic::Broadcast));
    }
}
