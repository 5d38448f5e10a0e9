//! Shops and their staff.

use app::api::Shop;
use chrono::{DateTime, Utc};
use crate::db::AsConn;
use crate::on;

#[derive(sqlx::FromRow)]
struct ShopRow {
    id: i64,
    name: String,
    is_open: bool,
    updated_at: DateTime<Utc>,
}

impl From<ShopRow> for Shop {
    fn from(r: ShopRow) -> Self {
        Shop { id: r.id, name: r.name, is_open: r.is_open, updated_at: r.updated_at }
    }
}

pub async fn list(conn: &mut impl AsConn) -> sqlx::Result<Vec<Shop>> {
    let rows: Vec<ShopRow> = on!(conn, |c| sqlx::query_as("SELECT id, name, is_open, updated_at FROM shops ORDER BY id")
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows.into_iter().map(Shop::from).collect())
}

pub async fn get(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<Shop>> {
    let row: Option<ShopRow> = on!(conn, |c| sqlx::query_as("SELECT id, name, is_open, updated_at FROM shops WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(row.map(Shop::from))
}

pub async fn set_open(conn: &mut impl AsConn, id: i64, is_open: bool, now: DateTime<Utc>) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query("UPDATE shops SET is_open = $1, updated_at = $2 WHERE id = $3")
        .bind(is_open)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert(conn: &mut impl AsConn, name: &str, is_open: bool, now: DateTime<Utc>) -> sqlx::Result<i64> {
    on!(conn, |c| sqlx::query_scalar("INSERT INTO shops (name, is_open, updated_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(name)
        .bind(is_open)
        .bind(now)
        .fetch_one(&mut *c)
        .await)
}

pub async fn add_staff(conn: &mut impl AsConn, shop_id: i64, user_id: i64) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query("INSERT INTO shop_staff (shop_id, user_id) VALUES ($1, $2)")
        .bind(shop_id)
        .bind(user_id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}
