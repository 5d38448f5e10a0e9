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
    address: String,
    phone: String,
    opening_hours: String,
    currency: String,
    warn_after_mins: i64,
    late_after_mins: i64,
    updated_at: DateTime<Utc>,
}

impl From<ShopRow> for Shop {
    fn from(r: ShopRow) -> Self {
        Shop {
            id: r.id,
            name: r.name,
            is_open: r.is_open,
            address: r.address,
            phone: r.phone,
            opening_hours: r.opening_hours,
            currency: r.currency,
            warn_after_mins: r.warn_after_mins,
            late_after_mins: r.late_after_mins,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, name, is_open, address, phone, opening_hours, currency, warn_after_mins, late_after_mins, updated_at";

pub async fn list(conn: &mut impl AsConn) -> sqlx::Result<Vec<Shop>> {
    let rows: Vec<ShopRow> = on!(conn, |c| sqlx::query_as(&format!("SELECT {COLUMNS} FROM shops ORDER BY id"))
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows.into_iter().map(Shop::from).collect())
}

pub async fn get(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<Shop>> {
    let row: Option<ShopRow> = on!(conn, |c| sqlx::query_as(&format!("SELECT {COLUMNS} FROM shops WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(row.map(Shop::from))
}

/// Writes every field of `shop` but its id.
pub async fn update(conn: &mut impl AsConn, shop: &Shop) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query(
        "UPDATE shops SET name = $1, is_open = $2, address = $3, phone = $4, opening_hours = $5, currency = $6,
             warn_after_mins = $7, late_after_mins = $8, updated_at = $9 WHERE id = $10",
    )
    .bind(&shop.name)
    .bind(shop.is_open)
    .bind(&shop.address)
    .bind(&shop.phone)
    .bind(&shop.opening_hours)
    .bind(&shop.currency)
    .bind(shop.warn_after_mins)
    .bind(shop.late_after_mins)
    .bind(shop.updated_at)
    .bind(shop.id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert(conn: &mut impl AsConn, shop: &app::api::NewShop, is_open: bool, now: DateTime<Utc>) -> sqlx::Result<i64> {
    on!(conn, |c| sqlx::query_scalar(
        "INSERT INTO shops (name, is_open, address, phone, opening_hours, currency, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&shop.name)
    .bind(is_open)
    .bind(&shop.address)
    .bind(&shop.phone)
    .bind(&shop.opening_hours)
    .bind(shop.currency.as_deref().unwrap_or("EUR"))
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
