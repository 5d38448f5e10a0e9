//! Sign-in attempts that failed (or are being checked) per key (`email:…` or `ip:…`) in a fixed
//! window, shared by every node.

use crate::db::AsConn;
use crate::on;
use chrono::{DateTime, Utc};

/// Counts one attempt; a window that started at or before `window_from` starts again at `now`.
/// Returns the count with this one, and when its window started.
pub async fn record(c: &mut impl AsConn, key: &str, now: DateTime<Utc>, window_from: DateTime<Utc>) -> sqlx::Result<(i64, DateTime<Utc>)> {
    on!(c, |c| sqlx::query_as(
        "INSERT INTO login_failures (key, failures, window_start) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN login_failures.window_start > $3 THEN login_failures.failures + 1 ELSE 1 END, \
           window_start = CASE WHEN login_failures.window_start > $3 THEN login_failures.window_start ELSE $2 END \
         RETURNING failures, window_start",
    )
    .bind(key)
    .bind(now)
    .bind(window_from)
    .fetch_one(&mut *c)
    .await)
}

/// Takes back one attempt counted against `key` (it succeeded).
pub async fn take_back(c: &mut impl AsConn, key: &str) -> sqlx::Result<()> {
    on!(c, |c| sqlx::query("UPDATE login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0")
        .bind(key)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
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
