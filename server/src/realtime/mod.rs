//! Real-time delivery, kept apart as centrifuge does: the bus (wake-ups between nodes), the
//! relay (the outbox into the hub), the hub (connections, topics, fan-out), the client session
//! (the protocol) and its two transports (WebSocket frames, Server-Sent Events) with what both
//! ask before a session opens (admission: credentials, cookie origin, limits), plus presence
//! across nodes.
//!
//! ```text
//!  write tx ──commit──▶ bus: local wake-up, and NOTIFY to other nodes (PostgreSQL)
//!                          │
//!       every node: relay ─┴─ reads the outbox after its last seq, contiguous only ──▶ hub
//!                                   │ encode once per topic, authorize per recipient
//!                                   ▼
//!       per-session bounded queue ──▶ session (resume, subscribe) ──▶ ws | sse ──▶ client
//! ```
//!
//! The relay, not the request that made the change, publishes events: it reads the outbox in
//! `seq` order, so events reach clients in commit order with no gaps however the writing
//! requests interleave and whichever node they landed on. Rights changes and sign-outs are
//! outbox rows too, which every node's hub applies: nothing reaches a socket another way.

pub mod admission;
pub mod bus;
pub mod hub;
pub mod metrics;
pub mod presence;
pub mod queue;
pub mod relay;
pub mod session;
pub mod sse;
pub mod ws;

pub use bus::Bus;
pub use hub::Hub;
