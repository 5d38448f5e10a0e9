//! Staff presence across nodes: one row per (node, user) with open sockets, kept alive by the
//! node's heartbeat; `users.online` is the state last announced to the shops' staff.

use crate::db::{AsConn, Ex};
use crate::on;
use chrono::{DateTime, Utc};

/// Records that `user_id` has `connections` open sockets on `node`, valid until `expires_at`;
/// zero removes the row.
pub async fn set(c: &mut impl AsConn, node: &str, user_id: i64, connections: i64, expires_at: DateTime<Utc>) -> sqlx::Result<()> {
    if connections == 0 {
        on!(c, |c| sqlx::query("DELETE FROM presence WHERE node_id = $1 AND user_id = $2")
            .bind(node)
            .bind(user_id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
    } else {
        on!(c, |c| sqlx::query(
            "INSERT INTO presence (node_id, user_id, connections, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (node_id, user_id) DO UPDATE SET connections = excluded.connections, expires_at = excluded.expires_at",
        )
        .bind(node)
        .bind(user_id)
        .bind(connections)
        .bind(expires_at)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Deletes every row of `node`: a node starting again under the same name has no sockets yet.
pub async fn clear_node(c: &mut impl AsConn, node: &str) -> sqlx::Result<u64> {
    on!(c, |c| sqlx::query("DELETE FROM presence WHERE node_id = $1").bind(node).execute(&mut *c).await.map(|r| r.rows_affected()))
}

/// Extends the rows of `node` that have not expired (an expired one may already have been
/// announced offline: it is written again through the announcing path). Returns how many.
pub async fn renew(c: &mut impl AsConn, node: &str, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = on!(c, |c| sqlx::query("UPDATE presence SET expires_at = $1 WHERE node_id = $2 AND expires_at > $3")
        .bind(expires_at)
        .bind(node)
        .bind(now)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(done)
}

/// Whether the user has open sockets on any live node.
pub async fn is_present(c: &mut impl AsConn, user_id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let n: i64 = on!(c, |c| sqlx::query_scalar("SELECT COUNT(*) FROM presence WHERE user_id = $1 AND expires_at > $2")
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut *c)
        .await)?;
    Ok(n > 0)
}

/// Serialises presence changes of one user across nodes until the transaction ends. SQLite
/// needs nothing: its writes already run one at a time.
pub async fn lock_user(c: &mut impl AsConn, user_id: i64) -> sqlx::Result<()> {
    if let Ex::Postgres(c) = c.ex() {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(user_id).fetch_optional(c).await?;
    }
    Ok(())
}

/// Sets the announced state; true if it changed (an announcement is due).
pub async fn announce(c: &mut impl AsConn, user_id: i64, online: bool) -> sqlx::Result<bool> {
    let done = on!(c, |c| sqlx::query("UPDATE users SET online = $2 WHERE id = $1 AND online <> $2")
        .bind(user_id)
        .bind(online)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Users announced online with no live row left (their node stopped or lost its connection).
pub async fn stale(c: &mut impl AsConn, now: DateTime<Utc>) -> sqlx::Result<Vec<i64>> {
    on!(c, |c| sqlx::query_scalar(
        "SELECT id FROM users u WHERE u.online \
         AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.user_id = u.id AND p.expires_at > $1) ORDER BY id",
    )
    .bind(now)
    .fetch_all(&mut *c)
    .await)
}

/// Deletes expired rows. Returns how many.
pub async fn delete_expired(c: &mut impl AsConn, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = on!(c, |c| sqlx::query("DELETE FROM presence WHERE expires_at <= $1").bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(done)
}
