//! Ordercast's server.
//!
//! - [`config`]: flags and environment.
//! - [`db`]: the database engine (SQLite or PostgreSQL), its pools and transactions.
//! - [`store`]: all SQL, one module per resource.
//! - [`service`]: the operations (authorize, validate, transact, write events).
//! - [`api`]: the REST API under `/api/v1`.
//! - [`auth`]: passwords, sessions, sign-in throttling.
//! - [`realtime`]: the bus between nodes, the outbox relay, the hub, presence, the client
//!   session and its transports: WebSocket at `/ws`, Server-Sent Events at `/sse`.
//! - [`chitty`]: reading photographed shopping lists (OCR) in a durable job.
//! - [`push`]: Web Push to devices whose app is closed, from the outbox in a durable job.
//! - [`pages`]: the pages' server functions' backend; SSR through leptos_axum.
//! - [`site`]: the site root's files, the "not found" page, and Leptos kept safe across threads.
//! - [`seed`]: demo data for a first start.

// Leptos views are deeply nested types; rendering them on the server needs a deeper limit.
#![recursion_limit = "256"]

pub mod api;
pub mod assets;
pub mod auth;
pub mod client_addr;
pub mod board_cache;
pub mod chitty;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod pages;
pub mod push;
pub mod realtime;
pub mod seed;
pub mod security;
pub mod service;
pub mod session_cache;
pub mod site;
pub mod state;
pub mod store;

use crate::auth::LoginThrottle;
use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;
use app::backend::SharedBackend;
use app::App;
use crate::realtime::hub::HubLimits;
use crate::realtime::metrics::Metrics;
use crate::realtime::presence::Presence;
use crate::realtime::{Bus, Hub};
use crate::board_cache::BoardCache;
use crate::session_cache::SessionCache;
use crate::service::order_changes::OrderChanges;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use sha2::Digest;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use axum::http::HeaderValue;
use tower_http::set_header::SetResponseHeaderLayer;
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
    // A binary cargo-leptos built with hashed asset names names them so however it is started
    // (by cargo-leptos, or directly as in production and the browser tests).
    if option_env!("LEPTOS_HASH_FILES") == Some("true") {
        options.hash_files = true;
        if let Some(name) = option_env!("LEPTOS_HASH_FILE_NAME") {
            options.hash_file = name.into();
        }
    }
    options.site_addr = addr;
    options
}

/// The whole application: API, pages, static files.
pub fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(pages::Pages::new(state.clone()));
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let page_assets = Arc::new(assets::page_assets(&options));
    let conformance = if state.config.conformance_echo {
        Router::new().route("/ws/echo", get(realtime::ws::echo))
    } else {
        Router::new()
    };
    let https = state.config.secure_cookie;
    let proxies = client_addr::TrustedProxies::new(&state.config.trusted_proxies);
    let router = Router::new()
        .merge(conformance)
        .nest("/api/v1", api::router())
        .nest_service(&format!("/{}", options.site_pkg_dir), assets::pkg_service(&options))
        .route("/ws", get(realtime::ws::upgrade))
        .route("/sse", get(realtime::sse::stream))
        .route("/sw.js", get(service_worker))
        .merge(metrics_router(&state, false))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let backend = backend.clone();
                move || provide_context(backend.clone())
            },
            {
                let (options, page_assets) = (options.clone(), page_assets.clone());
                move || site::page(&options, &page_assets)
            },
        );
    // The site root's files; other addresses render the app's "not found" page, with the
    // signed-in user's navigation: it needs the page backend as much as any page.
    let router = site::files_or_not_found(router, &options, backend, page_assets)
        .layer(axum::middleware::from_fn(site::without_leftover_owner))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Pages and API answers are always current; assets under /pkg set their own caching.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .layer(axum::middleware::from_fn_with_state(proxies, client_addr::resolve))
        .with_state(state);
    security::layer(router, https).layer(TraceLayer::new_for_http())
}

