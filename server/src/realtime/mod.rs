//! Real-time delivery: the outbox relay, the hub of connections and topics, and the socket.
//!
//! ```text
//!  write tx ──commit──▶ bus.committed() ──wake──▶ relay ──reads outbox in seq order──▶ hub
//!                                                                      │ encode once per topic
//!                                                                      ▼
//!                                    per-connection bounded queue ──▶ socket task ──▶ client
//! ```
//!
//! The relay, not the request that made the change, publishes events: it reads the outbox in
//! `seq` order after commits, so events reach clients in commit order with no gaps however the
//! writing requests interleave. A bus wake-up carries no data; a PostgreSQL backend replaces
//! it with LISTEN/NOTIFY between nodes while each node runs its own relay.

pub mod bus;
pub mod hub;
pub mod metrics;
pub mod relay;
pub mod socket;

pub use bus::Bus;
pub use hub::Hub;
