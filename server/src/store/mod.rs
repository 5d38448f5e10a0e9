//! All SQL lives here, one module per resource. Functions take `&mut impl AsConn` (a
//! transaction or a pooled connection of either engine) so the caller decides the
//! transaction; nothing here checks permissions (that is `service`'s job).
//!
//! Queries are plain SQL with numbered `$n` parameters, `RETURNING` and `ON CONFLICT`, which
//! SQLite and PostgreSQL both accept, run through [`on!`](crate::on). Where the engines differ
//! the function matches on [`Ex`](crate::db::Ex) (see `presence::lock_user`).

pub mod chitties;
pub mod events;
pub mod login_failures;
pub mod orders;
pub mod presence;
pub mod products;
pub mod push;
pub mod sessions;
pub mod shops;
pub mod users;

/// A column held a value the domain does not know: the database was edited by hand or by a
/// newer version.
pub(crate) fn corrupt(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unexpected {what} {value:?} in the database").into())
}
