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

    /// Database URL. A `sqlite:` file is created and migrated on first start.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite:data/ordercast.db")]
    pub database_url: String,

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

    /// Length of the failed sign-in window, in seconds.
    #[arg(long, env = "ORDERCAST_LOGIN_WINDOW_SECS", default_value_t = 15 * 60)]
    pub login_window_secs: u64,
}
