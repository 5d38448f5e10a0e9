//! The pages and the server functions behind them.

pub mod login;
pub mod orders;
