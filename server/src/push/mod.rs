//! Web Push: telling a device whose app is closed (a customer's phone in a pocket, a shop's
//! tablet with the board's tab shut) what happened, through the browser's push service.
//!
//! - [`keys`]: the server's VAPID key pair: given by flag, or made on first start and kept in
//!   the database, so every node and every restart signs with the same key.
//! - [`network`]: where pushes may go (public addresses only, no redirects).
//! - [`job`]: the durable job. A planner follows the outbox with a cursor of its own and, in
//!   one transaction with moving the cursor, queues a push per device for each event that
//!   calls for one (`app::domain::notice` says which, to whom, and what it says). Senders take
//!   due pushes with a lease, encrypt them (`aes128gcm`, RFC 8291) and sign them (VAPID,
//!   RFC 8292) with the `web-push` crate, post them, and retry with backoff. A restart loses
//!   nothing: what is planned is in the database before the cursor moves past it.
//!
//! **Not pushed when a screen already showed it.** A user with a live connection (WebSocket
//! or event stream, on any node) when the planner reaches the event is not pushed: the hub
//! queued the event to that connection within milliseconds of its commit, and a connection
//! that cannot take it is closed as too slow. How the planner knows: the `presence` table,
//! where each node keeps a row per connected user with a lease (`realtime::presence`); it is
//! kept for every user while anyone has a device subscribed, for shop staff always.

pub mod job;
pub mod keys;
pub mod network;

pub use keys::Vapid;
