//! Users and their shop memberships.

use super::corrupt;
use app::api::User;
use app::domain::Role;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

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
}

pub async fn credentials(conn: &mut SqliteConnection, email: &str) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as("SELECT id, password_hash, disabled FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(conn)
        .await
}

/// An enabled user with their shops.
pub async fn get(conn: &mut SqliteConnection, id: i64) -> sqlx::Result<Option<User>> {
    load(conn, id, true).await
}

/// A user with their shops, enabled or not.
pub async fn get_any(conn: &mut SqliteConnection, id: i64) -> sqlx::Result<Option<User>> {
    load(conn, id, false).await
}

async fn load(conn: &mut SqliteConnection, id: i64, only_enabled: bool) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> =
        sqlx::query_as("SELECT id, email, name, role FROM users WHERE id = $1 AND (disabled = 0 OR NOT $2)")
            .bind(id)
            .bind(only_enabled)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let role = Role::parse(&row.role).ok_or_else(|| corrupt("role", &row.role))?;
    let shop_ids = shop_ids(conn, id).await?;
    Ok(Some(User { id: row.id, email: row.email, name: row.name, role, shop_ids }))
}

pub async fn shop_ids(conn: &mut SqliteConnection, user_id: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT shop_id FROM shop_staff WHERE user_id = $1 ORDER BY shop_id")
        .bind(user_id)
        .fetch_all(conn)
        .await
}

pub async fn insert(
    conn: &mut SqliteConnection,
    email: &str,
    name: &str,
    role: Role,
    password_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(email.trim().to_lowercase())
    .bind(name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn count(conn: &mut SqliteConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(conn).await
}

/// A user whether enabled or not: (role, disabled).
pub async fn role_of(conn: &mut SqliteConnection, id: i64) -> sqlx::Result<Option<(Role, bool)>> {
    let row: Option<(String, bool)> = sqlx::query_as("SELECT role, disabled FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|(role, disabled)| Ok((Role::parse(&role).ok_or_else(|| corrupt("role", &role))?, disabled)))
        .transpose()
}

pub async fn set_disabled(conn: &mut SqliteConnection, id: i64, disabled: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2").bind(disabled).bind(id).execute(conn).await?;
    Ok(())
}

pub async fn clear_shops(conn: &mut SqliteConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM shop_staff WHERE user_id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// Every enabled user with their shops, by name.
pub async fn list(conn: &mut SqliteConnection) -> sqlx::Result<Vec<User>> {
    let rows: Vec<UserRow> = sqlx::query_as("SELECT id, email, name, role FROM users WHERE disabled = 0 ORDER BY name, id")
        .fetch_all(&mut *conn)
        .await?;
    let memberships: Vec<(i64, i64)> = sqlx::query_as("SELECT user_id, shop_id FROM shop_staff ORDER BY shop_id")
        .fetch_all(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let role = Role::parse(&row.role).ok_or_else(|| corrupt("role", &row.role))?;
            let shop_ids = memberships.iter().filter(|(user, _)| *user == row.id).map(|(_, shop)| *shop).collect();
            Ok(User { id: row.id, email: row.email, name: row.name, role, shop_ids })
        })
        .collect()
}

/// The enabled staff of a shop: (id, name), by name.
pub async fn staff_of(conn: &mut SqliteConnection, shop_id: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT u.id, u.name FROM users u JOIN shop_staff s ON s.user_id = u.id
         WHERE s.shop_id = $1 AND u.disabled = 0 ORDER BY u.name, u.id",
    )
    .bind(shop_id)
    .fetch_all(conn)
    .await
}
