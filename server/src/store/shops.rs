//! Shops and their staff.

use app::api::Shop;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

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

pub async fn list(conn: &mut SqliteConnection) -> sqlx::Result<Vec<Shop>> {
    let rows: Vec<ShopRow> = sqlx::query_as("SELECT id, name, is_open, updated_at FROM shops ORDER BY id")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(Shop::from).collect())
}

pub async fn get(conn: &mut SqliteConnection, id: i64) -> sqlx::Result<Option<Shop>> {
    let row: Option<ShopRow> = sqlx::query_as("SELECT id, name, is_open, updated_at FROM shops WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(Shop::from))
}

pub async fn set_open(conn: &mut SqliteConnection, id: i64, is_open: bool, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("UPDATE shops SET is_open = $1, updated_at = $2 WHERE id = $3")
        .bind(is_open)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert(conn: &mut SqliteConnection, name: &str, is_open: bool, now: DateTime<Utc>) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO shops (name, is_open, updated_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(name)
        .bind(is_open)
        .bind(now)
        .fetch_one(conn)
        .await
}

pub async fn add_staff(conn: &mut SqliteConnection, shop_id: i64, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO shop_staff (shop_id, user_id) VALUES ($1, $2)")
        .bind(shop_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
