//! Sessions, stored by the hash of their token.

use chrono::{DateTime, Utc};
use crate::db::{AsConn, Ex};
use crate::on;

pub async fn insert(
    conn: &mut impl AsConn,
    token_hash: &str,
    user_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The user of a live session and when it expires.
///
/// The expiry is compared here, as a time: SQLite keeps times as text, and text compares like
/// time only while every row is written in one format and offset.
pub async fn live(conn: &mut impl AsConn, token_hash: &str, now: DateTime<Utc>) -> sqlx::Result<Option<(i64, DateTime<Utc>)>> {
    let found: Option<(i64, DateTime<Utc>)> = on!(conn, |c| sqlx::query_as("SELECT user_id, expires_at FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(found.filter(|(_, expires_at)| *expires_at > now))
}

/// Deletes a session; returns its user, if there was one.
pub async fn delete(conn: &mut impl AsConn, token_hash: &str) -> sqlx::Result<Option<i64>> {
    on!(conn, |c| sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
        .bind(token_hash)
        .fetch_optional(&mut *c)
        .await)
}

/// Deletes the sessions that expired by `now` (compared as times: `julianday` on SQLite, whose
/// times are text).
pub async fn delete_expired(conn: &mut impl AsConn, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(match conn.ex() {
        Ex::Sqlite(c) => {
            sqlx::query("DELETE FROM sessions WHERE julianday(expires_at) <= julianday($1)").bind(now).execute(&mut *c).await?.rows_affected()
        }
        Ex::Postgres(c) => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&mut *c).await?.rows_affected(),
    })
}

/// Signs a user out everywhere.
pub async fn delete_for_user(conn: &mut impl AsConn, user_id: i64) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
