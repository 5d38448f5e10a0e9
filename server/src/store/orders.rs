//! Orders, their lines and their status history.

use super::corrupt;
use app::api::{MoneySum, Order, OrderItem, OrderSearch, OrderSort, StatusChange};
use app::domain::figures::Placed;
use app::domain::order::OrderChange;
use app::domain::{OrderStatus, PaymentStatus};
use chrono::{DateTime, Utc};
use crate::db::{AsConn, Ex};
use crate::on;
use sqlx::{Database, Encode, QueryBuilder, Type};

/// An order's row with its lines and history aggregated as JSON text (see [`select_orders`]).
#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    shop_id: i64,
    shop_name: String,
    currency: String,
    customer_id: i64,
    customer_name: String,
    total_minor: i64,
    status: String,
    payment_status: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// `[[product_id, name, unit_price_minor, quantity], ...]` by position.
    items: String,
    /// `[[status, change, by_user_id, note, at], ...]` oldest first.
    history: String,
}

/// Whole orders, one row each: the lines and the history come aggregated as JSON in the same
/// row. Reading them in separate queries cost a round trip to the database's thread per query
/// and per row, which was most of what reading an order cost. The aggregates are spelled per
/// engine; the JSON they produce is the same.
fn select_orders(sqlite: bool) -> &'static str {
    static SQL: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    let [lite, pg] = SQL.get_or_init(|| {
        let sql = |agg: &str, array: &str, text: &str| {
            format!(
                "SELECT o.id, o.shop_id, s.name AS shop_name, COALESCE(o.currency, s.currency) AS currency, o.customer_id, u.name AS customer_name, \
                 o.total_minor, o.status, o.payment_status, o.version, o.created_at, o.updated_at, \
                 (SELECT COALESCE({agg}({array}(i.product_id, i.name, i.unit_price_minor, i.quantity) ORDER BY i.position), '[]'){text} \
                  FROM order_items i WHERE i.order_id = o.id) AS items, \
                 (SELECT COALESCE({agg}({array}(h.status, h.change, h.by_user_id, h.note, h.at) ORDER BY h.id), '[]'){text} \
                  FROM order_history h WHERE h.order_id = o.id) AS history \
                 FROM orders o JOIN shops s ON s.id = o.shop_id JOIN users u ON u.id = o.customer_id"
            )
        };
        [sql("json_group_array", "json_array", ""), sql("json_agg", "json_build_array", "::text")]
    });
    if sqlite {
        lite
    } else {
        pg
    }
}

/// A time as the engines write it into JSON: RFC 3339 (PostgreSQL, and SQLite's stored text).
fn parse_time(text: &str) -> sqlx::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| text.parse::<DateTime<Utc>>())
        .map_err(|_| corrupt("time", text))
}

fn parse_status(s: &str) -> sqlx::Result<OrderStatus> {
    OrderStatus::parse(s).ok_or_else(|| corrupt("order status", s))
}

fn parse_change(s: &str) -> sqlx::Result<OrderChange> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| corrupt("order change", s))
}

pub fn change_name(change: OrderChange) -> &'static str {
    match change {
        OrderChange::Created => "created",
        OrderChange::StatusChanged => "status_changed",
        OrderChange::Cancelled => "cancelled",
        OrderChange::PaymentVerified => "payment_verified",
    }
}

/// Which orders a listing may include, and in which order.
#[derive(Debug, Default)]
pub struct Scope {
    pub customer_id: Option<i64>,
    /// `Some(empty)` matches nothing.
    pub shop_ids: Option<Vec<i64>>,
    pub status: Option<OrderStatus>,
    /// Only the orders not yet delivered or cancelled.
    pub open_only: bool,
    pub search: Option<OrderSearch>,
    /// Whether a text search looks into customers' email addresses (admins only: nobody else
    /// sees them, and a substring search would spell them out letter by letter).
    pub search_email: bool,
    pub sort: OrderSort,
}

/// How many orders match a scope, and what they are worth per currency.
pub struct Summary {
    pub total: i64,
    pub sums: Vec<MoneySum>,
}