/// Opens the database, seeds it if asked, and serves until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let db = db::Db::connect(&config.database_url).await?;
    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let options = leptos_options(addr);
    // Before serving: every node serves the compressed copies from its first request.
    let to_compress = options.clone();
    tokio::task::spawn_blocking(move || assets::precompress(&to_compress)).await?;
    let node = config.node();
    let (hub, presence_reports) = Hub::new(
        HubLimits {
            queue_bytes: config.ws_queue_bytes.max(1),
            // Never shorter than a silent client's grace: its held events must not count as a stall.
            stall: config.ws_stall.max(realtime::session::LISTEN_GRACE + Duration::from_secs(1)),
            max_connections_per_user: config.ws_max_connections_per_user,
            max_subscriptions: config.ws_max_subscriptions,
        },
        node.clone(),
        Metrics::new(&node, db.engine().as_str()),
    );
    let shutdown = CancellationToken::new();
    let bus = match db.postgres() {
        Some(pool) => Bus::postgres(pool.clone(), shutdown.clone()),
        None => Bus::local(),
    };
    let (config_session_cache, config_board_cache) = (config.session_cache, config.board_cache);
    let order_changes = OrderChanges::start(db.clone(), bus.clone());
    let vapid = Arc::new(push::Vapid::load(&db, config.vapid_private_key.as_deref(), &config.vapid_subject).await?);
    let state = AppState {
        db,
        node: node.clone().into(),
        throttle: Arc::new(LoginThrottle::new(config.login_attempts, Duration::from_secs(config.login_window_secs))),
        leptos_options: options,
        config: Arc::new(config),
        bus,
        hub: Arc::new(hub),
        shutdown,
        sockets: tokio_util::task::TaskTracker::new(),
        chitty_wake: Arc::new(tokio::sync::Notify::new()),
        sessions: Arc::new(SessionCache::new(config_session_cache, 100_000)),
        boards: Arc::new(BoardCache::new(config_board_cache)),
        order_changes,
        vapid,
    };
    tracing::info!(node, engine = state.db.engine().as_str(), "starting");

    // The relay starts after the newest event: seeding publishes to nobody, and clients that
    // were connected before a restart catch up through `resume`.
    if state.config.demo && seed::seed_if_empty(&state).await.map_err(|e| e.message)? {
        println!("{}", seed::banner());
    }
    let start_seq = store::events::current_seq(&mut state.db.read().await?).await?;
    let relay = tokio::spawn(realtime::relay::supervise(
        state.db.clone(),
        state.bus.clone(),
        state.hub.clone(),
        realtime::relay::Caches { sessions: state.sessions.clone(), boards: state.boards.clone() },
        state.shutdown.clone(),
        start_seq,
    ));
    let presence_stop = CancellationToken::new();
    let presence = tokio::spawn(
        Presence {
            db: state.db.clone(),
            bus: state.bus.clone(),
            hub: state.hub.clone(),
            node: node.clone(),
            lease: state.config.presence_lease,
        }
        .run(presence_reports, presence_stop.clone()),
    );
    let reader = chitty::reader::Reader {
        db: state.db.clone(),
        bus: state.bus.clone(),
        ocr: Arc::new(chitty::ocr::Tesseract { command: state.config.ocr_command.clone() }),
        workers: match state.config.ocr_workers {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n => n,
        },
        timeout: state.config.ocr_timeout,
        lease: state.config.chitty_lease,
        wake: state.chitty_wake.clone(),
    };
    let reader = tokio::spawn(reader.run(state.shutdown.clone()));
    let pusher = push::job::PushJob {
        db: state.db.clone(),
        hub: state.hub.clone(),
        vapid: state.vapid.clone(),
        http: push::network::client(state.config.push_allow_http)?,
        concurrency: state.config.push_concurrency,
        lease: state.config.push_lease,
    };
    let pusher = tokio::spawn(pusher.run(state.shutdown.clone()));
    housekeep(&state).await;
    tokio::spawn(housekeeping(state.clone()));

    let metrics_server = match state.config.metrics_addr {
        Some(at) => {
            let listener = TcpListener::bind(at).await?;
            let at = listener.local_addr()?;
            tracing::info!(%at, "metrics listening");
            println!("metrics on http://{at}");
            let app = metrics_router(&state, true).with_state(state.clone());
            let stop = state.shutdown.clone();
            Some(tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await }))
        }
        None => None,
    };
    tracing::info!(%addr, "listening");
    // Tests and scripts read this line to find the port when started with port 0.
    println!("listening on http://{addr}");
    let shutdown_token = state.shutdown.clone();
    let state_sockets = state.sockets.clone();
    let send_buffer = state.config.tcp_send_buffer_bytes;
    let db = state.db.clone();
    let listener = listener.tap_io(move |tcp| {
        // Events are small frames that should leave at once, not wait for Nagle.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY failed");
        }
        if let Some(bytes) = send_buffer {
            if let Err(e) = socket2::SockRef::from(&*tcp).set_send_buffer_size(bytes) {
                tracing::debug!(error = %e, "SO_SNDBUF failed");
            }
        }
    });
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown({
            let token = shutdown_token.clone();
            async move {
                shutdown_signal().await;
                // Sockets are upgraded connections that graceful shutdown does not wait for:
                // tell them to close (1001) so clients reconnect and resume elsewhere.
                token.cancel();
            }
        })
        .await?;
    state_sockets.close();
    if tokio::time::timeout(Duration::from_secs(5), state_sockets.wait()).await.is_err() {
        tracing::warn!("some sockets did not close in time");
    }
    // The sockets have left the hub: take this node's staff offline, then stop.
    presence_stop.cancel();
    let _ = presence.await;
    if let Some(server) = metrics_server {
        let _ = server.await;
    }
    let _ = relay.await;
    let _ = reader.await;
    let _ = pusher.await;
    db.close().await;
    tracing::info!("shut down");
    Ok(())
}

