//! The state every handler shares.

use crate::auth::LoginThrottle;
use crate::config::Config;
use crate::board_cache::BoardCache;
use crate::session_cache::SessionCache;
use crate::service::order_changes::OrderChanges;
use crate::db::Db;
use crate::realtime::{Bus, Hub};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// This node's name (see `Config::node`).
    pub node: Arc<str>,
    pub config: Arc<Config>,
    pub throttle: Arc<LoginThrottle>,
    pub leptos_options: LeptosOptions,
    pub bus: Bus,
    pub hub: Arc<Hub>,
    /// Cancelled on SIGTERM/Ctrl-C: sockets close with 1001 and background tasks stop.
    pub shutdown: CancellationToken,
    /// The socket tasks, so shutdown can wait for their close frames to go out.
    pub sockets: TaskTracker,
    /// Rung when a chitty is stored: wakes this node's list reader.
    pub chitty_wake: Arc<tokio::sync::Notify>,
    /// Sessions recently looked up; see [`SessionCache`].
    pub sessions: Arc<SessionCache>,
    /// Boards recently read; see [`BoardCache`].
    pub boards: Arc<BoardCache>,
    /// Order changes committed in groups; see [`OrderChanges`].
    pub order_changes: OrderChanges,
    /// The key pushes are signed with; see [`crate::push`].
    pub vapid: Arc<crate::push::Vapid>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
