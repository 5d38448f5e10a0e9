//! Users and their shop memberships.

use super::corrupt;
use app::api::User;
use app::domain::Role;
use chrono::{DateTime, Utc};
use crate::db::AsConn;
use crate::on;

/// What sign-in needs to know about a user.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub id: i64,
    pub password_hash: String,
    pub disabled: bool,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    disabled: bool,
}

pub async fn credentials(conn: &mut impl AsConn, email: &str) -> sqlx::Result<Option<Credentials>> {
    on!(conn, |c| sqlx::query_as("SELECT id, password_hash, disabled FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(&mut *c)
        .await)
}

/// An enabled user with their shops.
pub async fn get(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<User>> {
    load(conn, id, true).await
}

/// A user with their shops, enabled or not.
pub async fn get_any(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<User>> {
    load(conn, id, false).await
}

async fn load(conn: &mut impl AsConn, id: i64, only_enabled: bool) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> =
        on!(conn, |c| sqlx::query_as("SELECT id, email, name, role, disabled FROM users WHERE id = $1 AND (NOT disabled OR NOT $2)")
            .bind(id)
            .bind(only_enabled)
            .fetch_optional(&mut *c)
            .await)?;
    let Some(row) = row else { return Ok(None) };
    let role = Role::parse(&row.role).ok_or_else(|| corrupt("role", &row.role))?;
    let shop_ids = shop_ids(conn, id).await?;
    Ok(Some(User { id: row.id, email: row.email, name: row.name, role, shop_ids, disabled: row.disabled }))
}

pub async fn shop_ids(conn: &mut impl AsConn, user_id: i64) -> sqlx::Result<Vec<i64>> {
    on!(conn, |c| sqlx::query_scalar("SELECT shop_id FROM shop_staff WHERE user_id = $1 ORDER BY shop_id")
        .bind(user_id)
        .fetch_all(&mut *c)
        .await)
}

pub async fn insert(
    conn: &mut impl AsConn,
    email: &str,
    name: &str,
    role: Role,
    password_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    on!(conn, |c| sqlx::query_scalar(
        "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(email.trim().to_lowercase())
    .bind(name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now)
    .fetch_one(&mut *c)
    .await)
}

pub async fn count(conn: &mut impl AsConn) -> sqlx::Result<i64> {
    on!(conn, |c| sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *c).await)
}

/// A user whether enabled or not: (role, disabled).
pub async fn role_of(conn: &mut impl AsConn, id: i64) -> sqlx::Result<Option<(Role, bool)>> {
    let row: Option<(String, bool)> = on!(conn, |c| sqlx::query_as("SELECT role, disabled FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    row.map(|(role, disabled)| Ok((Role::parse(&role).ok_or_else(|| corrupt("role", &role))?, disabled)))
        .transpose()
}

pub async fn set_disabled(conn: &mut impl AsConn, id: i64, disabled: bool) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2").bind(disabled).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn clear_shops(conn: &mut impl AsConn, id: i64) -> sqlx::Result<()> {
    on!(conn, |c| sqlx::query("DELETE FROM shop_staff WHERE user_id = $1").bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every user with their shops, enabled ones first, by name.
pub async fn list(conn: &mut impl AsConn) -> sqlx::Result<Vec<User>> {
    let rows: Vec<UserRow> = on!(conn, |c| sqlx::query_as("SELECT id, email, name, role, disabled FROM users ORDER BY disabled, name, id")
        .fetch_all(&mut *c)
        .await)?;
    let memberships: Vec<(i64, i64)> = on!(conn, |c| sqlx::query_as("SELECT user_id, shop_id FROM shop_staff ORDER BY shop_id")
        .fetch_all(&mut *c)
        .await)?;
    rows.into_iter()
        .map(|row| {
            let role = Role::parse(&row.role).ok_or_else(|| corrupt("role", &row.role))?;
            let shop_ids = memberships.iter().filter(|(user, _)| *user == row.id).map(|(_, shop)| *shop).collect();
            Ok(User { id: row.id, email: row.email, name: row.name, role, shop_ids, disabled: row.disabled })
        })
        .collect()
}

/// The enabled staff of a shop: (id, name, announced online), by name.
pub async fn staff_of(conn: &mut impl AsConn, shop_id: i64) -> sqlx::Result<Vec<(i64, String, bool)>> {
    on!(conn, |c| sqlx::query_as(
        "SELECT u.id, u.name, u.online FROM users u JOIN shop_staff s ON s.user_id = u.id
         WHERE s.shop_id = $1 AND NOT u.disabled ORDER BY u.name, u.id",
    )
    .bind(shop_id)
    .fetch_all(&mut *c)
    .await)
}
