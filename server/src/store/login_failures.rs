//! Failed sign-ins per key (`email:…` or `ip:…`) in a fixed window, shared by every node.

use crate::db::AsConn;
use crate::on;
use chrono::{DateTime, Utc};

/// The failures of `key` in a window that started after `window_from`: (count, window start).
pub async fn get(c: &mut impl AsConn, key: &str, window_from: DateTime<Utc>) -> sqlx::Result<Option<(i64, DateTime<Utc>)>> {
    on!(c, |c| sqlx::query_as("SELECT failures, window_start FROM login_failures WHERE key = $1 AND window_start > $2")
        .bind(key)
        .bind(window_from)
        .fetch_optional(&mut *c)
        .await)
}

/// Counts one failure; a window that started at or before `window_from` starts again at `now`.
pub async fn record(c: &mut impl AsConn, key: &str, now: DateTime<Utc>, window_from: DateTime<Utc>) -> sqlx::Result<()> {
    on!(c, |c| sqlx::query(
        "INSERT INTO login_failures (key, failures, window_start) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN login_failures.window_start > $3 THEN login_failures.failures + 1 ELSE 1 END, \
           window_start = CASE WHEN login_failures.window_start > $3 THEN login_failures.window_start ELSE $2 END",
    )
    .bind(key)
    .bind(now)
    .bind(window_from)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn clear(c: &mut impl AsConn, key: &str) -> sqlx::Result<()> {
    on!(c, |c| sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes windows that ended. Returns how many.
pub async fn delete_expired(c: &mut impl AsConn, window_from: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = on!(c, |c| sqlx::query("DELETE FROM login_failures WHERE window_start <= $1").bind(window_from).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(done)
}