/// `GET /sw.js`: the service worker (`public/sw.js`, copied into the site by cargo-leptos).
/// Its own policy lets it fetch from this site (a worker runs under the policy of its script;
/// the `default-src 'none'` of other non-page responses would block every fetch it makes), and
/// it is never cached, so a new version reaches browsers on their next visit.
async fn service_worker(State(state): State<AppState>) -> Response {
    let path = std::path::Path::new(state.leptos_options.site_root.as_ref()).join("sw.js");
    match tokio::fs::read(&path).await {
        Ok(script) => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'self'"),
            ],
            script,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "no service worker to serve");
            ApiError::not_found("service worker").into_response()
        }
    }
}

/// `/metrics`, on the main address unless `--metrics-addr` gives it its own (`own_address`).
fn metrics_router(state: &AppState, own_address: bool) -> Router<AppState> {
    if state.config.metrics_addr.is_some() == own_address {
        Router::new().route("/metrics", get(metrics))
    } else {
        Router::new()
    }
}

/// `GET /metrics`: Prometheus text format; with `--metrics-token`, only for that bearer token.
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(expected) = state.config.metrics_token.as_deref() {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        // Compared as digests, so the time taken says nothing about how much of it matched.
        let digest = |s: &str| sha2::Sha256::digest(s.as_bytes());
        if given.map(digest) != Some(digest(expected)) {
            let mut refused = ApiError::unauthenticated().into_response();
            refused.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return refused;
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.hub.metrics.render()).into_response()
}

/// Every hour after start-up: housekeeping.
async fn housekeeping(state: AppState) {
    let period = Duration::from_secs(3600);
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = state.shutdown.cancelled() => return,
        }
        housekeep(&state).await;
    }
}

/// Deletes expired sessions, ended sign-in windows and events older than the retention. Every
/// node does it; doing it twice deletes nothing more.
async fn housekeep(state: &AppState) {
    let now = chrono::Utc::now();
    match state.db.write().await {
        Ok(mut conn) => match store::sessions::delete_expired(&mut conn, now).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "pruned expired sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning sessions failed"),
        },
        Err(e) => tracing::warn!(error = %e, "housekeeping cannot reach the database"),
    }
    if let Err(e) = state.throttle.prune(&state.db).await {
        tracing::warn!(error = %e, "pruning sign-in windows failed");
    }
    // In one transaction: a resume must never see events gone and the horizon not yet moved.
    let before = now - chrono::Duration::hours(state.config.event_retention_hours);
    let pruned = async {
        let mut tx = state.db.begin_write().await?;
        let n = store::events::prune(&mut tx, before).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(n)
    };
    match pruned.await {
        Ok(n) if n > 0 => tracing::info!(deleted = n, "pruned old events"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "pruning events failed"),
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
