//! Opening the database: create the file, switch to WAL, migrate.
//!
//! SQLite allows one writer at a time. Rather than let concurrent transactions race for the
//! write lock (and fail with `SQLITE_BUSY`), every write goes through a pool of exactly one
//! connection, so writes queue in-process and commit in order. That order is also the order of
//! the `events` outbox, which the real-time hub relies on. Reads use a separate pool and see
//! consistent WAL snapshots while a write is in progress.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Db {
    /// For reads; many connections.
    pub read: SqlitePool,
    /// For writes; exactly one connection.
    pub write: SqlitePool,
}

pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));

    if let Some(dir) = options.get_filename().parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
    }

    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await?;
    sqlx::migrate!("./migrations").run(&write).await?;
    let read = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options.read_only(true))
        .await?;
    Ok(Db { read, write })
}
