//! All SQL lives here, one module per resource. Functions take a `&mut SqliteConnection` so the
//! caller decides the transaction; nothing here checks permissions (that is `service`'s job).
//!
//! Queries are plain SQL with numbered `$n` parameters and `RETURNING`, which PostgreSQL
//! accepts as well, so a second backend can follow the same shapes.

pub mod events;
pub mod orders;
pub mod products;
pub mod sessions;
pub mod shops;
pub mod users;

/// A column held a value the domain does not know: the database was edited by hand or by a
/// newer version.
pub(crate) fn corrupt(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unexpected {what} {value:?} in the database").into())
}
