//! The database: which engine, its pools, and the transactions services run in.
//!
//! Two engines, chosen by the URL: SQLite (`sqlite:…`, the embedded default) and PostgreSQL
//! (`postgres://…`, for several nodes). They sit behind a small enum rather than `sqlx::Any`
//! (which cannot carry chrono types) or a trait with one implementation per engine (which would
//! write every query twice). Store functions take `&mut impl AsConn` and run their SQL through
//! [`on!`](crate::on), which expands the same code once per engine, each half with its concrete
//! connection type: one text of SQL where the engines agree, and a visible `match` where they
//! do not.
//!
//! SQLite allows one writer at a time. Rather than let concurrent transactions race for the
//! write lock (and fail with `SQLITE_BUSY`), every SQLite write goes through one connection,
//! the [`Writer`], so writes queue in-process and commit in order; reads use a pool.
//! PostgreSQL has one pool: its transactions run concurrently and the outbox's `seq` is made
//! commit-ordered by allocating it last (see [`Tx::commit`]).

use crate::store;
use app::domain::{EventType, Topic};
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The advisory lock key of one-time setup (any constant unique to Ordercast).
const SETUP_LOCK: i64 = 0x0005_eed0_c457;

/// See [`Db::setup_lock`].
pub struct SetupLock(Option<PoolConnection<Postgres>>);

impl SetupLock {
    pub async fn release(self) {
        if let Some(mut conn) = self.0 {
            // A lock left on a pooled connection would outlive this; closing it ends it too.
            if sqlx::query("SELECT pg_advisory_unlock($1)").bind(SETUP_LOCK).execute(&mut *conn).await.is_err() {
                let _ = conn.close().await;
            }
        }
    }
}

/// Which engine a [`Db`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite {
        /// For reads; many connections.
        read: SqlitePool,
        /// For writes; exactly one connection.
        writer: Arc<Mutex<Writer>>,
    },
    Postgres(PgPool),
}

/// SQLite's one write connection. It is held behind a lock rather than in a pool of one: a
/// pool checks every connection given back to it with a round trip to the connection's
/// thread, and with a single writer every write waited for that check of the one before.
#[derive(Debug)]
pub struct Writer {
    conn: SqliteConnection,
    /// A transaction was begun and neither committed nor rolled back (its `Tx` was dropped
    /// while a rollback could not run): the next user rolls it back first.
    open: bool,
}

/// The writer, taken: given back when dropped, after rolling back a transaction left open.
pub struct WriterGuard(Option<OwnedMutexGuard<Writer>>);

impl WriterGuard {
    async fn take(writer: &Arc<Mutex<Writer>>) -> sqlx::Result<WriterGuard> {
        let mut guard = writer.clone().lock_owned().await;
        if guard.open {
            sqlx::query("ROLLBACK").execute(&mut guard.conn).await?;
            guard.open = false;
        }
        Ok(WriterGuard(Some(guard)))
    }

    fn conn(&mut self) -> &mut SqliteConnection {
        // Only `Drop` takes the guard out.
        &mut self.0.as_mut().expect("writer guard used after drop").conn
    }

    fn set_open(&mut self, open: bool) {
        if let Some(g) = self.0.as_mut() {
            g.open = open;
        }
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let Some(mut guard) = self.0.take() else { return };
        if !guard.open {
            return;
        }
        // A transaction dropped without commit: roll it back before anyone else writes. The
        // guard goes with the task, so nobody takes the writer in between; without a runtime
        // (shutting down) the next user rolls back instead.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if sqlx::query("ROLLBACK").execute(&mut guard.conn).await.is_ok() {
                    guard.open = false;
                }
            });
        }
    }
}

/// Runs `body` with `$x` bound to the engine's own connection type: the body is compiled once
/// per engine, so the same SQL text serves both.
#[macro_export]
macro_rules! on {
    ($c:expr, |$x:ident| $body:expr) => {
        match $crate::db::AsConn::ex(&mut *$c) {
            $crate::db::Ex::Sqlite($x) => $body,
            $crate::db::Ex::Postgres($x) => $body,
        }
    };
}

/// A borrowed connection of either engine.
pub enum Ex<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Anything store functions can run SQL on: a pooled connection, a transaction, or a bare
/// connection of either engine.
pub trait AsConn: Send {
    fn ex(&mut self) -> Ex<'_>;
}

impl AsConn for SqliteConnection {
    fn ex(&mut self) -> Ex<'_> {
        Ex::Sqlite(self)
    }
}

impl AsConn for PgConnection {
    fn ex(&mut self) -> Ex<'_> {
        Ex::Postgres(self)
    }
}

/// A connection outside any transaction (single reads, housekeeping).
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    SqliteWriter(WriterGuard),
    Postgres(PoolConnection<Postgres>),
}

impl AsConn for Conn {
    fn ex(&mut self) -> Ex<'_> {
        match self {
            Conn::Sqlite(c) => Ex::Sqlite(c),
            Conn::SqliteWriter(w) => Ex::Sqlite(w.conn()),
            Conn::Postgres(c) => Ex::Postgres(c),
        }
    }
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    /// `BEGIN IMMEDIATE` on the writer; committed by [`Tx::commit`], rolled back when dropped.
    SqliteWriter(WriterGuard),
    Postgres(Transaction<'static, Postgres>),
}

