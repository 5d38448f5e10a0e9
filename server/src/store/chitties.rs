//! Chitties (photographed lists), their photos, the reading job's claim on them, and the
//! aliases staff teach a shop.

use crate::db::AsConn;
use crate::on;
use app::api::{Chitty, ChittyLine};
use app::domain::ChittyStatus;
use chrono::{DateTime, Utc};

const SELECT: &str = "SELECT c.id, c.shop_id, s.name AS shop_name, c.customer_id, u.name AS customer_name, c.status, \
     c.note, c.reason, c.lines, c.order_id, c.version, c.created_at, c.updated_at \
     FROM chitties c JOIN shops s ON s.id = c.shop_id JOIN users u ON u.id = c.customer_id";

#[derive(sqlx::FromRow)]
struct ChittyRow {
    id: i64,
    shop_id: i64,
    shop_name: String,
    customer_id: i64,
    customer_name: String,
    status: String,
    note: Option<String>,
    reason: Option<String>,
    lines: String,
    order_id: Option<i64>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ChittyRow> for Chitty {
    type Error = sqlx::Error;

    fn try_from(r: ChittyRow) -> Result<Self, Self::Error> {
        let status = ChittyStatus::parse(&r.status).ok_or_else(|| super::corrupt("chitty status", &r.status))?;
        let lines: Vec<ChittyLine> = serde_json::from_str(&r.lines).map_err(|_| super::corrupt("chitty lines", &r.lines))?;
        Ok(Chitty {
            id: r.id,
            shop_id: r.shop_id,
            shop_name: r.shop_name,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            status,
            note: r.note,
            reason: r.reason,
            lines,
            order_id: r.order_id,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn encode_lines(lines: &[ChittyLine]) -> sqlx::Result<String> {
    serde_json::to_string(lines).map_err(|e| sqlx::Error::Encode(e.into()))
}

/// Stores a new chitty (status `processing`) and its photo. Returns its id.
pub async fn insert(
    conn: &mut impl AsConn,
    shop_id: i64,
    customer_id: i64,
    note: Option<&str>,
    content_type: &str,
    image: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let id: i64 = on!(conn, |c| sqlx::query_scalar(
        "INSERT INTO chitties (shop_id, customer_id, status, note, created_at, updated_at) \
         VALUES ($1, $2, 'processing', $3, $4, $4) RETURNING id",
    )
    .bind(shop_id)
    .bind(customer_id)
    .bind(note)
    .bind(now)
    .fetch_one(&mut *c)
    .await)?;
    on!(conn, |c| sqlx::query("INSERT INTO chitty_images (chitty_id, content_type, bytes) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(content_type)
        .bind(image)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(id)
}

pub async fn get(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<Chitty>> {
    let row: Option<ChittyRow> =
        on!(conn, |c| sqlx::query_as(&format!("{SELECT} WHERE c.id = $1")).bind(id).fetch_optional(&mut *c).await)?;
    row.map(Chitty::try_from).transpose()
}

/// Who may see which chitties.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub customer_id: Option<i64>,
    /// `None`: every shop (admins).
    pub shop_ids: Option<Vec<i64>>,
    /// Only those being read or waiting for staff.
    pub open: bool,
}

/// Newest first, at most `limit`.
pub async fn list(conn: &mut impl AsConn, scope: &Scope, limit: i64) -> sqlx::Result<Vec<Chitty>> {
    let mut sql = format!("{SELECT} WHERE 1 = 1");
    let mut n = 0;
    let mut arg = || {
        n += 1;
        format!("${n}")
    };
    if scope.customer_id.is_some() {
        sql += &format!(" AND c.customer_id = {}", arg());
    }
    if let Some(ids) = &scope.shop_ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(|_| arg()).collect();
        sql += &format!(" AND c.shop_id IN ({})", list.join(", "));
    }
    if scope.open {
        sql += " AND c.status IN ('processing', 'read', 'failed')";
    }
    sql += &format!(" ORDER BY c.id DESC LIMIT {}", arg());
    let rows: Vec<ChittyRow> = on!(conn, |c| {
        let mut q = sqlx::query_as(&sql);
        if let Some(id) = scope.customer_id {
            q = q.bind(id);
        }
        for id in scope.shop_ids.iter().flatten() {
            q = q.bind(*id);
        }
        q.bind(limit).fetch_all(&mut *c).await
    })?;
    rows.into_iter().map(Chitty::try_from).collect()
}

/// The photo and its content type.
pub async fn image(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    on!(conn, |c| sqlx::query_as("SELECT content_type, bytes FROM chitty_images WHERE chitty_id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await)
}

/// How many chitties the customer sent since `since` (the upload rate limit).
pub async fn count_sent_since(conn: &mut impl AsConn, customer_id: i64, since: DateTime<Utc>) -> sqlx::Result<i64> {
    on!(conn, |c| sqlx::query_scalar("SELECT COUNT(*) FROM chitties WHERE customer_id = $1 AND created_at > $2")
        .bind(customer_id)
        .bind(since)
        .fetch_one(&mut *c)
        .await)
}

/// Takes the oldest chitty waiting to be read that no live job holds, until `lease_until`,
/// and counts the attempt. The outer `WHERE` is checked again against the row as locked, so
/// two nodes racing for one chitty never both get it. Returns its id and attempt number.
pub async fn claim(conn: &mut impl AsConn, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> sqlx::Result<Option<(i64, i64)>> {
    on!(conn, |c| sqlx::query_as(
        "UPDATE chitties SET lease_until = $2, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM chitties WHERE status = 'processing' AND (lease_until IS NULL OR lease_until < $1) \
                     ORDER BY id LIMIT 1) \
           AND status = 'processing' AND (lease_until IS NULL OR lease_until < $1) \
         RETURNING id, attempts",
    )
    .bind(now)
    .bind(lease_until)
    .fetch_optional(&mut *c)
    .await)
}

/// Extends the job's hold on a chitty it is still reading.
pub async fn renew(conn: &mut impl AsConn, id: i64, lease_until: DateTime<Utc>) -> sqlx::Result<bool> {
    on!(conn, |c| sqlx::query("UPDATE chitties SET lease_until = $2 WHERE id = $1 AND status = 'processing'")
        .bind(id)
        .bind(lease_until)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected() > 0))
}

/// Lets go of a chitty this job took but did not finish (shutdown): the next node takes it at once.
pub async fn release(conn: &mut impl AsConn, id: i64) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query("UPDATE chitties SET lease_until = NULL, attempts = attempts - 1 WHERE id = $1 AND status = 'processing'")
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|_| ()))
}

/// Records the outcome of reading: `read` with its lines, or `failed` with a reason. Only
/// a chitty still `processing` changes (a job that lost its lease to another finds it done).
pub async fn finish_reading(
    conn: &mut impl AsConn,
    id: i64,
    status: ChittyStatus,
    lines: &[ChittyLine],
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let lines = encode_lines(lines)?;
    on!(conn, |c| sqlx::query(
        "UPDATE chitties SET status = $2, lines = $3, reason = $4, lease_until = NULL, version = version + 1, updated_at = $5 \
         WHERE id = $1 AND status = 'processing'",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(&lines)
    .bind(reason)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() > 0))
}

/// Closes a chitty staff handled: `ordered` with its order, or `rejected` with a reason.
/// Only if it is still at `version` (nobody else handled it meanwhile).
pub async fn close(
    conn: &mut impl AsConn,
    id: i64,
    version: i64,
    status: ChittyStatus,
    order_id: Option<i64>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    on!(conn, |c| sqlx::query(
        "UPDATE chitties SET status = $3, order_id = $4, reason = $5, version = version + 1, updated_at = $6 \
         WHERE id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .bind(status.as_str())
    .bind(order_id)
    .bind(reason)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() > 0))
}

/// The shop's aliases: (normalised text, product id).
pub async fn aliases(conn: &mut impl AsConn, shop_id: i64) -> sqlx::Result<Vec<(String, i64)>> {
    on!(conn, |c| sqlx::query_as("SELECT alias, product_id FROM product_aliases WHERE shop_id = $1 ORDER BY uses DESC")
        .bind(shop_id)
        .fetch_all(&mut *c)
        .await)
}

/// Teaches the shop that `alias` means `product_id` (the latest lesson wins).
pub async fn learn_alias(conn: &mut impl AsConn, shop_id: i64, alias: &str, product_id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query(
        "INSERT INTO product_aliases (shop_id, alias, product_id, uses, updated_at) VALUES ($1, $2, $3, 1, $4) \
         ON CONFLICT (shop_id, alias) DO UPDATE SET \
           uses = CASE WHEN product_aliases.product_id = excluded.product_id THEN product_aliases.uses + 1 ELSE 1 END, \
           product_id = excluded.product_id, updated_at = excluded.updated_at",
    )
    .bind(shop_id)
    .bind(alias)
    .bind(product_id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}
