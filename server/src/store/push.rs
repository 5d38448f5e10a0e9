//! Web Push: the VAPID key, users' devices (subscriptions), the planner's cursor over the
//! outbox, and the pushes waiting to be sent.

use crate::db::{AsConn, Ex};
use crate::on;
use chrono::{DateTime, Utc};

/// A device that asked to be notified.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Subscription {
    pub id: i64,
    pub user_id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub device: String,
    pub created_at: DateTime<Utc>,
}

const SUBSCRIPTION: &str = "id, user_id, endpoint, p256dh, auth, device, created_at";

/// The key pair (private, public), if one was made.
pub async fn keys(c: &mut impl AsConn) -> sqlx::Result<Option<(String, String)>> {
    on!(c, |c| sqlx::query_as("SELECT private_key, public_key FROM push_keys WHERE id = 1").fetch_optional(&mut *c).await)
}

/// Stores a key pair unless one is there already (another node may have been first).
pub async fn insert_keys(c: &mut impl AsConn, private_key: &str, public_key: &str) -> sqlx::Result<()> {
    on!(c, |c| sqlx::query("INSERT INTO push_keys (id, private_key, public_key) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
        .bind(private_key)
        .bind(public_key)
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// Adds a device, or gives an endpoint already known (the same browser subscribing again,
/// perhaps signed in as someone else) to this user with its current keys, kept until the
/// session `session_hash` (the sign-in that subscribed it) ends by signing out.
#[allow(clippy::too_many_arguments)]
pub async fn upsert(
    c: &mut impl AsConn,
    user_id: i64,
    session_hash: Option<&str>,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    device: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Subscription> {
    let sql = format!(
        "INSERT INTO push_subscriptions (user_id, session_hash, endpoint, p256dh, auth, device, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, session_hash = excluded.session_hash, \
         p256dh = excluded.p256dh, auth = excluded.auth, device = excluded.device, created_at = excluded.created_at \
         RETURNING {SUBSCRIPTION}"
    );
    on!(c, |c| sqlx::query_as(&sql)
        .bind(user_id)
        .bind(session_hash)
        .bind(endpoint)
        .bind(p256dh)
        .bind(auth)
        .bind(device)
        .bind(now)
        .fetch_one(&mut *c)
        .await)
}

/// A user's devices, oldest first.
pub async fn of_user(c: &mut impl AsConn, user_id: i64) -> sqlx::Result<Vec<Subscription>> {
    let sql = format!("SELECT {SUBSCRIPTION} FROM push_subscriptions WHERE user_id = $1 ORDER BY id");
    on!(c, |c| sqlx::query_as(&sql).bind(user_id).fetch_all(&mut *c).await)
}

/// Removes one of a user's devices; false if they have no such device.
pub async fn delete(c: &mut impl AsConn, id: i64, user_id: i64) -> sqlx::Result<bool> {
    delete_where(c, "id = $1 AND user_id = $2", &[id, user_id]).await.map(|n| n > 0)
}

/// Removes a device the push service says is gone.
pub async fn delete_gone(c: &mut impl AsConn, id: i64) -> sqlx::Result<()> {
    delete_where(c, "id = $1", &[id]).await.map(|_| ())
}

/// Removes every device of a user (disabled).
pub async fn delete_of_user(c: &mut impl AsConn, user_id: i64) -> sqlx::Result<u64> {
    delete_where(c, "user_id = $1", &[user_id]).await
}

/// Removes the devices a session subscribed (it signed out); how many went.
pub async fn delete_of_session(c: &mut impl AsConn, session_hash: &str) -> sqlx::Result<u64> {
    let ids: Vec<i64> = on!(c, |c| sqlx::query_scalar("SELECT id FROM push_subscriptions WHERE session_hash = $1")
        .bind(session_hash)
        .fetch_all(&mut *c)
        .await)?;
    for &id in &ids {
        delete_where(c, "id = $1", &[id]).await?;
    }
    Ok(ids.len() as u64)
}

/// Deletes the subscriptions matching `filter` (over `binds`) and their pending pushes.
/// Returns how many subscriptions went.
async fn delete_where(c: &mut impl AsConn, filter: &str, binds: &[i64]) -> sqlx::Result<u64> {
    let pending = format!("DELETE FROM push_outbox WHERE subscription_id IN (SELECT id FROM push_subscriptions WHERE {filter})");
    let devices = format!("DELETE FROM push_subscriptions WHERE {filter}");
    let mut deleted = 0;
    for sql in [pending, devices] {
        deleted = on!(c, |c| {
            let mut q = sqlx::query(&sql);
            for b in binds {
                q = q.bind(*b);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(deleted)
}

/// Whether any device is subscribed at all (on any node).
pub async fn any(c: &mut impl AsConn) -> sqlx::Result<bool> {
    on!(c, |c| sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM push_subscriptions)").fetch_one(&mut *c).await)
}

/// The planner's position, locked until the transaction ends (PostgreSQL: nodes plan one at
/// a time; SQLite's writes already do). Made at `start` the first time.
pub async fn lock_cursor(c: &mut impl AsConn, start: i64) -> sqlx::Result<i64> {
    on!(c, |c| sqlx::query("INSERT INTO push_cursor (id, last_seq) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
        .bind(start)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    match c.ex() {
        Ex::Sqlite(c) => sqlx::query_scalar("SELECT last_seq FROM push_cursor WHERE id = 1").fetch_one(c).await,
        Ex::Postgres(c) => sqlx::query_scalar("SELECT last_seq FROM push_cursor WHERE id = 1 FOR UPDATE").fetch_one(c).await,
    }
}

/// The planner's position, unlocked (`None` before the first plan).
pub async fn cursor(c: &mut impl AsConn) -> sqlx::Result<Option<i64>> {
    on!(c, |c| sqlx::query_scalar("SELECT last_seq FROM push_cursor WHERE id = 1").fetch_optional(&mut *c).await)
}

pub async fn set_cursor(c: &mut impl AsConn, seq: i64) -> sqlx::Result<()> {
    on!(c, |c| sqlx::query("UPDATE push_cursor SET last_seq = $1 WHERE id = 1").bind(seq).execute(&mut *c).await.map(|_| ()))
}

/// The devices of a customer, or of a shop's staff, whose user has no live connection (the
/// `presence` table, all nodes) and is not disabled.
pub async fn devices_away(c: &mut impl AsConn, customer: Option<i64>, shop: Option<i64>, now: DateTime<Utc>) -> sqlx::Result<Vec<i64>> {
    on!(c, |c| sqlx::query_scalar(
        "SELECT s.id FROM push_subscriptions s JOIN users u ON u.id = s.user_id \
         WHERE NOT u.disabled \
           AND (s.user_id = $1 OR s.user_id IN (SELECT user_id FROM shop_staff WHERE shop_id = $2)) \
           AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.user_id = s.user_id AND p.connections > 0 AND p.expires_at > $3) \
         ORDER BY s.id",
    )
    .bind(customer)
    .bind(shop)
    .bind(now)
    .fetch_all(&mut *c)
    .await)
}

/// Queues a push for a device (once per event and device).
pub async fn enqueue(c: &mut impl AsConn, subscription_id: i64, seq: i64, payload: &str, urgency: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    on!(c, |c| sqlx::query(
        "INSERT INTO push_outbox (subscription_id, seq, payload, urgency, next_attempt_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (subscription_id, seq) DO NOTHING",
    )
    .bind(subscription_id)
    .bind(seq)
    .bind(payload)
    .bind(urgency)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// A push taken to be sent, with its device.
#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub seq: i64,
    pub attempts: i64,
    pub payload: String,
    pub urgency: String,
    pub subscription_id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// Takes the oldest push that is due and that no sender holds, until `lease_until`, and
/// counts the attempt. As `chitties::claim`: the outer `WHERE` is checked again against the
/// row as locked, so two nodes never both take it.
pub async fn claim(c: &mut impl AsConn, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> sqlx::Result<Option<Due>> {
    let taken: Option<(i64,)> = on!(c, |c| sqlx::query_as(
        "UPDATE push_outbox SET next_attempt_at = $2, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM push_outbox WHERE next_attempt_at <= $1 ORDER BY id LIMIT 1) AND next_attempt_at <= $1 \
         RETURNING id",
    )
    .bind(now)
    .bind(lease_until)
    .fetch_optional(&mut *c)
    .await)?;
    let Some((id,)) = taken else { return Ok(None) };
    on!(c, |c| sqlx::query_as(
        "SELECT o.id, o.seq, o.attempts, o.payload, o.urgency, o.subscription_id, s.endpoint, s.p256dh, s.auth \
         FROM push_outbox o JOIN push_subscriptions s ON s.id = o.subscription_id WHERE o.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await)
}

/// The push was taken by the push service, or given up.
pub async fn finish(c: &mut impl AsConn, id: i64) -> sqlx::Result<()> {
    on!(c, |c| sqlx::query("DELETE FROM push_outbox WHERE id = $1").bind(id).execute(&mut *c).await.map(|_| ()))
}

/// Tries a push again at `at`.
pub async fn retry_at(c: &mut impl AsConn, id: i64, at: DateTime<Utc>) -> sqlx::Result<()> {
    on!(c, |c| sqlx::query("UPDATE push_outbox SET next_attempt_at = $2 WHERE id = $1").bind(id).bind(at).execute(&mut *c).await.map(|_| ()))
}

/// When the next push falls due, if any is waiting.
pub async fn next_due(c: &mut impl AsConn) -> sqlx::Result<Option<DateTime<Utc>>> {
    on!(c, |c| sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM push_outbox").fetch_one(&mut *c).await)
}
