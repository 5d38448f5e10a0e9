//! Ordercast's server.
//!
//! - [`config`]: flags and environment.
//! - [`db`]: opening and migrating the database.
//! - [`store`]: all SQL, one module per resource.
//! - [`service`]: the operations (authorize, validate, transact, write events).
//! - [`api`]: the REST API under `/api/v1`.
//! - [`auth`]: passwords, sessions, sign-in throttling.
//! - [`pages`]: the pages' server functions' backend; SSR through leptos_axum.
//! - [`seed`]: demo data for a first start.

pub mod api;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod pages;
pub mod seed;
pub mod service;
pub mod state;
pub mod store;

use crate::auth::LoginThrottle;
use crate::config::Config;
use crate::state::AppState;
use app::backend::SharedBackend;
use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Leptos's settings come from cargo-leptos's environment (at build time and when it runs the
/// server). A binary built without it (`cargo test`) gets the same defaults as `Cargo.toml`'s
/// `[[workspace.metadata.leptos]]`, with `LEPTOS_SITE_ROOT` still honoured.
fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    let configured = std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() || option_env!("LEPTOS_OUTPUT_NAME").is_some();
    let from_env = configured.then(|| leptos::config::get_configuration(None).ok()).flatten();
    let mut options = match from_env {
        Some(conf) => conf.leptos_options,
        None => LeptosOptions::builder()
            .output_name("ordercast")
            .site_root(std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into()))
            .site_pkg_dir("pkg")
            .build(),
    };
    options.site_addr = addr;
    options
}

/// The whole application: API, pages, static files.
pub fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(pages::Pages(state.clone()));
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .nest("/api/v1", api::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(backend.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Opens the database, seeds it if asked, and serves until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let db = db::connect(&config.database_url).await?;
    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let state = AppState {
        db,
        throttle: Arc::new(LoginThrottle::new(config.login_attempts, Duration::from_secs(config.login_window_secs))),
        leptos_options: leptos_options(addr),
        config: Arc::new(config),
    };

    if state.config.demo && seed::seed_if_empty(&state).await.map_err(|e| e.message)? {
        println!("{}", seed::banner());
    }
    tokio::spawn(prune_sessions(state.clone()));

    tracing::info!(%addr, "listening");
    // Tests and scripts read this line to find the port when started with port 0.
    println!("listening on http://{addr}");
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shut down");
    Ok(())
}

/// Deletes expired sessions once an hour.
async fn prune_sessions(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let Ok(mut conn) = state.db.write.acquire().await else { continue };
        match store::sessions::delete_expired(&mut conn, chrono::Utc::now()).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "pruned expired sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning sessions failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing open requests");
}