/// An outbox row waiting for its transaction to commit; its `seq` is given at commit.
#[derive(Clone, Debug)]
pub struct PendingEvent {
    pub event_type: EventType,
    pub topics: Vec<Topic>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// A transaction. Events appended to it ([`store::events::append`]) are written at commit.
pub struct Tx {
    inner: TxInner,
    events: Vec<PendingEvent>,
}

impl AsConn for Tx {
    fn ex(&mut self) -> Ex<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => Ex::Sqlite(t),
            TxInner::SqliteWriter(w) => Ex::Sqlite(w.conn()),
            TxInner::Postgres(t) => Ex::Postgres(t),
        }
    }
}

impl Tx {
    pub(crate) fn push_event(&mut self, event: PendingEvent) {
        self.events.push(event);
    }

    /// Whether commit will write outbox rows.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// How many outbox rows commit will write: they are numbered in the order appended.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Writes the pending events and commits. Returns the last `seq` written, if any.
    ///
    /// The events are written as the last statements before `COMMIT`. On PostgreSQL they get
    /// their `seq` from the one-row `event_counter`, whose row lock is held from that point
    /// until the commit, so transactions that write events commit in `seq` order, and a
    /// rolled-back transaction gives its numbers back: `seq` is gapless and commit-ordered on
    /// any number of nodes, and a reader that has seen N can wait for N + 1 instead of skipping
    /// it. (A sequence would hand out numbers in start order: 11 could commit before 10.) On
    /// SQLite the single writer gives the same order (see `store::events::write`).
    pub async fn commit(mut self) -> sqlx::Result<Option<i64>> {
        let events = std::mem::take(&mut self.events);
        let last = if events.is_empty() { None } else { Some(store::events::write(&mut self, &events).await?) };
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::SqliteWriter(mut w) => {
                sqlx::query("COMMIT").execute(w.conn()).await?;
                w.set_open(false);
            }
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(last)
    }
}

impl Db {
    /// Opens (and for SQLite creates) the database and runs its engine's migrations.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::connect_postgres(url).await
        } else {
            Self::connect_sqlite(url).await
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Db, sqlx::Error> {
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

        let mut write = SqliteConnection::connect_with(&options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut write).await?;
        // No ping before each use: a SQLite connection is a file handle that does not go stale,
        // and every ping is a round trip to the connection's thread.
        let read = SqlitePoolOptions::new().max_connections(8).test_before_acquire(false).connect_with(options.read_only(true)).await?;
        Ok(Db::Sqlite { read, writer: Arc::new(Mutex::new(Writer { conn: write, open: false })) })
    }

    async fn connect_postgres(url: &str) -> Result<Db, sqlx::Error> {
        let options = PgConnectOptions::from_str(url)?.application_name("ordercast");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        // Several nodes may start at once: the migrator takes an advisory lock of its own.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Db::Postgres(pool))
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite { .. } => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// The PostgreSQL pool, for what only PostgreSQL has (LISTEN/NOTIFY).
    pub fn postgres(&self) -> Option<&PgPool> {
        match self {
            Db::Postgres(pool) => Some(pool),
            Db::Sqlite { .. } => None,
        }
    }

    /// A connection for reads outside a transaction.
    pub async fn read(&self) -> sqlx::Result<Conn> {
        Ok(match self {
            Db::Sqlite { read, .. } => Conn::Sqlite(read.acquire().await?),
            Db::Postgres(pool) => Conn::Postgres(pool.acquire().await?),
        })
    }

    /// A connection that may write, outside a transaction (single statements).
    pub async fn write(&self) -> sqlx::Result<Conn> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Conn::SqliteWriter(WriterGuard::take(writer).await?),
            Db::Postgres(pool) => Conn::Postgres(pool.acquire().await?),
        })
    }

    /// A read-only transaction: the reads in it see one state of the database.
    pub async fn begin_read(&self) -> sqlx::Result<Tx> {
        let inner = match self {
            Db::Sqlite { read, .. } => TxInner::Sqlite(read.begin().await?),
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
                TxInner::Postgres(tx)
            }
        };
        Ok(Tx { inner, events: Vec::new() })
    }

    /// A write transaction. Dropping it without [`Tx::commit`] rolls it back.
    pub async fn begin_write(&self) -> sqlx::Result<Tx> {
        let inner = match self {
            Db::Sqlite { writer, .. } => {
                let mut w = WriterGuard::take(writer).await?;
                sqlx::query("BEGIN IMMEDIATE").execute(w.conn()).await?;
                w.set_open(true);
                TxInner::SqliteWriter(w)
            }
            Db::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx { inner, events: Vec::new() })
    }

    /// Holds off other nodes doing one-time setup (seeding) until [`SetupLock::release`]. On
    /// SQLite, where one process owns the file, there is nothing to hold.
    pub async fn setup_lock(&self) -> sqlx::Result<SetupLock> {
        match self {
            Db::Sqlite { .. } => Ok(SetupLock(None)),
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query("SELECT pg_advisory_lock($1)").bind(SETUP_LOCK).execute(&mut *conn).await?;
                Ok(SetupLock(Some(conn)))
            }
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, writer } => {
                read.close().await;
                // The connection itself closes when the last `Db` is dropped; what it wrote
                // goes into the database file now, as closing it would.
                if let Ok(mut w) = WriterGuard::take(writer).await {
                    let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(w.conn()).await;
                }
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}
