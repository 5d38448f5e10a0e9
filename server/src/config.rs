//! Command-line flags and environment variables.

use clap::Parser;
use std::net::SocketAddr;

/// Ordercast: real-time order tracking.
#[derive(Clone, Debug, Parser)]
#[command(name = "ordercast", version, about)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port (the chosen address is logged and
    /// printed as `listening on http://ADDR`).
    #[arg(long, env = "ORDERCAST_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Database URL. A `sqlite:` file is created and migrated on first start; a
    /// `postgres://` database is migrated on start and can be shared by several nodes.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite:data/ordercast.db")]
    pub database_url: String,

    /// This node's name in `/metrics`, `/api/v1/ws/stats` and the presence table. Unique per
    /// running node; the default is the host name with a random suffix.
    #[arg(long, env = "ORDERCAST_NODE_ID")]
    pub node_id: Option<String>,

    /// Seconds a node's staff presence lasts without its heartbeat: after a node dies, its users
    /// are shown offline within about this long.
    #[arg(long = "presence-lease-secs", env = "ORDERCAST_PRESENCE_LEASE_SECS", default_value = "15", value_parser = parse_secs)]
    pub presence_lease: std::time::Duration,

    /// Seconds a looked-up session is kept in memory (0: read it on every request). Sign-outs and
    /// rights changes reach every node's copy through the outbox within milliseconds; this is
    /// only the bound if that fails.
    #[arg(long = "session-cache-secs", env = "ORDERCAST_SESSION_CACHE_SECS", default_value = "10", value_parser = parse_secs_or_off)]
    pub session_cache: std::time::Duration,

    /// Seconds a shop's board is kept in memory once read (0: read it on every request). Any
    /// change to it reaches every node's copy through the outbox within milliseconds; this is
    /// only the bound if that fails.
    #[arg(long = "board-cache-secs", env = "ORDERCAST_BOARD_CACHE_SECS", default_value = "30", value_parser = parse_secs_or_off)]
    pub board_cache: std::time::Duration,

    /// Secret mixed into session token hashes. Set it in production; changing it signs everybody out.
    #[arg(long, env = "ORDERCAST_SECRET", default_value = "ordercast-development-secret", hide_env_values = true)]
    pub secret: String,

    /// Seed demo shops, users and orders when the database is empty.
    #[arg(long, env = "ORDERCAST_DEMO", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo: bool,

    /// How long a sign-in lasts, in hours.
    #[arg(long, env = "ORDERCAST_SESSION_HOURS", default_value_t = 24 * 14)]
    pub session_hours: i64,

    /// Mark the session cookie `Secure` (set this when served over HTTPS).
    #[arg(long, env = "ORDERCAST_SECURE_COOKIE", default_value_t = false, action = clap::ArgAction::Set)]
    pub secure_cookie: bool,

    /// Failed sign-ins allowed per email (and five times that per client address) within
    /// `--login-window-secs` before further attempts are refused until the window ends.
    #[arg(long, env = "ORDERCAST_LOGIN_ATTEMPTS", default_value_t = 5)]
    pub login_attempts: u32,

    /// Load balancers in front of this server (their addresses, comma-separated): a request
    /// from one of them counts as coming from the client it names in `X-Forwarded-For`, for the
    /// per-address sign-in limit. Without it every client behind a proxy shares one limit.
    #[arg(long = "trusted-proxy", env = "ORDERCAST_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Length of the failed sign-in window, in seconds.
    #[arg(long, env = "ORDERCAST_LOGIN_WINDOW_SECS", default_value_t = 15 * 60)]
    pub login_window_secs: u64,

    /// How long events are kept for `resume`, in hours. Older ones are pruned; a client that
    /// asks for them gets `resync_required`.
    #[arg(long, env = "ORDERCAST_EVENT_RETENTION_HOURS", default_value_t = 24)]
    pub event_retention_hours: i64,

    /// Seconds between server pings on each socket; a socket silent for twice this is closed.
    #[arg(long = "ws-heartbeat-secs", env = "ORDERCAST_WS_HEARTBEAT_SECS", default_value = "30", value_parser = parse_secs)]
    pub ws_heartbeat: std::time::Duration,

    /// Bytes of events a socket may have queued and unwritten before it counts as too slow and
    /// is closed (code 4008).
    #[arg(long, env = "ORDERCAST_WS_QUEUE_BYTES", default_value_t = 1024 * 1024)]
    pub ws_queue_bytes: usize,

    /// Seconds a socket may write nothing of what is queued for it before it counts as too slow
    /// and is closed (code 4008). A client that keeps reading, however slowly, is not stalled.
    #[arg(long = "ws-stall-secs", env = "ORDERCAST_WS_STALL_SECS", default_value = "10", value_parser = parse_secs)]
    pub ws_stall: std::time::Duration,

    /// Serve `/metrics` on this address only, not on `--addr` (e.g. `127.0.0.1:9100`, reachable
    /// by the monitoring system but not the public). Port 0 picks a free port, printed as
    /// `metrics on http://ADDR`.
    #[arg(long, env = "ORDERCAST_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Require `Authorization: Bearer <token>` on `/metrics`. Without it or `--metrics-addr`,
    /// anyone who reaches the port can read the metrics (counts and latencies, nothing about
    /// users or orders).
    #[arg(long, env = "ORDERCAST_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Serve `/ws/echo`: the WebSocket transport with an echo in place of the protocol, for a
    /// conformance suite (Autobahn). Off in production.
    #[arg(long, env = "ORDERCAST_CONFORMANCE_ECHO", default_value_t = false, action = clap::ArgAction::Set)]
    pub conformance_echo: bool,

    /// Open sockets allowed per user.
    #[arg(long, env = "ORDERCAST_WS_MAX_CONNECTIONS_PER_USER", default_value_t = 20)]
    pub ws_max_connections_per_user: usize,

    /// Topic subscriptions allowed per socket (besides the automatic ones).
    #[arg(long, env = "ORDERCAST_WS_MAX_SUBSCRIPTIONS", default_value_t = 100)]
    pub ws_max_subscriptions: usize,

    /// Read buffer per socket, in bytes. Client messages are small; axum's default (128 KiB) would
    /// dominate the memory of many idle sockets.
    #[arg(long, env = "ORDERCAST_WS_BUFFER_BYTES", default_value_t = 1024)]
    pub ws_buffer_bytes: usize,

    /// Cap on the kernel send buffer of each connection, in bytes (unset: the OS default, which
    /// grows to megabytes). Smaller caps bound memory per socket and make stuck clients
    /// overflow their queue sooner.
    #[arg(long, env = "ORDERCAST_TCP_SEND_BUFFER_BYTES")]
    pub tcp_send_buffer_bytes: Option<usize>,

    /// Extra origins allowed to open a socket with the session cookie (besides the site's own),
    /// comma-separated, e.g. `https://orders.example.com`.
    #[arg(long, env = "ORDERCAST_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// The Tesseract executable that reads chitties (photographed lists).
    #[arg(long, env = "ORDERCAST_OCR_COMMAND", default_value = "tesseract")]
    pub ocr_command: String,

    /// Lists read at once on this node (0: one per CPU core).
    #[arg(long, env = "ORDERCAST_OCR_WORKERS", default_value_t = 0)]
    pub ocr_workers: usize,

    /// Seconds one photo may take to read before it fails.
    #[arg(long = "ocr-timeout-secs", env = "ORDERCAST_OCR_TIMEOUT_SECS", default_value = "30", value_parser = parse_secs)]
    pub ocr_timeout: std::time::Duration,

    /// Seconds a node holds a list it reads without renewing its hold: a list whose node
    /// died is taken over by another (or the restarted one) within about this long.
    #[arg(long = "chitty-lease-secs", env = "ORDERCAST_CHITTY_LEASE_SECS", default_value = "15", value_parser = parse_secs)]
    pub chitty_lease: std::time::Duration,

    /// Largest photo of a list accepted, in bytes (the browser shrinks photos before upload;
    /// this bounds those sent without it). Photos are kept in the database.
    #[arg(long, env = "ORDERCAST_CHITTY_MAX_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub chitty_max_bytes: usize,

    /// Lists one customer may send per minute.
    #[arg(long, env = "ORDERCAST_CHITTY_UPLOADS_PER_MINUTE", default_value_t = 5)]
    pub chitty_uploads_per_minute: i64,

    /// The VAPID private key pushes are signed with (raw P-256, base64url). Without it one is
    /// made on first start and kept in the database, shared by every node.
    #[arg(long, env = "ORDERCAST_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<String>,

    /// Who runs this server, for push services (`mailto:` or `https:`). Set it in production.
    #[arg(long, env = "ORDERCAST_VAPID_SUBJECT", default_value = "mailto:admin@ordercast.invalid")]
    pub vapid_subject: String,

    /// Accept `http:` push endpoints and ones on this machine or a private network (a push
    /// service of your own; the tests' fake one). Browsers' push services are all `https:` on
    /// the internet, and without this flag nothing else is taken, nor sent to a name that
    /// resolves to a private address.
    #[arg(long, env = "ORDERCAST_PUSH_ALLOW_HTTP")]
    pub push_allow_http: bool,

    /// Pushes sent at once by this node.
    #[arg(long, env = "ORDERCAST_PUSH_CONCURRENCY", default_value_t = 16)]
    pub push_concurrency: usize,

    /// Seconds a node holds a push it is sending: one whose node died mid-send is sent again
    /// by another (or the restarted one) after this long.
    #[arg(long = "push-lease-secs", env = "ORDERCAST_PUSH_LEASE_SECS", default_value = "60", value_parser = parse_secs)]
    pub push_lease: std::time::Duration,
}

impl Config {
    /// The node id: `--node-id`, or the host name with a random suffix.
    pub fn node(&self) -> String {
        if let Some(id) = self.node_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            return id.to_owned();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".to_owned());
        format!("{host}-{:06x}", rand::random::<u32>() & 0xff_ffff)
    }
}

fn parse_secs(s: &str) -> Result<std::time::Duration, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(std::time::Duration::from_secs(n)),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

/// Seconds, where 0 turns the thing off (the caches).
fn parse_secs_or_off(s: &str) -> Result<std::time::Duration, String> {
    s.parse::<u64>().map(std::time::Duration::from_secs).map_err(|_| format!("{s:?} is not a number of seconds"))
}