/// `LIKE` pattern for `text` anywhere, with `%`, `_` and `\` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn push_scope<'a, DB: Database>(qb: &mut QueryBuilder<'a, DB>, scope: &'a Scope)
where
    i64: Encode<'a, DB> + Type<DB>,
    &'a str: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
{
    qb.push(" WHERE 1 = 1");
    if let Some(customer_id) = scope.customer_id {
        qb.push(" AND o.customer_id = ").push_bind(customer_id);
    }
    if let Some(shop_ids) = &scope.shop_ids {
        if shop_ids.is_empty() {
            qb.push(" AND 1 = 0");
        } else {
            qb.push(" AND o.shop_id");
            push_in(qb, shop_ids);
        }
    }
    if let Some(status) = scope.status {
        qb.push(" AND o.status = ").push_bind(status.as_str());
    }
    if scope.open_only {
        qb.push(" AND o.status NOT IN ('delivered', 'cancelled')");
    }
    match &scope.search {
        None => {}
        Some(OrderSearch::Id(id)) => {
            qb.push(" AND o.id = ").push_bind(*id);
        }
        // Lower-cased on both sides: PostgreSQL's LIKE is case-sensitive, SQLite's is not.
        Some(OrderSearch::Text(text)) => {
            let pattern = contains_pattern(text);
            qb.push(" AND (LOWER(u.name) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            if scope.search_email {
                qb.push(" OR LOWER(u.email) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            }
            qb.push(" OR LOWER(s.name) LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
        }
    }
}

fn order_by(sort: OrderSort) -> &'static str {
    match sort {
        OrderSort::Newest => " ORDER BY o.id DESC",
        OrderSort::Oldest => " ORDER BY o.id ASC",
        OrderSort::TotalDesc => " ORDER BY o.total_minor DESC, o.id DESC",
        OrderSort::TotalAsc => " ORDER BY o.total_minor ASC, o.id ASC",
    }
}

/// Appends ` IN ($1, $2, …)` binding `ids` (which must not be empty).
fn push_in<'a, DB: Database>(qb: &mut QueryBuilder<'a, DB>, ids: &[i64])
where
    i64: Encode<'a, DB> + Type<DB>,
{
    qb.push(" IN (");
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    list.push_unseparated(")");
}

/// One page of the orders `scope` matches, in its order.
pub async fn list(conn: &mut impl AsConn, scope: &Scope, limit: i64, offset: i64) -> sqlx::Result<Vec<Order>> {
    let sqlite = matches!(conn.ex(), Ex::Sqlite(_));
    let rows: Vec<OrderRow> = on!(conn, |c| {
        let mut qb = QueryBuilder::new(select_orders(sqlite));
        push_scope(&mut qb, scope);
        qb.push(order_by(scope.sort)).push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        qb.build_query_as().fetch_all(&mut *c).await
    })?;
    rows.into_iter().map(assemble).collect()
}

/// How many orders `scope` matches, and the sum of their totals per currency (cancelled
/// orders counted but not summed).
pub async fn summary(conn: &mut impl AsConn, scope: &Scope) -> sqlx::Result<Summary> {
    let rows: Vec<(String, i64, i64)> = on!(conn, |c| {
        let mut qb = QueryBuilder::new(
            "SELECT COALESCE(o.currency, s.currency) AS currency, COUNT(*), CAST(COALESCE(SUM(CASE WHEN o.status = 'cancelled' THEN 0 ELSE o.total_minor END), 0) AS BIGINT) \
             FROM orders o JOIN shops s ON s.id = o.shop_id JOIN users u ON u.id = o.customer_id",
        );
        push_scope(&mut qb, scope);
        qb.push(" GROUP BY COALESCE(o.currency, s.currency) ORDER BY 1");
        qb.build_query_as().fetch_all(&mut *c).await
    })?;
    Ok(Summary {
        total: rows.iter().map(|r| r.1).sum(),
        sums: rows.into_iter().map(|(currency, _, total_minor)| MoneySum { currency, total_minor }).collect(),
    })
}

/// The orders placed since `since` in `shop_ids` (all shops for `None`), for the figures:
/// shop, total, status, placed, and when each first became ready.
pub async fn placed_since(
    conn: &mut impl AsConn,
    shop_ids: Option<&[i64]>,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<(i64, Placed)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        shop_id: i64,
        total_minor: i64,
        status: String,
        created_at: DateTime<Utc>,
        ready_at: Option<DateTime<Utc>>,
    }
    if shop_ids.is_some_and(|ids| ids.is_empty()) {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = on!(conn, |c| {
        let mut qb = QueryBuilder::new(
            "SELECT o.shop_id, o.total_minor, o.status, o.created_at, \
             (SELECT MIN(h.at) FROM order_history h WHERE h.order_id = o.id AND h.status = 'ready') AS ready_at \
             FROM orders o WHERE o.created_at >= ",
        );
        qb.push_bind(since);
        if let Some(ids) = shop_ids {
            qb.push(" AND o.shop_id");
            push_in(&mut qb, ids);
        }
        qb.build_query_as().fetch_all(&mut *c).await
    })?;
    rows.into_iter()
        .map(|r| {
            let status = parse_status(&r.status)?;
            Ok((r.shop_id, Placed { total_minor: r.total_minor, status, created_at: r.created_at, ready_at: r.ready_at }))
        })
        .collect()
}

pub async fn get(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<Order>> {
    let sql = format!("{} WHERE o.id = $1", select_orders(matches!(conn.ex(), Ex::Sqlite(_))));
    let row: Option<OrderRow> = on!(conn, |c| sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await)?;
    row.map(assemble).transpose()
}

/// Builds an order from its row.
fn assemble(r: OrderRow) -> sqlx::Result<Order> {
    let items: Vec<(i64, String, i64, i64)> = serde_json::from_str(&r.items).map_err(|_| corrupt("order items", &r.items))?;
    let history: Vec<(String, String, i64, Option<String>, String)> =
        serde_json::from_str(&r.history).map_err(|_| corrupt("order history", &r.history))?;
    Ok(Order {
        items: items
            .into_iter()
            .map(|(product_id, name, unit_price_minor, quantity)| OrderItem {
                product_id,
                line_total_minor: unit_price_minor * quantity,
                name,
                unit_price_minor,
                quantity,
            })
            .collect(),
        history: history
            .into_iter()
            .map(|(status, change, by_user_id, note, at)| {
                Ok(StatusChange { status: parse_status(&status)?, change: parse_change(&change)?, by_user_id, at: parse_time(&at)?, note })
            })
            .collect::<sqlx::Result<_>>()?,
        status: parse_status(&r.status)?,
        payment_status: PaymentStatus::parse(&r.payment_status).ok_or_else(|| corrupt("payment status", &r.payment_status))?,
        id: r.id,
        shop_id: r.shop_id,
        shop_name: r.shop_name,
        currency: r.currency,
        customer_id: r.customer_id,
        customer_name: r.customer_name,
        total_minor: r.total_minor,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn insert(
    conn: &mut impl AsConn,
    shop_id: i64,
    customer_id: i64,
    total_minor: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    on!(conn, |c| sqlx::query_scalar(
        "INSERT INTO orders (shop_id, customer_id, total_minor, status, payment_status, version, created_at, updated_at, currency) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, (SELECT currency FROM shops WHERE id = $1)) RETURNING id",
    )
    .bind(shop_id)
    .bind(customer_id)
    .bind(total_minor)
    .bind(OrderStatus::Pending.as_str())
    .bind(PaymentStatus::Unpaid.as_str())
    .bind(now)
    .bind(now)
    .fetch_one(&mut *c)
    .await)
}

pub async fn insert_item(
    conn: &mut impl AsConn,
    order_id: i64,
    position: i64,
    item: &OrderItem,
) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query(
        "INSERT INTO order_items (order_id, position, product_id, name, unit_price_minor, quantity) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(order_id)
    .bind(position)
    .bind(item.product_id)
    .bind(&item.name)
    .bind(item.unit_price_minor)
    .bind(item.quantity)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_history(
    conn: &mut impl AsConn,
    order_id: i64,
    entry: &StatusChange,
) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query(
        "INSERT INTO order_history (order_id, status, change, by_user_id, note, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(order_id)
    .bind(entry.status.as_str())
    .bind(change_name(entry.change))
    .bind(entry.by_user_id)
    .bind(&entry.note)
    .bind(entry.at)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a change: the order's new state and its history entry, if the order is still at
/// `expected_version`; false (and nothing written) if it moved on. On SQLite the two statements
/// go to the database in one call: each call is a round trip to the connection's thread, and
/// this runs while holding the only write connection.
pub async fn record_change(conn: &mut impl AsConn, id: i64, expected_version: i64, entry: &StatusChange, payment: PaymentStatus) -> sqlx::Result<bool> {
    match conn.ex() {
        Ex::Sqlite(c) => {
            let done = sqlx::query(
                "UPDATE orders SET status = $1, payment_status = $2, version = version + 1, updated_at = $3 \
                 WHERE id = $4 AND version = $5; \
                 INSERT INTO order_history (order_id, status, change, by_user_id, note, at) \
                 SELECT $4, $1, $6, $7, $8, $3 WHERE changes() = 1",
            )
            .bind(entry.status.as_str())
            .bind(payment.as_str())
            .bind(entry.at)
            .bind(id)
            .bind(expected_version)
            .bind(change_name(entry.change))
            .bind(entry.by_user_id)
            .bind(&entry.note)
            .execute(&mut *c)
            .await?
            .rows_affected();
            Ok(done == 2)
        }
        Ex::Postgres(_) => {
            if !update_state(conn, id, expected_version, entry.status, payment, entry.at).await? {
                return Ok(false);
            }
            insert_history(conn, id, entry).await?;
            Ok(true)
        }
    }
}

/// Writes a new state if the order is still at `expected_version`; false if it moved on.
async fn update_state(
    conn: &mut impl AsConn,
    id: i64,
    expected_version: i64,
    status: OrderStatus,
    payment: PaymentStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = on!(conn, |c| sqlx::query(
        "UPDATE orders SET status = $1, payment_status = $2, version = version + 1, updated_at = $3 \
         WHERE id = $4 AND version = $5",
    )
    .bind(status.as_str())
    .bind(payment.as_str())
    .bind(now)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Seeding only: backdates an order so the demo shows a spread of ages.
pub async fn set_created_at(conn: &mut impl AsConn, id: i64, at: DateTime<Utc>) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query("UPDATE orders SET created_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The (customer, shop) of an order.
pub async fn owner(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<(i64, i64)>> {
    on!(conn, |c| sqlx::query_as("SELECT customer_id, shop_id FROM orders WHERE id = $1").bind(id).fetch_optional(&mut *c).await)
}
