//! Products and their stock.

use app::api::{NewProduct, Product};
use chrono::{DateTime, Utc};
use crate::db::{AsConn, Ex};
use crate::on;

const COLUMNS: &str = "id, shop_id, name, price_minor, stock, low_stock_threshold, available, updated_at";

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: i64,
    shop_id: i64,
    name: String,
    price_minor: i64,
    stock: i64,
    low_stock_threshold: i64,
    available: bool,
    updated_at: DateTime<Utc>,
}

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        Product {
            id: r.id,
            shop_id: r.shop_id,
            name: r.name,
            price_minor: r.price_minor,
            stock: r.stock,
            low_stock_threshold: r.low_stock_threshold,
            available: r.available,
            updated_at: r.updated_at,
        }
    }
}

pub async fn list_for_shop(conn: &mut impl AsConn, shop_id: i64) -> sqlx::Result<Vec<Product>> {
    let rows: Vec<ProductRow> =
        on!(conn, |c| sqlx::query_as(&format!("SELECT {COLUMNS} FROM products WHERE shop_id = $1 ORDER BY id"))
            .bind(shop_id)
            .fetch_all(&mut *c)
            .await)?;
    Ok(rows.into_iter().map(Product::from).collect())
}

pub async fn get(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<Product>> {
    let row: Option<ProductRow> = on!(conn, |c| sqlx::query_as(&format!("SELECT {COLUMNS} FROM products WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(row.map(Product::from))
}

pub async fn insert(
    conn: &mut impl AsConn,
    shop_id: i64,
    p: &NewProduct,
    now: DateTime<Utc>,
) -> sqlx::Result<Product> {
    let row: ProductRow = on!(conn, |c| sqlx::query_as(&format!(
        "INSERT INTO products (shop_id, name, price_minor, stock, low_stock_threshold, available, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    ))
    .bind(shop_id)
    .bind(p.name.trim())
    .bind(p.price_minor)
    .bind(p.stock)
    .bind(p.low_stock_threshold)
    .bind(p.available)
    .bind(now)
    .fetch_one(&mut *c)
    .await)?;
    Ok(row.into())
}

/// Writes every editable field of `p` (its id and shop stay).
pub async fn update(conn: &mut impl AsConn, p: &Product) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query(
        "UPDATE products SET name = $1, price_minor = $2, stock = $3, low_stock_threshold = $4, \
         available = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(&p.name)
    .bind(p.price_minor)
    .bind(p.stock)
    .bind(p.low_stock_threshold)
    .bind(p.available)
    .bind(p.updated_at)
    .bind(p.id)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Locks products until the transaction ends, in id order (so two orders never wait on each
/// other), before they are read and written back. SQLite needs nothing: its writes already run
/// one at a time.
pub async fn lock(conn: &mut impl AsConn, ids: &[i64]) -> sqlx::Result<()> {
    if let Ex::Postgres(c) = conn.ex() {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        sqlx::query("SELECT id FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE").bind(ids).fetch_all(c).await?;
    }
    Ok(())
}
