//! The order domain: pure types and rules shared by the server and the browser.
//!
//! Nothing here touches a database, a socket or the DOM, so every rule can be unit-tested
//! on its own and the WASM client can reason about orders exactly as the server does.

pub mod access;
pub mod chitty;
pub mod event;
pub mod figures;
pub mod notice;
pub mod order;
pub mod user;
pub mod timing;
pub mod validation;

pub use access::Actor;
pub use chitty::ChittyStatus;
pub use event::{EventType, Topic};
pub use order::{allowed, Allowed, OrderAction, OrderState, OrderStatus, Party, PaymentStatus, TransitionError};
pub use user::Role;
